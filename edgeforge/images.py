"""The one check of an 8-bit image argument, and the one reader of image files.

:func:`check_uint8_image` is shared by data, metrics, evaluation and golden
models; :func:`read_image` by every command that reads image files, so that a
file one command refuses (16-bit, transparent) is never read differently by
another. They live in the core rather than beside any one user because both
sides of the artifact use them: ``models/`` (data, metrics, evaluation) and
``sim/golden/``, which must not import the training side.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["check_uint8_image", "read_image", "write_image", "image_format", "IMAGE_FORMATS",
           "PNG_COMPRESS_LEVEL"]

#: Output suffix -> Pillow format: a file holds the format its name says.
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF",
                 ".tiff": "TIFF", ".webp": "WEBP"}
#: zlib level of every PNG written. For a 1024x1024 RGB ``upscale`` output Pillow's
#: default (6) took 0.28 s, more than the upscaling (0.05-0.07 s); level 1 takes 0.06 s
#: for a file 16 % larger (1.45 MB against 1.25 MB). Level 4 would keep the size at
#: 0.11 s; PNGs stay lossless at any level, so speed was chosen over 16 % of disk.
#: ``python -m edgeforge.bench.upscale_speed`` measures every level
#: (``bench/results/upscale_speed.md``).
PNG_COMPRESS_LEVEL = 1
# Lossy formats only when the name asks for them, then at a quality that hides it.
_SAVE_OPTIONS = {"PNG": {"compress_level": PNG_COMPRESS_LEVEL}, "JPEG": {"quality": 95},
                 "WEBP": {"quality": 95}}


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


def read_image(path, name: str = "image") -> np.ndarray:
    """Read an image file as ``uint8`` grey ``(H, W)`` or RGB ``(H, W, 3)``: the one reader of
    every command (``upscale``, ``evaluate --test-dir``, ``train --train-dir``).

    Grey stays grey and RGB stays RGB. Palette images are expanded to RGB and
    bilevel ones to grey. An alpha channel is dropped when it is fully opaque
    and refused otherwise (upscaling would lose it); 16-bit and float images
    are refused, naming the mode, since reducing them to 8 bits would change
    every pixel (Pillow opens a 16-bit RGB PNG as plain 8-bit ``"RGB"``).

    Parameters
    ----------
    path : str or pathlib.Path
        Any file Pillow reads.
    name : str
        What the image is, to start every error message (an argument name or
        the file's path).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        If it is not an image Pillow reads, or not 8-bit grey, RGB, palette or
        (opaque) grey/RGB with alpha.
    """
    from PIL import Image, UnidentifiedImageError
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{name} does not exist, got {str(path)!r}")
    try:
        im = Image.open(path)
    except UnidentifiedImageError:
        raise ValueError(f"{name} is not an image Pillow can read, got {str(path)!r}") from None
    with im:
        # Pillow silently reduces 16-bit RGB PNGs to mode "RGB"; the raw mode still says ";16".
        args = im.tile[0].args if im.tile else ""
        raw = args if isinstance(args, str) else (args[0] if args else "")
        if ";16" in str(raw) or im.mode.startswith("I;16") or im.mode in ("I", "F"):
            raise ValueError(f"{name} must be an 8-bit grey or RGB image; 16-bit and float images "
                             f"are not read, got mode {im.mode!r} stored as {raw!r}")
        if im.mode == "1":
            im = im.convert("L")
        if im.mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        if im.mode in ("RGBA", "LA"):
            alpha = np.asarray(im.getchannel("A"))
            if alpha.min() < 255:
                raise ValueError(f"{name} has transparent pixels, which upscaling would lose; "
                                 f"flatten it onto a background first, got mode {im.mode!r}")
            # Fully opaque: the alpha channel carries nothing, so it is dropped.
            im = im.convert("L" if im.mode == "LA" else "RGB")
        if im.mode not in ("L", "RGB"):
            raise ValueError(f"{name} must be an 8-bit grey, RGB or palette image, "
                             f"got mode {im.mode!r}")
        return np.asarray(im)


def image_format(path, name: str = "path") -> str:
    """The Pillow format a file name's suffix says (:data:`IMAGE_FORMATS`).

    Raises
    ------
    ValueError
        For a suffix not in :data:`IMAGE_FORMATS`, naming it and the known ones.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in IMAGE_FORMATS:
        raise ValueError(f"{name}: {str(path)!r} must end in an image suffix, one of "
                         f"{', '.join(IMAGE_FORMATS)}, got {suffix or 'none'!r}")
    return IMAGE_FORMATS[suffix]


def write_image(path, img: np.ndarray, name: str = "path") -> Path:
    """Write a ``uint8`` grey or RGB image in the format its suffix names; return the path.

    PNGs are written at :data:`PNG_COMPRESS_LEVEL`, JPEG and WebP at quality 95.
    The folder must exist.

    Raises
    ------
    ValueError
        For an unknown suffix (:func:`image_format`), before anything is written.
    """
    from PIL import Image
    fmt = image_format(path, name)
    img = check_uint8_image("img", img)
    Image.fromarray(np.ascontiguousarray(img)).save(path, format=fmt, **_SAVE_OPTIONS.get(fmt, {}))
    return Path(path)
