"""Train an SR-LUT network on CPU and transfer it to its table.

The authors' recipe (``yhjo09/SR-LUT: 1_Train_deep_model/Train_Model_S.py``):
MSE on every colour channel as its own 1-channel sample, Adam with a constant
learning rate (theirs 1e-4 for 200k iterations on DIV2K 48x48 crops, batch
32), random crops with flips and quarter turns, the fixed code's output scale
(:class:`~edgeforge.models.srlut.net.SRLUTNet`). MuLUT's ``sdy`` kernels and
configs of several stages train the same way through the whole pipeline
(every stage's units at once, one loss on the last stage's output, rounding
straight-through as MuLUT trains). Here the schedule is short,
for built-in data on a shared CPU: scikit-image's ``train`` photos (LR by
Pillow bicubic, :func:`edgeforge.models.data.builtin_pairs`), the HKLUT
trainer's patch sampler, lr 1e-3. Seeded (torch and NumPy) and
deterministic for a given ``threads``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import Progress

from ...schemes.srlut import SRLUTConfig
from ..data import builtin_pairs
from ..patches import PatchSampler
from ..train_checks import check_patch_and_lr, check_positive_ints
from .net import SRLUTNet

__all__ = ["TrainConfig", "train"]


@dataclass(frozen=True)
class TrainConfig:
    """Schedule of one short run (the authors': iterations 200_000, batch 32, patch 48, lr 1e-4)."""
    iterations: int = 300
    batch: int = 8
    patch: int = 24
    lr: float = 1e-3
    seed: int = 42
    nf: int = 64
    threads: int = 1

    def __post_init__(self):
        check_positive_ints(self, ("iterations", "batch", "patch", "nf", "threads"))
        check_patch_and_lr(self)


def train(config: TrainConfig = TrainConfig(), model_config: SRLUTConfig = SRLUTConfig(), *,
          pairs=None, progress: bool = True) -> tuple[SRLUTNet, dict]:
    """Train an SR-LUT network; returns it and a summary (final loss, seconds, data).

    Parameters
    ----------
    config : TrainConfig
    model_config : SRLUTConfig
        Any kernel set and stages (SR-LUT's ``s``, ``f``, ``v`` or MuLUT's ``sdy``).
    pairs : list of (name, lr, hr), optional
        Training pairs; default the built-in ``train`` photos at the config's scale.
    progress : bool
        Show a rich progress bar.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__!r}")
    scale = model_config.scale
    data = "scikit-image train photos, Pillow bicubic LR" if pairs is None else "given pairs"
    pairs = builtin_pairs(scale, "train") if pairs is None else pairs
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        torch.manual_seed(config.seed)
        net = SRLUTNet(model_config, nf=config.nf)
        sampler = PatchSampler(pairs, scale, config.patch, np.random.default_rng(config.seed))
        opt = torch.optim.Adam(net.parameters(), lr=config.lr)
        start, loss = time.time(), float("nan")
        with Progress(disable=not progress, transient=True) as bar:
            stages = len(model_config.stages)
            task = bar.add_task(f"{model_config.title} x{scale} ({stages} stage(s))",
                                total=config.iterations)
            for _ in range(config.iterations):
                lr, hr = sampler.batch(config.batch)
                # Every colour channel is its own 1-channel sample, as the authors train.
                lr, hr = lr.reshape(-1, 1, *lr.shape[2:]), hr.reshape(-1, 1, *hr.shape[2:])
                step = F.mse_loss(net(lr), hr)
                opt.zero_grad()
                step.backward()
                opt.step()
                loss = step.item()
                if not np.isfinite(loss):
                    raise ValueError(f"training diverged (loss {loss}); lower TrainConfig.lr, "
                                     f"got {config.lr!r}")
                bar.advance(task)
    finally:
        torch.set_num_threads(threads)
    return net, {"iterations": config.iterations, "final_loss": round(loss, 6),
                 "train_seconds": round(time.time() - start, 1), "train_data": data,
                 "seed": config.seed, "lr": config.lr, "batch": config.batch,
                 "patch": config.patch}
