"""Compressed networks are network artifacts like any other: EZCrop-pruned and NRMF-factorised
digits networks export with golden == fixed-point torch, a pruned-then-factorised one (fewer
channels, 1x1 convs, a conv with no relu after it: signed activations) verifies bit-exact on
Icarus (Verilator: slow) with and without backpressure, and ``edgeforge compress`` runs and refuses bad
options naming the flag."""

import numpy as np
import pytest
import torch

from edgeforge import generate, load
from edgeforge.cli import main
from edgeforge.models.compress import nrmf_network, prune_network
from edgeforge.models.compress.common import param_count
from edgeforge.models.compress.nrmf import factorise
from edgeforge.models.data_digits import load_digits
from edgeforge.models.network import PRETRAINED
from edgeforge.models.network.export import evaluate_network, export_network
from edgeforge.models.network.train import TrainConfig, train_network
from edgeforge.sim.golden.network import classify
from edgeforge.sim.runner import simulator_missing_reason

SHORT = TrainConfig(iterations=150, lr=2e-3)


@pytest.fixture(scope="module")
def dense():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield train_network("digits-ref", TrainConfig(iterations=400, seed=0), progress=False)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _export_agrees(result, provenance=None):
    art = export_network(result, command="pytest", provenance=provenance)
    images, labels = load_digits("test")
    golden = classify(art, images).classes
    assert np.mean(golden == result.net.predict(images)) >= 0.99
    assert evaluate_network(art) == pytest.approx(np.mean(golden == labels))
    return art


def test_ezcrop_network_exports_golden_equals_float(dense, one_thread):
    done = prune_network(dense, 0.5, fine_tune=SHORT)
    art = _export_agrees(done.result, done.provenance())
    layers = art.config["layers"]
    assert (layers[0]["out_channels"], layers[3]["in_channels"], layers[3]["out_channels"],
            layers[7]["in_features"]) == (4, 4, 4, 16)
    assert art.arrays["l0_weight"].shape == (4, 1, 3, 3)         # removed, not masked
    assert param_count(art.config) < param_count(dense.net.network)
    assert art.provenance["compression"]["method"] == "ezcrop"


def test_nrmf_network_exports_golden_equals_float(dense, one_thread):
    done = nrmf_network(dense, 0.9, regularise=SHORT, fine_tune=SHORT)
    art = _export_agrees(done.result, done.provenance())
    assert any(l["kind"] == "conv2d" and l["kernel"] == 1 for l in art.config["layers"])
    assert art.provenance["compression"]["ranks"]["3"]["factorise"]


@pytest.mark.parametrize("simulator", [
    # Icarus has no C++ compile: a folded network over five images takes seconds (Verilator's
    # build about a minute on the shared machine).
    "icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_pruned_and_factorised_network_verifies_bit_exact(dense, one_thread, simulator):
    reason = simulator_missing_reason(simulator)
    if reason:
        pytest.skip(reason)
    pruned = prune_network(dense, 0.5, fine_tune=SHORT).result
    # Ranks (2, 2) of the 4 -> 4 conv: 1x1 4->2, 3x3 2->2, 1x1 2->4, relu after the last only.
    both = train_network(factorise(pruned.net, {3: (2, 2)}), SHORT, progress=False)
    art = _export_agrees(both)
    layers = art.config["layers"]
    assert [(l["kind"], l.get("kernel")) for l in layers[3:7]] == [
        ("conv2d", 1), ("conv2d", 3), ("conv2d", 1), ("relu", None)]
    design = generate(art, folding="folded", logits=True)
    images = list(load_digits("test")[0][:3]) + design.test_inputs(seed=1)[:2]
    result = design.verify(images, seed=1, simulator=simulator)
    assert result.passed, result.failures
    assert result.inputs == len(images)


def test_compress_through_the_cli(tmp_path, capsys, one_thread):
    out = tmp_path / "pruned.npz"
    args = ["compress", str(PRETRAINED["digits-ref"]), "--method", "hrank", "--rate", "0.5,0.25",
            "--iterations", "40", "--no-progress", "-o", str(out)]
    assert main(args) == 0
    art = load(out)
    assert [art.config["layers"][i]["out_channels"] for i in (0, 3)] == [4, 6]
    assert art.provenance["command"] == "edgeforge " + " ".join(args)
    assert art.provenance["compression"]["metric"] == "hrank"
    assert "parameters" in capsys.readouterr().out


@pytest.mark.parametrize("options, message", [
    (["--method", "ezcrop"], "error: --rate is needed for --method ezcrop"),
    (["--method", "ezcrop", "--rate", "1"],
     "error: --rate must be in [0, 1) (the share of channels removed), got 1"),
    (["--method", "ezcrop", "--rate", "0.5,0.5,0.5"],
     "error: --rate must be one rate or one per prunable conv (2: layers [0, 3]), got 3"),
    (["--method", "hrank", "--rate", "0.5", "--rounds", "0"],
     "error: --rounds must be a positive integer, got 0"),
    (["--method", "nrmf", "--p", "95"],
     "error: --p must be in (0, 1] (a fraction: 0.95 for 95 %), got 95.0"),
    (["--method", "nrmf", "--alpha", "-1"], "error: --alpha must be a number >= 0, got -1.0"),
    (["--method", "vbmf", "--rate", "0.5"],
     "error: --rate is an option of --method ezcrop/hrank, not vbmf"),
    (["--method", "nrmf", "--iterations", "0"],
     "error: --iterations must be a positive integer, got 0"),
])
def test_compress_options_are_checked_naming_the_flag(tmp_path, capsys, options, message):
    assert main(["compress", str(PRETRAINED["digits-ref"]), *options,
                 "-o", str(tmp_path / "x.npz")]) == 2
    assert capsys.readouterr().err.strip() == message
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize("method, message", [
    ("ezcrop", "error: the network has no conv2d whose output channels can be pruned"),
    ("vbmf", "error: the network has no dense conv2d with a kernel > 1 to factorise")])
def test_compress_refuses_a_network_without_convs(tmp_path, capsys, method, message):
    options = ["--rate", "0.5"] if method == "ezcrop" else []
    assert main(["compress", str(PRETRAINED["digits-mlp"]), "--method", method, *options,
                 "-o", str(tmp_path / "x.npz")]) == 2
    assert capsys.readouterr().err.strip() == message
