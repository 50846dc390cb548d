"""QONNX import: small Brevitas models trained and exported here, imported, and run by the
golden model against QONNX's own execution of the same file."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
qnn = pytest.importorskip("brevitas.nn")
pytest.importorskip("qonnx")

import torch.nn as nn                                              # noqa: E402
from brevitas.export import export_qonnx                           # noqa: E402
from brevitas.quant import (Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint,  # noqa: E402
                            Int32Bias, Uint8ActPerTensorFixedPoint)
from qonnx.core.modelwrapper import ModelWrapper                   # noqa: E402
from qonnx.core.onnx_exec import execute_onnx                      # noqa: E402

from edgeforge.models.data_digits import load_digits               # noqa: E402
from edgeforge.models.network.qonnx_import import QONNXImportError, import_qonnx  # noqa: E402
from edgeforge.schemes.network import parse_network                # noqa: E402
from edgeforge.sim.golden.dense import accumulate                  # noqa: E402
from edgeforge.sim.golden.network import classify, run_layer       # noqa: E402

N_TEST = 64


class ConvNet(nn.Module):
    """conv 3x3 (pad 1) -> [BN] -> relu -> maxpool 2 -> flatten -> linear (8-bit logits)."""

    def __init__(self, bn=False, weight_bits=8, act_bits=8):
        super().__init__()
        w = dict(weight_quant=Int8WeightPerTensorFixedPoint, weight_bit_width=weight_bits,
                 bias_quant=Int32Bias, return_quant_tensor=True)
        self.inp = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFixedPoint,
                                     return_quant_tensor=True)
        self.conv = qnn.QuantConv2d(1, 6, 3, padding=1, **w)
        self.bn = nn.BatchNorm2d(6) if bn else None
        self.relu = qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=act_bits,
                                  return_quant_tensor=True)
        self.pool = nn.MaxPool2d(2)
        self.fc = qnn.QuantLinear(6 * 4 * 4, 10, output_quant=Int8ActPerTensorFixedPoint, **w)

    def forward(self, x):
        x = self.conv(self.inp(x))
        if self.bn is not None:
            x = self.bn(x)
        return self.fc(self.pool(self.relu(x)).flatten(1))


class MLP(nn.Module):
    """flatten -> linear -> BN -> relu -> linear (float logits)."""

    def __init__(self):
        super().__init__()
        w = dict(weight_quant=Int8WeightPerTensorFixedPoint, bias_quant=Int32Bias,
                 return_quant_tensor=True)
        self.inp = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFixedPoint,
                                     return_quant_tensor=True)
        self.fc1 = qnn.QuantLinear(64, 16, **w)
        self.bn = nn.BatchNorm1d(16)
        self.relu = qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True)
        self.fc2 = qnn.QuantLinear(16, 10, weight_quant=Int8WeightPerTensorFixedPoint,
                                   bias_quant=Int32Bias)

    def forward(self, x):
        return self.fc2(self.relu(self.bn(self.fc1(self.inp(x).flatten(1)))))


def train_export(net, path, steps=40, seed=0):
    """A few seconds of training on digits, then a QONNX export for a batch of N_TEST."""
    torch.manual_seed(seed)
    x, y = load_digits("train")
    xt, yt = torch.tensor(x / 256.0, dtype=torch.float32), torch.tensor(y)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    rng = np.random.default_rng(seed)
    net.train()
    for _ in range(steps):
        idx = torch.tensor(rng.integers(0, len(xt), 64))
        loss = nn.functional.cross_entropy(net(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    export_qonnx(net, torch.zeros(N_TEST, 1, 8, 8), str(path))
    return path


BUILDERS = {"conv": ConvNet, "conv-bn-4bit": lambda: ConvNet(bn=True, weight_bits=4, act_bits=4),
            "mlp-bn": MLP}


class Models(dict):
    """Each model trained and exported on first use (Brevitas training is seconds a model)."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder

    def __missing__(self, name):
        # Seeded before the model is built: its initial weights must not depend on test order.
        torch.manual_seed(0)
        self[name] = train_export(BUILDERS[name](), self.folder / f"{name}.onnx")
        return self[name]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return Models(tmp_path_factory.mktemp("qonnx"))


def qonnx_logits(path, art, images):
    """QONNX's execution of the model on the images the artifact streams (u * input_scale)."""
    model = ModelWrapper(str(path))
    x = (images.astype(np.float64) * art.provenance["input_scale"]).astype(np.float32)
    out = execute_onnx(model, {model.graph.input[0].name: x})[model.graph.output[0].name]
    return out / art.provenance["logit_scale"]


def tie_free(art, images) -> np.ndarray:
    """Images on which no requantisation meets an exact tie (QONNX's ROUND is half to even,
    the artifact's half up: only there may they differ)."""
    network = parse_network(art.config)
    x = images.astype(np.int64)
    ok = np.ones(len(x), bool)
    for layer in network.layers:
        if layer.transform is not None and layer.fields["shift"]:
            s = layer.fields["shift"]
            acc = accumulate(layer, art.arrays, x)
            tie = (acc & ((1 << s) - 1)) == (1 << (s - 1))
            ok &= ~tie.reshape(len(x), -1).any(axis=1)
        x = run_layer(network, art.arrays, layer.index, x)
    return ok


