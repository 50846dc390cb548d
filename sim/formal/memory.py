"""A formal environment for an engine's external memory read port: any latency, any stall.

:class:`FreeMemory` wraps a component with an address stream ``mem_addr`` (out) and a
data stream ``mem_data`` (in), such as the SR-LUT engine with ``table="external"``, and
gives it a memory whose behaviour is free within the port's contract: it takes a request
when a free ``ready`` says so, and answers each request once, in order, after any number
of cycles, with a free word (it answers only requests it has taken). The engine's
``i``/``o`` are passed through, so :class:`~.streams.StreamHarness` checks them as usual;
the wrapper asserts the stream rules of ``mem_addr`` itself (``valid`` holds until
``ready``, the row number holds while the request waits, nothing is requested out of a
reset).
"""

from __future__ import annotations

from amaranth import Module, ResetSignal, Signal
from amaranth.asserts import AnySeq      # not (yet) in amaranth.hdl in 0.5
from amaranth.hdl import Assert
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["FreeMemory"]


class FreeMemory(wiring.Component):
    """``engine`` with its external memory port served by a free memory.

    Parameters
    ----------
    engine : wiring.Component
        With ``i``, ``o``, ``mem_addr`` (out) and ``mem_data`` (in).
    most : int
        The most requests the engine may have outstanding (the counter's range; asserted).

    Members
    -------
    i, o : as the engine's
    outstanding : Signal
        Requests taken and not yet answered.
    """

    def __init__(self, engine, most: int):
        self.engine, self.most = engine, most
        self.outstanding = Signal(range(most + 1), name="mem_outstanding")
        super().__init__({"i": In(engine.i.signature.flip()), "o": Out(engine.o.signature)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = engine = self.engine
        wiring.connect(m, wiring.flipped(self.i), engine.i)
        wiring.connect(m, engine.o, wiring.flipped(self.o))
        addr, data = engine.mem_addr, engine.mem_data
        take_ready, answer = AnySeq(1), AnySeq(1)
        m.d.comb += [addr.ready.eq(take_ready), data.payload.eq(AnySeq(len(data.payload))),
                     data.valid.eq(answer & (self.outstanding != 0))]
        request = addr.valid & addr.ready
        answered = data.valid & data.ready
        m.d.sync += self.outstanding.eq(self.outstanding + request - answered)
        m.d.comb += Assert(~request | answered | (self.outstanding != self.most),
                           "more requests outstanding than the memory counts")

        # The request stream's rules, as StreamHarness states them for ``o``.
        started = Signal(reset_less=True, name="mem_started")
        was_rst = Signal(reset_less=True, name="mem_was_rst")
        waiting = Signal(reset_less=True, name="mem_addr_waiting")
        held = Signal.like(addr.payload, reset_less=True, name="mem_addr_held")
        m.d.sync += [started.eq(1), was_rst.eq(ResetSignal()),
                     waiting.eq(addr.valid & ~addr.ready), held.eq(addr.payload)]
        with m.If(started & ~was_rst & waiting):
            m.d.comb += [Assert(addr.valid, "mem_addr.valid dropped before mem_addr.ready"),
                         Assert(addr.payload == held, "mem_addr.payload changed while stalled")]
        with m.If(was_rst | ~started):
            m.d.comb += Assert(~addr.valid, "mem_addr.valid high right after reset")
        return m
