"""The PECAN-D transform's golden arithmetic: per-group L1 match, arg-min, table sum.

Pure integer NumPy, batched over images and output positions. The layer's input
vector (a conv's window tap-major, ``(dy k + dx) C + c``, zero-padded taps
being 0; a linear's input in torch's order) splits into ``D`` consecutive
groups of ``d`` values. Group ``j`` matches prototype ``k_j = argmin_q sum_i
|x_ji - C[j, q, i]|``, the lowest index on a tie; the accumulator is ``bias +
sum_j Y_j[:, k_j]``. Requantisation, pooling and arg-max are the network
walker's (:mod:`edgeforge.sim.golden.network`).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["vectors", "distances", "match", "accumulate"]


def vectors(layer, x: np.ndarray) -> np.ndarray:
    """The layer's input vectors ``(N, positions, inputs)``: a conv's windows tap-major in
    raster order of the output, a linear's one vector."""
    x = np.asarray(x, np.int64)
    if layer.kind != "conv2d":
        return x[:, None, :]
    k, pad = layer.fields["kernel"], layer.fields["padding"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (k, k), axis=(2, 3))            # (N, C, Ho, Wo, k, k)
    n, c, ho, wo = win.shape[:4]
    return win.transpose(0, 2, 3, 4, 5, 1).reshape(n, ho * wo, k * k * c)


def distances(vecs: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """L1 distances ``(..., D, p)`` of vectors ``(..., D d)`` to ``codebook`` ``(D, p, d)``."""
    groups, _, d = codebook.shape
    g = np.asarray(vecs, np.int64).reshape(*vecs.shape[:-1], groups, 1, d)
    return np.abs(g - codebook.astype(np.int64)).sum(axis=-1)


def match(vecs: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """The matched prototype of every group ``(..., D)``; ``np.argmin`` returns the first,
    the lowest index, on a tie."""
    return np.argmin(distances(vecs, codebook), axis=-1)


def accumulate(layer, arrays, x: np.ndarray) -> np.ndarray:
    """The accumulators of a PECAN-D conv2d ``(N, O, Ho, Wo)`` or linear ``(N, O)`` ``layer``
    (a checked :class:`~edgeforge.schemes.network.Layer`) on the batch ``x``."""
    i = layer.index
    codebook, table = arrays[f"l{i}_codebook"], np.asarray(arrays[f"l{i}_table"], np.int64)
    bias = np.asarray(arrays[f"l{i}_bias"], np.int64)
    vecs = vectors(layer, x)                                      # (N, P, D d)
    k = match(vecs, codebook)                                     # (N, P, D)
    groups = np.arange(table.shape[0])
    # table[j, :, k_j] for every group j: (N, P, D, O), summed over the groups.
    acc = table.transpose(0, 2, 1)[groups, k].sum(axis=-2) + bias
    if layer.kind != "conv2d":
        return acc[:, 0]
    _, ho, wo = layer.out_shape
    return acc.reshape(len(x), ho, wo, -1).transpose(0, 3, 1, 2)
