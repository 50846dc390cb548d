"""Small logic helpers that keep the emitted Verilog free of lint findings."""

from __future__ import annotations

__all__ = ["equals"]


def equals(value, constant: int):
    """``value == constant``; for 0 as a reduction, since Amaranth writes ``x == 0`` as
    ``!x``, which Verilator flags (WIDTHTRUNC) on a multi-bit ``x``."""
    return ~value.any() if constant == 0 else value == constant
