"""PECAN-A product-quantised layers in torch: dot-product similarity and a softmax.

Groups, codebooks, tables and the conv windows are PECAN-D's
(:mod:`edgeforge.models.pecan.pq`); only the quantiser differs. Group ``j`` of an input
vector becomes ``x~_j = C_j softmax(C_j^T x_j)`` (temperature 1, no ``1/sqrt(d)``
scaling: the notes' reading of Ran et al., DATE 2023), the same forward in training and
at inference (no straight-through step: the softmax stays, and so do the
multiplications). At inference ``y = sum_j Y_j softmax(C_j^T x_j) + b`` with ``Y_j = W_j
C_j``, which the integer spec (:class:`~edgeforge.schemes.network.PecanATransform`)
computes with an exp table and a reciprocal table.

Training modes (the paper's): ``"joint"`` trains weights and prototypes together (its
CIFAR recipe); ``"prototypes"`` freezes every other parameter of a trained network and
trains the codebooks alone (its "uni-optimization", the MNIST recipe):
:func:`set_training_mode`.
"""

from __future__ import annotations

import torch
from torch import nn

from .pq import PQConv2d, PQLinear

__all__ = ["TRAINING_MODES", "distance_offsets", "angle_weights", "PQALinear", "PQAConv2d",
           "set_training_mode"]

#: What :func:`set_training_mode` accepts.
TRAINING_MODES = ("joint", "prototypes")


def distance_offsets(codebook: torch.Tensor) -> torch.Tensor:
    """``-|C_j[q]|**2 / 2`` ``(D, p)``: added to the dot products, they make the score
    ``-|x_j - C_j[q]|**2 / 2`` up to a constant of the input (the transform's
    ``prototype_offsets`` option), so that the match no longer favours large prototypes."""
    return -0.5 * (codebook * codebook).sum(-1)


def angle_weights(x: torch.Tensor, codebook: torch.Tensor, sharpness=1.0,
                  offsets: bool = False) -> torch.Tensor:
    """``softmax(beta C_j^T x_j)`` ``(..., D, p)`` of grouped inputs ``(..., D, d)`` and
    ``codebook`` ``(D, p, d)``; ``beta`` (``sharpness``, the paper's 1) is an inverse
    temperature; with ``offsets`` each score gets its prototype's
    :func:`distance_offsets`."""
    s = torch.einsum("...jd,jpd->...jp", x, codebook)
    if offsets:
        s = s + distance_offsets(codebook)
    return torch.softmax(sharpness * s, dim=-1)


class _Angle:
    """The PECAN-A quantiser, in place of PECAN-D's hard L1 match."""

    def quantise(self, vecs: torch.Tensor, sharpness=1.0, offsets: bool = False) -> torch.Tensor:
        """Vectors ``(..., D d)`` with each group replaced by ``C_j softmax(beta C_j^T x_j)``
        (:func:`angle_weights`, with or without ``offsets``)."""
        x = vecs.reshape(*vecs.shape[:-1], self.groups, self.group_size)
        k = angle_weights(x, self.codebook, sharpness, offsets)
        return torch.einsum("...jp,jpd->...jd", k, self.codebook).reshape(vecs.shape)


class PQALinear(_Angle, PQLinear):
    """A linear layer whose input is product-quantised by angle (PECAN-A)."""


class PQAConv2d(_Angle, PQConv2d):
    """A stride-1 zero-padded conv whose tap-major im2col windows are product-quantised by
    angle (PECAN-A)."""


def set_training_mode(model: nn.Module, mode: str) -> list[nn.Parameter]:
    """Make ``model``'s parameters trainable for ``mode`` and return them (for the
    optimiser): ``"joint"`` all, ``"prototypes"`` the PQ layers' codebooks alone.

    Raises
    ------
    ValueError
        For a mode not in :data:`TRAINING_MODES`.
    """
    if mode not in TRAINING_MODES:
        raise ValueError(f"mode must be one of {list(TRAINING_MODES)}, got {mode!r}")
    codebooks = {id(m.codebook) for m in model.modules() if isinstance(m, (PQLinear, PQConv2d))}
    trained = []
    for p in model.parameters():
        p.requires_grad_(mode == "joint" or id(p) in codebooks)
        if p.requires_grad:
            trained.append(p)
    return trained
