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
