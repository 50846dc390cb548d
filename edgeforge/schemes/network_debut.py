"""The ``"debut"`` transform kind of the network scheme: DeBut factors, chains and their widths.

A deformable-butterfly factor ``R(p, q; r, s, t)`` (Lin et al., NeurIPS 2021) is
a ``p x q`` matrix, block-diagonal with ``a = p / (r t) = q / (s t)`` blocks, each
block an ``r x s`` grid of ``t x t`` diagonal matrices::

    R[b r t + i t + d, b s t + c t + d] = theta[b, d, i, c]     b < a, i < r, c < s, d < t

so output ``j = b r t + i t + d`` reads the ``s`` inputs ``b s t + c t + d`` (``c < s``),
a stride-``t`` interleave. It has ``p s = q r`` nonzeros, and as many MACs a vector.
A chain ``M = R_N ... R_1`` (listed input side first, ``R_1`` applied first) maps a
vector of ``q_1`` to one of ``p_N``.

A chain is *valid* (:func:`check_chain`) when every factor's shape divides
(``r t | p``, ``s t | q``, the same block count ``a``), consecutive shapes agree
(``q_{k+1} = p_k``), the ends match the layer (``q_1`` and ``p_N``, the padded sizes),
and the product is dense: no entry is structurally zero (the all-ones test: the
boolean product of the supports). The chains that pass it by construction follow
the stride rule ``t_1 = 1``, ``t_{k+1} = r_k t_k`` with a single block last (one path
per entry); a dense chain that breaks the rule (several paths) is accepted, and an
invalid one is refused naming the first factor that breaks a rule.

A network layer with ``transform: "debut"`` adds the fields

- ``factors``: ``[[p, q, r, s, t], ...]`` input side first; ``q_1 >= inputs`` (the
  input vector is zero-padded at its end: a conv's window ``(dy k + dx) C + c``,
  tap-major as the im2col of the DeBut code; a linear's vector in torch's order) and
  ``p_N >= outputs`` (outputs ``outputs .. p_N - 1`` are dropped);
- ``shifts``: ``N - 1`` shifts, one after each factor but the last (the power-of-two
  scales of the factors: the hardware shifts, never divides);
- ``mid_bits``: the signed width of the vectors between factors (2..16);

and holds the arrays ``l<i>_f<k>`` (factor ``k``'s nonzeros ``theta`` ``(a, t, r, s)``,
signed ``weight_bits``) and ``l<i>_bias`` (``(outputs,)``, ``bias_bits``).

Arithmetic (golden = RTL): factor ``k < N`` gives ``acc = sum theta x`` exactly, then
``clip((acc + (1 << (shift_k - 1))) >> shift_k, -2**(mid_bits-1), 2**(mid_bits-1) - 1)``
(round half up by a flooring shift, then saturate; no rounding for shift 0); the last
factor gives ``acc = bias + sum theta x`` for the first ``outputs`` rows, which the
network's requantisation (the layer's ``shift``, ``out_bits``, relu) then takes, as
for every transform kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..artifact import ArraySpec, ArtifactError

__all__ = ["Factor", "check_chain", "chain_sizes", "chain_params", "chain_product_support",
           "MID_BITS", "FactorRange", "mid_clip", "chain_ranges", "lane_split", "lane_counts",
           "fold_count"]

#: Range of ``mid_bits``, the signed width of the vectors between factors.
MID_BITS = (2, 16)


def _positive(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@dataclass(frozen=True)
class Factor:
    """One DeBut factor ``R(p, q; r, s, t)`` (see the module docstring).

    Raises
    ------
    ValueError
        Naming the factor and the rule it breaks: a size that is not a positive integer,
        ``r t`` not dividing ``p``, ``s t`` not dividing ``q``, or different block counts.
    """
    p: int
    q: int
    r: int
    s: int
    t: int

    def __post_init__(self):
        for name in ("p", "q", "r", "s", "t"):
            value = getattr(self, name)
            if not _positive(value):
                raise ValueError(f"factor {self.shape_text}: {name} must be a positive integer, "
                                 f"got {value!r}")
        if self.p % (self.r * self.t):
            raise ValueError(f"factor {self.shape_text}: r t = {self.r * self.t} must divide "
                             f"p, got p = {self.p!r}")
        if self.q % (self.s * self.t):
            raise ValueError(f"factor {self.shape_text}: s t = {self.s * self.t} must divide "
                             f"q, got q = {self.q!r}")
        if self.p // (self.r * self.t) != self.q // (self.s * self.t):
            raise ValueError(f"factor {self.shape_text}: p / (r t) and q / (s t) must be the "
                             f"same block count, got {self.p // (self.r * self.t)} and "
                             f"{self.q // (self.s * self.t)}")

    @classmethod
    def of(cls, value) -> "Factor":
        """A factor from a ``(p, q, r, s, t)`` sequence (or a Factor)."""
        if isinstance(value, Factor):
            return value
        if not isinstance(value, (list, tuple)) or len(value) != 5:
            raise ValueError(f"a factor must be (p, q, r, s, t), got {value!r}")
        return cls(*value)

    @property
    def shape_text(self) -> str:
        return f"({self.p}, {self.q}, {self.r}, {self.s}, {self.t})"

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.p, self.q, self.r, self.s, self.t)

    @property
    def blocks(self) -> int:
        """``a``, the number of diagonal blocks."""
        return self.p // (self.r * self.t)

    @property
    def theta_shape(self) -> tuple[int, int, int, int]:
        """Shape ``(a, t, r, s)`` of the nonzeros (the reference code's flat order)."""
        return (self.blocks, self.t, self.r, self.s)

    @property
    def params(self) -> int:
        """Nonzeros, ``p s = q r``; also the MACs of one vector."""
        return self.p * self.s

    def rows(self) -> np.ndarray:
        """``(p, s)`` int: the input column of output ``j``'s ``c``-th nonzero."""
        j = np.arange(self.p)
        b, i, d = j // (self.r * self.t), (j // self.t) % self.r, j % self.t
        c = np.arange(self.s)
        return b[:, None] * self.s * self.t + c[None, :] * self.t + d[:, None]

    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """``(p, s)``: the nonzero of output ``j`` at its ``c``-th input (``theta[b, d, i, c]``)."""
        theta = np.asarray(theta).reshape(self.theta_shape)
        j = np.arange(self.p)
        b, i, d = j // (self.r * self.t), (j // self.t) % self.r, j % self.t
        return theta[b, d, i, :]

    def support(self) -> np.ndarray:
        """The ``(p, q)`` bool nonzero pattern ``I_a (x) 1_{r x s} (x) I_t``."""
        mask = np.zeros((self.p, self.q), bool)
        mask[np.arange(self.p)[:, None], self.rows()] = True
        return mask

    def dense(self, theta: np.ndarray) -> np.ndarray:
        """The ``(p, q)`` matrix with nonzeros ``theta`` ``(a, t, r, s)``."""
        values = self.row_values(theta)
        out = np.zeros((self.p, self.q), values.dtype)
        out[np.arange(self.p)[:, None], self.rows()] = values
        return out


def _factors(chain) -> list[Factor]:
    if not isinstance(chain, (list, tuple)) or not chain:
        raise ValueError(f"a chain needs at least one factor, got {chain!r}")
    out = []
    for k, value in enumerate(chain):
        try:
            out.append(Factor.of(value))
        except ValueError as err:
            # Number the factor: "factor (p, ...)" -> "factor k (p, ...)".
            raise ValueError(str(err).replace("factor (", f"factor {k + 1} (", 1)) from None
    return out


def chain_product_support(chain) -> np.ndarray:
    """The ``(p_N, q_1)`` bool support of the product (the all-ones test, exact: the
    product of the nonnegative supports has no cancellation).

    Accumulated from the output side as sparse 0/1 matrices (each step is ``p_N x q_k``
    at most), so that checking a ResNet-sized chain takes milliseconds, not a dense
    ``p x p x q`` product.
    """
    from scipy import sparse      # imported on use: loading an artifact stays light
    factors = _factors(chain)

    def support(f):
        rows = np.repeat(np.arange(f.p), f.s)
        return sparse.csr_matrix((np.ones(f.p * f.s, np.int32), (rows, f.rows().ravel())),
                                 shape=(f.p, f.q))

    prod = support(factors[-1])
    for f in reversed(factors[:-1]):
        prod = (prod @ support(f)).tocsr()
        prod.data[:] = 1                      # a path count only needs to say "some"
    return prod.toarray().astype(bool)


def check_chain(chain, inputs: int | None = None, outputs: int | None = None) -> list[Factor]:
    """Refuse an invalid chain (module docstring); return its factors.

    Parameters
    ----------
    chain : sequence of (p, q, r, s, t) or Factor
        Input side first.
    inputs, outputs : int, optional
        The sizes the chain's ends must reach: ``q_1 >= inputs`` and ``p_N >= outputs``
        (the rest is zero padding).

    Raises
    ------
    ValueError
        Naming the factor (``factor k``, 1-based from the input side) and the rule it
        breaks, with the values.
    """
    factors = _factors(chain)
    for k in range(1, len(factors)):
        if factors[k].q != factors[k - 1].p:
            raise ValueError(f"factor {k + 1} {factors[k].shape_text}: q must equal the "
                             f"previous factor's p = {factors[k - 1].p}, got q = "
                             f"{factors[k].q!r}")
    if inputs is not None and factors[0].q < inputs:
        raise ValueError(f"factor 1 {factors[0].shape_text}: q must be at least the layer's "
                         f"{inputs} inputs, got q = {factors[0].q!r}")
    if outputs is not None and factors[-1].p < outputs:
        raise ValueError(f"factor {len(factors)} {factors[-1].shape_text}: p must be at least "
                         f"the layer's {outputs} outputs, got p = {factors[-1].p!r}")
    support = chain_product_support(factors)
    zeros = int(support.size - support.sum())
    if zeros:
        # Name the cause: the first break of the stride rule, else a last factor of
        # several blocks (the product is then block diagonal).
        t = 1
        where = None
        for k, f in enumerate(factors):
            if f.t != t:
                where = (f"factor {k + 1} {f.shape_text}: breaks the stride rule t_{k + 1} = "
                         f"r_{k} t_{k} = {t}, got t = {f.t!r}" if k else
                         f"factor 1 {f.shape_text}: breaks the stride rule t_1 = 1, got "
                         f"t = {f.t!r}")
                break
            t = f.r * f.t
        if where is None:
            f = factors[-1]
            where = (f"factor {len(factors)} {f.shape_text}: the last factor must be a single "
                     f"block, got {f.blocks!r} blocks")
        raise ValueError(f"{where}; the product has {zeros} of {support.size} entries "
                         f"structurally zero")
    return factors


def chain_sizes(chain) -> tuple[int, ...]:
    """``(q_1, p_1, ..., p_N)``: the vector length before and after each factor."""
    factors = _factors(chain)
    return (factors[0].q,) + tuple(f.p for f in factors)


def chain_params(chain) -> int:
    """Nonzeros of the chain (= MACs a vector)."""
    return sum(f.params for f in _factors(chain))


# -- exact ranges ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FactorRange:
    """Exact integer ranges of one factor: ``acc_range`` bounds every partial sum (each
    term's range taken with 0, as a fold adds a subset of the terms), ``acc_bits`` holds it
    and the rounding half; ``out_range`` is what the factor emits (after its shift and
    saturation; the last factor's is its accumulator's)."""
    acc_range: tuple[int, int]
    acc_bits: int
    out_range: tuple[int, int]

    @property
    def out_bits(self) -> int:
        """Signed width of the factor's output elements."""
        from .network import range_bits      # network imports this module
        return range_bits(min(self.out_range[0], -1), self.out_range[1])[0]


def mid_clip(mid_bits: int) -> tuple[int, int]:
    """Saturation bounds of the vectors between factors."""
    return -(1 << (mid_bits - 1)), (1 << (mid_bits - 1)) - 1


def chain_ranges(factors: Sequence[Factor], thetas: Sequence[np.ndarray], bias: np.ndarray,
                 shifts: Sequence[int], mid_bits: int, inputs: int, lo: int, hi: int,
                 last_shift: int = 0) -> tuple[FactorRange, ...]:
    """Each factor's ranges for inputs in ``lo..hi`` (the padded ones 0), element by element.

    Per factor the bound is exact for independent inputs in their ranges; through the
    chain it is a sound bound. The last factor's accumulator starts at the bias (rows
    ``< len(bias)``; padded rows are computed too, from 0) and its ``acc_bits`` also holds
    ``acc + (1 << (last_shift - 1))`` (the network's requantisation).
    """
    from .network import range_bits, requant_range      # network imports this module
    q = factors[0].q
    x_lo = np.zeros(q, np.int64)
    x_hi = np.zeros(q, np.int64)
    x_lo[:inputs], x_hi[:inputs] = lo, hi
    out = []
    for k, (f, theta) in enumerate(zip(factors, thetas)):
        w = f.row_values(np.asarray(theta, np.int64)).astype(np.int64)       # (p, s)
        cols = f.rows()
        a, b = w * x_lo[cols], w * x_hi[cols]
        low = np.minimum(np.minimum(a, b), 0).sum(axis=1)
        high = np.maximum(np.maximum(a, b), 0).sum(axis=1)
        last = k == len(factors) - 1
        if last:
            base = np.zeros(f.p, np.int64)
            base[:len(bias)] = np.asarray(bias, np.int64)
            low, high = low + base, high + base
        acc = (int(min(low.min(), 0)), int(max(high.max(), 0)))
        shift = last_shift if last else shifts[k]
        half = (1 << (shift - 1)) if shift else 0
        acc_bits = range_bits(min(acc[0], -1), acc[1] + half)[0]
        if last:
            out.append(FactorRange(acc, acc_bits, acc))
            break
        c_lo, c_hi = mid_clip(mid_bits)
        r_lo, r_hi = requant_range(low, high, shifts[k])
        x_lo, x_hi = np.clip(r_lo, c_lo, c_hi), np.clip(r_hi, c_lo, c_hi)
        out.append(FactorRange(acc, acc_bits, (int(x_lo.min()), int(x_hi.max()))))
    return tuple(out)


# -- MAC lanes of a factor stage -------------------------------------------------------------

def lane_split(factor: Factor, lanes, where: str = "lanes") -> tuple[int, int]:
    """``(po, so)``: how ``lanes`` MACs a cycle cover a factor: ``so`` of an output's ``s``
    products and ``po`` outputs at once, ``lanes = po so``. A count up to ``s`` must
    divide ``s`` (``po = 1``); above it, it must be ``s`` times a divisor of ``p``.

    Raises
    ------
    ValueError
        Naming ``where`` and the value, listing the valid counts.
    """
    if _positive(lanes):
        if lanes <= factor.s and factor.s % lanes == 0:
            return 1, lanes
        if lanes % factor.s == 0 and factor.p % (lanes // factor.s) == 0:
            return lanes // factor.s, factor.s
    raise ValueError(f"{where}: MAC lanes must be one of {lane_counts(factor)} for factor "
                     f"{factor.shape_text}, got {lanes!r}")


def lane_counts(factor: Factor) -> list[int]:
    """The valid lane counts of a factor, 1 to ``p s``."""
    low = [d for d in range(1, factor.s + 1) if factor.s % d == 0]
    high = [factor.s * d for d in range(2, factor.p + 1) if factor.p % d == 0]
    return low + high


def fold_count(factor: Factor, lanes: int) -> int:
    """Cycles of one vector through a factor stage of ``lanes`` MACs: ``p s / lanes``."""
    po, so = lane_split(factor, lanes)
    return (factor.p // po) * (factor.s // so)
