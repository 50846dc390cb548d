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

    python -m edgeforge.bench.network_hw [--quick] [--configs NAME ...]

Writes ``bench/results/network_hw.json`` and ``.md``. ``--quick`` runs the generic
flow only; ``--configs`` measures only the named configs (:data:`CONFIGS`' keys) and
puts their records into the existing report in place of the same configs' (the others
are kept as they were measured, each with its own command and engine commit).
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
from .report import render_runs_markdown, render_synth_sections, render_traffic_markdown

__all__ = ["CONFIGS", "IMAGES", "network_record", "run", "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.network_hw"
ENGINE_PATHS = ("hw/network", "hw/logic.py", "hw/rom.py")
# name: (network, folding, pixels a beat, datapath): smallest (whole vectors between blocks,
# and the narrow datapath: an element a beat, activations in memories), a middle folding,
# the fastest interval at a pixel a beat with the fewest MACs, and the MLP at 8 pixels a
# beat fully parallel.
CONFIGS = {"folded": ("digits-ref", "folded", 1, "wide"),
           "folded-narrow": ("digits-ref", "folded", 1, "narrow"),
           "middle": ("digits-ref", [[2, 3], [4, 8], [4, 8], [5, 4]], 1, "wide"),
           "balanced": ("digits-ref", "balanced", 1, "wide"),
           "mlp": ("digits-mlp", "parallel", 8, "wide")}
# Digits test images each design streams (every one checked bit-exact; the whole test set
# is checked by the tests and `edgeforge evaluate --rtl`).
IMAGES = 32


def _design(key: str):
    name, folding, ppb, datapath = CONFIGS[key]
    return generate(load(PRETRAINED[name]), folding=folding, pixels_per_beat=ppb,
                    datapath=datapath)


def network_record(name: str, art, design, images, *, command: str, quick: bool = False,
                   progress: bool = True) -> dict:
    """One network design's record: the harness's run on ``images`` and its cost (the
    generic flow only when ``quick``; ECP5 on the smallest part it fits), the network's
    figures (``name``, MACs of its layers, test accuracy, array bits) and the energy
    estimate."""
    record = measure(design, images, command=command, engine_paths=ENGINE_PATHS,
                     progress=progress)
    record["cost"] = cost_smallest(design, ("generic",) if quick else
                                   ("generic", "ice40", "ecp5"), progress=progress)
    record["network"] = {"preset": name, "macs": sum(layer_macs(art.config).values()),
                         "accuracy_test": art.provenance.get("float_accuracy"),
                         "weight_bits": sum(art.arrays[k].size * spec.bits
                                            for k, spec in art.specs().items())}
    record["energy"] = estimate(design.cycle_model())
    return record


def run(*, quick: bool = False, configs=tuple(CONFIGS), progress: bool = True, done=None,
        previous: dict | None = None) -> dict:
    """Measure the named ``configs`` (keys of :data:`CONFIGS`); ``done(report)`` is called with
    the report so far after each (a long run leaves its finished rows behind). With a
    ``previous`` report, its records of other configs are kept, in :data:`CONFIGS` order."""
    images = list(load_digits("test")[0][:IMAGES])
    command = COMMAND + (" --quick" if quick else "")
    if tuple(configs) != tuple(CONFIGS):
        command += " --configs " + " ".join(configs)
    kept = {}
    for r in (previous or {}).get("records", []):
        key = r.get("bench_config") or _config_key(r)
        if key is not None:
            kept[key] = {**r, "bench_config": key}
    records = []
    # The previous report's notes stay (they are about the records kept).
    report = {**{k: v for k, v in (previous or {}).items() if k != "records"},
              "images": f"{IMAGES} digits test images per design, each checked bit-exact",
              "records": records}
    for key in configs:
        name = CONFIGS[key][0]
        record = network_record(name, load(PRETRAINED[name]), _design(key), images,
                                command=command, quick=quick, progress=progress)
        record["bench_config"] = key
        kept[key] = record
        records[:] = [kept[k] for k in CONFIGS if k in kept]
        if done is not None:
            done(report)
    return report


def _config_key(record: dict) -> str | None:
    """The :data:`CONFIGS` key of a record written before records named theirs: the config
    whose design has the record's preset, resolved folding, pixels a beat and datapath."""
    c = record["config"]
    for key, (name, _, ppb, datapath) in CONFIGS.items():
        if ((name, ppb, datapath) == (record["network"]["preset"], c["pixels_per_beat"],
                                      c.get("datapath", "wide"))
                and _design(key).folding == c["folding"]):
            return key
    return None


def _label(r: dict) -> str:
    fold = r["config"]["folding"]
    return (f"{r['network']['preset']} "
            + ",".join(f"{pe}x{simd}" for pe, simd in fold)
            + f" @{r['config']['pixels_per_beat']}px {r['config'].get('datapath', 'wide')}")


COLUMNS = [("network, PE x SIMD per layer, pixels a beat, datapath", _label)]


def _per_second(r: dict) -> str:
    fmax = (r["cost"].get("ecp5") or {}).get("fmax_mhz")
    return "-" if fmax is None else f"{fmax / r['performance']['cycles_per_input']:.3f}"


def render_markdown(report: dict) -> str:
    records = report["records"]
    # Records measured by different runs (--configs) say each its command and engine.
    runs: dict[tuple, list[str]] = {}
    for r in records:
        runs.setdefault((r["command"], r.get("engine_commit")), []).append(_label(r))
    commands = "; ".join(f"`{command}` (engine {engine})"
                         + ("" if len(runs) == 1 else f" for {', '.join(labels)}")
                         for (command, engine), labels in runs.items())
    lines = ["# Classifier networks in hardware", "",
             f"Command{'s' if len(runs) > 1 else ''}: {commands}. "
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
    lines += render_synth_sections(records, COLUMNS, (
        ("ice40", "iCE40 (yosys synth_ice40, nextpnr-ice40 where it fits)"),
        ("ecp5", "ECP5 (synth_ecp5, nextpnr-ecp5 on the smallest part it fits)"),
        ("generic", "Generic (yosys, memories kept as memory cells)")))
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
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS),
                        metavar="NAME", help=f"configs to measure, of {', '.join(CONFIGS)} "
                                             "(default: all); the report keeps the others'")
    args = parser.parse_args(argv)
    previous = None
    if tuple(args.configs) != tuple(CONFIGS) and (args.out / "network_hw.json").exists():
        import json
        previous = json.loads((args.out / "network_hw.json").read_text())
    run(quick=args.quick, configs=tuple(args.configs), previous=previous,
        done=lambda report: publish(args.out, "network_hw", report, render_markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
