"""Classifier accuracy on digits: digits-ref and digits-mlp trained over 5 seeds, float and integer.

For every preset and seed the network is trained by
:func:`~edgeforge.models.network.train.train_network` (default
:class:`~edgeforge.models.network.train.TrainConfig`, one torch thread) and
exported by :func:`~edgeforge.models.network.export.export_network`; then on
the 540 test images:

- **float**: the fixed-point network run by torch in float (fake quantisation),
  the issue's "float model";
- **integer**: the exported integers run by the project golden
  (:func:`edgeforge.sim.golden.network.classify`, integer NumPy);
- **unquantised**: the float network just before calibration, for context.

Accuracy is reported as mean +- std over the seeds (sample std, ddof = 1),
with the time of each training run. Target: digits-ref integer accuracy
>= 97 %.

Run::

    python -m edgeforge.bench.network_accuracy

Writes ``bench/results/network_accuracy.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..models.data_digits import N_TEST, SPLIT_RULE, load_digits
from ..models.network.export import export_network
from ..models.network.train import TrainConfig, train_network
from ..models.network.zoo import macs, preset
from ..sim.golden.network import classify
from .harness import publish, seed_stats

__all__ = ["PRESETS", "SEEDS", "TARGET", "run", "render_markdown", "main"]

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
COMMAND = "python -m edgeforge.bench.network_accuracy"
PRESETS = ("digits-ref", "digits-mlp")
SEEDS = (0, 1, 2, 3, 4)
INTEGER_MODEL = "edgeforge.sim.golden.network.classify (integer NumPy, the project golden)"
TARGET = {"preset": "digits-ref", "metric": "integer", "min_accuracy": 0.97}


def run(presets=PRESETS, seeds=SEEDS, config: TrainConfig = TrainConfig(), *,
        progress: bool = True) -> dict:
    """Train, export and evaluate every preset at every seed; return JSON-ready results.

    Parameters
    ----------
    presets : sequence of str
        Preset names.
    seeds : sequence of int
        Training seeds (``config.seed`` is replaced by each).
    config : TrainConfig
        The schedule of every run.
    progress : bool
        Show each run's progress bar.

    Returns
    -------
    dict
        ``runs`` (preset, seed, accuracies, seconds, artifact hash), ``summary``
        per preset (mean, std, min, max of each accuracy and of the seconds),
        ``target`` and the notes on method.
    """
    images, labels = load_digits("test")
    runs = []
    for name in presets:
        for seed in seeds:
            cfg = TrainConfig(**{**config.to_dict(), "seed": seed})
            start = time.perf_counter()
            result = train_network(name, cfg, progress=progress)
            seconds = time.perf_counter() - start
            artifact = export_network(result, command=f"{COMMAND} (preset {name}, seed {seed})")
            integer_classes = classify(artifact, images).classes
            integer = float(np.mean(integer_classes == labels))
            runs.append({"preset": name, "seed": seed, "float": round(result.float_accuracy, 6),
                         "integer": round(integer, 6),
                         "unquantised": round(result.unquantised_accuracy, 6),
                         "train": round(result.train_accuracy, 6),
                         "float_integer_class_agreement": round(float(np.mean(
                             result.net.predict(images) == integer_classes)), 6),
                         "seconds": round(seconds, 2), "artifact_hash": artifact.content_hash,
                         "scales": artifact.scales})
    summary = {}
    for name in presets:
        rows = [r for r in runs if r["preset"] == name]
        summary[name] = {key: seed_stats([r[key] for r in rows])
                         for key in ("float", "integer", "unquantised", "train", "seconds",
                                     "float_integer_class_agreement")}
        summary[name]["macs"] = macs(preset(name))
    target = dict(TARGET)
    if TARGET["preset"] in summary:
        s = summary[TARGET["preset"]][TARGET["metric"]]
        target.update(mean=s["mean"], met_by_mean=s["mean"] >= TARGET["min_accuracy"],
                      met_by_mean_minus_std=s["mean"] - s["std"] >= TARGET["min_accuracy"])
    return {"command": COMMAND, "test_images": N_TEST, "split": SPLIT_RULE,
            "train_config": {k: v for k, v in config.to_dict().items() if k != "seed"},
            "seeds": list(seeds), "integer_model": INTEGER_MODEL,
            "torch": torch.__version__, "runs": runs, "summary": summary, "target": target}


def _pm(stats: dict, scale: float = 100.0, digits: int = 2) -> str:
    return f"{stats['mean'] * scale:.{digits}f} +- {stats['std'] * scale:.{digits}f}"


def render_markdown(results: dict) -> str:
    """The results of :func:`run` as a Markdown report."""
    cfg = ", ".join(f"{k} {v}" for k, v in results["train_config"].items())
    lines = ["# Classifier accuracy on digits (test split)", "",
             f"Command: `{results['command']}`", "",
             f"- Data: {results['split']}; accuracy on the {results['test_images']} test images.",
             f"- Training: `TrainConfig` ({cfg}), seeds {results['seeds']}; torch "
             f"{results['torch']}, CPU.",
             "- float = the fixed-point network run by torch in float (fake quantisation); "
             f"integer = the exported integers run by {results['integer_model']}; unquantised "
             "= the float network before calibration.",
             "- mean +- std over the seeds (sample std), in %; time is one training run's wall "
             "time (s) on a shared 2-core machine.", "",
             "| preset | MACs | float | integer | unquantised | train | float/integer classes agree | "
             "time per run (s) |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in results["summary"].items():
        lines.append(f"| {name} | {s['macs']:,} | {_pm(s['float'])} | {_pm(s['integer'])} | "
                     f"{_pm(s['unquantised'])} | {_pm(s['train'])} | "
                     f"{_pm(s['float_integer_class_agreement'])} | {_pm(s['seconds'], 1, 1)} |")
    lines += ["", "Per run:", "", "| preset | seed | float | integer | unquantised | seconds |",
              "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['preset']} | {r['seed']} | {100 * r['float']:.2f} | {100 * r['integer']:.2f} | "
              f"{100 * r['unquantised']:.2f} | {r['seconds']:.1f} |" for r in results["runs"]]
    t = results["target"]
    if "mean" in t:
        lines += ["", f"Target: {t['preset']} {t['metric']} accuracy >= {100 * t['min_accuracy']:.0f} %: "
                  f"mean {100 * t['mean']:.2f} % ({'met' if t['met_by_mean'] else 'not met'}; "
                  f"mean - std {'also meets it' if t['met_by_mean_minus_std'] else 'does not'})."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--iterations", type=int, default=TrainConfig().iterations)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("-o", "--out", type=Path, default=RESULTS,
                        help="folder for network_accuracy.json and .md")
    args = parser.parse_args(argv)
    results = run(args.presets, args.seeds, TrainConfig(iterations=args.iterations),
                  progress=not args.no_progress)
    results["command"] = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    publish(args.out, "network_accuracy", results, render_markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
