"""bench.bicubic_hw: the Markdown is rendered from the results file alone (no simulation or
synthesis here), and HKLUT's row is the matching record of hklut_hw.json."""

import json

from edgeforge.bench import bicubic_hw
from edgeforge.bench.harness import RESULTS


def test_committed_results_render_to_the_committed_markdown():
    report = json.loads((RESULTS / "bicubic_hw.json").read_text())
    assert bicubic_hw.render_markdown(report) == (RESULTS / "bicubic_hw.md").read_text()
    record = report["records"][0]
    # Measured = predicted without pauses, and 12 multiplies per HR pixel and channel.
    assert record["verify"]["cycles_measured"] == record["verify"]["cycles_predicted"]
    assert "| bicubic x4, P 1 | 16.1007 | 16 | 12 (8 of 8 x 9 + 4 of 18 x 9 bits) | 0 |" in \
        bicubic_hw.render_markdown(report)


def test_hklut_row_is_its_one_pixel_a_beat_record():
    hk = bicubic_hw._hklut_record(64)
    assert hk["scheme"] == "hklut"
    assert (hk["config"]["reads_per_table"], hk["config"]["out_pixels"]) == ([1, 1], 1)
    assert bicubic_hw._hklut_record(7) is None
