"""2..8-bit weights and activations per layer: the training option, export, and the RTL bit-exact
with the golden model on trained 4- and 2-bit networks."""

import numpy as np
import pytest
import torch

from edgeforge import load
from edgeforge.cli import main
from edgeforge.hw.network.design import NetworkDesign
from edgeforge.models.data_digits import load_digits
from edgeforge.models.network.export import export_network
from edgeforge.models.network.train import TrainConfig, train_network
from edgeforge.models.network.zoo import preset, with_widths
from edgeforge.sim.runner import simulator_missing_reason

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_with_widths_sets_every_or_each_layer():
    net = with_widths(preset("digits-ref"), weight_bits=4, out_bits=[2, 3, 5, 8])
    dense = [l for l in net["layers"] if l["kind"] in ("conv2d", "linear")]
    assert [l["weight_bits"] for l in dense] == [4] * 4
    assert [l["out_bits"] for l in dense] == [2, 3, 5, 8]
    assert preset("digits-ref")["layers"][0]["weight_bits"] == 8     # a copy
    with pytest.raises(ValueError, match=r"^weight_bits must be integers 2\.\.8, got 9$"):
        with_widths(preset("digits-mlp"), weight_bits=9)
    with pytest.raises(ValueError, match=r"^out_bits must be one width or one per conv2d/linear "
                                         r"layer \(2\), got \[4, 4, 4\]$"):
        with_widths(preset("digits-mlp"), out_bits=[4, 4, 4])


def test_train_widths_through_the_cli(tmp_path, capsys):
    out = tmp_path / "w.npz"
    assert main(["train", "--scheme", "network", "--preset", "digits-mlp", "--iterations", "60",
                 "--weight-bits", "2,4", "--out-bits", "3", "-o", str(out),
                 "--no-progress"]) == 0
    art = load(out)
    dense = [l for l in art.config["layers"] if l["kind"] == "linear"]
    assert [(l["weight_bits"], l["out_bits"]) for l in dense] == [(2, 3), (4, 3)]
    assert np.abs(art.arrays["l1_weight"]).max() <= 1          # symmetric 2-bit: -1..1
    assert np.abs(art.arrays["l3_weight"]).max() <= 7
    assert main(["train", "--scheme", "network", "--weight-bits", "1", "-o",
                 str(tmp_path / "x.npz")]) == 2
    assert "error: --weight-bits must be integers 2..8, got 1" in capsys.readouterr().err


@pytest.mark.parametrize("preset_name, bits", [
    # ~40 s a case (training and a Verilator build): bench/network_widths verifies 2..8 bits too.
    pytest.param("digits-mlp", ([4, 2], [4, 8]), marks=pytest.mark.slow),  # 4- and 2-bit layers
    pytest.param("digits-ref", (4, 4), marks=pytest.mark.slow),
    # 2-bit weights everywhere: the MLP (the conv net stays at 10 % with 2-bit weights under
    # this QAT recipe, even with 4-bit activations and 600 steps).
    pytest.param("digits-mlp", (2, [4, 8]), marks=pytest.mark.slow),
])
def test_narrow_networks_verify_bit_exact(preset_name, bits):
    reason = simulator_missing_reason("verilator")
    if reason:
        pytest.skip(reason)
    weight_bits, out_bits = bits
    net = with_widths(preset(preset_name), weight_bits=weight_bits, out_bits=out_bits)
    # The conv net needs more steps than the MLP to classify at all.
    iterations = 80 if preset_name == "digits-mlp" else 600
    result = train_network(net, TrainConfig(iterations=iterations, seed=4), progress=False)
    art = export_network(result, command="pytest")
    x, y = load_digits("test")
    design = NetworkDesign(art, folding="balanced")
    images = list(x[:12]) + design.test_inputs()[:3]
    run = design.verify(images, simulator="verilator")
    assert run.passed, run.failures
    assert run.inputs == len(images)
    assert result.float_accuracy > 0.5                          # it still classifies
    assert torch.get_num_threads() >= 1
