"""The simplex of a kernel's LSBs in logic: a rank sorter, the vertex rows and their weights.

Sorting n LSBs by pairwise comparison (one comparator per pair, n(n-1)/2: 6 for
a 2x2 kernel, 3 for 1x3): input i's rank is the number of inputs that precede
it, those with a larger LSB or an equal one earlier in input order. That order
is the golden model's stable sort (:func:`edgeforge.sim.golden.srlut.simplex`),
so the vertex rows are the same, not only the sum. Vertex j sets the MSB + 1
bit of the inputs ranked below j: its row is ``base + sum_i [rank_i < j] *
stride_i``; the weights are the gaps of the sorted LSBs.
"""

from __future__ import annotations

from amaranth import Cat, Const, Mux

from ..logic import equals

__all__ = ["ranks", "vertex_rows", "weights"]


def ranks(lsbs: list) -> list:
    """Rank of each input (0 = largest LSB, ties in input order): Amaranth expressions."""
    n = len(lsbs)
    out = []
    for i in range(n):
        before = [(lsbs[j] >= lsbs[i]) if j < i else (lsbs[j] > lsbs[i])
                  for j in range(n) if j != i]
        total = before[0]
        for b in before[1:]:
            total = total + b
        out.append(total)
    return out


def vertex_rows(msbs: list, rank: list, nodes: int) -> list:
    """Table rows of the ``n + 1`` vertices: base row plus the strides of the inputs ranked below j."""
    n = len(msbs)
    strides = [nodes ** (n - 1 - i) for i in range(n)]
    base = msbs[0] * strides[0]
    for m, s in zip(msbs[1:], strides[1:]):
        base = base + m * s
    rows = [base]
    for j in range(1, n + 1):
        step = Const(0)
        for r, s in zip(rank, strides):
            step = step + Mux(r < j, s, 0)
        rows.append(base + step)
    return rows


def weights(lsbs: list, rank: list, interval: int) -> list:
    """The ``n + 1`` weights ``q - f(0), f(0) - f(1), ..., f(n-1)`` of the sorted LSBs ``f``."""
    n = len(lsbs)
    ordered = []
    for j in range(n):
        value = Const(0, len(Cat(lsbs[0])))
        for f, r in zip(lsbs, rank):
            value = value | Mux(equals(r, j), f, 0)
        ordered.append(value)
    out = [interval - ordered[0]]
    out += [ordered[j - 1] - ordered[j] for j in range(1, n)]
    out.append(ordered[-1])
    return out
