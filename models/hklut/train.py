"""Train an HKLUT network on CPU: the authors' recipe, the fast table forward, resumable checkpoints.

Recipe (``jasonli0707/hklut: train.py``, see shared/notes/hklut.md): all
stages trained jointly, MSE on RGB in [0, 1] of the last stage's output, Adam
(lr 5e-4, betas 0.9/0.999, eps 1e-8, no weight decay), MultiStepLR x0.1 at 50 %
and 75 % of the schedule (the authors' 100k and 150k of 200k, scaled to its
length). Each sample is a random image, a random aligned LR/HR crop, a
horizontal and a vertical flip with p = 0.5 and a rot90 by k in 0..3. Every
``eval_every`` iterations the network's Y-PSNR on the evaluation images (output
truncated to uint8, shave = scale, as the authors) picks the best checkpoint.

Speed comes from :meth:`HKLUTNet.forward_tables` (units run once on their
table grid, pixels gather rows). Data: scikit-image's bundled photographs
(``train`` split, LR by Pillow bicubic) unless ``train_dir`` names a DIV2K-style
folder; evaluation on the ``test`` split unless ``test_dir`` names a benchmark
folder (Set5 layout).

Checkpoints (``checkpoint_dir``): ``last.pt`` holds every stage's units, the
optimiser, the scheduler, the iteration, the NumPy and torch RNG states, the
best PSNR and the history, so :func:`train` with ``resume=True`` continues
exactly where it stopped (the authors' resume loads every stage into stage 0);
``best.pt`` holds the best weights. Both carry a run id, so a run only ever
returns (and ``edgeforge train`` only exports) weights it trained itself: a
fresh run refuses a folder that holds another run's checkpoints, and a
``best.pt`` of another run or config is refused at the end. The weights a run
stops with are always evaluated, also between ``eval_every`` marks, and a loss
or weight that stops being finite ends the run with an error instead of
tables of zeros.
"""

from __future__ import annotations

import dataclasses
import math
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text

from ...paths import check_output_dir
from ...schemes.hklut import HKLUTConfig
from .. import data as sr_data
from ..metrics import psnr_y
from ..patches import PatchSampler as _PatchSampler, to_tensor as _to_tensor
from ..train_checks import check_patch_and_lr, check_positive_ints
from .evaluate import bicubic_upscale
from .net import ACTIVATIONS, HKLUTNet
from .transfer import non_finite_weights

__all__ = ["TrainConfig", "TrainResult", "train", "upscale_uint8", "evaluate", "load_checkpoint",
           "main"]

CHECKPOINT_FORMAT = "edgeforge-hklut-train"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class TrainConfig:
    """Schedule and bookkeeping of one training run.

    The defaults are the short schedule: a few minutes on 2 CPU cores. The
    authors' schedule is ``iterations=200_000, batch=32``.

    Attributes
    ----------
    iterations : int
        Total optimiser steps.
    batch : int
        Patches per step.
    patch : int
        LR patch side (HR side = patch * scale).
    lr : float
        Adam learning rate, in (0, 1].
    milestones : tuple of float
        Fractions of ``iterations`` where the learning rate is multiplied by 0.1.
    seed : int
        Seeds the weights (torch) and the sampling (NumPy).
    eval_every : int
        Iterations between evaluations (and ``last.pt`` checkpoints).
    checkpoint_dir : str
        Folder for ``last.pt`` and ``best.pt``.
    nf : int
        Hidden channels of each unit.
    activation : str
        ``relu``, ``gelu`` or ``leakyrelu``.
    threads : int
        ``torch.set_num_threads`` during training.
    """
    iterations: int = 600
    batch: int = 16
    patch: int = 48
    lr: float = 5e-4
    milestones: tuple[float, ...] = (0.5, 0.75)
    seed: int = 42
    eval_every: int = 100
    checkpoint_dir: str = "checkpoints/hklut"
    nf: int = 64
    activation: str = "relu"
    threads: int = 2

    def __post_init__(self):
        check_positive_ints(self, ("iterations", "batch", "patch", "eval_every", "nf", "threads"))
        check_patch_and_lr(self)
        if not all(isinstance(m, (int, float)) and 0 < m < 1 for m in self.milestones):
            raise ValueError(f"TrainConfig.milestones must be fractions in (0, 1), "
                             f"got {self.milestones!r}")
        # NumPy's PCG64 takes non-negative seeds only.
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"TrainConfig.seed must be a non-negative integer, "
                             f"got {self.seed!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"TrainConfig.activation must be one of {sorted(ACTIVATIONS)}, "
                             f"got {self.activation!r}")

    def milestone_iterations(self) -> list[int]:
        return sorted({max(1, round(m * self.iterations)) for m in self.milestones})

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["milestones"] = list(self.milestones)
        return d


