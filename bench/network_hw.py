"""Classifier networks in hardware: cycles, area, Fmax, inferences/s and estimated energy.

For the shipped digits networks (``models/network/pretrained``) at the foldings issue 11
names, each design goes through the one harness (``bench/harness.py``): cocotb on
Verilator on digits test images, bit-exact against the golden model and cycle-exact
against the cycle model, then yosys and nextpnr for the generic flow, the iCE40 UP5K and
the ECP5. An ECP5 row takes the smallest part it fits (25F, else 45F, else 85F).

Energy per inference is estimated from operation and access counts (Horowitz, ISSCC
2014, 45 nm, by the conventions of ``shared/notes/energy.md``), never measured: every
MAC as a multiply of weight by activation bits plus an add of the accumulator's width,
every weight and bias ROM read (the record's traffic lines) at the SRAM figure of the
layer's weight array, the off-chip bytes in and out at the DRAM figure.

Run::

    python -m edgeforge.bench.network_hw [--quick] [--configs NAME ...]

Writes ``bench/results/network_hw.json`` and ``.md``. ``--quick`` runs the generic
flow only; ``--configs`` measures only the named configs (:data:`CONFIGS`' keys) and
puts their records into the existing report in place of the same configs' (the others
are kept as they were measured, each with its own engine commit).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import generate, load
from ..models.data_digits import load_digits
from ..models.network import PRETRAINED
from ..models.network.zoo import layer_macs
from ..schemes.network import derive_widths, parse_network
from .energy import SOURCE, EnergyLine, add_pj, dram_pj, mul_pj, sram_read_pj
from .harness import RESULTS, cost_records, measure, publish
from .report import render_runs_markdown, render_synth_markdown, render_traffic_markdown

__all__ = ["CONFIGS", "ECP5_PARTS", "run", "energy", "render_markdown", "main"]

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
ECP5_PARTS = ("ecp5-25f", "ecp5-45f", "ecp5-85f")
# Digits test images each design streams (every one checked bit-exact; the whole test set
# is checked by the tests and `edgeforge evaluate --rtl`).
IMAGES = 32


def energy(design) -> dict:
    """Estimated energy per inference, with the counts it rests on."""
    art, network = design.artifact, design.network
    widths = derive_widths(network, art.arrays)
    perf = design.cycle_model()
    lines = []
    for index, macs in layer_macs(art.config).items():
        layer = art.config["layers"][index]
        w = widths.layers[index]
        act_bits = w.in_bits[0]
        lines.append(EnergyLine(f"layer {index} MACs ({layer['weight_bits']}x{act_bits}-bit "
                                f"multiply, {w.acc_bits}-bit add)", macs,
                                mul_pj(layer["weight_bits"], act_bits) + add_pj(w.acc_bits)))
    for t in perf.traffic:
        # Weight and bias ROMs are sized by the layer's arrays; a line buffer by nothing the
        # record holds: it is costed at the smallest SRAM row (8 KB), which is also the row
        # of every array here.
        index, _, kind = t.memory.partition("_")
        layer = art.config["layers"][int(index.lstrip("l"))]
        if kind.endswith("weights"):
            nbytes = art.arrays[f"{index}_weight"].size * layer["weight_bits"] // 8
        elif kind.endswith("biases"):
            nbytes = art.arrays[f"{index}_bias"].size * layer["bias_bits"] // 8
        else:
            nbytes = None
        buffer = "line buffer" if t.memory.endswith(".rows") else "buffer"
        where = f"{buffer} at the 8 KB row" if nbytes is None else f"{nbytes} B array"
        for what, count in (("reads", t.reads), ("writes", t.writes)):
            if count:
                lines.append(EnergyLine(f"{t.memory} {what} ({t.word_bits}-bit word, {where})",
                                        count, sram_read_pj(nbytes or 1, t.word_bits)))
    lines.append(EnergyLine("off-chip bytes in (DRAM)", perf.offchip_bytes_in, dram_pj(1)))
    lines.append(EnergyLine("off-chip bytes out (DRAM)", perf.offchip_bytes_out, dram_pj(1)))
    off = sum(l.pj for l in lines if l.what.startswith("off-chip"))
    total = sum(l.pj for l in lines)
    return {"source": SOURCE, "lines": [l.to_dict() for l in lines],
            "pj_on_chip": total - off, "pj_off_chip": off, "pj_total": total}


def _cost_targets(design, quick: bool, progress: bool) -> dict:
    """Synthesis: generic and iCE40 UP5K, and the smallest ECP5 the design fits."""
    if quick:
        return cost_records(design, ("generic",), progress=progress)
    cost = cost_records(design, ("generic", "ice40"), progress=progress)
    for part in ECP5_PARTS:
        cost.update(cost_records(design, ("ecp5",), devices={"ecp5": part}, progress=progress))
        if cost["ecp5"]["fits"]:
            break
    return cost


def run(*, quick: bool = False, configs=tuple(CONFIGS), progress: bool = True, done=None,
        previous: dict | None = None) -> dict:
    """Measure the named ``configs`` (keys of :data:`CONFIGS`); ``done(report)`` is called with
    the report so far after each (a long run leaves its finished rows behind). With a
    ``previous`` report, its records of other configs are kept, in :data:`CONFIGS` order."""
    images = list(load_digits("test")[0][:IMAGES])
    command = COMMAND + (" --quick" if quick else "")
    if configs != tuple(CONFIGS):
        command += " --configs " + " ".join(configs)
    kept = {}
    for r in (previous or {}).get("records", []):
        key = r.get("bench_config") or _config_key(r)
        if key is not None:
            kept[key] = r
    records = []
    # The previous report's notes stay (they are about the records kept).
    report = {**{k: v for k, v in (previous or {}).items() if k != "records"},
              "images": f"{IMAGES} digits test images per design, each checked bit-exact",
              "records": records}
    for key in configs:
        name, folding, ppb, datapath = CONFIGS[key]
        art = load(PRETRAINED[name])
        design = generate(art, folding=folding, pixels_per_beat=ppb, datapath=datapath)
        record = measure(design, images, command=command, engine_paths=ENGINE_PATHS,
                         progress=progress)
        record["bench_config"] = key
        record["cost"] = _cost_targets(design, quick, progress)
        record["network"] = {"preset": name, "macs": sum(layer_macs(art.config).values()),
                             "accuracy_test": art.provenance.get("float_accuracy"),
                             "weight_bits": sum(
                                 art.arrays[k].size * spec.bits
                                 for k, spec in art.specs().items())}
        record["energy"] = energy(design)
        kept[key] = record
        records[:] = [kept[k] for k in CONFIGS if k in kept]
        if done is not None:
            done(report)
    return report


def _config_key(record: dict) -> str | None:
    """The :data:`CONFIGS` key of a record written before records named theirs: the config
    whose design has the record's preset, resolved folding, pixels a beat and datapath."""
    c = record["config"]
    for key, (name, folding, ppb, datapath) in CONFIGS.items():
        if (name, ppb, datapath) != (record["network"]["preset"], c["pixels_per_beat"],
                                     c.get("datapath", "wide")):
            continue
        if generate(load(PRETRAINED[name]), folding=folding, pixels_per_beat=ppb,
                    datapath=datapath).folding == c["folding"]:
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
                f"{r['energy']['pj_on_chip']:.0f}", f"{r['energy']['pj_total']:.0f}"]
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
              "reads narrower than 64 bits scaled linearly, an approximation):", "",
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
