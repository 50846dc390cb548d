"""The one bench harness: a design of any scheme through verify and cost, into a record.

A record is plain JSON data, so that the report module renders it from files alone
(``edgeforge.bench.report.render_*``) and ``compare`` reads the same shape:

- ``design``, ``scheme``, ``config``, ``artifact_hash``, ``design_hash``, ``engine_commit``
  (the last commit that changed the sources the caller names, ``+dirty`` when the tree
  differs), ``command`` (what reproduces the record);
- ``performance``: the design's cycle model (:class:`~edgeforge.sim.cycles.record.Performance`
  as ``to_dict``);
- ``verify`` (when run): the measured run against the model: cycles from the first input
  transfer through the last output transfer without pauses, measured and predicted (verify
  has already failed the run if they differ), under random pauses, the simulator's time;
- ``cost``: per target, what :meth:`Design.cost` found (resources, memory bits, Fmax, fit).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from .. import jsonfile

__all__ = ["REPO", "RESULTS", "ECP5_PARTS", "MeasureError", "measure", "cost_records",
           "cost_smallest", "engine_commit", "printer",
           "main_quick", "write_json", "publish", "number_type", "positive_int", "count_int",
           "positive_float", "non_negative_float", "unit_float", "seed_stats",
           "paired_margin", "PAIRED_MARGIN_RULE", "margin_text", "check_variants",
           "add_validation_argument", "digits_for", "scored_images", "data_record"]

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
FREE, PAUSED = "stream/src=none/sink=none", "stream/src=random/sink=random"


class MeasureError(RuntimeError):
    """The RTL differs from the golden model or from the cycle model."""


def printer(progress: bool):
    """Progress lines to stderr, or None when quiet (``Design.cost`` takes either)."""
    return (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else None


def engine_commit(paths: Sequence[str]) -> str | None:
    """The last commit that changed ``paths`` (which engine a record measured), with
    ``+dirty`` when the working tree changes them; None outside a git checkout."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%h", "--", *paths], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *paths],
                               cwd=REPO).returncode
    except (OSError, subprocess.CalledProcessError):
        return None
    return (out + ("+dirty" if dirty else "")) or None


def _verify(design, inputs, seed: int, say) -> dict:
    say(f"[bench] {design.name}: build + cocotb runs ...")
    t0 = time.monotonic()
    result = design.verify(inputs, pauses="none:none,random:random", seed=seed)
    first = time.monotonic() - t0
    if not result.passed:
        raise MeasureError(f"{design.name}: {result.failures[:3]}")
    # The same run again on the cached build: simulation time alone.
    t0 = time.monotonic()
    design.verify(inputs, pauses="none:none", seed=seed)
    sim_only = time.monotonic() - t0
    free, paused = result.measurements[FREE], result.measurements[PAUSED]
    return {"passed": True, "simulator": result.simulator, "seed": seed,
            "inputs": result.inputs, "input_beats": result.input_beats,
            "output_beats": result.output_beats,
            "cycles_measured": free["run_cycles"],
            "cycles_predicted": result.predicted.total_cycles,
            "output_starts_measured": free["output_start_cycles"],
            "output_starts_predicted": list(result.predicted.output_starts),
            "steady_cycles_per_input_beat": free["steady_cycles_per_input"],
            "cycles_with_backpressure": paused["run_cycles"],
            "output_stall_cycles_with_backpressure": paused["output_stall_cycles"],
            "build_and_runs_s": round(first, 1), "run_s": round(sim_only, 1)}


def measure(design, inputs=None, *, command: str, engine_paths: Sequence[str] = (),
            verify: bool = True, seed: int = 0, targets: Sequence[str] = (),
            devices: dict | None = None, progress: bool = True) -> dict:
    """Run ``design`` through :meth:`verify` (unless ``verify`` is False) and :meth:`cost`
    for ``targets``; return its record.

    Raises
    ------
    MeasureError
        If the RTL differs from the golden model or the cycles from the cycle model.
    """
    say = printer(progress) or (lambda msg: None)
    record = {"design": design.name, "scheme": design.scheme, "config": design.config,
              "artifact_hash": design.artifact.short_hash, "design_hash": design.design_hash,
              # Taken before the long run: the tree may move meanwhile.
              "engine_commit": engine_commit(engine_paths) if engine_paths else None,
              "command": command, "performance": design.cycle_model().to_dict()}
    if verify:
        record["verify"] = _verify(design, inputs, seed, say)
    if targets:
        record["cost"] = cost_records(design, targets, devices=devices, progress=progress)
    return record