@dataclass
class TrainResult:
    """What :func:`train` returns: the best network and how it got there.

    ``history`` rows are ``{"iteration", "loss", "psnr", "lr", "seconds"}``, one
    per evaluation; ``psnr`` is the mean Y-PSNR (dB) of the network's uint8
    output on the evaluation images, ``bicubic_psnr`` the same for Pillow
    bicubic upscaling of the same LR images.
    """
    net: HKLUTNet
    best_psnr: float
    best_iteration: int
    bicubic_psnr: float
    iteration: int
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    checkpoint: Path | None = None
    best_checkpoint: Path | None = None
    eval_data: str = ""
    train_data: str = ""


# -- data ----------------------------------------------------------------------


# -- evaluation ----------------------------------------------------------------


@torch.no_grad()
def upscale_uint8(net: HKLUTNet, lr: np.ndarray) -> np.ndarray:
    """Run the network on a uint8 RGB image; the output truncated to uint8 as the authors evaluate."""
    y = net.forward_tables(_to_tensor(lr[None]))
    return (y[0].permute(1, 2, 0) * 255.0).to(torch.uint8).numpy()


def evaluate(net: HKLUTNet, pairs) -> float:
    """Mean Y-PSNR (shave = scale) of :func:`upscale_uint8` over (name, lr, hr) pairs."""
    scale = net.config.scale
    return float(np.mean([psnr_y(upscale_uint8(net, lr), hr, scale) for _, lr, hr in pairs]))


def _bicubic_psnr(pairs, scale: int) -> float:
    return float(np.mean([psnr_y(bicubic_upscale(lr, scale), hr, scale)
                          for _, lr, hr in pairs]))


# -- checkpoints ---------------------------------------------------------------


