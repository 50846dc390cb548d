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
import sys
from pathlib import Path

import numpy as np

from ..artifact import Artifact
from ..hw.hklut.design import HKLUTDesign
from ..hw.logic import BUFFER_RAM
from ..schemes.hklut import HKLUTConfig
from .harness import RESULTS, measure, printer, write_json
from .report import (load_json, render_runs_markdown, render_synth_markdown,
                     render_traffic_markdown)

__all__ = ["CONFIGS", "FULL_RATE", "run", "fmax", "full_rate", "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.hklut_hw"
# (reads per table per stage, output pixels per beat): the three required configs.
CONFIGS = (((1, 1), 1), ((2, 2), 2), ((2, 4), 4))
# One LR pixel a cycle: every rotation of 4 stage-2 pixels a cycle, 16 output pixels a beat.
FULL_RATE = ((4, 16), 16)
# The largest ECP5 part (208 DP16KD): the full-rate tables do not fit even there.
LARGEST_ECP5 = "ecp5-85f"
# The engine's generator sources: a record names the last commit that changed them.
ENGINE_PATHS = ("hw/hklut", "hw/line_window.py", "hw/block_reorder.py", "hw/logic.py",
                "hw/rom.py")
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


def run(size: int = 64, *, cost: bool = False, configs=CONFIGS, progress: bool = True) -> dict:
    """Measure every config through the harness; return the results as plain data."""
    artifact, image = _artifact(), _image(size)
    command = COMMAND + (" --cost" if cost else "") + (f" --size {size}" if size != 64 else "")
    records = [measure(HKLUTDesign(artifact, width=size, height=size, reads_per_table=reads,
                                   out_pixels=lanes, channels=3),
                       [image], command=command, engine_paths=ENGINE_PATHS, seed=SEED,
                       targets=("generic", "ecp5", "ice40") if cost else (), progress=progress)
               for reads, lanes in configs]
    return {"image": f"{size}x{size} RGB (3 planes streamed back to back), seeded random",
            "tables": "HKLUT-S x4 layout, seeded random int8 (timing and area do not depend on values)",
            "records": records}


def fmax(reads, lanes: int, part: str, width: int, height: int, *, buffer_ram: str = "auto",
         rgb_lanes: bool = False, progress: bool = True) -> dict:
    """Synthesise one config for one ECP5 part (no simulation); return its record."""
    design = HKLUTDesign(_artifact(), width=width, height=height, reads_per_table=tuple(reads),
                         out_pixels=lanes, channels=3, rgb_lanes=rgb_lanes,
                         buffer_ram=buffer_ram)
    command = (f"{COMMAND} --fmax {','.join(map(str, reads))}:{lanes}@{part} "
               f"--width {width} --height {height}"
               + ("" if buffer_ram == "auto" else f" --buffer-ram {buffer_ram}")
               + (" --rgb-lanes" if rgb_lanes else ""))
    return measure(design, command=command, engine_paths=ENGINE_PATHS, verify=False,
                   targets=("ecp5",), devices={"ecp5": part}, progress=progress)


def full_rate(size: int = 128, *, progress: bool = True) -> dict:
    """The full-rate config: Verilator run, generic area, ECP5 fit on the largest part."""
    (reads, lanes) = FULL_RATE
    design = HKLUTDesign(_artifact(), width=size, height=size, reads_per_table=reads,
                         out_pixels=lanes, channels=3)
    return measure(design, [_image(size)],
                   command=f"{COMMAND} --full-rate" + (f" --size {size}" if size != 128 else ""),
                   engine_paths=ENGINE_PATHS, seed=SEED, targets=("generic", "ecp5"),
                   devices={"ecp5": LARGEST_ECP5}, progress=progress)


# -- rendering (from the results file's records) ---------------------------------------

def _lr_pixels(r: dict) -> int:
    c = r["config"]
    return c["width"] * c["height"] * c["channels"]


CONFIG_COLUMNS = [("R per stage", lambda r: ",".join(map(str, r["config"]["reads_per_table"]))),
                  ("P", lambda r: r["config"]["out_pixels"])]
CYCLE_COLUMNS = [("cycles per LR px (measured, whole run)",
                  lambda r: f"{r['verify']['cycles_measured'] / _lr_pixels(r):.4f}"),
                 ("asymptotic", lambda r: r["performance"]["detail"]
                  ["asymptotic_cycles_per_input_pixel"])]


def _rate(r: dict, per) -> str:
    f = r["cost"]["ecp5"].get("fmax_mhz")
    return "-" if f is None else f"{per(f, r):.1f}"


FMAX_COLUMNS = CONFIG_COLUMNS + [
    ("LR size", lambda r: f"{r['config']['width']}x{r['config']['height']}"),
    ("RGB as", lambda r: "lanes" if r["config"]["rgb_lanes"] else "planes"),
    ("buffers", lambda r: r["config"]["buffer_ram"]),
    ("cycles per LR px (model)",
     lambda r: f"{r['performance']['detail']['cycles_per_input_pixel']:.4f}")]
FMAX_RATES = [
    ("RGB Mpx/s out at Fmax", lambda r: _rate(
        r, lambda f, r: f * r["performance"]["outputs_per_input"]
        / r["performance"]["cycles_per_input"])),
    # Every channel of every HR pixel, whichever engine made it.
    ("channel Mpx/s out at Fmax", lambda r: _rate(
        r, lambda f, r: f * r["config"]["channels"] * r["performance"]["outputs_per_input"]
        / r["performance"]["cycles_per_input"])),
    ("RGB frames/s", lambda r: _rate(r, lambda f, r: f * 1e6 / r["performance"]["cycles_per_input"])),
    ("engine", lambda r: r.get("engine_commit")),
    ("command", lambda r: f"`{r['command']}`")]


def render_markdown(report: dict) -> str:
    records = report["records"]
    costed = [r for r in records if "cost" in r]
    lines = ["# HKLUT engine: cycles, latency, Verilator time" +
             (", area and Fmax" if costed else ""), "",
             f"Command: `{records[0]['command']}` (engine {records[0].get('engine_commit')})", "",
             f"Image: {report['image']}. Tables: {report['tables']}. Cycles run from the first "
             "input transfer through the last output transfer; without pauses `Design.verify` "
             "holds them equal to the cycle model.", ""]
    lines += render_runs_markdown(records, CONFIG_COLUMNS + CYCLE_COLUMNS)
    if costed:
        lines += ["", "ECP5: yosys synth_ecp5 + nextpnr-ecp5 on the default part; resources as "
                  "normalised by edgeforge.bench.report.", ""]
        lines += render_synth_markdown(costed, "ecp5", CONFIG_COLUMNS)
        lines += ["", "iCE40: yosys synth_ice40; nextpnr only where it fits.", ""]
        lines += render_synth_markdown(costed, "ice40", CONFIG_COLUMNS)
        lines += ["", "Generic: yosys, memories kept as memory cells.", ""]
        lines += render_synth_markdown(costed, "generic", CONFIG_COLUMNS)
    lines += ["", "Memory traffic per image, modelled (`sim/cycles/hklut.py`; the tests measure "
              "it equal to the RTL's port enables in Amaranth's simulator): reads / writes "
              "(word bits).", ""]
    lines += render_traffic_markdown(records, lambda r: "R " + ",".join(
        map(str, r["config"]["reads_per_table"])) + f", P {r['config']['out_pixels']}")
    lines += [""]
    if report.get("full_rate"):
        r = report["full_rate"]
        v = r["verify"]
        lines += ["", f"## Full rate (R = {','.join(map(str, r['config']['reads_per_table']))}, "
                  f"P = {r['config']['out_pixels']}) on {r['config']['width']}x"
                  f"{r['config']['height']} RGB", "", f"Command: `{r['command']}` (engine "
                  f"{r.get('engine_commit')})", "",
                  f"LR pixels per cycle sustained (input transfers over the three planes): "
                  f"{1 / v['steady_cycles_per_input_beat']:.4f}; over the whole run, fill "
                  f"included: {_lr_pixels(r) / v['cycles_measured']:.4f}.", ""]
        lines += render_runs_markdown([r], CONFIG_COLUMNS)
        lines += [""] + render_synth_markdown([r], "generic", CONFIG_COLUMNS)
        lines += [""] + render_synth_markdown([r], "ecp5", CONFIG_COLUMNS) + [""]
    if report.get("fmax"):
        lines += ["", "## ECP5 Fmax per config and part (`--fmax`, synthesis only)", "",
                  "RGB Mpx/s out at Fmax = Fmax / (model cycles per HR RGB pixel); channel Mpx/s "
                  "counts each of the 3 channels of those pixels (with planes: the one engine's "
                  "pixel rate); RGB frames/s at Fmax = Fmax / (model cycles per image: 3 planes, or 1 frame "
                  "with RGB lanes), steady state (each frame's fill adds ~0.2 % at 480x270). "
                  "Engine: the last commit that changed the engine sources when the row was "
                  "measured.", ""]
        lines += _fmax_table(report["fmax"]) + [""]
    return "\n".join(lines)


def _fmax_table(records: list[dict]) -> list[str]:
    table = render_synth_markdown(records, "ecp5", FMAX_COLUMNS)
    extra = [[f(r) for _, f in FMAX_RATES] for r in records]
    return ([table[0] + "".join(f" {h} |" for h, _ in FMAX_RATES),
             table[1] + "---|" * len(FMAX_RATES)]
            + [row + "".join(f" {v} |" for v in cells) for row, cells in zip(table[2:], extra)])


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
    results = args.out / "hklut_hw.json"
    if args.full_rate:
        report = load_json(results)
        report["full_rate"] = full_rate(args.size if args.size != 64 else 128)
    elif args.fmax:
        report = load_json(results)
        row = fmax(*args.fmax, args.width, args.height, buffer_ram=args.buffer_ram,
                   rgb_lanes=args.rgb_lanes)
        key = lambda r: (r["config"], r["cost"]["ecp5"]["device"])
        report["fmax"] = [r for r in report.get("fmax", []) if key(r) != key(row)] + [row]
    else:
        kept = load_json(results) if results.exists() else {}
        report = run(args.size, cost=args.cost)
        report.update({k: kept[k] for k in ("fmax", "full_rate") if k in kept})
    write_json(results, report)
    (args.out / "hklut_hw.md").write_text(render_markdown(report))
    print(render_markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
