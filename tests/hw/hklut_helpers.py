"""Shared helpers of the HKLUT hardware tests: random tables, flat-payload stream runs."""

from __future__ import annotations

import random

import numpy as np
from amaranth.hdl import Value

from edgeforge.artifact import Artifact
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.memory_probe import simulator


def random_tables(config: HKLUTConfig, seed: int = 0, spread: int = 128) -> dict[str, np.ndarray]:
    """Random int8 tables for ``config`` in ``-spread..spread-1`` (128: the whole int8 range)."""
    rng = np.random.default_rng(seed)
    return {name: rng.integers(-spread, spread, size=(k.entries, r, r)).astype(np.int8)
            for name, _, _, k, r in config.tables()}


def random_artifact(config: HKLUTConfig, seed: int = 0, spread: int = 128) -> Artifact:
    return Artifact("hklut", config.to_dict(), random_tables(config, seed, spread))


def run_flat(dut, inputs, n_out, *, seed=0, p_valid=1.0, p_ready=1.0, max_cycles=None, probe=None):
    """Drive flat integer payloads into ``dut.i`` and collect ``n_out`` from ``dut.o``.

    Payloads are the raw bits of the (possibly layout-shaped) ports. Returns
    ``(outputs, first_out_cycle, last_out_cycle)``; asserts on a stall. With a ``probe``
    of ``dut`` (``edgeforge.sim.memory_probe``), the run counts its memory accesses.
    """
    rng = random.Random(seed)
    sink_rng = random.Random(seed + 1)
    limit = max_cycles or 200 * (len(inputs) + n_out) + 2000
    outputs, times = [], []
    i_payload = Value.cast(dut.i.payload)
    o_payload = Value.cast(dut.o.payload)

    async def source(ctx):
        for payload in inputs:
            while rng.random() >= p_valid:
                await ctx.tick()
            ctx.set(i_payload, payload)
            ctx.set(dut.i.valid, 1)
            await ctx.tick().until(dut.i.ready)
            ctx.set(dut.i.valid, 0)

    async def sink(ctx):
        cycle = 0
        while len(outputs) < n_out or cycle < times[-1] + 20:
            ready = sink_rng.random() < p_ready
            ctx.set(dut.o.ready, ready)
            _, _, valid, payload = await ctx.tick().sample(dut.o.valid, o_payload)
            cycle += 1
            if valid and ready:
                outputs.append(int(payload))
                times.append(cycle)
            assert cycle < limit, f"stalled after {len(outputs)} of {n_out} outputs (seed={seed})"

    sim = simulator(dut, probe)
    sim.add_clock(1e-8)
    sim.add_testbench(source, background=True)
    sim.add_testbench(sink)
    sim.run()
    assert len(outputs) == n_out, f"expected {n_out} outputs, got {len(outputs)} (seed={seed})"
    return outputs, times[0], times[-1]
