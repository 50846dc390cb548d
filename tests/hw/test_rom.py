"""RomBank in Amaranth's simulator: every lane reads, data holds while en is low."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from edgeforge.hw.rom import RomBank


@pytest.mark.parametrize("reads,word_bits", [(1, 8), (2, 32), (3, 5), (4, 32), (8, 70)])
def test_every_lane_reads(reads, word_bits):
    rng = np.random.default_rng(reads)
    words = [int(v) for v in rng.integers(0, 1 << min(word_bits, 62), size=200)]
    words[-1] = (1 << word_bits) - 1            # the widest word survives
    dut = RomBank(words, word_bits, reads)
    assert dut.copies == -(-reads // 2)
    addresses = [[(7 * t + 31 * lane) % len(words) for lane in range(reads)] for t in range(40)]
    addresses.append([len(words) - 1] * reads)

    async def bench(ctx):
        ctx.set(dut.en, 1)
        for t, addrs in enumerate(addresses):
            for lane, a in enumerate(addrs):
                ctx.set(dut.addr[lane], a)
            await ctx.tick()
            for lane, a in enumerate(addrs):
                assert ctx.get(dut.data[lane]) == words[a], (t, lane)
        ctx.set(dut.en, 0)
        for lane in range(reads):
            ctx.set(dut.addr[lane], 0)
        await ctx.tick()
        for lane, a in enumerate(addresses[-1]):
            assert ctx.get(dut.data[lane]) == words[a]

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("words,bits,reads,message", [
    ([], 8, 1, r"^words must hold at least one entry, got \[\]$"),
    ([1, 256], 8, 1, r"^words must be unsigned and fit word_bits=8, got 256$"),
    ([1, -1], 8, 1, r"^words must be unsigned and fit word_bits=8, got -1$"),
    ([1], 0, 1, r"^word_bits must be a positive integer, got 0$"),
    ([1], 8, 0, r"^reads must be a positive integer, got 0$"),
])
def test_refusals(words, bits, reads, message):
    with pytest.raises(ValueError, match=message):
        RomBank(words, bits, reads)
