"""MuLUT-style training: the network of a multi-kernel (S, D, Y), two-stage config, its transfer
to one table per (stage, kernel), and the golden model reading those tables back.

Where the tables and the network must agree exactly: on images whose pixels are table nodes
(multiples of 16 below 255; 255 is sampled for the top node but the readout addresses it as
256, so it interpolates) the simplex readout returns the node's entry and the golden T equals
the network's rounded entries summed. A stage's output in general is not on the nodes, so
stage 2 is checked on node images of its own (through a one-stage view of its tables), and
the whole pipeline on a natural image within a measured tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeforge.artifact import load
from edgeforge.cli import main
from edgeforge.models.data import bicubic_downscale, sample_images
from edgeforge.models.srlut.net import SRLUTNet
from edgeforge.models.srlut.train import TrainConfig, train
from edgeforge.models.srlut.transfer import transfer
from edgeforge.schemes.srlut import SRLUTConfig
from edgeforge.sim.golden import srlut as golden

MULUT = SRLUTConfig("sdy", (1, 2), 4)


def _planes(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(img, np.float32))[None, None] / 255.0


def _node_image(seed: int, shape=(7, 9)) -> np.ndarray:
    return (np.random.default_rng(seed).integers(0, 16, shape) * 16).astype(np.uint8)


def _stage_view(art, stage: int) -> tuple[dict, SRLUTConfig]:
    """Tables of one stage as the last (and only) stage of a config of its own."""
    config = SRLUTConfig.from_dict(art.config)
    one = SRLUTConfig(config.kernels, (config.stages[stage],), config.interval_bits)
    return ({f"s0_{k.name}": art.arrays[f"s{stage}_{k.name}"] for k in config.kernel_list}, one)


@pytest.fixture(scope="module")
def trained():
    """A tiny S/D/Y two-stage net after a few iterations on a natural crop, and its tables."""
    camera = sample_images("test")["camera"]              # grey as RGB, textured mid-frame
    cy, cx = camera.shape[0] // 2, camera.shape[1] // 2
    hr = camera[cy:cy + 48, cx:cx + 48]
    pairs = [("camera", bicubic_downscale(hr, 2), hr)]
    net, info = train(TrainConfig(iterations=12, batch=2, patch=8, nf=8, lr=1e-2), MULUT,
                      pairs=pairs, progress=False)
    return net, info, transfer(net), np.ascontiguousarray(pairs[0][1][..., 0])


def test_one_unit_per_table_with_the_kernels_taps():
    net = SRLUTNet(MULUT, nf=8)
    assert list(net.units) == [name for name, *_ in MULUT.tables()]
    assert net.integer and not SRLUTNet(SRLUTConfig("s"), nf=8).integer
    assert net.units["s0_d"].convs[0].dilation == (2, 2)            # 2x2 dilated by 2
    assert net.units["s0_y"].convs[0].taps == ((0, 0), (1, 1), (1, 2), (2, 1))
    assert net.units["s0_s"].convs[-1].out_channels == 1            # x1 refinement stage
    assert net.units["s1_y"].convs[-1].out_channels == 4
    # Every kernel's first layer sees exactly its 4 taps: 4 * 8 weights + 8 biases.
    assert {sum(p.numel() for p in u.convs[0].parameters()) for u in net.units.values()} == {40}


def test_two_stage_training_moves_every_unit(trained):
    net, info, art, _ = trained
    torch.manual_seed(TrainConfig().seed)
    start = SRLUTNet(MULUT, nf=8)
    assert np.isfinite(info["final_loss"])
    for name, unit in net.units.items():
        before = start.units[name].convs[0].weight
        assert not torch.equal(unit.convs[0].weight, before), name
    assert art.config == {"kernels": "sdy", "stages": [1, 2], "interval_bits": 4}
    assert {k: v.shape for k, v in art.arrays.items()} == {
        f"s{s}_{k}": (17 ** 4, r, r) for s, r in ((0, 1), (1, 2)) for k in "sdy"}


def test_stage_one_reindexing_equals_the_golden_on_node_images(trained):
    net, _, art, _ = trained
    img = _node_image(1)
    with torch.no_grad():
        stage1 = net.stage(0, _planes(img))[0, 0].numpy() * 255
    total, out = golden.stage_sums(art, img)[0]
    np.testing.assert_array_equal(stage1, out)          # clip(RHE(T / (4 q K) + 127), 0, 255)
    with torch.no_grad():                               # T itself: network entries summed, x q
        t = net.stage_sum(0, _planes(img))[0, 0].numpy()
    np.testing.assert_array_equal(t * MULUT.interval, total)


def test_stage_two_equals_the_golden_on_node_images(trained):
    net, _, art, _ = trained
    img = _node_image(2)
    with torch.no_grad():
        stage2 = net.stage(1, _planes(img))[0, 0].numpy() * 255
    np.testing.assert_array_equal(np.clip(stage2, 0, 255), golden.upscale(_stage_view(art, 1), img))


def test_whole_pipeline_agrees_with_the_golden_on_a_photo(trained):
    # Off the nodes the golden interpolates a table sampled every 16 levels (piecewise linear
    # in each simplex) where the network is a smooth nonlinear function, and stage 1's
    # rounded output, a level off, moves stage 2's index: the two differ by a few levels
    # (measured here: mean 1.7, at most 7 levels, on an output spanning 35..115).
    net, _, art, plane = trained
    with torch.no_grad():
        ref = np.clip(net(_planes(plane))[0, 0].numpy() * 255, 0, 255)
    out = golden.upscale(art, plane).astype(float)
    diff = np.abs(out - ref)
    assert np.ptp(out) > 40                             # the net follows the image, not flat
    assert diff.mean() <= 2.5 and diff.max() <= 10, (diff.mean(), diff.max())


def test_one_stage_integer_net_equals_the_golden_on_node_images():
    torch.manual_seed(0)
    net = SRLUTNet(SRLUTConfig("s", (2,), 4), nf=8, integer=True)
    img = _node_image(3)
    with torch.no_grad():
        ref = np.clip(net(_planes(img))[0, 0].numpy() * 255, 0, 255)
    np.testing.assert_array_equal(ref, golden.upscale(transfer(net), img))


def test_network_refuses_bad_arguments():
    with pytest.raises(TypeError, match="config must be an SRLUTConfig, got 'dict'"):
        SRLUTNet({"kernels": "sdy"})
    with pytest.raises(ValueError, match="integer must be True, False or None, got 1"):
        SRLUTNet(MULUT, integer=1)


def test_cli_trains_a_two_stage_sdy_artifact(tmp_path, capsys):
    out = tmp_path / "mulut.npz"
    assert main(["train", "--scheme", "srlut", "--kernels", "sdy", "--stages", "1,2",
                 "--interval-bits", "6", "--iterations", "2", "--batch", "2", "--patch", "6",
                 "--nf", "4", "--no-progress", "-o", str(out)]) == 0
    art = load(out)
    assert art.config == {"kernels": "sdy", "stages": [1, 2], "interval_bits": 6}
    assert sorted(art.arrays) == ["s0_d", "s0_s", "s0_y", "s1_d", "s1_s", "s1_y"]
    img = np.random.default_rng(0).integers(0, 256, (5, 6, 3)).astype(np.uint8)
    assert golden.upscale(art, img).shape == (10, 12, 3)
    capsys.readouterr()


@pytest.mark.parametrize("flags, message", [
    (["--stages", "1,5"], "--stages: stage factor must be 1..4, got 5"),
    (["--stages", "1,x"], "expected comma-separated integers, got '1,x'"),
    (["--interval-bits", "1"], "--interval-bits: 129 nodes per input make"),
    (["--kernels", "sd"], "invalid choice: 'sd'"),
])
def test_cli_train_names_the_bad_option(tmp_path, capsys, flags, message):
    argv = ["train", "--scheme", "srlut", "--kernels", "sdy", *flags, "-o",
            str(tmp_path / "x.npz")]
    try:
        status = main(argv)
    except SystemExit as e:                     # argparse's own errors exit
        status = e.code
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize("config", [SRLUTConfig("s", (2, 2), 4), SRLUTConfig("f", (1, 2), 4)])
def test_other_multi_stage_configs_read_back_stage_by_stage(config):
    # Reflect padding and one kernel: the same stage ends, K = 1.
    torch.manual_seed(1)
    net = SRLUTNet(config, nf=4)
    art = transfer(net)
    img = _node_image(4)
    with torch.no_grad():
        stage1 = net.stage(0, _planes(img))[0, 0].numpy() * 255
        stage2 = np.clip(net.stage(1, _planes(img))[0, 0].numpy() * 255, 0, 255)
    np.testing.assert_array_equal(stage1, golden.stage_sums(art, img)[0][1])
    np.testing.assert_array_equal(stage2, golden.upscale(_stage_view(art, 1), img))
