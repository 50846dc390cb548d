"""The one check of an 8-bit image argument: data, metrics, evaluation and golden models share it.

It lives in the core rather than beside any one user because both sides of the
artifact use it: ``models/`` (data, metrics, evaluation) and ``sim/golden/``,
which must not import the training side.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_uint8_image"]


def _layout(channels: int) -> str:
    if channels == 1:
        return "grey (H, W)"
    if channels == 3:
        return "RGB (H, W, 3)"
    return f"(H, W, {channels})"


def check_uint8_image(name: str, img, *, channels: tuple[int, ...] = (1, 3)) -> np.ndarray:
    """Return ``img`` unchanged if it is a ``uint8`` image with an accepted channel count.

    Parameters
    ----------
    name : str
        The argument's name, used to start every error message.
    img : object
        The value to check.
    channels : tuple of int
        Accepted channel counts. One channel means a 2-D ``(H, W)`` array (an
        ``(H, W, 1)`` array is refused); ``c > 1`` means ``(H, W, c)``.

    Returns
    -------
    numpy.ndarray
        ``img`` itself, not copied.

    Raises
    ------
    TypeError
        If ``img`` is not a numpy array, or its dtype is not ``uint8``.
    ValueError
        If its shape is none of the accepted layouts, or ``channels`` is not a
        non-empty tuple of positive integers.
    """
    if (not isinstance(channels, tuple) or not channels
            or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in channels)):
        raise ValueError(f"channels must be a non-empty tuple of positive integers, "
                         f"got {channels!r}")
    if not isinstance(img, np.ndarray):
        raise TypeError(f"{name} must be a uint8 numpy array, got {type(img).__name__!r}")
    if img.dtype != np.uint8:
        raise TypeError(f"{name} must have dtype uint8, got {img.dtype!r}")
    if not any((img.ndim == 2) if c == 1 else (img.ndim == 3 and img.shape[2] == c)
               for c in channels):
        layouts = " or ".join(_layout(c) for c in channels)
        raise ValueError(f"{name} must be {layouts}, got shape {img.shape!r}")
    return img
