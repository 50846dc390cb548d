"""The PECAN-A transform's golden arithmetic: per-group dot products, a fixed-point softmax by
table, the weighted sum of the table columns, normalised by a reciprocal table.

Pure integer NumPy, batched over images and output positions; the spec it follows step
by step is :class:`~edgeforge.schemes.network.PecanATransform`'s. The input vectors are
PECAN-D's (:func:`edgeforge.sim.golden.pecan_d.vectors`). Requantisation, pooling and
arg-max are the network walker's (:mod:`edgeforge.sim.golden.network`).
"""

from __future__ import annotations

import numpy as np

from .pecan_d import vectors

__all__ = ["dots", "scores", "exp_terms", "softmax_sum", "contributions", "accumulate"]


def dots(vecs: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Dot products ``(..., D, p)`` of vectors ``(..., D d)`` with ``codebook`` ``(D, p, d)``."""
    groups, _, d = codebook.shape
    g = np.asarray(vecs, np.int64).reshape(*vecs.shape[:-1], groups, 1, d)
    return (g * codebook.astype(np.int64)).sum(axis=-1)


def scores(vecs: np.ndarray, codebook: np.ndarray, offset=None) -> np.ndarray:
    """The match scores ``(..., D, p)``: :func:`dots`, plus ``offset`` ``(D, p)`` (the
    layer's ``l{i}_offset`` with ``prototype_offsets``) when given."""
    s = dots(vecs, codebook)
    return s if offset is None else s + np.asarray(offset, np.int64)


def exp_terms(s: np.ndarray, exp: np.ndarray, exp_shift: int) -> np.ndarray:
    """``EXP[min((max_q s_q - s_q) >> exp_shift, len(EXP) - 1)]`` over the last axis: the
    softmax's numerators (the maximum's, and any tied with it, ``EXP[0]``)."""
    diff = s.max(axis=-1, keepdims=True) - s
    index = np.minimum(diff >> exp_shift, len(exp) - 1)
    return np.asarray(exp, np.int64)[index]


def softmax_sum(vecs, codebook, table, exp, recip, *, exp_shift: int, recip_shift: int,
                recip_bits: int, offset=None) -> np.ndarray:
    """Each group's normalised weighted column sum ``(..., D, c_out)`` of vectors ``(..., D
    d)``: ``(u R) >> (recip_bits - 1)`` with ``u = sum_q e_q Y_j[:, q]``, ``R =
    RECIP[Z >> recip_shift]``, ``Z = sum_q e_q``, ``e`` by :func:`exp_terms` of the
    :func:`scores`."""
    table = np.asarray(table, np.int64)                                  # (D, O, p)
    e = exp_terms(scores(vecs, codebook, offset), exp, exp_shift)
    z = e.sum(axis=-1)                                                   # (..., D)
    u = np.einsum("...jq,joq->...jo", e, table)
    r = np.asarray(recip, np.int64)[z >> recip_shift]
    return (u * r[..., None]) >> (recip_bits - 1)


def contributions(layer, arrays, vecs: np.ndarray) -> np.ndarray:
    """:func:`softmax_sum` of a PECAN-A ``layer``'s arrays and fields."""
    i, f = layer.index, layer.fields
    return softmax_sum(vecs, arrays[f"l{i}_codebook"], arrays[f"l{i}_table"],
                       arrays[f"l{i}_exp"], arrays[f"l{i}_recip"], exp_shift=f["exp_shift"],
                       recip_shift=f["recip_shift"], recip_bits=f["recip_bits"],
                       offset=arrays[f"l{i}_offset"] if f.get("prototype_offsets") else None)


def accumulate(layer, arrays, x: np.ndarray) -> np.ndarray:
    """The accumulators of a PECAN-A conv2d ``(N, O, Ho, Wo)`` or linear ``(N, O)`` ``layer``
    (a checked :class:`~edgeforge.schemes.network.Layer`) on the batch ``x``."""
    bias = np.asarray(arrays[f"l{layer.index}_bias"], np.int64)
    acc = contributions(layer, arrays, vectors(layer, x)).sum(axis=-2) + bias   # (N, P, O)
    if layer.kind != "conv2d":
        return acc[:, 0]
    _, ho, wo = layer.out_shape
    return acc.reshape(len(x), ho, wo, -1).transpose(0, 3, 1, 2)
