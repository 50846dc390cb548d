"""The upscale-speed benchmark on tiny inputs: whole processes timed, every zlib level, Markdown."""

import json

from edgeforge.bench import upscale_speed
from edgeforge.images import PNG_COMPRESS_LEVEL


def test_small_run_writes_json_and_markdown(tmp_path):
    argv = ["--size", "8", "--repeats", "1", "--images", "2", "-o", str(tmp_path)]
    assert upscale_speed.main(argv) == 0
    results = json.loads((tmp_path / "upscale_speed.json").read_text())
    assert results["command"] == "python -m edgeforge.bench.upscale_speed " + " ".join(argv)
    assert results["output_shape"] == [32, 32, 3]
    seconds = results["seconds"]
    for key in ("process_one_image", "process_folder_per_image"):
        assert set(seconds[key]) == {"exact", "float32"} and min(seconds[key].values()) > 0
    assert seconds["process_start_version"] > 0
    assert set(seconds["in_process"]) == {"read", "upscale_exact", "upscale_float32",
                                          "write_png"}
    assert [r["level"] for r in results["png_levels"]] == list(range(10))
    assert results["png_compress_level"] == PNG_COMPRESS_LEVEL
    markdown = (tmp_path / "upscale_speed.md").read_text()
    assert "| the authors' readout (float32) |" in markdown and "| 9 |" in markdown
