"""A classifier network built from its ordered layer list, trainable in float and in fixed point.

The layer list is the network artifact's (:mod:`edgeforge.schemes.network`): dicts of
kind ``conv2d``, ``linear`` (each with a transform kind), ``relu``,
``maxpool``, ``flatten`` and ``argmax``. Before the artifact exists (a preset
from :mod:`.zoo`) a conv2d or linear layer may leave ``shift`` out and
``bias_bits`` as ``None``: the exporter fills them in. :func:`check_network`
runs the scheme's own check on it, so a network that trains is one that exports.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ...artifact import ArtifactError
from ...schemes.network import TRANSFORM_LAYERS, parse_network
from ..debut import layers as _debut_layers  # noqa: F401  (registers the debut rows of LAYERS)
from ..pecan import layers as _pecan_layers  # noqa: F401  (registers the pecan-d rows of LAYERS)
from ..pecan import layers_angle as _angle_layers  # noqa: F401  (the pecan-a rows)
from .quant import LAYERS, QuantLayer

__all__ = ["check_network", "QNet"]

# Fields the exporter derives from the trained network: a preset may leave them out (or
# bias_bits as None); for checking, they get values every layer accepts.
_DERIVED_PLACEHOLDERS = {"shift": 0, "bias_bits": 32}


def _with_placeholders(network: dict) -> dict:
    """A copy of ``network`` whose conv2d / linear layers have a value for every derived field."""
    if not isinstance(network, dict) or not isinstance(network.get("layers"), list):
        return network                  # malformed: the scheme's check names what is wrong
    layers = []
    for layer in network["layers"]:
        if isinstance(layer, dict) and layer.get("kind") in TRANSFORM_LAYERS:
            layer = dict(layer)
            for key, value in _DERIVED_PLACEHOLDERS.items():
                if layer.get(key) is None:
                    layer[key] = value
        layers.append(layer)
    return {**network, "layers": layers}


def _parse(network: dict):
    parsed = parse_network(_with_placeholders(network))
    for layer in parsed.layers:
        if layer.kind in TRANSFORM_LAYERS and (layer.kind, layer.fields["transform"]) not in LAYERS:
            known = sorted(t for k, t in LAYERS if k == layer.kind)
            raise ArtifactError(f"config.layers[{layer.index}].transform",
                                f"no torch layer for {layer.fields['transform']!r} (have {known})")
    return parsed


def check_network(network: dict) -> list[tuple]:
    """Check a network's input and layer list; return each layer's output shape.

    The check is the scheme's (:func:`edgeforge.schemes.network.parse_network`),
    with ``shift`` and a ``bias_bits`` of ``None`` allowed to be absent on
    conv2d / linear layers; each such layer's transform kind must also have a
    torch layer in :data:`~edgeforge.models.network.quant.LAYERS`.

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
        An :class:`~edgeforge.artifact.ArtifactError` naming the field
        (``config.input.bits``, ``config.layers[3].kernel``, ...) and the value.
    """
    return [layer.out_shape for layer in _parse(network).layers]


def _module(layer: dict, next_kind: str | None) -> nn.Module:
    kind = layer["kind"]
    if kind in TRANSFORM_LAYERS:
        return LAYERS[kind, layer["transform"]](layer, unsigned=next_kind == "relu")
    if kind == "maxpool":
        return nn.MaxPool2d(layer["size"])
    # After calibration the layer before a relu already saturates at 0; the
    # relu then changes nothing, as the scheme folds it into the requantisation.
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
        parsed = _parse(network)
        self.shapes = [layer.out_shape for layer in parsed.layers]
        self.network = copy.deepcopy(network)
        kinds = [layer["kind"] for layer in network["layers"]] + [None]
        self.layers = nn.ModuleList(_module(layer, kinds[i + 1])
                                    for i, layer in enumerate(network["layers"]))
        for i, m in self.quant_layers():
            m.in_type = parsed.input_type(i)
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
                m.calibrate(h, a)
                a = m.a_out
            h = m(h)

    @torch.no_grad()
    def init_from_data(self, images: np.ndarray, generator: torch.Generator,
                       only=None) -> None:
        """Each conv2d / linear layer's :meth:`~.quant.QuantLayer.init_from_data` on its
        inputs over ``images``, first layer first (a layer sees the inputs that the layers
        before it, initialised already, give it); with ``only`` (layer-list indices), those
        layers' alone."""
        h = self.inputs(images)
        for i, m in enumerate(self.layers):
            if isinstance(m, QuantLayer) and (only is None or i in only):
                m.init_from_data(h, generator)
            h = m(h)

    def set_warmup(self, on: bool) -> None:
        """Every conv2d / linear layer's :meth:`~.quant.QuantLayer.set_warmup`."""
        for _, m in self.quant_layers():
            m.set_warmup(on)

    def set_soft(self, tau: float | None) -> None:
        """Every conv2d / linear layer's :meth:`~.quant.QuantLayer.set_soft`."""
        for _, m in self.quant_layers():
            m.set_soft(tau)

    def set_schedule(self, step: int, steps: int) -> None:
        """Tell every conv2d / linear layer that training is at ``step`` of ``steps``."""
        for _, m in self.quant_layers():
            m.set_schedule(step, steps)

    def scales(self) -> dict:
        """The artifact's ``scales``: ``{"l{i}": {"a_in", "f_w", "a_out", ...}}`` per conv2d /
        linear layer (a transform kind may add exponents of its own: DeBut's per factor)."""
        return {f"l{i}": m.exponents() for i, m in self.quant_layers()}
