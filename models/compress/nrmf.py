"""NRMF rank factorisation (Ran et al., ICPR 2020): Tucker-2 of conv kernels into
1x1 -> DxD -> 1x1, a nuclear-norm regulariser on the mode unfoldings, ranks by an energy
threshold; VBMF rank selection (Nakajima et al.) as the baseline.

A conv kernel ``K`` of ``S`` input and ``T`` output channels (torch's ``(T, S, D, D)``) has
two mode unfoldings: ``W1`` (mode 3, ``S x T D^2``) and ``W2`` (mode 4, ``T x S D^2``).
Tucker-2 with ranks ``(R3, R4)`` keeps the leading ``R3`` left singular vectors of ``W1``
(``U3``, ``S x R3``) and ``R4`` of ``W2`` (``U4``, ``T x R4``) and the core
``C = K x3 U3^T x4 U4^T`` (``R4 x R3 x D x D``): the conv becomes a 1x1 conv ``S -> R3``
(``U3^T``, bias 0), the ``DxD`` conv ``R3 -> R4`` (``C``, the original padding, bias 0) and a
1x1 conv ``R4 -> T`` (``U4``, the original bias), which is three dense conv layers the
network artifact holds as they are (no relu between them: signed activations). A factor
of full rank (``R3 = S`` or ``R4 = T``) is left out, folded into the core; a conv whose
factorisation would not have fewer parameters stays as it is. The factors come from one
truncated HOSVD (no HOOI refinement).

- NRMF: the network first trains (fine-tunes) with ``alpha * sum(||W1||_* + ||W2||_*)``
  over every dense conv with a kernel > 1 added to the loss, pushing the ranks down; then
  each unfolding gets the smallest ``R`` with ``sum_{i<=R} lambda_i / sum(lambda) >= p``,
  ``lambda`` the eigenvalues of ``W W^T`` (squared singular values; the method figure);
  then the factorised network fine-tunes.
- VBMF: each unfolding's rank is the empirical variational Bayesian matrix factorisation's
  (:func:`vbmf`: the global analytic solution with the noise variance estimated; written
  here from the closed form, no package), and the factorised network fine-tunes at those
  ranks, without the regulariser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..network.net import QNet
from ..image_sets import DIGITS, ImageSet
from ..network.train import TrainConfig, train_network
from ..network.zoo import conv2d
from .common import (FINE_TUNE, Compressed, as_qnet, float_net, network_summary,
                     result_label, trainable_network, weights)

__all__ = ["ALPHA", "SELECTORS", "unfoldings", "decomposable_layers", "nuclear_penalty",
           "check_p", "energy_rank", "VBMF", "vbmf", "vbmf_rank", "tucker2", "tucker_params",
           "select_ranks", "factorise", "regularise_network", "nrmf_network", "vbmf_network"]

#: Weight of the nuclear-norm regulariser (the paper's LeNet5 illustration).
ALPHA = 1e-2


def unfoldings(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(W1, W2)`` of a conv weight ``(T, S, D, D)``: ``S x T D^2`` (mode 3, input channels)
    and ``T x S D^2`` (mode 4, output channels)."""
    t, s = weight.shape[:2]
    return weight.transpose(0, 1).reshape(s, -1), weight.reshape(t, -1)


def decomposable_layers(network: dict) -> list[int]:
    """Indices of the dense conv2d layers with a kernel larger than 1x1."""
    return [i for i, layer in enumerate(network["layers"])
            if layer["kind"] == "conv2d" and layer["transform"] == "dense" and layer["kernel"] > 1]


def nuclear_penalty(alpha: float = ALPHA, layers=None):
    """The regulariser ``penalty(net) = alpha * sum(||W1||_* + ||W2||_*)`` over ``layers``
    (default every :func:`decomposable_layers` conv), for ``train_network(penalty=)``.

    Raises
    ------
    ValueError
        For a negative or non-numeric ``alpha``.
    """
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not alpha >= 0:
        raise ValueError(f"alpha must be a number >= 0, got {alpha!r}")

    def penalty(net: QNet) -> torch.Tensor:
        chosen = decomposable_layers(net.network) if layers is None else layers
        total = 0.0
        for i in chosen:
            for w in unfoldings(net.layers[i].weight):
                total = total + torch.linalg.svdvals(w).sum()
        return alpha * total

    return penalty


def check_p(p) -> float:
    """An energy threshold: a number in ``(0, 1]`` (a fraction, 0.95 for 95 %).

    Raises
    ------
    ValueError
        ``p must be in (0, 1] ...`` with the value.
    """
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 < p <= 1:
        # A threshold written as a percentage (95 for 0.95) is the likely slip.
        percent = isinstance(p, (int, float)) and not isinstance(p, bool) and 10 <= p <= 100
        hint = f" (a fraction: {p / 100:g} for {p:g} %)" if percent else ""
        raise ValueError(f"p must be in (0, 1]{hint}, got {p!r}")
    return float(p)


