"""Golden model of the smoke design: a table lookup."""

import numpy as np

__all__ = ["lookup"]


def lookup(table: np.ndarray, addresses: np.ndarray) -> np.ndarray:
    """``table[addresses]``, refusing addresses outside the table (no silent wrap)."""
    addresses = np.asarray(addresses)
    if addresses.dtype.kind not in "ui":
        raise TypeError(f"addresses must be integers, got dtype {addresses.dtype}")
    if addresses.size and (addresses.min() < 0 or addresses.max() >= len(table)):
        raise ValueError(f"addresses must lie in 0..{len(table) - 1}, got "
                         f"[{addresses.min()}, {addresses.max()}]")
    return table[addresses]
