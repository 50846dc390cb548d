"""Images for training and evaluating super-resolution models, as (name, LR, HR) uint8 pairs.

Three sources, one shape of result:

- :func:`builtin_pairs`: scikit-image's sample images, only those bundled inside
  the installed package (no download), split into a fixed ``train`` and ``test``
  set; LR by :func:`bicubic_downscale`.
- :func:`load_benchmark_dir`: one SR benchmark folder (Set5, Set14, ...) laid out
  as ``HR/*.png`` and ``LR_bicubic/X{scale}/*.png``, the BasicSR layout whose LR
  images come from MATLAB's antialiased bicubic ``imresize``.
- :func:`load_train_dir`: a DIV2K-style training folder, ``HR/*.png`` with LR from
  ``LR_bicubic/X{scale}/`` when present, else made by :func:`bicubic_downscale`.

Every image is ``uint8`` RGB ``(H, W, 3)``; grey images are tripled (as the HKLUT
authors do) and HR images are cropped to a multiple of the scale. Files are read
by :func:`edgeforge.images.read_image`, the reader of ``upscale``: 16-bit,
float and transparent images are refused, naming the file. This module
needs NumPy, Pillow and scikit-image only, never torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..images import check_uint8_image, read_image

__all__ = ["TRAIN_IMAGES", "TEST_IMAGES", "sample_images", "bicubic_downscale", "crop_to_multiple",
           "builtin_pairs", "load_benchmark_dir", "load_train_dir"]

# Fixed, disjoint split of the photographs scikit-image ships inside its wheel
# (file names in skimage/data). Synthetic and binary images (chessboards, logo,
# horse, phantom, colour wheel) teach nothing about natural images and are left out.
TRAIN_IMAGES = ("rocket.jpg", "retina.jpg", "hubble_deep_field.jpg", "motorcycle_left.png",
                "motorcycle_right.png", "ihc.png", "brick.png", "grass.png", "gravel.png",
                "moon.png", "coins.png", "cell.png", "page.png", "text.png")
TEST_IMAGES = ("astronaut.png", "chelsea.png", "coffee.png", "camera.png")
_SPLITS = ("train", "test", "all")


def _skimage_data_dir() -> Path:
    import skimage
    return Path(skimage.__file__).resolve().parent / "data"


def _read_png(path: Path) -> np.ndarray:
    # The reader upscale uses: a 16-bit or transparent image is refused, never clipped.
    img = read_image(path, f"image {str(path)!r}")
    return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2) if img.ndim == 2 else img)


def sample_images(split: str = "all") -> dict[str, np.ndarray]:
    """scikit-image's bundled sample photographs as uint8 RGB arrays.

    Parameters
    ----------
    split : {"train", "test", "all"}
        ``"test"`` is astronaut, chelsea, coffee and camera; ``"train"`` is the
        disjoint rest of :data:`TRAIN_IMAGES`. Images missing from the installed
        package are skipped (nothing is downloaded).

    Returns
    -------
    dict[str, numpy.ndarray]
        Name (file stem) to ``uint8`` ``(H, W, 3)`` image, in a fixed order.

    Raises
    ------
    ValueError
        If ``split`` is not one of the three names.
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
    names = {"train": TRAIN_IMAGES, "test": TEST_IMAGES,
             "all": TEST_IMAGES + TRAIN_IMAGES}[split]
    root = _skimage_data_dir()
    return {Path(n).stem: _read_png(root / n) for n in names if (root / n).is_file()}


def _check_factor(name: str, factor) -> int:
    if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
        raise ValueError(f"{name} must be a positive integer, got {factor!r}")
    return factor


def crop_to_multiple(img: np.ndarray, m: int) -> np.ndarray:
    """Crop the bottom/right of ``img`` so that height and width are multiples of ``m``."""
    _check_factor("m", m)
    if not isinstance(img, np.ndarray) or img.ndim < 2:
        raise ValueError(f"img must be an array of at least 2 dimensions, got {img!r}")
    h, w = img.shape[0] - img.shape[0] % m, img.shape[1] - img.shape[1] % m
    if h == 0 or w == 0:
        raise ValueError(f"img of shape {img.shape!r} is smaller than the multiple {m!r}")
    return img[:h, :w]