def _singular_values(matrix) -> np.ndarray:
    m = matrix.detach().double() if isinstance(matrix, torch.Tensor) else torch.as_tensor(
        np.asarray(matrix, np.float64))
    return torch.linalg.svdvals(m).numpy()


def energy_rank(matrix, p: float) -> int:
    """The smallest ``R`` with ``sum_{i<=R} lambda_i / sum(lambda) >= p``, ``lambda`` the
    eigenvalues of ``W W^T`` (the squared singular values); 1 for a zero matrix."""
    p = check_p(p)
    lam = _singular_values(matrix) ** 2
    total = lam.sum()
    if not total > 0:
        return 1
    share = np.cumsum(lam) / total
    # A hair of slack: p = 1 must not miss the full rank by a rounding error.
    return int(np.searchsorted(share, p - 1e-12) + 1)


@dataclass(frozen=True)
class VBMF:
    """The empirical VBMF answer for one matrix: its ``rank``, the estimated noise variance
    ``sigma2`` and the singular-value threshold ``threshold`` above which a component stays."""
    rank: int
    sigma2: float
    threshold: float


def _tau_bar(alpha: float) -> float:
    """The zero of ``Phi(tau) + Phi(tau / alpha)``, ``Phi(z) = log(1 + z) / z - 1/2``, solved
    (``2.5129 sqrt(alpha)``, the approximation implementations often use, is exact at
    ``alpha = 1`` and up to about 10 % low at the small ``alpha`` of a conv's unfoldings)."""
    from scipy.optimize import brentq

    def phi(z):
        return math.log1p(z) / z - 0.5

    return brentq(lambda t: phi(t) + phi(t / alpha), 1e-12, 10.0 / alpha + 10.0, xtol=1e-14)


def vbmf(matrix) -> VBMF:
    """Empirical variational Bayesian matrix factorisation of an ``L x M`` matrix: the
    global analytic solution (Nakajima, Tomioka, Sugiyama, Babacan, JMLR 2013) with the noise
    variance estimated by minimising the free energy (Nakajima et al., JMLR 2015).

    With ``L <= M`` (the matrix is transposed otherwise), ``alpha = L / M`` and singular values
    ``g_1 >= ... >= g_L``, a component stays when ``g_h > sqrt(M sigma2 xbar)``,
    ``xbar = (1 + taubar)(1 + alpha / taubar)`` (:func:`_tau_bar`). ``sigma2`` minimises
    ``sum_h psi(g_h^2 / (M sigma2))``, ``psi(x) = x - log x`` plus, above ``xbar``,
    ``log(tau + 1) + alpha log(tau / alpha + 1) - tau`` with
    ``tau = (x - 1 - alpha + sqrt((x - 1 - alpha)^2 - 4 alpha)) / 2``, over the interval the
    2015 paper bounds it to; a log grid finds the basin and a bounded search the minimum.
    """
    from scipy.optimize import minimize_scalar
    g = _singular_values(matrix)
    shape = tuple(np.shape(matrix))
    big, small = max(shape), min(shape)
    if not g.size or not g[0] > 0:
        return VBMF(0, 0.0, 0.0)
    alpha = small / big
    tau_bar = _tau_bar(alpha)
    x_bar = (1 + tau_bar) * (1 + alpha / tau_bar)
    g2 = g ** 2

    def objective(log_s2: float) -> float:
        x = g2 / (big * math.exp(log_s2))
        out = np.sum(x - np.log(x))
        kept = x[x > x_bar]
        if kept.size:
            d = kept - 1 - alpha
            tau = 0.5 * (d + np.sqrt(np.maximum(d * d - 4 * alpha, 0)))
            out += np.sum(np.log1p(tau) + alpha * np.log1p(tau / alpha) - tau)
        return float(out)

    h_bar = min(math.ceil(small / (1 + alpha)) - 1, small - 1)
    lower = max(g2[h_bar] / (big * x_bar), g2[h_bar:].mean() / big)
    upper = g2.sum() / (small * big)
    if not lower < upper:
        sigma2 = upper
    else:
        grid = np.linspace(math.log(lower), math.log(upper), 201)
        k = int(np.argmin([objective(v) for v in grid]))
        lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
        best = minimize_scalar(objective, bounds=(lo, hi), method="bounded",
                               options={"xatol": 1e-10})
        sigma2 = math.exp(best.x if best.fun <= objective(grid[k]) else grid[k])
    threshold = math.sqrt(big * sigma2 * x_bar)
    return VBMF(int(np.sum(g > threshold)), sigma2, threshold)


