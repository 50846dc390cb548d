"""Named networks (presets) and the helpers that write their layer lists.

A preset is a network as :class:`~edgeforge.models.network.net.QNet` builds it:
the artifact's input and layer list without the trained fields (``shift``,
and ``bias_bits`` when left ``None``), which the exporter fills in.

- ``digits-ref``: conv3x3 1->8 (padding 1), relu, maxpool 2, conv3x3 8->8
  (padding 1), relu, maxpool 2, flatten (32), linear 32->32, relu, linear
  32->10, argmax: 4608 + 9216 + 1024 + 320 = 15,168 MACs per image. The
  reference every classifier issue reports against.
- ``digits-wide``: digits-ref's shape with 16 and 32 channels, conv3x3 1->16,
  relu, maxpool 2, conv3x3 16->32, relu, maxpool 2, flatten (128), linear
  128->32, relu, linear 32->10, argmax: 9216 + 73,728 + 4096 + 320 = 87,360
  MACs. Wide enough that channel pruning and rank factorisation
  (:mod:`edgeforge.models.compress`) have something to remove.
- ``digits-mlp``: flatten (64), linear 64->32, relu, linear 32->10, argmax
  (2,368 MACs), the fast MLP target.

Weights and activations are 8-bit by default (``weight_bits`` / ``out_bits``
2..8 per layer).
"""

from __future__ import annotations

import copy

from ..data_digits import INPUT as DIGITS_INPUT

__all__ = ["with_widths", "layer_params", "layer_macs", "params", "PRESETS", "preset", "conv2d", "linear", "relu",
           "maxpool", "flatten", "argmax", "macs"]


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
    "digits-wide": {"input": DIGITS_INPUT, "layers": [
        conv2d(1, 16), relu(), maxpool(2), conv2d(16, 32), relu(), maxpool(2), flatten(),
        linear(128, 32), relu(), linear(32, 10), argmax()]},
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


def with_widths(network: dict, *, weight_bits=None, out_bits=None) -> dict:
    """A copy of ``network`` with its conv2d / linear widths set.

    Parameters
    ----------
    weight_bits, out_bits : int, sequence of int or None
        One width for every conv2d / linear layer, or one per such layer in order
        (``None``: keep the network's). Each 2..8: the scheme's range
        (``edgeforge.schemes.network.WEIGHT_BITS`` / ``OUT_BITS``).

    Raises
    ------
    ValueError
        Naming the option, for a width outside 2..8 or a list of the wrong length.
    """
    from edgeforge.schemes.network import OUT_BITS, WEIGHT_BITS
    out = copy.deepcopy(network)
    layers = [layer for layer in out["layers"] if layer["kind"] in ("conv2d", "linear")]
    for key, value, (lo, hi) in (("weight_bits", weight_bits, WEIGHT_BITS),
                                 ("out_bits", out_bits, OUT_BITS)):
        if value is None:
            continue
        values = [value] * len(layers) if isinstance(value, int) else list(value)
        if len(values) != len(layers):
            raise ValueError(f"{key} must be one width or one per conv2d/linear layer "
                             f"({len(layers)}), got {value!r}")
        for v in values:
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"{key} must be integers {lo}..{hi}, got {value!r}")
        for layer, v in zip(layers, values):
            layer[key] = v
    return out


def layer_params(layer: dict) -> int:
    """Weights of a conv2d or linear layer dict (biases not counted): a DeBut chain's
    nonzeros, padded rows included (the hardware computes them), else the dense count."""
    if layer.get("transform") == "debut":
        from edgeforge.schemes.network_debut import chain_params
        return chain_params(layer["factors"])
    if layer["kind"] == "conv2d":
        return layer["out_channels"] * layer["in_channels"] * layer["kernel"] ** 2
    return layer["in_features"] * layer["out_features"]


def layer_macs(network: dict) -> dict[int, int]:
    """Multiply-accumulates per image of each conv2d and linear layer, by layer index
    (vectors an image times :func:`layer_params`: a DeBut chain's MACs a vector are its
    nonzeros)."""
    from .net import check_network
    shapes = check_network(network)
    out = {}
    for index, (layer, shape) in enumerate(zip(network["layers"], shapes)):
        if layer["kind"] == "conv2d":
            out[index] = shape[1] * shape[2] * layer_params(layer)
        elif layer["kind"] == "linear":
            out[index] = layer_params(layer)
    return out


def params(network: dict) -> int:
    """Weights of the conv2d and linear layers (:func:`layer_params`)."""
    return sum(layer_params(layer) for layer in network["layers"]
               if layer["kind"] in ("conv2d", "linear"))


def macs(network: dict) -> int:
    """Multiply-accumulates per image of the conv2d and linear layers."""
    return sum(layer_macs(network).values())
