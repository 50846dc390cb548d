"""The network walker: integer NumPy over a network artifact's layer list (the spec, bit for bit).

Shared by every transform kind: the transform (``Transform.golden``, e.g.
:func:`edgeforge.sim.golden.dense.accumulate`) gives a conv2d or linear
layer's accumulators; this module requantises them (round half up, saturate,
relu fused), pools, flattens in torch's order and takes the arg-max (ties to
the lowest index). Everything is batched over images: ``(N, C, H, W)`` maps,
``(N, F)`` vectors, int64 throughout.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from edgeforge.schemes.network import Network, clip_range, parse_network

__all__ = ["requantise", "maxpool", "argmax", "run_layer", "forward", "classify", "Classified"]


def requantise(acc: np.ndarray, shift: int, lo: int, hi: int) -> np.ndarray:
    """``clip((acc + (1 << (shift - 1))) >> shift, lo, hi)``; ``clip(acc, lo, hi)`` for shift 0."""
    acc = np.asarray(acc, np.int64)
    if shift:
        acc = (acc + (1 << (shift - 1))) >> shift          # >> on int64 floors: arithmetic
    return np.clip(acc, lo, hi)


def maxpool(x: np.ndarray, size: int) -> np.ndarray:
    """Max over each ``size`` x ``size`` window of ``x`` ``(N, C, H, W)`` (stride ``size``)."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // size, size, w // size, size).max(axis=(3, 5))


def argmax(logits: np.ndarray) -> np.ndarray:
    """Index of the largest logit per row; ``np.argmax`` returns the first, the lowest, on a tie."""
    return np.argmax(logits, axis=-1)


@lru_cache(maxsize=None)
def _transform_golden(target: str):
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def run_layer(network: Network, arrays, index: int, x: np.ndarray) -> np.ndarray:
    """Layer ``index``'s output on its input batch ``x`` (relu layers pass through: the
    preceding layer's clip applied them; argmax gives the class indices)."""
    layer = network.layers[index]
    if layer.transform is not None:
        acc = _transform_golden(layer.transform.golden)(layer, arrays, x)
        return requantise(acc, layer.fields["shift"], *clip_range(layer))
    if layer.kind == "maxpool":
        return maxpool(x, layer.fields["size"])
    if layer.kind == "flatten":
        return x.reshape(len(x), -1)                      # c*H*W + h*W + w: torch's order
    if layer.kind == "argmax":
        return argmax(x)
    return x                                              # relu


def _batch(network: Network, images) -> np.ndarray:
    x = np.asarray(images)
    shape = network.input_shape
    if x.shape == shape:
        x = x[None]
    if x.ndim != 4 or x.shape[1:] != shape or x.dtype != np.uint8:
        raise ValueError(f"images must be uint8 of shape {shape!r} or (N, *{shape!r}), "
                         f"got {x.dtype} {x.shape!r}")
    return x.astype(np.int64)


def forward(artifact, images, upto: int | None = None) -> list[np.ndarray]:
    """Every layer's output (of the first ``upto`` layers) on uint8 images ``(N, C, H, W)``."""
    network = parse_network(artifact.config)
    x = _batch(network, images)
    outputs = []
    for index in range(len(network.layers[:upto])):
        x = run_layer(network, artifact.arrays, index, x)
        outputs.append(x)
    return outputs


@dataclass(frozen=True)
class Classified:
    """The golden answer for a batch: the logits ``(N, classes)`` and the classes ``(N,)``."""
    logits: np.ndarray
    classes: np.ndarray


def classify(artifact, images) -> Classified:
    """Logits (the last linear layer's requantised outputs) and arg-max classes of a batch."""
    outputs = forward(artifact, images)
    if parse_network(artifact.config).layers[-1].kind != "argmax":
        raise ValueError("classify needs a network that ends in argmax, got "
                         f"{parse_network(artifact.config).layers[-1].kind!r}")
    return Classified(logits=outputs[-2], classes=outputs[-1])
