"""The memory probe: enable-high cycles of every memory port, counted in Amaranth's simulator."""

import re

import pytest
from amaranth import Module, Signal
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import In

from edgeforge.hw.rom import RomBank
from edgeforge.sim.memory_probe import MemoryCount, MemoryProbe, find_memories, simulator


class Scratch(wiring.Component):
    """A ROM bank of 3 lanes (two copies, one shared enable) beside a RAM of two 4-bit lanes
    with a byte-lane write enable; the testbench drives every enable."""
    rom_en: In(1)
    ram_we: In(2)
    ram_re: In(1)

    def __init__(self, read_domain="sync"):
        self.read_domain = read_domain
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.rom = rom = RomBank([1, 2, 3, 4], 3, reads=3)
        m.d.comb += rom.en.eq(self.rom_en)
        m.submodules.ram = ram = memory.Memory(shape=data.ArrayLayout(4, 2), depth=4, init=[])
        write = ram.write_port(granularity=1)
        read = ram.read_port(domain=self.read_domain)
        m.d.comb += write.en.eq(self.ram_we)
        if self.read_domain != "comb":
            m.d.comb += read.en.eq(self.ram_re)
        keep = Signal()
        m.d.sync += keep.eq(read.data.as_value().any() | rom.data[0].any())
        return m


def measure(pattern):
    """Counts after driving ``pattern``: one (rom_en, ram_we, ram_re) a cycle, then all low."""
    dut = Scratch()
    probe = MemoryProbe(dut)

    async def bench(ctx):
        for rom_en, ram_we, ram_re in pattern:
            ctx.set(dut.rom_en, rom_en)
            ctx.set(dut.ram_we, ram_we)
            ctx.set(dut.ram_re, ram_re)
            await ctx.tick()
        ctx.set(dut.rom_en, 0)
        ctx.set(dut.ram_we, 0)
        ctx.set(dut.ram_re, 0)
        await ctx.tick().repeat(5)

    sim = probe.simulator()
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return {c.path: c for c in probe.counts()}


PATTERN = [(1, 0b00, 0), (1, 0b01, 1), (0, 0b10, 1), (1, 0b11, 0), (0, 0b00, 1), (1, 0b00, 0)]


def test_every_port_counts_its_enable_high_cycles():
    counts = measure(PATTERN)
    rom_cycles = sum(p[0] for p in PATTERN)
    # The bank's 3 lanes share one enable: each lane's port reads in each enabled cycle.
    assert counts[("rom", "copy0")] == MemoryCount(("rom", "copy0"), 3, (rom_cycles,) * 2, ())
    assert counts[("rom", "copy1")] == MemoryCount(("rom", "copy1"), 3, (rom_cycles,), ())
    # A write is a cycle with any lane's write enable high.
    writes = sum(1 for p in PATTERN if p[1])
    assert counts[("ram",)] == MemoryCount(("ram",), 8, (sum(p[2] for p in PATTERN),), (writes,))


def test_one_more_enabled_cycle_is_one_more_access():
    # Exact counts, not estimates: one cycle more on one enable moves that count by one alone.
    base = measure(PATTERN)
    more = measure(PATTERN + [(0, 0b00, 1)])
    assert more[("ram",)].reads == (base[("ram",)].reads[0] + 1,)
    assert more[("ram",)].writes == base[("ram",)].writes
    assert [more[k] for k in more if k != ("ram",)] == [base[k] for k in base if k != ("ram",)]


def test_lines_sum_memories_by_name():
    dut = Scratch()
    probe = MemoryProbe(dut)
    assert list(find_memories(probe.fragment)) == [("rom", "copy0"), ("rom", "copy1"), ("ram",)]
    lines = probe.lines(lambda path: path[0])
    assert [(t.memory, t.word_bits, t.reads, t.writes) for t in lines] == [("rom", 3, 0, 0),
                                                                           ("ram", 8, 0, 0)]
    with pytest.raises(ValueError, match=r"^memories of line 'all' must share a word width, "
                                         r"got 3 and 8 bits at 'ram'$"):
        probe.lines(lambda path: "all")


def test_refusals():
    with pytest.raises(ValueError, match=r"^read ports must be synchronous to count reads, got an "
                                         r"asynchronous one in memory 'ram'$"):
        MemoryProbe(Scratch(read_domain="comb"))
    with pytest.raises(ValueError, match=r"^design must hold at least one "
                                         r"amaranth\.lib\.memory\.Memory, got none in 'Module'$"):
        MemoryProbe(Module())
    with pytest.raises(ValueError, match=re.escape("probe must be of the simulated design, "
                                                   "got one of 'Scratch'") + "$"):
        other = Scratch()
        other._MustUse__silence = True      # refused before it is simulated, on purpose
        simulator(other, MemoryProbe(Scratch()))