def vbmf_rank(matrix) -> int:
    """:func:`vbmf`'s rank, at least 1."""
    return max(1, vbmf(matrix).rank)


#: Rank selectors by name: ``selector(unfolding, p) -> rank``.
SELECTORS = {"energy": energy_rank, "vbmf": lambda w, p=None: vbmf_rank(w)}


def tucker2(weight: torch.Tensor, r3: int, r4: int):
    """Truncated HOSVD of a conv weight ``(T, S, D, D)`` at ranks ``(r3, r4)``.

    Returns
    -------
    (first, core, last)
        ``first`` ``(r3, S, 1, 1)`` (``U3^T``) and ``last`` ``(T, r4, 1, 1)`` (``U4``), each
        ``None`` at full rank (the factor is the identity and is left out); ``core``
        ``(r4', r3', D, D)`` with ``r3' = r3`` or ``S``, ``r4' = r4`` or ``T``, such that
        ``last o core o first`` approximates the conv (exactly at full ranks).

    Raises
    ------
    ValueError
        For a rank outside ``1..S`` or ``1..T``.
    """
    t, s = weight.shape[:2]
    for name, r, n in (("r3", r3, s), ("r4", r4, t)):
        if not isinstance(r, int) or isinstance(r, bool) or not 1 <= r <= n:
            raise ValueError(f"{name} must be an integer 1..{n}, got {r!r}")
    w = weight.detach().double()
    w1, w2 = unfoldings(w)
    u3 = torch.linalg.svd(w1, full_matrices=False)[0][:, :r3] if r3 < s else None
    u4 = torch.linalg.svd(w2, full_matrices=False)[0][:, :r4] if r4 < t else None
    core = w
    if u3 is not None:
        core = torch.einsum("tskl,sa->takl", core, u3)
    if u4 is not None:
        core = torch.einsum("takl,tb->bakl", core, u4)
    first = None if u3 is None else u3.T[:, :, None, None]
    last = None if u4 is None else u4[:, :, None, None]
    as32 = (lambda x: None if x is None else x.to(torch.float32).contiguous())
    return as32(first), as32(core), as32(last)


def tucker_params(s: int, t: int, k: int, r3: int, r4: int) -> int:
    """Weights and biases of the factorised conv (factors at full rank left out)."""
    a, b = min(r3, s), min(r4, t)
    total = b * (a * k * k + 1)
    if r3 < s:
        total += r3 * (s + 1)
    if r4 < t:
        total += t * (r4 + 1)
    return total


def select_ranks(net, selector: str = "energy", p: float = 0.95) -> dict[int, dict]:
    """Ranks of every decomposable conv's unfoldings by ``selector`` (``"energy"`` at
    threshold ``p``, or ``"vbmf"``), and whether factorising at them saves parameters.

    Returns
    -------
    dict
        ``{layer index: {"in": r3, "out": r4, "channels": [S, T], "params": dense params,
        "tucker_params": ..., "factorise": bool}}``.
    """
    if selector not in SELECTORS:
        raise ValueError(f"selector must be one of {sorted(SELECTORS)}, got {selector!r}")
    if selector == "energy":
        check_p(p)
    net = as_qnet(net)
    out = {}
    for i in decomposable_layers(net.network):
        layer = net.network["layers"][i]
        s, t, k = layer["in_channels"], layer["out_channels"], layer["kernel"]
        w1, w2 = unfoldings(net.layers[i].weight)
        r3, r4 = SELECTORS[selector](w1, p), SELECTORS[selector](w2, p)
        dense, tucker = t * (s * k * k + 1), tucker_params(s, t, k, r3, r4)
        out[i] = {"in": r3, "out": r4, "channels": [s, t], "params": dense,
                  "tucker_params": tucker, "factorise": tucker < dense}
    return out


