"""Images as channel planes: the layout the golden LUT models compute on (HKLUT, SR-LUT /
MuLUT), and the checks of an image they read.

An image is a ``uint8`` grey ``(H, W)`` or RGB ``(H, W, 3)`` array; its channels are read
independently, as planes ``(C, H, W)``. A stage's ``r x r`` blocks, ``(C, H, W, r*r)`` with
element ``dy*r + dx``, become the pixels ``(r i + dy, r j + dx)`` of a plane ``r`` times larger.
"""

from __future__ import annotations

import math

import numpy as np

from edgeforge.images import check_uint8_image

__all__ = ["check_size", "image_planes", "channel_planes", "planes_image", "blocks_to_planes"]


def check_size(shape: tuple[int, ...], least: int, field: str, reason: str) -> None:
    """Refuse a plane of ``shape`` (its first two entries: height, width) below ``least``
    pixels a side; ``reason`` names what needs the size (the kernels' padding)."""
    if shape[0] < least or shape[1] < least:
        raise ValueError(f"{field} must be at least {least}x{least} pixels for {reason}, "
                         f"got size {tuple(shape[:2])!r}")


def channel_planes(image: np.ndarray) -> np.ndarray:
    """``image`` as channel planes ``(C, H, W)`` (a view)."""
    return image[None] if image.ndim == 2 else np.moveaxis(image, 2, 0)


def image_planes(image, least: int, reason: str, field: str = "image") -> np.ndarray:
    """Check ``image`` (a ``uint8`` grey or RGB array of at least ``least`` pixels a side, see
    :func:`check_size`) and return its channel planes ``(C, H, W)``.

    Raises
    ------
    TypeError
        If ``image`` is not a ``uint8`` numpy array.
    ValueError
        For a wrong channel count or a side below ``least``.
    """
    image = check_uint8_image(field, image)
    check_size(image.shape, least, field, reason)
    return channel_planes(image)


def planes_image(planes: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Channel planes ``(C, H', W')`` in the layout of ``image``: ``(H', W')`` for a grey
    image, ``(H', W', C)`` (contiguous) for RGB."""
    return planes[0] if image.ndim == 2 else np.ascontiguousarray(np.moveaxis(planes, 0, 2))


def blocks_to_planes(blocks: np.ndarray) -> np.ndarray:
    """``(C, H, W, r*r)`` blocks (element ``dy*r + dx``) to ``(C, H r, W r)`` pixels."""
    c, h, w, rr = blocks.shape
    r = math.isqrt(rr)
    return blocks.reshape(c, h, w, r, r).transpose(0, 1, 3, 2, 4).reshape(c, h * r, w * r)
