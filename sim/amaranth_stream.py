"""Run a stream component in Amaranth's own simulator with random valid gaps and backpressure.

The cocotb flow (``sim/runner.py``) checks emitted Verilog; this checks the
Amaranth design directly, which is faster for small blocks and unit tests.
"""

from __future__ import annotations

import random
from typing import Sequence

from .memory_probe import MemoryProbe, simulator

__all__ = ["run_stream"]

DRAIN_CYCLES = 20


def run_stream(dut, inputs: Sequence[int], n_out: int, *, seed: int = 0, p_valid: float = 1.0,
               p_ready: float = 1.0, max_cycles: int | None = None, vcd: str | None = None,
               probe: MemoryProbe | None = None):
    """Drive ``inputs`` into ``dut.i`` and collect ``n_out`` payloads from ``dut.o``.

    ``p_valid`` / ``p_ready`` are the per-cycle probabilities that the source
    offers a beat and the sink accepts one (seeded by ``seed``). Returns
    ``(outputs, cycles)``; raises ``AssertionError`` naming the seed if the
    design stalls for ``max_cycles`` or emits a beat too many. With a ``probe`` of
    ``dut`` (:class:`~edgeforge.sim.memory_probe.MemoryProbe`), the run counts its
    memory accesses.
    """
    rng = random.Random(seed)
    limit = max_cycles or 50 * (len(inputs) + n_out) + 1000
    outputs: list[int] = []
    done_at = []

    async def source(ctx):
        for payload in inputs:
            while rng.random() >= p_valid:
                await ctx.tick()
            ctx.set(dut.i.payload, payload)
            ctx.set(dut.i.valid, 1)
            await ctx.tick().until(dut.i.ready)
            ctx.set(dut.i.valid, 0)

    async def sink(ctx):
        sink_rng = random.Random(seed + 1)
        cycle = 0
        # Keep accepting for DRAIN_CYCLES after the last expected beat, so that a
        # spurious extra beat is seen.
        while not done_at or cycle < done_at[0] + DRAIN_CYCLES:
            ready = sink_rng.random() < p_ready
            ctx.set(dut.o.ready, ready)
            _, _, valid, payload = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            cycle += 1
            if valid and ready:
                outputs.append(int(payload))
                if len(outputs) == n_out:
                    done_at.append(cycle)
            assert cycle < limit, (f"stalled after {len(outputs)} of {n_out} outputs in {limit} "
                                   f"cycles; reproduce with seed={seed}")

    sim = simulator(dut, probe)
    sim.add_clock(1e-8)
    sim.add_testbench(source, background=True)
    sim.add_testbench(sink)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    assert len(outputs) == n_out, (f"expected {n_out} output beats, got {len(outputs)} "
                                   f"(reproduce with seed={seed})")
    return outputs, done_at[0] if done_at else 0
