"""PECAN-D accuracy on digits: dense digits-ref against its PECAN-D versions, 5 seeds, float and integer.

For every seed, digits-ref is trained dense (:class:`~edgeforge.models.network.train.TrainConfig`
defaults, as ``network_accuracy``) and exported; then every variant of :data:`VARIANTS` is
trained with that seed and exported (:func:`~edgeforge.models.network.export.export_network`):

- **prototypes only**: the paper's mode for MNIST: the dense network of the same seed is
  frozen (``train_network(..., frozen=dense)``) and only the codebooks train;
- **from scratch**: weights and prototypes train together (after a dense warm-up, see
  :data:`PECAN_CONFIG`);
- **hybrid**: a dense first layer, PECAN-D elsewhere, from scratch;
- **from dense** (the recipe of ``models/network/pretrained/digits-pecan-d.npz``): the
  weights start as the dense network of the same seed and train with the codebooks
  (``train_network(..., init=dense)``), the codebooks k-medians of the inputs the dense
  weights give; its own knobs (:attr:`Variant.pecan`: groups of 3 in conv1, of 4 in conv2,
  which lose least per layer, within the UP5K's block RAM) and schedule.

:data:`ABLATIONS` (``--ablations``) are what each change of the from-dense recipe is worth
and what each layer alone loses; :data:`SEARCH` what the search for the issue's 2-point
target tried, chosen on validation images (``--validation``: fit on 80 % of the training
split, scored on the held-out 20 %, :class:`~edgeforge.models.image_sets.HeldOut`; the test
images are not read). Every results file states the target (:func:`targets`, by
:func:`~edgeforge.bench.harness.paired_margin` on seed-paired differences).

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
    python -m edgeforge.bench.pecan_accuracy --variants 'from dense' --stem pecan_accuracy_from_dense
    python -m edgeforge.bench.pecan_accuracy --ablations --seeds 0 1 --iterations 500 \
        --stem pecan_accuracy_ablations      # every ABLATIONS row, quick (so labelled)
    python -m edgeforge.bench.pecan_accuracy --validation --seeds 0 1 --iterations 1000 \
        --variants 'from dense, p 17,16,8,16 d 1,2,2,2' --stem pecan_accuracy_search_r3a
    python -m edgeforge.bench.pecan_accuracy --jobs 2 --variants 'from dense, p 17,16,8,16 d 1,2,2,2' \
        --stem pecan_accuracy_small_groups   # 5 seeds, two at a time

Writes ``bench/results/pecan_accuracy.json`` and ``.md`` (``--stem`` renames them: the
variants may run as separate processes, e.g. ``--variants hybrid... --stem
pecan_accuracy_hybrid``).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import multiprocessing
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..models.image_sets import DIGITS, ImageSet
from ..models.network.export import export_network
from ..models.network.train import TrainConfig, train_network
from ..models.network.zoo import preset, with_transforms
from ..models.pecan.export import memory_bits, prune_prototypes
from ..sim.golden.network import classify
from .harness import (RESULTS, add_validation_argument, data_record, digits_for, paired_margin,
                      positive_int, publish, scored_images, seed_stats)
from .network_accuracy import SEEDS, mean_pm_std

__all__ = ["PECAN", "Variant", "VARIANTS", "ABLATIONS", "SEARCH", "EXACT_CONV1_PECAN", "SMALL_GROUPS_PECAN", "MARGIN",
           "targets", "FROM_DENSE_PECAN", "FROM_DENSE_CONFIG",
           "PECAN_CONFIG", "PAPER", "UP5K_BRAM_BITS", "run",
           "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.pecan_accuracy"
#: The PECAN-D layers' knobs (every variant): p, d and table bits, one for all or one per
#: conv/linear layer of digits-ref (conv 1->8, conv 8->8, linear 32->32, linear 32->10;
#: a dense layer's entry is unused).
PECAN = {"prototypes": [64, 16, 16, 16], "group_size": [9, 8, 4, 2], "table_bits": 8}


@dataclass(frozen=True)
class Variant:
    """One PECAN-D network of the bench and how it is trained.

    Attributes
    ----------
    transforms : str or tuple of str
        The transform kind of every conv/linear layer, or one per layer.
    start : str
        ``"frozen"``: the prototypes only, on the same seed's dense weights (no warm-up);
        ``"dense"``: weights start as the dense network's and train with the codebooks
        (no warm-up); ``"scratch"``: random weights, ``config.warmup`` dense first.
    pecan : dict or None
        The knobs (as :data:`PECAN`); ``None``: :data:`PECAN`.
    config : TrainConfig or None
        The schedule; ``None``: :data:`PECAN_CONFIG`. A ``config.distill > 0`` distils the
        dense network of the same seed.
    """
    transforms: str | tuple = "pecan-d"
    start: str = "scratch"
    pecan: dict | None = None
    config: TrainConfig | None = None

    def to_dict(self) -> dict:
        return {"transforms": self.transforms, "start": self.start, "pecan": self.pecan,
                "config": None if self.config is None else self.config.to_dict()}


#: The schedule of the from-dense recipe: 2,000 iterations (1,000 lost 0.7 points in a
#: 2-seed trial; dense trains 4,000), the rest ``TrainConfig``'s defaults.
FROM_DENSE_CONFIG = TrainConfig(iterations=2000)
#: Its knobs: groups of 3 values (a kernel row) in conv1 and of 4 channels in conv2, whose
#: old groups (the whole window, a tap's 8 channels) lost the most with each layer alone
#: PECAN-D on a frozen dense network; conv2, the worst, gets 32 prototypes. 120,960
#: codebook and table bits of the UP5K's 122,880.
FROM_DENSE_PECAN = {"prototypes": [16, 32, 16, 16], "group_size": [3, 4, 4, 2], "table_bits": 8}
VARIANTS = {
    "prototypes only (frozen dense)": Variant("pecan-d", "frozen"),
    "from scratch": Variant("pecan-d", "scratch"),
    "hybrid (dense first layer), from scratch": Variant(("dense", "pecan-d", "pecan-d", "pecan-d"),
                                                        "scratch"),
    "from dense": Variant("pecan-d", "dense", FROM_DENSE_PECAN, FROM_DENSE_CONFIG),
}

def _one_layer(index: int, prototypes: int, group_size: int) -> Variant:
    """Layer ``index`` alone PECAN-D, prototypes only on the frozen dense network."""
    kinds = tuple("pecan-d" if i == index else "dense" for i in range(4))
    knobs = {"prototypes": [prototypes] * 4, "group_size": [group_size] * 4, "table_bits": 8}
    return Variant(kinds, "frozen", knobs)


def _knob_set(prototypes, group_size) -> dict:
    return {"prototypes": list(prototypes), "group_size": list(group_size), "table_bits": 8}


def _named(start: str, prototypes, group_size, config=None, note: str = "") -> tuple:
    label = (f"{'from dense' if start == 'dense' else 'from scratch'}, p "
             f"{','.join(map(str, prototypes))} d {','.join(map(str, group_size))}{note}")
    return label, Variant("pecan-d", start, _knob_set(prototypes, group_size),
                          config if config is not None else
                          (FROM_DENSE_CONFIG if start == "dense" else None))


#: What each change of the from-dense recipe is worth, and where PECAN-D loses (one layer
#: at a time); run on 2 seeds and fewer iterations (``--iterations``), labelled quick.
ABLATIONS = dict([
    _named("dense", PECAN["prototypes"], PECAN["group_size"], note=" (the others' knobs)"),
    _named("dense", [32, 16, 16, 16], [3, 4, 4, 2]),
    _named("dense", [16, 32, 16, 16], [3, 4, 4, 2]),
    _named("scratch", [16, 32, 16, 16], [3, 4, 4, 2]),
    _named("dense", [16, 32, 16, 16], [3, 4, 4, 2],
           dataclasses.replace(FROM_DENSE_CONFIG, distill=0.5),
           ", distilling the dense logits (0.5, T 4)"),
    _named("dense", [16, 32, 16, 16], [3, 4, 4, 2],
           dataclasses.replace(FROM_DENSE_CONFIG, codebook_lr=0.1), ", codebooks at 0.1 x lr"),
    ("conv1 alone, p 64 d 9 (frozen)", _one_layer(0, 64, 9)),
    ("conv1 alone, p 16 d 3 (frozen)", _one_layer(0, 16, 3)),
    ("conv2 alone, p 16 d 8 (frozen)", _one_layer(1, 16, 8)),
    ("conv2 alone, p 32 d 4 (frozen)", _one_layer(1, 32, 4)),
    ("fc1 alone, p 16 d 4 (frozen)", _one_layer(2, 16, 4)),
    ("fc2 alone, p 16 d 2 (frozen)", _one_layer(3, 16, 2)),
])
#: Conv1 exact: its inputs are the pixels, which take 17 values (digits' 0..16), so 17
#: prototypes of one value each hold every pixel and its match loses nothing; 7-bit tables
#: in conv1 and conv2 keep the sum within the UP5K's block RAM (121,920 of 122,880 bits).
EXACT_CONV1_PECAN = {"prototypes": [17, 32, 16, 16], "group_size": [1, 4, 4, 2],
                     "table_bits": [7, 7, 8, 8]}


#: The best of the search within the UP5K's block RAM (116,488 bits): conv1 exact, groups of
#: 2 values elsewhere.
SMALL_GROUPS_PECAN = {"prototypes": [17, 16, 8, 16], "group_size": [1, 2, 2, 2], "table_bits": 8}


def _searched(label: str, pecan: dict = FROM_DENSE_PECAN, **config) -> tuple:
    return label, Variant("pecan-d", "dense", pecan,
                          dataclasses.replace(FROM_DENSE_CONFIG, **config))


#: What the search for the 2-point target tried, on validation images (``--validation``:
#: 80 % of the training split to fit, 20 % held out; the test images are not read), from
#: the same seed's dense network as "from dense"; quick (2 seeds, ``--iterations``) first.
#: The smaller groups: a layer of ``n`` inputs and ``c`` outputs takes ``n c (p / d)
#: table_bits`` table bits and ``8 n p`` codebook bits, so at a given rate ``log2(p) / d``
#: bits a value the smallest groups cost least (``d = 1``, ``p = 4``: 2 bits a value at
#: ``4 n c`` table entries; ``d = 4``, ``p = 16``: 1 bit at ``4 n c``).
SEARCH = dict([
    _searched("from dense, soft match 0.3 of the steps (tau 0.5 annealed)", soft_match=0.3),
    _searched("from dense, progressive over 0.5 of the steps", progressive=0.5),
    _searched("from dense, p 17,32,16,16 d 1,4,4,2 tables 7,7,8,8 (conv1 exact)",
              EXACT_CONV1_PECAN),
    _searched("from dense, p 17,8,4,8 d 1,1,1,1 (scalar)",
              {"prototypes": [17, 8, 4, 8], "group_size": [1, 1, 1, 1], "table_bits": 8}),
    _searched("from dense, p 17,16,8,16 d 1,2,2,2", SMALL_GROUPS_PECAN),
    _searched("from dense, p 17,16,8,16 d 1,2,2,2, 4000 iterations", SMALL_GROUPS_PECAN,
              iterations=4000),
    _searched("from dense, p 16,16,8,16 d 1,2,2,2 tables 8,8,9,9",
              {**SMALL_GROUPS_PECAN, "prototypes": [16, 16, 8, 16], "table_bits": [8, 8, 9, 9]}),
    _searched("from dense, p 17,8,4,8 d 1,1,1,1 tables 16 (over the block RAM)",
              {"prototypes": [17, 8, 4, 8], "group_size": [1, 1, 1, 1], "table_bits": 16}),
    _searched("from dense, p 17,8,4,8 d 1,1,1,1 tables 9",
              {"prototypes": [17, 8, 4, 8], "group_size": [1, 1, 1, 1], "table_bits": 9}),
    _searched("from dense, p 17,4,4,4 d 1,1,1,1 tables 13",
              {"prototypes": [17, 4, 4, 4], "group_size": [1, 1, 1, 1], "table_bits": 13}),
    _searched("from dense, p 17,8,4,4 d 1,1,1,1 tables 10",
              {"prototypes": [17, 8, 4, 4], "group_size": [1, 1, 1, 1], "table_bits": 10}),
    _searched("from dense, codebooks at 3 x lr", codebook_lr=3.0),
    _searched("from dense, codebooks at 10 x lr", codebook_lr=10.0),
    _searched("from dense, qat_fraction 0.8", qat_fraction=0.8),
    _searched("from dense, weight decay 0.01", weight_decay=0.01),
])
ALL_VARIANTS = {**VARIANTS, **ABLATIONS, **SEARCH}
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


def _variant_setup(variant: Variant, pecan: dict, config: TrainConfig,
                   iterations: int | None) -> tuple[dict, TrainConfig]:
    """The knobs and the schedule (seed 0) a variant trains with: its own, else ``pecan`` and
    ``config``; ``iterations`` (a quick run) replaces the schedule's."""
    knobs = variant.pecan if variant.pecan is not None else pecan
    cfg = (variant.config if variant.config is not None else config).to_dict()
    if variant.start != "scratch":
        cfg["warmup"] = 0.0
    if iterations is not None:
        cfg["iterations"] = iterations
    return knobs, TrainConfig(**cfg)


