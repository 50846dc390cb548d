"""DeBut chains: the All-DeBut generator (paper Alg. 1/2, corrected) and a search for any shape.

Pure Python (no torch). Factors, validity and counts are the artifact contract's
(:mod:`edgeforge.schemes.network_debut`); every chain returned here has passed
:func:`~edgeforge.schemes.network_debut.check_chain`.

Both build chains that follow the stride rule (``t_1 = 1``, ``t_{k+1} = r_k t_k``, a
single block last). Such a chain is fixed by its block shapes ``(r_k, s_k)``: with
``R_k = r_1 ... r_k`` and ``S_k = s_k ... s_N``, ``p_N = R_N``, ``q_1 = S_1``, factor
``k`` is ``(R_k S_{k+1}, R_{k-1} S_k, r_k, s_k, R_{k-1})`` and holds ``R_k S_k``
nonzeros (as many MACs a vector, padded rows included: the hardware computes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from edgeforge.schemes.network_debut import Factor, chain_params, check_chain

__all__ = ["pow2_ceil", "chain_from_blocks", "paper_chain", "SearchResult", "search_chain"]


def pow2_ceil(n: int) -> int:
    """The least power of two at or above ``n``."""
    return 1 << max(0, int(n) - 1).bit_length()


def _count(name: str, value, least: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"{name} must be an integer of at least {least}, got {value!r}")
    return value


def chain_from_blocks(blocks) -> list[Factor]:
    """The stride-rule chain of block shapes ``[(r_1, s_1), ...]`` (input side first)."""
    blocks = [tuple(b) for b in blocks]
    r_prefix, out = 1, []
    for k, (r, s) in enumerate(blocks):
        s_suffix = 1
        for _, s_j in blocks[k + 1:]:
            s_suffix *= s_j
        out.append(Factor(r_prefix * r * s_suffix, r_prefix * s * s_suffix, r, s, r_prefix))
        r_prefix *= r
    return out


def paper_chain(c_out: int, c_in: int, kernel: int = 3, level: int = 6,
                bulging: bool = False) -> list[Factor]:
    """The All-DeBut generator's chain of ``level`` factors for a ``C_out x C_in x k x k`` conv.

    The matrix is ``H x W`` with ``H = C_out``, ``W = k^2 C_in``, both channel counts
    first rounded up to powers of two (zero padding; the public code skips this and
    then emits bad shapes). Input side first:

    1. ``(P C, k^2 C; P, k^2, 1)``, ``P`` the largest power of two ``<= k^2`` (``(8 C, 9 C;
       8, 9, 1)`` for 3x3; none for 1x1). Bulging (3x3 only) instead grows by 4/3 and
       shrinks back: ``(12 C, 9 C; 8, 6, 1)``, ``(8 C, 12 C; 2, 3, 8)`` (the public code's
       ``int(8 C 4/3)`` with ``(8, 6, 1)`` is neither divisible nor consistent);
    2. square ``(2, 2)`` factors of size ``P C``, ``t`` doubling;
    3. halving factors (``r, s = 1, 2``) down to ``2 H``: 2, 3 or 1 of them for ``C_out =
       C_in, C_in / 2, 2 C_in``;
    4. the closing single block ``(H, 2H; H/t, 2H/t, t)``.

    ``level`` counts all of them, so stage 2 gets what the others leave.

    Raises
    ------
    ValueError
        For ``C_out`` outside ``{C_in, C_in/2, 2 C_in}`` (after rounding: the paper's
        cases; :func:`search_chain` covers the rest), a bulging chain other than 3x3, or
        a level outside the range that gives a valid chain (named, with the range; the
        public code truncates the closing ``r`` to 0 instead).
    """
    _count("c_out", c_out)
    _count("c_in", c_in)
    _count("kernel", kernel)
    _count("level", level)
    c, h = pow2_ceil(c_in), pow2_ceil(c_out)
    if h not in (c, c // 2, 2 * c):
        raise ValueError(f"the paper's generator covers C_out in {{C_in, C_in/2, 2 C_in}} "
                         f"(after rounding to powers of two, C_in = {c}), got C_out {c_out!r}")
    kk = kernel * kernel
    if bulging:
        if kernel != 3 or c < 2:
            raise ValueError(f"the bulging chain is defined for 3x3 kernels and C_in >= 2, "
                             f"got kernel {kernel!r}, C_in {c_in!r}")
        head = [Factor(12 * c, 9 * c, 8, 6, 1), Factor(8 * c, 12 * c, 2, 3, 8)]
        width, t = 8 * c, 16
    else:
        big = 1 << (kk.bit_length() - 1)
        head = [Factor(big * c, kk * c, big, kk, 1)] if kk > 1 else []
        width, t = big * c, big
    halvings = (width // (2 * h)).bit_length() - 1
    squares = level - len(head) - halvings - 1
    # The closing factor needs t | H; t doubles with every square factor.
    most = len(head) + halvings + 1 + max(0, (h // t).bit_length() - 1)
    if squares < 0 or t << squares > h or 2 * h > width:
        least = len(head) + halvings + 1
        raise ValueError(f"level must be {least}..{most} for C_out {c_out}, C_in {c_in}, "
                         f"{kernel}x{kernel}{' bulging' if bulging else ''}, got {level!r}")
    chain = list(head)
    for _ in range(squares):
        chain.append(Factor(width, width, 2, 2, t))
        t *= 2
    for _ in range(halvings):
        chain.append(Factor(width // 2, width, 1, 2, t))
        width //= 2
    chain.append(Factor(h, 2 * h, h // t, 2 * h // t, t))
    return check_chain(chain, kk * c_in, c_out)


@dataclass(frozen=True)
class SearchResult:
    """The chain :func:`search_chain` found, with its padded ends and counts."""
    factors: tuple[Factor, ...]
    inputs: int
    outputs: int
    params: int
    dense_params: int

    @property
    def pad_in(self) -> int:
        return self.factors[0].q - self.inputs

    @property
    def pad_out(self) -> int:
        return self.factors[-1].p - self.outputs

    @property
    def ratio(self) -> float:
        """Parameters as a fraction of the dense layer's."""
        return self.params / self.dense_params


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _best_blocks(rows: int, cols: int, n: int, min_width: int):
    """Fewest nonzeros of an ``n``-factor stride-rule chain from ``cols`` to ``rows`` with every
    intermediate size at least ``min_width``: ``(params, blocks)`` or None.

    Dynamic programming over ``(factors left, R so far, S left)``: factor ``k`` costs
    ``R_{k-1} r_k S_k`` and leaves ``(R_{k-1} r_k, S_k / s_k)``.
    """
    @lru_cache(maxsize=None)
    def best(left: int, r_done: int, s_left: int):
        if left == 0:
            return (0, ()) if r_done == rows and s_left == 1 else None
        found = None
        for r in _divisors(rows // r_done):
            for s in _divisors(s_left):
                if r == s == 1:
                    continue                      # a diagonal factor adds nothing dense
                r_new, s_new = r_done * r, s_left // s
                if left > 1 and r_new * s_new < min_width:
                    continue
                rest = best(left - 1, r_new, s_new)
                if rest is None:
                    continue
                cost = r_done * r * s_left + rest[0]
                if found is None or cost < found[0]:
                    found = (cost, ((r, s),) + rest[1])
        return found

    return best(n, 1, cols)


def search_chain(outputs: int, inputs: int, kernel: int = 1, *, max_factors: int = 4,
                 factors: int | None = None, max_params: int | None = None,
                 min_width: int | None = None) -> SearchResult:
    """The valid chain with the fewest parameters (= MACs a vector) for a layer of any shape.

    Parameters
    ----------
    outputs, inputs : int
        ``C_out`` and ``C_in`` (a linear's features with ``kernel = 1``); the matrix is
        ``outputs x kernel^2 inputs``.
    kernel : int
    max_factors, factors : int
        Chains of ``1..max_factors`` factors, or exactly ``factors``.
    max_params : int, optional
        The target: refuse when the best chain holds more.
    min_width : int, optional
        The narrowest vector allowed between factors (default: the smaller padded end, so
        that no factor is a low-rank bottleneck).

    Each end is tried at its size and padded up to a power of two; the fewest
    parameters win, then the fewer factors, then the less padding.

    Raises
    ------
    ValueError
        For bad counts, or no chain within ``max_params`` (naming the best found).
    """
    _count("outputs", outputs)
    _count("inputs", inputs)
    _count("kernel", kernel)
    n_in = kernel * kernel * inputs
    counts = [_count("factors", factors)] if factors is not None else range(
        1, _count("max_factors", max_factors) + 1)
    best = None
    for rows in sorted({outputs, pow2_ceil(outputs)}):
        for cols in sorted({n_in, pow2_ceil(n_in)}):
            width = min(rows, cols) if min_width is None else min_width
            for n in counts:
                found = _best_blocks(rows, cols, n, width)
                if found is None:
                    continue
                key = (found[0], n, rows + cols)
                if best is None or key < best[0]:
                    best = (key, found[1])
    dense = outputs * n_in
    if best is None:
        raise ValueError(f"no chain of {list(counts)} factor(s) maps {n_in} inputs to "
                         f"{outputs} outputs with every vector at least {min_width!r} wide")
    chain = check_chain(chain_from_blocks(best[1]), n_in, outputs)
    params = chain_params(chain)
    if max_params is not None and params > max_params:
        raise ValueError(f"the fewest parameters of a chain for {outputs} x {n_in} are "
                         f"{params} (dense {dense}), above max_params {max_params!r}")
    return SearchResult(tuple(chain), n_in, outputs, params, dense)
