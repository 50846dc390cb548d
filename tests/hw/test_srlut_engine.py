"""The SR-LUT engine in Amaranth's simulator, bit-exact against the golden ``fixed`` readout,
with random valid gaps and backpressure on the streams and random latency on the memory port."""

from __future__ import annotations

import numpy as np
import pytest

from edgeforge.hw.srlut.engine import SRLUTEngine, table_words
from edgeforge.schemes.srlut import SRLUTConfig
from edgeforge.sim.amaranth_stream import run_stream
from edgeforge.sim.golden.srlut import upscale
from edgeforge.sim.srlut_memory import MemoryModel

from srlut_helpers import random_tables


def _run(config, tables, images, *, out_pixels=1, table="external", latency=1, jitter=0,
         p_mem=1.0, p_valid=1.0, p_ready=1.0, seed=0):
    h, w = images[0].shape
    dut = SRLUTEngine(tables, config, width=w, height=h, out_pixels=out_pixels, table=table)
    expected = np.concatenate([upscale((tables, config), x).ravel() for x in images])
    memory = None
    processes = ()
    if table == "external":
        memory = MemoryModel(table_words(dut.table), dut.word_bits, latency=latency,
                             jitter=jitter, p_ready=p_mem, seed=seed + 2)
        processes = (memory.process(dut.mem_addr, dut.mem_data),)
    run = run_stream(dut, [int(v) for x in images for v in x.ravel()], expected.size // out_pixels,
                     p_valid=p_valid, p_ready=p_ready, seed=seed, processes=processes)
    got = np.array([(v >> (8 * k)) & 255 for v in run.outputs for k in range(out_pixels)],
                   np.uint8)
    return got, expected, run, memory


@pytest.mark.parametrize("kernels, r, bits, size, out_pixels, latency, jitter, p_mem, p_valid, "
                         "p_ready", [
                             ("s", 2, 6, (3, 4), 1, 1, 0, 1.0, 1.0, 1.0),
                             ("s", 4, 6, (4, 3), 4, 3, 4, 0.7, 0.8, 0.6),
                             ("f", 2, 6, (3, 5), 2, 5, 2, 0.8, 0.7, 0.7),
                             ("f", 3, 5, (3, 3), 1, 2, 6, 0.5, 1.0, 0.5),
                         ])
def test_external_table_engine_matches_golden(kernels, r, bits, size, out_pixels, latency,
                                              jitter, p_mem, p_valid, p_ready):
    config = SRLUTConfig(kernels, (r,), bits)
    tables = random_tables(config, seed=sum(size) + r)
    rng = np.random.default_rng(r * 10 + size[1])
    images = [rng.integers(0, 256, size=size).astype(np.uint8) for _ in range(2)]
    got, expected, _, memory = _run(config, tables, images, out_pixels=out_pixels,
                                    latency=latency, jitter=jitter, p_mem=p_mem,
                                    p_valid=p_valid, p_ready=p_ready, seed=r)
    np.testing.assert_array_equal(got, expected)
    # Every anchor reads 4 (n + 1) rows of r*r bytes: 5 per rotation for S, 4 for F.
    anchors = sum(x.size for x in images)
    assert memory.reads == anchors * 4 * (config.pixels + 1)
    assert memory.bytes_read == memory.reads * r * r


def test_onchip_f_engine_matches_golden():
    config = SRLUTConfig("f", (4,), 4)            # SR-LUT-F x4: the 76.8 KiB table on chip
    tables = random_tables(config, seed=1)
    images = [np.random.default_rng(2).integers(0, 256, (3, 4)).astype(np.uint8)]
    got, expected, _, _ = _run(config, tables, images, table="onchip", out_pixels=2,
                               p_valid=0.8, p_ready=0.7)
    np.testing.assert_array_equal(got, expected)


def test_saturating_tables_clip_at_both_ends():
    config = SRLUTConfig("s", (2,), 6)
    for value, expected in ((127, 255), (-128, 0)):
        tables = {"s0_s": np.full(config.array_specs()["s0_s"].shape, value, np.int8)}
        got, want, _, _ = _run(config, tables, [np.full((3, 3), 100, np.uint8)])
        np.testing.assert_array_equal(got, want)
        assert (got == expected).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"width": 2}, r"^width must be an integer of at least 3, got 2$"),
    ({"table": "dram"}, r"^table must be one of \('onchip', 'external'\), got 'dram'$"),
    ({"out_pixels": 3}, r"^out_pixels must be one of \(1, 2, 4, 8, 16\), got 3$"),
    ({"out_pixels": 16, "width": 3}, r"^out_pixels must divide the output row of 6 pixels"),
])
def test_engine_refuses_configs_it_cannot_build(kwargs, message):
    config = SRLUTConfig("s", (2,), 6)
    args = {"width": 4, "height": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        SRLUTEngine(random_tables(config), config, **args)


def test_engine_refuses_other_configs():
    config = SRLUTConfig("sdy", (1, 2), 6)
    with pytest.raises(ValueError, match="kernel set s or f, got kernels 'sdy'"):
        SRLUTEngine(random_tables(config), config, width=4, height=4)
