"""EZCrop channel pruning (Lin et al., WACV 2022): channel importance from the frequency domain,
channels removed physically; HRank's feature-map rank as the metric it replaces.

The energy-zone metric, per image and output channel, on the ``h x w`` feature map:

1. ``E = log(1 + |fftshift(fft2(map))|)`` (fftshift: a roll by ``floor(n/2)`` per axis);
2. the centre ``(xc, yc) = (floor(h/2), floor(w/2))`` (0-based: ``n/2`` for an even side,
   ``(n-1)/2`` for an odd one, the poster's per-axis rule; the authors' code states it for
   both sides even or both odd, the same on square maps);
3. the zone's half-width ``step = 0`` if ``xc - 1 = 0`` or ``yc - 1 = 0``, else
   ``min(ceil(alpha (h - xc - 1)), ceil(alpha (w - yc - 1)))``, ``alpha = 1/4``;
4. ``eta = 1 - sum(E in the central (2 step + 1)^2 square) / sum(E)`` (0 for a map that is
   0 everywhere: a dead channel carries nothing);

averaged over the images (the authors: 5 training batches of 128). The channels with the
largest ``eta`` (low-frequency energy that is dispersed, not one DC peak) are kept. Cost
``O(n^2 log n)`` a map against HRank's ``O(n^3)`` (the rank needs an SVD).
:func:`ezcrop_scores` computes it as written; pruning uses :func:`ezcrop_scores_rfft`, the
same values from half the spectrum (a real map's spectrum is Hermitian), which is several
times faster in torch at 16x16 and up (``bench/results/compress.md``).

HRank (Lin et al., CVPR 2020): the importance of a channel is the average matrix rank of
its feature maps (``torch.linalg.matrix_rank``, its default tolerance).

The feature map of a conv2d is its output after the relu (hooked on the relu module, or on
the conv when none follows); for a calibrated network it is the fixed-point activation.
Pruning is one-shot to fixed per-layer rates, then fine-tuning (float, then QAT, as
training: :func:`~edgeforge.models.network.train.train_network` started from the pruned network); with
``rounds > 1`` it is repetitive: evaluate -> prune -> fine-tune per round, each round
removing an equal share of the channels to go. Removed channels leave the network: the
conv's output channels and the next conv's input channels (or the next linear's input
features after a flatten) shrink, so the artifact and the hardware are smaller.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..network.net import QNet
from ..image_sets import DIGITS, ImageSet
from ..network.train import TrainConfig, train_network
from .common import (FINE_TUNE, Compressed, as_qnet, float_net, image_batches, network_summary,
                     result_label, trainable_network, weights)

__all__ = ["ALPHA", "METRICS", "zone_half_width", "ezcrop_scores", "ezcrop_scores_rfft",
           "hrank_scores", "Consumer", "prunable_layers", "feature_map_module",
           "channel_importance", "check_rates", "keep_counts", "keep_channels", "prune",
           "prune_network"]

#: The energy zone's size factor (the authors' code default and script value; beta on the poster).
ALPHA = 0.25


def zone_half_width(h: int, w: int, alpha: float = ALPHA) -> tuple[int, int, int]:
    """``(xc, yc, step)``: the centre of an ``h x w`` shifted spectrum (0-based) and the half
    width of the central zone (the module docstring, steps 2 and 3)."""
    xc, yc = h // 2, w // 2
    if xc - 1 == 0 or yc - 1 == 0:
        return xc, yc, 0
    return xc, yc, max(0, min(math.ceil(alpha * (h - xc - 1)), math.ceil(alpha * (w - yc - 1))))


def ezcrop_scores(maps: torch.Tensor, alpha: float = ALPHA) -> torch.Tensor:
    """The energy-zone score ``eta`` of every map, ``(N, C, h, w)`` -> ``(N, C)``, computed as
    the paper writes it: the full ``fft2``, ``fftshift``, the central square."""
    h, w = maps.shape[-2:]
    spectrum = torch.fft.fftshift(torch.fft.fft2(maps.to(torch.float32)), dim=(-2, -1))
    energy = torch.log1p(spectrum.abs())
    xc, yc, step = zone_half_width(h, w, alpha)
    zone = energy[..., xc - step:xc + step + 1, yc - step:yc + step + 1].sum(dim=(-2, -1))
    return _eta(zone, energy.sum(dim=(-2, -1)))


def _eta(zone: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    return torch.where(total > 0, 1 - zone / torch.where(total > 0, total, 1), 0)


def ezcrop_scores_rfft(maps: torch.Tensor, alpha: float = ALPHA) -> torch.Tensor:
    """:func:`ezcrop_scores`' values from half the spectrum (what pruning uses).

    A real map's spectrum is Hermitian, ``|F(-u, -v)| = |F(u, v)|``, so ``rfft2``'s columns
    ``v = 0 .. w//2`` hold all of it: every column but ``v = 0`` (and ``v = w/2`` for an even
    ``w``) stands for two. The zone is the frequencies ``|u|, |v| <= step`` around DC (where
    fftshift puts the centre), and ``step < w/2``, so no column is counted twice in it.
    """
    h, w = maps.shape[-2:]
    energy = torch.log1p(torch.fft.rfft2(maps.to(torch.float32)).abs())      # (.., h, w//2+1)
    cols = energy.shape[-1]
    weight = torch.full((cols,), 2.0)
    weight[0] = 1.0
    if w % 2 == 0:
        weight[-1] = 1.0
    total = (energy.sum(dim=-2) * weight).sum(dim=-1)
    _, _, step = zone_half_width(h, w, alpha)
    rows = torch.arange(-step, step + 1) % h
    zone = (energy[..., rows, :step + 1].sum(dim=-2) * weight[:step + 1]).sum(dim=-1)
    return _eta(zone, total)


def hrank_scores(maps: torch.Tensor) -> torch.Tensor:
    """HRank's score: the matrix rank of every map, ``(N, C, h, w)`` -> ``(N, C)``."""
    return torch.linalg.matrix_rank(maps.to(torch.float32)).to(torch.float32)


