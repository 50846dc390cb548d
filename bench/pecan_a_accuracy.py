"""PECAN-A float accuracy on digits next to dense and PECAN-D: a quick run of the torch layers.

digits-mlp's shape (64 -> 32 -> relu -> 10) in float, each linear a PQ layer of groups of 4
inputs and 8 prototypes (PECAN-A: :mod:`edgeforge.models.pecan.pq_angle`; PECAN-D:
:mod:`edgeforge.models.pecan.pq`, its tanh slope raised over training as the paper has
it), trained on the 1,257 training images and tested on the 540 of the spec's split,
mean +- std over 5 seeds:

- **dense**: the float MLP;
- **pecan-a joint** / **pecan-d joint**: weights and prototypes trained together from
  scratch (the paper's CIFAR recipe);
- **pecan-a prototypes**: the seed's trained dense MLP with its weights frozen, the
  codebooks (drawn from training vectors) trained alone (the paper's MNIST recipe).

Float only: the integer (golden) PECAN-A accuracy needs the PECAN model side's
quantisation-aware export, which this bench does not have. Quick settings: Adam, batch 64,
``ITERATIONS`` steps at a cosine learning rate, one torch thread.

Run::

    python -m edgeforge.bench.pecan_a_accuracy [--quick]

Writes ``bench/results/pecan_a_accuracy.json`` and ``.md``. ``--quick``: 2 seeds.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..models.data_digits import load_digits
from ..models.pecan.pq import PQLinear, surrogate_slope
from ..models.pecan.pq_angle import PQALinear, set_training_mode
from .harness import RESULTS, publish

__all__ = ["MODELS", "SEEDS", "ITERATIONS", "train_one", "run", "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.pecan_a_accuracy"
MODELS = ("dense", "pecan-a joint", "pecan-a prototypes", "pecan-d joint")
SEEDS = (0, 1, 2, 3, 4)
ITERATIONS = 1500
GROUP_SIZE, PROTOTYPES = 4, 8


def _data():
    (xtr, ytr), (xte, yte) = load_digits("train"), load_digits("test")

    def tensor(x):
        return torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / 255.0)
    return tensor(xtr), torch.from_numpy(ytr), tensor(xte), torch.from_numpy(yte)


def _mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def _pq(mlp: nn.Sequential, kind, xtr, generator) -> nn.Sequential:
    """``mlp`` with its linears PQ layers of ``kind``, codebooks drawn from the inputs each
    layer sees on the training images."""
    layers, x = [], xtr
    for module in mlp:
        if isinstance(module, nn.Linear):
            pq = kind(module, module.in_features // GROUP_SIZE, PROTOTYPES)
            pq.init_codebook(x, generator)
            module = pq
        layers.append(module)
        with torch.no_grad():
            x = module(x)
    return nn.Sequential(*layers)


def _fit(model, params, xtr, ytr, seed: int, iterations: int, on_step=None) -> None:
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(params, lr=1e-2)
    for step in range(iterations):
        for group in opt.param_groups:
            group["lr"] = 1e-2 * 0.5 * (1 + math.cos(math.pi * step / iterations))
        if on_step:
            on_step(step)
        idx = torch.from_numpy(rng.choice(len(xtr), 64, replace=False))
        loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


def _accuracy(model, x, y) -> float:
    with torch.no_grad():
        return float((model(x).argmax(-1) == y).float().mean())


def train_one(name: str, seed: int, data, iterations: int = ITERATIONS) -> float:
    """Test accuracy of model ``name`` (one of :data:`MODELS`) trained with ``seed``."""
    xtr, ytr, xte, yte = data
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    mlp = _mlp()
    if name == "dense":
        _fit(mlp, mlp.parameters(), xtr, ytr, seed, iterations)
        return _accuracy(mlp, xte, yte)
    if name == "pecan-a prototypes":
        _fit(mlp, mlp.parameters(), xtr, ytr, seed, iterations)
        model = _pq(mlp, PQALinear, xtr, gen)
        _fit(model, set_training_mode(model, "prototypes"), xtr, ytr, seed + 100, iterations)
        return _accuracy(model, xte, yte)
    kind = PQALinear if name == "pecan-a joint" else PQLinear
    model = _pq(mlp, kind, xtr, gen)
    on_step = None
    if kind is PQLinear:
        pqs = [m for m in model if isinstance(m, PQLinear)]

        def on_step(step):                  # the paper's slope: a = exp(4 e / E)
            for m in pqs:
                m.slope = surrogate_slope(step, iterations)
    _fit(model, set_training_mode(model, "joint"), xtr, ytr, seed, iterations, on_step)
    return _accuracy(model, xte, yte)


def run(*, quick: bool = False, progress: bool = True, done=None) -> dict:
    torch.set_num_threads(1)
    data = _data()
    seeds = SEEDS[:2] if quick else SEEDS
    report = {"command": COMMAND + (" --quick" if quick else ""), "iterations": ITERATIONS,
              "seeds": list(seeds), "group_size": GROUP_SIZE, "prototypes": PROTOTYPES,
              "models": {}}
    for name in MODELS:
        accs, seconds = [], []
        for seed in seeds:
            t = time.perf_counter()
            accs.append(train_one(name, seed, data))
            seconds.append(time.perf_counter() - t)
            if progress:
                print(f"[bench] {name} seed {seed}: {accs[-1]:.4f} ({seconds[-1]:.1f} s)",
                      file=sys.stderr)
        v = np.asarray(accs)
        report["models"][name] = {"accuracy": [round(a, 6) for a in accs],
                                  "mean": round(float(v.mean()), 6),
                                  "std": round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 6),
                                  "seconds": [round(s, 1) for s in seconds]}
        if done is not None:
            done(report)
    return report


def render_markdown(report: dict) -> str:
    lines = ["# PECAN-A float accuracy on digits (quick run)", "",
             f"Command: `{report['command']}`. digits-mlp's shape, PQ layers of groups of "
             f"{report['group_size']} and {report['prototypes']} prototypes, "
             f"{report['iterations']} Adam steps, seeds {report['seeds']}; float models only "
             "(no integer export of PECAN-A yet).", "",
             "| model | test accuracy (mean +- std) | per seed | seconds a run |",
             "|---|---:|---|---:|"]
    for name, m in report["models"].items():
        lines.append(f"| {name} | {100 * m['mean']:.2f} +- {100 * m['std']:.2f} % | "
                     f"{', '.join(f'{100 * a:.1f}' for a in m['accuracy'])} | "
                     f"{np.mean(m['seconds']):.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """``python -m edgeforge.bench.pecan_a_accuracy [--quick] [--out DIR]``."""
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds instead of 5")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    run(quick=args.quick,
        done=lambda report: publish(args.out, "pecan_a_accuracy", report, render_markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
