"""Equivalence of small datapath blocks with a reference, for every input.

A :class:`Equivalence` harness feeds the same free inputs to a block (an Amaranth
expression the generators use) and to a reference written independently (a scan
where the block is a tree, a formula from the whole value where the block works on
parts) and asserts they are equal; with no state, k-induction of depth 1 proves it
for all inputs at once. :class:`Lockstep` runs two stream components side by side on
the same inputs and asserts that their ports agree in every cycle.

The references here are the golden models' definitions (``edgeforge.sim.golden``),
restated in Amaranth:

- :func:`argmin_scan`: the first minimum of a list (NumPy's ``argmin``: the lowest index
  wins a tie), as a left-to-right scan that only a strictly smaller value replaces;
- :func:`requantise_ref`: ``clip((acc + 2^(s-1)) >> s, lo, hi)`` computed as
  ``((acc >> (s - 1)) + 1) >> 1`` (the same round half up, without the wide add) and a
  clip on a widened value;
- :func:`clamp_ref` and :func:`round_half_even_ref`: HKLUT's ``clip(N, 0, n_max)`` and
  ``round-half-to-even(N / D)``, the latter from ``N`` itself by ``//`` and ``%`` where the
  block works on ``(q, rem)``.
"""

from __future__ import annotations

from amaranth import Elaboratable, Module, Mux, ResetSignal, Signal
from amaranth.hdl import Assert, Assume

__all__ = ["Equivalence", "Lockstep", "StreamFunction", "argmin_scan", "cam_ref",
           "requantise_ref", "clamp_ref", "round_half_even_ref"]


class Equivalence(Elaboratable):
    """``block(*inputs) == reference(*inputs)`` for all inputs (where ``assume`` holds).

    Parameters
    ----------
    shapes : list of Shape
        The free inputs.
    block, reference : callable
        ``f(*inputs)`` giving an Amaranth value, or a tuple of values compared pairwise.
    assume : callable, optional
        ``f(*inputs)``: the inputs' domain (e.g. ``rem < D``).
    message : str
        The assertion's message.

    Members
    -------
    ports : list of Signal
        The inputs, then the block's and the reference's results (for the trace).
    """

    def __init__(self, shapes, block, reference, *, assume=None, message="block != reference"):
        self.inputs = [Signal(s, name=f"in{k}") for k, s in enumerate(shapes)]
        self.block, self.reference, self.assume, self.message = block, reference, assume, message
        self.ports = list(self.inputs)

    def elaborate(self, platform):
        m = Module()
        got, want = self.block(*self.inputs), self.reference(*self.inputs)
        got = got if isinstance(got, tuple) else (got,)
        want = want if isinstance(want, tuple) else (want,)
        if self.assume is not None:
            m.d.comb += Assume(self.assume(*self.inputs))
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            gs, ws = Signal.like(g, name=f"block{k}"), Signal.like(w, name=f"reference{k}")
            m.d.comb += [gs.eq(g), ws.eq(w), Assert(gs == ws, self.message)]
        return m


class Lockstep(Elaboratable):
    """Two stream components (``i`` in, ``o`` out) on the same free inputs: ``i.ready``,
    ``o.valid`` and, while valid, ``o.payload`` agree in every cycle.

    Members
    -------
    ports : list of Signal
        Source valid and payload, sink ready.
    """

    def __init__(self, dut, reference):
        self.dut, self.ref = dut, reference
        self.i_valid = Signal(name="src_valid")
        self.i_payload = Signal(len(dut.i.payload), name="src_payload")
        self.o_ready = Signal(name="sink_ready")
        self.ports = [self.i_valid, self.i_payload, self.o_ready]

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut, m.submodules.ref = self.dut, self.ref
        for c in (self.dut, self.ref):
            m.d.comb += [c.i.valid.eq(self.i_valid), c.i.payload.eq(self.i_payload),
                         c.o.ready.eq(self.o_ready)]
        d, r = self.dut, self.ref
        m.d.comb += [Assert(d.i.ready == r.i.ready, "i.ready differs from the reference"),
                     Assert(d.o.valid == r.o.valid, "o.valid differs from the reference")]
        with m.If(d.o.valid):
            m.d.comb += Assert(d.o.payload == r.o.payload, "o.payload differs from the reference")
        return m


