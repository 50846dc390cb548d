"""Bicubic golden model: the integer fixed-point interpolation the hardware computes, in NumPy.

The arithmetic is stated once, in :mod:`edgeforge.schemes.bicubic`: Keys' kernel with
``a = -0.5`` at Pillow's half-pixel positions, ``scale x 4`` coefficients of
``coef_bits`` fractional bits, replicate border, separable (vertical pass, then
horizontal, as the engine; exact integers, so the order does not change the sums), the
4 x 4 tap sum rounded half up by ``2^(2F)`` and clamped to uint8. :func:`tap_sums` gives
the two passes' exact integers, which the engine's widths must hold.
:func:`float_upscale` is the same interpolation in float64 with the exact kernel (the
reference the integer model is held to), and
:func:`pillow_upscale` is Pillow's own ``BICUBIC`` resize (rounds to uint8 between
its passes and renormalises the taps at the border), reported beside it.
"""

from __future__ import annotations

import numpy as np

from edgeforge.artifact import Artifact
from edgeforge.images import check_uint8_image
from edgeforge.schemes.bicubic import RADIUS, TAPS, BicubicConfig, kernel, phase_offset

__all__ = ["resolve", "tap_sums", "upscale", "float_upscale", "pillow_upscale"]


def resolve(artifact_or_config) -> BicubicConfig:
    """The :class:`BicubicConfig` of a ``"bicubic"`` artifact, or a config itself.

    Raises
    ------
    ValueError
        For an artifact of another scheme.
    TypeError
        For anything else.
    """
    if isinstance(artifact_or_config, BicubicConfig):
        return artifact_or_config
    if isinstance(artifact_or_config, Artifact):
        if artifact_or_config.scheme != "bicubic":
            raise ValueError(f"artifact must be of scheme 'bicubic', got scheme "
                             f"{artifact_or_config.scheme!r}")
        return BicubicConfig.from_dict(artifact_or_config.config)
    raise TypeError(f"artifact_or_config must be an Artifact or a BicubicConfig, got "
                    f"{type(artifact_or_config).__name__!r}")


def _pass(plane: np.ndarray, weights, offsets, axis: int) -> np.ndarray:
    """One separable pass along ``axis``: ``len(weights)`` phases, output pixel ``r i + p``
    the weighted sum of pixels ``i + offsets[p] + k`` (replicate border)."""
    plane = np.moveaxis(plane, axis, -1)
    n = plane.shape[-1]
    padded = np.concatenate([np.repeat(plane[..., :1], RADIUS, axis=-1), plane,
                             np.repeat(plane[..., -1:], RADIUS, axis=-1)], axis=-1)
    scale = len(weights)
    out = np.zeros(plane.shape[:-1] + (n * scale,), dtype=np.result_type(plane, weights[0][0]))
    for p, (w, o) in enumerate(zip(weights, offsets)):
        acc = out[..., p::scale]
        for k in range(TAPS):
            start = RADIUS + o + k
            acc += w[k] * padded[..., start:start + n]
    return np.moveaxis(out, -1, axis)


def _planes(image: np.ndarray):
    return [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]


def _stack(planes, image):
    return planes[0] if image.ndim == 2 else np.stack(planes, axis=2)


def _check_image(image: np.ndarray, name: str) -> np.ndarray:
    if image.size == 0:
        raise ValueError(f"{name} must have at least one pixel, got shape {image.shape!r}")
    return image


def _sums(config: BicubicConfig, plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, offsets = config.coefficients(), config.offsets()
    column = _pass(plane.astype(np.int64), c, offsets, axis=0)
    return column, _pass(column, c, offsets, axis=1)


def tap_sums(artifact_or_config, plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact integers of one uint8 plane ``(H, W)``'s two passes, as the engine forms them.

    Returns
    -------
    tuple of numpy.ndarray
        int64 ``V`` ``(H r, W)``, the vertical pass (row ``r i + p_y``: every column's sum
        for phase row ``p_y`` of anchor row ``i``; ``BicubicWidths.column_range``), and
        ``S`` ``(H r, W r)``, the 4 x 4 tap sum before rounding (``sum_range``).

    Raises
    ------
    TypeError, ValueError
        As :func:`upscale`, for a plane that is not a 2-D uint8 array with pixels.
    """
    config = resolve(artifact_or_config)
    return _sums(config, _check_image(check_uint8_image("plane", plane, channels=(1,)), "plane"))


def upscale(artifact_or_config, image: np.ndarray) -> np.ndarray:
    """The integer bicubic x``scale`` of a uint8 ``(H, W)`` or ``(H, W, 3)`` image: what
    the engine streams out, bit for bit.

    Raises
    ------
    ValueError
        For an image that is not ``(H, W)`` or ``(H, W, 3)``, or has no pixel.
    TypeError
        For an image that is not a uint8 array.
    """
    config = resolve(artifact_or_config)
    image = _check_image(check_uint8_image("image", image), "image")
    shift = config.widths().shift
    out = []
    for plane in _planes(image):
        _, s = _sums(config, plane)
        out.append(np.clip((s + (1 << (shift - 1))) >> shift, 0, 255).astype(np.uint8))
    return _stack(out, image)


def float_upscale(scale: int, image: np.ndarray, *, rounded: bool = True) -> np.ndarray:
    """The same interpolation in float64 with the exact kernel weights (replicate border):
    rounded half up and clamped to uint8, or (``rounded=False``) the float values."""
    image = check_uint8_image("image", image)
    weights = [[float(kernel(t + 1)), float(kernel(t)), float(kernel(1 - t)),
                float(kernel(2 - t))] for t in (phase_offset(scale, p)[1] for p in range(scale))]
    offsets = [phase_offset(scale, p)[0] for p in range(scale)]
    out = []
    for plane in _planes(image):
        s = _pass(_pass(plane.astype(np.float64), weights, offsets, 1), weights, offsets, 0)
        out.append(np.clip(np.floor(s + 0.5), 0, 255).astype(np.uint8) if rounded else s)
    return _stack(out, image)


def pillow_upscale(scale: int, image: np.ndarray) -> np.ndarray:
    """Pillow's ``Image.resize(BICUBIC)`` by ``scale`` (the evaluation baseline of HKLUT)."""
    from edgeforge.models.hklut.evaluate import bicubic_upscale
    return bicubic_upscale(image, scale)
