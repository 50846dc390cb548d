"""ParallelLanes in Amaranth's simulator: lanes that stall at different times still pair up
beat for beat, pixels interleaved as video IP packs them."""

import random

import pytest
from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.hw.lanes import ParallelLanes
from edgeforge.sim.amaranth_stream import run_stream



class Jittery(wiring.Component):
    """One pixel in, two out (``x + lane``, ``~x``), stalling on a lane-specific pattern."""

    def __init__(self, lane: int, out_bits: int = 16):
        self.lane = lane
        super().__init__({"i": In(stream.Signature(8)), "o": Out(stream.Signature(out_bits))})

    def elaborate(self, platform):
        m = Module()
        lfsr = Signal(8, init=0x5A + 37 * self.lane)
        m.d.sync += lfsr.eq(Cat(lfsr[1:], lfsr[0] ^ lfsr[2] ^ lfsr[3] ^ lfsr[4]))
        busy = lfsr[0] & lfsr[self.lane + 1]
        m.d.comb += self.i.ready.eq((~self.o.valid | self.o.ready) & ~busy)
        with m.If(self.i.valid & self.i.ready):
            x = self.i.payload
            m.d.sync += [self.o.payload.eq(Cat((x + self.lane)[:8], ~x)), self.o.valid.eq(1)]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m


@pytest.mark.parametrize("p_valid, p_ready", [(1.0, 1.0), (0.6, 0.5), (0.9, 0.3)])
def test_lanes_stay_paired_under_uneven_stalls(p_valid, p_ready):
    lanes = 3
    rng = random.Random(5)
    pixels = [[rng.randrange(256) for _ in range(lanes)] for _ in range(300)]
    beats = [sum(v << (8 * c) for c, v in enumerate(px)) for px in pixels]
    dut = ParallelLanes([Jittery(c) for c in range(lanes)])
    outs = run_stream(dut, beats, len(beats), p_valid=p_valid, p_ready=p_ready, seed=3).outputs
    expected = []
    for px in pixels:
        first = [(v + c) & 255 for c, v in enumerate(px)]
        second = [~v & 255 for v in px]
        # Pixel k of lane c at bits 8 (k * lanes + c).
        expected.append(sum(v << (8 * n) for n, v in enumerate(first + second)))
    assert outs == expected


def _unused(*engines):
    # Engines a refused wrapper never elaborates: no UnusedElaboratable warning for them.
    for e in engines:
        e._MustUse__silence = True
    return list(engines)


def test_lanes_refuse_mismatched_engines():
    with pytest.raises(ValueError, match=r"^engines must have equal i and o payload widths, "
                                         r"got \[\(8, 8\), \(8, 16\)\]$"):
        ParallelLanes(_unused(Jittery(0), Jittery(1, out_bits=8)))
    with pytest.raises(ValueError, match=r"^engines must hold at least 2 engines, got 1$"):
        ParallelLanes(_unused(Jittery(0)))
    with pytest.raises(ValueError, match=r"^the engines' o payload must be a whole number of "
                                         r"8-bit pixels, got 12 bits$"):
        ParallelLanes(_unused(Jittery(0, out_bits=12), Jittery(1, out_bits=12)))
