"""On-chip ROM with several synchronous read lanes: the one table memory every engine uses.

``reads = 1`` is one single-port copy, ``2`` one dual-port copy, ``2k`` ``k``
dual-port copies (block RAMs are at most dual-port). The ROMs carry
``rom_style = "block"`` so that ECP5 maps them to block RAM (toolchain notes);
iCE40 infers SB_RAM40_4K from the synchronous read either way.

Elaborated for a platform with ``free_tables`` set (the formal checks'
:class:`~edgeforge.sim.formal.sby.FormalPlatform`), a ROM reads a free value instead
of its word, with the same timing: a proof then holds for every table content.
"""

from __future__ import annotations

from amaranth import Module
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from .logic import check_count, refuse_quietly

__all__ = ["PORTS_PER_COPY", "RomBank"]

PORTS_PER_COPY = 2


class RomBank(wiring.Component):
    """``words`` in ROM with ``reads`` synchronous read lanes (data one cycle after address).

    Parameters
    ----------
    words : sequence of int
        Unsigned ROM words, entry 0 first, each below ``2**word_bits``.
    word_bits : int
    reads : int
        Read lanes (each is one port; ``ceil(reads / 2)`` copies of the ROM).

    Members
    -------
    addr : In(range(len(words))).array(reads)
    data : Out(word_bits).array(reads)
        The word at last cycle's ``addr``, held while ``en`` is low.
    en : In(1)
        Read enable of every lane: a read is a cycle with ``en`` high, on every lane.

    Raises
    ------
    ValueError
        For no words, a word that is negative or wider than ``word_bits``, or a lane or
        width count below 1.
    """

    @refuse_quietly
    def __init__(self, words, word_bits: int, reads: int = 1):
        check_count("word_bits", word_bits)
        check_count("reads", reads)
        words = [int(w) for w in words]
        if not words:
            raise ValueError("words must hold at least one entry, got []")
        bad = next((w for w in words if w < 0 or w >> word_bits), None)
        if bad is not None:
            raise ValueError(f"words must be unsigned and fit word_bits={word_bits}, got {bad!r}")
        self.words, self.word_bits, self.reads = words, word_bits, reads
        super().__init__({"addr": In(range(len(words))).array(reads),
                          "data": Out(word_bits).array(reads),
                          "en": In(1)})

    @property
    def copies(self) -> int:
        return -(-self.reads // PORTS_PER_COPY)

    def elaborate(self, platform):
        m = Module()
        if getattr(platform, "free_tables", False):
            from amaranth.asserts import AnySeq   # not (yet) in amaranth.hdl in 0.5
            for lane in range(self.reads):
                with m.If(self.en):
                    m.d.sync += self.data[lane].eq(AnySeq(self.word_bits))
            return m
        for c in range(self.copies):
            rom = memory.Memory(shape=self.word_bits, depth=len(self.words), init=self.words,
                                attrs={"rom_style": "block"})
            m.submodules[f"copy{c}"] = rom
            for lane in range(c * PORTS_PER_COPY, min(self.reads, (c + 1) * PORTS_PER_COPY)):
                port = rom.read_port(domain="sync", transparent_for=())
                m.d.comb += [port.addr.eq(self.addr[lane]), port.en.eq(self.en),
                             self.data[lane].eq(port.data)]
        return m
