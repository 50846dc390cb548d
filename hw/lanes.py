"""Identical raster engines side by side, one lane of a wider stream each.

An RGB video beat carries the three channels of a pixel at once; running each
channel through its own engine keeps that format end to end (instead of
streaming channel planes one after another). Beats interleave pixel by pixel,
as video IP packs them: pixel ``k``, lane ``c`` of a beat sits at
``pixel_bits * (k * lanes + c)``.
"""

from __future__ import annotations

from amaranth import Cat, Module, Shape, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .logic import check_count, refuse_quietly

__all__ = ["ParallelLanes"]


def _payload_bits(engine, name: str) -> int:
    return Shape.cast(engine.signature.members[name].signature.members["payload"].shape).width


class ParallelLanes(wiring.Component):
    """``engines`` as one engine whose beats carry one lane per engine.

    Parameters
    ----------
    engines : sequence of wiring.Component
        Engines with ``i: In(stream.Signature(...))`` and ``o: Out(stream.Signature(...))``
        of the same payload widths, each a whole number of pixels.
    pixel_bits : int
        Bits of one pixel (8).

    Members
    -------
    i : In(stream.Signature(len(engines) * i_bits))
    o : Out(stream.Signature(len(engines) * o_bits))
        Pixel ``k`` of lane ``c`` at bits ``pixel_bits * (k * lanes + c)`` upwards.

    A beat goes into every engine (an engine that has taken it waits for the
    others; with identical engines in lockstep none ever waits), and an output
    beat leaves when every engine has its part. No cycle is added on either side.

    Raises
    ------
    ValueError
        For fewer than two engines, payload widths that differ between engines,
        or a payload width that is not a whole number of pixels.
    """

    @refuse_quietly
    def __init__(self, engines, *, pixel_bits: int = 8):
        engines = list(engines)
        check_count("pixel_bits", pixel_bits)
        if len(engines) < 2:
            raise ValueError(f"engines must hold at least 2 engines, got {len(engines)}")
        widths = {(_payload_bits(e, "i"), _payload_bits(e, "o")) for e in engines}
        if len(widths) != 1:
            raise ValueError(f"engines must have equal i and o payload widths, got {sorted(widths)}")
        (self.i_bits, self.o_bits), = widths
        for name, bits in (("i", self.i_bits), ("o", self.o_bits)):
            if bits % pixel_bits:
                raise ValueError(f"the engines' {name} payload must be a whole number of "
                                 f"{pixel_bits}-bit pixels, got {bits} bits")
        self.engines, self.pixel_bits = engines, pixel_bits
        n = len(engines)
        super().__init__({"i": In(stream.Signature(n * self.i_bits)),
                          "o": Out(stream.Signature(n * self.o_bits))})

    def _lane_pixels(self, flat, bits: int, lane: int) -> Value:
        """Lane ``lane``'s pixels of an interleaved beat, as that engine's payload."""
        n, px = len(self.engines), self.pixel_bits
        return Cat(flat[px * (k * n + lane):px * (k * n + lane + 1)] for k in range(bits // px))

    def elaborate(self, platform):
        m = Module()
        for c, engine in enumerate(self.engines):
            m.submodules[f"lane{c}"] = engine

        # -- fork: each engine takes the beat once; the beat is done when all have it ----
        taken = [Signal(name=f"taken{c}") for c in range(len(self.engines))]
        done = Cat(e.i.ready | t for e, t in zip(self.engines, taken)).all()
        m.d.comb += self.i.ready.eq(done)
        for c, (engine, t) in enumerate(zip(self.engines, taken)):
            m.d.comb += [Value.cast(engine.i.payload).eq(
                             self._lane_pixels(self.i.payload, self.i_bits, c)),
                         engine.i.valid.eq(self.i.valid & ~t)]
            with m.If(self.i.valid & done):
                m.d.sync += t.eq(0)
            with m.Elif(engine.i.valid & engine.i.ready):
                m.d.sync += t.eq(1)

        # -- join: a beat leaves when every engine offers its part -----------------------
        all_valid = Cat(e.o.valid for e in self.engines).all()
        m.d.comb += self.o.valid.eq(all_valid)
        for c, engine in enumerate(self.engines):
            m.d.comb += [engine.o.ready.eq(self.o.ready & all_valid),
                         self._lane_pixels(self.o.payload, self.o_bits, c).eq(
                             Value.cast(engine.o.payload))]
        return m
