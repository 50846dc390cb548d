"""HKLUT engine benchmark: measured vs predicted cycles, latency, Verilator time, area and Fmax.

For each engine config (reads per table per stage, output pixels per beat) it
generates the HKLUT-S x4 engine for a ``64 x 64`` RGB frame with seeded random
tables (timing and area do not depend on the table values), runs it in cocotb
on Verilator without pauses and under random valid gaps and ready backpressure
(every beat checked against the golden model), and compares the measured
cycles with the cycle model (``edgeforge.sim.cycles.hklut``). With ``--cost``
it also synthesises for yosys' generic flow, ECP5 and iCE40 (``Design.cost``; place
and route only where the design fits the part).

Run::

    python -m edgeforge.bench.hklut_hw [--cost] [--size 64]
    python -m edgeforge.bench.hklut_hw --fmax 2,2:2@ecp5-25f [--width 480 --height 270]
                                       [--buffer-ram block] [--rgb-lanes]
    python -m edgeforge.bench.hklut_hw --full-rate [--size 128]

Writes ``bench/results/hklut_hw.json`` and ``.md``. ``--fmax`` synthesises one
config for one ECP5 part only (no simulation) and adds or replaces its row in the
results' ``fmax`` list, keeping the rest of the file. ``--full-rate`` measures the
full-rate config (R = 4,16, P = 16) on a ``128 x 128`` RGB frame: LR pixels per
cycle sustained in Verilator, generic area, and ECP5 fit on the largest part; it
replaces the results' ``full_rate`` entry.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..artifact import Artifact
from ..hw.hklut.design import HKLUTDesign
from ..hw.logic import BUFFER_RAM
from ..schemes.hklut import HKLUTConfig

__all__ = ["CONFIGS", "FULL_RATE", "run", "fmax", "full_rate", "render_markdown", "main"]

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
COMMAND = "python -m edgeforge.bench.hklut_hw"
# (reads per table per stage, output pixels per beat): the three required configs.
CONFIGS = (((1, 1), 1), ((2, 2), 2), ((2, 4), 4))
# One LR pixel a cycle: every rotation of 4 stage-2 pixels a cycle, 16 output pixels a beat.
FULL_RATE = ((4, 16), 16)
# The largest ECP5 part (208 DP16KD): the full-rate tables do not fit even there.
LARGEST_ECP5 = "ecp5-85f"
# The engine's generator sources: a result names the last commit that changed them.
ENGINE_PATHS = ("hw/hklut", "hw/logic.py")
SEED = 0


def _artifact() -> Artifact:
    config = HKLUTConfig()
    rng = np.random.default_rng(SEED)
    tables = {name: rng.integers(-128, 128, size=(k.entries, r, r)).astype(np.int8)
              for name, _, _, k, r in config.tables()}
    return Artifact("hklut", config.to_dict(), tables, provenance={"source": "random", "seed": SEED})


def _image(size: int) -> np.ndarray:
    """The seeded random RGB frame every run measures."""
    return np.random.default_rng(SEED + 1).integers(0, 256, size=(size, size, 3), dtype=np.uint8)


def _printer(progress: bool):
    """Progress lines to stderr, or None when quiet (``Design.cost`` takes either)."""
    return (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else None


def _measure(design: HKLUTDesign, image: np.ndarray) -> dict:
    planes = design.planes_per_image
    t0 = time.monotonic()
    result = design.verify([image], pauses="none:none,random:random", seed=SEED)
    first = time.monotonic() - t0
    if not result.passed:
        raise RuntimeError(f"{design.name}: RTL differs from golden: {result.failures[:3]}")
    # The same run again on the cached build: simulation time alone.
    t0 = time.monotonic()
    design.verify([image], pauses="none:none", seed=SEED)
    sim_only = time.monotonic() - t0
    model = design.cycles()
    free = result.measurements["stream/src=none/sink=none"]
    paused = result.measurements["stream/src=random/sink=random"]
    # The testbench counts edges from reset release, one before the first input transfer.
    predicted = model.total_cycles(planes) + 1
    pixels = planes * design.width * design.height
    return {
        "cycles_predicted": predicted,
        "cycles_measured": free["cycles"],
        "error_pct": round(100 * (free["cycles"] - predicted) / predicted, 3),
        "cycles_per_input_pixel_measured": round(free["cycles"] / pixels, 4),
        "steady_cycles_per_input": free["steady_cycles_per_input"],
        "cycles_per_input_pixel_steady_predicted": model.cycles_per_input_pixel,
        "cycles_per_input_pixel_asymptotic": model.asymptotic_cycles_per_input_pixel,
        "latency_cycles_predicted": model.latency_cycles,
        "bottleneck": model.bottleneck,
        "cycles_with_backpressure": paused["cycles"],
        "output_stall_cycles_with_backpressure": paused["output_stall_cycles"],
        "verilator_build_and_runs_s": round(first, 1),
        "verilator_run_s": round(sim_only, 1),
        "traffic_per_input_pixel": model.traffic_per_input_pixel,
    }


def _cost(design: HKLUTDesign, progress) -> dict:
    out = {}
    for res in design.cost(("generic", "ecp5", "ice40"), progress=progress):
        out[res.target] = {"device": res.device, "resources": res.resources,
                           "memory_bits": res.memory_bits, "fmax_mhz": res.fmax_mhz,
                           "fits": res.fits, "over": res.over, "seconds": round(res.seconds, 1)}
    return out


def run(size: int = 64, *, cost: bool = False, configs=CONFIGS, progress: bool = True) -> dict:
    """Measure every config; return the results as plain data."""
    printer = _printer(progress)
    say = printer or (lambda msg: None)
    engine = _engine_commit()     # before the long run: the tree may move meanwhile
    artifact = _artifact()
    image = _image(size)
    rows = []
    for reads, lanes in configs:
        design = HKLUTDesign(artifact, width=size, height=size, reads_per_table=reads,
                             out_pixels=lanes, channels=3)
        say(f"[hklut_hw] {design.slug}: build + cocotb runs ...")
        t0 = time.monotonic()
        row = {"reads_per_table": list(reads), "out_pixels": lanes, **_measure(design, image)}
        if cost:
            say(f"[hklut_hw] {design.slug}: synthesis ...")
            row["cost"] = _cost(design, printer)
        say(f"[hklut_hw] {design.slug}: done in {time.monotonic() - t0:.0f} s")
        rows.append(row)
    return {"command": COMMAND + (" --cost" if cost else "") + (f" --size {size}" if size != 64 else ""),
            "image": f"{size}x{size} RGB (3 planes streamed back to back), seeded random",
            "tables": "HKLUT-S x4 layout, seeded random int8 (timing and area do not depend on values)",
            "simulator": "Verilator (cocotb 2.x)", "engine_commit": engine, "rows": rows}


def _engine_commit() -> str | None:
    """The last commit that changed the engine's sources (which engine a row measured), with
    ``+dirty`` when the working tree changes it; None outside a git checkout."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%h", "--", *ENGINE_PATHS], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *ENGINE_PATHS],
                               cwd=REPO).returncode
    except (OSError, subprocess.CalledProcessError):
        return None
    return (out + ("+dirty" if dirty else "")) or None


