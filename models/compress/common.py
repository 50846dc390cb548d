"""What channel pruning and rank factorisation share: the network to start from, its float copy,
rebuilding a smaller layer list around new weights, and the result they return.

Both methods end in a *dense* network (fewer channels, or a conv split into
1x1 -> DxD -> 1x1) that :func:`~edgeforge.models.network.train.train_network`
fine-tunes (given the float network to start from) and :func:`~edgeforge.models.network.export.export_network`
exports like any other, so it compiles onto the dense engine unchanged.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch

from ...artifact import Artifact
from ..data_digits import load_digits
from ..network.net import QNet
from ..network.train import TrainConfig, TrainResult
from ..network.zoo import layer_macs
from . import FINE_TUNE_FIELDS

__all__ = ["FINE_TUNE", "Compressed", "as_qnet", "trainable_network", "float_net", "weights",
           "param_count", "network_summary", "image_batches", "result_label"]

#: The schedule of fine-tuning after pruning or factorisation (:data:`FINE_TUNE_FIELDS`).
FINE_TUNE = TrainConfig(**FINE_TUNE_FIELDS)


@dataclass
class Compressed:
    """A pruned or factorised network after fine-tuning.

    Attributes
    ----------
    result : TrainResult
        The fine-tuned fixed-point network (``export_network(compressed.result, ...)``).
    method : str
        ``"ezcrop"``, ``"hrank"``, ``"nrmf"`` or ``"vbmf"``.
    details : dict
        JSON data for the artifact's provenance (``provenance={"compression": details}``):
        the method's settings, channels kept or ranks per layer, parameters and MACs
        before and after, metric time.
    """
    result: TrainResult
    method: str
    details: dict = field(default_factory=dict)

    def provenance(self) -> dict:
        return {"compression": {"method": self.method, **self.details}}


def as_qnet(source) -> QNet:
    """The torch network of ``source``: a :class:`QNet`, a :class:`TrainResult`, an artifact
    or an artifact's path (its fixed-point model, :func:`network_from_artifact`).

    Raises
    ------
    TypeError
        For anything else.
    """
    from ...artifact import load
    from ..network.export import network_from_artifact
    if isinstance(source, QNet):
        return source
    if isinstance(source, TrainResult):
        return source.net
    if isinstance(source, Artifact):
        return network_from_artifact(source)
    if isinstance(source, str) or hasattr(source, "__fspath__"):
        return network_from_artifact(load(source))
    raise TypeError(f"source must be a QNet, TrainResult, network artifact or its path, "
                    f"got {type(source).__name__!r}")


def trainable_network(network: dict) -> dict:
    """A copy of ``network`` with the fields the exporter derives taken out again (``shift``;
    ``bias_bits`` back to ``None``), so that it trains and re-exports after surgery."""
    out = copy.deepcopy(network)
    for layer in out["layers"]:
        if layer["kind"] in ("conv2d", "linear"):
            layer.pop("shift", None)
            layer["bias_bits"] = None
    return out


def weights(net: QNet) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """``{layer index: (weight, bias)}`` of every conv2d / linear, float32 copies (the
    dequantised integers of a calibrated network)."""
    return {i: (m.weight.detach().to(torch.float32).clone(),
                m.bias.detach().to(torch.float32).clone()) for i, m in net.quant_layers()}


@torch.no_grad()
def float_net(network: dict, params: dict[int, tuple[torch.Tensor, torch.Tensor]]) -> QNet:
    """A float (not calibrated) :class:`QNet` of ``network`` holding ``params``
    (``{layer index: (weight, bias)}``, one entry per conv2d / linear layer).

    Raises
    ------
    ValueError
        If ``params`` misses a layer or a shape differs from the layer's.
    """
    net = QNet(trainable_network(network))
    for i, m in net.quant_layers():
        if i not in params:
            raise ValueError(f"params has no weights for layer {i} ({m.kind})")
        w, b = params[i]
        if tuple(w.shape) != tuple(m.weight.shape) or tuple(b.shape) != tuple(m.bias.shape):
            raise ValueError(f"layer {i} weights must be {tuple(m.weight.shape)} and "
                             f"{tuple(m.bias.shape)}, got {tuple(w.shape)} and {tuple(b.shape)}")
        m.weight.copy_(w)
        m.bias.copy_(b)
    return net


def param_count(network: dict) -> int:
    """Weights and biases of the conv2d / linear layers."""
    total = 0
    for layer in network["layers"]:
        if layer["kind"] == "conv2d":
            total += layer["out_channels"] * (layer["in_channels"] * layer["kernel"] ** 2 + 1)
        elif layer["kind"] == "linear":
            total += layer["out_features"] * (layer["in_features"] + 1)
    return total


def network_summary(network: dict) -> dict:
    """Parameters and MACs per image of a network, and its conv2d / linear shapes."""
    shapes = []
    for layer in network["layers"]:
        if layer["kind"] == "conv2d":
            shapes.append(f"conv{layer['kernel']}x{layer['kernel']} "
                          f"{layer['in_channels']}->{layer['out_channels']}")
        elif layer["kind"] == "linear":
            shapes.append(f"linear {layer['in_features']}->{layer['out_features']}")
    return {"params": param_count(network), "macs": sum(layer_macs(network).values()),
            "layers": shapes}


def image_batches(images: np.ndarray | None = None, *, batch: int = 128, batches: int = 5,
                  seed: int = 0) -> list[np.ndarray]:
    """``batches`` seeded random batches of ``batch`` images (without repeats while they
    last): the data an importance metric runs on. Default images: the digits training split.

    Raises
    ------
    ValueError
        For a non-positive ``batch`` or ``batches``.
    """
    for name, value in (("batch", batch), ("batches", batches)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if images is None:
        images = load_digits("train")[0]
    order = np.random.default_rng(seed).permutation(len(images))
    need = batch * batches
    order = np.resize(order, need) if need > len(order) else order[:need]
    return [images[order[k:k + batch]] for k in range(0, need, batch)]


def result_label(source, method: str) -> str:
    """``"<preset>-<method>"``: what a compressed network's provenance calls it, the preset
    taken from a TrainResult or an artifact's provenance (``"network"`` when unknown)."""
    from ...artifact import load
    if isinstance(source, TrainResult):
        base = source.preset
    elif isinstance(source, Artifact):
        base = source.provenance.get("preset")
    elif isinstance(source, str) or hasattr(source, "__fspath__"):
        base = load(source).provenance.get("preset")
    else:
        base = None
    return f"{base or 'network'}-{method}"
