"""Named networks (presets) and the helpers that write their layer lists.

A preset is a network as :class:`~edgeforge.models.network.net.QNet` builds it:
the artifact's input and layer list without the trained fields (``shift``,
and ``bias_bits`` when left ``None``), which the exporter fills in.

- ``digits-ref``: conv3x3 1->8 (padding 1), relu, maxpool 2, conv3x3 8->8
  (padding 1), relu, maxpool 2, flatten (32), linear 32->32, relu, linear
  32->10, argmax: 4608 + 9216 + 1024 + 320 = 15,168 MACs per image. The
  reference every classifier issue reports against.
- ``digits-mlp``: flatten (64), linear 64->32, relu, linear 32->10, argmax
  (2,368 MACs), the fast MLP target.

Weights and activations are 8-bit by default (``weight_bits`` / ``out_bits``
2..8 per layer).
"""

from __future__ import annotations

import copy

from ..data_digits import INPUT as DIGITS_INPUT

__all__ = ["layer_macs", "PRESETS", "preset", "conv2d", "linear", "relu", "maxpool", "flatten",
           "argmax", "macs"]


def conv2d(in_channels: int, out_channels: int, kernel: int = 3, padding: int = 1, *,
           weight_bits: int = 8, out_bits: int = 8, bias_bits: int | None = None,
           transform: str = "dense") -> dict:
    """A conv2d layer dict (stride 1, zero padding); ``bias_bits=None``: the exporter picks the width."""
    return {"kind": "conv2d", "transform": transform, "in_channels": in_channels,
            "out_channels": out_channels, "kernel": kernel, "padding": padding,
            "weight_bits": weight_bits, "bias_bits": bias_bits, "out_bits": out_bits}


def linear(in_features: int, out_features: int, *, weight_bits: int = 8, out_bits: int = 8,
           bias_bits: int | None = None, transform: str = "dense") -> dict:
    """A linear layer dict; ``bias_bits=None``: the exporter picks the width."""
    return {"kind": "linear", "transform": transform, "in_features": in_features,
            "out_features": out_features, "weight_bits": weight_bits, "bias_bits": bias_bits,
            "out_bits": out_bits}


def relu() -> dict:
    return {"kind": "relu"}


def maxpool(size: int = 2) -> dict:
    return {"kind": "maxpool", "size": size}


def flatten() -> dict:
    return {"kind": "flatten"}


def argmax() -> dict:
    return {"kind": "argmax"}


PRESETS: dict[str, dict] = {
    "digits-ref": {"input": DIGITS_INPUT, "layers": [
        conv2d(1, 8), relu(), maxpool(2), conv2d(8, 8), relu(), maxpool(2), flatten(),
        linear(32, 32), relu(), linear(32, 10), argmax()]},
    "digits-mlp": {"input": DIGITS_INPUT, "layers": [
        flatten(), linear(64, 32), relu(), linear(32, 10), argmax()]},
}


def preset(name: str) -> dict:
    """A fresh copy of the named network.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`PRESETS`.
    """
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
    return copy.deepcopy(PRESETS[name])


def layer_macs(network: dict) -> dict[int, int]:
    """Multiply-accumulates per image of each conv2d and linear layer, by layer index."""
    from .net import check_network
    shapes = check_network(network)
    out = {}
    for index, (layer, shape) in enumerate(zip(network["layers"], shapes)):
        if layer["kind"] == "conv2d":
            out[index] = shape[0] * shape[1] * shape[2] * layer["in_channels"] * layer["kernel"] ** 2
        elif layer["kind"] == "linear":
            out[index] = layer["in_features"] * layer["out_features"]
    return out


def macs(network: dict) -> int:
    """Multiply-accumulates per image of the conv2d and linear layers."""
    return sum(layer_macs(network).values())