def fmax(reads, lanes: int, part: str, width: int, height: int, *, buffer_ram: str = "auto",
         rgb_lanes: bool = False, progress: bool = True) -> dict:
    """Synthesise one config for one ECP5 part; return its area, Fmax and fit."""
    engine = _engine_commit()     # before the long run: the tree may move meanwhile
    design = HKLUTDesign(_artifact(), width=width, height=height, reads_per_table=tuple(reads),
                         out_pixels=lanes, channels=3, rgb_lanes=rgb_lanes,
                         buffer_ram=buffer_ram)
    res, = design.cost(("ecp5",), devices={"ecp5": part}, progress=_printer(progress))
    model = design.cycles()
    return {"reads_per_table": list(reads), "out_pixels": lanes, "width": width, "height": height,
            "buffer_ram": buffer_ram, "rgb_lanes": rgb_lanes, "device": res.device,
            "resources": res.resources, "fmax_mhz": res.fmax_mhz,
            "fits": res.fits, "over": {k: list(v) for k, v in res.over.items()},
            "notes": res.notes, "seconds": round(res.seconds, 1),
            "cycles_per_input_pixel_predicted": model.cycles_per_input_pixel,
            "engine_commit": engine,
            "command": f"{COMMAND} --fmax {','.join(map(str, reads))}:{lanes}@{part} "
                       f"--width {width} --height {height}"
                       + ("" if buffer_ram == "auto" else f" --buffer-ram {buffer_ram}")
                       + (" --rgb-lanes" if rgb_lanes else "")}