def _save(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def _read_checkpoint(path: Path) -> dict:
    if not path.is_file():
        raise ValueError(f"no checkpoint file at {str(path)!r}")
    try:
        # weights_only: tensors and plain data only, never arbitrary pickled code.
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:   # torch raises several unrelated types for a bad file
        raise ValueError(f"{str(path)!r} is not a readable torch checkpoint ({e})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{str(path)!r} is not an edgeforge HKLUT training checkpoint")
    return payload


def load_checkpoint(path) -> tuple[HKLUTNet, dict]:
    """Rebuild the network stored in a ``last.pt`` or ``best.pt``; return it and the payload.

    Raises
    ------
    ValueError
        If the file is missing or not an edgeforge HKLUT training checkpoint.
    """
    path = Path(path)
    payload = _read_checkpoint(path)
    net = HKLUTNet(HKLUTConfig.from_dict(payload["model_config"]), nf=payload["nf"],
                   activation=payload["activation"])
    net.load_state_dict(payload["model"])
    return net, payload


def _check_resumable(payload: dict, config: TrainConfig, model_config: HKLUTConfig, path: Path,
                     doing: str = "resume"):
    stored = payload["train_config"]
    ours = config.to_dict()
    # threads, eval cadence and the folder may change between sessions; the
    # schedule and the model may not.
    for key in ("iterations", "batch", "patch", "lr", "milestones", "seed", "nf", "activation"):
        if stored[key] != ours[key]:
            raise ValueError(f"cannot {doing} {str(path)!r}: TrainConfig.{key} was "
                             f"{stored[key]!r}, got {ours[key]!r}")
    if payload["model_config"] != model_config.to_dict():
        raise ValueError(f"cannot {doing} {str(path)!r}: model config was "
                         f"{payload['model_config']!r}, got {model_config.to_dict()!r}")


def _check_same_run(payload: dict, run_id: str | None, config: TrainConfig,
                    model_config: HKLUTConfig, path: Path) -> None:
    """Refuse to export a ``best.pt`` that this run (with its resumed sessions) did not write."""
    _check_resumable(payload, config, model_config, path, doing="export")
    if payload.get("run_id") != run_id:
        raise ValueError(f"cannot export {str(path)!r}: it was written by another run "
                         f"(run id {payload.get('run_id')!r}, this run {run_id!r})")


def _refuse_earlier_run(ckpt_dir: Path, *paths: Path) -> None:
    # A fresh run beside another run's best.pt would end by exporting that one's weights.
    found = [p.name for p in paths if p.exists()]
    if found:
        raise ValueError(f"checkpoint_dir: {str(ckpt_dir)!r} holds an earlier run's "
                         f"{' and '.join(found)}; continue it with resume=True (--resume), or "
                         f"start afresh in another checkpoint_dir (--checkpoint-dir) or after "
                         f"deleting them")


def _diverged(iteration: int, what: str, lr: float) -> ValueError:
    return ValueError(f"training diverged at iteration {iteration}: {what}; TrainConfig.lr "
                      f"(--lr) is likely too high, got {lr!r} (the checkpoints keep the last "
                      f"finite state)")


def _check_finite_weights(net: HKLUTNet, iteration: int, lr: float) -> None:
    bad = non_finite_weights(net)
    if bad:
        raise _diverged(iteration, f"{len(bad)} weight tensor(s) hold NaN or infinity "
                                   f"(first {bad[0]})", lr)


# -- progress ------------------------------------------------------------------


class _RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"{task.speed:.2f} it/s" if task.speed else "-- it/s", style="progress.data.speed")


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
                    TextColumn("loss {task.fields[loss]}"), TextColumn("PSNR {task.fields[psnr]}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console)


# -- training ------------------------------------------------------------------


def train(config: TrainConfig, model_config: HKLUTConfig = HKLUTConfig(), *, resume: bool = False,
          train_dir=None, test_dir=None, progress: bool = True,
          stop_after: int | None = None) -> TrainResult:
    """Train (or resume) an HKLUT network; return the best one by evaluation Y-PSNR.

    Parameters
    ----------
    config : TrainConfig
        Schedule, seed, checkpoint folder.
    model_config : HKLUTConfig
        Stages and kernel sets (HKLUT-S x4 by default).
    resume : bool
        Continue from ``checkpoint_dir/last.pt`` (every stage, optimiser,
        scheduler, iteration, RNG states); the schedule must match. Without it
        the folder must hold no ``last.pt`` or ``best.pt``.
    train_dir, test_dir : str or pathlib.Path, optional
        A DIV2K-style training folder (:func:`~edgeforge.models.data.load_train_dir`)
        and a benchmark folder for evaluation
        (:func:`~edgeforge.models.data.load_benchmark_dir`); default:
        scikit-image's bundled ``train`` / ``test`` photographs.
    progress : bool
        Show a rich progress bar (it/s, last loss and PSNR). One line per
        evaluation goes to stderr either way.
    stop_after : int, optional
        Stop after this many iterations in this call (checkpointed, resumable);
        the schedule still spans ``config.iterations``. The weights at the stop
        are evaluated, so the result never holds unevaluated weights.

    Returns
    -------
    TrainResult
        With ``net`` holding the best evaluated weights.

    Raises
    ------
    ValueError
        On a bad config, missing data, a checkpoint that does not match (or,
        without ``resume``, any checkpoint in ``checkpoint_dir``), or a loss or
        weight that is NaN or infinite (training diverged).
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {config!r}")
    if not isinstance(model_config, HKLUTConfig):
        raise TypeError(f"model_config must be an HKLUTConfig, got {model_config!r}")
    if stop_after is not None and (not isinstance(stop_after, int) or stop_after < 1):
        raise ValueError(f"stop_after must be a positive integer or None, got {stop_after!r}")
    scale = model_config.scale
    ckpt_dir = Path(config.checkpoint_dir)
    last_path, best_path = ckpt_dir / "last.pt", ckpt_dir / "best.pt"
    if resume and not last_path.is_file():
        raise ValueError(f"resume: no checkpoint at {str(last_path)!r}")
    if not resume:
        _refuse_earlier_run(ckpt_dir, last_path, best_path)
    check_output_dir(ckpt_dir, "checkpoint_dir")

    train_pairs = (sr_data.load_train_dir(train_dir, scale) if train_dir is not None
                   else sr_data.builtin_pairs(scale, "train"))
    eval_pairs = (sr_data.load_benchmark_dir(test_dir, scale) if test_dir is not None
                  else sr_data.builtin_pairs(scale, "test"))
    train_desc = str(train_dir) if train_dir is not None else "skimage-train (PIL bicubic LR)"
    eval_desc = str(test_dir) if test_dir is not None else "skimage-test (PIL bicubic LR)"

    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        torch.manual_seed(config.seed)
        net = HKLUTNet(model_config, nf=config.nf, activation=config.activation)
        rng = np.random.Generator(np.random.PCG64(config.seed))
        opt = torch.optim.Adam(net.parameters(), lr=config.lr, betas=(0.9, 0.999), eps=1e-8,
                               weight_decay=0.0)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, config.milestone_iterations(), 0.1)
        state = {"iteration": 0, "best_psnr": -math.inf, "best_iteration": 0, "history": [],
                 "seconds": 0.0}
        # Ties best.pt to the run that wrote it, across resumed sessions.
        run_id = uuid.uuid4().hex
        if resume:
            payload = _read_checkpoint(last_path)
            _check_resumable(payload, config, model_config, last_path)
            net.load_state_dict(payload["model"])
            opt.load_state_dict(payload["optimizer"])
            sched.load_state_dict(payload["scheduler"])
            rng.bit_generator.state = payload["numpy_rng"]
            torch.set_rng_state(payload["torch_rng"])
            state = {k: payload[k] for k in state}
            run_id = payload.get("run_id")
        sampler = _PatchSampler(train_pairs, scale, config.patch, rng)
        bicubic = _bicubic_psnr(eval_pairs, scale)

        def payload_now() -> dict:
            return {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                    "model_config": model_config.to_dict(), "nf": config.nf,
                    "activation": config.activation, "train_config": config.to_dict(),
                    "train_data": train_desc, "eval_data": eval_desc, "bicubic_psnr": bicubic,
                    "model": net.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "numpy_rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(), "run_id": run_id, **state}

        ckpt_dir.mkdir(parents=True, exist_ok=True)
        end = config.iterations if stop_after is None else min(config.iterations,
                                                               state["iteration"] + stop_after)
        console = Console(stderr=True)
        bar = _progress(console) if progress else None
        loss_sum, loss_n, t0 = 0.0, 0, time.monotonic()
        last_psnr = state["history"][-1]["psnr"] if state["history"] else float("nan")
        if bar is not None:
            bar.start()
            task = bar.add_task("train", total=config.iterations, completed=state["iteration"],
                                loss="--", psnr=f"{last_psnr:.2f}")
        console.print(f"bicubic Y-PSNR on {eval_desc}: {bicubic:.3f} dB", soft_wrap=True)

        def evaluate_and_save() -> float:
            nonlocal loss_sum, loss_n, t0
            it = state["iteration"]
            _check_finite_weights(net, it, config.lr)
            net.eval()
            psnr = evaluate(net, eval_pairs)
            net.train()
            state["seconds"] += time.monotonic() - t0
            t0 = time.monotonic()
            state["history"].append({"iteration": it, "loss": loss_sum / loss_n, "psnr": psnr,
                                     "lr": opt.param_groups[0]["lr"],
                                     "seconds": state["seconds"]})
            if psnr > state["best_psnr"]:
                state["best_psnr"], state["best_iteration"] = psnr, it
                _save(best_path, payload_now())
            _save(last_path, payload_now())
            console.print(f"iter {it:6d}  loss {loss_sum / loss_n:.5f}  "
                          f"Y-PSNR {psnr:.3f} dB (bicubic {bicubic:.3f}, best "
                          f"{state['best_psnr']:.3f} @ {state['best_iteration']})  "
                          f"{state['seconds']:.0f} s", soft_wrap=True)
            loss_sum, loss_n = 0.0, 0
            return psnr

        try:
            while state["iteration"] < end:
                lr_batch, hr_batch = sampler.batch(config.batch)
                opt.zero_grad(set_to_none=True)
                loss = F.mse_loss(net.forward_tables(lr_batch), hr_batch)
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    # Before the step: the weights (and last.pt) stay the last finite ones.
                    raise _diverged(state["iteration"] + 1, f"the loss is {loss_value}",
                                    config.lr)
                loss.backward()
                opt.step()
                sched.step()
                state["iteration"] += 1
                loss_sum, loss_n = loss_sum + loss_value, loss_n + 1
                it = state["iteration"]
                if it % config.eval_every == 0 or it == config.iterations:
                    last_psnr = evaluate_and_save()
                if bar is not None:
                    bar.update(task, completed=it, loss=f"{loss_value:.5f}",
                               psnr=f"{last_psnr:.2f}")
            if loss_n:
                # Stopped between evaluations: the weights reached here are evaluated like
                # any others (the best may be among them), and last.pt keeps them for resume.
                evaluate_and_save()
        finally:
            if bar is not None:
                bar.stop()
        best, best_payload = load_checkpoint(best_path)
        _check_same_run(best_payload, run_id, config, model_config, best_path)
        return TrainResult(net=best, best_psnr=state["best_psnr"],
                           best_iteration=state["best_iteration"], bicubic_psnr=bicubic,
                           iteration=state["iteration"], history=state["history"],
                           seconds=state["seconds"], checkpoint=last_path,
                           best_checkpoint=best_path, eval_data=eval_desc, train_data=train_desc)
    finally:
        torch.set_num_threads(threads)