@torch.no_grad()
def factorise(net, ranks: dict[int, tuple[int, int]]) -> QNet:
    """The network with conv ``i`` replaced by its Tucker-2 layers at ``ranks[i] = (r3, r4)``:
    a float (not calibrated) :class:`QNet`; the new layers take the conv's weight and
    activation widths, and a relu after the conv follows the last of them.

    Raises
    ------
    ValueError
        For a layer that is not a decomposable conv, or a rank out of range.
    """
    net = as_qnet(net)
    network = trainable_network(net.network)
    allowed = decomposable_layers(network)
    for i in ranks:
        if i not in allowed:
            raise ValueError(f"ranks: layer {i!r} is not a dense conv2d with a kernel > 1 "
                             f"(have {allowed})")
    params = weights(net)
    layers, new_params = [], {}
    for i, layer in enumerate(network["layers"]):
        if i not in ranks:
            if i in params:
                new_params[len(layers)] = params[i]
            layers.append(layer)
            continue
        weight, bias = params[i]
        first, core, last = tucker2(weight, *ranks[i])
        widths = {"weight_bits": layer["weight_bits"], "out_bits": layer["out_bits"]}
        if first is not None:
            new_params[len(layers)] = (first, torch.zeros(len(first)))
            layers.append(conv2d(first.shape[1], first.shape[0], 1, 0, **widths))
        core_bias = bias if last is None else torch.zeros(core.shape[0])
        new_params[len(layers)] = (core, core_bias)
        layers.append(conv2d(core.shape[1], core.shape[0], layer["kernel"], layer["padding"],
                             **widths))
        if last is not None:
            new_params[len(layers)] = (last, bias)
            layers.append(conv2d(last.shape[1], last.shape[0], 1, 0, **widths))
    return float_net({"input": dict(network["input"]), "layers": layers}, new_params)


def regularise_network(source, alpha: float = ALPHA, config: TrainConfig = FINE_TUNE, *,
                       progress: bool = False, name: str | None = None,
                       data: ImageSet = DIGITS):
    """NRMF's first step alone: ``source`` fine-tuned with the nuclear-norm regulariser
    (a :class:`~edgeforge.models.network.train.TrainResult`); the ranks at several ``p``
    can then be taken from the one regularised network (``nrmf_network(it, p,
    regularise=None)``)."""
    penalty = nuclear_penalty(alpha)
    net = as_qnet(source)
    return train_network(float_net(net.network, weights(net)), config,
                         penalty=penalty, progress=progress,
                         name=name or result_label(source, "regularised"), data=data)


def _factorised(source, selector: str, p, alpha: float, regularise: TrainConfig | None,
                fine_tune: TrainConfig, progress: bool, name: str | None,
                data: ImageSet) -> Compressed:
    net = as_qnet(source)
    data.check_input(net.network["input"])
    if not decomposable_layers(net.network):
        raise ValueError("the network has no dense conv2d with a kernel > 1 to factorise")
    before = network_summary(net.network)
    label = name or result_label(source, "nrmf" if selector == "energy" else "vbmf")
    details = {}
    if regularise is not None:
        reg = regularise_network(net, alpha, regularise, progress=progress,
                                 name=label + "-regularised", data=data)
        net = reg.net
        details["regularised"] = {"alpha": alpha, "train": regularise.to_dict(),
                                  "accuracy": round(reg.float_accuracy, 6)}
    ranks = select_ranks(net, selector, p)
    chosen = {i: (r["in"], r["out"]) for i, r in ranks.items() if r["factorise"]}
    result = train_network(factorise(net, chosen), fine_tune, progress=progress,
                           name=label, data=data)
    details.update(selector=selector, ranks={str(i): r for i, r in ranks.items()},
                   fine_tune=fine_tune.to_dict(), before=before,
                   after=network_summary(result.net.network))
    if selector == "energy":
        details["p"] = p
    return Compressed(result=result, method="nrmf" if selector == "energy" else "vbmf",
                      details=details)


def nrmf_network(source, p: float = 0.95, *, alpha: float = ALPHA,
                 regularise: TrainConfig | None = FINE_TUNE, fine_tune: TrainConfig = FINE_TUNE,
                 progress: bool = False, name: str | None = None,
                 data: ImageSet = DIGITS) -> Compressed:
    """NRMF: fine-tune ``source`` with the nuclear-norm regulariser (``regularise``; None:
    skip), choose each unfolding's rank by energy threshold ``p``, factorise, fine-tune.

    Parameters
    ----------
    source : QNet or TrainResult or Artifact or path
        The trained network (of ``data``'s images: the fine-tuning's, default digits).
    p : float
        Energy threshold in ``(0, 1]`` (0.92, 0.95, 0.98 in the paper).
    alpha : float
        Weight of the regulariser.

    Raises
    ------
    ValueError
        For ``p`` outside ``(0, 1]`` or a negative ``alpha``.
    """
    check_p(p)
    nuclear_penalty(alpha)
    return _factorised(source, "energy", p, alpha, regularise, fine_tune, progress, name, data)


def vbmf_network(source, *, fine_tune: TrainConfig = FINE_TUNE, progress: bool = False,
                 name: str | None = None, data: ImageSet = DIGITS) -> Compressed:
    """The baseline: VBMF ranks of ``source``'s unfoldings, factorise, fine-tune (no
    regulariser) on ``data``."""
    return _factorised(source, "vbmf", None, 0.0, None, fine_tune, progress, name, data)
