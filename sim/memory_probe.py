"""Memory traffic measured in Amaranth's simulator: enable-high cycles of every memory port.

Works on any design whose memories are :class:`amaranth.lib.memory.Memory`: the
probe elaborates the design once, finds each memory in the elaborated hierarchy
(by its path of submodule names from the top) and, while the simulation runs,
counts per port the clock cycles in which the port's enable is high:

- a read is one cycle with a synchronous read port's ``en`` high. Where several
  ports are driven from one enable (the lanes of one ROM bank), each port's read
  counts, as in :class:`~edgeforge.sim.cycles.record.TrafficLine`;
- a write is one cycle with any bit of a write port's ``en`` high (with a
  granularity, a partial write is one write).

The enable is sampled at the active clock edge, i.e. as the port sees it.
Asynchronous read ports (domain ``"comb"``) have no enable and are refused.

The design is simulated from the probe's own elaboration (:meth:`MemoryProbe.simulator`),
because a design builds new :class:`~amaranth.lib.memory.Memory` objects each time it
is elaborated. The emitted Verilog is untouched: nothing is added to the design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from amaranth import Shape
from amaranth.hdl import Fragment
from amaranth.lib import memory
from amaranth.sim import Simulator

from .cycles.record import TrafficLine

__all__ = ["MemoryCount", "MemoryProbe", "find_memories", "simulator"]


def find_memories(fragment: Fragment) -> dict[tuple[str, ...], memory.Memory]:
    """Every :class:`~amaranth.lib.memory.Memory` in an elaborated hierarchy, by the path of
    submodule names from the top (an unnamed submodule is ``U$<index>``, as Amaranth names it)."""
    found = {}

    def walk(frag, path):
        mem = next((o for o in frag.origins or () if isinstance(o, memory.Memory)), None)
        if mem is not None:
            found[path] = mem
        for index, (sub, name, _) in enumerate(frag.subfragments):
            walk(sub, path + (name if name is not None else f"U${index}",))

    walk(fragment, ())
    return found


@dataclass(frozen=True)
class MemoryCount:
    """Measured accesses of one memory: one count per read port and per write port."""
    path: tuple[str, ...]
    word_bits: int
    reads: tuple[int, ...]
    writes: tuple[int, ...]


class MemoryProbe:
    """Counts the accesses of every memory of ``design`` during one simulation.

    Parameters
    ----------
    design : Elaboratable
        The design to simulate (a component whose ports the testbenches drive).
    platform : optional
        Passed to ``elaborate``.

    Raises
    ------
    ValueError
        For a design without memories, or an asynchronous read port (no enable).
    """

    def __init__(self, design, platform=None):
        self.design = design
        self.fragment = Fragment.get(design, platform)
        self.memories = find_memories(self.fragment)
        if not self.memories:
            raise ValueError(f"design must hold at least one amaranth.lib.memory.Memory, "
                             f"got none in {type(design).__name__!r}")
        # One entry per port: (path, "read" / "write", the port).
        self._ports = []
        for path, mem in self.memories.items():
            for port in mem.read_ports:
                if port.domain == "comb":
                    raise ValueError(f"read ports must be synchronous to count reads, got an "
                                     f"asynchronous one in memory {'/'.join(path)!r}")
                self._ports.append((path, "read", port))
            self._ports += [(path, "write", port) for port in mem.write_ports]
        self._counts = [0] * len(self._ports)

    def simulator(self) -> Simulator:
        """A simulator of the probe's elaboration of the design, counting in the background;
        add clocks and testbenches to it as to ``Simulator(design)``. Counts start at 0."""
        self._counts = [0] * len(self._ports)
        sim = Simulator(self.fragment)
        for domain in sorted({port.domain for _, _, port in self._ports}):
            sim.add_testbench(self._counter(domain), background=True)
        return sim

    def _counter(self, domain: str):
        indices = [k for k, (_, _, port) in enumerate(self._ports) if port.domain == domain]
        enables = [self._ports[k][2].en for k in indices]

        async def count(ctx):
            async for _, _, *values in ctx.tick(domain).sample(*enables):
                for k, value in zip(indices, values):
                    if value:
                        self._counts[k] += 1
        return count

    def counts(self) -> tuple[MemoryCount, ...]:
        """The accesses counted so far, one :class:`MemoryCount` per memory, in hierarchy order."""
        out = []
        for path, mem in self.memories.items():
            mine = [(kind, n) for (p, kind, _), n in zip(self._ports, self._counts) if p == path]
            out.append(MemoryCount(path, Shape.cast(mem.shape).width,
                                   tuple(n for kind, n in mine if kind == "read"),
                                   tuple(n for kind, n in mine if kind == "write")))
        return tuple(out)

    def lines(self, line_of: Callable[[tuple[str, ...]], str]) -> tuple[TrafficLine, ...]:
        """The counts as traffic lines: memories summed by the line ``line_of(path)`` names
        (lines in order of their first memory). Memories of one line must share a word width.

        Raises
        ------
        ValueError
            For memories of one line with different word widths.
        """
        lines: dict[str, TrafficLine] = {}
        for c in self.counts():
            name = line_of(c.path)
            line = lines.get(name, TrafficLine(name, c.word_bits, 0, 0))
            if line.word_bits != c.word_bits:
                raise ValueError(f"memories of line {name!r} must share a word width, got "
                                 f"{line.word_bits} and {c.word_bits} bits at "
                                 f"{'/'.join(c.path)!r}")
            lines[name] = TrafficLine(name, c.word_bits, line.reads + sum(c.reads),
                                      line.writes + sum(c.writes))
        return tuple(lines.values())


def simulator(dut, probe: MemoryProbe | None = None) -> Simulator:
    """``Simulator(dut)``, or with a probe of ``dut`` its simulator (memories counted): what
    the stream drivers simulate.

    Raises
    ------
    ValueError
        For a probe of another design.
    """
    if probe is None:
        return Simulator(dut)
    if probe.design is not dut:
        raise ValueError(f"probe must be of the simulated design, got one of "
                         f"{type(probe.design).__name__!r}")
    return probe.simulator()