class StreamFunction(Elaboratable):
    """A stream component computes ``reference(payload)`` for every input payload.

    ``reference(payload)`` and ``elements(o.payload)`` give lists of values compared
    pairwise (the output's elements, e.g. accumulators, and their expected values).

    The source offers one free payload, held for ever (so every beat taken is the same
    vector); the sink is always ready. Every output beat must equal the reference, and the
    first must come by cycle ``within``: for all inputs, a BMC of depth ``within + 1``
    shows the component's whole pipeline (folds, running minima, table reads,
    accumulation) computes the reference.

    Members
    -------
    ports : list of Signal
        The input payload, then ``seen`` (an output has come).
    """

    def __init__(self, dut, reference, elements, within: int):
        self.dut, self.reference, self.elements, self.within = dut, reference, elements, within
        self.payload = Signal(len(dut.i.payload), name="src_payload")
        self.seen = Signal(name="seen")
        self.ports = [self.payload, self.seen]

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        held = Signal.like(self.payload, reset_less=True, name="held")
        started = Signal(reset_less=True, name="started")
        cycle = Signal(range(self.within + 2), reset_less=True, name="cycle")
        m.d.sync += [held.eq(self.payload), started.eq(1),
                     cycle.eq(Mux(cycle > self.within, cycle, cycle + 1))]
        with m.If(started):
            m.d.comb += Assume(self.payload == held)
        m.d.comb += [Assume(~ResetSignal()), dut.i.valid.eq(1),
                     dut.i.payload.eq(self.payload), dut.o.ready.eq(1)]
        got = self.elements(dut.o.payload)
        want = self.reference(self.payload)
        with m.If(dut.o.valid):
            m.d.sync += self.seen.eq(1)
            for k, (g, w) in enumerate(zip(got, want, strict=True)):
                ws = Signal.like(g, name=f"reference{k}")
                m.d.comb += [ws.eq(w), Assert(g == ws, "output beat != reference")]
        with m.If(cycle == self.within):
            m.d.comb += Assert(self.seen | dut.o.valid, "no output beat in time")
        return m


def argmin_scan(values, ties: str = "lowest"):
    """``(minimum, index)``: a left-to-right scan in which only a strictly smaller value
    replaces the running minimum (NumPy's ``argmin``); ``ties="highest"`` lets an equal one
    replace it too (the last minimum: a wrong rule, for the checks' negative tests)."""
    if ties not in ("lowest", "highest"):
        raise ValueError(f"ties must be 'lowest' or 'highest', got {ties!r}")
    best, index = values[0], 0
    for k, v in enumerate(values[1:], start=1):
        smaller = v < best if ties == "lowest" else v <= best
        best, index = Mux(smaller, v, best), Mux(smaller, k, index)
    return best, index


def cam_ref(xs, codebook, table, bias, ties: str = "lowest"):
    """PECAN-D's golden accumulators for the input elements ``xs`` (group ``j``'s are
    ``xs[j d: (j + 1) d]``): per group the first prototype of least L1 distance
    (:func:`argmin_scan`), its table column summed over the groups from the bias."""
    groups, protos, d = codebook.shape
    outs = table.shape[1]
    acc = [int(bias[o]) for o in range(outs)]
    for j in range(groups):
        dists = []
        for q in range(protos):
            terms = [abs(xs[j * d + i] - int(codebook[j, q, i])) for i in range(d)]
            dists.append(sum(terms[1:], terms[0]))
        _, k = argmin_scan(dists, ties)
        for o in range(outs):
            column = int(table[j, o, protos - 1])
            for q in reversed(range(protos - 1)):
                column = Mux(k == q, int(table[j, o, q]), column)
            acc[o] = acc[o] + column
    return acc


def requantise_ref(acc, shift: int, lo: int, hi: int):
    """The golden ``requantise``: round half up by ``shift`` bits, then clip to ``[lo, hi]``
    (Amaranth compares values exactly, whatever their widths)."""
    rounded = ((acc >> (shift - 1)) + 1) >> 1 if shift else acc
    return Mux(rounded < lo, lo, Mux(rounded > hi, hi, rounded))


def clamp_ref(total, n_max: int):
    """HKLUT's ``clip(N, 0, n_max)``."""
    return Mux(total > n_max, n_max, Mux(total < 0, 0, total))


def round_half_even_ref(q, rem, denom: int):
    """HKLUT's ``round-half-to-even(N / D)`` of ``N = D q + rem``, from ``N``: the floor
    ``N // D`` rounded up when ``N % D`` is above half, or at half with an odd floor."""
    n = q * denom + rem
    floor, r = n // denom, n % denom
    up = (r * 2 > denom) | ((r * 2 == denom) & floor[0])
    return floor + up
