"""The HKLUT cycle and traffic model against the engine in Amaranth's simulator."""

import numpy as np
import pytest

from edgeforge.hw.hklut.engine import HKLUTEngine
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.cycles.hklut import predict, timeline
from edgeforge.sim.amaranth_stream import run_stream

from hklut_helpers import random_tables

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
    run = run_stream(dut, [v % 256 for v in range(n_in)], n_in * 16 // lanes)
    first, last = run.first, run.last
    model = predict(HKLUT_S, width=w, height=h, reads_per_table=reads, out_pixels=lanes)
    # run_stream counts the edge of the first input transfer as cycle 1; the model as 0.
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
    t = {line.memory: line for line in model.traffic_per_input_pixel}
    # 3 MSB + 2 LSB tables read 4 times per stage pixel: 1 + 4 stage pixels per input pixel.
    assert t["lut s0_msb_h"].reads == 4 and t["lut s1_lsb_d"].reads == 16
    assert sum(line.reads for k, line in t.items() if k.startswith("lut ")) == 5 * 4 * (1 + 4)
    assert all(t[k].word_bits == 32 and t[k].writes == 0 for k in t if k.startswith("lut "))
    # Each stage pixel is written once and read from each of the 5 rows its windows reach:
    # 8-bit input pixels in the first line buffer, (q, rem) of 8 + 3 bits between stages,
    # rounded 8-bit output pixels in the last re-order.
    assert (t["line buffer s0"].word_bits, t["line buffer s0"].writes, t["line buffer s0"].reads) \
        == (8, 1, 5)
    assert (t["line buffer s1"].word_bits, t["line buffer s1"].writes, t["line buffer s1"].reads) \
        == (11, 4, 20)
    assert (t["reorder s0"].word_bits, t["reorder s0"].writes, t["reorder s0"].reads) == (11, 4, 4)
    assert (t["reorder s1"].word_bits, t["reorder s1"].writes, t["reorder s1"].reads) == (8, 16, 16)


def test_performance_record_is_per_image():
    model = predict(HKLUT_S, width=8, height=6, reads_per_table=(2, 2), out_pixels=2, channels=3)
    perf = model.performance(planes_per_image=3)
    assert (perf.input_unit, perf.outputs_per_input) == ("image", 8 * 6 * 16)
    assert perf.cycles_per_input == 3 * model.frame_cycles
    assert (perf.offchip_bytes_in, perf.offchip_bytes_out) == (3 * 48, 3 * 48 * 16)
    assert perf.traffic_by("lut ")[0] == 3 * 48 * 5 * 4 * 5
    run = perf.run([8 * 6 * 3] * 2)
    frames = timeline(model.stages, 6)
    assert run.output_starts == tuple(frames["frame_first_outputs"][::3])
    assert run.total_cycles == model.total_cycles(6)
    assert perf.to_dict()["detail"]["bottleneck"] == model.bottleneck
