"""The SR-LUT cycle model against the engine in Amaranth's simulator, without pauses: every
frame's first output and the last output, exactly, and the table reads the memory model counted."""

from __future__ import annotations

import numpy as np
import pytest

from edgeforge.hw.srlut.engine import SRLUTEngine, table_words
from edgeforge.schemes.srlut import SRLUTConfig
from edgeforge.sim.amaranth_stream import run_stream
from edgeforge.sim.cycles.srlut import predict
from edgeforge.sim.srlut_memory import MemoryModel

from srlut_helpers import random_tables


@pytest.mark.parametrize("kernels, r, size, out_pixels, latency, frames, table", [
    ("s", 2, (3, 3), 1, 1, 1, "external"),
    ("s", 4, (3, 4), 1, 3, 2, "external"),
    ("s", 4, (4, 3), 4, 7, 1, "external"),
    ("f", 3, (5, 6), 2, 2, 2, "external"),
    ("f", 2, (3, 8), 4, 1, 1, "onchip"),
])
def test_cycle_model_matches_the_rtl(kernels, r, size, out_pixels, latency, frames, table):
    config = SRLUTConfig(kernels, (r,), 6)
    h, w = size
    dut = SRLUTEngine(random_tables(config), config, width=w, height=h, out_pixels=out_pixels,
                      table=table)
    processes, memory = (), None
    if table == "external":
        memory = MemoryModel(table_words(dut.table), dut.word_bits, latency=latency)
        processes = (memory.process(dut.mem_addr, dut.mem_data),)
    n = h * w * frames
    images = np.random.default_rng(0).integers(0, 256, n)
    beats = n * r * r // out_pixels
    run = run_stream(dut, [int(v) for v in images], beats, processes=processes)
    model = predict(config, width=w, height=h, out_pixels=out_pixels, latency=latency,
                    offchip_table=table == "external").run(frames)
    # run_stream counts the first input transfer as cycle 1, the model as cycle 0.
    assert run.first - 1 == model.output_starts[0]
    assert run.last - 1 == model.last_output
    if memory is not None:
        assert memory.reads == n * 4 * (config.pixels + 1)


def test_table_traffic_per_output_pixel():
    s = predict(SRLUTConfig("s", (4,)), width=8, height=8)
    f = predict(SRLUTConfig("f", (4,)), width=8, height=8, offchip_table=False)
    assert s.table_bytes_per_output == 20 and f.table_bytes_per_output == 16
    assert s.performance().offchip_bytes_in == 64 + 64 * 20 * 16
    assert f.performance().offchip_bytes_in == 64
    assert f.performance().traffic[0].array_bits == 4913 * 16 * 8
