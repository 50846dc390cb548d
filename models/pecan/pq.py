"""PECAN-D product-quantised layers in torch: L1 match, arg-min, straight-through training.

A layer's input vectors (a conv's im2col windows tap-major, ``(dy k + dx) C + c``, as
:class:`~edgeforge.schemes.network.PecanDTransform` splits them; a linear's input in
torch's order) split into ``D`` groups of ``d`` values. Group ``j`` has a codebook of
``p`` prototypes; the forward replaces each group by its nearest prototype in L1 distance
(ties to the lowest index, as the golden model), then applies the layer's weights:
``y = sum_j W_j C_j[:, k_j] + b``, which at inference is ``sum_j Y_j[:, k_j] + b`` with
``Y_j = W_j C_j`` (Ran et al., DATE 2023, PECAN-D).

Training (the paper's recipe): the forward uses the hard assignment, the backward the
soft one ``softmax(-L1 / tau)`` (``tau = 0.5``; the straight-through form
``hard + (soft - soft.detach())``), and the gradient ``sgn(x - c)`` of the L1 distance is
replaced by ``tanh(a (x - c))``, ``a = exp(4 e / E)`` at epoch ``e`` of ``E``
(:func:`surrogate_slope`).

An option of the training loop (``TrainConfig.soft_match``): for a first share of the
steps the forward itself is the soft assignment, the prototypes mixed by
``softmax(-L1 / tau)`` with ``tau`` annealed from ``TrainConfig.soft_tau`` down to
:data:`SOFT_TAU_END` of it (:func:`soft_temperature`), then the hard match above; in
evaluation mode (and so at test) the match is always hard.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["TAU", "SOFT_TAU_END", "surrogate_slope", "soft_temperature", "l1_distance", "assign",
           "kmedians", "PQLinear", "PQConv2d"]

#: The soft assignment's temperature (the paper's).
TAU = 0.5
#: Where the soft forward's annealed temperature ends, as a share of where it starts: at
#: 1/100 of the start the soft match is close to the hard one it hands over to.
SOFT_TAU_END = 0.01


def surrogate_slope(epoch: int, epochs: int) -> float:
    """``a = exp(4 e / E)``: the tanh surrogate sharpens towards ``sgn`` as training ends."""
    return math.exp(4 * epoch / epochs)


def soft_temperature(step: int, steps: int, tau: float) -> float:
    """The soft forward's temperature at ``step`` of ``steps``: geometric from ``tau`` to
    ``tau * SOFT_TAU_END``."""
    return tau * SOFT_TAU_END ** (step / max(1, steps))


class _L1Distance(torch.autograd.Function):
    """``sum_i |x_i - c_i|`` over the last axis, with ``tanh(a (x - c))`` for ``sgn(x - c)``
    in the backward."""

    @staticmethod
    def forward(ctx, x, c, slope):
        diff = x.unsqueeze(-2) - c                        # (..., D, p, d)
        ctx.save_for_backward(diff)
        ctx.slope = slope
        return diff.abs().sum(-1)

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        g = grad.unsqueeze(-1) * torch.tanh(ctx.slope * diff)
        grad_c = -g
        # c broadcasts over the leading (batch) axes: sum them out.
        while grad_c.dim() > 3:
            grad_c = grad_c.sum(0)
        return g.sum(-2), grad_c, None


def l1_distance(x: torch.Tensor, codebook: torch.Tensor, slope: float = 1.0) -> torch.Tensor:
    """Distances ``(..., D, p)`` of grouped inputs ``x`` ``(..., D, d)`` to ``codebook``
    ``(D, p, d)``; the backward uses the tanh surrogate at ``slope``."""
    return _L1Distance.apply(x, codebook, slope)


def assign(dist: torch.Tensor, tau: float = TAU) -> torch.Tensor:
    """The assignment ``(..., D, p)``: one-hot on the arg-min forward (``torch.argmin`` takes
    the first, the lowest index, on a tie), ``softmax(-dist / tau)`` backward."""
    hard = F.one_hot(dist.argmin(-1), dist.shape[-1]).to(dist.dtype)
    soft = torch.softmax(-dist / tau, dim=-1)
    # soft - soft.detach() is exactly 0 forward; (hard + soft) - soft would not be exactly hard.
    return hard + (soft - soft.detach())


def _seeds(x: torch.Tensor, prototypes: int, generator) -> torch.Tensor:
    """k-means++ seeding in L1 of one group's vectors ``x`` ``(n, d)``: each next prototype
    drawn with probability proportional to its distance from the nearest chosen one (so
    that the many identical background windows of digits do not take several)."""
    n = len(x)
    chosen = [int(torch.randint(n, (1,), generator=generator))]
    nearest = (x - x[chosen[0]]).abs().sum(-1)
    for _ in range(prototypes - 1):
        # Fewer distinct vectors than prototypes: the rest are drawn uniformly (copies).
        weights = nearest if nearest.sum() > 0 else torch.ones_like(nearest)
        chosen.append(int(torch.multinomial(weights, 1, generator=generator)))
        nearest = torch.minimum(nearest, (x - x[chosen[-1]]).abs().sum(-1))
    return x[chosen]


def kmedians(x: torch.Tensor, prototypes: int, generator=None,
             iterations: int = 8) -> torch.Tensor:
    """A codebook ``(D, p, d)`` for grouped vectors ``x`` ``(n, D, d)``: k-means++ seeds,
    then Lloyd iterations in L1 (assign to the nearest prototype, lowest index on a tie;
    move each to the coordinate-wise median of its vectors: the L1 centre). A prototype
    that no vector picks stays where it is."""
    x = x.detach()
    groups = x.shape[1]
    codebook = torch.stack([_seeds(x[:, j], prototypes, generator) for j in range(groups)])
    for _ in range(iterations):
        k = (x.unsqueeze(-2) - codebook).abs().sum(-1).argmin(-1)          # (n, D)
        for j in range(groups):
            for q in range(prototypes):
                members = x[k[:, j] == q, j]
                if len(members):
                    codebook[j, q] = members.median(dim=0).values
    return codebook


class _PQ(nn.Module):
    """The shared part: the codebook, the quantised input vectors, the tables."""

    def __init__(self, groups: int, group_size: int, prototypes: int):
        super().__init__()
        self.groups, self.group_size, self.prototypes = groups, group_size, prototypes
        self.codebook = nn.Parameter(torch.rand(groups, prototypes, group_size))
        self.tau, self.slope = TAU, 1.0
        #: The soft forward's temperature while training, or None: the hard match.
        self.soft_tau = None

    def quantise(self, vecs: torch.Tensor) -> torch.Tensor:
        """Vectors ``(..., D d)`` with each group replaced by its matched prototype (in
        training with :attr:`soft_tau` set: by the prototypes mixed by
        ``softmax(-L1 / soft_tau)``)."""
        x = vecs.reshape(*vecs.shape[:-1], self.groups, self.group_size)
        dist = l1_distance(x, self.codebook, self.slope)
        if self.training and self.soft_tau is not None:
            a = torch.softmax(-dist / self.soft_tau, dim=-1)
        else:
            a = assign(dist, self.tau)                                     # (..., D, p)
        return torch.einsum("...jp,jpd->...jd", a, self.codebook).reshape(vecs.shape)

    def init_codebook(self, vecs: torch.Tensor, generator=None,
                      kmedians_iterations: int = 0) -> None:
        """Prototypes from sample input vectors ``(n, D d)`` (the paper initialises from data
        too): drawn at random, or with ``kmedians_iterations`` the :func:`kmedians` codebook."""
        x = vecs.reshape(-1, self.groups, self.group_size)
        with torch.no_grad():
            if kmedians_iterations:
                self.codebook.copy_(kmedians(x, self.prototypes, generator, kmedians_iterations))
            else:
                pick = torch.randint(len(x), (self.prototypes,), generator=generator)
                self.codebook.copy_(x[pick].transpose(0, 1))

    def tables(self, matrix: torch.Tensor) -> torch.Tensor:
        """``Y_j = W_j C_j``: ``(D, out, p)`` from the weights ``(out, D d)`` in group order."""
        w = matrix.reshape(len(matrix), self.groups, self.group_size)
        return torch.einsum("ojd,jpd->jop", w, self.codebook)


class PQLinear(_PQ):
    """A linear layer whose input is product-quantised (PECAN-D)."""

    def __init__(self, linear: nn.Linear, groups: int, prototypes: int):
        if linear.in_features % groups:
            raise ValueError(f"groups must divide the {linear.in_features} inputs, got {groups!r}")
        super().__init__(groups, linear.in_features // groups, prototypes)
        self.linear = linear

    def matrix(self) -> torch.Tensor:
        return self.linear.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(self.quantise(x), self.linear.weight, self.linear.bias)


class PQConv2d(_PQ):
    """A stride-1 zero-padded conv whose im2col windows are product-quantised (PECAN-D),
    tap-major as the artifact splits them."""

    def __init__(self, conv: nn.Conv2d, groups: int, prototypes: int):
        k, c = conv.kernel_size[0], conv.in_channels
        if (k * k * c) % groups:
            raise ValueError(f"groups must divide the {k * k * c} inputs, got {groups!r}")
        super().__init__(groups, k * k * c // groups, prototypes)
        self.conv = conv

    def windows(self, x: torch.Tensor) -> torch.Tensor:
        """The tap-major windows ``(N, positions, k k C)``."""
        k, pad = self.conv.kernel_size[0], self.conv.padding[0]
        n, c = x.shape[:2]
        cols = F.unfold(x, k, padding=pad)                 # (N, C k k, L): channel-major
        return cols.reshape(n, c, k * k, -1).permute(0, 3, 2, 1).reshape(n, -1, k * k * c)

    def matrix(self) -> torch.Tensor:
        """The weights ``(out, k k C)`` tap-major."""
        w = self.conv.weight
        return w.permute(0, 2, 3, 1).reshape(len(w), -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        k, pad = self.conv.kernel_size[0], self.conv.padding[0]
        ho, wo = h + 2 * pad - k + 1, w + 2 * pad - k + 1
        y = self.quantise(self.windows(x)) @ self.matrix().T + self.conv.bias
        return y.transpose(1, 2).reshape(n, -1, ho, wo)