#: Importance metrics by name: ``metric(maps (N, C, h, w)) -> scores (N, C)``, larger = keep.
METRICS = {"ezcrop": ezcrop_scores_rfft, "hrank": hrank_scores}


@dataclass(frozen=True)
class Consumer:
    """Where a conv2d's output channels are read: layer ``index``, a conv2d (its input
    channels) or a linear after a flatten (``pixels`` input features per channel)."""
    index: int
    kind: str
    pixels: int = 1


def prunable_layers(network: dict) -> dict[int, Consumer]:
    """Every conv2d whose output channels can be removed, with the layer that reads them
    (through relu and max-pool layers: they keep channels apart)."""
    from ..network.net import check_network
    shapes = check_network(network)
    layers = network["layers"]
    out = {}
    for i, layer in enumerate(layers):
        if layer["kind"] != "conv2d":
            continue
        for j in range(i + 1, len(layers)):
            kind = layers[j]["kind"]
            if kind in ("relu", "maxpool"):
                continue
            if kind == "conv2d":
                out[i] = Consumer(j, "conv2d")
            elif kind == "flatten" and j + 1 < len(layers) and layers[j + 1]["kind"] == "linear":
                c, h, w = shapes[j - 1]
                out[i] = Consumer(j + 1, "linear", h * w)
            break
    return out


def feature_map_module(net: QNet, index: int) -> nn.Module:
    """The module whose output is conv ``index``'s feature map: the relu after it, or itself."""
    nxt = index + 1
    if nxt < len(net.layers) and isinstance(net.layers[nxt], nn.ReLU):
        return net.layers[nxt]
    return net.layers[index]