def _pecan_run(name: str, variant: Variant, dense, seed: int, pecan: dict,
               config: TrainConfig, iterations: int | None, progress: bool,
               data: ImageSet) -> dict:
    x_test, y_test = data.load("test")
    x_train, _ = data.load("train")
    knobs, cfg = _variant_setup(variant, pecan, config, iterations)
    cfg = dataclasses.replace(cfg, seed=seed)
    network = with_transforms(preset("digits-ref"), variant.transforms,
                              **_knobs(knobs, variant.transforms))
    start = time.perf_counter()
    result = train_network(network, cfg, progress=progress,
                           frozen=dense if variant.start == "frozen" else None,
                           init=dense if variant.start == "dense" else None,
                           teacher=dense if cfg.distill > 0 else None, data=data)
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


def _variant(name: str) -> Variant:
    if name not in ALL_VARIANTS:
        raise ValueError(f"variants: unknown {name!r} (have {sorted(ALL_VARIANTS)})")
    return ALL_VARIANTS[name]


def _seed_runs(seed: int, *, chosen: dict, pecan: dict, dense_config: TrainConfig,
               pecan_config: TrainConfig, iterations: int | None, progress: bool,
               data: ImageSet) -> tuple[dict, list[dict]]:
    """One seed: the dense network, then every variant of ``chosen`` from it."""
    torch.set_num_threads(1)
    x_test, y_test = data.load("test")
    start = time.perf_counter()
    cfg = TrainConfig(**{**dense_config.to_dict(), "seed": seed})
    result = train_network("digits-ref", cfg, progress=progress, data=data)
    dense = export_network(result, command=f"{COMMAND} (dense, seed {seed})")
    dense_run = {"seed": seed, "float": round(result.float_accuracy, 6),
                 "golden": round(_accuracy(dense, x_test, y_test), 6),
                 "seconds": round(time.perf_counter() - start, 2)}
    return dense_run, [_pecan_run(name, variant, dense, seed, pecan, pecan_config, iterations,
                                  progress, data) for name, variant in chosen.items()]


