"""Network layer lists: presets, shape chain and field checks, the torch model, calibration."""

import numpy as np
import pytest
import torch

from edgeforge.artifact import ArtifactError
from edgeforge.models.data_digits import load_digits
from edgeforge.models.network.net import QNet, check_network
from edgeforge.models.network.quant import LAYERS, QuantLayer
from edgeforge.models.network.zoo import PRESETS, linear, macs, preset

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_presets_have_the_documented_shapes_and_macs():
    assert check_network(preset("digits-ref"))[-5:] == [(32,), (32,), (32,), (10,), (10,)]
    assert macs(preset("digits-ref")) == 4608 + 9216 + 1024 + 320 == 15168
    assert macs(preset("digits-mlp")) == 64 * 32 + 32 * 10
    assert macs(preset("digits-wide")) == 9216 + 73728 + 4096 + 320 == 87360
    assert preset("digits-ref") is not PRESETS["digits-ref"]


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match=r"^preset must be one of \['cifar10-ref', 'digits-mlp', "
                                         r"'digits-ref', 'digits-wide', 'mnist-ref'\], got 'lenet'$"):
        preset("lenet")


def _mutated(name, index, **fields):
    net = preset(name)
    net["layers"][index].update(fields)
    return net


# The check is the scheme's; these pin that it runs, naming the field and ending in the value.
BAD = [
    (_mutated("digits-ref", 0, kernel=4), r"config\.layers\[0\]\.kernel: .*4"),
    (_mutated("digits-ref", 3, in_channels=4), r"config\.layers\[3\]\.in_channels: .*4"),
    (_mutated("digits-mlp", 1, out_bits=1), r"config\.layers\[1\]\.out_bits: .*1"),
    (_mutated("digits-mlp", 1, shift=-1), r"config\.layers\[1\]\.shift: .*-1"),
    (_mutated("digits-mlp", 1, stride=2), r"config\.layers\[1\]\.stride: unknown .*"),
    ({"input": {"channels": 1, "height": 8, "width": 8, "bits": 9}, "layers": [{"kind": "flatten"}]},
     r"config\.input\.bits: .*9"),
]


@pytest.mark.parametrize("network, message", BAD,
                         ids=[m.split(":")[0].replace("\\", "") for _, m in BAD])
def test_bad_networks_are_refused_by_the_schemes_check(network, message):
    with pytest.raises(ArtifactError, match="^" + message + "$"):
        check_network(network)
    with pytest.raises(ValueError):
        QNet(network)


def test_presets_may_leave_the_derived_fields_out_and_stay_unchanged():
    net = preset("digits-mlp")
    assert "shift" not in net["layers"][1] and net["layers"][1]["bias_bits"] is None
    check_network(net)
    assert net == preset("digits-mlp")
    with_derived = _mutated("digits-mlp", 1, shift=3, bias_bits=12)
    assert check_network(with_derived) == check_network(net)


def test_a_transform_without_a_torch_layer_is_refused(monkeypatch):
    monkeypatch.delitem(LAYERS, ("linear", "dense"))
    with pytest.raises(ArtifactError, match=r"^config\.layers\[1\]\.transform: no torch layer "
                                            r"for 'dense' \(have \['debut', 'pecan-a', 'pecan-d'\]\)$"):
        check_network(preset("digits-mlp"))


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
