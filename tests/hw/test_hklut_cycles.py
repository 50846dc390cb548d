"""The HKLUT cycle and traffic model against the engine in Amaranth's simulator."""

from dataclasses import replace

import numpy as np
import pytest

from edgeforge.hw.hklut.engine import HKLUTEngine
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.cycles.hklut import predict, timeline, traffic_line_of
from edgeforge.sim.amaranth_stream import run_stream
from edgeforge.sim.memory_probe import MemoryProbe

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


def run_engine(reads, lanes, size, frames, *, p=1.0, seed=0):
    """``frames`` frames back to back through the engine in Amaranth's simulator, counting
    its memory accesses. Returns the first and last output cycles (the edge of the first
    input transfer is cycle 1), the measured traffic lines by memory, and the model."""
    h, w = size
    dut = HKLUTEngine(random_tables(HKLUT_S, 1), HKLUT_S, width=w, height=h,
                      reads_per_table=reads, out_pixels=lanes)
    probe = MemoryProbe(dut)
    n_in = frames * w * h
    run = run_stream(dut, [v % 256 for v in range(n_in)], n_in * 16 // lanes, seed=seed,
                     p_valid=p, p_ready=p, probe=probe)
    first, last = run.first, run.last
    model = predict(HKLUT_S, width=w, height=h, reads_per_table=reads, out_pixels=lanes)
    return first, last, {t.memory: t for t in probe.lines(traffic_line_of)}, model


def predicted_traffic(model, frames):
    return {t.memory: replace(t, reads=t.reads * frames, writes=t.writes * frames)
            for t in model.traffic_per_plane}


@pytest.mark.parametrize("reads, lanes, size, frames", [
    ((1, 1), 1, (5, 4), 2),
    ((2, 2), 2, (3, 6), 2),
    ((2, 4), 4, (8, 8), 3),
    ((4, 1), 2, (4, 3), 2),
    ((4, 16), 16, (4, 4), 2),
    ((4, 8), 8, (5, 6), 2),
    ((2, 16), 16, (4, 8), 2),
])
def test_timeline_and_traffic_match_the_rtl(reads, lanes, size, frames):
    first, last, measured, model = run_engine(reads, lanes, size, frames)
    # run_stream counts the edge of the first input transfer as cycle 1; the model as 0.
    assert first - 1 == model.latency_cycles
    assert last - 1 == timeline(model.stages, frames)["last_output"]
    assert model.total_cycles(frames) == last
    # Every memory of the RTL is in the model and vice versa, with its word width and its
    # reads and writes (enable-high port cycles) exactly.
    assert measured == predicted_traffic(model, frames)


def test_stalls_add_no_memory_access():
    # Random gaps on the input and pauses on the output, 2 pixels a beat into stage 1.
    _, _, measured, model = run_engine((2, 8), 8, (5, 4), 2, p=0.6, seed=5)
    assert measured == predicted_traffic(model, 2)


def test_border_rows_read_fewer_row_memories():
    # Counted without the model: the top and bottom rows' windows reach 3 distinct rows,
    # the next ones 4 (the reflect border), the others 5. A model of 5 rows a pixel (the
    # one this engine had before its traffic was measured) is refused.
    h, w = 6, 4
    _, _, measured, _ = run_engine((1, 1), 1, (h, w), 2)
    rows = 3 + 4 + 5 * (h - 4) + 4 + 3
    assert measured["line buffer s0"].reads == 2 * w * rows
    assert measured["line buffer s0"].reads != 2 * w * h * 5


def test_frame_period_is_the_bottleneck():
    model = predict(HKLUT_S, width=8, height=8, reads_per_table=(2, 2), out_pixels=4)
    starts = timeline(model.stages, 4)["frame_first_outputs"]
    assert set(np.diff(starts)) == {model.frame_cycles}
    assert model.bottleneck == "s1_window_lookup"
    assert model.cycles_per_input_row == 2 * 16 * 2      # 2 stage rows of 16 pixels, 2 phases


def test_traffic_per_plane():
    w, h = 64, 48
    model = predict(HKLUT_S, width=w, height=h, reads_per_table=(1, 1))
    t = {line.memory: line for line in model.traffic_per_plane}
    # 3 MSB + 2 LSB tables read 4 times per stage pixel: 1 + 4 stage pixels per input pixel.
    assert t["lut s0_msb_h"].reads == 4 * w * h and t["lut s1_lsb_d"].reads == 16 * w * h
    assert sum(line.reads for k, line in t.items() if k.startswith("lut ")) == 5 * 4 * 5 * w * h
    assert all(t[k].word_bits == 32 and t[k].writes == 0 for k in t if k.startswith("lut "))
    # Each stage pixel is written once and read from each distinct row its window reaches:
    # 5 inside, 4 and 3 on the two rows nearest the top and the bottom (reflect). 8-bit input
    # pixels in the first line buffer, (q, rem) of 8 + 3 bits between stages, rounded 8-bit
    # output pixels in the last re-order.
    assert (t["line buffer s0"].word_bits, t["line buffer s0"].writes, t["line buffer s0"].reads) \
        == (8, w * h, w * (5 * h - 6))
    assert (t["line buffer s1"].word_bits, t["line buffer s1"].writes, t["line buffer s1"].reads) \
        == (11, 4 * w * h, 2 * w * (5 * 2 * h - 6))
    assert (t["reorder s0"].word_bits, t["reorder s0"].writes, t["reorder s0"].reads) \
        == (11, 4 * w * h, 4 * w * h)
    assert (t["reorder s1"].word_bits, t["reorder s1"].writes, t["reorder s1"].reads) \
        == (8, 16 * w * h, 16 * w * h)
    per_pixel = {line.memory: line for line in model.traffic_per_input_pixel}
    assert per_pixel["line buffer s0"].reads == pytest.approx(5 - 6 / h)


def test_line_buffer_words_hold_a_beat():
    # With 2 pixels a beat into stage 1, its words hold 2 (q, rem) pixels: half the accesses.
    narrow = predict(HKLUT_S, width=8, height=6, reads_per_table=(1, 4))
    wide = predict(HKLUT_S, width=8, height=6, reads_per_table=(1, 8))
    a = {line.memory: line for line in narrow.traffic_per_plane}["line buffer s1"]
    b = {line.memory: line for line in wide.traffic_per_plane}["line buffer s1"]
    assert (b.word_bits, 2 * b.reads, 2 * b.writes) == (2 * a.word_bits, a.reads, a.writes)


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
