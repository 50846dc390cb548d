"""PECAN-A trained quantisation-aware in the network compiler's loop, on digits: float (the
fixed-point torch model) and golden (the exported integers), beside PECAN-D on the same
layers.

Every network is trained by :func:`~edgeforge.models.network.train.train_network` (the
recipe of ``bench/pecan_accuracy.py``'s PECAN-D runs: ``TrainConfig(iterations=1500,
warmup=0.3)``, a dense warm-up, then the codebooks from the data) with the PECAN-A layers of
:mod:`edgeforge.models.pecan.layers_angle` (16 prototypes a group, PECAN-D's default
groups), exported by :func:`~edgeforge.models.network.export.export_network` and run by the
golden model on the 540 test images. Variants:

- **digits-mlp, PECAN-A**: both linears;
- **digits-ref, PECAN-A linears** / **PECAN-D linears**: the convs dense, the two linears
  PQ (the like-for-like pair);
- **digits-ref, every layer PECAN-A**: from scratch, to show the dot product's failure on
  non-negative inputs (:func:`norm_bias` measures it), two seeds;
- **every layer PECAN-A, prototypes only**: the paper's MNIST recipe ("uni-optimization"):
  the shipped dense ``digits-ref.npz`` weights frozen, the codebooks initialised on the
  inputs they give and trained alone, no warm-up; two seeds;
- **every layer PECAN-A with prototype offsets**: the transform's ``prototype_offsets``
  option (each score plus ``-|c|**2 / 2``, a negative squared distance), prototypes only
  as above (all seeds), and from scratch (two seeds).

The first seed's export of :data:`RTL_VARIANT` also runs as RTL on every test image
(``Design.verify``, fully folded). Run::

    python -m edgeforge.bench.pecan_a_qat [--quick] [--no-rtl]

Writes ``bench/results/pecan_a_qat.json`` and ``.md``; ``--quick``: 2 seeds, 300 iterations.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import NamedTuple

import numpy as np
import torch

from ..models.data_digits import load_digits
from ..models.network import PRETRAINED
from ..models.network.export import export_network
from ..models.network.net import QNet
from ..models.network.train import TrainConfig, train_network
from ..models.network.zoo import preset, with_transforms
from ..models.pecan.pq_angle import distance_offsets
from ..sim.golden.network import classify
from .pecan_a_accuracy import rtl_check, rtl_lines, rtl_main

__all__ = ["Variant", "VARIANTS", "SEEDS", "CONFIG", "FROZEN_CONFIG", "norm_bias", "run",
           "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.pecan_a_qat"
SEEDS = (0, 1, 2, 3, 4)
CONFIG = TrainConfig(iterations=1500, warmup=0.3)
#: The prototypes-only runs': the weights are trained already, so no dense warm-up.
FROZEN_CONFIG = TrainConfig(iterations=1500)
PROTOTYPES = 16


class Variant(NamedTuple):
    """One network of the bench: its preset, the conv/linear layers' kinds, the seeds it runs
    (``None``: all, else the first that many), ``frozen``: the prototypes only, on the
    shipped dense weights of the preset (:data:`FROZEN_CONFIG`; else :data:`CONFIG` from
    scratch), ``offsets``: the PECAN-A layers' ``prototype_offsets``."""
    preset: str
    transforms: str | list
    seeds: int | None = None
    frozen: bool = False
    offsets: bool = False


VARIANTS = {
    "digits-mlp, PECAN-A": Variant("digits-mlp", "pecan-a"),
    "digits-ref, PECAN-A linears (dense convs)": Variant(
        "digits-ref", ["dense", "dense", "pecan-a", "pecan-a"]),
    "digits-ref, PECAN-D linears (dense convs)": Variant(
        "digits-ref", ["dense", "dense", "pecan-d", "pecan-d"]),
    "digits-ref, every layer PECAN-A": Variant("digits-ref", "pecan-a", 2),
    "digits-ref, every layer PECAN-A, prototypes only": Variant(
        "digits-ref", "pecan-a", 2, frozen=True),
    "digits-ref, every layer PECAN-A with prototype offsets, prototypes only": Variant(
        "digits-ref", "pecan-a", frozen=True, offsets=True),
    "digits-ref, every layer PECAN-A with prototype offsets, from scratch": Variant(
        "digits-ref", "pecan-a", 2, offsets=True),
}
RTL_VARIANT = "digits-ref, every layer PECAN-A with prototype offsets, prototypes only"


@torch.no_grad()
def norm_bias(net: QNet, images: np.ndarray) -> dict[str, float]:
    """Per PECAN-A layer of a float (warm-up ended) ``net``: the share of its nonzero input
    groups over ``images`` whose largest score (the dot product, plus the offset with
    ``prototype_offsets``) is the group's largest-norm prototype's. With non-negative
    inputs and prototypes of unequal norms, dot products alone make that share high
    whatever the input: the match ignores the input."""
    out, h = {}, net.inputs(images)
    for i, m in enumerate(net.layers):
        if getattr(m, "transform", None) == "pecan-a":
            v = m.vectors(h)
            g = v.reshape(*v.shape[:-1], m.groups, m.group_size)
            s = torch.einsum("...jd,jpd->...jp", g, m.pq.codebook)
            if m.prototype_offsets:
                s = s + distance_offsets(m.pq.codebook)
            nonzero = g.abs().sum(-1) > 0
            largest = m.pq.codebook.norm(dim=-1).argmax(-1)
            out[f"l{i}"] = round(float((s.argmax(-1) == largest)[nonzero].float().mean()), 4)
        h = m(h)
    return out


