"""HKLUT tables in on-chip ROM: one :class:`~edgeforge.hw.rom.RomBank` per table.

``R`` reads per cycle: ``R = 1`` is one single-port copy, ``R = 2`` one dual-port
copy, ``R = 2k`` ``k`` dual-port copies (up to 8: 4 rotations of 4 adjacent pixels
a cycle). Each word is one ``r x r`` block of int8 entries, element ``(ey, ex)`` at
bits ``[8 (ey r + ex) + 7 : 8 (ey r + ex)]``.
"""

from __future__ import annotations

import numpy as np

from edgeforge.schemes.hklut import TABLE_BITS

from ..rom import RomBank

__all__ = ["READS_PER_TABLE", "pack_table", "table_bank"]

# 4 rotations of up to 4 pixels a cycle (beyond 4 reads, pixels go 4 rotations at a time).
READS_PER_TABLE = (1, 2, 4, 8, 16)


def pack_table(table: np.ndarray) -> list[int]:
    """ROM words of an int8 table ``(entries, r, r)``: one block per word, element 0 lowest."""
    table = np.asarray(table)
    if table.dtype != np.int8 or table.ndim != 3 or table.shape[1] != table.shape[2]:
        raise ValueError(f"table must be int8 of shape (entries, r, r), got {table.dtype} "
                         f"{table.shape!r}")
    flat = table.reshape(len(table), -1).view(np.uint8).astype(object)
    weights = [1 << (TABLE_BITS * e) for e in range(flat.shape[1])]
    return [int(sum(v * w for v, w in zip(row, weights))) for row in flat]


def table_bank(table: np.ndarray, reads: int) -> RomBank:
    """The ROM of one int8 table ``(entries, r, r)`` with ``reads`` read lanes, one block a
    word (``8 r r`` bits)."""
    if reads not in READS_PER_TABLE:
        raise ValueError(f"reads must be one of {READS_PER_TABLE}, got {reads!r}")
    return RomBank(pack_table(table), TABLE_BITS * table.shape[1] * table.shape[2], reads)
