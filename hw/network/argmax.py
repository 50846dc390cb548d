"""Arg-max of a logit vector: the index of the largest value, the lowest index on a tie.

A balanced tree of 2-way compares over the logits in index order; each node
keeps its left (lower-index) input unless the right one is strictly greater,
so the lowest index of the maximum wins everywhere in the tree.
"""

from __future__ import annotations

from amaranth import Const, Module, Mux, Shape, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..logic import refuse_quietly
from .vectors import vector_signature, view

__all__ = ["class_bits", "argmax_tree", "output_layout", "ArgMax"]


def class_bits(n: int) -> int:
    """Bits of a class index ``0 .. n - 1`` (at least 1)."""
    return max(1, (n - 1).bit_length())


def argmax_tree(values, index_bits: int):
    """``(max, index)`` of the Amaranth values ``values``, lowest index on a tie."""
    nodes = [(v, Const(k, index_bits)) for k, v in enumerate(values)]
    while len(nodes) > 1:
        merged = []
        for a in range(0, len(nodes) - 1, 2):
            (lv, li), (rv, ri) = nodes[a], nodes[a + 1]
            right = rv > lv
            merged.append((Mux(right, rv, lv), Mux(right, ri, li)))
        if len(nodes) % 2:
            merged.append(nodes[-1])
        nodes = merged
    return nodes[0]


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
        logits = view(self.i.payload, self.shape, self.n)
        out = data.View(self.layout, self.o.payload)
        _, index = argmax_tree([logits[k] for k in range(self.n)], class_bits(self.n))
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.valid.eq(1), out.cls.eq(index)]
            if self.logit_bits is not None:
                m.d.sync += [out.logits[k].eq(logits[k]) for k in range(self.n)]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m
