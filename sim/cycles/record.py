"""The performance record every design's cycle model returns, whatever its scheme.

One typed record, so that ``Design.verify`` checks every design against its model
the same way and the bench, the energy estimate and ``compare`` read one shape:

- ``cycles_per_input``: the steady-state interval, in cycles, between successive
  inputs (an input is one element of the list given to ``verify``: an image, or for
  the smoke design one address);
- ``latency_cycles``: from the first input transfer to the first output transfer;
- :meth:`Performance.run`: the predicted timeline of inputs streamed back to back
  without pauses, cycles counted from the first input transfer (the cycle of that
  transfer is 0): every input's first output transfer and the last output transfer;
- ``traffic``: on-chip memory accesses per input, one :class:`TrafficLine` per
  memory; a read is one cycle with the memory port's enable high (where ports share
  an enable, as the lanes of one ROM bank do, each lane's read counts), a write
  likewise (a cycle with any bit of a write port's enable high), each of one word
  of the port's width, whatever number of pixels or values the word holds; plus
  off-chip bytes in and out per input. ``edgeforge.sim.memory_probe`` measures
  these counts in simulation, on any design built from ``amaranth.lib.memory``.

- ``operations``: arithmetic per input, one :class:`OperationLine` per kind of
  operation (a multiply of two widths, an add of one: subtract, absolute value and
  compare count as adds), counted from the design's structure as its RTL does them
  (padded and zero work included where the hardware does it), for the energy
  estimate and ``compare``; empty where a cycle model does not count them.
Scheme-specific figures (stages, bottleneck, per-layer cycles) go in ``detail``,
as JSON types.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Callable, Sequence

__all__ = ["TrafficLine", "OperationLine", "RunCycles", "Performance"]


@dataclass(frozen=True)
class TrafficLine:
    """Accesses of one on-chip memory per input (see the module docstring for what counts).

    ``memory`` names one memory or a group of alike ones (a line buffer's row memories);
    ``word_bits`` is the width of one access, the port's word."""
    memory: str
    word_bits: int
    reads: float
    writes: float
    #: The memory's size in bits (all its words), where the model knows it: an energy
    #: figure per access depends on it.
    array_bits: int | None = None


@dataclass(frozen=True)
class OperationLine:
    """Operations of one kind per input: ``op`` is ``"mul"`` (``bits`` = the two operand
    widths) or ``"add"`` (``bits`` = one width; subtract, absolute value, compare and
    max count as adds); ``what`` says where they happen."""
    what: str
    op: str
    bits: tuple[int, ...]
    count: float


@dataclass(frozen=True)
class RunCycles:
    """A run's timeline, in cycles from the first input transfer (at cycle 0)."""
    output_starts: tuple[int, ...]
    last_output: int

    @property
    def total_cycles(self) -> int:
        """Cycles from the first input transfer through the last output transfer."""
        return self.last_output + 1

    @property
    def intervals(self) -> tuple[int, ...]:
        """Cycles between successive inputs' first outputs."""
        return tuple(b - a for a, b in zip(self.output_starts, self.output_starts[1:]))


@dataclass(frozen=True)
class Performance:
    """Predicted timing and memory traffic of one design (see the module docstring).

    ``schedule`` maps the input beats of each input (one count per input) to the
    :class:`RunCycles` of streaming them back to back; :meth:`run` calls it.
    """
    input_unit: str
    output_unit: str
    outputs_per_input: int
    cycles_per_input: float
    latency_cycles: int
    traffic: tuple[TrafficLine, ...]
    offchip_bytes_in: float
    offchip_bytes_out: float
    schedule: Callable[[Sequence[int]], RunCycles] = field(repr=False, compare=False)
    detail: dict = field(default_factory=dict)
    operations: tuple[OperationLine, ...] = ()

    def run(self, beats_per_input: Sequence[int]) -> RunCycles:
        """The timeline of inputs of ``beats_per_input`` input beats each, back to back."""
        counts = [int(n) for n in beats_per_input]
        if not counts or min(counts) < 1:
            raise ValueError(f"beats_per_input must list at least one input of at least one "
                             f"beat, got {counts!r}")
        return self.schedule(counts)

    def total_cycles(self, beats_per_input: Sequence[int]) -> int:
        return self.run(beats_per_input).total_cycles

    @property
    def cycles_per_output(self) -> float:
        return self.cycles_per_input / self.outputs_per_input

    def traffic_by(self, memory_prefix: str) -> tuple[float, float]:
        """Reads and writes per input of the memories whose name starts with the prefix."""
        lines = [t for t in self.traffic if t.memory.startswith(memory_prefix)]
        return sum(t.reads for t in lines), sum(t.writes for t in lines)

    def to_dict(self) -> dict:
        """JSON types: the fields without ``schedule``."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "schedule"}
        out["traffic"] = [asdict(t) for t in self.traffic]
        out["operations"] = [{**asdict(o), "bits": list(o.bits)} for o in self.operations]
        out["detail"] = dict(self.detail)
        return out
