"""The bicubic engine in Amaranth's simulator: bit-exact against the golden model under random
gaps and backpressure, and its cycle, traffic and operation model against the RTL."""

from dataclasses import replace

import numpy as np
import pytest

from edgeforge.hw.bicubic.engine import BicubicEngine, buffer_bits
from edgeforge.schemes.bicubic import BicubicConfig
from edgeforge.sim.amaranth_stream import run_stream
from edgeforge.sim.cycles.bicubic import predict
from edgeforge.sim.cycles.hklut import timeline, traffic_line_of
from edgeforge.sim.golden.bicubic import upscale
from edgeforge.sim.memory_probe import MemoryProbe

X4 = BicubicConfig(4, 8)


def _run(config, images, *, lanes=1, p_valid=1.0, p_ready=1.0, seed=0, probe=False):
    h, w = images[0].shape
    dut = BicubicEngine(config, width=w, height=h, out_pixels=lanes)
    expected = np.concatenate([upscale(config, x).ravel() for x in images])
    memories = MemoryProbe(dut) if probe else None
    run = run_stream(dut, [int(v) for x in images for v in x.ravel()], expected.size // lanes,
                     p_valid=p_valid, p_ready=p_ready, seed=seed, probe=memories)
    got = np.array([(v >> (8 * k)) & 255 for v in run.outputs for k in range(lanes)], np.uint8)
    return got, expected, run, memories


@pytest.mark.parametrize("config, size, lanes, p_valid, p_ready", [
    (X4, (3, 3), 1, 1.0, 1.0),
    (X4, (5, 4), 2, 0.7, 0.5),
    (BicubicConfig(4, 10), (4, 6), 4, 0.8, 0.6),
    (BicubicConfig(3, 6), (4, 5), 1, 0.6, 0.8),
    (BicubicConfig(2, 12), (6, 3), 2, 0.8, 0.7),
], ids=["x4-8b-3x3", "x4-8b-5x4-p2", "x4-10b-p4", "x3-6b", "x2-12b"])
def test_engine_matches_golden(config, size, lanes, p_valid, p_ready):
    rng = np.random.default_rng(size[0] * 10 + size[1])
    images = [rng.integers(0, 256, size=size).astype(np.uint8) for _ in range(2)]
    got, expected, _, _ = _run(config, images, lanes=lanes, p_valid=p_valid, p_ready=p_ready,
                               seed=lanes)
    np.testing.assert_array_equal(got, expected)


def test_engine_clamps_overshoot_at_both_ends():
    # A checkerboard of 0 and 255 overshoots past both ends: the clamp must hold 0 and 255.
    img = ((np.indices((4, 5)).sum(axis=0) % 2) * 255).astype(np.uint8)
    got, expected, _, _ = _run(X4, [img], p_ready=0.7)
    np.testing.assert_array_equal(got, expected)
    assert got.min() == 0 and got.max() == 255


@pytest.mark.parametrize("config, size, lanes, frames", [
    (X4, (3, 4), 1, 2), (X4, (5, 6), 2, 3), (BicubicConfig(3, 8), (4, 4), 4, 2),
    (BicubicConfig(2, 8), (6, 3), 2, 2)])
def test_timeline_traffic_and_operations_match_the_rtl(config, size, lanes, frames):
    h, w = size
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, size=size).astype(np.uint8) for _ in range(frames)]
    got, expected, run, probe = _run(config, images, lanes=lanes, probe=True)
    np.testing.assert_array_equal(got, expected)
    model = predict(config, width=w, height=h, out_pixels=lanes)
    # run_stream counts the edge of the first input transfer as cycle 1; the model as 0.
    assert run.first - 1 == model.latency_cycles
    assert run.last == model.total_cycles(frames)
    measured = {t.memory: t for t in probe.lines(traffic_line_of)}
    assert measured == {t.memory: replace(t, reads=t.reads * frames, writes=t.writes * frames)
                        for t in model.traffic_per_plane}


def test_throughput_is_one_output_pixel_a_cycle():
    model = predict(X4, width=64, height=48, out_pixels=2, channels=3)
    assert model.cycles_per_input_pixel == 16 and model.frame_cycles == 16 * 64 * 48
    starts = timeline((model.stage,), 4, pipeline_depth=model.pipeline_depth)["frame_first_outputs"]
    assert set(np.diff(starts)) == {model.frame_cycles}
    perf = model.performance()
    assert perf.cycles_per_output == 3      # three planes through one engine
    # 8 vertical multipliers (2 column sums a cycle) and 4 horizontal ones, every cycle.
    assert model.multipliers == 12 and perf.detail["mults_per_output_pixel"] == 12
    mul = {o.what: o for o in perf.operations if o.op == "mul"}
    pixels = 3 * 64 * 48 * 16
    assert mul["vertical pass products"].bits == (8, 9)
    assert mul["vertical pass products"].count == 8 * pixels
    assert mul["horizontal pass products"].bits == (18, 9)
    assert mul["horizontal pass products"].count == 4 * pixels


@pytest.mark.parametrize("scale, groups", [(4, ((-2, -1), (0,), (1,), (2,))),
                                           (3, ((-2, -1), (0, 1), (2,))),
                                           (2, ((-2, -1, 0), (1, 2)))])
def test_column_sums_spread_over_a_row_of_phases(scale, groups):
    from edgeforge.hw.bicubic.taps import column_groups, multipliers
    assert column_groups(scale) == groups
    assert multipliers(scale) == (4 * max(map(len, groups)), 4)


def test_buffer_bits_is_what_the_built_engine_holds():
    from test_hklut_design import _memory_bits_built
    dut = BicubicEngine(X4, width=12, height=4)
    assert _memory_bits_built(dut) == buffer_bits(X4, 12) == 8 * 12 * 8 + 2 * 4 * 48 * 8


@pytest.mark.parametrize("kwargs, message", [
    ({"width": 2}, r"^width must be an integer of at least 3, got 2$"),
    ({"height": 5000}, r"^height must be at most 4096, the side of the largest supported LR "
                       r"frame, got 5000$"),
    ({"out_pixels": 8}, r"^out_pixels must be one of \(1, 2, 4\), got 8$"),
    ({"width": 3, "out_pixels": 8}, r"^out_pixels must be one of \(1, 2, 4\), got 8$"),
    ({"buffer_ram": "bram"}, r"^buffer_ram must be one of \('auto', 'block', 'lut'\), "
                             r"got 'bram'$"),
])
def test_engine_refuses_configs_it_cannot_build(kwargs, message):
    args = {"width": 4, "height": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        BicubicEngine(X4, **args)


def test_out_pixels_must_divide_the_row():
    with pytest.raises(ValueError, match=r"^out_pixels must divide the output row of 9 pixels, "
                                         r"got 2$"):
        BicubicEngine(BicubicConfig(3, 8), width=3, height=3, out_pixels=2)
