"""Integer rounding shared by the LUT golden models (HKLUT, SR-LUT, MuLUT)."""

from __future__ import annotations

import numpy as np

__all__ = ["round_half_even"]


def round_half_even(n: np.ndarray, denom: int) -> np.ndarray:
    """round-half-to-even(n / denom) for integers ``n`` of either sign, in integers.

    ``np.divmod`` floors, so the remainder lies in ``0..denom-1`` for negative
    ``n`` too and one rule covers both signs (numpy's ``round`` of the exact
    quotient, which the authors' float code computes, gives the same).
    """
    q, rem = np.divmod(n, denom)
    up = (2 * rem > denom) | ((2 * rem == denom) & (q % 2 == 1))
    return q + up
