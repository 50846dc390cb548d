"""PECAN-D accuracy on digits: dense digits-ref against its PECAN-D versions, 5 seeds, float and integer.

For every seed, digits-ref is trained dense (:class:`~edgeforge.models.network.train.TrainConfig`
defaults, as ``network_accuracy``) and exported; then every variant of :data:`VARIANTS` is
trained with that seed and exported (:func:`~edgeforge.models.network.export.export_network`):

- **prototypes only**: the paper's mode for MNIST: the dense network of the same seed is
  frozen (``train_network(..., frozen=dense)``) and only the codebooks train;
- **from scratch**: weights and prototypes train together (after a dense warm-up, see
  :data:`PECAN_CONFIG`);
- **hybrid**: a dense first layer, PECAN-D elsewhere, from scratch.

On the 540 test images: **float** (the fixed-point PQ network run by torch, its hard
match), **golden** (the exported integers run by
:func:`edgeforge.sim.golden.network.classify`), their class agreement, the share of
prototypes matched on the training split, and the golden accuracy after pruning the
never-matched prototypes (:func:`~edgeforge.models.pecan.export.prune_prototypes`) with
the memory bits it saves. Mean +- std over the seeds (sample std). The paper's numbers
(Ran et al., DATE 2023; shared/notes/pecan.md) are printed beside them for context only:
other networks, other data.

Run::

    python -m edgeforge.bench.pecan_accuracy              # 5 seeds
    python -m edgeforge.bench.pecan_accuracy --seeds 0    # one seed, a quick look

Writes ``bench/results/pecan_accuracy.json`` and ``.md`` (``--stem`` renames them: the
variants may run as separate processes, e.g. ``--variants hybrid... --stem
pecan_accuracy_hybrid``).
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
from ..models.network.zoo import preset, with_transforms
from ..models.pecan.export import memory_bits, prune_prototypes
from ..sim.golden.network import classify
from .harness import RESULTS, publish
from .network_accuracy import SEEDS, mean_pm_std
from .harness import seed_stats

__all__ = ["PECAN", "VARIANTS", "PECAN_CONFIG", "PAPER", "UP5K_BRAM_BITS", "run",
           "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.pecan_accuracy"
#: The PECAN-D layers' knobs (every variant): p, d and table bits, one for all or one per
#: conv/linear layer of digits-ref (conv 1->8, conv 8->8, linear 32->32, linear 32->10;
#: a dense layer's entry is unused).
PECAN = {"prototypes": [64, 16, 16, 16], "group_size": [9, 8, 4, 2], "table_bits": 8}
#: name -> (transform per conv/linear layer, prototypes-only on the frozen dense network)
VARIANTS = {
    "prototypes only (frozen dense)": ("pecan-d", True),
    "from scratch": ("pecan-d", False),
    "hybrid (dense first layer), from scratch": (["dense", "pecan-d", "pecan-d", "pecan-d"],
                                                 False),
}
#: The PECAN-D runs' schedule (the dense runs use TrainConfig's defaults).
PECAN_CONFIG = TrainConfig(iterations=1500, warmup=0.3)
#: iCE40 UP5K block RAM: 30 SB_RAM40_4K of 4 Kbit.
UP5K_BRAM_BITS = 30 * 4096
#: The paper's Table (accuracy %, baseline | PECAN-A | PECAN-D), arXiv v1, for context.
PAPER = [("LeNet5, MNIST", 99.41, 99.25, 99.01), ("VGG-Small, CIFAR-10", 91.21, 91.82, 90.19),
         ("ResNet-20, CIFAR-10", 92.55, 90.32, 87.88), ("ResNet-32, CIFAR-10", 92.85, 90.53, 88.46),
         ("VGG-Small, CIFAR-100", 67.84, 69.21, 60.43)]


def _accuracy(artifact, images, labels) -> float:
    return float(np.mean(classify(artifact, images).classes == labels))


def _knobs(pecan: dict, transforms) -> dict:
    """The knobs of the PECAN-D layers among digits-ref's four conv/linear layers (a list
    in :data:`PECAN` has one value per conv/linear layer)."""
    kinds = [transforms] * 4 if isinstance(transforms, str) else list(transforms)
    return {k: [x for x, kind in zip(v, kinds) if kind == "pecan-d"] if isinstance(v, list) else v
            for k, v in pecan.items()}


def _pecan_run(name: str, dense, seed: int, pecan: dict, config: TrainConfig,
               progress: bool) -> dict:
    transforms, frozen = VARIANTS[name]
    x_test, y_test = load_digits("test")
    x_train, _ = load_digits("train")
    network = with_transforms(preset("digits-ref"), transforms, **_knobs(pecan, transforms))
    cfg = TrainConfig(**{**config.to_dict(), "seed": seed,
                         "warmup": 0.0 if frozen else config.warmup})
    start = time.perf_counter()
    result = train_network(network, cfg, progress=progress, frozen=dense if frozen else None)
    seconds = time.perf_counter() - start
    artifact = export_network(result, command=f"{COMMAND} ({name}, seed {seed})")
    golden = classify(artifact, x_test).classes
    usage = artifact.provenance["prototype_usage"]
    pruned, report = prune_prototypes(artifact, x_train)
    bits = memory_bits(artifact)
    return {"variant": name, "seed": seed, "train_config": cfg.to_dict(),
            "float": round(result.float_accuracy, 6),
            "golden": round(float(np.mean(golden == y_test)), 6),
            "unquantised": round(result.unquantised_accuracy, 6),
            "train": round(result.train_accuracy, 6),
            "float_golden_class_agreement": round(float(np.mean(
                result.net.predict(x_test) == golden)), 6),
            "prototypes_used": round(float(np.mean([u["used_share"] for u in usage.values()])), 6),
            "pruned_golden": round(_accuracy(pruned, x_test, y_test), 6),
            "bits": report["bits"], "bits_pruned": report["bits_kept"],
            "memory_bits": {f"l{i}": b for i, b in bits.items()},
            "pruning": report["layers"], "seconds": round(seconds, 2),
            "artifact_hash": artifact.content_hash}


def run(seeds=SEEDS, variants=tuple(VARIANTS), *, pecan: dict = PECAN,
        dense_config: TrainConfig = TrainConfig(), pecan_config: TrainConfig = PECAN_CONFIG,
        progress: bool = True) -> dict:
    """Train, export and evaluate the dense network and every variant at every seed.

    ``pecan`` holds the PECAN-D layers' knobs (:func:`~edgeforge.models.network.zoo.
    with_transforms`); the configs' seeds are replaced by each of ``seeds``.

    Returns
    -------
    dict
        ``dense`` and ``runs`` (one row per seed and variant), ``summary`` per
        variant (mean, std, min, max over the seeds), the knobs and schedules.
    """
    x_test, y_test = load_digits("test")
    dense_runs, runs = [], []
    for seed in seeds:
        start = time.perf_counter()
        cfg = TrainConfig(**{**dense_config.to_dict(), "seed": seed})
        result = train_network("digits-ref", cfg, progress=progress)
        dense = export_network(result, command=f"{COMMAND} (dense, seed {seed})")
        dense_runs.append({"seed": seed, "float": round(result.float_accuracy, 6),
                           "golden": round(_accuracy(dense, x_test, y_test), 6),
                           "seconds": round(time.perf_counter() - start, 2)})
        for name in variants:
            runs.append(_pecan_run(name, dense, seed, pecan, pecan_config, progress))
    keys = ("float", "golden", "unquantised", "train", "float_golden_class_agreement",
            "prototypes_used", "pruned_golden", "bits_pruned", "seconds")
    summary = {"dense": {k: seed_stats([r[k] for r in dense_runs])
                         for k in ("float", "golden", "seconds")}}
    for name in variants:
        rows = [r for r in runs if r["variant"] == name]
        summary[name] = {k: seed_stats([r[k] for r in rows]) for k in keys}
        summary[name]["bits"] = rows[0]["bits"]
        summary[name]["memory_bits"] = rows[0]["memory_bits"]
    return {"command": COMMAND, "test_images": N_TEST, "split": SPLIT_RULE,
            "seeds": list(seeds), "pecan": pecan,
            "variants": {n: {"transforms": VARIANTS[n][0], "frozen": VARIANTS[n][1]}
                         for n in variants},
            "dense_config": {k: v for k, v in dense_config.to_dict().items() if k != "seed"},
            "pecan_config": {k: v for k, v in pecan_config.to_dict().items() if k != "seed"},
            "up5k_bram_bits": UP5K_BRAM_BITS, "torch": torch.__version__,
            "dense": dense_runs, "runs": runs, "summary": summary, "paper": PAPER}


def render_markdown(results: dict) -> str:
    """The results of :func:`run` as a Markdown report."""
    s = results["summary"]
    pc = ", ".join(f"{k} {v}" for k, v in results["pecan_config"].items())
    dc = ", ".join(f"{k} {v}" for k, v in results["dense_config"].items())
    knobs = ", ".join(f"{k} {v}" for k, v in results["pecan"].items())
    lines = ["# PECAN-D accuracy on digits (test split)", "",
             f"Command: `{results['command']}`", "",
             f"- Data: {results['split']}; accuracy on the {results['test_images']} test images; "
             f"seeds {results['seeds']}, mean +- std over them (sample std), in %.",
             f"- Network: digits-ref; PECAN-D layers with {knobs} (per conv/linear layer).",
             f"- Dense: `TrainConfig` ({dc}). PECAN-D: `TrainConfig` ({pc}); the frozen "
             "variant trains only the codebooks, on the same seed's dense network (no warm-up).",
             "- float = the fixed-point network run by torch (hard match); golden = the exported "
             "integers run by edgeforge.sim.golden.network.classify; pruned = golden after "
             "dropping the prototypes no training image matches.",
             f"- torch {results['torch']}, CPU, one thread, on a shared 2-core machine.", "",
             "| network | float | golden | float/golden classes agree | prototypes used (train) "
             "| pruned golden | codebook + table bits | after pruning | time per run (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
             f"| dense digits-ref (int8) | {mean_pm_std(s['dense']['float'])} | "
             f"{mean_pm_std(s['dense']['golden'])} | - | - | - | - | - | "
             f"{mean_pm_std(s['dense']['seconds'], 1, 1)} |"]
    for name in results["variants"]:
        v = s[name]
        lines.append(f"| PECAN-D {name} | {mean_pm_std(v['float'])} | {mean_pm_std(v['golden'])} | "
                     f"{mean_pm_std(v['float_golden_class_agreement'])} | "
                     f"{mean_pm_std(v['prototypes_used'])} | {mean_pm_std(v['pruned_golden'])} | "
                     f"{v['bits']:,} | {v['bits_pruned']['mean']:,.0f} | "
                     f"{mean_pm_std(v['seconds'], 1, 1)} |")
    first = next(iter(results["variants"]), None)
    if first is not None:
        lines += ["", f"Memory of codebooks and tables ({first}; bits per PECAN-D layer), "
                  f"against the iCE40 UP5K's block RAM ({results['up5k_bram_bits']:,} bits):", "",
                  "| layer | codebook bits | table bits |", "|---|---:|---:|"]
        lines += [f"| {k} | {b['codebook']:,} | {b['table']:,} |"
                  for k, b in s[first]["memory_bits"].items()]
    lines += ["", "Per run (golden %):", "", "| seed | dense | " +
              " | ".join(results["variants"]) + " |",
              "|---:|---:|" + "---:|" * len(results["variants"])]
    for d in results["dense"]:
        cells = [f"{100 * r['golden']:.2f}" for r in results["runs"] if r["seed"] == d["seed"]]
        lines.append(f"| {d['seed']} | {100 * d['golden']:.2f} | " + " | ".join(cells) + " |")
    lines += ["", "The paper's accuracies (Ran et al., DATE 2023, arXiv v1; other networks and "
              "data, for context only):", "", "| model, data | baseline | PECAN-A | PECAN-D |",
              "|---|---:|---:|---:|"]
    lines += [f"| {m} | {b:.2f} | {a:.2f} | {d:.2f} |" for m, b, a, d in results["paper"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("-o", "--out", type=Path, default=RESULTS,
                        help="folder for the results (default bench/results)")
    parser.add_argument("--stem", default="pecan_accuracy",
                        help="results file name without suffix (default pecan_accuracy)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = run(args.seeds, tuple(args.variants), progress=not args.no_progress)
    results["command"] = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    publish(args.out, args.stem, results, render_markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
