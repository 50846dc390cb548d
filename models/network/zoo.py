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
- ``mnist-ref``: digits-ref's shape on MNIST's 28x28: conv3x3 1->8, relu, maxpool 2,
  conv3x3 8->16, relu, maxpool 2, flatten (784), linear 784->32, relu, linear 32->10,
  argmax: 56,448 + 225,792 + 25,088 + 320 = 307,648 MACs.
- ``cifar10-ref``: three conv blocks on CIFAR-10's 3x32x32: conv3x3 3->16, relu, maxpool
  2, conv3x3 16->32, relu, maxpool 2, conv3x3 32->32, relu, maxpool 2, flatten (512),
  linear 512->64, relu, linear 64->10, argmax: 442,368 + 1,179,648 + 589,824 + 32,768 +
  640 = 2,245,248 MACs.

The MNIST and CIFAR-10 presets train on a folder the user names
(:mod:`edgeforge.models.image_sets`).

Weights and activations are 8-bit by default (``weight_bits`` / ``out_bits``
2..8 per layer). :func:`with_transforms` recasts a preset's conv2d / linear layers as
another transform kind (PECAN-D: its groups, prototypes and table bits), all of them or a
mix (e.g. a dense first layer).
"""

from __future__ import annotations

import copy

from ..data_digits import INPUT as DIGITS_INPUT
from ..data_sets import CIFAR10_INPUT, MNIST_INPUT

__all__ = ["with_widths", "with_transforms", "pecan_d_group_size", "pecan_a_recip_shift",
           "PECAN_A_SOFTMAX", "PECAN_A_RECIP_ENTRIES", "PECAN_D_PROTOTYPES",
           "PECAN_D_TABLE_BITS", "layer_params", "layer_macs", "params", "PRESETS", "preset",
           "conv2d", "linear", "relu",
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
    "mnist-ref": {"input": MNIST_INPUT, "layers": [
        conv2d(1, 8), relu(), maxpool(2), conv2d(8, 16), relu(), maxpool(2), flatten(),
        linear(784, 32), relu(), linear(32, 10), argmax()]},
    "cifar10-ref": {"input": CIFAR10_INPUT, "layers": [
        conv2d(3, 16), relu(), maxpool(2), conv2d(16, 32), relu(), maxpool(2),
        conv2d(32, 32), relu(), maxpool(2), flatten(),
        linear(512, 64), relu(), linear(64, 10), argmax()]},
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


#: PECAN-D defaults: 16 prototypes a group, 8-bit tables (the benchmarks' digits-ref uses 64
#: for its first layer, ``bench/pecan_accuracy.py``). Its codebook and table bits fit the
#: UP5K's block RAM bits, but the folded core's ROMs take 41 of its 30 blocks (README).
PECAN_D_PROTOTYPES = 16
PECAN_D_TABLE_BITS = 8


#: PECAN-A's softmax parts for training (:mod:`edgeforge.models.pecan.layers_angle`): 8-bit
#: codebooks, a 64-entry 8-bit exp table (its step the layer's), a 12-bit reciprocal of
#: ``Z >> recip_shift`` with ``recip_shift`` the least that keeps it to
#: :data:`PECAN_A_RECIP_ENTRIES` entries.
PECAN_A_SOFTMAX = {"codebook_bits": 8, "exp_bits": 8, "exp_entries": 64, "recip_bits": 12}
PECAN_A_RECIP_ENTRIES = 1024


def pecan_a_recip_shift(prototypes: int, exp_bits: int) -> int:
    """The least ``recip_shift`` whose reciprocal table (one entry per ``Z >> recip_shift``,
    ``Z`` up to ``prototypes (2**exp_bits - 1)``) has at most :data:`PECAN_A_RECIP_ENTRIES`."""
    z_max = prototypes * ((1 << exp_bits) - 1)
    shift = 0
    while (z_max >> shift) + 1 > PECAN_A_RECIP_ENTRIES:
        shift += 1
    return shift


def pecan_d_group_size(layer: dict) -> int:
    """The default group size ``d`` of a conv2d / linear layer: a conv's channels at one tap
    (the whole window when it has one channel: a pixel alone is a poor vector), a linear's
    inputs in fours (one channel's 2x2 map after digits-ref's flatten) where 4 divides them."""
    if layer["kind"] == "conv2d":
        c = layer["in_channels"]
        return c if c > 1 else layer["kernel"] ** 2
    return 4 if layer["in_features"] % 4 == 0 else 1


def _per_layer(key: str, value, count: int, lo: int, hi: int | None) -> list:
    values = [value] * count if value is None or isinstance(value, int) else list(value)
    if len(values) != count:
        raise ValueError(f"{key} must be one value or one per PECAN layer ({count}), got "
                         f"{value!r}")
    for v in values:
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < lo
                              or (hi is not None and v > hi)):
            span = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            raise ValueError(f"{key} must be integers {span}, got {value!r}")
    return values


def with_transforms(network: dict, transforms="pecan-d", *, prototypes=None, group_size=None,
                    table_bits=None, prototype_offsets: bool = False) -> dict:
    """A copy of ``network`` with its conv2d / linear layers recast as other transform kinds.

    Parameters
    ----------
    transforms : str or sequence of str
        One kind for every conv2d / linear layer, or one per such layer in order
        (``["dense", "pecan-d", "pecan-d", "pecan-d"]``: a dense first layer).
    prototypes, group_size, table_bits : int, sequence of int or None
        The PECAN (D or A) layers' ``p``, ``d`` and table width: one value for every PECAN
        layer or one per PECAN layer in order; ``None``: :data:`PECAN_D_PROTOTYPES`,
        :func:`pecan_d_group_size`, :data:`PECAN_D_TABLE_BITS`. ``d`` must divide the
        layer's inputs (a conv's ``k k C``). A PECAN-A layer also gets
        :data:`PECAN_A_SOFTMAX` and :func:`pecan_a_recip_shift` (its ``exp_shift`` is set
        at calibration).
    prototype_offsets : bool
        Give every PECAN-A layer the transform's ``prototype_offsets`` option (each score
        plus ``-|c|**2 / 2``: a negative squared distance, see
        :class:`~edgeforge.schemes.network.PecanATransform`); off by default.

    Raises
    ------
    ValueError
        Naming the option, for an unknown kind, a value out of range, a list of the wrong
        length or a group size that does not divide its layer.
    """
    from edgeforge.schemes.network import TABLE_BITS, TRANSFORMS, with_transform
    out = copy.deepcopy(network)
    indices = [i for i, layer in enumerate(out["layers"]) if layer["kind"] in ("conv2d", "linear")]
    kinds = [transforms] * len(indices) if isinstance(transforms, str) else list(transforms)
    if len(kinds) != len(indices):
        raise ValueError(f"transforms must be one kind or one per conv2d/linear layer "
                         f"({len(indices)}), got {transforms!r}")
    # The kinds a network can be trained in: those with a torch layer.
    from .net import LAYERS
    trainable = sorted({t for _, t in LAYERS} & set(TRANSFORMS))
    for kind in kinds:
        if kind not in trainable:
            raise ValueError(f"transforms must be of {trainable}, got {kind!r}")
    pecan = [i for i, kind in zip(indices, kinds) if kind in ("pecan-d", "pecan-a")]
    ps = _per_layer("prototypes", prototypes, len(pecan), 1, None)
    ds = _per_layer("group_size", group_size, len(pecan), 1, None)
    tbs = _per_layer("table_bits", table_bits, len(pecan), *TABLE_BITS)
    for i, kind in zip(indices, kinds):
        if out["layers"][i].get("transform") != kind:
            out["layers"][i] = with_transform(out["layers"][i], kind)
    for i, p, d, tb in zip(pecan, ps, ds, tbs):
        layer = out["layers"][i]
        inputs = (layer["kernel"] ** 2 * layer["in_channels"] if layer["kind"] == "conv2d"
                  else layer["in_features"])
        d = pecan_d_group_size(layer) if d is None else d
        if inputs % d:
            raise ValueError(f"group_size must divide each PECAN layer's inputs: layer {i} has "
                             f"{inputs}, got {d!r}")
        layer.update(groups=inputs // d, group_size=d,
                     prototypes=PECAN_D_PROTOTYPES if p is None else p,
                     table_bits=PECAN_D_TABLE_BITS if tb is None else tb)
        if layer["transform"] == "pecan-a":
            layer.update(PECAN_A_SOFTMAX, exp_shift=0, recip_shift=pecan_a_recip_shift(
                layer["prototypes"], PECAN_A_SOFTMAX["exp_bits"]))
            if prototype_offsets:
                layer["prototype_offsets"] = True
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
