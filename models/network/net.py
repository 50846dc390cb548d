"""A classifier network built from its ordered layer list, trainable in float and in fixed point.

The layer list is the network artifact's (``/work/spec-network.md``): dicts of
kind ``conv2d``, ``linear`` (each with a transform kind), ``relu``,
``maxpool``, ``flatten`` and ``argmax``. Before the artifact exists (a preset
from :mod:`.zoo`) a conv2d or linear layer may leave ``shift`` out and
``bias_bits`` as ``None``: the exporter fills them in. :func:`check_network`
checks what building and training need (kinds, fields, bit ranges, the shape
chain); the artifact's full validation is the scheme's, on export and load.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from .quant import LAYERS, QuantLayer

__all__ = ["check_network", "QNet"]

_INPUT_FIELDS = ("channels", "height", "width", "bits")
_QUANT_FIELDS = {"conv2d": ("transform", "in_channels", "out_channels", "kernel", "padding",
                            "weight_bits", "out_bits"),
                 "linear": ("transform", "in_features", "out_features", "weight_bits", "out_bits")}
_OPTIONAL_FIELDS = ("bias_bits", "shift")
_PLAIN_FIELDS = {"relu": (), "maxpool": ("size",), "flatten": (), "argmax": ()}
KINDS = tuple(_QUANT_FIELDS) + tuple(_PLAIN_FIELDS)


def _int(where: str, value, lo: int, hi: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < lo or (hi is not None
                                                                                and value > hi):
        span = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{where} must be an integer {span}, got {value!r}")
    return value


def _check_fields(where: str, layer: dict, required: tuple, optional: tuple) -> None:
    for f in required:
        if f not in layer:
            raise ValueError(f"{where}.{f} is missing")
    for f in layer:
        if f != "kind" and f not in required and f not in optional:
            raise ValueError(f"{where} has an unknown field {f!r}")


def _check_quant(where: str, layer: dict, shape: tuple) -> tuple:
    kind = layer["kind"]
    if (kind, layer["transform"]) not in LAYERS:
        known = sorted(t for k, t in LAYERS if k == kind)
        raise ValueError(f"{where}.transform must be one of {known}, got {layer['transform']!r}")
    for f in ("weight_bits", "out_bits"):
        _int(f"{where}.{f}", layer[f], 2, 8)
    if layer.get("bias_bits") is not None:
        _int(f"{where}.bias_bits", layer["bias_bits"], 2, 32)
    if "shift" in layer:
        _int(f"{where}.shift", layer["shift"], 0)
    if kind == "conv2d":
        if len(shape) != 3:
            raise ValueError(f"{where} is a conv2d but its input is a vector of shape {shape!r}")
        k = _int(f"{where}.kernel", layer["kernel"], 1)
        if k % 2 == 0:
            raise ValueError(f"{where}.kernel must be odd, got {k!r}")
        pad = _int(f"{where}.padding", layer["padding"], 0, k // 2)
        if _int(f"{where}.in_channels", layer["in_channels"], 1) != shape[0]:
            raise ValueError(f"{where}.in_channels must match its input's {shape[0]} channels, "
                             f"got {layer['in_channels']!r}")
        h, w = shape[1] + 2 * pad - k + 1, shape[2] + 2 * pad - k + 1
        if h < 1 or w < 1:
            raise ValueError(f"{where}.kernel {k!r} is larger than its padded input {shape!r}")
        return (_int(f"{where}.out_channels", layer["out_channels"], 1), h, w)
    if len(shape) != 1:
        raise ValueError(f"{where} is a linear layer but its input has shape {shape!r}; "
                         f"flatten it first")
    if _int(f"{where}.in_features", layer["in_features"], 1) != shape[0]:
        raise ValueError(f"{where}.in_features must match its input's {shape[0]} values, "
                         f"got {layer['in_features']!r}")
    return (_int(f"{where}.out_features", layer["out_features"], 1),)


def _check_plain(where: str, layer: dict, shape: tuple, prev: str | None, last: bool) -> tuple:
    kind = layer["kind"]
    if kind == "relu":
        if prev not in _QUANT_FIELDS:
            raise ValueError(f"{where} is a relu after {prev!r}; a relu must directly follow a "
                             f"conv2d or linear layer")
        return shape
    if kind == "argmax":
        if not last or prev != "linear":
            raise ValueError(f"{where} is an argmax; it must be the last layer, directly after a "
                             f"linear layer")
        return shape
    if len(shape) != 3:
        raise ValueError(f"{where} is a {kind} but its input is a vector of shape {shape!r}")
    if kind == "flatten":
        return (shape[0] * shape[1] * shape[2],)
    s = _int(f"{where}.size", layer["size"], 2)
    if shape[1] % s or shape[2] % s:
        raise ValueError(f"{where}.size must divide its input's height and width {shape[1:]!r}, "
                         f"got {s!r}")
    return (shape[0], shape[1] // s, shape[2] // s)


def check_network(network: dict) -> list[tuple]:
    """Check a network's input and layer list; return each layer's output shape.

    Parameters
    ----------
    network : dict
        ``{"input": {"channels", "height", "width", "bits"}, "layers": [...]}``.

    Returns
    -------
    list of tuple
        The output shape of every layer, ``(C, H, W)`` or ``(F,)``.

    Raises
    ------
    ValueError
        Naming the field (``input.bits``, ``layers[3].kernel``, ...) and the value.
    """
    if not isinstance(network, dict) or set(network) != {"input", "layers"}:
        raise ValueError(f"network must be a dict with keys 'input' and 'layers', got {network!r}")
    inp = network["input"]
    if not isinstance(inp, dict):
        raise ValueError(f"input must be a dict, got {inp!r}")
    _check_fields("input", {"kind": None, **inp}, _INPUT_FIELDS, ())
    shape = tuple(_int(f"input.{f}", inp[f], 1) for f in _INPUT_FIELDS[:3])
    _int("input.bits", inp["bits"], 1, 8)
    layers = network["layers"]
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"layers must be a non-empty list, got {layers!r}")
    shapes, prev = [], None
    for i, layer in enumerate(layers):
        where = f"layers[{i}]"
        kind = layer.get("kind") if isinstance(layer, dict) else None
        if kind not in KINDS:
            raise ValueError(f"{where}.kind must be one of {list(KINDS)}, got {kind!r}")
        if kind in _QUANT_FIELDS:
            _check_fields(where, layer, _QUANT_FIELDS[kind], _OPTIONAL_FIELDS)
            shape = _check_quant(where, layer, shape)
        else:
            _check_fields(where, layer, _PLAIN_FIELDS[kind], ())
            shape = _check_plain(where, layer, shape, prev, i == len(layers) - 1)
        shapes.append(shape)
        prev = kind
    return shapes


def _module(layer: dict, next_kind: str | None) -> nn.Module:
    kind = layer["kind"]
    if kind in _QUANT_FIELDS:
        return LAYERS[kind, layer["transform"]](layer, unsigned=next_kind == "relu")
    if kind == "maxpool":
        return nn.MaxPool2d(layer["size"])
    # After calibration the layer before a relu already saturates at 0; the
    # relu then changes nothing, as the spec folds it into the requantisation.
    return {"relu": nn.ReLU, "flatten": nn.Flatten, "argmax": nn.Identity}[kind]()


class QNet(nn.Module):
    """The torch model of a network layer list: float before :meth:`calibrate`, fixed point after.

    ``forward`` takes the input on its grid (``pixel / 2**bits``, see
    :meth:`inputs`) and returns the logits (the argmax layer is applied by
    :meth:`predict`, ties to the lowest index as ``torch.argmax`` does).

    Parameters
    ----------
    network : dict
        The network (:func:`check_network`); kept as :attr:`network`.

    Raises
    ------
    ValueError
        From :func:`check_network`.
    """

    def __init__(self, network: dict):
        super().__init__()
        self.shapes = check_network(network)
        self.network = copy.deepcopy(network)
        kinds = [layer["kind"] for layer in network["layers"]] + [None]
        self.layers = nn.ModuleList(_module(layer, kinds[i + 1])
                                    for i, layer in enumerate(network["layers"]))
        self.input_bits = network["input"]["bits"]
        inp = network["input"]
        self.input_shape = (inp["channels"], inp["height"], inp["width"])

    def quant_layers(self) -> list[tuple[int, QuantLayer]]:
        """``(index in the layer list, layer)`` of every conv2d and linear layer."""
        return [(i, m) for i, m in enumerate(self.layers) if isinstance(m, QuantLayer)]

    @property
    def quantized(self) -> bool:
        return all(m.quantized for _, m in self.quant_layers())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for m in self.layers:
            x = m(x)
        return x

    def inputs(self, images: np.ndarray) -> torch.Tensor:
        """uint8 images ``(N, C, H, W)`` as the float input ``pixel * 2**-bits`` (exact)."""
        if (not isinstance(images, np.ndarray) or images.dtype != np.uint8
                or images.shape[1:] != self.input_shape):
            got = (f"{images.dtype} {images.shape!r}" if isinstance(images, np.ndarray)
                   else type(images).__name__)
            raise ValueError(f"images must be uint8 of shape (N, {', '.join(map(str, self.input_shape))})"
                             f", got {got}")
        if self.input_bits < 8 and images.max(initial=0) >= 1 << self.input_bits:
            raise ValueError(f"images must hold {self.input_bits}-bit pixels, got a pixel "
                             f"{int(images.max())!r}")
        dtype = next(self.parameters()).dtype
        return torch.from_numpy(images).to(dtype) * 2.0 ** -self.input_bits

    @torch.no_grad()
    def logits(self, images: np.ndarray) -> torch.Tensor:
        """Logits of uint8 images in evaluation mode (``y_int * 2**-a_out`` once calibrated)."""
        training = self.training
        self.eval()
        try:
            return self(self.inputs(images))
        finally:
            self.train(training)

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Class of each uint8 image: the arg-max of its logits, ties to the lowest index."""
        return self.logits(images).argmax(dim=1).numpy()

    @torch.no_grad()
    def calibrate(self, images: np.ndarray) -> None:
        """Fix every layer's exponents from ``images`` (the training set), first layer first.

        The weight exponent comes from ``max |w|``; the output exponent from the
        largest accumulator over ``images`` (integer weights, layers before
        already quantised), so that no weight and no training activation
        saturates, and ``shift >= 0``.
        """
        h, a = self.inputs(images), self.input_bits
        for m in self.layers:
            if isinstance(m, QuantLayer):
                m.calibrate_weights(a)
                acc = m.accumulate(h)
                m.calibrate_output((acc.clamp(min=0) if m.unsigned else acc.abs()).max().item())
                a = m.a_out
            h = m(h)

    def scales(self) -> dict:
        """The artifact's ``scales``: ``{"l{i}": {"a_in", "f_w", "a_out"}}`` per conv2d / linear layer."""
        return {f"l{i}": m.exponents() for i, m in self.quant_layers()}