@torch.no_grad()
def channel_importance(net, loader, metric: str = "ezcrop", *,
                       layers=None) -> tuple[dict[int, np.ndarray], float]:
    """Average score of every output channel of the prunable convs over ``loader``.

    Forward hooks on each conv's feature map (module docstring) score every batch as it
    passes; the maps are not kept.

    Parameters
    ----------
    net : QNet or TrainResult or Artifact or path
        The network (evaluated in eval mode; a calibrated one in fixed point).
    loader : iterable
        Batches of uint8 images ``(N, C, H, W)``, or ``(images, labels)`` pairs (a torch
        ``DataLoader`` of them will do): e.g. :func:`~.common.image_batches`.
    metric : {"ezcrop", "hrank"}
    layers : iterable of int, optional
        Conv layer indices to score (default every prunable one).

    Returns
    -------
    (dict, float)
        ``{layer index: scores (channels,)}`` and the seconds the metric itself took
        (inside the hooks, forward passes excluded).

    Raises
    ------
    ValueError
        For an unknown metric, a layer that is not a prunable conv, or an empty loader.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
    net = as_qnet(net)
    candidates = prunable_layers(net.network)
    layers = sorted(candidates) if layers is None else list(layers)
    for i in layers:
        if i not in candidates:
            raise ValueError(f"layer {i} is not a prunable conv2d (have {sorted(candidates)})")
    score = METRICS[metric]
    sums = {i: None for i in layers}
    seen = {"images": 0, "seconds": 0.0}

    def hook_for(i):
        def hook(module, args, output):
            t0 = time.perf_counter()
            s = score(output).sum(dim=0).double()
            seen["seconds"] += time.perf_counter() - t0
            sums[i] = s if sums[i] is None else sums[i] + s
        return hook

    handles = [feature_map_module(net, i).register_forward_hook(hook_for(i)) for i in layers]
    training = net.training
    net.eval()
    try:
        for batch in loader:
            images = batch[0] if isinstance(batch, (tuple, list)) else batch
            images = images.numpy() if isinstance(images, torch.Tensor) else images
            net(net.inputs(np.asarray(images)))
            seen["images"] += len(images)
    finally:
        net.train(training)
        for h in handles:
            h.remove()
    if not seen["images"]:
        raise ValueError("loader must yield at least one batch of images, got none")
    return {i: (sums[i] / seen["images"]).numpy() for i in layers}, seen["seconds"]


def check_rates(network: dict, rates) -> dict[int, float]:
    """Per-layer pruning rates (share of output channels removed) of every prunable conv.

    ``rates`` is one rate for every prunable conv, or ``{layer index: rate}`` (layers left
    out keep every channel). Each rate is a number in ``[0, 1)``.

    Raises
    ------
    ValueError
        Naming the rate (``rate`` or ``rates[3]``) and its value, or a layer that is not a
        prunable conv.
    """
    candidates = prunable_layers(network)
    if not candidates:
        raise ValueError("the network has no conv2d whose output channels can be pruned")
    if isinstance(rates, dict):
        for i in rates:
            if i not in candidates:
                raise ValueError(f"rates: layer {i!r} is not a prunable conv2d (have "
                                 f"{sorted(candidates)})")
        named = {i: (f"rates[{i}]", r) for i, r in rates.items()}
    else:
        named = {i: ("rate", rates) for i in candidates}
    out = {}
    for i, (name, r) in named.items():
        if not isinstance(r, (int, float)) or isinstance(r, bool) or not 0 <= r < 1:
            raise ValueError(f"{name} must be a number in [0, 1), got {r!r}")
        out[i] = float(r)
    return {i: out.get(i, 0.0) for i in sorted(candidates)}


def keep_counts(network: dict, rates: dict[int, float]) -> dict[int, int]:
    """Channels each conv keeps at its rate: ``C - round(rate C)``, at least 1."""
    layers = network["layers"]
    return {i: max(1, layers[i]["out_channels"] - int(r * layers[i]["out_channels"] + 0.5))
            for i, r in rates.items()}


def keep_channels(importance: dict[int, np.ndarray],
                  counts: dict[int, int]) -> dict[int, np.ndarray]:
    """The ``counts[i]`` most important channels of each layer, in their original order
    (ties to the lower index)."""
    out = {}
    for i, n in counts.items():
        order = np.argsort(-np.asarray(importance[i]), kind="stable")
        out[i] = np.sort(order[:n])
    return out


@torch.no_grad()
def prune(net, keep: dict[int, np.ndarray]) -> QNet:
    """The network without the channels ``keep`` leaves out: a smaller float (not calibrated)
    :class:`QNet` whose kept channels hold the same weights.

    Parameters
    ----------
    net : QNet or TrainResult or Artifact or path
    keep : dict
        ``{conv layer index: indices of the output channels kept}``.

    Raises
    ------
    ValueError
        For a layer that is not a prunable conv or channel indices out of range or repeated.
    """
    net = as_qnet(net)
    network = trainable_network(net.network)
    consumers = prunable_layers(network)
    params = weights(net)
    keep = {i: np.asarray(k, np.int64) for i, k in keep.items()}
    for i, idx in keep.items():
        if i not in consumers:
            raise ValueError(f"keep: layer {i!r} is not a prunable conv2d (have "
                             f"{sorted(consumers)})")
        c = network["layers"][i]["out_channels"]
        if (idx.ndim != 1 or not len(idx) or len(np.unique(idx)) != len(idx)
                or idx.min() < 0 or idx.max() >= c):
            raise ValueError(f"keep[{i}] must be distinct channel indices in 0..{c - 1}, got "
                             f"{idx.tolist()!r}")
    for i, idx in keep.items():
        sel = torch.from_numpy(idx)
        w, b = params[i]
        params[i] = (w[sel], b[sel])
        network["layers"][i]["out_channels"] = len(idx)
        consumer = consumers[i]
        cw, cb = params[consumer.index]
        layer = network["layers"][consumer.index]
        if consumer.kind == "conv2d":
            params[consumer.index] = (cw[:, sel], cb)
            layer["in_channels"] = len(idx)
        else:
            # Features after a flatten: channel c is the block c*pixels .. (c+1)*pixels - 1.
            cols = (sel[:, None] * consumer.pixels + torch.arange(consumer.pixels)).reshape(-1)
            params[consumer.index] = (cw[:, cols], cb)
            layer["in_features"] = len(cols)
    return float_net(network, params)


def prune_network(source, rates, *, metric: str = "ezcrop", rounds: int = 1, loader=None,
                  fine_tune: TrainConfig = FINE_TUNE, progress: bool = False,
                  name: str | None = None, data: ImageSet = DIGITS) -> Compressed:
    """Prune ``source`` to per-layer ``rates`` by ``metric`` and fine-tune, in ``rounds``.

    Parameters
    ----------
    source : QNet or TrainResult or Artifact or path
        The trained network (of ``data``'s images).
    rates : float or dict
        Share of output channels each conv loses (:func:`check_rates`).
    metric : {"ezcrop", "hrank"}
        Channel importance: EZCrop's energy zone or HRank's rank.
    rounds : int
        Evaluate -> prune -> fine-tune this many times (1: one-shot).
    loader : iterable, optional
        Batches the metric runs on (default :func:`~.common.image_batches`: 5 seeded
        batches of 128 of ``data``'s training images, the authors' amount).
    fine_tune : TrainConfig
        The schedule of each round's fine-tuning (float then QAT).
    name : str, optional
        The result's preset label (default ``"<preset>-<metric>"``).
    data : ImageSet
        The images the metric and the fine-tuning read (default digits).

    Returns
    -------
    Compressed
        ``details``: rates, rounds, channels kept per layer (original indices), metric
        seconds per round, params and MACs before and after.

    Raises
    ------
    ValueError
        For a bad rate, metric or round count (naming it and the value), or a network that
        does not take ``data``'s images.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
    if not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
    net = as_qnet(source)
    data.check_input(net.network["input"])
    rates = check_rates(net.network, rates)
    before = network_summary(net.network)
    original = {i: np.arange(net.network["layers"][i]["out_channels"]) for i in rates}
    target = keep_counts(net.network, rates)
    loader = image_batches(data.load("train")[0]) if loader is None else loader
    label = name or result_label(source, metric)
    seconds, result = [], None
    for r in range(1, rounds + 1):
        importance, took = channel_importance(net, loader, metric, layers=sorted(rates))
        seconds.append(took)
        # An equal share of the channels still to go, per round; the last reaches the target.
        counts = {i: len(original[i]) - (len(original[i]) - target[i]) // (rounds - r + 1)
                  for i in rates}
        keep = keep_channels(importance, counts)
        original = {i: original[i][keep[i]] for i in rates}
        cfg = TrainConfig(**{**fine_tune.to_dict(), "seed": fine_tune.seed + r - 1})
        result = train_network(prune(net, keep), cfg, progress=progress, name=label,
                               data=data)
        net = result.net
    details = {"metric": metric, "rates": {str(i): r for i, r in rates.items()}, "rounds": rounds,
               "kept": {str(i): original[i].tolist() for i in rates},
               "metric_seconds": [round(s, 4) for s in seconds],
               "fine_tune": fine_tune.to_dict(), "before": before,
               "after": network_summary(net.network)}
    return Compressed(result=result, method=metric, details=details)
