"""bench.hklut_hw: the --fmax spec parser and the Markdown tables (no simulation or synthesis)."""

import argparse

import pytest

from edgeforge.bench.hklut_hw import _artifact, _parse_fmax, render_markdown
from edgeforge.hw.hklut.design import HKLUTDesign


def test_fmax_spec_parses_and_refuses():
    assert _parse_fmax("2,8:8@ecp5-85f") == ((2, 8), 8, "ecp5-85f")
    with pytest.raises(argparse.ArgumentTypeError, match="--fmax must look like 2,2:2@ecp5-25f"):
        _parse_fmax("2,8@ecp5-85f")


def _record(cost=None, verify=None, **config):
    """A record as the harness writes it, with the cycle model of a real design."""
    design = HKLUTDesign(_artifact(), channels=3, **config)
    out = {"design": design.name, "scheme": "hklut", "config": design.config,
           "engine_commit": "abc1234", "command": "python -m edgeforge.bench.hklut_hw --fmax x",
           "performance": design.cycle_model().to_dict()}
    if cost:
        out["cost"] = cost
    if verify:
        out["verify"] = verify
    return out


def _report():
    run = {"cycles_measured": 100, "cycles_predicted": 100, "cycles_with_backpressure": 140,
           "run_s": 1.0, "build_and_runs_s": 60.0, "steady_cycles_per_input_beat": 1.0}
    cost = {"generic": {"resources": {"gates": 1, "ff": 2}, "memory_bits": 8, "transistors": 9},
            "ecp5": {"device": "ecp5-25f", "resources": {"lut4": 5}, "fmax_mhz": 100.0,
                     "fits": True, "over": {}},
            "ice40": {"device": "ice40-up5k", "resources": {"lut4": 4411, "bram": 420},
                      "fits": False, "over": {"bram": [420, 30]}}}
    row = _record(cost, run, width=8, height=8, reads_per_table=(2, 2), out_pixels=2)
    ecp5 = lambda bram: {"ecp5": {"device": "ecp5-85f", "resources": {"bram": bram},
                                  "fmax_mhz": 80.0, "fits": True, "over": {}}}
    fmax = _record(ecp5(180), width=480, height=270, reads_per_table=(2, 8), out_pixels=8,
                   buffer_ram="block")
    lanes = _record(ecp5(168), width=480, height=270, reads_per_table=(2, 2), out_pixels=2,
                    rgb_lanes=True)
    return {"image": "i", "tables": "t", "records": [row], "fmax": [fmax, lanes]}


def test_markdown_has_cycle_ice40_and_dsp_columns():
    text = render_markdown(_report())
    # 100 cycles over 8x8x3 LR pixels; the model's asymptotic 8 cycles per LR pixel.
    assert "| 2,2 | 2 | 0.5208 | 8.0 | 100 | 100 | 0.0 | 1536 | 152 | 140 |" in text
    assert "| 2,2 | 2 | ice40-up5k | 4411 | - | - | 420 | - | 0 | - | False (bram 420/30) |" in text
    assert "| 2,2 | 2 | 1 | 2 | 8 | 9 |" in text


def test_fmax_rows_give_rates_from_the_model():
    text = render_markdown(_report())
    # (2,8),8 planes: 2 cycles per LR pixel and plane, so 3 x 2 / 16 cycles per HR RGB pixel:
    # 80 MHz / 0.375 = 213.3 RGB Mpx/s, 640 channel Mpx/s (the engine's rate), and
    # 80e6 / (2 x 480 x 270 x 3 planes) = 102.9 frames/s.
    assert "| 2,8 | 8 | 480x270 | planes | block | 2.0000 | ecp5-85f |" in text
    assert "| 80.0 | True | 213.3 | 640.0 | 102.9 | abc1234 |" in text
    # RGB lanes: one frame of 8 cycles per LR pixel per image: 0.5 cycles per HR RGB pixel,
    # 160 RGB Mpx/s, 480 channel Mpx/s from the three engines, 80e6 / (8 x 480 x 270).
    assert "| 2,2 | 2 | 480x270 | lanes | auto | 8.0000 | ecp5-85f |" in text
    assert "| 80.0 | True | 160.0 | 480.0 | 77.2 | abc1234 |" in text


def test_traffic_table_has_a_row_per_memory_and_a_column_per_config():
    text = render_markdown(_report())
    assert "| memory | R 2,2, P 2 |" in text
    # 8x8 RGB: 3 x 64 input pixels into the first line buffer; border rows read fewer rows.
    assert "| line buffer s0 | 816 / 192 (8b) |" in text
    assert "| off-chip bytes in / out | 192 / 3072 |" in text
