"""Arg-max of a logit vector: the index of the largest value, the lowest index on a tie.

A balanced tree of 2-way compares over the logits in index order; each node
keeps its left (lower-index) input unless the right one is strictly greater,
so the lowest index of the maximum wins everywhere in the tree. A register
follows every :data:`LEVELS_PER_STAGE` levels (a compare and a multiplexer a
level: on ECP5 four levels in one cycle took 24.6 ns, two 12.6 ns, each time the
critical path of a folded digits-ref), so the block is :func:`argmax_depth`
stages deep. :class:`NarrowArgMax` takes the logits a few a beat and keeps a running
maximum instead (the narrow datapath, class only).
"""

from __future__ import annotations

from amaranth import Const, Module, Mux, Shape, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..logic import equals, refuse_quietly
from .vectors import vector_signature, view

__all__ = ["LEVELS_PER_STAGE", "class_bits", "tree_levels", "argmax_depth", "merge_level",
           "output_layout", "ArgMax", "NarrowArgMax"]

#: Compare levels of the tree between two registers.
LEVELS_PER_STAGE = 1


def class_bits(n: int) -> int:
    """Bits of a class index ``0 .. n - 1`` (at least 1)."""
    return max(1, (n - 1).bit_length())


def tree_levels(n: int) -> int:
    """Levels of 2-way compares that reduce ``n`` values to one."""
    return (n - 1).bit_length()


def argmax_depth(n: int) -> int:
    """Register stages of an :class:`ArgMax` of ``n`` logits (its latency in cycles)."""
    return max(1, -(-tree_levels(n) // LEVELS_PER_STAGE))


def merge_level(nodes):
    """One tree level: ``(value, index)`` pairs merged two by two in order, the left one kept
    unless the right one is strictly greater (an odd last node passes through)."""
    merged = []
    for a in range(0, len(nodes) - 1, 2):
        (lv, li), (rv, ri) = nodes[a], nodes[a + 1]
        right = rv > lv
        merged.append((Mux(right, rv, lv), Mux(right, ri, li)))
    if len(nodes) % 2:
        merged.append(nodes[-1])
    return merged


def output_layout(n: int, logit_bits: int | None) -> data.StructLayout:
    """The output beat: ``cls`` in the low bits, then with logits logit ``j`` (signed
    ``logit_bits``) at ``class_bits(n) + j logit_bits``."""
    fields = {"cls": class_bits(n)}
    if logit_bits is not None:
        fields["logits"] = data.ArrayLayout(signed(logit_bits), n)
    return data.StructLayout(fields)


class ArgMax(wiring.Component):
    """The class of each logit vector, with the logits if asked (one register stage).

    Parameters
    ----------
    shape : Shape
        Element shape of the logits.
    n : int
        Logits a vector.
    logit_bits : int or None
        Width of each logit in the output (signed, at least the input's), or None
        for the class alone.

    Members
    -------
    i : In(vector_signature(shape, n))
    o : Out(output_layout(n, logit_bits).size)
        Flat :func:`output_layout` beat.
    """

    @refuse_quietly
    def __init__(self, shape, n: int, logit_bits: int | None = None):
        self.shape, self.n, self.logit_bits = Shape.cast(shape), n, logit_bits
        if logit_bits is not None and logit_bits < self.shape.width + (not self.shape.signed):
            raise ValueError(f"logit_bits must hold the {self.shape!r} logits, got {logit_bits!r}")
        self.layout = output_layout(n, logit_bits)
        super().__init__({"i": In(vector_signature(self.shape, n)),
                          "o": Out(stream.Signature(self.layout.size))})

    def elaborate(self, platform):
        m = Module()
        n, cb = self.n, class_bits(self.n)
        logits = view(self.i.payload, self.shape, n)
        out = data.View(self.layout, self.o.payload)
        # The stages move together, and stop together while the output is blocked.
        en = ~self.o.valid | self.o.ready
        m.d.comb += self.i.ready.eq(en)
        nodes = [(logits[k], Const(k, cb)) for k in range(n)]
        kept = [logits[k] for k in range(n)] if self.logit_bits is not None else []
        valid = self.i.valid
        for stage in range(argmax_depth(n)):
            for _ in range(LEVELS_PER_STAGE):
                nodes = merge_level(nodes)
            regs = [(Signal(self.shape, name=f"s{stage}_max{j}"),
                     Signal(cb, name=f"s{stage}_idx{j}")) for j in range(len(nodes))]
            kept_regs = [Signal(self.shape, name=f"s{stage}_logit{k}") for k in range(len(kept))]
            valid_reg = Signal(name=f"s{stage}_valid")
            with m.If(en):
                m.d.sync += valid_reg.eq(valid)
                m.d.sync += [r.eq(v) for (r, ri), (v, vi) in zip(regs, nodes)]
                m.d.sync += [ri.eq(vi) for (r, ri), (v, vi) in zip(regs, nodes)]
                m.d.sync += [r.eq(v) for r, v in zip(kept_regs, kept)]
            nodes, kept, valid = regs, kept_regs, valid_reg
        m.d.comb += [self.o.valid.eq(valid), out.cls.eq(nodes[0][1])]
        m.d.comb += [out.logits[k].eq(v) for k, v in enumerate(kept)]
        return m


class NarrowArgMax(wiring.Component):
    """:class:`ArgMax` of logits that arrive ``lanes`` a beat (``n / lanes`` beats a vector),
    class only: a running maximum and its index, replaced only by a strictly greater beat
    (the lowest index wins a tie, as in the tree), so no vector is held.

    Parameters
    ----------
    shape : Shape
    n : int
    lanes : int
        Logits a beat, a divisor of ``n``.

    Members
    -------
    i : In(vector_signature(shape, lanes))
        Beat ``b``: logits ``b lanes .. b lanes + lanes - 1``.
    o : Out(output_layout(n, None).size)
        The class, valid the cycle after a vector's last beat; ``i.ready = ~o.valid | o.ready``.
    """

    @refuse_quietly
    def __init__(self, shape, n: int, lanes: int):
        if not isinstance(lanes, int) or lanes < 1 or n % lanes:
            raise ValueError(f"lanes must divide the {n} logits, got {lanes!r}")
        self.shape, self.n, self.lanes = Shape.cast(shape), n, lanes
        self.beats = n // lanes
        self.layout = output_layout(n, None)
        super().__init__({"i": In(vector_signature(self.shape, lanes)),
                          "o": Out(stream.Signature(self.layout.size))})

    def elaborate(self, platform):
        m = Module()
        cb = class_bits(self.n)
        logits = view(self.i.payload, self.shape, self.lanes)
        out = data.View(self.layout, self.o.payload)
        beat = Signal(range(max(2, self.beats)), name="beat")
        best = Signal(self.shape, name="best")
        best_idx = Signal(cb, name="best_idx")
        # The beat's own maximum (a tree over its lanes), its index counted in the vector.
        nodes = [(logits[k], Const(k, cb)) for k in range(self.lanes)]
        while len(nodes) > 1:
            nodes = merge_level(nodes)
        value, lane = nodes[0]
        index = Signal(cb, name="index")
        m.d.comb += index.eq(beat * self.lanes + lane)
        first, last = equals(beat, 0), equals(beat, self.beats - 1)
        take_it = first | (value > best)
        new_best, new_idx = Mux(take_it, value, best), Mux(take_it, index, best_idx)
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [best.eq(new_best), best_idx.eq(new_idx), self.o.valid.eq(last),
                         beat.eq(Mux(last, 0, beat + 1))]
            with m.If(last):
                m.d.sync += out.cls.eq(new_idx)
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m
