"""PECAN-A training (models/pecan/layers_angle): the fixed-point network in torch is the golden
model's integer softmax, export gives a checked artifact with its exp and reciprocal tables,
the gradients reach codebooks and weights, and the CLI trains one."""

import dataclasses
import json

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
from edgeforge.models.network.quant import DenseConv2d
from edgeforge.models.network.train import TrainConfig, train_network
from edgeforge.models.network.zoo import PECAN_A_SOFTMAX, preset, with_transforms
from edgeforge.models.pecan.layers_angle import PecanAConv2d, PecanALinear
from edgeforge.schemes.network import recip_entries
from edgeforge.sim.golden.network import classify

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    net = with_transforms(preset("digits-mlp"), "pecan-a", prototypes=8)
    return train_network(net, TrainConfig(iterations=200, seed=1, warmup=0.3), progress=False)


def test_with_transforms_gives_pecan_a_layers_their_softmax_fields():
    net = with_transforms(preset("digits-ref"), ["dense", "pecan-a", "pecan-a", "pecan-a"],
                          prototypes=[64, 16, 4])
    layers = [l for l in net["layers"] if l["kind"] in ("conv2d", "linear")][1:]
    # The least recip_shift that keeps Z >> recip_shift (Z <= p 255) to 1,024 entries.
    assert [(l["prototypes"], l["recip_shift"]) for l in layers] == [(64, 4), (16, 2), (4, 0)]
    assert all(recip_entries(l) <= 1024 < recip_entries({**l, "recip_shift": l["recip_shift"] - 1})
               for l in layers[:2])
    assert all(l[k] == v for l in layers for k, v in PECAN_A_SOFTMAX.items())
    q = QNet(net)
    assert [type(m) for _, m in q.quant_layers()] == [DenseConv2d, PecanAConv2d, PecanALinear,
                                                      PecanALinear]


def test_export_then_golden_is_the_trained_model_bit_for_bit(trained):
    art = export_network(trained, command="test")
    x, y = load_digits("test")
    golden = classify(art, x)
    last = max(int(k[1:]) for k in art.scales)
    logits = trained.net.logits(x).double().numpy() * 2.0 ** art.scales[f"l{last}"]["a_out"]
    np.testing.assert_array_equal(logits, golden.logits)
    np.testing.assert_array_equal(network_from_artifact(art).predict(x), golden.classes)
    assert np.mean(golden.classes == y) == pytest.approx(trained.float_accuracy, abs=1e-9)
    layer = art.config["layers"][1]
    assert layer["transform"] == "pecan-a" and layer["exp_shift"] > 0
    exp = art.arrays["l1_exp"]
    # EXP[0] is the maximum's 2**exp_bits - 1; the last entry, 8 real units below, rounds to 0.
    assert exp.dtype == np.uint16 and len(exp) == 64 and exp[0] == 255 and exp[-1] == 0
    assert np.all(np.diff(exp.astype(int)) <= 0)
    assert len(art.arrays["l1_recip"]) == recip_entries(layer)
    assert art.arrays["l1_codebook"].dtype == np.int8 and "f_c" in art.scales["l1"]


def test_an_artifact_without_the_codebook_exponent_is_refused(trained):
    art = export_network(trained, command="test")
    scales = {k: dict(v) for k, v in art.scales.items()}
    del scales["l3"]["f_c"]
    with pytest.raises(ValueError, match=r"^scales\.l3\.f_c must be an integer \(the codebook's "
                                         r"exponent of a pecan-a layer\), got None$"):
        network_from_artifact(dataclasses.replace(art, scales=scales))


def test_fixed_point_gradients_reach_the_codebooks_and_the_weights():
    x, y = load_digits("train")
    net = QNet(with_transforms(preset("digits-mlp"), "pecan-a", prototypes=4))
    net.init_from_data(x[:256], torch.Generator().manual_seed(0))
    net.calibrate(x[:256])
    loss = F.cross_entropy(net(net.inputs(x[:64])), torch.from_numpy(y[:64]))
    loss.backward()
    for _, m in net.quant_layers():
        assert m.pq.codebook.grad.abs().sum() > 0 and m.weight.grad.abs().sum() > 0


