"""Formal harnesses for components with valid/ready stream ports.

:class:`StreamHarness` wraps a component whose stream ports are ``i`` (in) and ``o``
(out) (Amaranth's ``stream.Signature``), drives the inputs from free variables and
states, as ``Assert`` / ``Assume`` statements:

- the stream rules (``docs/stdlib/stream.rst``), assumed of the source and asserted
  of the component's output: once ``valid`` is high it stays high until ``ready``, and
  the payload holds while the beat waits;
- nothing moves in reset: the cycle after a reset cycle the output offers nothing
  (the reset is a free input: it may come at any cycle);
- beat conservation (``ratio=(ins, outs)``: every ``ins`` input beats entitle ``outs``
  output beats): the outputs never outnumber what the inputs taken so far entitle;
- progress (``response=N``): with a source that always offers a beat and a sink that is
  never stalled for more than ``stall`` cycles in a row, an owed output comes within
  ``N`` cycles of the last one (or of being owed);
- a frame's outputs on time (``frame=N``, ``deadlines``): from reset (and no reset after
  it), a source that offers exactly ``N`` beats, one in every cycle until they are
  taken, and a sink stalled at most ``stall`` cycles running; by each deadline
  ``(count, cycle)`` (cycles since reset, from the cycle model) at least ``count``
  outputs have come;
- beats in flight (``in_flight=f``, :mod:`.inflight`): a register ``owed`` (``+ a`` an
  input beat, ``- b`` an output beat) equals what the component holds, a count read from
  its registers, and is never negative: conservation that k-induction can prove.

The past values these need are reset-less registers of the harness; the counters are
reset with the component, so a reset empties both. The stream rules and the reset rule
are stated without counters, so that k-induction can prove them (a design that freezes
while its output is stalled holds them by 1-induction); the counting ones are for
bounded model checking, or for ``in_flight``, which replaces the counters by the
difference the component must account for.
"""

from __future__ import annotations

from amaranth import Elaboratable, Module, Mux, ResetSignal, Signal, signed
from amaranth.hdl import Assert, Assume

from .inflight import Prebuilt, elaborate

__all__ = ["StreamHarness"]