def run(seeds=SEEDS, variants=tuple(VARIANTS), *, pecan: dict = PECAN,
        dense_config: TrainConfig = TrainConfig(), pecan_config: TrainConfig = PECAN_CONFIG,
        iterations: int | None = None, progress: bool = True, data: ImageSet = DIGITS,
        jobs: int = 1) -> dict:
    """Train, export and evaluate the dense network and every variant at every seed.

    ``variants`` are names in :data:`VARIANTS` or :data:`ABLATIONS`. ``pecan`` holds the
    PECAN-D layers' knobs (:func:`~edgeforge.models.network.zoo.with_transforms`) and
    ``pecan_config`` the schedule of the variants without their own; ``iterations``, if
    given, replaces every variant's (a quick run: the results say so). The configs'
    seeds are replaced by each of ``seeds``. Every network trains on ``data``'s training
    split and is scored on its ``"test"`` split (a
    :class:`~edgeforge.models.image_sets.HeldOut` set: held-out training images, for
    choosing a recipe without reading the test images). ``jobs`` > 1 trains that many seeds
    at once, each in a process of its own (no progress bars then).

    Returns
    -------
    dict
        ``dense`` and ``runs`` (one row per seed and variant), ``summary`` per
        variant (mean, std, min, max over the seeds), ``targets`` (:func:`targets`), the
        knobs and schedules.
    """
    chosen = {name: _variant(name) for name in variants}
    one_seed = functools.partial(_seed_runs, chosen=chosen, pecan=pecan,
                                 dense_config=dense_config, pecan_config=pecan_config,
                                 iterations=iterations, progress=progress and jobs == 1,
                                 data=data)
    if jobs == 1:
        per_seed = [one_seed(seed) for seed in seeds]
    else:
        # Seeds in processes of their own, one torch thread each: a run's figures do not
        # depend on which process trained it (the same seed, the same bytes).
        with multiprocessing.get_context("spawn").Pool(min(jobs, len(seeds))) as pool:
            per_seed = pool.map(one_seed, seeds)
    dense_runs = [d for d, _ in per_seed]
    runs = [r for _, rows in per_seed for r in rows]
    keys = ("float", "golden", "unquantised", "train", "float_golden_class_agreement",
            "prototypes_used", "pruned_golden", "bits_pruned", "seconds")
    summary = {"dense": {k: seed_stats([r[k] for r in dense_runs])
                         for k in ("float", "golden", "seconds")}}
    for name in chosen:
        rows = [r for r in runs if r["variant"] == name]
        summary[name] = {k: seed_stats([r[k] for r in rows]) for k in keys}
        summary[name]["bits"] = rows[0]["bits"]
        summary[name]["memory_bits"] = rows[0]["memory_bits"]
    setups = {}
    for name, variant in chosen.items():
        knobs, cfg = _variant_setup(variant, pecan, pecan_config, iterations)
        setups[name] = {"transforms": variant.transforms, "start": variant.start,
                        "pecan": knobs,
                        "config": {k: v for k, v in cfg.to_dict().items() if k != "seed"}}
    return {"command": COMMAND, **data_record(data),
            "seeds": list(seeds), "quick": iterations is not None or len(seeds) < len(SEEDS),
            "variants": setups,
            "dense_config": {k: v for k, v in dense_config.to_dict().items() if k != "seed"},
            "up5k_bram_bits": UP5K_BRAM_BITS, "torch": torch.__version__,
            "dense": dense_runs, "runs": runs, "summary": summary,
            "targets": targets(dense_runs, runs), "paper": PAPER}


