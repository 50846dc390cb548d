"""DeBut accuracy on digits: dense digits-ref vs DeBut (some layers) vs All-DeBut, over 5 seeds.

For every seed: digits-ref is trained dense (:func:`~edgeforge.models.network.train.train_network`,
default :class:`~edgeforge.models.network.train.TrainConfig`, one torch thread); then each
DeBut variant is converted from that dense network (:func:`~edgeforge.models.debut.convert.convert`:
chains by :func:`~edgeforge.models.debut.convert.plan_chains`, nonzeros by ALS from the dense
layers, ``--sweeps`` sweeps; ``--widths`` fixes some layers' chains) and fine-tuned with the
same seed on the schedule
:data:`~edgeforge.models.debut.convert.FINE_TUNE` unless ``--fine-tune-steps``,
``--fine-tune-lr``, ``--fine-tune-weight-decay`` or ``--distill`` (knowledge distillation
from that seed's dense network, ``--distill-temperature``) say otherwise (float, calibration
of every power-of-two scale, QAT), exported and run by the golden model on the 540 test images.

- **float**: the fixed-point network run by torch in float (fake quantisation);
- **golden**: the exported integers run by :func:`edgeforge.sim.golden.network.classify`.

Parameters are the conv2d / linear weights (DeBut: the chains' nonzeros, padding included;
biases not counted), MACs those of one image. Mean +- std over the seeds (sample std).
Target (issue 15): All-DeBut with at most 25 % of the dense parameters within 1.5 points of
the dense network's golden accuracy, by issue 11's margin rule on seed-paired differences
(:func:`~edgeforge.bench.harness.paired_margin`: per seed, the dense accuracy minus the
All-DeBut network's, which is converted from that seed's dense network; met when their mean
plus their sample std is at most 1.5 points).

``--variants`` runs some of :data:`VARIANTS` (the dense network always: the target is
against it); ``--validation`` trains and fine-tunes on 80 % of the training split and
scores on the held-out 20 % (:class:`~edgeforge.models.image_sets.HeldOut`): a schedule is
chosen there, never on the test images; ``--stem`` names the results files.

Run::

    python -m edgeforge.bench.debut_accuracy [--seeds 0 1 2 3 4] [--iterations 4000]
        [--variants NAME ...] [--fine-tune-steps N] [--fine-tune-lr LR]
        [--fine-tune-weight-decay WD] [--distill ALPHA [--distill-temperature T]]
        [--sweeps N] [--widths LAYER:WIDTH ...] [--validation] [--stem NAME]

Writes ``bench/results/debut_accuracy.json`` and ``.md`` (or ``<stem>.json`` / ``.md``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..models.data_digits import N_TRAIN
from ..models.debut.convert import FINE_TUNE, SWEEPS, convert, layer_indices
from ..models.debut.convert import fine_tune as fine_tune_network
from ..models.image_sets import DIGITS, ImageSet
from ..models.network.export import export_network
from ..models.network.train import TrainConfig, train_network
from ..models.network.zoo import macs, params
from ..sim.golden.network import classify
from .harness import (PAIRED_MARGIN_RULE, RESULTS, add_validation_argument, check_variants,
                      count_int, data_record, digits_for, margin_text, non_negative_float,
                      paired_margin, positive_float, positive_int, publish, scored_images,
                      seed_stats, unit_float)
from .network_accuracy import mean_pm_std

__all__ = ["VARIANTS", "DENSE", "SEEDS", "TARGET", "run", "target", "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.debut_accuracy"
STEM = "debut_accuracy"
SEEDS = (0, 1, 2, 3, 4)
PRESET = "digits-ref"
#: The DeBut versions by the name ``--variants`` takes: (row label, layers to convert,
#: budget). The dense network is always trained and reported: every variant is converted
#: from it and the target is against it.
VARIANTS = {
    "debut-conv2-fc1": ("DeBut conv2 + fc1", [3, 7], None),
    "all-debut-0.25": ("All-DeBut, budget 0.25", "all", 0.25),
}
#: ``--variants`` also takes ``dense`` (always run).
DENSE = "dense"
#: Issue 15's accuracy target: the variant's parameters at most ``max_params_ratio`` of the
#: dense network's, its golden accuracy within ``margin`` (1.5 points) by the paired rule.
TARGET = {"variant": "all-debut-0.25", "max_params_ratio": 0.25, "margin": 0.015,
          "metric": "golden"}


def _measure(result, images, labels, command: str):
    """The row of one trained network on ``images``, and its artifact."""
    art = export_network(result, command=command)
    golden = classify(art, images).classes
    return {"float": round(result.float_accuracy, 6),
            "golden": round(float(np.mean(golden == labels)), 6),
            "agreement": round(float(np.mean(result.net.predict(images) == golden)), 6),
            "params": params(art.config), "macs": macs(art.config),
            "artifact_hash": art.content_hash}, art


def _config(base: TrainConfig, seed: int) -> TrainConfig:
    return TrainConfig(**{**base.to_dict(), "seed": seed})


def run(seeds=SEEDS, config: TrainConfig = TrainConfig(), fine_tune: TrainConfig = FINE_TUNE, *,
        variants=tuple(VARIANTS), sweeps: int = SWEEPS, widths: dict | None = None,
        data: ImageSet = DIGITS, progress: bool = True, say=None) -> dict:
    """Train the dense network (``config``), convert it to each of ``variants`` (names of
    :data:`VARIANTS`; ALS ``sweeps``; ``widths`` ``{layer: narrowest vector}`` fixes those
    layers' chains in every variant that converts them, as
    :func:`~edgeforge.models.debut.convert.plan_chains` takes it), fine-tune (``fine_tune``;
    with ``fine_tune.distill`` > 0 the teacher is that seed's dense network) and evaluate, at
    every seed, on ``data``
    (its ``"test"`` split scores: a :class:`~edgeforge.models.image_sets.HeldOut` set scores
    on validation images)."""
    names = check_variants(variants, VARIANTS, DENSE)
    images, labels = data.load("test")
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        dense = train_network(PRESET, _config(config, seed), progress=progress, data=data)
        row, dense_art = _measure(dense, images, labels, f"{COMMAND} (dense, seed {seed})")
        dense_golden = row["golden"]
        runs.append({"variant": DENSE, "seed": seed, **row,
                     "seconds": round(time.perf_counter() - start, 2)})
        ft = _config(fine_tune, seed)
        for name in names:
            label, layers, budget = VARIANTS[name]
            start = time.perf_counter()
            mine = layer_indices(dense.net.network, layers)
            conversion = convert(dense.net, layers, budget=budget, seed=seed, sweeps=sweeps,
                                 widths={i: w for i, w in (widths or {}).items() if i in mine}
                                 or None)
            result = fine_tune_network(conversion, ft,
                                       teacher=dense_art if ft.distill > 0 else None,
                                       preset=PRESET, progress=progress, data=data)
            row, _ = _measure(result, images, labels, f"{COMMAND} ({label}, seed {seed})")
            runs.append({"variant": label, "seed": seed, **row,
                         "als_error": {str(i): round(e[-1], 4)
                                       for i, e in conversion.als_errors.items()},
                         "chains": [c.to_dict() for c in conversion.plan.choices],
                         "seconds": round(time.perf_counter() - start, 2)})
            if say is not None:
                say(f"[bench] seed {seed} {label}: golden {100 * row['golden']:.2f} % "
                    f"(dense {100 * dense_golden:.2f} %)")
    summary = {}
    for label in dict.fromkeys(r["variant"] for r in runs):
        rows = [r for r in runs if r["variant"] == label]
        summary[label] = {key: seed_stats([r[key] for r in rows])
                          for key in ("float", "golden", "agreement", "seconds")}
        summary[label].update(params=rows[0]["params"], macs=rows[0]["macs"])
    return {"command": COMMAND, **data_record(data), "preset": PRESET,
            "train_config": {k: v for k, v in config.to_dict().items() if k != "seed"},
            "fine_tune": {k: v for k, v in fine_tune.to_dict().items() if k != "seed"},
            "als_sweeps": sweeps, "widths": {str(i): w for i, w in (widths or {}).items()},
            "variants": [DENSE, *names],
            "seeds": list(seeds), "torch": torch.__version__, "runs": runs,
            "summary": summary, "target": target(runs)}


def target(runs: list[dict]) -> dict | None:
    """Issue 15's target (:data:`TARGET`) from the per-seed ``runs``: the parameter ratio
    and :func:`~edgeforge.bench.harness.paired_margin` of the golden accuracies; None when
    the target's variant was not run."""
    label = VARIANTS[TARGET["variant"]][0]
    metric = TARGET["metric"]
    dense = {r["seed"]: r[metric] for r in runs if r["variant"] == DENSE}
    mine = {r["seed"]: r[metric] for r in runs if r["variant"] == label}
    if not mine:
        return None
    ratio = next(r["params"] for r in runs if r["variant"] == label) / next(
        r["params"] for r in runs if r["variant"] == DENSE)
    margin = paired_margin(dense, mine, TARGET["margin"])
    return {**TARGET, "label": label, "params_ratio": round(ratio, 4),
            "params_within": ratio <= TARGET["max_params_ratio"], "accuracy": margin,
            "met": ratio <= TARGET["max_params_ratio"] and margin["met"]}


def _widths_text(widths) -> str:
    if not widths:
        return ""
    return " with the narrowest vector fixed: " + ", ".join(
        f"layer {i} {w}" for i, w in widths.items())


def _schedule_text(ft: dict, train_images: int) -> str:
    epochs = ft["iterations"] * ft["batch"] / train_images
    text = (f"{ft['iterations']} steps of {ft['batch']} (about {epochs:.0f} epochs), peak lr "
            f"{ft['lr']}, weight decay {ft['weight_decay']}, float then QAT "
            f"({ft['qat_fraction']:g} of the steps, peak lr x {ft['qat_lr']}), a cosine decay to "
            "0 in each phase")
    if ft.get("distill"):
        text += (f"; distilled from the seed's dense network (alpha {ft['distill']:g}, "
                 f"temperature {ft['distill_temperature']:g})")
    return text


def render_markdown(results: dict) -> str:
    """The results of :func:`run` as a Markdown report."""
    cfg = ", ".join(f"{k} {v}" for k, v in results["train_config"].items())
    scored = scored_images(results)
    title = "validation split" if results.get("validation") else "test split"
    lines = [f"# DeBut accuracy on digits ({title})", "",
             f"Command: `{results['command']}`", "",
             f"- Data: {results['split']}; accuracy on the {results['test_images']} {scored}.",
             f"- {results['preset']} trained dense (`TrainConfig` ({cfg})), then each DeBut "
             f"variant converted from that network (chains by plan_chains"
             + _widths_text(results.get("widths")) + f", ALS "
             f"{results['als_sweeps']} sweeps) and fine-tuned: "
             + _schedule_text(results["fine_tune"], results.get("train_images", N_TRAIN))
             + f". Seeds {results['seeds']}; torch {results['torch']}, CPU, one thread, a "
             "shared 2-core machine.",
             "- float = the fixed-point network run by torch; golden = the exported integers "
             "run by the golden model (integer NumPy); params = conv/linear weights (DeBut "
             "nonzeros, padding included; no biases); MACs of one image.",
             "- mean +- std over the seeds (sample std), in %; time = one run's wall time "
             "(s; a DeBut run is its conversion and fine-tune).", "",
             "| network | params | MACs | float | golden | float/golden classes agree | "
             "time per run (s) |", "|---|---:|---:|---:|---:|---:|---:|"]
    dense = results["summary"][DENSE]
    for name, s in results["summary"].items():
        lines.append(f"| {name} | {s['params']:,} ({100 * s['params'] / dense['params']:.1f} %) "
                     f"| {s['macs']:,} | {mean_pm_std(s['float'])} | {mean_pm_std(s['golden'])} | "
                     f"{mean_pm_std(s['agreement'])} | {mean_pm_std(s['seconds'], 1, 1)} |")
    chains = {r["variant"]: r["chains"] for r in results["runs"] if "chains" in r}
    if chains:
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
    if t is not None:
        m = t["accuracy"]
        lines += ["", "Target, " + PAIRED_MARGIN_RULE, "",
                  f"- {t['label']} with <= {100 * t['max_params_ratio']:.0f} % of the dense "
                  f"parameters within {100 * t['margin']:g} points of the dense golden "
                  f"accuracy: {100 * t['params_ratio']:.1f} % of the parameters "
                  f"({'within' if t['params_within'] else 'over'}); accuracy "
                  f"{margin_text(m)}; per-seed differences "
                  + ", ".join(f"{100 * d:.2f}" for d in _differences(results["runs"], t))
                  + ". Target (parameters and accuracy): "
                  + f"**{'met' if t['met'] else 'not met'}**."]
    return "\n".join(lines) + "\n"


def _differences(runs: list[dict], t: dict) -> list[float]:
    dense = {r["seed"]: r[t["metric"]] for r in runs if r["variant"] == DENSE}
    return [dense[r["seed"]] - r[t["metric"]] for r in runs if r["variant"] == t["label"]]


def _width(text: str) -> tuple[int, int]:
    """An argparse ``type`` for ``LAYER:WIDTH``."""
    layer, sep, width = text.partition(":")
    try:
        value = (int(layer), int(width))
    except ValueError:
        value = None
    if not sep or value is None or value[0] < 0 or value[1] < 1:
        raise argparse.ArgumentTypeError(f"must be LAYER:WIDTH (a layer index and its narrowest "
                                         f"vector, e.g. 0:8), got {text!r}")
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--iterations", type=positive_int, default=TrainConfig().iterations,
                        help="steps of the dense training")
    parser.add_argument("--variants", nargs="+", choices=[DENSE, *VARIANTS],
                        default=list(VARIANTS), metavar="NAME",
                        help=f"the DeBut networks to run, of {', '.join(VARIANTS)} (default "
                             "all; dense is always run: the target is against it)")
    parser.add_argument("--fine-tune-steps", type=positive_int, metavar="N",
                        default=FINE_TUNE.iterations,
                        help=f"steps of every fine-tune (default {FINE_TUNE.iterations})")
    parser.add_argument("--fine-tune-lr", type=positive_float, metavar="LR",
                        default=FINE_TUNE.lr,
                        help=f"peak learning rate of every fine-tune (default {FINE_TUNE.lr})")
    parser.add_argument("--fine-tune-weight-decay", type=non_negative_float, metavar="WD",
                        default=FINE_TUNE.weight_decay,
                        help=f"AdamW weight decay of every fine-tune (default "
                             f"{FINE_TUNE.weight_decay})")
    parser.add_argument("--distill", type=unit_float, metavar="ALPHA", default=FINE_TUNE.distill,
                        help="weight of distillation from the seed's dense network in the "
                             f"fine-tune's loss, 0..1 (default {FINE_TUNE.distill:g})")
    parser.add_argument("--distill-temperature", type=positive_float, metavar="T",
                        default=FINE_TUNE.distill_temperature,
                        help=f"distillation temperature (default "
                             f"{FINE_TUNE.distill_temperature:g})")
    parser.add_argument("--sweeps", type=count_int, metavar="N", default=SWEEPS,
                        help=f"ALS sweeps per converted layer (default {SWEEPS})")
    parser.add_argument("--widths", nargs="+", type=_width, default=[], metavar="LAYER:WIDTH",
                        help="fix a layer's chain at this narrowest vector between factors "
                             "(e.g. 0:8, the first conv at full width); the budget falls on "
                             "the other layers")
    add_validation_argument(parser, "train and fine-tune")
    parser.add_argument("--progress", action="store_true", help="training progress bars")
    parser.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("-o", "--out", type=Path, default=RESULTS,
                        help="folder for the results files")
    parser.add_argument("--stem", default=STEM,
                        help=f"results file name without suffix (default {STEM})")
    args = parser.parse_args(argv)
    command = shlex.join([*COMMAND.split(), *(argv if argv is not None else sys.argv[1:])])
    torch.set_num_threads(1)
    fine_tune = TrainConfig(**{**FINE_TUNE.to_dict(), "iterations": args.fine_tune_steps,
                               "lr": args.fine_tune_lr,
                               "weight_decay": args.fine_tune_weight_decay,
                               "distill": args.distill,
                               "distill_temperature": args.distill_temperature})
    results = run(args.seeds, TrainConfig(iterations=args.iterations), fine_tune,
                  variants=args.variants, sweeps=args.sweeps, widths=dict(args.widths) or None,
                  data=digits_for(args.validation),
                  progress=args.progress and not args.no_progress,
                  say=lambda msg: print(msg, file=sys.stderr, flush=True))
    results["command"] = command
    publish(args.out, args.stem, results, render_markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
