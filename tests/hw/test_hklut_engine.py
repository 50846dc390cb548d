"""The whole HKLUT engine in Amaranth's simulator, bit-exact against the golden ``exact`` model."""

import numpy as np
import pytest

from edgeforge.hw.hklut.engine import HKLUTEngine
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.golden.hklut import upscale
from edgeforge.sim.amaranth_stream import run_stream

from hklut_helpers import random_tables

HKLUT_S = HKLUTConfig()


def _run(config, tables, images, *, reads, lanes, p_valid=1.0, p_ready=1.0, seed=0):
    h, w = images[0].shape
    dut = HKLUTEngine(tables, config, width=w, height=h, reads_per_table=reads, out_pixels=lanes)
    expected = np.concatenate([upscale((tables, config), x).ravel() for x in images])
    run = run_stream(dut, [int(v) for x in images for v in x.ravel()], expected.size // lanes,
                     p_valid=p_valid, p_ready=p_ready, seed=seed)
    got = np.array([(v >> (8 * k)) & 255 for v in run.outputs for k in range(lanes)], np.uint8)
    return got, expected, run.first, run.last


@pytest.mark.parametrize("reads, lanes, size, p_valid, p_ready", [
    ((1, 1), 1, (3, 3), 1.0, 1.0),
    ((2, 2), 2, (4, 5), 0.8, 0.5),
    ((2, 4), 4, (5, 4), 0.9, 0.4),
    ((4, 1), 8, (3, 6), 0.8, 0.8),
    ((4, 16), 16, (3, 8), 0.8, 0.6),    # full rate: 4 stage-2 pixels a cycle
    ((1, 8), 4, (3, 5), 0.9, 0.7),
    pytest.param((1, 1), 1, (4, 5), 0.7, 0.6, marks=pytest.mark.slow),
    pytest.param((2, 2), 2, (8, 8), 1.0, 1.0, marks=pytest.mark.slow),
    pytest.param((2, 4), 4, (3, 3), 0.6, 0.8, marks=pytest.mark.slow),
    pytest.param((4, 4), 4, (3, 4), 0.7, 0.7, marks=pytest.mark.slow),
    pytest.param((4, 16), 16, (8, 8), 1.0, 1.0, marks=pytest.mark.slow),
    pytest.param((2, 16), 8, (5, 4), 0.6, 0.9, marks=pytest.mark.slow),
])
def test_engine_matches_golden(reads, lanes, size, p_valid, p_ready):
    tables = random_tables(HKLUT_S, seed=sum(size))
    rng = np.random.default_rng(size[0] * 10 + size[1])
    images = [rng.integers(0, 256, size=size).astype(np.uint8) for _ in range(2)]
    got, expected, _, _ = _run(HKLUT_S, tables, images, reads=reads, lanes=lanes,
                               p_valid=p_valid, p_ready=p_ready, seed=lanes)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("config, reads, lanes", [
    (HKLUTConfig(stages=(2, 1, 2)), (1, 2, 1), 2),
    (HKLUTConfig(stages=(3,), msb_kernels="hd"), (2,), 1),
    (HKLUTConfig(stages=(4,), lsb_kernels="hdb"), (4,), 4),
], ids=["2-1-2", "x3-hd-hd", "x4-hdb-hdb"])
def test_engine_other_configs(config, reads, lanes):
    tables = random_tables(config, seed=7)
    images = [np.random.default_rng(8).integers(0, 256, size=(4, 3)).astype(np.uint8)]
    got, expected, _, _ = _run(config, tables, images, reads=reads, lanes=lanes, p_valid=0.8,
                               p_ready=0.7)
    np.testing.assert_array_equal(got, expected)


def test_engine_saturates_flat_frames():
    # Tables of +127 push every N to n_max, -128 to 0: the clamp holds at both ends.
    for value, image_value, expected in ((127, 255, 255), (-128, 0, 0)):
        tables = {k: np.full_like(v, value) for k, v in random_tables(HKLUT_S).items()}
        images = [np.full((3, 4), image_value, np.uint8)]
        got, want, _, _ = _run(HKLUT_S, tables, images, reads=(2, 2), lanes=2)
        np.testing.assert_array_equal(got, want)
        assert (got == expected).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"width": 2}, r"^width must be an integer of at least 3, got 2$"),
    ({"height": True}, r"^height must be an integer of at least 3, got True$"),
    ({"reads_per_table": (1,)}, r"^reads_per_table must give one count per stage \(2\), "
                                r"got \(1,\)$"),
    ({"reads_per_table": (1, 3)}, r"^reads_per_table entries must be one of "
                                  r"\(1, 2, 4, 8, 16\), got \(1, 3\)$"),
    ({"reads_per_table": (8, 8)}, r"^reads_per_table\[0\] must be one of \(1, 2, 4\) \(the "
                                  r"input is one pixel a beat\), got \(8, 8\)$"),
    ({"width": 3, "reads_per_table": (4, 16)},
     r"^reads_per_table\[1\] = 16 looks up 4 pixels a cycle, which must divide that stage's "
     r"width of 6 pixels, got \(4, 16\)$"),
    ({"reads_per_table": 2}, r"^reads_per_table must be a sequence of one count per stage, "
                             r"got 2$"),
    ({"out_pixels": 3}, r"^out_pixels must be one of \(1, 2, 4, 8, 16\), got 3$"),
    ({"width": 3, "out_pixels": 8}, r"^out_pixels must divide the output row of 12 pixels, "
                                    r"got 8$"),
])
def test_engine_refuses_configs_it_cannot_build(kwargs, message):
    args = {"width": 4, "height": 4, "reads_per_table": (1, 1), "out_pixels": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        HKLUTEngine(random_tables(HKLUT_S), HKLUT_S, **args)
