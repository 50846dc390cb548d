"""bench.hklut_hw: the --fmax spec parser and the Markdown tables (no simulation or synthesis)."""

import argparse

import pytest

from edgeforge.bench.hklut_hw import _parse_fmax, render_markdown


def test_fmax_spec_parses_and_refuses():
    assert _parse_fmax("2,8:8@ecp5-85f") == ((2, 8), 8, "ecp5-85f")
    with pytest.raises(argparse.ArgumentTypeError, match="--fmax must look like 2,2:2@ecp5-25f"):
        _parse_fmax("2,8@ecp5-85f")


def _report():
    traffic = {"offchip_bytes_in": 1, "offchip_bytes_out": 16, "lut_reads_total": 100,
               "lut_reads": {"by_size": {}}, "line_buffer_writes": 5.0,
               "line_buffer_reads": 25.0, "reorder_writes": 20.0}
    row = {"reads_per_table": [2, 2], "out_pixels": 2, "cycles_measured": 10,
           "cycles_predicted": 10, "error_pct": 0.0, "cycles_per_input_pixel_measured": 8.1,
           "cycles_per_input_pixel_asymptotic": 8, "latency_cycles_predicted": 900,
           "cycles_with_backpressure": 14, "verilator_run_s": 1.0,
           "verilator_build_and_runs_s": 60.0, "traffic_per_input_pixel": traffic,
           "cost": {"generic": {"resources": {"gates": 1}, "memory_bits": 8},
                    "ecp5": {"device": "ecp5-25f", "resources": {"lut4": 5}, "fmax_mhz": 100.0,
                             "fits": True, "over": {}},
                    "ice40": {"device": "ice40-up5k", "resources": {"lut4": 4411, "bram": 420},
                              "fits": False, "over": {"bram": [420, 30]}}}}
    fmax = {"reads_per_table": [2, 8], "out_pixels": 8, "width": 480, "height": 270,
            "buffer_ram": "block", "device": "ecp5-85f", "resources": {"bram": 180},
            "fmax_mhz": 80.0, "fits": True, "over": {}, "cycles_per_input_pixel_predicted": 2.0,
            "engine_commit": "abc1234", "command": "python -m edgeforge.bench.hklut_hw --fmax x"}
    lanes = {**fmax, "reads_per_table": [2, 2], "out_pixels": 2, "rgb_lanes": True,
             "buffer_ram": "auto", "cycles_per_input_pixel_predicted": 8.0}
    return {"command": "c", "engine_commit": "abc1234", "image": "i", "tables": "t",
            "rows": [row], "fmax": [fmax, lanes]}


def test_markdown_has_ice40_buffer_and_frame_rate_columns():
    text = render_markdown(_report())
    assert "| 2,2 | 2 | 4411 | - | 420 | - | False (bram 420/30) |" in text
    # Fmax row: output pixels/s = 80 MHz / 2 cycles x 16; RGB frames/s = 80e6 / (2 x 480
    # x 270 x 3 planes).
    assert "| 2,8 | 8 | 480x270 | planes | block | ecp5-85f |" in text
    assert "| 2.0000 | 640.0 | 102.9 | abc1234 |" in text
    # RGB lanes: one frame per image, 80e6 / (8 x 480 x 270).
    assert "| 2,2 | 2 | 480x270 | lanes | auto | ecp5-85f |" in text
    assert "| 8.0000 | 160.0 | 77.2 | abc1234 |" in text
