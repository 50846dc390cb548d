"""HKLUT torch network and trainer: fast forward == authors' forward, ST floor, training, resume."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from edgeforge.models.hklut.net import HKLUTNet, st_floor, index_maps
from edgeforge.models.hklut.train import TrainConfig, load_checkpoint, train
from edgeforge.schemes.hklut import KERNEL_SETS, HKLUTConfig



pytestmark = pytest.mark.usefixtures("torch_one_thread")


CONFIGS = [HKLUTConfig(), HKLUTConfig(stages=(3,), msb_kernels="hd", lsb_kernels="hdb"),
           HKLUTConfig(stages=(2, 1, 2))]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.stages}-{c.msb_kernels}-{c.lsb_kernels}")
def test_forward_tables_equals_per_pixel_forward(config):
    torch.manual_seed(1)
    net = HKLUTNet(config, nf=8, activation="gelu")
    x = torch.rand(2, 3, 6, 9)
    a, b = net(x), net.forward_tables(x)
    assert a.shape == b.shape == (2, 3, 6 * config.scale, 9 * config.scale)
    # Both paths run the same float32 unit; only a different matmul batch could move
    # one entry across an integer, i.e. one level of one table entry out of 255*K.
    diff = (a - b).abs()
    assert diff.max().item() <= 1 / 255 / 2 + 1e-6
    assert (diff > 0).float().mean().item() < 0.01


def test_fast_forward_gradients_match_per_pixel_forward():
    torch.manual_seed(2)
    net = HKLUTNet(HKLUTConfig(), nf=8)
    x, target = torch.rand(1, 3, 5, 7), torch.rand(1, 3, 20, 28)
    grads = []
    for forward in (net.forward, net.forward_tables):
        net.zero_grad()
        torch.nn.functional.mse_loss(forward(x), target).backward()
        grads.append(torch.cat([p.grad.reshape(-1) for p in net.parameters()]))
    assert grads[0].abs().max() > 0
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-4, atol=1e-7)


def test_index_maps_read_the_rotated_plane():
    codes = torch.randint(0, 16, (1, 5, 6))
    kernel = KERNEL_SETS["hdb"][2]
    maps = index_maps(codes, kernel, "reflect")
    # Rotation 1, reference: rotate, reflect-pad right/bottom by 2, read taps, rotate back.
    rotated = torch.rot90(codes.float().unsqueeze(1), 1, [2, 3])
    padded = torch.nn.functional.pad(rotated, (0, 2, 0, 2), mode="reflect")[0, 0].long()
    h, w = rotated.shape[2:]
    ref = sum(padded[dy:dy + h, dx:dx + w] * 16 ** (2 - t) for t, (dy, dx) in enumerate(kernel.taps))
    assert torch.equal(maps[1][0].long(), torch.rot90(ref, 3, [0, 1]))


def test_st_floor_is_floor_forward_identity_backward():
    x = torch.tensor([-1.5, -0.2, 0.0, 0.7, 126.99], requires_grad=True)
    y = st_floor(x)
    assert torch.equal(y, torch.floor(x.detach()))
    (y * torch.arange(5.0)).sum().backward()
    assert torch.equal(x.grad, torch.arange(5.0))


def test_tables_int8_are_the_transfer_entries():
    torch.manual_seed(3)
    net = HKLUTNet(HKLUTConfig(), nf=8)
    tables = net.tables_int8()
    assert sorted(tables) == sorted(name for name, *_ in HKLUTConfig().tables())
    t = tables["s0_msb_d"]
    assert t.dtype == np.int8 and t.shape == (4096, 2, 2)
    # Entry 16*16*a + 16*b + c holds the unit's output at pattern (16a, 16b, 16c)/255.
    v = torch.tensor([[3 * 16 / 255, 7 * 16 / 255, 15 * 16 / 255]], dtype=torch.float32)
    ref = torch.floor(127 * net.units["s0_msb_d"](v)).reshape(2, 2)
    assert np.array_equal(t[3 * 256 + 7 * 16 + 15], ref.to(torch.int8).numpy())


@pytest.mark.parametrize("kwargs, match", [
    ({"iterations": 0}, r"^TrainConfig\.iterations must be a positive integer, got 0$"),
    ({"patch": 2}, r"^TrainConfig\.patch must be at least 3 \(reflect padding by 2\), got 2$"),
    ({"milestones": (0.5, 1.5)}, r"^TrainConfig\.milestones must be fractions in \(0, 1\), "
                                 r"got \(0\.5, 1\.5\)$"),
    ({"activation": "tanh"}, r"^TrainConfig\.activation must be one of .*, got 'tanh'$"),
    ({"lr": math.inf}, r"^TrainConfig\.lr must be a number in \(0, 1\], got inf$"),
    ({"lr": math.nan}, r"^TrainConfig\.lr must be a number in \(0, 1\], got nan$"),
    ({"lr": 2.0}, r"^TrainConfig\.lr must be a number in \(0, 1\], got 2\.0$"),
    ({"seed": -1}, r"^TrainConfig\.seed must be a non-negative integer, got -1$"),
])
def test_train_config_rejects(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_milestones_scale_with_the_schedule():
    assert TrainConfig(iterations=200_000).milestone_iterations() == [100_000, 150_000]
    assert TrainConfig(iterations=40).milestone_iterations() == [20, 30]


def _smooth_image(rng, h, w):
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    chans = [np.sin(2 * math.pi * (rng.uniform(0.5, 2) * yy + rng.uniform(0.5, 2) * xx)
                    + rng.uniform(0, 6)) for _ in range(3)]
    return np.clip(np.stack(chans, 2) * 100 + 128, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("sr")
    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("test", 2)):
        (root / split / "HR").mkdir(parents=True)
        for i in range(n):
            Image.fromarray(_smooth_image(rng, 64, 80)).save(root / split / "HR" / f"{i}.png")
    # A benchmark folder needs its LR set; make it the way load_train_dir would.
    from edgeforge.models.data import bicubic_downscale
    (root / "test" / "LR_bicubic" / "X4").mkdir(parents=True)
    for p in (root / "test" / "HR").iterdir():
        lr = bicubic_downscale(np.asarray(Image.open(p)), 4)
        Image.fromarray(lr).save(root / "test" / "LR_bicubic" / "X4" / f"{p.stem}x4.png")
    return root


def _config(tmp_path, **kw):
    base = dict(iterations=6, batch=2, patch=8, nf=8, eval_every=3, threads=1,
                checkpoint_dir=str(tmp_path))
    base.update(kw)
    return TrainConfig(**base)


def test_training_reduces_loss_and_keeps_the_best(tiny_data, tmp_path):
    result = train(_config(tmp_path, iterations=30, eval_every=10, lr=2e-3, batch=4),
                   train_dir=tiny_data / "train", test_dir=tiny_data / "test", progress=False)
    losses = [h["loss"] for h in result.history]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert result.best_psnr == max(h["psnr"] for h in result.history)
    assert result.history[-1]["psnr"] > result.history[0]["psnr"]
    net, payload = load_checkpoint(result.best_checkpoint)
    assert payload["iteration"] == result.best_iteration
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(),
                                                  result.net.state_dict().values()))


def test_resume_restores_every_stage_and_the_schedule(tiny_data, tmp_path):
    data = dict(train_dir=tiny_data / "train", test_dir=tiny_data / "test", progress=False)
    straight = _config(tmp_path / "a", iterations=4, eval_every=4)
    split = _config(tmp_path / "b", iterations=4, eval_every=4)
    train(straight, **data)
    train(split, stop_after=2, **data)
    _, half = load_checkpoint(tmp_path / "b" / "last.pt")
    assert half["iteration"] == 2
    train(split, resume=True, **data)
    _, a = load_checkpoint(tmp_path / "a" / "last.pt")
    _, b = load_checkpoint(tmp_path / "b" / "last.pt")
    assert a["iteration"] == b["iteration"] == 4
    assert a["model"].keys() == b["model"].keys()
    assert any(k.startswith("units.s1_") for k in a["model"])   # every stage is compared
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    assert a["scheduler"] == b["scheduler"]
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        assert torch.equal(sa["exp_avg_sq"], sb["exp_avg_sq"])


def test_resume_refuses_a_different_schedule(tiny_data, tmp_path):
    data = dict(train_dir=tiny_data / "train", test_dir=tiny_data / "test", progress=False)
    train(_config(tmp_path, iterations=4), stop_after=1, **data)
    with pytest.raises(ValueError, match=r"TrainConfig\.batch was 2, got 3$"):
        train(_config(tmp_path, iterations=4, batch=3), resume=True, **data)


def test_resume_without_checkpoint_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"^resume: no checkpoint at '.*last\.pt'$"):
        train(_config(tmp_path), resume=True, progress=False)


def test_load_checkpoint_refuses_other_files(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"junk\.pt' is not a readable torch checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"other\.pt' is not an edgeforge HKLUT training "
                                         r"checkpoint$"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"^no checkpoint file at '.*none\.pt'$"):
        load_checkpoint(tmp_path / "none.pt")


def test_fresh_run_refuses_the_checkpoints_of_an_earlier_run(tiny_data, tmp_path):
    data = dict(train_dir=tiny_data / "train", test_dir=tiny_data / "test", progress=False)
    train(_config(tmp_path, iterations=4), stop_after=1, **data)
    other = HKLUTConfig(stages=(2,))
    with pytest.raises(ValueError, match=r"^checkpoint_dir: '.*' holds an earlier run's last\.pt "
                                         r"and best\.pt; continue it with resume=True"):
        train(_config(tmp_path, iterations=4), other, **data)


def test_stopping_before_the_first_evaluation_evaluates_what_it_returns(tiny_data, tmp_path):
    data = dict(train_dir=tiny_data / "train", test_dir=tiny_data / "test", progress=False)
    result = train(_config(tmp_path, iterations=10, eval_every=5), stop_after=2, **data)
    assert [h["iteration"] for h in result.history] == [2]
    assert result.best_iteration == 2 and math.isfinite(result.best_psnr)
    _, last = load_checkpoint(tmp_path / "last.pt")
    assert all(torch.equal(last["model"][k], v) for k, v in result.net.state_dict().items())
    # Resumed to the end, the run evaluates on its own schedule again.
    result = train(_config(tmp_path, iterations=10, eval_every=5), resume=True, **data)
    assert [h["iteration"] for h in result.history] == [2, 5, 10]


def test_a_best_checkpoint_of_another_run_is_not_returned(tiny_data, tmp_path):
    data = dict(train_dir=tiny_data / "train", test_dir=tiny_data / "test", progress=False)
    for run in ("a", "b"):
        train(_config(tmp_path / run, iterations=2, eval_every=2), **data)
    (tmp_path / "a" / "best.pt").replace(tmp_path / "b" / "best.pt")
    # b is complete: resuming trains nothing and returns its best.pt, now a's.
    with pytest.raises(ValueError, match=r"^cannot export '.*b/best\.pt': it was written by "
                                         r"another run"):
        train(_config(tmp_path / "b", iterations=2, eval_every=2), resume=True, **data)


def test_a_run_whose_loss_stops_being_finite_is_stopped(tiny_data, tmp_path):
    data = dict(train_dir=tiny_data / "train", test_dir=tiny_data / "test", progress=False)
    config = _config(tmp_path, iterations=6)
    train(config, stop_after=3, **data)
    # A checkpoint gone bad (NaN weights): the resumed run's first loss is NaN.
    payload = torch.load(tmp_path / "last.pt", weights_only=True)
    for tensor in payload["model"].values():
        tensor.fill_(math.nan)
    torch.save(payload, tmp_path / "last.pt")
    with pytest.raises(ValueError, match=r"^training diverged at iteration 4: the loss is nan; "
                                         r"TrainConfig\.lr \(--lr\) is likely too high"):
        train(config, resume=True, **data)
