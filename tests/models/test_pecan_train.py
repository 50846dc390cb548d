"""PECAN-D training and export: the QAT layers learn, the exported integers are the float PQ
model's, pruning changes no golden output on the images it was counted on, frozen weights
stay frozen, and bad options are refused naming them."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from edgeforge import load
from edgeforge.cli import main
from edgeforge.models.data_digits import load_digits
from edgeforge.models.network import PRETRAINED
from edgeforge.models.network.export import export_network, network_from_artifact
from edgeforge.models.network.net import QNet
from edgeforge.models.network.train import TrainConfig, train_network
from edgeforge.models.network.zoo import argmax, flatten, linear, preset, relu, with_transforms
from edgeforge.models.pecan.export import memory_bits, prototype_usage, prune_prototypes
from edgeforge.models.pecan.layers import PecanDConv2d, PecanDLinear
from edgeforge.sim.golden.network import classify, forward

pytestmark = pytest.mark.usefixtures("torch_one_thread")

# A small PECAN-D digits-mlp: every layer PECAN-D, 8 prototypes.
MLP = dict(transforms="pecan-d", prototypes=8)


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    net = with_transforms(preset("digits-mlp"), **MLP)
    return train_network(net, TrainConfig(iterations=200, seed=1), progress=False)


def test_with_transforms_builds_pecan_d_and_mixed_networks():
    net = with_transforms(preset("digits-ref"), ["dense", "pecan-d", "pecan-d", "pecan-d"],
                          prototypes=[32, 16, 8], table_bits=6)
    layers = [l for l in net["layers"] if l["kind"] in ("conv2d", "linear")]
    assert [l["transform"] for l in layers] == ["dense", "pecan-d", "pecan-d", "pecan-d"]
    # The defaults: a tap's 8 channels for the conv, fours for the linears.
    assert [(l["groups"], l["group_size"], l["prototypes"], l["table_bits"])
            for l in layers[1:]] == [(9, 8, 32, 6), (8, 4, 16, 6), (8, 4, 8, 6)]
    assert layers[0]["weight_bits"] == 8 and "weight_bits" not in layers[1]
    first = with_transforms(preset("digits-ref"))["layers"][0]
    assert (first["groups"], first["group_size"]) == (1, 9)      # one channel: the window
    q = QNet(net)
    assert [type(m) for _, m in q.quant_layers()][1:] == [PecanDConv2d, PecanDLinear,
                                                          PecanDLinear]
    # Each PECAN-D layer knows its input's integer type (the codebook's).
    assert [m.in_type for _, m in q.quant_layers()] == [(8, False)] * 4


@pytest.mark.parametrize("kwargs, message", [
    (dict(transforms="pecan"),
     r"transforms must be of \['debut', 'dense', 'pecan-a', 'pecan-d'\], got 'pecan'"),
    (dict(transforms=["dense", "pecan-d"]),
     r"transforms must be one kind or one per conv2d/linear layer \(4\), "
     r"got \['dense', 'pecan-d'\]"),
    (dict(prototypes=0), r"prototypes must be integers >= 1, got 0"),
    (dict(prototypes=[16, 16]), r"prototypes must be one value or one per PECAN layer \(4\), "
                                r"got \[16, 16\]"),
    (dict(table_bits=17), r"table_bits must be integers 2\.\.16, got 17"),
    (dict(group_size=5), r"group_size must divide each PECAN layer's inputs: layer 0 has 9, "
                         r"got 5"),
])
def test_bad_pecan_d_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match="^" + message + "$"):
        with_transforms(preset("digits-ref"), **kwargs)


@pytest.mark.parametrize("quantised", [False, True], ids=["float", "fixed-point"])
def test_training_steps_decrease_the_loss_and_move_the_codebooks(quantised):
    torch.manual_seed(0)
    x, y = load_digits("train")
    x, y = x[:128], torch.from_numpy(y[:128])
    net = QNet(with_transforms(preset("digits-mlp"), prototypes=8))
    net.init_from_data(x, torch.Generator().manual_seed(0))
    if quantised:
        net.calibrate(x)
    before = [m.pq.codebook.detach().clone() for _, m in net.quant_layers()]
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(12):
        loss = F.cross_entropy(net(net.inputs(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.1
    assert all(not torch.equal(b, m.pq.codebook) for b, (_, m) in zip(before, net.quant_layers()))


def test_export_then_golden_is_the_trained_pq_model(trained):
    art = export_network(trained, command="test")
    x, y = load_digits("test")
    golden = classify(art, x).classes
    # Float32 holds these integers exactly: the classes agree on every image (>= 99 % asked).
    assert np.mean(golden == trained.net.predict(x)) >= 0.99
    assert np.mean(golden == y) == pytest.approx(trained.float_accuracy, abs=0.01)
    # The artifact's own torch model (float64) too, and its codebooks are on the input's scale.
    np.testing.assert_array_equal(network_from_artifact(art).predict(x), golden)
    assert art.arrays["l1_codebook"].dtype == np.uint8 and art.arrays["l1_table"].dtype == np.int16
    usage = art.provenance["prototype_usage"]
    assert set(usage) == {"l1", "l3"} and usage["l1"]["prototypes"] == 8
    assert len(usage["l1"]["used_per_group"]) == 16 and 0 < usage["l1"]["used_share"] <= 1


def test_pruning_keeps_every_golden_output_on_the_images_counted(trained):
    art = export_network(trained, command="test")
    x, _ = load_digits("train")
    few = x[:6]
    pruned, report = prune_prototypes(art, few)
    assert report["bits_kept"] < report["bits"]
    assert all(pruned.config["layers"][int(k[1:])]["prototypes"] == v["kept"] <= v["prototypes"]
               for k, v in report["layers"].items())
    assert sum(v["codebook"] + v["table"] for v in memory_bits(pruned).values()) == \
        report["bits_kept"]
    for a, b in zip(forward(art, few), forward(pruned, few)):
        np.testing.assert_array_equal(a, b)
    # Every kept prototype of the pruned network is matched on those images, except pads.
    usage = prototype_usage(pruned, few)
    assert all((u > 0).sum(axis=1).max() == u.shape[1] for u in usage.values())
    # At export, counted on the whole training split: the same logits on all of it.
    full = export_network(trained, command="test", prune=True)
    np.testing.assert_array_equal(classify(full, x).logits, classify(art, x).logits)
    assert full.provenance["pruning"]["images"] == len(x)


def test_frozen_weights_train_the_prototypes_only():
    dense = load(PRETRAINED["digits-mlp"])
    net = with_transforms(preset("digits-mlp"), ["pecan-d", "dense"], prototypes=8)
    r = train_network(net, TrainConfig(iterations=40, seed=0), progress=False, frozen=dense)
    assert r.frozen == dense.content_hash
    source = network_from_artifact(dense)
    for (_, m), (_, s) in zip(r.net.quant_layers(), source.quant_layers()):
        assert not m.weight.requires_grad
        torch.testing.assert_close(m.weight.double(), s.weight, rtol=0, atol=0)
    art = export_network(r, command="test")
    assert art.provenance["frozen_weights"] == dense.content_hash
    # The dense layer exports the frozen artifact's own integers.
    np.testing.assert_array_equal(art.arrays["l3_weight"], dense.arrays["l3_weight"])


def test_frozen_weights_of_another_shape_are_refused():
    with pytest.raises(ValueError, match=r"^frozen must have the network's 4 conv2d/linear "
                                         r"layers, got 2$"):
        train_network(with_transforms(preset("digits-ref"), prototypes=4),
                      TrainConfig(iterations=2), progress=False, frozen=PRETRAINED["digits-mlp"])
    narrow = {"input": preset("digits-mlp")["input"], "layers": [
        flatten(), linear(64, 16, transform="pecan-d"), relu(), linear(16, 10), argmax()]}
    narrow["layers"][1] = with_transforms({"input": narrow["input"], "layers": [
        flatten(), linear(64, 16), relu(), linear(16, 10), argmax()]}, ["pecan-d", "dense"],
        prototypes=4)["layers"][1]
    with pytest.raises(ValueError, match=r"^frozen layers\[1\] weights must be of shape "
                                         r"\(16, 64\), got \(32, 64\)$"):
        train_network(narrow, TrainConfig(iterations=2), progress=False,
                      frozen=PRETRAINED["digits-mlp"])


def test_train_pecan_d_through_the_cli_then_evaluate(tmp_path, capsys):
    out = tmp_path / "p.npz"
    assert main(["train", "--scheme", "network", "--preset", "digits-mlp", "--transform",
                 "pecan-d,dense", "--prototypes", "4", "--iterations", "40", "--prune",
                 "--frozen-weights", str(PRETRAINED["digits-mlp"]), "-o", str(out),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "digits-mlp/pecan-d,dense" in printed and "matched on the training split" in printed
    art = load(out)
    assert [l["transform"] for l in art.config["layers"] if "transform" in l] == ["pecan-d",
                                                                                   "dense"]
    assert "pruning" in art.provenance and "frozen_weights" in art.provenance
    assert main(["evaluate", str(out), "-o", str(tmp_path / "e")]) == 0
    report = __import__("json").loads((tmp_path / "e" / "eval.json").read_text())
    assert report["float"] == report["golden"]


@pytest.mark.parametrize("argv, message", [
    (["--prototypes", "4"], "error: --prototypes: a PECAN option; give --transform pecan-d or "
                            "pecan-a (for all or some layers) with it"),
    (["--transform", "pecan"],
     "error: --transform must be of ['debut', 'dense', 'pecan-a', 'pecan-d'], got 'pecan'"),
    (["--transform", "pecan-d", "--group-size", "3"],
     "error: --group-size must divide each PECAN layer's inputs: layer 1 has 64, got 3"),
    (["--transform", "pecan-d", "--table-bits", "1"],
     "error: --table-bits must be integers 2..16, got 1"),
    (["--transform", "pecan-d", "--frozen-weights", "REF"],
     "error: --frozen-weights must have the network's 2 conv2d/linear layers, got 4"),
])
def test_bad_pecan_d_train_options_are_refused_naming_the_flag(tmp_path, capsys, argv, message):
    argv = [str(PRETRAINED["digits-ref"]) if a == "REF" else a for a in argv]
    assert main(["train", "--scheme", "network", "--preset", "digits-mlp", "--iterations", "2",
                 "--no-progress", "-o", str(tmp_path / "x.npz"), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_a_warmup_outside_its_range_is_refused():
    with pytest.raises(ValueError, match=r"^TrainConfig\.warmup must be in \[0, 1\), got 1$"):
        TrainConfig(warmup=1)
    # Within the float phase: the codebooks are initialised before calibration needs them.
    assert TrainConfig(iterations=100, qat_fraction=0.5, warmup=0.9).warmup_iterations == 50