#: The issue's accuracy target: PECAN-D digits-ref within 2 points of the dense int8 one.
MARGIN = 0.02


def targets(dense_runs: list[dict], runs: list[dict]) -> dict:
    """Per variant, "within :data:`MARGIN` of dense" on the golden accuracies by issue 11's
    rule on seed-paired differences (:func:`~edgeforge.bench.harness.paired_margin`: each
    variant starts from, or is compared with, the dense network of its seed)."""
    dense = {d["seed"]: d["golden"] for d in dense_runs}
    out = {}
    for name in dict.fromkeys(r["variant"] for r in runs):
        out[name] = paired_margin(dense, {r["seed"]: r["golden"] for r in runs
                                          if r["variant"] == name}, MARGIN)
    return out


_STARTS = {"frozen": "prototypes only, on the same seed's frozen dense network",
           "dense": "weights start as the same seed's dense network's and train with the "
                    "codebooks",
           "scratch": "weights and codebooks from scratch after the dense warm-up"}


def _setup_line(name: str, setup: dict) -> str:
    knobs = ", ".join(f"{k} {v}" for k, v in _knobs(setup["pecan"], setup["transforms"]).items())
    cfg = ", ".join(f"{k} {v}" for k, v in setup["config"].items())
    kinds = setup["transforms"]
    kinds = kinds if isinstance(kinds, str) else ",".join(kinds)
    return (f"- PECAN-D {name}: transforms {kinds}; {knobs}; {_STARTS[setup['start']]}; "
            f"`TrainConfig` ({cfg}).")


