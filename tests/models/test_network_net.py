"""Network layer lists: presets, shape chain and field checks, the torch model, calibration."""

import re

import numpy as np
import pytest
import torch

from edgeforge.models.data_digits import load_digits
from edgeforge.models.network.net import QNet, check_network
from edgeforge.models.network.quant import QuantLayer
from edgeforge.models.network.zoo import PRESETS, linear, macs, preset

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_presets_have_the_documented_shapes_and_macs():
    assert check_network(preset("digits-ref"))[-5:] == [(32,), (32,), (32,), (10,), (10,)]
    assert macs(preset("digits-ref")) == 4608 + 9216 + 1024 + 320 == 15168
    assert macs(preset("digits-mlp")) == 64 * 32 + 32 * 10
    assert preset("digits-ref") is not PRESETS["digits-ref"]


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match=r"^preset must be one of \['digits-mlp', 'digits-ref'\], "
                                         r"got 'lenet'$"):
        preset("lenet")


def _mutated(name, index, **fields):
    net = preset(name)
    net["layers"][index].update(fields)
    return net


BAD = [
    (_mutated("digits-ref", 0, kernel=4), "layers[0].kernel must be odd, got 4"),
    (_mutated("digits-ref", 0, padding=2), "layers[0].padding must be an integer in 0..1, got 2"),
    (_mutated("digits-ref", 3, in_channels=4), "layers[3].in_channels must match its input's 8 "
                                               "channels, got 4"),
    (_mutated("digits-ref", 7, in_features=64), "layers[7].in_features must match its input's 32 "
                                                "values, got 64"),
    (_mutated("digits-ref", 0, weight_bits=9), "layers[0].weight_bits must be an integer in 2..8, "
                                               "got 9"),
    (_mutated("digits-mlp", 1, out_bits=1), "layers[1].out_bits must be an integer in 2..8, got 1"),
    (_mutated("digits-mlp", 1, bias_bits=33), "layers[1].bias_bits must be an integer in 2..32, "
                                              "got 33"),
    (_mutated("digits-mlp", 1, transform="pecan-d"), "layers[1].transform must be one of "
                                                     "['dense'], got 'pecan-d'"),
    (_mutated("digits-mlp", 1, stride=2), "layers[1] has an unknown field 'stride'"),
    (_mutated("digits-ref", 2, size=3), "layers[2].size must divide its input's height and width "
                                        "(8, 8), got 3"),
    (_mutated("digits-ref", 1, kind="tanh"), "layers[1].kind must be one of ['conv2d', 'linear', "
                                             "'relu', 'maxpool', 'flatten', 'argmax'], got 'tanh'"),
    ({"input": {"channels": 1, "height": 8, "width": 8, "bits": 9}, "layers": [{"kind": "flatten"}]},
     "input.bits must be an integer in 1..8, got 9"),
]


@pytest.mark.parametrize("network, message", BAD, ids=[m.split(" ")[0] for _, m in BAD])
def test_bad_networks_are_refused_naming_field_and_value(network, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        check_network(network)


def test_layer_order_rules():
    net = preset("digits-mlp")
    net["layers"].insert(1, {"kind": "relu"})
    with pytest.raises(ValueError, match=r"^layers\[1\] is a relu after 'flatten'; a relu must "
                                         r"directly follow a conv2d or linear layer$"):
        check_network(net)
    net = preset("digits-mlp")
    net["layers"].insert(4, {"kind": "relu"})
    with pytest.raises(ValueError, match=r"^layers\[5\] is an argmax; it must be the last layer"):
        check_network(net)
    net = preset("digits-mlp")
    del net["layers"][0]
    with pytest.raises(ValueError, match=r"^layers\[0\] is a linear layer but its input has shape "
                                         r"\(1, 8, 8\); flatten it first$"):
        check_network(net)


def test_inputs_are_pixels_on_their_grid_and_bad_images_refused():
    net = QNet(preset("digits-mlp"))
    x, _ = load_digits("test")
    t = net.inputs(x[:3])
    assert t.dtype == torch.float32 and torch.equal(t * 256, torch.from_numpy(x[:3]).float())
    with pytest.raises(ValueError, match=r"^images must be uint8 of shape \(N, 1, 8, 8\), "
                                         r"got float32 \(3, 1, 8, 8\)$"):
        net.inputs(x[:3].astype(np.float32))
    with pytest.raises(ValueError, match=r"got uint8 \(3, 8, 8\)$"):
        net.inputs(x[:3, 0])


def test_predict_breaks_ties_to_the_lowest_index():
    net = QNet({"input": {"channels": 1, "height": 2, "width": 2, "bits": 8},
                "layers": [{"kind": "flatten"}, linear(4, 5), {"kind": "argmax"}]})
    layer = net.layers[1]
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.copy_(torch.tensor([0.0, 1.0, 1.0, 0.5, 1.0]))
    assert net.predict(np.zeros((2, 1, 2, 2), np.uint8)).tolist() == [1, 1]


def test_calibration_keeps_shift_non_negative_and_training_activations_unsaturated():
    torch.manual_seed(0)
    net = QNet(preset("digits-ref"))
    x, _ = load_digits("train")
    assert not net.quantized
    net.calibrate(x)
    assert net.quantized and list(net.scales()) == ["l0", "l3", "l7", "l9"]
    # Walk the calibrated network: every layer's largest output is on the grid, inside its
    # range, and at least half of it (one exponent finer would saturate), unless shift = 0.
    h = net.inputs(x)
    for m in net.layers:
        h = m(h)
        if isinstance(m, QuantLayer):
            assert m.shift >= 0
            limit = 2 ** m.out_bits - 1 if m.unsigned else 2 ** (m.out_bits - 1) - 1
            top = (h.abs().max() * 2.0 ** m.a_out).item()
            assert top == int(top) and top <= limit
            assert m.shift == 0 or top >= limit // 2
            assert (m.weight_int().abs().max() * 2 > 2 ** (m.weight_bits - 1) - 1).item()
