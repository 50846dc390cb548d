"""Network export: the artifact follows the spec, and its integers, run by the golden model, are the
fixed-point torch model."""

import numpy as np
import pytest
import torch

from edgeforge.artifact import Artifact
from edgeforge.models.data_digits import load_digits
from edgeforge.models.network.export import evaluate_network, export_network, network_from_artifact
from edgeforge.models.network.net import QNet
from edgeforge.models.network.train import TrainConfig, TrainResult, train_network
from edgeforge.models.network.zoo import preset
from edgeforge.sim.golden.network import classify, forward

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _narrow_mlp() -> dict:
    # Odd widths at the low end of the format: 3-bit weights, 4-bit activations, 5-bit logits.
    net = preset("digits-mlp")
    net["layers"][1].update(weight_bits=3, out_bits=4)
    net["layers"][3].update(weight_bits=5, out_bits=5, bias_bits=12)
    return net


@pytest.fixture(scope="module")
def trained():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {"ref": train_network("digits-ref", TrainConfig(iterations=400, seed=1),
                                     progress=False),
                "narrow": train_network(_narrow_mlp(), TrainConfig(iterations=300, seed=2),
                                        progress=False)}
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def artifacts(trained):
    return {k: export_network(r, command="pytest") for k, r in trained.items()}


def test_artifact_config_arrays_and_scales_follow_the_spec(artifacts):
    art = artifacts["ref"]
    assert isinstance(art, Artifact) and art.scheme == "network"
    assert art.config["input"] == {"channels": 1, "height": 8, "width": 8, "bits": 8}
    kinds = [layer["kind"] for layer in art.config["layers"]]
    assert kinds == ["conv2d", "relu", "maxpool", "conv2d", "relu", "maxpool", "flatten",
                     "linear", "relu", "linear", "argmax"]
    assert list(art.config["layers"][0]) == ["kind", "transform", "in_channels", "out_channels",
                                              "kernel", "padding", "weight_bits", "bias_bits",
                                              "shift", "out_bits"]
    assert list(art.config["layers"][7]) == ["kind", "transform", "in_features", "out_features",
                                              "weight_bits", "bias_bits", "shift", "out_bits"]
    shapes = {"l0": (8, 1, 3, 3), "l3": (8, 8, 3, 3), "l7": (32, 32), "l9": (10, 32)}
    assert sorted(art.arrays) == sorted([f"{k}_weight" for k in shapes] + [f"{k}_bias" for k in shapes])
    assert list(art.scales) == list(shapes)
    a_prev = 8
    for key, shape in shapes.items():
        i = int(key[1:])
        layer, s = art.config["layers"][i], art.scales[key]
        w, b = art.arrays[f"{key}_weight"], art.arrays[f"{key}_bias"]
        assert w.dtype == np.int8 and w.shape == shape and b.dtype == np.int32 and b.shape == shape[:1]
        assert s["a_in"] == a_prev and layer["shift"] == s["a_in"] + s["f_w"] - s["a_out"] >= 0
        q = 2 ** (layer["weight_bits"] - 1) - 1
        assert -q <= w.min() and w.max() <= q
        # bias_bits is the narrowest signed width that holds the biases.
        assert np.abs(b).max() < 2 ** (layer["bias_bits"] - 1) and layer["bias_bits"] >= 2
        assert np.abs(b).max() >= 2 ** (layer["bias_bits"] - 2) or layer["bias_bits"] == 2
        a_prev = s["a_out"]


def test_provenance_names_data_split_seed_accuracy_and_command(trained, artifacts):
    p = artifacts["ref"].provenance
    assert p["preset"] == "digits-ref" and p["seed"] == 1 and p["command"] == "pytest"
    assert "(p * 255 + 8) // 16" in p["data"] and "random_state=0" in p["split"]
    assert p["float_accuracy"] == round(trained["ref"].float_accuracy, 6)
    assert p["train_config"]["iterations"] == 400 and p["accuracy_split"] == "test"


def _logit_exponent(art) -> int:
    """a_out of the last linear layer: logits are y_int * 2**-a_out."""
    return art.scales[max(art.scales, key=lambda k: int(k[1:]))]["a_out"]


@pytest.mark.parametrize("key", ["ref", "narrow"])
def test_golden_reproduces_the_fixed_point_torch_model(trained, artifacts, key):
    x, y = load_digits("test")
    ref = classify(artifacts[key], x).logits
    torch_logits = trained[key].net.logits(x)
    a_out = _logit_exponent(artifacts[key])
    classes = ref.argmax(axis=1)
    # The contract is >= 99 % class agreement; float32 is exact here, so the logits are equal.
    assert np.mean(classes == torch_logits.argmax(dim=1).numpy()) >= 0.99
    assert np.array_equal(ref, (torch_logits.double() * 2.0 ** a_out).numpy().astype(np.int64))
    assert np.mean(classes == y) == pytest.approx(trained[key].float_accuracy)


