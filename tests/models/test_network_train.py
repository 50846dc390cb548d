"""Network training: config checks, a short run that learns, repeatability by seed."""

import re

import pytest
import torch

from edgeforge.models.network.train import TrainConfig, train_network
from edgeforge.models.network.zoo import preset

pytestmark = pytest.mark.usefixtures("torch_one_thread")

SHORT = dict(iterations=300, threads=1)


@pytest.mark.parametrize("field, value, message", [
    ("iterations", 0, "TrainConfig.iterations must be a positive integer, got 0"),
    ("batch", 2.0, "TrainConfig.batch must be a positive integer, got 2.0"),
    ("lr", -1e-3, "TrainConfig.lr must be a positive number, got -0.001"),
    ("qat_fraction", 0, "TrainConfig.qat_fraction must be in (0, 1], got 0"),
    ("weight_decay", -1, "TrainConfig.weight_decay must be a number >= 0, got -1"),
    ("seed", "1", "TrainConfig.seed must be an integer, got '1'"),
])
def test_bad_train_config_is_refused(field, value, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        TrainConfig(**{field: value})


def test_schedule_splits_float_and_qat_iterations():
    assert TrainConfig(iterations=1000, qat_fraction=0.4).float_iterations == 600
    assert TrainConfig(iterations=10, qat_fraction=1).float_iterations == 0
    # At least one QAT step, so that the result is always calibrated and trained so.
    assert TrainConfig(iterations=10, qat_fraction=0.01).float_iterations == 9


def test_short_run_learns_and_restores_torch_settings():
    torch.set_num_threads(1)
    r = train_network("digits-mlp", TrainConfig(**SHORT, seed=3), progress=False)
    assert r.preset == "digits-mlp" and r.net.quantized
    # Ten classes: chance is 10 %; 300 steps of the small MLP reach well above 90 %.
    assert r.float_accuracy > 0.9 and r.unquantised_accuracy > 0.9 and r.train_accuracy > 0.9
    phases = [h["phase"] for h in r.history]
    assert phases[0] == "float" and phases[-1] == "qat" and sorted(set(phases)) == ["float", "qat"]
    assert r.history[-1]["iteration"] == 300
    assert r.history[0]["loss"] > r.history[-1]["loss"]
    assert torch.get_num_threads() == 1 and not torch.are_deterministic_algorithms_enabled()


def _weights(result):
    return {k: v.clone() for k, v in result.net.state_dict().items()}, result.net.scales()


def test_same_seed_same_network_other_seed_other_network():
    a = train_network("digits-mlp", TrainConfig(iterations=60, seed=5), progress=False)
    b = train_network("digits-mlp", TrainConfig(iterations=60, seed=5), progress=False)
    c = train_network("digits-mlp", TrainConfig(iterations=60, seed=6), progress=False)
    (wa, sa), (wb, sb), (wc, _) = _weights(a), _weights(b), _weights(c)
    assert sa == sb and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not torch.equal(wa["layers.1.weight"], wc["layers.1.weight"])


def test_custom_network_dict_trains():
    net = preset("digits-mlp")
    net["layers"][1].update(out_features=16, weight_bits=4, out_bits=4)
    net["layers"][3].update(in_features=16)
    r = train_network(net, TrainConfig(iterations=40), progress=False)
    assert r.preset == "custom" and r.net.layers[1].out_features == 16
    assert r.net.layers[1].weight_int().abs().max().item() <= 7


def test_network_must_take_the_data_sets_images():
    net = preset("digits-mlp")
    net["input"] = {"channels": 3, "height": 8, "width": 8, "bits": 8}
    with pytest.raises(ValueError, match=r"^the network takes 3x8x8 \(8 bits\), but digits "
                                         r"images are 1x8x8 \(8 bits\)$"):
        train_network(net, TrainConfig(iterations=5), progress=False)


def test_config_must_be_a_train_config():
    with pytest.raises(TypeError, match=r"^config must be a TrainConfig, got \{'iterations': 5\}$"):
        train_network("digits-mlp", {"iterations": 5})