class StreamHarness(Elaboratable):
    """A component under the stream rules, beat conservation and progress.

    Parameters
    ----------
    dut : wiring.Component
        With an input stream ``i`` and an output stream ``o``.
    ratio : tuple of int, optional
        ``(ins, outs)``: ``outs`` output beats per ``ins`` input beats. Adds the beat
        conservation assertion (and the counters it needs).
    response : int, optional
        Adds the progress assertion: owed outputs come within ``response`` cycles. Also
        assumes a source that offers a beat in every cycle out of reset and a sink that
        never stalls for more than ``stall`` cycles running. Needs ``ratio``.
    stall : int
        The sink's longest stall under ``response`` (0: always ready).
    count_bits : int
        Width of the beat counters (the BMC depth must not overflow them).
    invariants : callable, optional
        ``f(dut)`` giving ``(condition, message)`` pairs on the component's state, asserted
        in every cycle: what k-induction needs where an unreachable state (a counter
        value out of its range) would break the stream rules.
    in_flight : callable, optional
        ``f(fragment, dut) -> (held, (a, b))`` (:func:`.inflight.engine_in_flight`):
        ``held`` (an :class:`~.inflight.Held`) is what the component holds, in units of
        which an input beat entitles ``a`` and an output beat takes ``b``. The component
        is elaborated here (its registers are named in the assertions); asserts
        ``owed == held.count``, ``owed >= 0`` and ``held.facts``.
    owed_bits : int
        Width of ``owed`` (signed; a wrap shows as a mismatch).
    frame : int, optional
        The source offers this many beats, then nothing (needs ``ratio``).
    deadlines : sequence of (int, int)
        With ``frame``: ``(count, cycle)``, at least ``count`` outputs by ``cycle``.
    payloads : bool
        Also assert that the output payload holds while stalled. ``False`` leaves the
        payloads out of every assertion, so that yosys drops the datapath (logic no
        assertion reads) and the solver carries only the control: what makes a BMC deep
        enough for a whole frame affordable.

    Members
    -------
    ports : list of Signal
        The free inputs (source valid and payload, sink ready) and the counters, for
        :func:`~edgeforge.sim.formal.sby.run_sby` and the trace.
    """

    def __init__(self, dut, *, ratio: tuple[int, int] | None = None, response: int | None = None,
                 stall: int = 0, count_bits: int = 10, invariants=None, in_flight=None,
                 owed_bits: int = 16, frame: int | None = None, deadlines=(),
                 payloads: bool = True):
        if response is not None and ratio is None:
            raise ValueError(f"response needs a ratio, got ratio {ratio!r} response {response!r}")
        if ratio is not None and (len(ratio) != 2 or min(ratio) < 1):
            raise ValueError(f"ratio must be (ins, outs) of positive integers, got {ratio!r}")
        if (frame is not None or deadlines) and (ratio is None or response is not None
                                                 or frame is None or frame < 1):
            raise ValueError(f"frame needs a ratio, no response and a positive beat count, "
                             f"deadlines a frame; got frame {frame!r} deadlines {deadlines!r}")
        self.dut, self.ratio, self.response, self.stall = dut, ratio, response, stall
        self.frame, self.deadlines, self.payloads = frame, tuple(deadlines), payloads
        self.cycle = Signal(count_bits, name="cycles_since_reset")
        self.invariants, self.in_flight = invariants, in_flight
        self.owed = Signal(signed(owed_bits), name="owed")
        width_i = len(dut.i.payload)
        self.i_valid, self.i_payload = Signal(name="src_valid"), Signal(width_i, name="src_payload")
        self.o_ready = Signal(name="sink_ready")
        self.taken = Signal(count_bits, name="beats_in")
        self.given = Signal(count_bits, name="beats_out")
        self.entitled = Signal(count_bits, name="beats_entitled")
        self.ports = [self.i_valid, self.i_payload, self.o_ready, self.taken, self.given,
                      self.entitled] + ([self.owed] if in_flight else []) + (
                      [self.cycle] if frame else [])

    def elaborate(self, platform):
        m = Module()
        dut = self.dut
        if self.in_flight is None:
            m.submodules.dut = dut
        else:
            fragment = elaborate(dut, platform)
            m.submodules.dut = Prebuilt(fragment)
            held, units = self.in_flight(fragment, dut)
        i, o = dut.i, dut.o
        m.d.comb += [i.valid.eq(self.i_valid), i.payload.eq(self.i_payload),
                     o.ready.eq(self.o_ready)]
        rst = ResetSignal()

        # Past values: reset-less, so that a reset cycle is seen afterwards. ``started`` is
        # low in the initial state only (which is the reset state: every register starts at
        # its reset value).
        started = Signal(reset_less=True, name="started")
        was_rst = Signal(reset_less=True, name="was_rst")
        i_wait = Signal(reset_less=True, name="src_waiting")
        o_wait = Signal(reset_less=True, name="out_waiting")
        i_held = Signal.like(i.payload, reset_less=True, name="src_held")
        o_held = Signal.like(o.payload, reset_less=True, name="out_held")
        m.d.sync += [started.eq(1), was_rst.eq(rst), i_wait.eq(i.valid & ~i.ready),
                     o_wait.eq(o.valid & ~o.ready), i_held.eq(i.payload), o_held.eq(o.payload)]
        live = started & ~was_rst          # the last edge was a normal clock (no reset)

        # -- the source follows the stream rules (assumed), the component must (asserted).
        with m.If(live & i_wait):
            m.d.comb += Assume(i.valid)
            if self.payloads:
                m.d.comb += Assume(i.payload == i_held)
        with m.If(live & o_wait):
            m.d.comb += Assert(o.valid, "o.valid dropped before o.ready")
            if self.payloads:
                m.d.comb += Assert(o.payload == o_held, "o.payload changed while stalled")
        # -- nothing moves in reset: out of a reset the output offers nothing.
        with m.If(was_rst | ~started):
            m.d.comb += Assert(~o.valid, "o.valid high right after reset")

        for condition, message in (self.invariants(dut) if self.invariants else ()):
            m.d.comb += Assert(condition, message)
        if self.ratio is not None:
            self._conservation(m, i, o, rst)
        if self.in_flight is not None:
            self._in_flight(m, i, o, held, units)
        return m

    def _in_flight(self, m, i, o, held, units):
        a, b = units
        take, give = i.valid & i.ready, o.valid & o.ready
        m.d.sync += self.owed.eq(self.owed + Mux(take, a, 0) - Mux(give, b, 0))
        m.d.comb += Assert(self.owed >= 0, "more outputs than the inputs entitle")
        m.d.comb += Assert(self.owed == held.count,
                           "owed outputs != what the engine holds (a beat lost or made up)")
        for condition, message in held.facts:
            m.d.comb += Assert(condition, message)

    def _conservation(self, m, i, o, rst):
        ins, outs = self.ratio
        take = i.valid & i.ready
        give = o.valid & o.ready
        phase = Signal(range(max(2, ins)), name="group_phase")
        m.d.sync += [self.taken.eq(self.taken + take), self.given.eq(self.given + give)]
        with m.If(take):
            if ins == 1:
                m.d.sync += self.entitled.eq(self.entitled + outs)
            else:
                with m.If(phase == ins - 1):
                    m.d.sync += [phase.eq(0), self.entitled.eq(self.entitled + outs)]
                with m.Else():
                    m.d.sync += phase.eq(phase + 1)
        m.d.comb += Assert(self.given <= self.entitled, "more outputs than the inputs entitle")
        if self.frame is not None:
            self._frame(m, rst)
        if self.response is None:
            return
        # A fair environment: the source always offers, the sink stalls at most ``stall``
        # cycles running.
        with m.If(~rst):
            m.d.comb += Assume(self.i_valid)
        self._fair_sink(m)
        # Cycles an owed output has waited (since the last output, or since it was owed).
        waited = Signal(range(self.response + 2), name="owed_waited")
        owed = self.entitled > self.given
        with m.If(give | ~owed):
            m.d.sync += waited.eq(0)
        with m.Elif(waited <= self.response):
            m.d.sync += waited.eq(waited + 1)
        m.d.comb += Assert(waited <= self.response, "an owed output did not come in time")

    def _fair_sink(self, m):
        """Assume a sink that stalls at most ``stall`` cycles running."""
        stalled = Signal(range(self.stall + 2), name="sink_stalled")
        with m.If(self.o_ready):
            m.d.sync += stalled.eq(0)
        with m.Else():
            m.d.sync += stalled.eq(stalled + 1)
        m.d.comb += Assume(self.o_ready | (stalled < self.stall))

    def _frame(self, m, rst):
        """One frame of ``frame`` beats from a source that offers them back to back, a fair
        sink, and the outputs counted against the deadlines. No reset after the initial
        state (which is the reset state): a later one would only restart the frame, and
        without it a sink that is always ready leaves the control with no free input, so
        the BMC follows one trace (for every payload and table content) at the cost of a
        simulation instead of searching where a reset could fall."""
        m.d.comb += [Assume(~rst), Assume(self.i_valid == (self.taken < self.frame))]
        self._fair_sink(m)
        top = (1 << len(self.cycle)) - 1
        with m.If(self.cycle != top):
            m.d.sync += self.cycle.eq(self.cycle + 1)
        for count, by in self.deadlines:
            if by >= top:
                raise ValueError(f"deadline cycle {by} needs more than count_bits "
                                 f"{len(self.cycle)} bits")
            with m.If(self.cycle >= by):
                m.d.comb += Assert(self.given >= count,
                                   f"fewer than {count} outputs by cycle {by}")
