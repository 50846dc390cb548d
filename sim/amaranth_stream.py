"""Run a stream component in Amaranth's own simulator with random valid gaps and backpressure.

The cocotb flow (``sim/runner.py``) checks emitted Verilog; this checks the
Amaranth design directly, which is faster for small blocks and unit tests. It is
the one Amaranth-side driver of the project: every block test and the demo use it.
The sink checks the stream rule the monitor of the cocotb flow checks: a beat
offered and not taken is offered again, unchanged, on the next cycle.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from amaranth import ClockDomain, Module
from amaranth.hdl import Value
from amaranth.sim import Simulator

from .memory_probe import MemoryProbe, simulator

__all__ = ["Port", "StreamRun", "run_stream"]

DRAIN_CYCLES = 20


@dataclass(frozen=True)
class Port:
    """A valid/ready stream's signals. ``payload`` is one value (its raw bits are driven and
    read as an integer) or a tuple of values (driven and read as a tuple of integers, e.g.
    AXI4-Stream's ``tdata``, ``tuser``, ``tlast``)."""
    payload: Any
    valid: Any
    ready: Any

    @classmethod
    def of(cls, interface) -> "Port":
        """The port of an ``amaranth.lib.stream`` interface (any payload shape, as raw bits)."""
        return cls(Value.cast(interface.payload), interface.valid, interface.ready)

    @property
    def fields(self) -> tuple:
        return self.payload if isinstance(self.payload, tuple) else (self.payload,)

    def pack(self, values) -> tuple:
        return tuple(int(v) for v in values) if isinstance(self.payload, tuple) else int(values[0])


@dataclass
class StreamRun:
    """What :func:`run_stream` saw. Cycles count clock edges from the start of the run (the
    first input transfer without valid gaps is at cycle 1)."""
    outputs: list
    first: int
    last: int
    after_inputs: list = field(default_factory=list)


def run_stream(dut, inputs: Sequence, n_out: int, *, seed: int = 0, p_valid: float = 1.0,
               p_ready: float = 1.0, max_cycles: int | None = None, vcd: str | None = None,
               i: Port | None = None, o: Port | None = None,
               on_input: Callable | None = None, reset_after: int | None = None,
               probe: MemoryProbe | None = None, processes: Sequence[Callable] = ()) -> StreamRun:
    """Drive ``inputs`` into the ``i`` port and collect ``n_out`` payloads from ``o``.

    Parameters
    ----------
    dut
        The component; its ``i`` and ``o`` stream interfaces unless ``i``/``o`` are given.
    p_valid, p_ready : float
        Per-cycle probabilities that the source offers a beat and the sink accepts one
        (seeded by ``seed``).
    on_input : callable, optional
        ``on_input(ctx)`` after each input transfer; its results go to ``after_inputs``.
    reset_after : int, optional
        Pulse the sync domain's reset for one cycle after that many input transfers.
    probe : MemoryProbe, optional
        A probe of ``dut`` (:class:`~edgeforge.sim.memory_probe.MemoryProbe`): the run counts
        its memory accesses.
    processes : sequence of callable, optional
        More testbenches ``async f(ctx)`` run in the background beside the source and the
        sink, e.g. a model of a memory the design reads through ports of its own.

    Raises
    ------
    AssertionError
        Naming the seed, if the design stalls for ``max_cycles``, changes a stalled beat, or
        emits a beat too many.
    """
    i = i or Port.of(dut.i)
    o = o or Port.of(dut.o)
    rng, sink_rng = random.Random(seed), random.Random(seed + 1)
    limit = max_cycles or 200 * (len(inputs) + n_out) + 2000
    run = StreamRun([], 0, 0)
    top = dut
    if reset_after is not None:
        if probe is not None:
            raise ValueError("a probed run cannot also pulse the reset (the probe elaborates "
                             "the design alone), got probe and reset_after")
        top = Module()
        top.domains.sync = sync = ClockDomain()
        top.submodules.dut = dut

    async def source(ctx):
        for k, payload in enumerate(inputs):
            if k == reset_after:
                ctx.set(sync.rst, 1)
                await ctx.tick()
                ctx.set(sync.rst, 0)
            while rng.random() >= p_valid:
                await ctx.tick()
            for signal, value in zip(i.fields, payload if isinstance(i.payload, tuple)
                                     else (payload,)):
                ctx.set(signal, value)
            ctx.set(i.valid, 1)
            await ctx.tick().until(i.ready)
            ctx.set(i.valid, 0)
            if on_input is not None:
                run.after_inputs.append(on_input(ctx))

    async def sink(ctx):
        cycle, held, done_at = 0, None, None
        # Keep accepting for DRAIN_CYCLES after the last expected beat, so that a spurious
        # extra beat is seen.
        while done_at is None or cycle < done_at + DRAIN_CYCLES:
            ready = sink_rng.random() < p_ready
            ctx.set(o.ready, ready)
            _, _, valid, *values = await ctx.tick().sample(o.valid, *o.fields)
            beat = o.pack(values)
            cycle += 1
            if held is not None:
                assert valid and beat == held, (f"beat {len(run.outputs)} changed from {held} "
                                                f"to {beat if valid else 'nothing'} while "
                                                f"stalled (seed={seed})")
            held = beat if valid and not ready else None
            if valid and ready:
                run.outputs.append(beat)
                run.first = run.first or cycle
                run.last = cycle
                if len(run.outputs) == n_out:
                    done_at = cycle
            assert cycle < limit, (f"stalled after {len(run.outputs)} of {n_out} outputs in "
                                   f"{limit} cycles; reproduce with seed={seed}")

    sim = simulator(dut, probe) if top is dut else Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(source, background=True)
    for process in processes:
        sim.add_testbench(process, background=True)
    sim.add_testbench(sink)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    assert len(run.outputs) == n_out, (f"expected {n_out} output beats, got {len(run.outputs)} "
                                       f"(reproduce with seed={seed})")
    return run
