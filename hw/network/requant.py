"""Requantisation by shift: ``y = clip((acc + (1 << (shift - 1))) >> shift, lo, hi)``.

Round half up (the shift floors, on two's complement), then saturate to the
layer's clip range (``[0, 2**out_bits - 1]`` with a fused relu, the signed
``out_bits`` range without). No multiplier: a shift, an add and two compares.
"""

from __future__ import annotations

from amaranth import Module, Mux, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..logic import refuse_quietly
from .vectors import vector_signature, view

__all__ = ["requantise", "Requant"]


def requantise(acc, shift: int, lo: int, hi: int):
    """The requantised value of the expression ``acc`` (a signed Amaranth value).

    Only the bounds the rounded value's shape can cross are compared, so that no
    compare is constant (Verilator's CMPCONST).
    """
    rounded = (acc + (1 << (shift - 1))) >> shift if shift else acc
    shape = Shape.cast(rounded.shape())
    low = -(1 << (shape.width - 1)) if shape.signed else 0
    high = (1 << (shape.width - (1 if shape.signed else 0))) - 1
    value = rounded
    if high > hi:
        value = Mux(rounded > hi, hi, value)
    if low < lo:
        value = Mux(rounded < lo, lo, value)
    return value


class Requant(wiring.Component):
    """Requantise ``lanes`` accumulators a beat (one register stage).

    Parameters
    ----------
    acc_bits : int
        Signed accumulator width.
    lanes : int
    shift : int
    clip : tuple of int
        ``(lo, hi)`` saturation bounds.
    out_shape : Shape
        Element shape of the results (it holds ``clip``'s part that the
        accumulator range reaches: the derived output range).

    Members
    -------
    i : In(vector_signature(signed(acc_bits), lanes))
    o : Out(vector_signature(out_shape, lanes))

    One beat a cycle; latency one cycle; ``i.ready`` is ``~o.valid | o.ready``.
    """

    @refuse_quietly
    def __init__(self, acc_bits: int, lanes: int, shift: int, clip, out_shape):
        lo, hi = clip
        if lo > hi or shift < 0:
            raise ValueError(f"clip must be (lo, hi) with lo <= hi and shift >= 0, got "
                             f"clip {clip!r} shift {shift!r}")
        self.acc_bits, self.lanes, self.shift, self.clip = acc_bits, lanes, shift, (lo, hi)
        self.out_shape = Shape.cast(out_shape)
        super().__init__({"i": In(vector_signature(signed(acc_bits), lanes)),
                          "o": Out(vector_signature(self.out_shape, lanes))})

    def elaborate(self, platform):
        m = Module()
        accs = view(self.i.payload, signed(self.acc_bits), self.lanes)
        outs = view(self.o.payload, self.out_shape, self.lanes)
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += self.o.valid.eq(1)
            for lane in range(self.lanes):
                y = Signal(self.out_shape, name=f"y{lane}")
                m.d.comb += y.eq(requantise(accs[lane], self.shift, *self.clip))
                m.d.sync += outs[lane].eq(y)
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m
