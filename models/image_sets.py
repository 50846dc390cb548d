"""The labelled image sets a classifier network trains and is evaluated on, under one name.

- ``digits``: scikit-learn's digits (:mod:`.data_digits`), built in: the set every
  classifier issue reports on.
- ``mnist:PATH`` and ``cifar10:PATH``: MNIST and CIFAR-10 from a folder the user names
  (:mod:`.data_sets`; nothing is downloaded).

An :class:`ImageSet` says what its images are (the network artifact's ``input``), how the
artifact's provenance names it, and loads a split as uint8 ``(N, C, H, W)`` images with
int64 labels. Training, export (calibration, PECAN-D prototype usage) and evaluation take
one, so that a network trained on MNIST is calibrated and scored on MNIST.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import data_digits, data_sets

__all__ = ["KINDS", "ImageSet", "HeldOut", "DIGITS", "image_set"]

#: Image set kind -> (the network input it gives, its splits).
KINDS = {
    "digits": (data_digits.INPUT, data_digits.SPLITS),
    "mnist": (data_sets.MNIST_INPUT, data_sets.SPLITS),
    "cifar10": (data_sets.CIFAR10_INPUT, data_sets.SPLITS),
}


@dataclass(frozen=True)
class ImageSet:
    """One labelled image set.

    Parameters
    ----------
    kind : {"digits", "mnist", "cifar10"}
    folder : str, optional
        The data's folder: required for MNIST and CIFAR-10, none for the built-in digits.

    Raises
    ------
    ValueError
        For an unknown kind, or a folder given or missing against the kind.
    """
    kind: str
    folder: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"image set must be one of {sorted(KINDS)}, got {self.kind!r}")
        if (self.kind == "digits") != (self.folder is None):
            raise ValueError(f"image set {self.kind!r}: " + (
                "digits are built in and take no folder" if self.kind == "digits" else
                f"needs its folder, as {self.kind}:PATH"))

    def __str__(self) -> str:
        return self.kind if self.folder is None else f"{self.kind}:{self.folder}"

    @property
    def input(self) -> dict:
        """The network artifact's ``input`` for these images."""
        return dict(KINDS[self.kind][0])

    @property
    def splits(self) -> tuple[str, ...]:
        return KINDS[self.kind][1]

    @property
    def data_name(self) -> str:
        """What an artifact's provenance ``data`` says (digits: its name and pixel rule, which
        the comparison reads; no folder, so that the same run gives the same file anywhere)."""
        if self.kind == "digits":
            return f"{data_digits.DATA_NAME}; {data_digits.PIXEL_RULE}"
        return {"mnist": "MNIST (LeCun's idx files)",
                "cifar10": "CIFAR-10 (python batches)"}[self.kind]

    @property
    def split_rule(self) -> str:
        """What an artifact's provenance ``split`` says."""
        if self.kind == "digits":
            return data_digits.SPLIT_RULE
        return "the publisher's train and test files"

    def load(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """Images ``uint8 (N, C, H, W)`` and labels ``int64 (N,)`` of ``split``.

        Raises
        ------
        ValueError
            For a split the set does not have (naming the set's splits), or a malformed file.
        FileNotFoundError
            For a missing folder or file (naming them).
        """
        if split not in self.splits:
            raise ValueError(f"split must be one of {list(self.splits)} for {self.kind}, "
                             f"got {split!r}")
        if self.kind == "digits":
            return data_digits.load_digits(split)
        loader = data_sets.load_mnist if self.kind == "mnist" else data_sets.load_cifar10
        return loader(self.folder, split)

    def check_input(self, network_input, what: str = "the network") -> None:
        """Refuse a network whose input is not these images (naming both)."""
        if not isinstance(network_input, dict) or network_input != self.input:
            raise ValueError(f"{what} takes {_shape(network_input)}, but {self.kind} images are "
                             f"{_shape(self.input)}")


def _shape(network_input) -> str:
    """``C x H x W, B bits`` of a network input, or the value as it is when malformed."""
    try:
        return (f"{network_input['channels']}x{network_input['height']}x"
                f"{network_input['width']} ({network_input['bits']} bits)")
    except (TypeError, KeyError):
        return repr(network_input)


@dataclass(frozen=True)
class HeldOut(ImageSet):
    """A validation set: an image set's *training* split cut in two, stratified and seeded.
    ``load("train")`` is the part to fit on, ``load("test")`` the held-out ``share``; the
    set's own test images are never read. For choosing a schedule without looking at the
    test split (``python -m edgeforge.bench.compress --validation``).

    Parameters
    ----------
    kind, folder
        As :class:`ImageSet`.
    share : float
        Share of the training split held out, in (0, 1).
    seed : int
        ``random_state`` of the stratified split.

    Raises
    ------
    ValueError
        As :class:`ImageSet`, or for a ``share`` outside (0, 1).
    """
    share: float = 0.2
    seed: int = 0

    def __post_init__(self):
        super().__post_init__()
        s = self.share
        if not isinstance(s, (int, float)) or isinstance(s, bool) or not 0 < s < 1:
            raise ValueError(f"HeldOut.share must be in (0, 1), got {s!r}")

    def __str__(self) -> str:
        return f"{ImageSet.__str__(self)}, {self.share:g} of train held out"

    @property
    def splits(self) -> tuple[str, ...]:
        return ("train", "test")

    @property
    def split_rule(self) -> str:
        return (f"validation: sklearn.model_selection.train_test_split of the training split "
                f"(test_size={self.share:g}, stratify=labels, random_state={self.seed}); "
                f"'test' is the held-out part; the training split: {super().split_rule}")

    def load(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """The fit part (``"train"``) or the held-out part (``"test"``) of the training split."""
        from sklearn.model_selection import train_test_split
        if split not in self.splits:
            raise ValueError(f"split must be one of {list(self.splits)} for a held-out "
                             f"validation set, got {split!r}")
        x, y = super().load("train")
        fit, held = train_test_split(np.arange(len(y)), test_size=self.share, stratify=y,
                                     random_state=self.seed)
        idx = np.sort(fit if split == "train" else held)
        return x[idx], y[idx]


#: The built-in default.
DIGITS = ImageSet("digits")


def image_set(text: str) -> ImageSet:
    """Parse ``digits``, ``mnist:PATH`` or ``cifar10:PATH``.

    Raises
    ------
    ValueError
        Naming the text and what was expected.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected digits, mnist:PATH or cifar10:PATH, got {text!r}")
    kind, sep, folder = text.partition(":")
    if kind not in KINDS or (sep and not folder):
        raise ValueError(f"expected digits, mnist:PATH or cifar10:PATH, got {text!r}")
    return ImageSet(kind, folder or None)
