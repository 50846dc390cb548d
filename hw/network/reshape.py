"""Stream reshaping between engines: gather several beats into one vector, serialise one beat
into several, and a skid buffer that cuts the ready path between layers.

- :class:`Gather`: ``beats`` beats of ``lanes`` elements in, one vector of
  ``beats lanes`` elements out (beat ``b`` as elements ``b lanes ..``): a linear
  layer's input after flatten, and the ``NF`` neuron folds of a MAC core.
- :class:`Serialise`: one beat of ``count`` groups of ``lanes`` elements in,
  ``count`` beats out, group 0 first: input beats of several pixels into an
  engine that takes one pixel a beat.
- :class:`Skid`: a two-entry buffer whose ``i.ready`` is a register, so that
  ready does not ripple from the network's output back through every engine
  (that path was the ECP5 critical path of a folded digits-ref, 13 ns).
"""

from __future__ import annotations

from amaranth import Module, Mux, Shape, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..logic import check_count, equals, refuse_quietly
from .vectors import index_signal, vector_signature, view

__all__ = ["Gather", "Serialise", "Skid"]


class Gather(wiring.Component):
    """Collect ``beats`` input beats into one output vector.

    Parameters
    ----------
    shape : Shape
        Element shape.
    lanes, beats : int
        Elements an input beat, input beats an output beat.

    Members
    -------
    i : In(vector_signature(shape, lanes))
    o : Out(vector_signature(shape, lanes * beats))

    Takes a beat a cycle while the output register is free or leaving
    (``i.ready = ~o.valid | o.ready``); the vector is valid the cycle after its
    last beat.
    """

    @refuse_quietly
    def __init__(self, shape, lanes: int, beats: int):
        check_count("lanes", lanes)
        check_count("beats", beats)
        self.shape, self.lanes, self.beats = Shape.cast(shape), lanes, beats
        super().__init__({"i": In(vector_signature(self.shape, lanes)),
                          "o": Out(vector_signature(self.shape, lanes * beats))})

    def elaborate(self, platform):
        m = Module()
        count = index_signal(self.beats, "count")
        parts = view(self.o.payload, Shape(self.shape.width * self.lanes), self.beats)
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += self.o.valid.eq(equals(count, self.beats - 1))
            m.d.sync += count.eq(Mux(equals(count, self.beats - 1), 0, count + 1))
            for b in range(self.beats):
                with m.If(equals(count, b)):
                    m.d.sync += parts[b].eq(self.i.payload)
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m


class Serialise(wiring.Component):
    """Split each input beat into ``count`` output beats of ``lanes`` elements, lowest first.

    Parameters
    ----------
    shape : Shape
    lanes, count : int

    Members
    -------
    i : In(vector_signature(shape, lanes * count))
    o : Out(vector_signature(shape, lanes))

    One output beat a cycle; the next input beat is taken in the cycle the
    last part of this one leaves (``i.ready = ~full | (o.ready & last)``).
    """

    @refuse_quietly
    def __init__(self, shape, lanes: int, count: int):
        check_count("lanes", lanes)
        check_count("count", count)
        self.shape, self.lanes, self.count = Shape.cast(shape), lanes, count
        super().__init__({"i": In(vector_signature(self.shape, lanes * count)),
                          "o": Out(vector_signature(self.shape, lanes))})

    def elaborate(self, platform):
        m = Module()
        part_bits = self.shape.width * self.lanes
        # The held beat shifts down a part as each part leaves (no count-way multiplexer).
        held = Signal(self.i.payload.shape())
        part = index_signal(self.count, "part")
        last = equals(part, self.count - 1)
        m.d.comb += [self.o.payload.eq(held[:part_bits]),
                     self.i.ready.eq(~self.o.valid | (self.o.ready & last))]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [held.eq(self.i.payload), self.o.valid.eq(1), part.eq(0)]
        with m.Elif(self.o.valid & self.o.ready):
            m.d.sync += held.eq(held >> part_bits)
            with m.If(last):
                m.d.sync += [self.o.valid.eq(0), part.eq(0)]
            with m.Else():
                m.d.sync += part.eq(part + 1)
        return m


class Skid(wiring.Component):
    """A two-entry buffer: ``i.ready`` and ``o.valid`` both come from its fill count.

    Parameters
    ----------
    width : int
        Payload bits.

    Members
    -------
    i : In(stream.Signature(width))
    o : Out(stream.Signature(width))
    fill : Signal(range(3))
        The beats held (0, 1 or 2): named here so that a formal check can state the
        invariant ``fill <= 2`` that k-induction needs (:mod:`edgeforge.sim.formal`).

    A beat a cycle in and out; a beat taken in one cycle is offered the next.
    """

    @refuse_quietly
    def __init__(self, width: int):
        check_count("width", width)
        self.width = width
        super().__init__({"i": In(stream.Signature(width)), "o": Out(stream.Signature(width))})
        self.fill = Signal(range(3), name="count")   # the name the Verilog has always had

    def elaborate(self, platform):
        m = Module()
        head = Signal(self.width)       # the beat on offer
        spare = Signal(self.width)      # the beat taken while the head was blocked
        count = self.fill
        m.d.comb += [self.o.payload.eq(head), self.o.valid.eq(count != 0),
                     self.i.ready.eq(count != 2)]
        take = self.i.valid & self.i.ready
        give = self.o.valid & self.o.ready
        with m.If(take & ~give):
            m.d.sync += count.eq(count + 1)
            with m.If(equals(count, 0)):
                m.d.sync += head.eq(self.i.payload)
            with m.Else():
                m.d.sync += spare.eq(self.i.payload)
        with m.Elif(give & ~take):
            m.d.sync += [count.eq(count - 1), head.eq(spare)]
        with m.Elif(give & take):
            with m.If(equals(count, 1)):
                m.d.sync += head.eq(self.i.payload)
            with m.Else():
                m.d.sync += [head.eq(spare), spare.eq(self.i.payload)]
        return m
