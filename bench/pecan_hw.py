"""PECAN-D digits-ref in hardware beside the dense one: cycles, area, DSPs, memory, operations, energy.

The PECAN-D network is trained here (seed 0; the knobs and schedule of
``bench/pecan_accuracy.py``'s from-scratch variant) and goes through the same harness as the
dense networks (:func:`edgeforge.bench.network_hw.network_record`: cocotb on Verilator on 32 digits test
images, bit-exact against the golden model and cycle-exact against the cycle model, then
yosys and nextpnr for the generic flow, the iCE40 UP5K and the smallest ECP5 it fits).

Beside it: the dense digits-ref's folded record from ``bench/results/network_hw.json``
(measured by ``network_hw``), and the operation counts per image: the cycle model's
(:class:`~edgeforge.sim.cycles.record.OperationLine`, every subtract, absolute value, sum,
compare and table add) against the paper's Table 1 formula for PECAN-D, ``D (2 p d +
c_out)`` additions and no multiplication per output position (dense: ``c_in k^2 c_out``
of each). Energy is estimated from the counts (:func:`edgeforge.bench.energy.estimate`),
never measured.

Run::

    python -m edgeforge.bench.pecan_hw [--quick]

Writes ``bench/results/pecan_hw.json`` and ``.md``. ``--quick``: the generic flow only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import generate, load
from ..models.data_digits import load_digits
from ..models.network import PRETRAINED
from ..models.network.export import export_network
from ..models.network.train import TrainConfig, train_network
from ..models.network.zoo import preset, with_transforms
from ..schemes.network import parse_network
from . import network_hw
from .energy import estimate
from .harness import RESULTS, publish
from .pecan_accuracy import PECAN, PECAN_CONFIG

__all__ = ["NAME", "CONFIGS", "train_artifact", "table1_ops", "model_ops", "run",
           "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.pecan_hw"
NAME = "digits-ref/pecan-d"
CONFIGS = ((NAME, "folded", 1),)
SEED = 0


def train_artifact(seed: int = SEED, *, progress: bool = True):
    """The PECAN-D digits-ref of ``pecan_accuracy``'s from-scratch variant at ``seed``."""
    network = with_transforms(preset("digits-ref"), "pecan-d", **PECAN)
    result = train_network(network, TrainConfig(**{**PECAN_CONFIG.to_dict(), "seed": seed}),
                           progress=progress, name=NAME)
    return export_network(result, command=f"{COMMAND} (seed {seed})")


def table1_ops(config: dict) -> dict:
    """Multiplications and additions per image by the paper's Table 1: per output position,
    PECAN-D ``D (2 p d + c_out)`` additions, dense ``c_in k^2 c_out`` of each."""
    net = parse_network(config)
    mul = add = 0
    for layer in net.layers:
        if layer.transform is None:
            continue
        outputs, inputs = layer.transform.size(layer)
        positions = layer.out_shape[1] * layer.out_shape[2] if layer.kind == "conv2d" else 1
        f = layer.fields
        if f["transform"] == "pecan-d":
            add += positions * f["groups"] * (2 * f["prototypes"] * f["group_size"] + outputs)
        else:
            mul += positions * inputs * outputs
            add += positions * inputs * outputs
    return {"mul": mul, "add": add}


def model_ops(performance: dict) -> dict:
    """Multiplications and additions per image in a performance record's operation lines."""
    out = {"mul": 0, "add": 0}
    for line in performance["operations"]:
        out[line["op"]] += int(line["count"])
    return out


def _dense_folded(results_dir: Path) -> dict | None:
    """The dense digits-ref folded record measured by ``network_hw``, with its energy and
    operation counts recomputed by the current estimate (its design regenerated, not run)."""
    path = results_dir / "network_hw.json"
    if not path.exists():
        return None
    from .report import load_json
    for record in load_json(path)["records"]:
        fold, datapath = record["config"]["folding"], record["config"].get("datapath", "wide")
        if (record["network"]["preset"] == "digits-ref" and datapath == "wide"
                and all(f == [1, 1] for f in fold)):
            design = generate(load(PRETRAINED["digits-ref"]), folding="folded")
            record["energy"] = estimate(design.cycle_model())
            record["ops"] = model_ops(design.cycle_model().to_dict())
            record["table1_ops"] = table1_ops(load(PRETRAINED["digits-ref"]).config)
            return record
    return None


def run(*, quick: bool = False, progress: bool = True, done=None,
        results_dir: Path = RESULTS) -> dict:
    """Train the PECAN-D network, measure it at every folding of :data:`CONFIGS` (after each,
    ``done(report)``), and add the dense reference."""
    art = train_artifact(progress=progress)
    images = list(load_digits("test")[0][:network_hw.IMAGES])
    command = COMMAND + (" --quick" if quick else "")
    records = []
    report = {"images": f"{network_hw.IMAGES} digits test images per design, each checked "
                        "bit-exact", "records": records, "dense": _dense_folded(results_dir)}
    for name, folding, ppb in CONFIGS:
        design = generate(art, folding=folding, pixels_per_beat=ppb)
        record = network_hw.network_record(name, art, design, images, command=command,
                                           quick=quick, progress=progress)
        record["ops"] = model_ops(record["performance"])
        record["table1_ops"] = table1_ops(art.config)
        records.append(record)
        if done is not None:
            done(report)
    return report


def _cell(record, target: str, key: str):
    cost = (record or {}).get("cost", {}).get(target) or {}
    return (cost.get("resources") or {}).get(key)


def render_markdown(report: dict) -> str:
    lines = network_hw.render_markdown(report).rstrip("\n").split("\n")
    lines[0] = "# PECAN-D digits-ref in hardware"
    dense, records = report.get("dense"), report["records"]
    lines += ["", "Operations per image: the cycle model's counts (every subtract, absolute "
              "value, sum, compare, table add, requantisation and pooling) and the paper's "
              "Table 1 formula (PECAN-D layers: D (2 p d + c_out) additions a position, no "
              "multiplication; dense layers: c_in k^2 c_out of each).", "",
              "| network | multiplications (model) | additions (model) | multiplications "
              "(Table 1) | additions (Table 1) |", "|---|---:|---:|---:|---:|"]
    for r in records + ([dense] if dense else []):
        label = network_hw._label(r)
        lines.append(f"| {label} | {r['ops']['mul']:,} | {r['ops']['add']:,} | "
                     f"{r['table1_ops']['mul']:,} | {r['table1_ops']['add']:,} |")
    if dense:
        lines += ["", f"Against the dense digits-ref folded (`bench/results/network_hw.json`, "
                  f"measured by `{dense['command']}`; its energy recomputed by the current "
                  "estimate):", "",
                  "| network | cycles per image | iCE40 LUT4 | iCE40 DSP | ECP5 LUT4 | ECP5 DSP "
                  "| est. nJ on chip |", "|---|---:|---:|---:|---:|---:|---:|"]
        for r in records + [dense]:
            cells = [_cell(r, t, k) for t, k in (("ice40", "lut4"), ("ice40", "dsp"),
                                                 ("ecp5", "lut4"), ("ecp5", "dsp"))]
            lines.append(f"| {network_hw._label(r)} | {r['performance']['cycles_per_input']:g} | "
                         + " | ".join("-" if c is None else f"{c:,}" for c in cells)
                         + f" | {r['energy']['pj']['on_chip'] / 1000:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="generic synthesis only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    run(quick=args.quick, done=lambda report: publish(args.out, "pecan_hw", report,
                                                       render_markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
