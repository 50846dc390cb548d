"""EZCrop pruning and NRMF factorisation of digits-wide: accuracy over 5 seeds, parameters, MACs,
ranks, the importance metrics' time, and (``--hw``) the compressed networks in hardware.

Accuracy (``compress.md``). Per seed, digits-wide is trained by
:func:`~edgeforge.models.network.train.train_network` (the default
:class:`~edgeforge.models.network.train.TrainConfig`: 4,000 steps, one torch thread), and
from that one dense network:

- **EZCrop** at rates 0.5 and 0.75 of every conv's channels, and **HRank** (the same
  pruning with the feature-map rank as importance) at the same rates: one-shot, importance
  on 5 seeded batches of 128 training images (the authors' amount), then fine-tuning; and
  EZCrop to 0.75 in 3 rounds (evaluate -> prune -> fine-tune each);
- **NRMF**: fine-tuning with the nuclear-norm regulariser (alpha 0.01), then Tucker-2 at the
  ranks of energy thresholds p = 0.92, 0.95, 0.98 (all three from the one regularised
  network), then fine-tuning; and p = 0.95 on the dense network without the regulariser
  (what the regulariser adds);
- **VBMF**: Tucker-2 at VBMF's ranks of the dense network, then fine-tuning.

Every fine-tuning, of every variant alike, is
:data:`~edgeforge.models.compress.common.FINE_TUNE` unless ``--fine-tune-steps`` /
``--fine-tune-lr`` say otherwise (float then QAT, a cosine decay in each phase); NRMF's
regularised phase takes as many steps unless ``--regularise-steps`` says otherwise. Accuracy is the exported integers run by the golden
model on the 540 test images, mean +- std (sample) over seeds 0-4; the fixed-point torch
model's classes agree with the golden's on every image of every run (checked and recorded).

Targets (:func:`targets`): each "within 1 point" by issue 11's margin rule on seed-paired
differences (:func:`~edgeforge.bench.harness.paired_margin`: per seed, the reference's
accuracy minus the variant's, which starts from that seed's dense network; met when their
mean plus their sample std is at most 1 point), EZCrop ahead of HRank on the means, NRMF's
parameters against VBMF's.

``--variants`` runs some of :data:`VARIANTS` (the dense network always: the margins are
against it); ``--validation`` trains and fine-tunes on 80 % of the training split and
scores on the held-out 20 % (:class:`~edgeforge.models.image_sets.HeldOut`): a schedule is
chosen there, never on the test images.

Metric time: EZCrop's scores as the paper writes them (``ezcrop_scores``: ``fft2``,
``fftshift``) and from half the spectrum (``ezcrop_scores_rfft``, the same values, what the
pruning uses) against HRank's (``hrank_scores``) on the same maps, side by side in one run,
torch on CPU with one thread, the fastest of 7 turns each: generated maps of 8x8, 16x16 and
32x32 (128 images x 32 channels, a relu of a random 3x3 conv of noise), and digits-wide's
own (its two convs' maps on 640 training images, 8x8 and 4x4).

Hardware (``--hw``, ``compress_hw.md``): seed 0's dense, EZCrop (every rate) and NRMF (every p) networks
at the folded setting through the one harness (``bench/harness.measure``): cocotb on
Verilator, bit-exact and cycle-exact, then synthesis (generic only with ``--quick``), and the
energy estimate of :func:`edgeforge.bench.energy.estimate` (from the cycle model's
operation and access counts, never measured).

Run::

    python -m edgeforge.bench.compress [--seeds 0 1 2 3 4] [--variants NAME ...]
        [--fine-tune-steps N] [--regularise-steps N] [--fine-tune-lr LR] [--validation]
        [--no-metric-time]
        [--stem NAME] [--hw [--quick]]
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..models.compress import FINE_TUNE, nrmf_network, prune_network, vbmf_network
from ..models.compress.common import image_batches, network_summary
from ..models.compress.ezcrop import (ezcrop_scores, ezcrop_scores_rfft, feature_map_module,
                                      hrank_scores)
from ..models.compress.nrmf import ALPHA, regularise_network
from ..models.data_digits import N_TRAIN, load_digits
from ..models.image_sets import DIGITS, ImageSet
from ..models.network.export import export_network
from ..models.network.train import TrainConfig, train_network
from ..sim.golden.network import classify
from .harness import (PAIRED_MARGIN_RULE, RESULTS, add_validation_argument, data_record,
                      digits_for, margin_text, paired_margin, positive_float, positive_int,
                      publish, scored_images, seed_stats)
from .harness import check_variants as harness_check_variants
from .network_accuracy import mean_pm_std

__all__ = ["PRESET", "SEEDS", "RATES", "PS", "SIDES", "VARIANTS", "MARGIN", "check_variants",
           "run", "targets", "time_metrics", "run_hw", "render_markdown", "render_targets",
           "render_hw_markdown", "main"]

COMMAND = "python -m edgeforge.bench.compress"
PRESET = "digits-wide"
SEEDS = (0, 1, 2, 3, 4)
RATES = (0.5, 0.75)
PS = (0.92, 0.95, 0.98)
ROUNDS = 3
SIDES = (8, 16, 32)
#: The paper's measured metric-time ratios, HRank / EZCrop, on its networks.
PAPER_RATIOS = (2.3, 4.2)


#: The compressed versions by the name ``--variants`` takes: (row label, method, setting,
#: pruning rounds). The dense network is always trained and reported: every variant starts
#: from it and every margin is against it.
VARIANTS = {
    **{f"{metric}{rate:g}": (f"{metric} {rate:g}", metric, rate, 1)
       for metric in ("ezcrop", "hrank") for rate in RATES},
    # Repetitive pruning to the harder rate: evaluate -> prune -> fine-tune, three rounds.
    f"ezcrop{RATES[-1]:g}x{ROUNDS}": (f"ezcrop {RATES[-1]:g}, {ROUNDS} rounds", "ezcrop",
                                      RATES[-1], ROUNDS),
    **{f"nrmf{p:g}": (f"nrmf p={p:g}", "nrmf", p, None) for p in PS},
    "energy0.95": ("energy p=0.95, no regulariser", "nrmf-unregularised", 0.95, None),
    "vbmf": ("vbmf", "vbmf", None, None),
}
#: ``--variants`` also takes ``dense`` (always run).
DENSE = "dense"

#: The issue's accuracy margins, in accuracy (1 point = 0.01).
MARGIN = 0.01


def check_variants(names) -> list[str]:
    """The compressed variants among ``names`` in the table's order (``dense`` allowed and
    dropped: it is always run): :func:`~edgeforge.bench.harness.check_variants`.

    Raises
    ------
    ValueError
        For a name not in :data:`VARIANTS`, naming it and the choices.
    """
    return harness_check_variants(names, VARIANTS, DENSE)


def _variants(names, dense, fine_tune: TrainConfig, regularise: TrainConfig, progress: bool,
              data: ImageSet):
    """``(label, method, setting, Compressed)`` of the variants ``names`` of ``dense``; NRMF's
    regularised phase on the ``regularise`` schedule."""
    regularised = None
    for name in names:
        label, method, setting, rounds = VARIANTS[name]
        if method in ("ezcrop", "hrank"):
            done = prune_network(dense, setting, metric=method, rounds=rounds,
                                 fine_tune=fine_tune, progress=progress, data=data)
        elif method == "nrmf":
            # All thresholds from the one regularised network (as the paper's ranks are).
            if regularised is None:
                regularised = regularise_network(dense, ALPHA, regularise, progress=progress,
                                                 data=data)
            done = nrmf_network(regularised, setting, regularise=None, fine_tune=fine_tune,
                                progress=progress, name=f"{PRESET}-nrmf", data=data)
        elif method == "nrmf-unregularised":
            done = nrmf_network(dense, setting, regularise=None, fine_tune=fine_tune,
                                progress=progress, data=data)
        else:
            done = vbmf_network(dense, fine_tune=fine_tune, progress=progress, data=data)
        yield label, method, setting, done


def _ranks(details: dict) -> dict | None:
    if "ranks" not in details:
        return None
    return {layer: {"in": r["in"], "out": r["out"], "channels": r["channels"],
                    "factorised": r["factorise"]} for layer, r in details["ranks"].items()}


def _evaluate(label, method, setting, seed, result, images, labels, details, seconds) -> dict:
    art = export_network(result, command=f"{COMMAND} ({label}, seed {seed})")
    golden = classify(art, images).classes
    summary = network_summary(art.config)
    return {"variant": label, "method": method, "setting": setting, "seed": seed,
            "integer": round(float(np.mean(golden == labels)), 6),
            "float": round(result.float_accuracy, 6),
            "float_integer_class_agreement": round(float(np.mean(
                result.net.predict(images) == golden)), 6),
            "params": summary["params"], "macs": summary["macs"], "layers": summary["layers"],
            "ranks": _ranks(details), "kept": details.get("kept"),
            "metric_seconds": details.get("metric_seconds"),
            "seconds": round(seconds, 2), "artifact_hash": art.content_hash}


def run(seeds=SEEDS, config: TrainConfig = TrainConfig(), fine_tune: TrainConfig = FINE_TUNE, *,
        regularise: TrainConfig | None = None, variants=tuple(VARIANTS),
        data: ImageSet = DIGITS, metric_time: bool = False, progress: bool = False,
        say=print) -> dict:
    """Train, compress, fine-tune, export and evaluate the dense network and ``variants``
    (names of :data:`VARIANTS`) at every seed, on ``data`` (its ``"test"`` split scores:
    a :class:`~edgeforge.models.image_sets.HeldOut` set scores on validation images);
    with ``metric_time``, also :func:`time_metrics` on the first seed's dense network.
    NRMF's regularised phase follows ``regularise`` (default: ``fine_tune``'s schedule)."""
    regularise = fine_tune if regularise is None else regularise
    names = check_variants(variants)
    images, labels = data.load("test")
    runs, timing = [], None
    for seed in seeds:
        t0 = time.perf_counter()
        dense = train_network(PRESET, TrainConfig(**{**config.to_dict(), "seed": seed}),
                              progress=progress, data=data)
        runs.append(_evaluate(DENSE, DENSE, None, seed, dense, images, labels, {},
                              time.perf_counter() - t0))
        if metric_time and timing is None:
            timing = time_metrics(net=dense.net)
        t0 = time.perf_counter()
        ft = TrainConfig(**{**fine_tune.to_dict(), "seed": seed})
        reg = TrainConfig(**{**regularise.to_dict(), "seed": seed})
        for label, method, setting, done in _variants(names, dense, ft, reg, progress, data):
            runs.append(_evaluate(label, method, setting, seed, done.result, images, labels,
                                  done.details, time.perf_counter() - t0))
            say(f"[bench] seed {seed} {label}: {100 * runs[-1]['integer']:.2f} %, "
                f"{runs[-1]['params']:,} params")
            t0 = time.perf_counter()
    summary = {}
    for v in dict.fromkeys(r["variant"] for r in runs):
        rows = [r for r in runs if r["variant"] == v]
        summary[v] = {key: seed_stats(r[key] for r in rows)
                      for key in ("integer", "float", "float_integer_class_agreement", "params",
                                  "macs", "seconds")}
        summary[v]["method"] = rows[0]["method"]
    results = {"command": COMMAND, "preset": PRESET, **data_record(data),
               "seeds": list(seeds), "variants": [DENSE, *names],
               "train_config": {k: v for k, v in config.to_dict().items() if k != "seed"},
               "fine_tune": {k: v for k, v in fine_tune.to_dict().items() if k != "seed"},
               "regularise": {k: v for k, v in regularise.to_dict().items() if k != "seed"},
               "nrmf_alpha": ALPHA, "torch": torch.__version__, "runs": runs,
               "summary": summary, "targets": targets(runs)}
    if timing is not None:
        results["metric_time"] = timing
    return results


def _per_seed(runs, variant: str, key: str = "integer") -> dict | None:
    values = {r["seed"]: r[key] for r in runs if r["variant"] == variant}
    return values or None


def targets(runs: list[dict]) -> dict:
    """The issue's targets from the per-seed ``runs``, each margin by
    :func:`~edgeforge.bench.harness.paired_margin` (issue 11's rule on seed-paired
    differences of the golden accuracy); only those whose rows were run."""
    out = {}
    dense = _per_seed(runs, DENSE)
    ez, hr = _per_seed(runs, "ezcrop 0.5"), _per_seed(runs, "hrank 0.5")
    if dense and ez:
        out["ezcrop_half"] = {"dense": _mean(dense), "ezcrop": _mean(ez),
                              "within_1_point_of_dense": paired_margin(dense, ez, MARGIN)}
        if hr:
            # "ahead of HRank at the same rate": on the means, the paired differences beside.
            ahead = paired_margin(hr, ez, 0.0)
            out["ezcrop_half"].update(hrank=_mean(hr), ahead_of_hrank=_mean(ez) > _mean(hr),
                                      hrank_minus_ezcrop=ahead)
    nr, vb = _per_seed(runs, "nrmf p=0.95"), _per_seed(runs, "vbmf")
    if dense and nr:
        n = out["nrmf_95"] = {"nrmf": _mean(nr),
                              "nrmf_params": _mean(_per_seed(runs, "nrmf p=0.95", "params")),
                              "within_1_point_of_dense": paired_margin(dense, nr, MARGIN)}
        if vb:
            n.update(vbmf=_mean(vb), vbmf_params=_mean(_per_seed(runs, "vbmf", "params")),
                     within_1_point_of_vbmf=paired_margin(vb, nr, MARGIN))
            n["fewer_params"] = n["nrmf_params"] < n["vbmf_params"]
    return out


def _mean(values: dict) -> float:
    return round(float(np.mean(list(values.values()))), 6)


# -- metric time ----------------------------------------------------------------------

def _timed(fns, maps, repeats: int) -> list[float]:
    """Seconds of each of ``fns`` on ``maps``: the fastest of ``repeats`` runs, the functions
    taking turns within each repeat (so that a shared machine's load hits them alike)."""
    for fn in fns:
        fn(maps)                                             # warm-up
    best = [math.inf] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn(maps)
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def _generated_maps(side: int, images: int, channels: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(images, 1, side, side, generator=g)
    w = torch.randn(channels, 1, 3, 3, generator=g)
    return torch.relu(torch.nn.functional.conv2d(x, w, padding=1))


@torch.no_grad()
def _network_maps(net, images: np.ndarray) -> dict[int, torch.Tensor]:
    maps = {}
    hooks = [feature_map_module(net, i).register_forward_hook(
        lambda m, a, out, i=i: maps.setdefault(i, out.detach().to(torch.float32)))
        for i, layer in enumerate(net.network["layers"]) if layer["kind"] == "conv2d"]
    try:
        net.eval()
        net(net.inputs(images))
    finally:
        for h in hooks:
            h.remove()
    return maps


def time_metrics(sides=SIDES, *, images: int = 128, channels: int = 32, repeats: int = 7,
                 net=None) -> dict:
    """Seconds of EZCrop's scores (as written, and from half the spectrum) and HRank's on the
    same maps, one thread, the fastest of ``repeats``; the generated maps at every side, and
    ``net``'s own conv maps on 640 digits training images when given."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        cases = [(f"generated {s}x{s}", _generated_maps(s, images, channels, s)) for s in sides]
        if net is not None:
            x = np.concatenate(image_batches())
            cases += [(f"{PRESET} layer {i} ({m.shape[-2]}x{m.shape[-1]})", m)
                      for i, m in _network_maps(net, x).items()]
        for name, maps in cases:
            ez, half, hr = _timed((ezcrop_scores, ezcrop_scores_rfft, hrank_scores), maps,
                                  repeats)
            rows.append({"maps": name, "shape": list(maps.shape), "ezcrop_s": round(ez, 5),
                         "ezcrop_rfft_s": round(half, 5), "hrank_s": round(hr, 5),
                         "hrank_over_ezcrop": round(hr / ez, 2),
                         "hrank_over_ezcrop_rfft": round(hr / half, 2)})
    finally:
        torch.set_num_threads(threads)
    return {"threads": 1, "repeats": repeats, "rows": rows, "paper_ratios": list(PAPER_RATIOS)}


# -- hardware ---------------------------------------------------------------------------

HW_IMAGES = 16


def run_hw(*, quick: bool = False, progress: bool = True, done=None) -> dict:
    """Seed 0's dense digits-wide, EZCrop at every rate of :data:`RATES` and NRMF at every
    threshold of :data:`PS` (all three from one regularised network, as in the accuracy
    table), folded, through the harness; ``done(report)`` is called with the report so far
    after each network (a long run leaves its finished rows behind)."""
    from .. import generate
    from .energy import estimate
    from .harness import cost_smallest, measure
    from .network_hw import ENGINE_PATHS
    command = COMMAND + " --hw" + (" --quick" if quick else "")
    dense = train_network(PRESET, TrainConfig(seed=0), progress=False)
    ft = TrainConfig(**{**FINE_TUNE.to_dict(), "seed": 0})
    regularised = regularise_network(dense, ALPHA, ft, progress=False)
    networks = ([("dense", dense, {})]
                + [(f"ezcrop {rate:g}", *_result_details(prune_network(dense, rate, fine_tune=ft)))
                   for rate in RATES]
                + [(f"nrmf p={p:g}", *_result_details(nrmf_network(
                    regularised, p, regularise=None, fine_tune=ft, name=f"{PRESET}-nrmf")))
                   for p in PS])
    x, y = load_digits("test")
    images = list(x[:HW_IMAGES])
    records = []
    report = {"images": f"{HW_IMAGES} digits test images per design, each checked bit-exact",
              "records": records}
    for label, result, details in networks:
        art = export_network(result, command=f"{command} ({label}, seed 0)")
        design = generate(art, folding="folded")
        record = measure(design, images, command=command, engine_paths=ENGINE_PATHS,
                         progress=progress)
        record["cost"] = cost_smallest(design, ("generic",) if quick else
                                       ("generic", "ice40", "ecp5"), progress=progress)
        record["network"] = {"variant": label, **network_summary(art.config),
                             "accuracy_test": round(float(np.mean(classify(art, x).classes == y)),
                                                    6),
                             "weight_bits": sum(art.arrays[k].size * spec.bits
                                                for k, spec in art.specs().items())}
        record["energy"] = estimate(design.cycle_model())
        records.append(record)
        if done is not None:
            done(report)
    return report


def _result_details(done):
    return done.result, done.details


# -- rendering ------------------------------------------------------------------------

def _count(s: dict) -> str:
    if s["min"] == s["max"]:
        return f"{s['mean']:,.0f}"
    return f"{s['mean']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f})"


def _rank_text(ranks: dict | None) -> str:
    if not ranks:
        return "-"
    return "; ".join(f"l{layer} {r['channels'][0]}->{r['channels'][1]}: ({r['in']}, {r['out']})"
                     + ("" if r["factorised"] else " dense") for layer, r in ranks.items())


def render_markdown(results: dict) -> str:
    s, t = results["summary"], results["targets"]
    ft = results["fine_tune"]
    scored = scored_images(results)
    # (results written before train_images was recorded trained on the whole split)
    epochs = ft["iterations"] * ft["batch"] / results.get("train_images", N_TRAIN)
    reg = results.get("regularise", ft)
    lines = [f"# EZCrop and NRMF on {results['preset']} (digits)", "",
             f"Command: `{results['command']}`", "",
             f"- Data: {results['split']}; accuracy on the {results['test_images']} {scored} "
             "of the exported integers (golden model), mean +- std over seeds "
             f"{results['seeds']} (sample std), in %.",
             f"- Dense training: `TrainConfig` ({', '.join(f'{k} {v}' for k, v in results['train_config'].items())}).",
             f"- Fine-tuning after every compression, the same for every variant: "
             f"{ft['iterations']} steps of {ft['batch']} (about {epochs:.0f} epochs), peak lr "
             f"{ft['lr']}, float then QAT ({ft['qat_fraction']:g} of the steps), a cosine "
             "decay to 0 in each phase (the paper fine-tunes for 150-300 epochs). NRMF: "
             f"{reg['iterations']} steps (peak lr {reg['lr']}) with the nuclear-norm "
             f"regulariser (alpha {results['nrmf_alpha']}) before the ranks are taken.",
             "- Importance (EZCrop, HRank): 5 seeded batches of 128 training images; one-shot "
             f"pruning of every conv at the rate, or ({ROUNDS} rounds) repetitive: evaluate -> "
             "prune -> fine-tune, each round a fine-tune of its own.",
             f"- torch {results['torch']}, CPU, one thread, a shared 2-core machine.", "",
             "| variant | integer accuracy | params | MACs / image | float = integer classes |",
             "|---|---:|---:|---:|---:|"]
    for v, row in s.items():
        lines.append(f"| {v} | {mean_pm_std(row['integer'])} | {_count(row['params'])} | "
                     f"{_count(row['macs'])} | {mean_pm_std(row['float_integer_class_agreement'])} |")
    lines += ["", "Ranks (input R3, output R4) per conv and seed; `dense`: factorising at "
              "those ranks would not save parameters, the conv stays.", "",
              "| variant | seed | ranks | layers |", "|---|---:|---|---|"]
    for r in results["runs"]:
        if r["ranks"]:
            lines.append(f"| {r['variant']} | {r['seed']} | {_rank_text(r['ranks'])} | "
                         f"{', '.join(r['layers'])} |")
    mt = results.get("metric_time")
    if mt:
        lines += ["", f"Metric time, side by side in one run (torch CPU, {mt['threads']} thread, "
                  f"the fastest of {mt['repeats']} turns each): EZCrop as the paper writes it "
                  "(`fft2`, `fftshift`), EZCrop from half the spectrum (`rfft2`, the same "
                  "values: what pruning here uses) and HRank (`torch.linalg.matrix_rank`); "
                  f"the paper measured HRank / EZCrop {mt['paper_ratios'][0]}-"
                  f"{mt['paper_ratios'][1]}x on its networks (the whole pruning runs).", "",
                  "| maps | shape (N, C, h, w) | EZCrop fft2 (ms) | EZCrop rfft2 (ms) | HRank (ms) "
                  "| HRank / EZCrop fft2 | HRank / EZCrop rfft2 |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {row['maps']} | {tuple(row['shape'])} | {1000 * row['ezcrop_s']:.2f} | "
                  f"{1000 * row['ezcrop_rfft_s']:.2f} | {1000 * row['hrank_s']:.2f} | "
                  f"{row['hrank_over_ezcrop']:.2f}x | {row['hrank_over_ezcrop_rfft']:.2f}x |"
                  for row in mt["rows"]]
    lines += ["", *render_targets(t)]
    return "\n".join(lines) + "\n"


def render_targets(t: dict) -> list[str]:
    """The targets of :func:`targets` as Markdown lines."""
    lines = ["Targets, " + PAIRED_MARGIN_RULE, ""]
    if "ezcrop_half" in t:
        e = t["ezcrop_half"]
        lines.append(f"- EZCrop at half the channels within 1 point of dense: "
                     f"{100 * e['ezcrop']:.2f} % vs {100 * e['dense']:.2f} %, "
                     + margin_text(e["within_1_point_of_dense"]) + ".")
        if "hrank" in e:
            h = e["hrank_minus_ezcrop"]
            lines.append(f"- EZCrop ahead of HRank at the same rate (on the means): "
                         f"{100 * e['ezcrop']:.2f} % vs {100 * e['hrank']:.2f} %: "
                         f"**{'ahead' if e['ahead_of_hrank'] else 'not ahead'}** (paired "
                         f"difference {-100 * h['difference']:+.2f} +- {100 * h['std']:.2f}).")
    if "nrmf_95" in t:
        n = t["nrmf_95"]
        if "vbmf" in n:
            lines.append(f"- NRMF p = 0.95 with fewer parameters than VBMF's ranks: "
                         f"{n['nrmf_params']:,.0f} vs {n['vbmf_params']:,.0f}: "
                         f"**{'fewer' if n['fewer_params'] else 'not fewer'}**; at accuracy "
                         f"within 1 point of VBMF's ({100 * n['nrmf']:.2f} % vs "
                         f"{100 * n['vbmf']:.2f} %): "
                         + margin_text(n["within_1_point_of_vbmf"]) + ".")
        lines.append(f"- NRMF p = 0.95 within 1 point of dense: {100 * n['nrmf']:.2f} %, "
                     + margin_text(n["within_1_point_of_dense"]) + ".")
    return lines


def render_hw_markdown(report: dict) -> str:
    from .report import render_runs_markdown, render_synth_sections

    def label(r):
        return f"{r['network']['variant']} folded"

    records = report["records"]
    columns = [("network, folding", label)]
    lines = [f"# EZCrop and NRMF {PRESET} in hardware (folded)", "",
             f"Command: `{records[0]['command']}` (engine {records[0].get('engine_commit')}). "
             f"{report['images']}; seed 0's networks.", ""]
    lines += render_runs_markdown(records, columns)
    lines += ["", "| network | params | MACs | weight and bias bits | accuracy (test) | cycles "
              "per image | est. pJ on chip | est. pJ with off-chip |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in records:
        n = r["network"]
        lines.append(f"| {label(r)} | {n['params']:,} | {n['macs']:,} | {n['weight_bits']:,} | "
                     f"{100 * n['accuracy_test']:.2f} % | "
                     f"{r['performance']['cycles_per_input']:,.0f} | "
                     f"{r['energy']['pj']['on_chip']:.0f} | {r['energy']['pj']['total']:.0f} |")
    lines += render_synth_sections(records, columns, (
        ("ice40", "iCE40"), ("ecp5", "ECP5 (smallest part it fits)"),
        ("generic", "Generic (yosys)")))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--variants", nargs="+", choices=[DENSE, *VARIANTS],
                        default=list(VARIANTS), metavar="NAME",
                        help=f"the compressed networks to run, of {', '.join(VARIANTS)} "
                             "(default all; dense is always run: the margins are against it)")
    parser.add_argument("--fine-tune-steps", type=positive_int, metavar="N",
                        default=FINE_TUNE.iterations,
                        help="steps of every fine-tuning, and of NRMF's regularised phase "
                             f"unless --regularise-steps (default {FINE_TUNE.iterations})")
    parser.add_argument("--regularise-steps", type=positive_int, metavar="N",
                        help="steps of NRMF's regularised phase (default --fine-tune-steps)")
    parser.add_argument("--fine-tune-lr", type=positive_float, metavar="LR",
                        default=FINE_TUNE.lr,
                        help=f"peak learning rate of every fine-tuning (default {FINE_TUNE.lr})")
    add_validation_argument(parser, "train and fine-tune")
    parser.add_argument("--no-metric-time", action="store_true",
                        help="skip the EZCrop / HRank metric timing")
    parser.add_argument("--hw", action="store_true",
                        help="the hardware part instead (seed 0's networks, folded)")
    parser.add_argument("--quick", action="store_true", help="with --hw: generic synthesis only")
    parser.add_argument("--progress", action="store_true", help="training progress bars")
    parser.add_argument("-o", "--out", type=Path, default=RESULTS)
    parser.add_argument("--stem", help="results file name without suffix (default compress, "
                                       "or compress_hw with --hw)")
    args = parser.parse_args(argv)
    command = shlex.join([*COMMAND.split(), *(argv if argv is not None else sys.argv[1:])])
    torch.set_num_threads(1)
    if args.hw:
        def done(report):
            for r in report["records"]:
                r["command"] = command
            publish(args.out, args.stem or "compress_hw", report, render_hw_markdown)
        run_hw(quick=args.quick, done=done)
        return 0
    say = (lambda msg: print(msg, file=sys.stderr, flush=True))
    fine_tune = TrainConfig(**{**FINE_TUNE.to_dict(), "iterations": args.fine_tune_steps,
                               "lr": args.fine_tune_lr})
    regularise = TrainConfig(**{**fine_tune.to_dict(),
                                "iterations": args.regularise_steps or fine_tune.iterations})
    results = run(args.seeds, fine_tune=fine_tune, regularise=regularise, variants=args.variants,
                  data=digits_for(args.validation),
                  metric_time=not args.no_metric_time, progress=args.progress, say=say)
    results["command"] = command
    publish(args.out, args.stem or "compress", results, render_markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
