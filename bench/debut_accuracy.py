"""DeBut accuracy on digits: dense digits-ref vs DeBut (some layers) vs All-DeBut, over 5 seeds.

For every seed: digits-ref is trained dense (:func:`~edgeforge.models.network.train.train_network`,
default :class:`~edgeforge.models.network.train.TrainConfig`, one torch thread); then each
DeBut variant is converted from that dense network (:func:`~edgeforge.models.debut.convert.convert`:
chains by :func:`~edgeforge.models.debut.convert.plan_chains`, nonzeros by ALS from the dense
layers, 5 sweeps) and fine-tuned with the same schedule and seed but the peak learning rate
:data:`~edgeforge.models.debut.convert.FINETUNE_LR` (float, calibration of every power-of-two
scale, QAT), exported and run by the golden model on the 540 test images.

- **float**: the fixed-point network run by torch in float (fake quantisation);
- **golden**: the exported integers run by :func:`edgeforge.sim.golden.network.classify`.

Parameters are the conv2d / linear weights (DeBut: the chains' nonzeros, padding included;
biases not counted), MACs those of one image. Mean +- std over the seeds (sample std).
Target (issue 15): All-DeBut with at most 25 % of the dense parameters within 1.5 points of
the dense network's golden accuracy.

Run::

    python -m edgeforge.bench.debut_accuracy [--seeds 0 1 2 3 4] [--iterations 4000]

Writes ``bench/results/debut_accuracy.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..models.data_digits import N_TEST, SPLIT_RULE, load_digits
from ..models.debut.convert import FINETUNE_LR, convert
from ..models.network.export import export_network
from ..models.network.train import TrainConfig, train_network
from ..models.network.zoo import macs, params
from ..sim.golden.network import classify
from .harness import publish
from .harness import seed_stats
from .network_accuracy import mean_pm_std

__all__ = ["VARIANTS", "SEEDS", "TARGET", "run", "render_markdown", "main"]

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
COMMAND = "python -m edgeforge.bench.debut_accuracy"
SEEDS = (0, 1, 2, 3, 4)
PRESET = "digits-ref"
#: name -> (layers to convert, budget): None for the dense network itself.
VARIANTS = {
    "dense": None,
    "DeBut conv2 + fc1": ([3, 7], None),
    "All-DeBut, budget 0.25": ("all", 0.25),
}
TARGET = {"variant": "All-DeBut, budget 0.25", "max_params_ratio": 0.25, "max_drop": 0.015,
          "metric": "golden"}


def _measure(result, images, labels, command: str) -> dict:
    art = export_network(result, command=command)
    golden = classify(art, images).classes
    return {"float": round(result.float_accuracy, 6),
            "golden": round(float(np.mean(golden == labels)), 6),
            "agreement": round(float(np.mean(result.net.predict(images) == golden)), 6),
            "params": params(art.config), "macs": macs(art.config),
            "artifact_hash": art.content_hash}


def run(seeds=SEEDS, config: TrainConfig = TrainConfig(), *, finetune_lr: float = FINETUNE_LR,
        progress: bool = True) -> dict:
    """Train, convert, fine-tune (``config`` at ``finetune_lr``) and evaluate every variant
    at every seed."""
    images, labels = load_digits("test")
    runs = []
    for seed in seeds:
        cfg = TrainConfig(**{**config.to_dict(), "seed": seed})
        start = time.perf_counter()
        dense = train_network(PRESET, cfg, progress=progress)
        row = _measure(dense, images, labels, f"{COMMAND} (dense, seed {seed})")
        runs.append({"variant": "dense", "seed": seed, **row,
                     "seconds": round(time.perf_counter() - start, 2)})
        for name, spec in VARIANTS.items():
            if spec is None:
                continue
            layers, budget = spec
            start = time.perf_counter()
            conversion = convert(dense.net, layers, budget=budget, seed=seed)
            result = train_network(conversion.net, dataclasses.replace(cfg, lr=finetune_lr),
                                   progress=progress)
            result.preset, result.provenance = PRESET, conversion.provenance()
            row = _measure(result, images, labels, f"{COMMAND} ({name}, seed {seed})")
            runs.append({"variant": name, "seed": seed, **row,
                         "als_error": {str(i): round(e[-1], 4)
                                       for i, e in conversion.als_errors.items()},
                         "chains": [c.to_dict() for c in conversion.plan.choices],
                         "seconds": round(time.perf_counter() - start, 2)})
    summary = {}
    for name in VARIANTS:
        rows = [r for r in runs if r["variant"] == name]
        summary[name] = {key: seed_stats([r[key] for r in rows])
                         for key in ("float", "golden", "agreement", "seconds")}
        summary[name].update(params=rows[0]["params"], macs=rows[0]["macs"])
    target = dict(TARGET)
    dense_s, mine = summary["dense"], summary[TARGET["variant"]]
    drop = dense_s["golden"]["mean"] - mine["golden"]["mean"]
    ratio = mine["params"] / dense_s["params"]
    target.update(params_ratio=round(ratio, 4), drop=round(drop, 6),
                  met=ratio <= TARGET["max_params_ratio"] and drop <= TARGET["max_drop"])
    return {"command": COMMAND, "test_images": N_TEST, "split": SPLIT_RULE, "preset": PRESET,
            "train_config": {k: v for k, v in config.to_dict().items() if k != "seed"},
            "finetune_lr": finetune_lr,
            "seeds": list(seeds), "torch": torch.__version__, "runs": runs,
            "summary": summary, "target": target}


def render_markdown(results: dict) -> str:
    """The results of :func:`run` as a Markdown report."""
    cfg = ", ".join(f"{k} {v}" for k, v in results["train_config"].items())
    lines = ["# DeBut accuracy on digits (test split)", "",
             f"Command: `{results['command']}`", "",
             f"- Data: {results['split']}; accuracy on the {results['test_images']} test images.",
             f"- {results['preset']} trained dense, then each DeBut variant converted from that "
             f"network (chains by plan_chains, ALS 5 sweeps) and fine-tuned with the same "
             f"schedule at a peak lr of {results['finetune_lr']}: `TrainConfig` ({cfg}), seeds "
             f"{results['seeds']}; torch "
             f"{results['torch']}, CPU, one thread, a shared 2-core machine.",
             "- float = the fixed-point network run by torch; golden = the exported integers "
             "run by the golden model (integer NumPy); params = conv/linear weights (DeBut "
             "nonzeros, padding included; no biases); MACs of one image.",
             "- mean +- std over the seeds (sample std), in %; time = one run's wall time "
             "(s; a DeBut run is its conversion and fine-tune).", "",
             "| network | params | MACs | float | golden | float/golden classes agree | "
             "time per run (s) |", "|---|---:|---:|---:|---:|---:|---:|"]
    dense = results["summary"]["dense"]
    for name, s in results["summary"].items():
        lines.append(f"| {name} | {s['params']:,} ({100 * s['params'] / dense['params']:.1f} %) "
                     f"| {s['macs']:,} | {mean_pm_std(s['float'])} | {mean_pm_std(s['golden'])} | "
                     f"{mean_pm_std(s['agreement'])} | {mean_pm_std(s['seconds'], 1, 1)} |")
    chains = {r["variant"]: r["chains"] for r in results["runs"] if "chains" in r}
    lines += ["", "Chains (input side first, `(p, q, r, s, t)`):", ""]
    for name, layers in chains.items():
        text = "; ".join(f"layer {c['layer']}: {c['params']} of {c['dense_params']}, "
                         + " ".join(str(tuple(f)) for f in c["factors"]) for c in layers)
        lines.append(f"- {name}: {text}")
    lines += ["", "Per run:", "", "| network | seed | float | golden | ALS relative error "
              "per layer | seconds |", "|---|---:|---:|---:|---|---:|"]
    lines += [f"| {r['variant']} | {r['seed']} | {100 * r['float']:.2f} | "
              f"{100 * r['golden']:.2f} | "
              f"{', '.join(f'{k}: {v}' for k, v in r.get('als_error', {}).items()) or '-'} | "
              f"{r['seconds']:.1f} |" for r in results["runs"]]
    t = results["target"]
    lines += ["", f"Target: {t['variant']} with <= {100 * t['max_params_ratio']:.0f} % of the "
              f"dense parameters within {100 * t['max_drop']:.1f} points of the dense golden "
              f"accuracy: {100 * t['params_ratio']:.1f} % of the parameters, "
              f"{100 * t['drop']:.2f} points below: {'met' if t['met'] else 'not met'}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--iterations", type=int, default=TrainConfig().iterations)
    parser.add_argument("--finetune-lr", type=float, default=FINETUNE_LR)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("-o", "--out", type=Path, default=RESULTS,
                        help="folder for debut_accuracy.json and .md")
    args = parser.parse_args(argv)
    results = run(args.seeds, TrainConfig(iterations=args.iterations),
                  finetune_lr=args.finetune_lr, progress=not args.no_progress)
    results["command"] = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    publish(args.out, "debut_accuracy", results, render_markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
