"""Small MNIST idx and CIFAR-10 pickle folders in the publishers' formats, written by the
tests that read them (the loaders' and the trainer's)."""

import gzip
import pickle

import numpy as np


def write_idx(path, array, gz=False):
    array = np.asarray(array)
    code = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}[array.dtype]
    head = bytes([0, 0, code, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = head + array.tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


def mnist_folder(tmp_path, n=5, gz=False, dotted=False, seed=0):
    rng = np.random.default_rng(seed)
    tmp_path.mkdir(parents=True, exist_ok=True)
    sets = {}
    for split, (im, lb) in (("train", ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")),
                            ("test", ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n).astype(np.uint8)
        for stem, a in ((im, x), (lb, y)):
            name = stem.replace("-idx", ".idx") if dotted else stem
            write_idx(tmp_path / (name + (".gz" if gz else "")), a, gz)
        sets[split] = (x, y)
    return sets


def cifar_folder(root, n=4, seed=0):
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        # As the publishers' Python 2 pickles load: bytes keys, labels a list.
        with open(root / name, "wb") as f:
            pickle.dump({b"batch_label": name.encode(), b"data": data, b"labels": labels}, f)
        out[name] = (data, labels)
    return out