def test_frozen_weights_train_the_pecan_a_prototypes_only():
    dense = load(PRETRAINED["digits-mlp"])
    net = with_transforms(preset("digits-mlp"), ["pecan-a", "dense"], prototypes=4)
    r = train_network(net, TrainConfig(iterations=30, seed=0), progress=False, frozen=dense)
    source = network_from_artifact(dense)
    for (_, m), (_, s) in zip(r.net.quant_layers(), source.quant_layers()):
        torch.testing.assert_close(m.weight.double(), s.weight, rtol=0, atol=0)
    art = export_network(r, command="test")
    x, _ = load_digits("test")
    np.testing.assert_array_equal(network_from_artifact(art).predict(x), r.net.predict(x))


def test_train_pecan_a_through_the_cli_then_evaluate(tmp_path, capsys):
    out = tmp_path / "a.npz"
    assert main(["train", "--scheme", "network", "--preset", "digits-mlp", "--transform",
                 "pecan-a", "--prototypes", "4", "--iterations", "40", "-o", str(out),
                 "--no-progress"]) == 0
    assert "digits-mlp/pecan-a" in capsys.readouterr().out
    art = load(out)
    assert [l["transform"] for l in art.config["layers"] if "transform" in l] == ["pecan-a"] * 2
    assert main(["evaluate", str(out), "-o", str(tmp_path / "e")]) == 0
    report = json.loads((tmp_path / "e" / "eval.json").read_text())
    assert report["float"] == report["golden"]
    assert main(["train", "--scheme", "network", "--transform", "pecan-a", "--prune",
                 "--iterations", "2", "-o", str(tmp_path / "b.npz"), "--no-progress"]) == 2
    assert "prune needs a network with PECAN-D layers" in capsys.readouterr().err
    assert main(["train", "--scheme", "network", "--transform", "pecan-a", "--warmup", "1",
                 "-o", str(tmp_path / "c.npz"), "--no-progress"]) == 2
    assert "error: --warmup must be in [0, 1), got 1.0" in capsys.readouterr().err


def test_prototype_offsets_make_every_layer_pecan_a_train():
    # The paper's MNIST recipe on digits-ref with every conv/linear layer PECAN-A: the
    # shipped dense weights frozen, the codebooks trained alone. With the dot product alone
    # the largest prototype wins most matches on the non-negative inputs and the network
    # stays far below its dense 99 %; with prototype_offsets (a negative squared distance)
    # a short run is well above chance, and golden = the trained model bit for bit.
    net = with_transforms(preset("digits-ref"), "pecan-a", prototypes=16,
                          prototype_offsets=True)
    r = train_network(net, TrainConfig(iterations=150, seed=0), progress=False,
                      frozen=PRETRAINED["digits-ref"])
    art = export_network(r, command="test")
    layers = [l for l in art.config["layers"] if l.get("transform")]
    assert all(l["transform"] == "pecan-a" and l["prototype_offsets"] for l in layers)
    x, y = load_digits("test")
    golden = classify(art, x)
    last = max(int(k[1:]) for k in art.scales)
    logits = r.net.logits(x).double().numpy() * 2.0 ** art.scales[f"l{last}"]["a_out"]
    np.testing.assert_array_equal(logits, golden.logits)
    assert np.mean(golden.classes == y) > 0.75             # 88 % at seed 0; chance 10 %
    assert art.arrays["l3_offset"].dtype == np.int32 and art.arrays["l3_offset"].max() <= 0
    # Loaded back, the layers keep the option and the artifact's offsets.
    np.testing.assert_array_equal(network_from_artifact(art).predict(x), golden.classes)


def test_without_the_option_an_export_has_no_offsets(trained):
    art = export_network(trained, command="test")
    assert not any(k.endswith("_offset") for k in art.arrays)
    assert all("prototype_offsets" not in l for l in art.config["layers"])


def test_prototype_offsets_flag_needs_a_pecan_a_layer(tmp_path, capsys):
    assert main(["train", "--scheme", "network", "--transform", "pecan-d",
                 "--prototype-offsets", "--iterations", "2", "-o", str(tmp_path / "d.npz"),
                 "--no-progress"]) == 2
    assert ("--prototype-offsets: a PECAN-A option; give --transform pecan-a (for all or "
            "some layers) with it") in capsys.readouterr().err
    out = tmp_path / "a.npz"
    assert main(["train", "--scheme", "network", "--preset", "digits-mlp", "--transform",
                 "pecan-a,dense", "--prototypes", "4", "--prototype-offsets", "--iterations",
                 "4", "-o", str(out), "--no-progress"]) == 0
    layers = load(out).config["layers"]
    assert layers[1]["prototype_offsets"] is True and "prototype_offsets" not in layers[3]