def full_rate(size: int = 128, *, progress: bool = True) -> dict:
    """Measure the full-rate config: LR pixels per cycle in Verilator, generic area, ECP5 fit."""
    printer = _printer(progress)
    say = printer or (lambda msg: None)
    (reads, lanes) = FULL_RATE
    engine = _engine_commit()     # before the long run: the tree may move meanwhile
    design = HKLUTDesign(_artifact(), width=size, height=size, reads_per_table=reads,
                         out_pixels=lanes, channels=3)
    say(f"[hklut_hw] {design.slug}: build + cocotb runs ...")
    row = {"reads_per_table": list(reads), "out_pixels": lanes, "width": size, "height": size,
           **_measure(design, _image(size))}
    # Sustained rate: input transfers over the three planes streamed back to back (the
    # line buffers' slack is a few rows of 3 * size).
    row["lr_pixels_per_cycle_sustained"] = round(1 / row["steady_cycles_per_input"], 4)
    row["lr_pixels_per_cycle_whole_run"] = round(3 * size * size / row["cycles_measured"], 4)
    say(f"[hklut_hw] {design.slug}: synthesis (generic, {LARGEST_ECP5}) ...")
    generic, ecp5 = design.cost(("generic", "ecp5"), devices={"ecp5": LARGEST_ECP5},
                                progress=printer)
    row["generic"] = {"resources": generic.resources, "memory_bits": generic.memory_bits,
                      "transistors": generic.transistors, "seconds": round(generic.seconds, 1)}
    row["ecp5"] = {"device": ecp5.device, "resources": ecp5.resources, "fits": ecp5.fits,
                   "over": {k: list(v) for k, v in ecp5.over.items()},
                   "fmax_mhz": ecp5.fmax_mhz, "seconds": round(ecp5.seconds, 1)}
    row["engine_commit"] = engine
    row["command"] = f"{COMMAND} --full-rate" + (f" --size {size}" if size != 128 else "")
    return row


def _render_full_rate(r: dict) -> list[str]:
    g, e = r["generic"], r["ecp5"]
    over = "; ".join(f"{k} needs {need}, has {have}" for k, (need, have) in e["over"].items())
    return ["", f"## Full rate (R = {','.join(map(str, r['reads_per_table']))}, "
            f"P = {r['out_pixels']}) on {r['width']}x{r['height']} RGB", "",
            f"Command: `{r['command']}` (engine {r.get('engine_commit')})", "",
            "| LR px/cycle sustained | whole run (3 planes, incl. fill) | cycles measured "
            "| predicted | error % | cycles w/ backpressure | Verilator run s | build+runs s |",
            "|---|---|---|---|---|---|---|---|",
            f"| {r['lr_pixels_per_cycle_sustained']} | {r['lr_pixels_per_cycle_whole_run']} "
            f"| {r['cycles_measured']} | {r['cycles_predicted']} | {r['error_pct']} "
            f"| {r['cycles_with_backpressure']} | {r['verilator_run_s']} "
            f"| {r['verilator_build_and_runs_s']} |", "",
            f"Generic synthesis (yosys, memories kept as memory cells): "
            f"{g['resources'].get('gates', '-')} gates, {g['resources'].get('ff', '-')} FF, "
            f"{g['memory_bits']} memory bits ({g['memory_bits'] / 8 / 1024:.0f} KiB), CMOS "
            f"transistor estimate for the logic {g['transistors']}.", "",
            f"ECP5 on the largest part ({e['device']}): "
            + ("fits" if e["fits"] else f"does not fit ({over})")
            + f"; LUT4 {e['resources'].get('lut4', '-')}, FF {e['resources'].get('ff', '-')}, "
            f"DP16KD {e['resources'].get('bram', '-')}.", ""]


