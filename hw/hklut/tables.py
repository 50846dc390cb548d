"""Table banks: one HKLUT table in on-chip ROM with ``R`` synchronous reads per cycle.

``R = 1`` is one single-port copy, ``R = 2`` one dual-port copy, ``R = 2k``
``k`` dual-port copies (up to 8: 4 rotations of 4 adjacent pixels a cycle).
Each word is one ``r x r`` block of int8 entries, element
``(ey, ex)`` at bits ``[8 (ey r + ex) + 7 : 8 (ey r + ex)]``. The ROMs carry
``rom_style = "block"`` so that ECP5 maps them to block RAM (toolchain notes).
"""

from __future__ import annotations

import numpy as np
from amaranth import Module
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.hklut import TABLE_BITS

from ..logic import refuse_quietly

__all__ = ["READS_PER_TABLE", "PORTS_PER_COPY", "pack_table", "TableBank"]

# 4 rotations of up to 4 pixels a cycle (beyond 4 reads, pixels go 4 rotations at a time).
READS_PER_TABLE = (1, 2, 4, 8, 16)
PORTS_PER_COPY = 2            # block RAMs are at most dual-port


def pack_table(table: np.ndarray) -> list[int]:
    """ROM words of an int8 table ``(entries, r, r)``: one block per word, element 0 lowest."""
    table = np.asarray(table)
    if table.dtype != np.int8 or table.ndim != 3 or table.shape[1] != table.shape[2]:
        raise ValueError(f"table must be int8 of shape (entries, r, r), got {table.dtype} "
                         f"{table.shape!r}")
    flat = table.reshape(len(table), -1).view(np.uint8).astype(object)
    weights = [1 << (TABLE_BITS * e) for e in range(flat.shape[1])]
    return [int(sum(v * w for v, w in zip(row, weights))) for row in flat]


class TableBank(wiring.Component):
    """One table with ``reads`` synchronous read lanes (data one cycle after address).

    Parameters
    ----------
    table : numpy.ndarray
        int8 ``(entries, r, r)``.
    reads : int
        Read lanes, one of :data:`READS_PER_TABLE`.

    Members
    -------
    addr : In(ceil_log2(entries)).array(reads)
    data : Out(8 r r).array(reads)
        The block at last cycle's ``addr``, held while ``en`` is low.
    en : In(1)
        Read enable of every lane.
    """

    @refuse_quietly
    def __init__(self, table: np.ndarray, reads: int):
        if reads not in READS_PER_TABLE:
            raise ValueError(f"reads must be one of {READS_PER_TABLE}, got {reads!r}")
        self._words = pack_table(table)
        self.entries = len(self._words)
        self.block_bits = TABLE_BITS * table.shape[1] * table.shape[2]
        self.reads = reads
        super().__init__({"addr": In(range(self.entries)).array(reads),
                          "data": Out(self.block_bits).array(reads),
                          "en": In(1)})

    def elaborate(self, platform):
        m = Module()
        copies = -(-self.reads // PORTS_PER_COPY)
        for c in range(copies):
            rom = memory.Memory(shape=self.block_bits, depth=self.entries, init=self._words,
                                attrs={"rom_style": "block"})
            m.submodules[f"copy{c}"] = rom
            for lane in range(c * PORTS_PER_COPY, min(self.reads, (c + 1) * PORTS_PER_COPY)):
                port = rom.read_port(domain="sync", transparent_for=())
                m.d.comb += [port.addr.eq(self.addr[lane]), port.en.eq(self.en),
                             self.data[lane].eq(port.data)]
        return m
