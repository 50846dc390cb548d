"""Energy estimates from access counts, with the per-access figures they rest on.

Figures: M. Horowitz, "Computing's energy problem (and what we can do about
it)", ISSCC 2014, 45 nm, 0.9 V, as transcribed in ``shared/notes/energy.md``.
An estimate always carries its counts beside the total, so a reader can redo it
with other figures. Reads narrower than 64 bits are scaled linearly from the
64-bit figure: an approximation, said in every report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["SOURCE", "SRAM_READ_64B_PJ", "DRAM_64B_PJ", "ADD_PJ", "MUL_8B_PJ", "sram_read_pj",
           "EnergyLine", "add_pj", "mul_pj", "dram_pj"]

SOURCE = "Horowitz, ISSCC 2014, 45 nm (shared/notes/energy.md)"
# SRAM read of 64 bits by array size (bytes): use the row nearest above the array.
SRAM_READ_64B_PJ = ((8 * 1024, 10.0), (32 * 1024, 20.0), (1024 * 1024, 100.0))
DRAM_64B_PJ = 2000.0      # midpoint of 1.3-2.6 nJ
ADD_PJ = {8: 0.03, 32: 0.1}
MUL_8B_PJ = 0.2


def sram_read_pj(array_bytes: int, word_bits: int) -> float:
    """Energy of one ``word_bits`` read from an SRAM array of ``array_bytes``."""
    for size, pj in SRAM_READ_64B_PJ:
        if array_bytes <= size:
            return pj * word_bits / 64
    raise ValueError(f"array_bytes must be at most 1 MiB for these figures, got {array_bytes!r}")


def add_pj(bits: int) -> float:
    """An add (or compare, subtract, absolute value) of ``bits``: linear between the 8-bit
    and 32-bit figures (the notes' convention), extrapolated beyond them."""
    return ADD_PJ[8] + (bits - 8) * (ADD_PJ[32] - ADD_PJ[8]) / 24


def mul_pj(a_bits: int, b_bits: int) -> float:
    """A multiply of ``a_bits`` by ``b_bits``: the 8-bit figure scaled by the product of the
    widths (the notes' convention)."""
    return MUL_8B_PJ * a_bits * b_bits / 64


def dram_pj(nbytes: float) -> float:
    return DRAM_64B_PJ * nbytes / 8


@dataclass(frozen=True)
class EnergyLine:
    """One kind of access: how many, the figure per access, and the product."""
    what: str
    count: float
    pj_each: float

    @property
    def pj(self) -> float:
        return self.count * self.pj_each

    def to_dict(self) -> dict:
        return {**asdict(self), "pj": self.pj}
