"""Classifier networks in hardware: cycles, area, Fmax, inferences/s and estimated energy.

For the shipped digits networks (``models/network/pretrained``) at the foldings issue 11
names, each design goes through the one harness (``bench/harness.py``): cocotb on
Verilator on digits test images, bit-exact against the golden model and cycle-exact
against the cycle model, then yosys and nextpnr for the generic flow, the iCE40 UP5K and
the ECP5. An ECP5 row takes the smallest part it fits (25F, else 45F, else 85F).

Energy per inference is estimated from the cycle model's operation and access counts
(:func:`edgeforge.bench.energy.estimate`: Horowitz, ISSCC 2014, 45 nm, by the
conventions of ``shared/notes/energy.md``), never measured.

Run::

    python -m edgeforge.bench.network_hw [--quick]

Writes ``bench/results/network_hw.json`` and ``.md``. ``--quick`` runs the generic
flow only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import generate, load
from ..models.data_digits import load_digits
from ..models.network import PRETRAINED
from ..models.network.zoo import layer_macs
from .energy import estimate
from .harness import RESULTS, cost_smallest, measure, publish
from .report import render_runs_markdown, render_synth_markdown, render_traffic_markdown

__all__ = ["CONFIGS", "run", "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.network_hw"
ENGINE_PATHS = ("hw/network", "hw/logic.py", "hw/rom.py")
# (network, folding, pixels a beat): smallest, a middle folding, the fastest interval at a
# pixel a beat with the fewest MACs, and the MLP at 8 pixels a beat fully parallel.
CONFIGS = (("digits-ref", "folded", 1), ("digits-ref", [[2, 3], [4, 8], [4, 8], [5, 4]], 1),
           ("digits-ref", "balanced", 1), ("digits-mlp", "parallel", 8))
# Digits test images each design streams (every one checked bit-exact; the whole test set
# is checked by the tests and `edgeforge evaluate --rtl`).
IMAGES = 32


def run(*, quick: bool = False, configs=CONFIGS, progress: bool = True, done=None) -> dict:
    """Measure every config; ``done(report)`` is called with the report so far after each
    (a long run leaves its finished rows behind)."""
    images = list(load_digits("test")[0][:IMAGES])
    command = COMMAND + (" --quick" if quick else "")
    records = []
    report = {"images": f"{IMAGES} digits test images per design, each checked bit-exact",
              "records": records}
    for name, folding, ppb in configs:
        art = load(PRETRAINED[name])
        design = generate(art, folding=folding, pixels_per_beat=ppb)
        record = measure(design, images, command=command, engine_paths=ENGINE_PATHS,
                         progress=progress)
        record["cost"] = cost_smallest(design, ("generic",) if quick else
                                       ("generic", "ice40", "ecp5"), progress=progress)
        record["network"] = {"preset": name, "macs": sum(layer_macs(art.config).values()),
                             "accuracy_test": art.provenance.get("float_accuracy"),
                             "weight_bits": sum(
                                 art.arrays[k].size * spec.bits
                                 for k, spec in art.specs().items())}
        record["energy"] = estimate(design.cycle_model())
        records.append(record)
        if done is not None:
            done(report)
    return report


def _label(r: dict) -> str:
    fold = r["config"]["folding"]
    return (f"{r['network']['preset']} "
            + ",".join(f"{pe}x{simd}" for pe, simd in fold)
            + f" @{r['config']['pixels_per_beat']}px")


COLUMNS = [("network, PE x SIMD per layer, pixels a beat", _label)]


def _per_second(r: dict) -> str:
    fmax = (r["cost"].get("ecp5") or {}).get("fmax_mhz")
    return "-" if fmax is None else f"{fmax / r['performance']['cycles_per_input']:.3f}"


def render_markdown(report: dict) -> str:
    records = report["records"]
    lines = ["# Classifier networks in hardware", "",
             f"Command: `{records[0]['command']}` (engine {records[0].get('engine_commit')}). "
             f"{report['images']}; cycles run from the first input transfer through the last "
             "output transfer (without pauses `Design.verify` holds them equal to the model).",
             ""]
    lines += render_runs_markdown(records, COLUMNS)
    summary = [[_label(r), r["network"]["macs"], r["network"]["weight_bits"],
                r["performance"]["cycles_per_input"], _per_second(r),
                f"{r['energy']['pj']['on_chip']:.0f}", f"{r['energy']['pj']['total']:.0f}"]
               for r in records]
    lines += ["", "M inferences/s at the ECP5 Fmax = Fmax / model cycles per image (steady "
              "state); energy per inference estimated from counts (below), not measured.", ""]
    lines += (["| network | MACs per inference | weight and bias bits | cycles per image "
               "| M inferences/s at ECP5 Fmax | est. pJ on chip | est. pJ with off-chip |",
               "|---|---|---|---|---|---|---|"]
              + ["| " + " | ".join(str(v) for v in row) + " |" for row in summary])
    for target, title in (("ice40", "iCE40 (yosys synth_ice40, nextpnr-ice40 where it fits)"),
                          ("ecp5", "ECP5 (synth_ecp5, nextpnr-ecp5 on the smallest part it "
                                   "fits)"),
                          ("generic", "Generic (yosys, memories kept as memory cells)")):
        table = render_synth_markdown(records, target, COLUMNS)
        if len(table) > 2:
            lines += ["", title, ""] + table
    lines += ["", "Memory traffic per image (model; measured equal in Amaranth's simulator by "
              "the tests): reads / writes (word bits).", ""]
    lines += render_traffic_markdown(records, _label)
    lines += ["", f"Energy lines of {_label(records[0])} ({records[0]['energy']['source']}; "
              f"{records[0]['energy']['assumptions']}):", "",
              "| what | count | pJ each | pJ |", "|---|---:|---:|---:|"]
    lines += [f"| {l['what']} | {l['count']:g} | {l['pj_each']:.3g} | {l['pj']:.1f} |"
              for l in records[0]["energy"]["lines"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="generic synthesis only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    run(quick=args.quick, done=lambda report: publish(args.out, "network_hw", report,
                                                       render_markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
