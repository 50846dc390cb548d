"""Training and evaluating networks on MNIST and CIFAR-10 folders (small files in the
publishers' formats written here): the image set reaches calibration, export's provenance
and evaluation, and a network of the wrong input is refused naming both shapes."""

import numpy as np
import pytest

from edgeforge.cli import main
from edgeforge.models.image_sets import DIGITS, ImageSet, image_set
from edgeforge.models.network import (TrainConfig, evaluate_network, export_network, preset,
                                      train_network)

from data_set_files import cifar_folder, mnist_folder

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.mark.parametrize("text, message", [
    ("imagenet:/x", r"^expected digits, mnist:PATH or cifar10:PATH, got 'imagenet:/x'$"),
    ("mnist:", r"^expected digits, mnist:PATH or cifar10:PATH, got 'mnist:'$"),
    ("mnist", r"^image set 'mnist': needs its folder, as mnist:PATH$"),
    ("digits:/x", r"^image set 'digits': digits are built in and take no folder$"),
])
def test_image_set_names_are_checked(text, message):
    with pytest.raises(ValueError, match=message):
        image_set(text)


def test_a_split_the_set_lacks_is_named(tmp_path):
    mnist_folder(tmp_path)
    with pytest.raises(ValueError, match=r"^split must be one of \['train', 'test'\] for mnist, "
                                         r"got 'all'$"):
        image_set(f"mnist:{tmp_path}").load("all")
    assert DIGITS.load("all")[0].shape == (1797, 1, 8, 8)


def test_mnist_ref_trains_exports_and_evaluates_on_mnist(tmp_path):
    sets = mnist_folder(tmp_path, n=48, seed=1)
    data = ImageSet("mnist", str(tmp_path))
    result = train_network("mnist-ref", TrainConfig(iterations=4, batch=8), progress=False,
                           data=data)
    art = export_network(result, command="test")
    assert art.config["input"] == {"channels": 1, "height": 28, "width": 28, "bits": 8}
    assert art.provenance["data"].startswith("MNIST") and result.data == data
    # The export's accuracy is on the same images as an evaluation of the artifact.
    assert evaluate_network(art, "test", data) == pytest.approx(result.float_accuracy)
    test_labels = sets["test"][1]
    assert 0 <= result.float_accuracy <= 1 and len(test_labels) == 48
    with pytest.raises(ValueError, match=r"^the network takes 1x28x28 \(8 bits\), but digits "
                                         r"images are 1x8x8 \(8 bits\)$"):
        evaluate_network(art, "test")


def test_cifar10_ref_trains_on_the_batches(tmp_path):
    cifar_folder(tmp_path, n=12)
    result = train_network("cifar10-ref", TrainConfig(iterations=3, batch=8), progress=False,
                           data=image_set(f"cifar10:{tmp_path}"))
    art = export_network(result, command="test")
    assert art.config["input"]["channels"] == 3 and art.provenance["data"].startswith("CIFAR-10")
    assert preset("cifar10-ref")["input"] == art.config["input"]


def test_train_and_evaluate_take_data_on_the_command_line(tmp_path, capsys):
    mnist_folder(tmp_path / "mnist", n=40)
    out = tmp_path / "net.npz"
    assert main(["train", "--scheme", "network", "--data", f"mnist:{tmp_path / 'mnist'}",
                 "--iterations", "3", "--batch", "8", "--no-progress", "-o", str(out)]) == 0
    assert "mnist-ref on mnist: test accuracy" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--data", f"mnist:{tmp_path / 'mnist'}"]) == 0
    assert "mnist-ref on mnist (test, 40 images)" in capsys.readouterr().out
    # A digits network on MNIST, and an MNIST network on digits: one line naming both inputs.
    assert main(["train", "--scheme", "network", "--data", f"mnist:{tmp_path / 'mnist'}",
                 "--preset", "digits-ref", "--iterations", "3", "-o",
                 str(tmp_path / "x.npz")]) != 0
    err = capsys.readouterr().err
    assert ("--preset: preset digits-ref takes 1x8x8 (8 bits), but mnist images are 1x28x28 "
            "(8 bits)") in err
    assert "Traceback" not in err
    assert main(["evaluate", str(out)]) != 0
    err = capsys.readouterr().err
    assert "the artifact takes 1x28x28 (8 bits), but digits images are 1x8x8" in err
    assert "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:          # argparse's usage error
        main(["train", "--scheme", "network", "--data", "mnist", "-o", str(tmp_path / "y.npz")])
    assert exit_.value.code == 2
    assert "argument --data: image set 'mnist': needs its folder, as mnist:PATH" in (
        capsys.readouterr().err)


def test_compress_prunes_and_factorises_on_mnist(tmp_path, capsys):
    from edgeforge import load
    mnist_folder(tmp_path / "mnist", n=40)
    data = f"mnist:{tmp_path / 'mnist'}"
    net = tmp_path / "net.npz"
    assert main(["train", "--scheme", "network", "--data", data, "--iterations", "3",
                 "--batch", "8", "--no-progress", "-o", str(net)]) == 0
    for method, extra in (("ezcrop", ["--rate", "0.5"]), ("nrmf", ["--p", "0.9"])):
        out = tmp_path / f"{method}.npz"
        assert main(["compress", str(net), "--method", method, *extra, "--data", data,
                     "--iterations", "3", "--no-progress", "-o", str(out)]) == 0
        art = load(out)
        assert art.provenance["data"].startswith("MNIST")
        assert art.provenance["compression"]["method"] == method
        assert art.config["input"]["height"] == 28
    capsys.readouterr()
    # Without --data the images are digits, which the MNIST network does not take.
    assert main(["compress", str(net), "--method", "ezcrop", "--rate", "0.5", "-o",
                 str(tmp_path / "x.npz")]) != 0
    err = capsys.readouterr().err
    assert (f"error: --data: artifact {str(net)!r} takes 1x28x28 (8 bits), but digits images "
            f"are 1x8x8 (8 bits)") in err and "Traceback" not in err