def _one(name: str, seed: int, config: TrainConfig) -> tuple[dict, object]:
    v = VARIANTS[name]
    net_name, transforms = v.preset, v.transforms
    network = with_transforms(preset(net_name), transforms, prototypes=PROTOTYPES,
                              prototype_offsets=v.offsets)
    t = time.perf_counter()
    result = train_network(network, TrainConfig(**{**config.to_dict(), "seed": seed}),
                           progress=False, name=f"{net_name}/{name}",
                           frozen=PRETRAINED[net_name] if v.frozen else None)
    art = export_network(result, command=f"{COMMAND} ({name}, seed {seed})")
    images, labels = load_digits("test")
    golden = classify(art, images).classes
    record = {"seed": seed, "float": round(result.float_accuracy, 6),
              "golden": round(float((golden == labels).mean()), 6),
              "agree": round(float((golden == result.net.predict(images)).mean()), 6),
              "seconds": round(time.perf_counter() - t, 1)}
    if "pecan-a" in (transforms if isinstance(transforms, list) else [transforms]):
        # The match of the trained float layers (before calibration it would be the same
        # codebooks): measured on the fixed-point net's codebooks as floats.
        float_net = QNet(network)
        float_net.load_state_dict(result.net.state_dict(), strict=False)
        record["norm_bias"] = norm_bias(float_net, images[:128])
    return record, art


def run(*, quick: bool = False, rtl: bool = True, progress: bool = True, done=None) -> dict:
    torch.set_num_threads(1)
    configs = {False: CONFIG, True: FROZEN_CONFIG}
    if quick:
        configs = {k: dataclasses.replace(c, iterations=300) for k, c in configs.items()}
    seeds = SEEDS[:2] if quick else SEEDS
    report = {"command": COMMAND + (" --quick" if quick else ""),
              "train_config": configs[False].to_dict(),
              "frozen_train_config": configs[True].to_dict(), "prototypes": PROTOTYPES,
              "variants": {}}
    rtl_art = None
    for name, v in VARIANTS.items():
        runs = []
        for seed in seeds[:v.seeds]:
            record, art = _one(name, seed, configs[v.frozen])
            runs.append(record)
            if name == RTL_VARIANT and seed == seeds[0]:
                rtl_art = art
            if progress:
                print(f"[bench] {name}, seed {seed}: float {record['float']:.4f}, golden "
                      f"{record['golden']:.4f} ({record['seconds']:.0f} s)", file=sys.stderr)
        report["variants"][name] = {"runs": runs, **_stats(runs)}
        if done is not None:
            done(report)
    if rtl and rtl_art is not None:
        report["rtl"] = {"variant": RTL_VARIANT, **rtl_check(rtl_art, progress=progress)}
        if done is not None:
            done(report)
    return report


def _stats(runs: list[dict]) -> dict:
    out = {}
    for key in ("float", "golden"):
        v = np.array([r[key] for r in runs])
        out[f"{key}_mean"] = round(float(v.mean()), 6)
        out[f"{key}_std"] = round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 6)
    return out


def render_markdown(report: dict) -> str:
    c, cf = report["train_config"], report["frozen_train_config"]
    lines = ["# PECAN-A trained quantisation-aware (digits)", "",
             f"Command: `{report['command']}`. `train_network` with iterations "
             f"{c['iterations']}, warm-up {c['warmup']}, QAT fraction {c['qat_fraction']} "
             f"(\"prototypes only\": the shipped dense weights frozen, the codebooks trained "
             f"alone, iterations {cf['iterations']}, warm-up {cf['warmup']}), "
             f"{report['prototypes']} prototypes a group (PECAN-D's default groups), seeds "
             "as listed; float = the fixed-point torch model, golden = the exported integers "
             "run by edgeforge.sim.golden.network on the 540 test images; mean +- std over "
             "the seeds.", "",
             "| variant | seeds | float | golden | float/golden classes agree | largest-norm "
             "prototype wins (per PECAN-A layer) | s a run |",
             "|---|---:|---:|---:|---:|---|---:|"]
    for name, v in report["variants"].items():
        runs = v["runs"]
        bias = runs[0].get("norm_bias")
        lines.append(
            f"| {name} | {len(runs)} | {100 * v['float_mean']:.2f} +- {100 * v['float_std']:.2f}"
            f" | {100 * v['golden_mean']:.2f} +- {100 * v['golden_std']:.2f} | "
            f"{100 * min(r['agree'] for r in runs):.2f} % (least) | "
            + (", ".join(f"{k} {100 * s:.0f} %" for k, s in bias.items()) if bias else "-")
            + f" | {np.mean([r['seconds'] for r in runs]):.0f} |")
    lines += ["", "Per run (golden %):", "",
              "| variant | " + " | ".join(f"seed {s}" for s in SEEDS) + " |",
              "|---|" + "---:|" * len(SEEDS)]
    for name, v in report["variants"].items():
        by_seed = {r["seed"]: f"{100 * r['golden']:.2f}" for r in v["runs"]}
        lines.append(f"| {name} | " + " | ".join(by_seed.get(s, "-") for s in SEEDS) + " |")
    lines += ["", "Largest-norm share: over the first seed's 128 first test images, the "
              "nonzero input groups of a PECAN-A layer whose largest score (the dot product; "
              "with prototype offsets plus -|c|^2/2) is its group's largest-norm prototype's "
              "(the float layer). Where it is near 100 % the match does not depend on the "
              "input."]
    r = report.get("rtl")
    if r:
        lines += rtl_lines(r, r["variant"])
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    return rtl_main(__doc__.splitlines()[0], "pecan_a_qat", run, render_markdown,
                    "2 seeds, 300 iterations", argv)


if __name__ == "__main__":
    sys.exit(main())