def render_markdown(results: dict) -> str:
    """The results of :func:`run` as a Markdown report."""
    s = results["summary"]
    dc = ", ".join(f"{k} {v}" for k, v in results["dense_config"].items())
    quick = (" **Quick runs** (fewer seeds or iterations than the 5-seed rule): an ablation, "
             "not a result." if results.get("quick") else "")
    split = "validation split" if results.get("validation") else "test split"
    lines = [f"# PECAN-D accuracy on digits ({split})", "",
             f"Command: `{results['command']}`", "",
             f"- Data: {results['split']}; "
             + (f"{results['train_images']} images to fit; " if results.get("validation") else "")
             + f"accuracy on the {results['test_images']} {scored_images(results)}; "
             f"seeds {results['seeds']}, mean +- std over them (sample std), in %.{quick}",
             f"- Network: digits-ref (knobs per PECAN-D layer). Dense: `TrainConfig` ({dc}).",
             *(_setup_line(name, setup) for name, setup in results["variants"].items()),
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
    if "targets" in results:
        lines += ["", f"Target: PECAN-D within {100 * MARGIN:g} points of dense (golden), issue "
                  "11's margin rule on seed-paired differences (per seed, dense minus PECAN-D; "
                  "met when their mean plus their sample std is at most the margin; "
                  "harness.paired_margin):", "",
                  "| network | dense - PECAN-D (points) | std | mean + std | met | "
                  "unpaired std (for reference) |", "|---|---:|---:|---:|---|---:|"]
        for name, t in results["targets"].items():
            lines.append(f"| PECAN-D {name} | {100 * t['difference']:.2f} | "
                         f"{100 * t['std']:.2f} | {100 * t['bound']:.2f} | "
                         f"{'yes' if t['met'] else 'no'} | {100 * t['std_unpaired']:.2f} |")
    for name in results["variants"]:
        lines += ["", f"Memory of codebooks and tables ({name}; bits per PECAN-D layer), "
                  f"against the iCE40 UP5K's block RAM ({results['up5k_bram_bits']:,} bits):", "",
                  "| layer | codebook bits | table bits |", "|---|---:|---:|"]
        lines += [f"| {k} | {b['codebook']:,} | {b['table']:,} |"
                  for k, b in s[name]["memory_bits"].items()]
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
    parser.add_argument("--variants", nargs="+", choices=list(ALL_VARIANTS),
                        default=list(VARIANTS),
                        help="the networks (default the four of VARIANTS; ABLATIONS' and SEARCH's too)")
    parser.add_argument("--ablations", action="store_true",
                        help="run every variant of ABLATIONS instead of --variants")
    parser.add_argument("--iterations", type=positive_int, metavar="N",
                        help="PECAN-D iterations of every variant (a quick run; default each "
                             "variant's schedule)")
    add_validation_argument(parser)
    parser.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                        help="seeds trained at once, a process each (default 1; the figures "
                             "are the same)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("-o", "--out", type=Path, default=RESULTS,
                        help="folder for the results (default bench/results)")
    parser.add_argument("--stem", default="pecan_accuracy",
                        help="results file name without suffix (default pecan_accuracy)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    variants = tuple(ABLATIONS) if args.ablations else tuple(args.variants)
    results = run(args.seeds, variants, iterations=args.iterations,
                  progress=not args.no_progress, data=digits_for(args.validation),
                  jobs=args.jobs)
    results["command"] = shlex.join([*COMMAND.split(), *(argv if argv is not None
                                                         else sys.argv[1:])])
    publish(args.out, args.stem, results, render_markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
