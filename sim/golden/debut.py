"""The DeBut transform's golden arithmetic: a chain of factors in exact integers, batched.

The layer's input vector (a conv's window tap-major, ``(dy k + dx) C + c`` as the im2col
of the DeBut code; a linear's vector in torch's order) is zero-padded to ``q_1``; each
factor but the last gives ``acc = sum theta x`` and then
``clip((acc + (1 << (shift - 1))) >> shift, -2**(mid_bits-1), 2**(mid_bits-1) - 1)``
(round half up, saturate; :func:`edgeforge.sim.golden.network.requantise`, the same
as every layer's); the last gives ``bias + sum theta x`` for the first ``outputs``
rows, which the network walker requantises. Factors and fields:
:mod:`edgeforge.schemes.network_debut`.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from edgeforge.schemes.network_debut import Factor, mid_clip

__all__ = ["factor_forward", "chain_forward", "im2col_tap_major", "accumulate"]


def factor_forward(factor: Factor, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``R x`` for a batch ``x`` ``(n, q)``: ``y[a, i, d] = sum_c theta[a, d, i, c] x[a, c, d]``."""
    f = factor
    x = np.asarray(x, np.int64).reshape(len(x), f.blocks, f.s, f.t)
    theta = np.asarray(theta, np.int64).reshape(f.theta_shape)
    y = np.einsum("adic,nacd->naid", theta, x)
    return y.reshape(len(x), f.p)


def chain_forward(factors, thetas, bias, shifts, mid_bits: int, x: np.ndarray) -> np.ndarray:
    """The last factor's accumulators ``(n, len(bias))`` on vectors ``x`` ``(n, inputs)``."""
    from .network import requantise
    x = np.asarray(x, np.int64)
    v = np.zeros((len(x), factors[0].q), np.int64)
    v[:, :x.shape[1]] = x
    lo, hi = mid_clip(mid_bits)
    for k, (f, theta) in enumerate(zip(factors, thetas)):
        v = factor_forward(f, theta, v)
        if k < len(factors) - 1:
            v = requantise(v, shifts[k], lo, hi)
    return v[:, :len(bias)] + np.asarray(bias, np.int64)


def im2col_tap_major(x: np.ndarray, kernel: int, padding: int) -> tuple[np.ndarray, tuple]:
    """The windows of ``x`` ``(N, C, H, W)`` as rows ``(N Ho Wo, k k C)``, column
    ``(dy k + dx) C + c``; and ``(N, Ho, Wo)``."""
    x = np.asarray(x, np.int64)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(xp, (kernel, kernel), axis=(2, 3))       # (N, C, Ho, Wo, k, k)
    n, c, ho, wo = win.shape[:4]
    return win.transpose(0, 2, 3, 4, 5, 1).reshape(n * ho * wo, kernel * kernel * c), (n, ho, wo)


def accumulate(layer, arrays, x: np.ndarray) -> np.ndarray:
    """The accumulators of a debut conv2d or linear ``layer`` on the batch ``x``."""
    f = layer.fields
    factors = [Factor(*shape) for shape in f["factors"]]
    thetas = [arrays[f"l{layer.index}_f{k}"] for k in range(len(factors))]
    bias = arrays[f"l{layer.index}_bias"]
    if layer.kind == "conv2d":
        cols, (n, ho, wo) = im2col_tap_major(x, f["kernel"], f["padding"])
        acc = chain_forward(factors, thetas, bias, f["shifts"], f["mid_bits"], cols)
        return acc.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)
    return chain_forward(factors, thetas, bias, f["shifts"], f["mid_bits"], x)
