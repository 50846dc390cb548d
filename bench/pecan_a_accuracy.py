"""PECAN-A accuracy on digits, float and golden, next to dense and PECAN-D (float): a quick run.

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

Each PECAN-A model is also exported (post-training, power-of-two scales:
:mod:`edgeforge.models.pecan.export_angle`) and its integer network run by the golden model
(**golden** accuracy); the first seed's prototypes-only export runs as RTL on every test
image through ``Design.verify`` (fully folded). Quick settings: Adam, batch 64,
``ITERATIONS`` steps at a cosine learning rate, one torch thread.

Run::

    python -m edgeforge.bench.pecan_a_accuracy [--quick]

Writes ``bench/results/pecan_a_accuracy.json`` and ``.md``. ``--quick``: 2 seeds;
``--no-rtl``: no RTL check.
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
from ..models.pecan.export_angle import export_angle_mlp
from ..sim.golden.network import classify
from ..models.pecan.pq import PQLinear, surrogate_slope
from ..models.pecan.pq_angle import PQALinear, set_training_mode
from .harness import RESULTS, publish

__all__ = ["MODELS", "SEEDS", "ITERATIONS", "train_model", "train_one", "golden_accuracy",
           "rtl_check", "rtl_lines", "rtl_main", "run", "render_markdown", "main"]

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


def train_model(name: str, seed: int, data, iterations: int = ITERATIONS) -> nn.Sequential:
    """Model ``name`` (one of :data:`MODELS`) trained with ``seed``."""
    xtr, ytr, _, _ = data
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    mlp = _mlp()
    if name == "dense":
        _fit(mlp, mlp.parameters(), xtr, ytr, seed, iterations)
        return mlp
    if name == "pecan-a prototypes":
        _fit(mlp, mlp.parameters(), xtr, ytr, seed, iterations)
        model = _pq(mlp, PQALinear, xtr, gen)
        _fit(model, set_training_mode(model, "prototypes"), xtr, ytr, seed + 100, iterations)
        return model
    kind = PQALinear if name == "pecan-a joint" else PQLinear
    model = _pq(mlp, kind, xtr, gen)
    on_step = None
    if kind is PQLinear:
        pqs = [m for m in model if isinstance(m, PQLinear)]

        def on_step(step):                  # the paper's slope: a = exp(4 e / E)
            for m in pqs:
                m.slope = surrogate_slope(step, iterations)
    _fit(model, set_training_mode(model, "joint"), xtr, ytr, seed, iterations, on_step)
    return model


def train_one(name: str, seed: int, data, iterations: int = ITERATIONS) -> float:
    """Float test accuracy of model ``name`` trained with ``seed``."""
    return _accuracy(train_model(name, seed, data, iterations), data[2], data[3])


def golden_accuracy(model: nn.Sequential) -> tuple[float, "Artifact"]:
    """The exported integer PECAN-A network's golden accuracy on the test split, and the
    artifact (:func:`~edgeforge.models.pecan.export_angle.export_angle_mlp`, calibrated on
    the training images)."""
    art = export_angle_mlp(model, load_digits("train")[0])
    images, labels = load_digits("test")
    return float((classify(art, images).classes == labels).mean()), art


def run(*, quick: bool = False, rtl: bool = True, progress: bool = True, done=None) -> dict:
    torch.set_num_threads(1)
    data = _data()
    seeds = SEEDS[:2] if quick else SEEDS
    report = {"command": COMMAND + (" --quick" if quick else ""), "iterations": ITERATIONS,
              "seeds": list(seeds), "group_size": GROUP_SIZE, "prototypes": PROTOTYPES,
              "models": {}}
    rtl_art = None
    for name in MODELS:
        accs, golden, seconds = [], [], []
        for seed in seeds:
            t = time.perf_counter()
            model = train_model(name, seed, data)
            accs.append(_accuracy(model, data[2], data[3]))
            seconds.append(time.perf_counter() - t)
            if name.startswith("pecan-a"):
                acc, art = golden_accuracy(model)
                golden.append(acc)
                if name == "pecan-a prototypes" and seed == seeds[0]:
                    rtl_art = art
            if progress:
                print(f"[bench] {name} seed {seed}: float {accs[-1]:.4f}"
                      + (f", golden {golden[-1]:.4f}" if golden else "")
                      + f" ({seconds[-1]:.1f} s)", file=sys.stderr)
        report["models"][name] = {**_stats(accs, "accuracy"),
                                  **(_stats(golden, "golden") if golden else {}),
                                  "seconds": [round(s, 1) for s in seconds]}
        if done is not None:
            done(report)
    if rtl and rtl_art is not None:
        report["rtl"] = rtl_check(rtl_art, progress=progress)
        if done is not None:
            done(report)
    return report


def _stats(values, key: str) -> dict:
    v = np.asarray(values)
    return {key: [round(float(a), 6) for a in values], f"{key}_mean": round(float(v.mean()), 6),
            f"{key}_std": round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 6)}


def rtl_check(art, *, progress: bool = True) -> dict:
    """The exported network's RTL (fully folded) on every test image through
    ``Design.verify`` (cocotb on Verilator, bit-exact against the golden model, cycles ==
    the model): its accuracy is the golden accuracy when it passes."""
    from .. import generate
    images, labels = load_digits("test")
    design = generate(art, folding="folded")
    if progress:
        print(f"[bench] RTL of {design.name} on {len(images)} test images ...", file=sys.stderr)
    result = design.verify(list(images))
    golden = float((classify(art, images).classes == labels).mean())
    return {"design": design.name, "folding": "folded", "images": len(images),
            "bit_exact": bool(result.passed), "failures": list(result.failures)[:5],
            "accuracy": golden if result.passed else None,
            "cycles_per_image": design.cycle_model().cycles_per_input}


def render_markdown(report: dict) -> str:
    lines = ["# PECAN-A accuracy on digits (quick run)", "",
             f"Command: `{report['command']}`. digits-mlp's shape, PQ layers of groups of "
             f"{report['group_size']} and {report['prototypes']} prototypes, "
             f"{report['iterations']} Adam steps, seeds {report['seeds']}. Float: the torch "
             "model; golden: its post-training integer export "
             "(edgeforge.models.pecan.export_angle) run by the project golden "
             "(integer NumPy) on the 540 test images.", "",
             "| model | float accuracy (mean +- std) | golden accuracy (mean +- std) | "
             "float per seed | golden per seed | seconds a run |", "|---|---:|---:|---|---|---:|"]

    def pct(m, key):
        return (f"{100 * m[key + '_mean']:.2f} +- {100 * m[key + '_std']:.2f} %"
                if key in m else "-")

    def seeds(m, key):
        return ", ".join(f"{100 * a:.1f}" for a in m[key]) if key in m else "-"
    for name, m in report["models"].items():
        lines.append(f"| {name} | {pct(m, 'accuracy')} | {pct(m, 'golden')} | "
                     f"{seeds(m, 'accuracy')} | {seeds(m, 'golden')} | "
                     f"{np.mean(m['seconds']):.1f} |")
    if report.get("rtl"):
        lines += rtl_lines(report["rtl"], "PECAN-A prototypes-only")
    return "\n".join(lines) + "\n"


def rtl_lines(r: dict, export: str) -> list[str]:
    """The Markdown sentence of an :func:`rtl_check` result ``r`` on the first seed's
    ``export``."""
    verdict = (f"bit-exact on all {r['images']} test images, so its accuracy is the "
               f"golden {100 * r['accuracy']:.2f} %" if r["bit_exact"]
               else f"NOT bit-exact: {r['failures']}")
    return ["", f"RTL (cocotb on Verilator, {r['folding']}, {r['cycles_per_image']:.0f} "
            f"cycles an image) of the first seed's {export} export `{r['design']}`: "
            f"{verdict}."]


def rtl_main(description: str, stem: str, run, render, quick_help: str, argv=None) -> int:
    """The command line of an accuracy benchmark with ``--quick``, ``--no-rtl`` and
    ``--out``: ``run(quick=, rtl=, done=)`` publishes ``<stem>`` after every record."""
    import argparse
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--no-rtl", action="store_true", help="skip the RTL check")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    run(quick=args.quick, rtl=not args.no_rtl,
        done=lambda report: publish(args.out, stem, report, render))
    return 0


def main(argv=None) -> int:
    """``python -m edgeforge.bench.pecan_a_accuracy [--quick] [--no-rtl] [--out DIR]``."""
    return rtl_main(__doc__.splitlines()[0], "pecan_a_accuracy", run, render_markdown,
                    "2 seeds instead of 5", argv)


if __name__ == "__main__":
    sys.exit(main())