def test_narrow_widths_are_respected(artifacts):
    art = artifacts["narrow"]
    assert np.abs(art.arrays["l1_weight"]).max() <= 3 and np.abs(art.arrays["l3_weight"]).max() <= 15
    assert art.config["layers"][3]["bias_bits"] == 12
    hidden = forward(art, load_digits("train")[0], upto=3)[-1]       # after the first relu
    assert hidden.min() >= 0 and hidden.max() <= 15


def test_extreme_images_agree(trained, artifacts):
    x = np.stack([np.zeros((1, 8, 8), np.uint8), np.full((1, 8, 8), 255, np.uint8)])
    for key in ("ref", "narrow"):
        a_out = _logit_exponent(artifacts[key])
        got = (trained[key].net.logits(x).double() * 2.0 ** a_out).numpy().astype(np.int64)
        assert np.array_equal(classify(artifacts[key], x).logits, got)


def test_network_from_artifact_is_the_trained_model(trained, artifacts):
    x, _ = load_digits("test")
    net = network_from_artifact(artifacts["ref"])
    assert isinstance(net, QNet) and net.scales() == trained["ref"].net.scales()
    assert torch.equal(net.logits(x), trained["ref"].net.logits(x).double())
    assert evaluate_network(artifacts["ref"]) == trained["ref"].float_accuracy
    assert evaluate_network(artifacts["ref"], split="train") == trained["ref"].train_accuracy


def test_same_seed_same_artifact(trained, artifacts):
    again = export_network(train_network("digits-ref", TrainConfig(iterations=400, seed=1),
                                         progress=False), command="pytest")
    assert again.content_hash == artifacts["ref"].content_hash
    assert again.config == artifacts["ref"].config and again.scales == artifacts["ref"].scales
    assert again.provenance == artifacts["ref"].provenance


def test_contradicting_scales_and_wrong_scheme_are_refused(artifacts):
    art = artifacts["ref"]
    bad = Artifact("network", art.config, art.arrays,
                   scales={**art.scales, "l3": {**art.scales["l3"], "a_out": art.scales["l3"]["a_out"] + 1}})
    shift = art.config["layers"][3]["shift"]
    with pytest.raises(ValueError, match=rf"^scales\.l3 gives a_in \+ f_w - a_out = {shift - 1}, "
                                         rf"but layers\[3\]\.shift is {shift}$"):
        network_from_artifact(bad)
    a_in = art.scales["l0"]["a_out"]
    off = Artifact("network", art.config, art.arrays,
                   scales={**art.scales, "l3": {**art.scales["l3"], "a_in": a_in + 1,
                                                "f_w": art.scales["l3"]["f_w"] - 1}})
    with pytest.raises(ValueError, match=rf"^scales\.l3\.a_in must be {a_in} \(the previous "
                                         rf"layer's a_out or the input bits\), got {a_in + 1}$"):
        network_from_artifact(off)
    missing = Artifact("network", art.config, art.arrays, scales={"l0": art.scales["l0"]})
    with pytest.raises(ValueError, match=r"^scales\.l3 must hold a_in, f_w and a_out, got None$"):
        network_from_artifact(missing)
    with pytest.raises(ValueError, match=r"^artifact must be of scheme 'network', got 'hklut'$"):
        network_from_artifact(Artifact("hklut", {}, {}))


def test_export_refuses_what_is_not_a_calibrated_train_result(trained):
    with pytest.raises(TypeError, match=r"^result must be a TrainResult, got 'QNet'$"):
        export_network(trained["ref"].net)
    raw = TrainResult(net=QNet(preset("digits-mlp")), preset="digits-mlp", config=TrainConfig(),
                      float_accuracy=0.0, unquantised_accuracy=0.0, train_accuracy=0.0)
    with pytest.raises(ValueError, match=r"^the network is not calibrated"):
        export_network(raw)


def test_default_command_names_the_program_not_its_folder(trained, monkeypatch):
    monkeypatch.setattr("sys.argv", ["/some/venv/bin/edgeforge", "train", "--seed", "1"])
    assert export_network(trained["narrow"]).provenance["command"] == "edgeforge train --seed 1"


def test_saved_artifact_is_byte_identical_loads_and_evaluates(tmp_path, trained, artifacts):
    from edgeforge.artifact import load, save
    a = save(artifacts["ref"], tmp_path / "a.npz")
    b = save(export_network(train_network("digits-ref", TrainConfig(iterations=400, seed=1),
                                          progress=False), command="pytest"), tmp_path / "b.npz")
    assert a.read_bytes() == b.read_bytes()
    loaded = load(a)
    assert loaded.config == artifacts["ref"].config and loaded.scales == artifacts["ref"].scales
    assert evaluate_network(a) == trained["ref"].float_accuracy