def bicubic_downscale(hr: np.ndarray, factor: int) -> np.ndarray:
    """Downscale by an integer factor with Pillow's bicubic filter.

    Pillow's ``Image.resize(..., Image.BICUBIC)`` is antialiased (its support
    widens with the factor, like MATLAB's ``imresize``) but uses a = -0.5 and
    its own rounding, so LR images differ slightly from the MATLAB-made
    benchmark sets; numbers measured on them are comparable with each other,
    not with published tables. ``hr`` is first cropped to a multiple of
    ``factor``.

    Parameters
    ----------
    hr : numpy.ndarray
        ``uint8`` image, ``(H, W)`` or ``(H, W, 3)``.
    factor : int
        Downscaling factor (>= 1).

    Returns
    -------
    numpy.ndarray
        ``uint8`` image of shape ``(H // factor, W // factor[, 3])``.
    """
    hr = crop_to_multiple(check_uint8_image("hr", hr), _check_factor("factor", factor))
    size = (hr.shape[1] // factor, hr.shape[0] // factor)
    return np.asarray(Image.fromarray(np.ascontiguousarray(hr)).resize(size, Image.BICUBIC))


def builtin_pairs(scale: int, split: str = "test") -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, LR, HR) pairs from :func:`sample_images`, LR by :func:`bicubic_downscale`."""
    _check_factor("scale", scale)
    pairs = []
    for name, img in sample_images(split).items():
        hr = crop_to_multiple(img, scale)
        pairs.append((name, bicubic_downscale(hr, scale), hr))
    return pairs


def _pngs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")


def _lr_for(hr_path: Path, lr_dir: Path, scale: int) -> Path | None:
    """The LR file for an HR file: same stem, or the stem with an ``x{scale}`` suffix."""
    for stem in (hr_path.stem, f"{hr_path.stem}x{scale}", f"{hr_path.stem}_x{scale}"):
        for suffix in (".png", ".PNG"):
            p = lr_dir / (stem + suffix)
            if p.is_file():
                return p
    return None


def _check_pair(lr: np.ndarray, hr: np.ndarray, scale: int, hr_path: Path) -> np.ndarray:
    hr = crop_to_multiple(hr, scale)
    if (lr.shape[0] * scale, lr.shape[1] * scale) != hr.shape[:2]:
        raise ValueError(f"LR image for {str(hr_path)!r} has shape {lr.shape[:2]!r}, which x{scale} "
                         f"does not give the HR shape cropped to a multiple of {scale}, "
                         f"{hr.shape[:2]!r}")
    return hr


def load_benchmark_dir(path, scale: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Read one SR benchmark folder: ``HR/*.png`` and ``LR_bicubic/X{scale}/*.png``.

    LR files may carry the ``x{scale}`` suffix (``babyx4.png`` for ``baby.png``).
    HR images are cropped to a multiple of ``scale``; grey images are tripled.

    Parameters
    ----------
    path : str or pathlib.Path
        The set's folder (e.g. ``benchmark/Set5``).
    scale : int
        Overall upscaling factor.

    Returns
    -------
    list of (str, numpy.ndarray, numpy.ndarray)
        ``(name, lr, hr)``, uint8 RGB, sorted by name.

    Raises
    ------
    ValueError
        If the folder lacks ``HR/`` or ``LR_bicubic/X{scale}/``, holds no PNG, an
        HR image has no LR partner, or the sizes do not match the scale, or an image
        is 16-bit, float or transparent (:func:`~edgeforge.images.read_image`).
    """
    _check_factor("scale", scale)
    root = Path(path)
    hr_dir, lr_dir = root / "HR", root / "LR_bicubic" / f"X{scale}"
    for d in (hr_dir, lr_dir):
        if not d.is_dir():
            raise ValueError(f"benchmark folder must hold HR/ and LR_bicubic/X{scale}/; "
                             f"missing {str(d)!r}")
    hr_files = _pngs(hr_dir)
    if not hr_files:
        raise ValueError(f"benchmark folder has no PNG images in {str(hr_dir)!r}")
    pairs = []
    for hr_path in hr_files:
        lr_path = _lr_for(hr_path, lr_dir, scale)
        if lr_path is None:
            raise ValueError(f"no LR image for {str(hr_path)!r} in {str(lr_dir)!r} (expected "
                             f"{hr_path.stem}.png or {hr_path.stem}x{scale}.png)")
        lr = _read_png(lr_path)
        hr = _check_pair(lr, _read_png(hr_path), scale, hr_path)
        pairs.append((hr_path.stem, lr, hr))
    return pairs


def load_train_dir(path, scale: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Read a DIV2K-style training folder: ``HR/*.png``, LR from ``LR_bicubic/X{scale}/`` if present.

    Without an ``LR_bicubic/X{scale}`` folder every LR image is made by
    :func:`bicubic_downscale`; with one, every HR image must have its LR partner
    (``0001.png`` or ``0001x4.png``).

    Raises
    ------
    ValueError
        If ``HR/`` is missing or empty, an LR partner is missing, or the sizes
        do not match the scale, or an image is 16-bit,
        float or transparent (:func:`~edgeforge.images.read_image`).
    """
    _check_factor("scale", scale)
    root = Path(path)
    hr_dir, lr_dir = root / "HR", root / "LR_bicubic" / f"X{scale}"
    if not hr_dir.is_dir():
        raise ValueError(f"training folder must hold HR/*.png; missing {str(hr_dir)!r}")
    hr_files = _pngs(hr_dir)
    if not hr_files:
        raise ValueError(f"training folder has no PNG images in {str(hr_dir)!r}")
    pairs = []
    for hr_path in hr_files:
        hr = crop_to_multiple(_read_png(hr_path), scale)
        if lr_dir.is_dir():
            lr_path = _lr_for(hr_path, lr_dir, scale)
            if lr_path is None:
                raise ValueError(f"no LR image for {str(hr_path)!r} in {str(lr_dir)!r}")
            lr = _read_png(lr_path)
            hr = _check_pair(lr, hr, scale, hr_path)
        else:
            lr = bicubic_downscale(hr, scale)
        pairs.append((hr_path.stem, lr, hr))
    return pairs


