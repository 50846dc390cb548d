"""MNIST idx and CIFAR-10 pickle loaders, on small files in those formats written here."""

import re

import numpy as np
import pytest

from edgeforge.models.data_sets import load_cifar10, load_mnist, read_idx

from data_set_files import cifar_folder, mnist_folder, write_idx


@pytest.mark.parametrize("gz,dotted", [(False, False), (True, False), (True, True)])
def test_mnist_reads_both_splits_plain_gzipped_and_dotted(tmp_path, gz, dotted):
    sets = mnist_folder(tmp_path, gz=gz, dotted=dotted)
    for split, (x, y) in sets.items():
        images, labels = load_mnist(tmp_path, split)
        assert images.dtype == np.uint8 and images.shape == (5, 1, 28, 28)
        assert labels.dtype == np.int64
        assert np.array_equal(images[:, 0], x) and np.array_equal(labels, y)


def test_mnist_incomplete_folder_names_every_missing_file(tmp_path):
    mnist_folder(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    load_mnist(tmp_path, "train")                  # the other split is still whole
    with pytest.raises(FileNotFoundError, match=r"^MNIST folder .* lacks t10k-images-idx3-ubyte"
                       r"\[\.gz\], t10k-labels-idx1-ubyte\[\.gz\] \(the test split's idx files\)$"):
        load_mnist(tmp_path, "test")


def test_mnist_refuses_a_corrupt_or_mismatched_file(tmp_path):
    mnist_folder(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: idx header says shape "
                       r"\(5, 28, 28\) \(3936 bytes\), the file has 3935 bytes$"):
        load_mnist(tmp_path)
    write_idx(path, np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte: expected 4 uint8 labels"):
        load_mnist(tmp_path)
    path.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: not an idx file"):
        load_mnist(tmp_path)


def test_read_idx_keeps_type_and_shape(tmp_path):
    a = np.arange(24, dtype=">i4").reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx", a)
    assert np.array_equal(read_idx(tmp_path / "a.idx"), a)


def test_cifar10_reads_the_batches_in_order_as_planes(tmp_path):
    batches = cifar_folder(tmp_path / "cifar-10-batches-py")
    images, labels = load_cifar10(tmp_path, "train")     # the parent folder works too
    assert images.dtype == np.uint8 and images.shape == (20, 3, 32, 32)
    assert labels.dtype == np.int64 and labels.shape == (20,)
    data, y = batches["data_batch_2"]
    # Row k of a batch: 1024 red, then green, then blue values, each plane row-major.
    assert np.array_equal(images[4 + 1, 1, 2, 3], data[1, 1024 + 2 * 32 + 3])
    assert list(labels[4:8]) == y
    x_test, y_test = load_cifar10(tmp_path / "cifar-10-batches-py", "test")
    assert np.array_equal(x_test.reshape(4, -1), batches["test_batch"][0])


def test_cifar10_incomplete_or_wrong_folder(tmp_path):
    cifar_folder(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    (tmp_path / "data_batch_5").unlink()
    with pytest.raises(FileNotFoundError, match=r"^CIFAR-10 folder .* lacks data_batch_3, "
                       r"data_batch_5 \(the train split's python batches\)$"):
        load_cifar10(tmp_path)
    (tmp_path / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match=r"test_batch: not a CIFAR-10 python batch"):
        load_cifar10(tmp_path, "test")
    with pytest.raises(FileNotFoundError, match=re.escape("is not a folder")):
        load_cifar10(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"^split must be one of \('train', 'test'\), got 'val'$"):
        load_mnist(tmp_path, "val")
