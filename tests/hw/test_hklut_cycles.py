"""The HKLUT cycle and traffic model against the engine in Amaranth's simulator."""

import numpy as np
import pytest

from edgeforge.hw.hklut.engine import HKLUTEngine
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.cycles.hklut import predict, timeline

from hklut_helpers import random_tables, run_flat

HKLUT_S = HKLUTConfig()


@pytest.mark.parametrize("reads, lanes, asymptotic", [((1, 1), 1, 16), ((2, 2), 2, 8),
                                                       ((2, 4), 4, 4), ((4, 4), 16, 4),
                                                       ((4, 16), 16, 1), ((4, 8), 8, 2)])
def test_steady_state_is_the_spec_formula(reads, lanes, asymptotic):
    # Rows cost no border steps: a row's reads overlap the previous row's last windows.
    model = predict(HKLUT_S, width=64, height=64, reads_per_table=reads, out_pixels=lanes)
    assert model.asymptotic_cycles_per_input_pixel == asymptotic
    assert model.cycles_per_input_pixel == asymptotic


@pytest.mark.parametrize("reads, lanes, size, frames", [
    ((1, 1), 1, (5, 4), 2),
    ((2, 2), 2, (3, 6), 2),
    ((2, 4), 4, (8, 8), 3),
    ((4, 1), 2, (4, 3), 2),
    ((4, 16), 16, (4, 4), 2),
    ((4, 8), 8, (5, 6), 2),
    ((2, 16), 16, (4, 8), 2),
])
def test_timeline_matches_the_rtl_cycle_for_cycle(reads, lanes, size, frames):
    h, w = size
    dut = HKLUTEngine(random_tables(HKLUT_S, 1), HKLUT_S, width=w, height=h,
                      reads_per_table=reads, out_pixels=lanes)
    n_in = frames * w * h
    _, first, last = run_flat(dut, [v % 256 for v in range(n_in)], n_in * 16 // lanes)
    model = predict(HKLUT_S, width=w, height=h, reads_per_table=reads, out_pixels=lanes)
    # run_flat counts the edge of the first input transfer as cycle 1; the model as 0.
    assert first - 1 == model.latency_cycles
    assert last - 1 == timeline(model.stages, frames)["last_output"]
    assert model.total_cycles(frames) == last


def test_frame_period_is_the_bottleneck():
    model = predict(HKLUT_S, width=8, height=8, reads_per_table=(2, 2), out_pixels=4)
    starts = timeline(model.stages, 4)["frame_first_outputs"]
    assert set(np.diff(starts)) == {model.frame_cycles}
    assert model.bottleneck == "s1_window_lookup"
    assert model.cycles_per_input_row == 2 * 16 * 2      # 2 stage rows of 16 pixels, 2 phases


def test_traffic_per_input_pixel():
    model = predict(HKLUT_S, width=64, height=64, reads_per_table=(1, 1))
    t = model.traffic_per_input_pixel
    assert (t["offchip_bytes_in"], t["offchip_bytes_out"]) == (1, 16)
    assert t["lut_reads"]["s0_msb_h"] == 4 and t["lut_reads"]["s1_lsb_d"] == 16
    # 3 MSB + 2 LSB tables read 4 times per stage pixel: 1 + 4 stage pixels per input pixel.
    assert t["lut_reads_total"] == 5 * 4 * (1 + 4)
    assert t["lut_reads"]["by_size"] == {"4096x32b": 3 * 4 * 5, "256x32b": 2 * 4 * 5}
    assert t["line_buffer_writes"] == 1 + 4
    assert t["reorder_writes"] == 4 + 16
    # Each stage pixel is read once from each of the 5 rows its column's windows reach.
    assert t["line_buffer_reads"] == 5 * (1 + 4)
    # 8-bit input pixels in the first line buffer, (q, rem) of 8 + 3 bits between stages,
    # rounded 8-bit output pixels in the last re-order.
    assert t["line_buffer_writes_by_bits"] == {"8": 1, "11": 4}
    assert t["line_buffer_reads_by_bits"] == {"8": 5, "11": 20}
    assert t["reorder_writes_by_bits"] == t["reorder_reads_by_bits"] == {"11": 4, "8": 16}