def cost_records(design, targets: Sequence[str], *, devices: dict | None = None,
                 dsp: bool = True, progress: bool = True) -> dict:
    """Per target, what :meth:`Design.cost` found (resources, memory bits, Fmax, fit, notes,
    tool seconds), as a record's ``cost`` holds it."""
    if progress:
        printer(True)(f"[bench] {design.name}: synthesis for {', '.join(targets)} ...")
    return {r.target: {"device": r.device, "resources": r.resources,
                       "memory_bits": r.memory_bits, "transistors": r.transistors,
                       "fmax_mhz": r.fmax_mhz, "fits": r.fits,
                       "over": {k: list(v) for k, v in r.over.items()}, "notes": r.notes,
                       "seconds": round(r.seconds, 1), "dsp": dsp}
            for r in design.cost(tuple(targets), devices=devices, dsp=dsp,
                                 progress=printer(progress))}


#: ECP5 parts from the smallest: an ``ecp5`` cost takes the first one a design fits.
ECP5_PARTS = ("ecp5-25f", "ecp5-45f", "ecp5-85f")


def cost_smallest(design, targets: Sequence[str], *, devices: dict | None = None,
                  progress: bool = True) -> dict:
    """:func:`cost_records` for ``targets``, an ``ecp5`` target on the smallest of
    :data:`ECP5_PARTS` the design fits (else the last part tried, with a note of what the
    largest lacks), unless ``devices`` names its part (a family there goes on that part). The
    smallest part's synthesis says what the design needs, so that only the first part
    with enough of everything is tried next. A design that fits no part only for want of
    DSP blocks goes again with its multipliers in LUTs (its record says ``"dsp": False``).
    """
    from .devices import get_device
    from .synth import demand, shortfall
    devices = devices or {}
    others = [t for t in targets if t != "ecp5" or "ecp5" in devices]
    cost = cost_records(design, others, devices=devices, progress=progress) if others else {}
    if "ecp5" not in targets or "ecp5" in devices:
        return cost
    for dsp in (True, False):
        parts = list(ECP5_PARTS)
        while parts:
            cost.update(cost_records(design, ("ecp5",), devices={"ecp5": parts.pop(0)}, dsp=dsp,
                                     progress=progress))
            if cost["ecp5"]["fits"]:
                return cost
            need = demand("ecp5", cost["ecp5"]["resources"])
            # Place and route may still refuse a part the counts fit: then the next one.
            parts = [p for p in parts if not shortfall(need, get_device(p))]
        largest = shortfall(need, get_device(ECP5_PARTS[-1]))
        cost["ecp5"]["notes"] = cost["ecp5"]["notes"] + [
            f"fits no ECP5 part{'' if dsp else ' with multipliers in LUTs'}: the largest, "
            f"{ECP5_PARTS[-1]}, is short of " + ", ".join(f"{k} {n}/{a}" for k, (n, a)
                                                          in largest.items())]
        if set(largest) != {"dsp"}:
            break
    return cost


def publish(out: Path, stem: str, results: dict, render) -> None:
    """A benchmark's results as ``<stem>.json`` (strict JSON) and ``<stem>.md``
    (``render(results)``) in ``out``, and the Markdown on stdout."""
    out.mkdir(parents=True, exist_ok=True)
    jsonfile.write(out / f"{stem}.json", results, indent=2)
    markdown = render(results)
    (out / f"{stem}.md").write_text(markdown)
    print(markdown, end="")


def main_quick(description: str, stem: str, run, render, argv=None) -> int:
    """The command line of a benchmark with a ``--quick`` switch and an ``--out`` folder:
    ``run(quick=..., done=...)`` publishes ``<stem>`` after every finished record."""
    import argparse
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="generic synthesis only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    run(quick=args.quick, done=lambda report: publish(args.out, stem, report, render))
    return 0


