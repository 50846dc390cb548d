"""scikit-learn's digits as uint8 images: the one data set every classifier issue reports on.

The 1,797 8x8 grey digits ship inside scikit-learn (``sklearn.datasets.load_digits``
reads them from the installed package; nothing is downloaded). This module
fixes, in one place, the two choices that make results comparable:

- **Pixel rule.** The data set's pixels are counts 0..16; they become uint8 by
  ``(p * 255 + 8) // 16`` (0 -> 0, 8 -> 128, 16 -> 255): the nearest integer
  to ``p * 255 / 16``, halves rounded up, so that the two ends map to the ends
  of the uint8 range the hardware streams.
- **Split.** ``sklearn.model_selection.train_test_split(range(1797),
  test_size=0.3, stratify=target, random_state=0)``: 1,257 training and 540
  test images, the same on every machine (scikit-learn's shuffle is a seeded
  NumPy ``RandomState``).

Images are ``uint8`` ``(N, 1, 8, 8)`` (channel first, C = 1, as the network
artifact's input ``{"channels": 1, "height": 8, "width": 8, "bits": 8}``),
labels ``int64`` ``(N,)`` in 0..9. This module needs NumPy and scikit-learn,
never torch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SPLITS", "N_IMAGES", "N_TRAIN", "N_TEST", "SPLIT_SEED", "TEST_SIZE", "DATA_NAME",
           "SPLIT_RULE", "PIXEL_RULE", "INPUT", "pixels_to_uint8", "split_indices", "load_digits"]

SPLITS = ("train", "test", "all")
N_IMAGES = 1797
N_TRAIN = 1257
N_TEST = 540
SPLIT_SEED = 0
TEST_SIZE = 0.3
DATA_NAME = "sklearn-digits"
PIXEL_RULE = "uint8 = (p * 255 + 8) // 16 for p in 0..16"
SPLIT_RULE = (f"sklearn.model_selection.train_test_split(range({N_IMAGES}), test_size={TEST_SIZE}, "
              f"stratify=target, random_state={SPLIT_SEED}): {N_TRAIN} train, {N_TEST} test")
# The network artifact's input for these images.
INPUT = {"channels": 1, "height": 8, "width": 8, "bits": 8}


def pixels_to_uint8(pixels) -> np.ndarray:
    """Map digits pixel counts 0..16 to uint8 by ``(p * 255 + 8) // 16``.

    Parameters
    ----------
    pixels : array_like
        Integer-valued pixels in 0..16 (scikit-learn stores them as float64).

    Returns
    -------
    numpy.ndarray
        ``uint8``, same shape.

    Raises
    ------
    ValueError
        If a pixel is not an integer in 0..16.
    """
    p = np.asarray(pixels)
    if p.size and (not np.all(p == np.round(p)) or p.min() < 0 or p.max() > 16):
        bad = p[(p != np.round(p)) | (p < 0) | (p > 16)].flat[0].item()
        raise ValueError(f"digits pixels must be integers in 0..16, got {bad!r}")
    return ((p.astype(np.int64) * 255 + 8) // 16).astype(np.uint8)


def _digits():
    from sklearn.datasets import load_digits as sk_load_digits
    d = sk_load_digits()
    return d.images, d.target


def split_indices() -> tuple[np.ndarray, np.ndarray]:
    """Indices into scikit-learn's digits of the fixed train and test split.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``int64`` train indices (1,257) and test indices (540), in the order
        ``train_test_split`` returns them.
    """
    from sklearn.model_selection import train_test_split
    _, target = _digits()
    train, test = train_test_split(np.arange(len(target)), test_size=TEST_SIZE, stratify=target,
                                   random_state=SPLIT_SEED)
    return train.astype(np.int64), test.astype(np.int64)


def load_digits(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The digits images of one split as uint8 ``(N, 1, 8, 8)`` and their labels.

    Parameters
    ----------
    split : {"train", "test", "all"}
        ``"train"`` (1,257 images) and ``"test"`` (540) are the fixed split
        of :func:`split_indices`; ``"all"`` is the 1,797 images in
        scikit-learn's order.

    Returns
    -------
    images : numpy.ndarray
        ``uint8`` ``(N, 1, 8, 8)``, pixels by :func:`pixels_to_uint8`.
    labels : numpy.ndarray
        ``int64`` ``(N,)``, the digit 0..9.

    Raises
    ------
    ValueError
        If ``split`` is not one of :data:`SPLITS`.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    images, target = _digits()
    images = pixels_to_uint8(images)[:, None]
    labels = target.astype(np.int64)
    if split != "all":
        idx = split_indices()[SPLITS.index(split)]
        images, labels = images[idx], labels[idx]
    return np.ascontiguousarray(images), labels
