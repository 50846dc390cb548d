"""The network scheme's CLI options: folding parsing, generate through the CLI, and one-line
errors for a folding that does not divide a layer."""

import argparse

import pytest

from edgeforge import save
from edgeforge.cli import main
from edgeforge.schemes.network import random_artifact
from edgeforge.schemes.network_flows import folding_arg

from network_helpers import DIGITS_REF


def test_folding_arg():
    assert folding_arg("parallel") == "parallel"
    assert folding_arg("2x3,4x8") == [(2, 3), (4, 8)]
    with pytest.raises(argparse.ArgumentTypeError, match=r"^expected folded, parallel or PExSIMD "
                                                         r"pairs such as 2x3,4x8, got '2y3'$"):
        folding_arg("2y3")


def test_generate_and_refusal_through_the_cli(tmp_path, capsys):
    art = save(random_artifact(DIGITS_REF, seed=7), tmp_path / "dref.npz")
    assert main(["generate", str(art), "--folding", "2x3,4x8,4x8,5x4", "--logits",
                 "-o", str(tmp_path / "rtl")]) == 0
    assert any(p.suffix == ".v" for p in (tmp_path / "rtl").iterdir())
    assert main(["generate", str(art), "--folding", "3x3,4x8,4x8,5x4"]) != 0
    assert capsys.readouterr().err.strip().endswith(
        "folding of layer 0 (conv2d): PE must divide its 8 output channels, got 3")


def test_train_then_evaluate_through_the_cli(tmp_path, capsys):
    from edgeforge import load
    out = tmp_path / "mlp.npz"
    args = ["train", "--scheme", "network", "--preset", "digits-mlp", "--iterations", "60",
            "--seed", "3", "-o", str(out), "--no-progress"]
    assert main(args) == 0
    art = load(out)
    assert art.scheme == "network" and art.provenance["command"] == "edgeforge " + " ".join(args)
    capsys.readouterr()
    assert main(["evaluate", str(out), "-o", str(tmp_path / "eval")]) == 0
    text = capsys.readouterr().out
    assert "fixed point, torch" in text and "golden (integer NumPy)" in text
    report = __import__("json").loads((tmp_path / "eval" / "eval.json").read_text())
    assert report["images"] == 540 and report["float"] == report["golden"]


def test_train_options_are_checked_naming_the_flag(tmp_path, capsys):
    assert main(["train", "--scheme", "network", "--iterations", "0",
                 "-o", str(tmp_path / "x.npz")]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --iterations must be a positive integer, got 0")
    assert main(["train", "--scheme", "network", "--stages", "2",
                 "-o", str(tmp_path / "x.npz")]) == 2
    assert ("error: --stages: a HKLUT or SR-LUT / MuLUT option; the network scheme takes "
            "['--als-sweeps', "
            "'--data', '--debut', '--debut-budget', '--debut-lr', '--dense', '--frozen-weights', "
            "'--group-size', '--init-weights', '--mid-bits', '--out-bits', '--preset', "
            "'--prototype-offsets', '--prototypes', '--prune', '--table-bits', '--transform', "
            "'--warmup', '--weight-bits'] here") in capsys.readouterr().err


def test_evaluate_rtl_is_the_golden_accuracy_bit_exact(tmp_path):
    from edgeforge import load
    from edgeforge.models.network import PRETRAINED
    from edgeforge.schemes.network_flows import accuracy_report
    report = accuracy_report(load(PRETRAINED["digits-mlp"]), rtl=True)
    assert report["rtl_failures"] == []
    assert report["rtl"] == report["golden"] == report["float"] > 0.97
