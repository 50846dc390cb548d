"""Energy estimates from access counts, with the per-access figures they rest on.

Figures: M. Horowitz, "Computing's energy problem (and what we can do about
it)", ISSCC 2014, 45 nm, 0.9 V, as transcribed in ``shared/notes/energy.md``.
An estimate always carries its counts beside the total, so a reader can redo it
with other figures. Reads narrower than 64 bits are scaled linearly from the
64-bit figure: an approximation, said in every report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["SOURCE", "ASSUMPTIONS", "SRAM_READ_64B_PJ", "DRAM_64B_PJ", "ADD_PJ", "MUL_8B_PJ", "sram_read_pj", "estimate",
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


#: What :func:`estimate` assumes where the record does not say: stated in every report.
ASSUMPTIONS = ("an add of another width scales linearly between the 8- and 32-bit figures; a "
               "compare, subtract or absolute value is an add of its width; a multiply "
               "scales with the product of its widths from the 8-bit figure; a constant "
               "shift is free; SRAM reads narrower than 64 bits scale linearly (an "
               "approximation); a write costs a read of its word; a memory whose size the "
               "record does not give is costed at the smallest (8 KB) row; DRAM at the "
               "2 nJ midpoint")


def estimate(performance) -> dict:
    """Estimated energy per input of a design from its performance record alone: its
    operation lines (multiplies, adds), its traffic lines (SRAM reads and writes, by the
    memory's size) and its off-chip bytes, each line with its count beside the total.

    Returns ``{"lines": [...], "pj": {"on_chip", "off_chip", "total"}, "counted":
    bool, "source", "assumptions"}`` per input (an image, a frame); ``counted`` is False
    when the record lists no operations (then only memory and off-chip energy is in it).
    """
    lines = []
    for op in performance.operations:
        if op.op == "mul":
            pj = mul_pj(*op.bits)
        elif op.op == "add":
            pj = add_pj(op.bits[0])
        else:
            raise ValueError(f"operation op must be 'mul' or 'add', got {op.op!r} ({op.what})")
        bits = "x".join(str(b) for b in op.bits)
        lines.append(EnergyLine(f"{op.what} ({bits}-bit {op.op})", op.count, pj))
    for t in performance.traffic:
        size = SRAM_READ_64B_PJ[0][0] if t.array_bits is None else -(-t.array_bits // 8)
        for what, count in (("reads", t.reads), ("writes", t.writes)):
            if count:
                lines.append(EnergyLine(f"{t.memory} {what} ({t.word_bits}-bit word, "
                                        f"{'size not given' if t.array_bits is None else f'{size} B'})",
                                        count, sram_read_pj(size, t.word_bits)))
    on_chip = sum(line.pj for line in lines)
    offchip = [EnergyLine("off-chip bytes in (DRAM)", performance.offchip_bytes_in, dram_pj(1)),
               EnergyLine("off-chip bytes out (DRAM)", performance.offchip_bytes_out, dram_pj(1))]
    off_chip = sum(line.pj for line in offchip)
    return {"lines": [line.to_dict() for line in lines + offchip],
            "pj": {"on_chip": on_chip, "off_chip": off_chip, "total": on_chip + off_chip},
            "counted": bool(performance.operations), "source": SOURCE,
            "assumptions": ASSUMPTIONS}