def digits_test_images():
    x, _ = load_digits("test")
    return x[:N_TEST]


@pytest.mark.parametrize("name", ["conv", pytest.param("conv-bn-4bit", marks=pytest.mark.slow),
                                  "mlp-bn"])
def test_golden_on_the_import_gives_qonnx_classes_and_integers(models, name):
    art = import_qonnx(models[name])
    images = digits_test_images()
    ref = qonnx_logits(models[name], art, images)
    got = classify(art, images)
    agree = got.classes == np.argmax(ref, axis=1)     # np.argmax: lowest index on a tie
    float_logits = any("float logits" in a for a in art.provenance["approximations"])
    if float_logits:
        # 8-bit logits for QONNX's float ones: the arg-max may move on a near tie only.
        assert agree.mean() >= 0.9
    else:
        # Same class on every test image.
        assert agree.all()
    x, y = load_digits("test")
    assert np.mean(got.classes == y[:N_TEST]) > 0.5            # it learned something
    if art.provenance["exact"]:
        assert name == "conv"
        assert np.array_equal(ref, np.round(ref))              # QONNX's logits on the int grid
        ok = tie_free(art, images)
        print(f"{ok.sum()} of {N_TEST} images meet no rounding tie")
        assert ok.any()
        assert np.array_equal(got.logits[ok], ref[ok].astype(np.int64))
    else:
        assert "BatchNormalization folded" in art.provenance["approximations"][0]
        assert float_logits == (name == "mlp-bn")


@pytest.mark.slow
def test_import_keeps_widths_and_the_layer_list(models):
    art = import_qonnx(models["conv-bn-4bit"], fold_bits=6)
    kinds = [l["kind"] for l in art.config["layers"]]
    assert kinds == ["conv2d", "relu", "maxpool", "flatten", "linear", "argmax"]
    conv, fc = art.config["layers"][0], art.config["layers"][4]
    assert (conv["weight_bits"], conv["out_bits"]) == (6, 4)      # BN-folded at fold_bits
    assert (fc["weight_bits"], fc["out_bits"]) == (4, 8)
    assert np.abs(art.arrays["l4_weight"]).max() <= 8


def test_cli_import_qonnx(models, tmp_path, capsys):
    from edgeforge.artifact import load
    from edgeforge.cli import main
    out = tmp_path / "net.npz"
    assert main(["import-qonnx", str(models["conv"]), "-o", str(out)]) == 0
    art = load(out)
    assert art.scheme == "network" and art.provenance["exact"]
    assert "imported" in capsys.readouterr().out


def rewrite(path, tmp_path, edit):
    import onnx
    m = onnx.load(str(path))
    edit(m)
    out = tmp_path / "edited.onnx"
    onnx.save(m, str(out))
    return out


def test_refusals_name_the_node(models, tmp_path):
    import onnx
    from onnx import helper, numpy_helper

    def first(m, op):
        return next(n for n in m.graph.node if n.op_type == op)

    def non_po2(m):
        q = first(m, "Quant")
        init = next(i for i in m.graph.initializer if i.name == q.input[1])
        init.CopyFrom(numpy_helper.from_array(np.array(0.003, np.float32), init.name))
    with pytest.raises(QONNXImportError, match=r"^Quant node '.*': an activation's scale must be "
                       r"a power of two, got 0\.003"):
        import_qonnx(rewrite(models["conv"], tmp_path, non_po2))

    def sigmoid(m):
        relu = first(m, "Relu")
        relu.op_type = "Sigmoid"
    with pytest.raises(QONNXImportError, match=r"^Sigmoid node '.*': unsupported node type "
                       r"'Sigmoid'"):
        import_qonnx(rewrite(models["conv"], tmp_path, sigmoid))

    def strided(m):
        conv = first(m, "Conv")
        for a in conv.attribute:
            if a.name == "strides":
                a.CopyFrom(helper.make_attribute("strides", [2, 2]))
    with pytest.raises(QONNXImportError, match=r"^Conv node '.*': the scheme's conv2d has .*; "
                       r"got strides=\[2, 2\]$"):
        import_qonnx(rewrite(models["conv"], tmp_path, strided))

    def narrow(m):
        q = [n for n in m.graph.node if n.op_type == "Quant"][-1]
        for a in q.attribute:
            if a.name == "narrow":
                a.CopyFrom(helper.make_attribute("narrow", 1))
    with pytest.raises(QONNXImportError, match=r"must not be narrow-range"):
        import_qonnx(rewrite(models["conv"], tmp_path, narrow))
    with pytest.raises(QONNXImportError, match=r"is not a file$"):
        import_qonnx(tmp_path / "missing.onnx")
    assert onnx  # the module is the test's dependency
