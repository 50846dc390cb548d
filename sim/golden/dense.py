"""The dense transform's golden arithmetic: ``acc = bias + sum(w * x)`` in exact integers.

Pure integer NumPy, batched over images. A conv2d is stride 1 with zero padding
(the padded taps contribute 0); a linear layer takes the flattened vector in
torch's order. Requantisation, pooling and arg-max are the network walker's
(:mod:`edgeforge.sim.golden.network`), shared by every transform kind.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["accumulate", "conv2d", "linear"]


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, padding: int) -> np.ndarray:
    """Accumulators ``(N, O, Ho, Wo)`` of a stride-1 conv of ``x`` ``(N, C, H, W)``.

    ``weight`` is ``(O, C, k, k)``, ``bias`` ``(O,)``; every value is exact in int64.
    """
    x = np.asarray(x, np.int64)
    k = weight.shape[-1]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(xp, (k, k), axis=(2, 3))            # (N, C, Ho, Wo, k, k)
    n, c, ho, wo = win.shape[:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
    acc = cols @ weight.reshape(len(weight), -1).astype(np.int64).T + bias.astype(np.int64)
    return acc.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Accumulators ``(N, O)`` of ``x`` ``(N, F)`` with ``weight`` ``(O, F)``, ``bias`` ``(O,)``."""
    return np.asarray(x, np.int64) @ weight.astype(np.int64).T + bias.astype(np.int64)


def accumulate(layer, arrays, x: np.ndarray) -> np.ndarray:
    """The accumulators of a dense conv2d or linear ``layer`` (a checked
    :class:`~edgeforge.schemes.network.Layer`) on the batch ``x``."""
    weight, bias = arrays[f"l{layer.index}_weight"], arrays[f"l{layer.index}_bias"]
    if layer.kind == "conv2d":
        return conv2d(x, weight, bias, layer.fields["padding"])
    return linear(x, weight, bias)
