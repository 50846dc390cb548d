"""Stage arithmetic: pixel layout, the exact combination of a stage, floor by D, final rounding.

Every stage output is the integer ``N = clamp(w_msb S_msb + w_lsb S_lsb + N_centre, 0, n_max)``
(:class:`~edgeforge.schemes.hklut.HKLUTWidths`). Between stages a pixel travels as
``(q, rem)`` with ``N = D q + rem``: ``q`` indexes the next stage's tables and the
pair is the residual ``N`` itself. The image is ``round-half-to-even(N / D)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import Mux, unsigned
from amaranth.lib import data

from edgeforge.schemes.hklut import PIXEL_BITS, HKLUTWidths

__all__ = ["pixel_layout", "FloorDiv", "floor_div", "times", "centre", "clamp_n",
           "round_half_even"]


def pixel_layout(widths: HKLUTWidths) -> data.StructLayout:
    """One stage pixel ``N`` as ``q = N // D`` (8 bits) and ``rem = N % D``."""
    return data.StructLayout({"q": unsigned(PIXEL_BITS),
                              "rem": unsigned(max(1, (widths.denom - 1).bit_length()))})


@dataclass(frozen=True)
class FloorDiv:
    """``floor(n / denom) == (n * mult) >> shift`` for every ``n`` in ``0..n_max`` (checked)."""
    denom: int
    n_max: int
    mult: int
    shift: int

    @classmethod
    def derive(cls, denom: int, n_max: int) -> "FloorDiv":
        """The smallest shift whose rounded-up reciprocal is exact over ``0..n_max``.

        Raises
        ------
        ValueError
            If ``denom`` or ``n_max`` is not a positive integer.
        """
        if not isinstance(denom, int) or denom < 1:
            raise ValueError(f"denom must be a positive integer, got {denom!r}")
        if not isinstance(n_max, int) or n_max < 0:
            raise ValueError(f"n_max must be a non-negative integer, got {n_max!r}")
        shift = 0
        while True:
            mult = -(-(1 << shift) // denom)
            if all((n * mult) >> shift == n // denom for n in range(n_max + 1)):
                return cls(denom, n_max, mult, shift)
            shift += 1


def floor_div(n, fd: FloorDiv):
    """Amaranth expression ``n // D`` for ``0 <= n <= n_max``, as a multiply and a shift."""
    return (n * fd.mult) >> fd.shift


def times(x, k: int):
    """Amaranth expression ``k * x`` for a constant ``k >= 1`` as a sum of shifted copies of ``x``.

    The weights and ``D`` are small (a few set bits): a carry chain or two is faster on
    ECP5 than a MULT18X18D block, whose 4 ns delay dominated the stage's critical path.

    Raises
    ------
    ValueError
        If ``k`` is not a positive integer.
    """
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    terms = [x << i for i in range(k.bit_length()) if k >> i & 1]
    return sum(terms[1:], terms[0])


def centre(widths: HKLUTWidths, q, rem):
    """Amaranth expression: the residual ``N_prev = D q + rem`` of the centre pixel."""
    return times(q, widths.denom) + rem


def clamp_n(widths: HKLUTWidths, total):
    """Amaranth expression: signed ``total`` clamped to ``0..n_max`` (unsigned n_bits)."""
    clamped = Mux(total < 0, 0, Mux(total > widths.n_max, widths.n_max, total))
    return clamped.as_unsigned()[:widths.n_bits]


def round_half_even(q, rem, denom: int):
    """Amaranth expression: ``round-half-to-even((D q + rem) / D)`` as 8 bits.

    ``N <= 255 D`` keeps the result within 8 bits: ``q = 255`` implies ``rem = 0``.
    """
    twice = rem * 2
    up = (twice > denom) | ((twice == denom) & q[0])
    return (q + up)[:PIXEL_BITS]
