"""Transfer: the int8 tables of a trained net, read by the golden LUT readout, give the net's output."""

import numpy as np
import pytest
import torch

from edgeforge.artifact import load, save
from edgeforge.models.hklut.net import HKLUTNet
from edgeforge.models.hklut.transfer import transfer
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.golden import hklut as golden



pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _image(seed, h, w):
    rng = np.random.default_rng(seed)
    # Smooth content plus noise: every 4-bit MSB and LSB pattern class gets exercised.
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 90 * np.sin(yy / 3.0 + seed)[..., None] * np.cos(xx / 4.0)[..., None]
    return np.clip(base + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("config", [HKLUTConfig(), HKLUTConfig(stages=(3,), msb_kernels="hd",
                                                               lsb_kernels="hdb")],
                         ids=["hklut-s-x4", "x3-hd-hdb"])
def test_float32_readout_of_transferred_tables_reproduces_the_net(config):
    torch.manual_seed(4)
    net = HKLUTNet(config, nf=16)
    # The branches' [-1, 1] clamps exist only in the net, not in the readout; this
    # net's branch sums stay inside them, as trained tables do (notes: |S_m| <= 654 < 765).
    image = _image(0, 13, 17)
    with torch.no_grad():
        y = net.forward_tables(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0)
    ours = torch.clamp(torch.round(y[0] * 255.0), 0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    lut = golden.upscale(transfer(net), image, arithmetic="float32")
    assert lut.shape == ours.shape
    # The net pads as the readout does (hdb reflect, hd replicate), so not only the
    # interior but every pixel agrees.
    assert np.array_equal(lut, ours)


def test_transfer_builds_a_valid_artifact(tmp_path):
    torch.manual_seed(5)
    net = HKLUTNet(HKLUTConfig(), nf=8)
    art = transfer(net, command="edgeforge train --iterations 1", seed=7)
    assert art.scheme == "hklut" and art.config == HKLUTConfig().to_dict()
    assert art.provenance["source"] == "edgeforge-train"
    assert art.provenance["nf"] == 8 and art.provenance["activation"] == "relu"
    assert art.provenance["seed"] == 7
    tables = net.tables_int8()
    back = load(save(art, tmp_path / "a.npz"))
    for name, table in tables.items():
        assert back.arrays[name].dtype == np.int8
        assert np.array_equal(back.arrays[name], table)


def test_transfer_rejects_a_non_net():
    with pytest.raises(TypeError, match=r"^net must be an HKLUTNet, got 'dict'$"):
        transfer({})


def test_transfer_refuses_a_network_with_non_finite_weights():
    net = HKLUTNet(HKLUTConfig(stages=(2,)), nf=4)
    with torch.no_grad():
        net.units["s0_lsb_h"].layers[0].weight.view(-1)[0] = float("nan")
    with pytest.raises(ValueError, match=r"^net: 1 weight tensor\(s\) hold NaN or infinity "
                                         r"\(first units\.s0_lsb_h\."):
        transfer(net)


def test_shipped_artifact_is_ours_and_beats_bicubic():
    from edgeforge.artifact import load
    from edgeforge.models.hklut import PRETRAINED
    from edgeforge.models.hklut.evaluate import evaluate

    art = load(PRETRAINED)
    assert art.provenance["source"] == "edgeforge-train"
    assert art.config == HKLUTConfig().to_dict()
    report = evaluate(art, arithmetic="exact", progress=False)
    # pretrained/README.md: 29.219 dB against bicubic's 28.273 on the built-in test split.
    assert report.mean.psnr == pytest.approx(29.219, abs=1e-3)
    assert report.mean.psnr > report.mean.bicubic_psnr + 0.5
    assert report.mean.ssim > report.mean.bicubic_ssim
