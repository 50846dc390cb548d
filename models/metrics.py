"""Super-resolution quality metrics on the Y channel, as SR benchmarks report them.

The convention is the one of the SR literature and of the HKLUT authors' test
code (``jasonli0707/hklut: utils.py``), not any library's defaults:

- Y is BT.601 luma on the 0..255 scale, unrounded:
  ``16 + (65.481 R + 128.553 G + 24.966 B) / 255``. A grey image counts as
  R = G = B (the authors triple grey images).
- PSNR uses peak 255 and crops ``shave`` pixels on each side (the scale factor,
  by convention).
- SSIM uses an 11x11 Gaussian window (sigma 1.5), K = (0.01, 0.03), L = 255,
  population (co)variances, 'valid' filtering (no border padding) and the mean
  of the map, without a shave. This equals scikit-image's
  ``structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255)`` on the same Y plane; the
  library's defaults give different numbers.
"""

from __future__ import annotations

import math

import numpy as np

from ..images import check_uint8_image

__all__ = ["rgb_to_y", "psnr_y", "ssim_y"]

PEAK = 255.0
_Y_WEIGHTS = np.array([65.481, 128.553, 24.966])
_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5          # 11x11 window: what a Gaussian truncated at 3.5 sigma gives
_SSIM_C1 = (0.01 * PEAK) ** 2
_SSIM_C2 = (0.03 * PEAK) ** 2


def _check_pair(sr, hr) -> tuple[np.ndarray, np.ndarray]:
    sr, hr = check_uint8_image("sr", sr), check_uint8_image("hr", hr)
    if sr.shape != hr.shape:
        raise ValueError(f"sr and hr must have the same shape; hr has {hr.shape!r}, "
                         f"got sr {sr.shape!r}")
    return sr, hr


def rgb_to_y(img_uint8) -> np.ndarray:
    """BT.601 luma of an 8-bit image on the 0..255 scale, unrounded.

    Parameters
    ----------
    img_uint8 : numpy.ndarray
        ``uint8`` image, RGB ``(H, W, 3)`` or grey ``(H, W)`` (treated as R = G = B).

    Returns
    -------
    numpy.ndarray
        ``float64`` array ``(H, W)`` with values in [16, 235].

    Raises
    ------
    TypeError
        If the input is not a ``uint8`` numpy array.
    ValueError
        If the input is neither ``(H, W)`` nor ``(H, W, 3)``.
    """
    img = check_uint8_image("img_uint8", img_uint8).astype(np.float64)
    if img.ndim == 2:
        return 16.0 + img * _Y_WEIGHTS.sum() / 255.0
    return 16.0 + (img @ _Y_WEIGHTS) / 255.0


def psnr_y(sr, hr, shave: int) -> float:
    """PSNR in dB of ``sr`` against ``hr`` on the Y channel, peak 255.

    Parameters
    ----------
    sr, hr : numpy.ndarray
        ``uint8`` images of the same shape, RGB or grey.
    shave : int
        Pixels cropped from each of the four borders before the error is taken
        (the scale factor, by SR convention).

    Returns
    -------
    float
        ``10 log10(255^2 / MSE)``; ``inf`` when the cropped images are identical.

    Raises
    ------
    TypeError
        If an image is not ``uint8`` or ``shave`` is not an integer.
    ValueError
        If the shapes differ, ``shave`` is negative, or it leaves no pixel.
    """
    sr, hr = _check_pair(sr, hr)
    if not isinstance(shave, (int, np.integer)) or isinstance(shave, bool):
        raise TypeError(f"shave must be an integer, got {shave!r}")
    if shave < 0:
        raise ValueError(f"shave must be >= 0, got {shave!r}")
    h, w = hr.shape[:2]
    if 2 * shave >= min(h, w):
        raise ValueError(f"shave leaves no pixel of a {h}x{w} image, got {shave!r}")
    crop = (slice(shave, h - shave), slice(shave, w - shave))
    diff = rgb_to_y(sr)[crop] - rgb_to_y(hr)[crop]
    mse = float(np.mean(diff * diff))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(PEAK * PEAK / mse)


def _gaussian_window() -> np.ndarray:
    x = np.arange(-_SSIM_RADIUS, _SSIM_RADIUS + 1, dtype=np.float64)
    g = np.exp(-0.5 * (x / _SSIM_SIGMA) ** 2)
    return g / g.sum()


def _filter_valid(plane: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable correlation with ``g`` along both axes, keeping only full windows."""
    n = len(g)
    rows = sum(g[k] * plane[k:plane.shape[0] - n + 1 + k] for k in range(n))
    return sum(g[k] * rows[:, k:rows.shape[1] - n + 1 + k] for k in range(n))


def ssim_y(sr, hr) -> float:
    """Mean SSIM of ``sr`` against ``hr`` on the Y channel (Wang et al. 2004, SR convention).

    Parameters
    ----------
    sr, hr : numpy.ndarray
        ``uint8`` images of the same shape, RGB or grey, at least 11x11.

    Returns
    -------
    float
        Mean of the SSIM map over all full 11x11 windows; 1.0 for identical images.

    Raises
    ------
    TypeError
        If an image is not ``uint8``.
    ValueError
        If the shapes differ or the image is smaller than the window.
    """
    sr, hr = _check_pair(sr, hr)
    size = 2 * _SSIM_RADIUS + 1
    if min(hr.shape[:2]) < size:
        raise ValueError(f"SSIM needs images of at least {size}x{size} pixels, "
                         f"got shape {hr.shape!r}")
    x, y = rgb_to_y(sr), rgb_to_y(hr)
    g = _gaussian_window()
    ux, uy = _filter_valid(x, g), _filter_valid(y, g)
    vx = _filter_valid(x * x, g) - ux * ux
    vy = _filter_valid(y * y, g) - uy * uy
    vxy = _filter_valid(x * y, g) - ux * uy
    ssim_map = ((2 * ux * uy + _SSIM_C1) * (2 * vxy + _SSIM_C2)
                / ((ux * ux + uy * uy + _SSIM_C1) * (vx + vy + _SSIM_C2)))
    return float(ssim_map.mean())
