"""PECAN-A next to PECAN-D in hardware, at the same folding: what the multiplier-free step buys.

Both on the shipped digits-ref's shape (``models/network/pretrained``) with every conv and
linear recast as the transform kind (:func:`~edgeforge.schemes.network.with_transform`: a
group per tap of a conv, groups of 4 of a linear, 8 prototypes, 8-bit tables; PECAN-A with
8-bit codebooks, a 32-entry 8-bit exp table and a 12-bit reciprocal) and seeded random
integers (the trained PECAN model side is not in this bench: the figures are the
hardware's, not accuracy), each through the one harness (``bench/harness.py``): cocotb on
Verilator on digits test images, bit-exact against the golden model and cycle-exact
against the cycle model, then yosys and nextpnr (generic, iCE40 UP5K, ECP5 on the smallest
part it fits). Operations an image come from the cycle model (PECAN-A's softmax lines
apart from the paper's Table 1 count).

Run::

    python -m edgeforge.bench.pecan_a_hw [--quick]

Writes ``bench/results/pecan_a_hw.json`` and ``.md``. ``--quick``: ECP5 only (on the smallest
part the design fits: LUT4, DSP, Fmax), no generic or iCE40 synthesis. Energy per image is estimated from the
cycle model's counts (:func:`edgeforge.bench.energy.estimate`), not measured.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .. import generate, load
from ..models.data_digits import load_digits
from ..models.network import PRETRAINED
from ..schemes.network import random_artifact, with_transform
from .energy import estimate
from .harness import RESULTS, cost_smallest, measure, publish
from .report import folding_label, render_runs_markdown, render_synth_sections

__all__ = ["CONFIGS", "pecan_config", "operation_counts", "run", "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.pecan_a_hw"
ENGINE_PATHS = ("hw/network", "hw/logic.py", "hw/rom.py")
IMAGES = 8
#: (transform kind, folding): both kinds fully folded (one match unit a layer).
CONFIGS = (("pecan-d", "folded"), ("pecan-a", "folded"))


def pecan_config(dense: dict, kind: str) -> dict:
    """``dense`` (a network config) with every conv2d / linear a ``kind`` layer."""
    return {"input": dict(dense["input"]), "layers": [
        with_transform(layer, kind) if layer["kind"] in ("conv2d", "linear") else dict(layer)
        for layer in dense["layers"]]}


def operation_counts(design) -> dict:
    """Multiplies and adds an image from the cycle model: all, and the softmax's alone."""
    ops = design.cycle_model().operations
    out = {"mul": 0, "add": 0, "softmax_mul": 0, "softmax_add": 0}
    for o in ops:
        out[o.op] += int(o.count)
        if "softmax" in o.what:
            out[f"softmax_{o.op}"] += int(o.count)
    return out


def run(*, quick: bool = False, configs=CONFIGS, progress: bool = True, done=None) -> dict:
    """Measure every config; ``done(report)`` after each."""
    images = list(load_digits("test")[0][:IMAGES])
    command = COMMAND + (" --quick" if quick else "")
    dense = load(PRETRAINED["digits-ref"]).config
    report = {"images": f"{IMAGES} digits test images per design, each checked bit-exact",
              "records": []}
    for kind, folding in configs:
        design = generate(random_artifact(pecan_config(dense, kind), seed=0), folding=folding)
        record = measure(design, images, command=command, engine_paths=ENGINE_PATHS,
                         progress=progress)
        record["cost"] = cost_smallest(design, ("ecp5",) if quick else
                                       ("generic", "ice40", "ecp5"), progress=progress)
        record["network"] = {"name": f"digits-ref {kind}", "operations": operation_counts(design)}
        record["energy"] = estimate(design.cycle_model())
        report["records"].append(record)
        if done is not None:
            done(report)
    return report


COLUMNS = [("network, folding per layer (groups x prototypes a cycle)", folding_label)]


def render_markdown(report: dict) -> str:
    records = report["records"]
    lines = ["# PECAN-A and PECAN-D in hardware", "",
             f"Command: `{records[0]['command']}` (engine {records[0].get('engine_commit')}). "
             f"{report['images']}; random integers (hardware figures only).", ""]
    lines += render_runs_markdown(records, COLUMNS)
    lines += ["", "| network | multiplies an image | adds an image | of which softmax "
              "(mul / add) | cycles per image | energy an image (estimated, pJ) |",
              "|---|---:|---:|---:|---:|---:|"]
    for r in records:
        o = r["network"]["operations"]
        lines.append(f"| {folding_label(r)} | {o['mul']} | {o['add']} | {o['softmax_mul']} / "
                     f"{o['softmax_add']} | {r['performance']['cycles_per_input']} | "
                     f"{r['energy']['pj']['total']:.0f} |")
    lines += render_synth_sections(records, COLUMNS,
                                   [(t, t) for t in ("generic", "ice40", "ecp5")])
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """``python -m edgeforge.bench.pecan_a_hw [--quick] [--out DIR]``."""
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="ECP5 only (smallest part that fits), no generic or iCE40")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    run(quick=args.quick, done=lambda report: publish(args.out, "pecan_a_hw", report,
                                                      render_markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
