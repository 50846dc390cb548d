"""MNIST and CIFAR-10 from a folder the user names, as uint8 images like :mod:`.data_digits`.

Nothing is downloaded: the user points at the files as their publishers ship them.

- **MNIST**: the four idx files (LeCun's layout), each gzipped or not, under either
  of the two names they circulate with (``train-images-idx3-ubyte`` or
  ``train-images.idx3-ubyte``; likewise ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``). Split ``"train"`` is
  the 60,000 training images, ``"test"`` the 10,000 ``t10k`` ones. Images are
  ``(N, 1, 28, 28)``.
- **CIFAR-10**: the "python version" pickle batches (``data_batch_1`` ..
  ``data_batch_5``, ``test_batch``) in the named folder or in its
  ``cifar-10-batches-py`` subfolder (where the archive unpacks). Each batch holds
  ``data`` (``N x 3072`` uint8, the red, green and blue 32x32 planes) and
  ``labels``. Images are ``(N, 3, 32, 32)``.

Images are ``uint8`` ``(N, C, H, W)`` (channel first, the network artifact's
input layout), labels ``int64`` ``(N,)`` in 0..9. A folder that lacks a file
gets one :class:`FileNotFoundError` naming every missing file; a file that is
not what its name says gets one :class:`ValueError` naming the file.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np

__all__ = ["SPLITS", "MNIST_FILES", "CIFAR10_BATCHES", "MNIST_INPUT", "CIFAR10_INPUT",
           "read_idx", "load_mnist", "load_cifar10"]

SPLITS = ("train", "test")
#: MNIST split -> (images stem, labels stem); ``-idx`` may also be ``.idx``, ``.gz`` may follow.
MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
#: CIFAR-10 split -> its pickle batches.
CIFAR10_BATCHES = {"train": tuple(f"data_batch_{k}" for k in range(1, 6)),
                   "test": ("test_batch",)}
# The network artifact's input for these images.
MNIST_INPUT = {"channels": 1, "height": 28, "width": 28, "bits": 8}
CIFAR10_INPUT = {"channels": 3, "height": 32, "width": 32, "bits": 8}

# idx type code -> NumPy big-endian dtype (the format's element types).
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def _folder(folder) -> Path:
    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(f"data folder {str(path)!r} is not a folder")
    return path


def read_idx(path) -> np.ndarray:
    """One idx file (``.gz`` or not): its array in the file's element type and shape.

    Raises
    ------
    ValueError
        Naming the file, if its header is not an idx header or its length does not
        match the header's shape.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:                  # a truncated or non-gzip .gz
        raise ValueError(f"{path}: not a readable idx file ({e})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an idx file (header {data[:4].hex()!r})")
    dtype, ndim = np.dtype(_IDX_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if ndim < 1 or len(data) < header:
        raise ValueError(f"{path}: idx header of {ndim} dimensions is cut short")
    shape = tuple(int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
    need = header + dtype.itemsize * int(np.prod(shape))
    if len(data) != need:
        raise ValueError(f"{path}: idx header says shape {shape} ({need} bytes), the file has "
                         f"{len(data)} bytes")
    # A copy: frombuffer's view of the bytes is read-only, which torch.from_numpy warns of.
    return np.frombuffer(data, dtype, offset=header).reshape(shape).copy()


def _mnist_path(folder: Path, stem: str) -> Path | None:
    # The two spellings in circulation, each plain or gzipped.
    for name in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            if (folder / (name + suffix)).is_file():
                return folder / (name + suffix)
    return None


def load_mnist(folder, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """MNIST images of one split as uint8 ``(N, 1, 28, 28)`` and their labels.

    Parameters
    ----------
    folder : str or Path
        Holding the split's idx files (see the module docstring for their names).
    split : {"train", "test"}

    Raises
    ------
    FileNotFoundError
        Naming the folder and every missing file of the split.
    ValueError
        For an unknown split, or a file that is not an idx file of the right type
        (``uint8`` images ``N x H x W``, ``uint8`` labels ``N`` in 0..9, as many of each).
    """
    _check_split(split)
    root = _folder(folder)
    stems = MNIST_FILES[split]
    paths = [_mnist_path(root, stem) for stem in stems]
    missing = [f"{stem}[.gz]" for stem, p in zip(stems, paths) if p is None]
    if missing:
        raise FileNotFoundError(f"MNIST folder {str(root)!r} lacks {', '.join(missing)} (the "
                                f"{split} split's idx files)")
    images, labels = (read_idx(p) for p in paths)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{paths[0]}: expected uint8 images N x H x W, got {images.dtype} "
                         f"shape {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"{paths[1]}: expected {len(images)} uint8 labels, got {labels.dtype} "
                         f"shape {labels.shape}")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{paths[1]}: labels must be 0..9, got {int(labels.max())!r}")
    return np.ascontiguousarray(images[:, None]), labels.astype(np.int64)


def load_cifar10(folder, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 images of one split as uint8 ``(N, 3, 32, 32)`` and their labels.

    Parameters
    ----------
    folder : str or Path
        Holding the pickle batches, or holding ``cifar-10-batches-py`` that does.
    split : {"train", "test"}

    Raises
    ------
    FileNotFoundError
        Naming the folder and every missing batch of the split.
    ValueError
        For an unknown split, or a batch that is not a CIFAR-10 python batch (naming it).
    """
    _check_split(split)
    root = _folder(folder)
    if not (root / CIFAR10_BATCHES[split][0]).is_file() and (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    names = CIFAR10_BATCHES[split]
    missing = [n for n in names if not (root / n).is_file()]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 folder {str(root)!r} lacks {', '.join(missing)} (the "
                                f"{split} split's python batches)")
    images, labels = [], []
    for name in names:
        path = root / name
        try:
            with open(path, "rb") as f:
                # The batches were pickled by Python 2: keys are bytes.
                batch = pickle.load(f, encoding="bytes")
            data = np.asarray(batch[b"data"], np.uint8)
            y = np.asarray(batch[b"labels"], np.int64)
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: not a CIFAR-10 python batch ({type(e).__name__}: "
                             f"{e})") from None
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or y.shape != (len(data),):
            raise ValueError(f"{path}: expected data N x 3072 and N labels, got data shape "
                             f"{data.shape} and {y.shape[0] if y.ndim else y!r} labels")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise ValueError(f"{path}: labels must be 0..9, got {int(y.min())}..{int(y.max())}")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(y)
    return np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)