def _fits(result: dict) -> str:
    """A table cell: whether a result fits its part, and what it is short of."""
    over = "; ".join(f"{k} {need}/{have}" for k, (need, have) in result.get("over", {}).items())
    return f"{result.get('fits')}{' (' + over + ')' if over else ''}"


def _render_fmax(rows: list[dict]) -> list[str]:
    lines = ["", "## ECP5 Fmax per config and part (`--fmax`, synthesis only)", "",
             "Output pixels/s at Fmax = Fmax / (predicted cycles per LR pixel) x 16, per channel. "
             "RGB frames/s at Fmax = Fmax / (cycles per LR pixel x LR pixels x frames per image: "
             "3 planes, or 1 with RGB lanes), steady state (each frame's fill adds ~0.2 % at "
             "480x270). Engine: the last commit that changed the engine sources (hw/hklut, "
             "hw/logic.py) when the row was measured.", "",
             "| R per stage | P | LR size | RGB as | buffers | part | LUT4 | FF | LUT RAM | DP16KD "
             "| DSP | Fmax MHz | fits | cyc/LR px | Mpx/s out at Fmax | RGB frames/s "
             "| engine | command |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        res, f = r["resources"], r["fmax_mhz"]
        cycles = r["cycles_per_input_pixel_predicted"]
        frames = 1 if r.get("rgb_lanes") else 3
        rate = "-" if f is None else f"{f / cycles * 16:.1f}"
        fps = "-" if f is None else f"{f * 1e6 / (cycles * r['width'] * r['height'] * frames):.1f}"
        lines.append(
            f"| {','.join(map(str, r['reads_per_table']))} | {r['out_pixels']} "
            f"| {r['width']}x{r['height']} | {'lanes' if r.get('rgb_lanes') else 'planes'} "
            f"| {r.get('buffer_ram', 'auto')} | {r['device']} | {res.get('lut4', '-')} "
            f"| {res.get('ff', '-')} | {res.get('lutram', '-')} | {res.get('bram', '-')} "
            f"| {res.get('dsp', '-')} | {'-' if f is None else round(f, 1)} "
            f"| {_fits(r)} | {cycles:.4f} | {rate} | {fps} | {r.get('engine_commit')} | `{r['command']}` |")
    return lines


def render_markdown(report: dict) -> str:
    lines = ["# HKLUT engine: cycles, latency, Verilator time" +
             (", area and Fmax" if any("cost" in r for r in report["rows"]) else ""), "",
             f"Command: `{report['command']}` (engine {report.get('engine_commit', '-')})", "",
             f"Image: {report['image']}. Tables: {report['tables']}.", "",
             "| R per stage | P | cycles measured | predicted | error % | cyc/px (asymptotic) "
             "| latency (pred.) | cycles w/ backpressure | Verilator run s | build+runs s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(
            f"| {','.join(map(str, r['reads_per_table']))} | {r['out_pixels']} "
            f"| {r['cycles_measured']} | {r['cycles_predicted']} | {r['error_pct']} "
            f"| {r['cycles_per_input_pixel_measured']} ({r['cycles_per_input_pixel_asymptotic']}) "
            f"| {r['latency_cycles_predicted']} | {r['cycles_with_backpressure']} "
            f"| {r['verilator_run_s']} | {r['verilator_build_and_runs_s']} |")
    costed = [r for r in report["rows"] if "cost" in r]
    if costed:
        lines += ["", "ECP5: yosys synth_ecp5 + nextpnr-ecp5 on the default part "
                  f"({costed[0]['cost'].get('ecp5', {}).get('device')}); resources as normalised "
                  "by edgeforge.bench.report. Generic: yosys, memories kept as memory cells.", "",
                  "| R per stage | P | LUT4 | FF | LUT RAM | block RAM | DSP | Fmax MHz | fits "
                  "| generic gates | generic memory bits |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in costed:
            ecp5, generic = r["cost"].get("ecp5", {}), r["cost"].get("generic", {})
            res = ecp5.get("resources", {})
            fmax = ecp5.get("fmax_mhz")
            lines.append(
                f"| {','.join(map(str, r['reads_per_table']))} | {r['out_pixels']} "
                f"| {res.get('lut4', '-')} | {res.get('ff', '-')} | {res.get('lutram', '-')} "
                f"| {res.get('bram', '-')} | {res.get('dsp', '-')} "
                f"| {'-' if fmax is None else round(fmax, 1)} "
                f"| {_fits(ecp5)} "
                f"| {generic.get('resources', {}).get('gates', '-')} | {generic.get('memory_bits')} |")
    iced = [r for r in costed if "ice40" in r["cost"]]
    if iced:
        lines += ["", f"iCE40 ({iced[0]['cost']['ice40'].get('device')}): yosys synth_ice40; "
                  "nextpnr only where it fits.", "",
                  "| R per stage | P | LUT4 | FF | SB_RAM40_4K | SPRAM | fits |",
                  "|---|---|---|---|---|---|---|"]
        for r in iced:
            ice = r["cost"]["ice40"]
            res = ice.get("resources", {})
            lines.append(
                f"| {','.join(map(str, r['reads_per_table']))} | {r['out_pixels']} "
                f"| {res.get('lut4', '-')} | {res.get('ff', '-')} | {res.get('bram', '-')} "
                f"| {res.get('spram', '-')} | {_fits(ice)} |")
    t = report["rows"][0]["traffic_per_input_pixel"]
    lines += ["", "Traffic per input pixel of one plane (every config): "
              f"off-chip {t['offchip_bytes_in']} B in, {t['offchip_bytes_out']} B out; "
              f"LUT reads {t['lut_reads_total']} ({t['lut_reads']['by_size']}); "
              f"line-buffer writes {t['line_buffer_writes']}, reads {t['line_buffer_reads']:.2f}; "
              f"re-order writes/reads {t['reorder_writes']}.", ""]
    if report.get("full_rate"):
        lines += _render_full_rate(report["full_rate"])
    if report.get("fmax"):
        lines += _render_fmax(report["fmax"]) + [""]
    return "\n".join(lines)


def _parse_fmax(text: str):
    """``"2,2:2@ecp5-25f"`` -> ((2, 2), 2, "ecp5-25f")."""
    try:
        config, part = text.split("@")
        reads, lanes = config.split(":")
        return tuple(int(v) for v in reads.split(",")), int(lanes), part
    except ValueError:
        raise argparse.ArgumentTypeError(f"--fmax must look like 2,2:2@ecp5-25f, got {text!r}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="frame side (default 64)")
    parser.add_argument("--cost", action="store_true",
                        help="also synthesise (generic, ECP5, iCE40)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--fmax", type=_parse_fmax, metavar="R1,R2:P@PART",
                        help="synthesise this config for this ECP5 part only")
    parser.add_argument("--width", type=int, default=64, help="--fmax frame width (default 64)")
    parser.add_argument("--height", type=int, default=64, help="--fmax frame height (default 64)")
    parser.add_argument("--buffer-ram", choices=BUFFER_RAM, default="auto",
                        help="--fmax: memory of the line and re-order buffers (default auto)")
    parser.add_argument("--rgb-lanes", action="store_true",
                        help="--fmax: R, G and B through three engines at once")
    parser.add_argument("--full-rate", action="store_true",
                        help="measure the full-rate config (size default 128)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.full_rate:
        report = json.loads((args.out / "hklut_hw.json").read_text())
        report["full_rate"] = full_rate(args.size if args.size != 64 else 128)
    elif args.fmax:
        report = json.loads((args.out / "hklut_hw.json").read_text())
        row = fmax(*args.fmax, args.width, args.height, buffer_ram=args.buffer_ram,
                   rgb_lanes=args.rgb_lanes)
        key = lambda r: (r["reads_per_table"], r["out_pixels"], r["width"], r["height"],
                         r.get("buffer_ram", "auto"), r.get("rgb_lanes", False), r["device"])
        report["fmax"] = [r for r in report.get("fmax", []) if key(r) != key(row)] + [row]
    else:
        old = args.out / "hklut_hw.json"
        kept = json.loads(old.read_text()) if old.exists() else {}
        report = run(args.size, cost=args.cost)
        report.update({k: kept[k] for k in ("fmax", "full_rate") if k in kept})
    (args.out / "hklut_hw.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    (args.out / "hklut_hw.md").write_text(render_markdown(report))
    print(render_markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