def write_json(path: Path, data) -> Path:
    """Write ``data`` as sorted, indented JSON (NaN and infinities refused: strict JSON)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return jsonfile.write(path, data, indent=2, sort_keys=True)


def number_type(convert, accepts, phrase: str):
    """An argparse ``type``: ``convert(text)`` where ``accepts`` it, else one error naming the
    text (``must be <phrase>, got '<text>'``), a text ``convert`` cannot read included."""
    import argparse

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accepts(value):
            raise argparse.ArgumentTypeError(f"must be {phrase}, got {text!r}")
        return value
    return parse


#: argparse ``type`` for a count.
positive_int = number_type(int, lambda v: v >= 1, "a positive integer")
#: argparse ``type`` for a count that may be 0.
count_int = number_type(int, lambda v: v >= 0, "an integer of at least 0")
#: argparse ``type`` for a rate or a weight (> 0; NaN refused).
positive_float = number_type(float, lambda v: v > 0, "a positive number")
#: argparse ``type`` for a weight decay (>= 0).
non_negative_float = number_type(float, lambda v: v >= 0, "a number >= 0")
#: argparse ``type`` for a weight in [0, 1].
unit_float = number_type(float, lambda v: 0 <= v <= 1, "a number in [0, 1]")


def check_variants(names, variants, always: str = "dense") -> list[str]:
    """The names among ``names`` that are keys of ``variants``, in ``variants``' order
    (``always``, the reference every variant is measured against and always run, is
    allowed and dropped).

    Raises
    ------
    ValueError
        For a name that is neither, naming it and the choices.
    """
    names = list(names)
    for n in names:
        if n != always and n not in variants:
            raise ValueError(f"variant must be one of {[always, *variants]}, got {n!r}")
    return [n for n in variants if n in names]


def seed_stats(values) -> dict:
    """Mean, sample std (ddof 1; 0 for one value), min and max of a figure over seeds."""
    import numpy as np
    v = np.asarray(list(values), dtype=float)
    return {"mean": round(float(v.mean()), 6),
            "std": round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 6),
            "min": round(float(v.min()), 6), "max": round(float(v.max()), 6)}


def paired_margin(reference: dict, variant: dict, margin: float) -> dict:
    """Issue 11's margin rule ("met when the mean difference plus its std is inside the
    margin") on seed-paired figures, ``{seed: value}`` each (a variant made from the same
    seed's reference network is paired with it).

    ``difference`` is the mean over the seeds of ``reference - variant`` (equal to the
    difference of the means), ``std`` the sample std of those per-seed differences (0 for
    one seed), and the target is ``met`` when ``difference + std <= margin``.
    ``std_unpaired`` (``sqrt(std_ref**2 + std_var**2)``, the two seed stds combined as if
    independent) is given beside it, for a reader who prefers that reading; it does not
    decide ``met``.

    Raises
    ------
    ValueError
        If the two have different seeds, or none.
    """
    import numpy as np
    if set(reference) != set(variant) or not reference:
        raise ValueError(f"paired_margin needs the same seeds on both sides, got "
                         f"{sorted(reference)} and {sorted(variant)}")
    seeds = sorted(reference)
    ref = np.array([reference[s] for s in seeds], dtype=float)
    var = np.array([variant[s] for s in seeds], dtype=float)
    sd = (lambda v: float(v.std(ddof=1)) if len(v) > 1 else 0.0)
    diff = ref - var
    d, s = float(diff.mean()), sd(diff)
    return {"seeds": seeds, "margin": margin, "difference": round(d, 6), "std": round(s, 6),
            "bound": round(d + s, 6), "met": bool(d + s <= margin + 1e-12),
            "std_unpaired": round(float(np.hypot(sd(ref), sd(var))), 6)}


#: What :func:`paired_margin` decides, as a report's sentence.
PAIRED_MARGIN_RULE = (
    "by issue 11's margin rule on seed-paired differences: per seed, the reference's accuracy "
    "minus the variant's (the variant is made from that seed's dense network); the target is "
    "met when the mean of those differences plus their sample std is within the margin (in "
    "points). Beside it, the mean difference plus the two seed stds combined as if "
    "independent (sqrt(s1^2 + s2^2)), which does not decide.")


def margin_text(m: dict) -> str:
    """A :func:`paired_margin` result in words (accuracy in points): the difference, the
    paired std, the bound against the margin and the verdict in bold."""
    d = 100 * m["difference"]
    return (f"{abs(d):.2f} {'below' if d >= 0 else 'above'}, paired std {100 * m['std']:.2f}: "
            f"{100 * m['bound']:.2f} {'<=' if m['met'] else '>'} {100 * m['margin']:g}: "
            f"**{'met' if m['met'] else 'not met'}** (stds combined unpaired: "
            f"{100 * (m['difference'] + m['std_unpaired']):.2f})")


# -- choosing on validation images (a benchmark's ``--validation``) -----------------------

def add_validation_argument(parser, fit: str = "train") -> None:
    """The ``--validation`` switch: ``fit`` (what the benchmark does on the fit part) on 80 %
    of the training split, scores on the held-out 20 %; the test images are not read."""
    parser.add_argument("--validation", action="store_true",
                        help=f"{fit} on 80 %% of the training split and score on the other "
                             "20 %% (how a schedule is chosen: the test images are not read)")


def digits_for(validation: bool):
    """Digits (:data:`~edgeforge.models.image_sets.DIGITS`), or with ``validation`` its
    training split cut into fit and held-out parts
    (:class:`~edgeforge.models.image_sets.HeldOut`)."""
    from ..models.image_sets import DIGITS, HeldOut
    return HeldOut("digits") if validation else DIGITS


def data_record(data) -> dict:
    """What a results file says of the images it trained and scored on: ``split`` (the
    rule), ``data``, ``validation`` (scored on held-out training images, not the test
    split), ``train_images`` and ``test_images`` (the scored ones)."""
    from ..models.image_sets import HeldOut
    return {"split": data.split_rule, "data": str(data), "validation": isinstance(data, HeldOut),
            "train_images": len(data.load("train")[1]), "test_images": len(data.load("test")[1])}


def scored_images(results: dict) -> str:
    """How a report names the images its accuracies were scored on."""
    return ("held-out validation images (a share of the training split; the test images "
            "are not read)" if results.get("validation") else "test images")
