"""The golden-speed benchmark on a tiny input: result fields, bit-identity check and Markdown."""

import json

from edgeforge.bench import hklut_golden_speed


def test_small_run_writes_json_and_markdown(tmp_path):
    assert hklut_golden_speed.main(["--size", "9", "--repeats", "1", "-o", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "hklut_golden_speed.json").read_text())
    assert results["command"] == ("python -m edgeforge.bench.hklut_golden_speed "
                                  f"--size 9 --repeats 1 -o {tmp_path}")
    assert results["output_shape"] == [36, 36, 3]
    assert results["float32_identical_to_reference"] is True
    assert set(results["seconds"]) == {"reference_torch", "reference_torch_1_thread",
                                       "golden_float32", "golden_exact"}
    assert all(v > 0 for v in results["seconds"].values())
    assert set(results["speedup_vs_reference"]) == {"golden_float32", "golden_exact"}
    markdown = (tmp_path / "hklut_golden_speed.md").read_text()
    assert "| golden, exact |" in markdown and "Target: golden >= 2x" in markdown
