"""Bicubic x4 engine benchmark beside HKLUT: cycles (measured vs model), multiplies per pixel,
area and Fmax (ECP5), and quality on the same built-in test photos.

Hardware: the bicubic engine (8 fraction bits, the default) for a ``64 x 64`` RGB frame,
one output pixel a beat, run in cocotb on Verilator on a seeded random frame without
pauses and under random valid gaps and ready backpressure (every beat checked against
the golden model, the cycles against the cycle model), and synthesised for yosys'
generic flow and ECP5 (nextpnr, the default 25F part). HKLUT's figures are its engine
at the same frame and rate (R = 1,1, P = 1: also 16 cycles per LR pixel), read from
``bench/results/hklut_hw.json`` (``python -m edgeforge.bench.hklut_hw --cost``), not
re-synthesised here.

Quality: Y-PSNR/SSIM against HR on the built-in test photos (the HKLUT benchmarks'
pairs, ``edgeforge.models.data.builtin_pairs(4)``) of the integer bicubic at 6, 8 and
10 fraction bits, of Pillow's BICUBIC and of the shipped HKLUT-S x4 artifact (golden,
exact readout = its RTL).

Run::

    python -m edgeforge.bench.bicubic_hw [--quick] [--size 64]

(``--quick``: generic synthesis only.) Writes ``bench/results/bicubic_hw.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..hw.bicubic.design import BicubicDesign
from ..schemes.bicubic import default_artifact
from .harness import REPO, RESULTS, measure, publish
from .report import load_json, render_runs_markdown, render_synth_markdown

__all__ = ["run", "quality", "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.bicubic_hw"
ENGINE_PATHS = ("hw/bicubic", "hw/line_window.py", "hw/block_reorder.py", "hw/logic.py",
                "sim/cycles/bicubic.py")
HKLUT_RESULTS = RESULTS / "hklut_hw.json"
HKLUT_ENERGY = RESULTS / "hklut_energy.json"
HKLUT_SHIPPED = REPO / "models" / "hklut" / "pretrained" / "hklut-s-x4.npz"
QUALITY_BITS = (6, 8, 10)
SEED = 0


def _image(size: int) -> np.ndarray:
    """The seeded random RGB frame the run measures (hklut_hw's frame)."""
    return np.random.default_rng(SEED + 1).integers(0, 256, size=(size, size, 3), dtype=np.uint8)


def _hklut_record(size: int) -> dict | None:
    """HKLUT's 1-px-a-beat record (R 1,1, P 1) at the same frame, from its committed results."""
    if not HKLUT_RESULTS.is_file():
        return None
    for r in load_json(HKLUT_RESULTS).get("records", []):
        c = r["config"]
        if (c["reads_per_table"], c["out_pixels"], c["width"], c["height"]) == ([1, 1], 1, size, size):
            return r
    return None


def quality() -> dict:
    """Mean and per-photo Y-PSNR/SSIM of bicubic (integer, Pillow) and HKLUT-S x4."""
    from ..artifact import load
    from ..models.bicubic import evaluate as bicubic_scores
    from ..models.hklut.evaluate import evaluate as hklut_evaluate
    hk = hklut_evaluate(load(HKLUT_SHIPPED), progress=False)
    rows = {f"bicubic {bits} bits": [s.to_dict() for s in bicubic_scores(default_artifact(4, bits))]
            for bits in QUALITY_BITS}
    return {"photos": [s.name for s in hk.images],
            "bicubic": rows,
            "hklut": {"artifact": str(HKLUT_SHIPPED.relative_to(REPO)),
                      "images": [{"name": s.name, "psnr": s.psnr, "ssim": s.ssim}
                                 for s in hk.images + [hk.mean]]}}


def run(size: int = 64, *, quick: bool = False, progress: bool = True) -> dict:
    """The engine's record (verify, cost) and the quality table, as plain data."""
    design = BicubicDesign(default_artifact(), width=size, height=size, channels=3)
    command = COMMAND + (" --quick" if quick else "") + (f" --size {size}" if size != 64 else "")
    from .energy import estimate
    record = measure(design, [_image(size)], command=command, engine_paths=ENGINE_PATHS,
                     seed=SEED, targets=("generic",) if quick else ("generic", "ecp5"),
                     progress=progress)
    record["energy"] = estimate(design.cycle_model())
    hk_energy = load_json(HKLUT_ENERGY) if HKLUT_ENERGY.is_file() else None
    return {"image": f"{size}x{size} RGB (3 planes streamed back to back), seeded random",
            "records": [record], "hklut": _hklut_record(size), "quality": quality(),
            "hklut_energy": None if hk_energy is None else {
                k: hk_energy[k] for k in ("width", "height", "pj_per_output_pixel")},
            "command": command}


# -- rendering (from the results file alone) -------------------------------------------

def _scheme(r: dict) -> str:
    c = r["config"]
    if r["scheme"] == "bicubic":
        return f"bicubic x4, P {c['out_pixels']}"
    return f"HKLUT-S x4, R {','.join(map(str, c['reads_per_table']))}, P {c['out_pixels']}"


COLUMNS = [("engine", _scheme)]


def _mults(r: dict) -> str:
    """Multiplies per HR pixel and channel, by operand widths."""
    ops = [o for o in r["performance"].get("operations", []) if o["op"] == "mul"]
    if not ops:
        # HKLUT's record counts no operations: its arithmetic is table reads and adds.
        return "not counted"
    hr = r["performance"]["outputs_per_input"] * r["config"]["channels"]
    kinds = " + ".join(f"{o['count'] / hr:g} of {' x '.join(map(str, o['bits']))}" for o in ops)
    return f"{sum(o['count'] for o in ops) / hr:g} ({kinds} bits)"


def render_markdown(report: dict) -> str:
    records = report["records"]
    hk = report.get("hklut")
    both = records + ([hk] if hk else [])
    lines = ["# Bicubic x4 engine beside HKLUT: cycles, multiplies, area, Fmax, quality", "",
             f"Command: `{report['command']}` (engine {records[0].get('engine_commit')})", "",
             f"Image: {report['image']}. Cycles run from the first input transfer through the "
             "last output transfer; without pauses `Design.verify` holds them equal to the "
             "cycle model (`sim/cycles/bicubic.py`).", ""]
    lines += render_runs_markdown(records, COLUMNS)
    rows = []
    for r in both:
        p = r["performance"]
        lr = r["config"]["width"] * r["config"]["height"] * r["config"]["channels"]
        measured = (f"{r['verify']['cycles_measured'] / lr:.4f}" if r.get("verify") else "-")
        hr = p["outputs_per_input"] * r["config"]["channels"]
        table_reads = sum(t["reads"] for t in p["traffic"] if t["memory"].startswith("lut "))
        rows.append(f"| {_scheme(r)} | {measured} | {p['cycles_per_input'] / lr:g} | "
                    f"{_mults(r)} | {table_reads / hr:g} |")
    lines += ["", "Per pixel (LR pixels of the three planes; HR pixels counted per channel):", "",
              "| engine | cycles per LR px (measured, whole run) | model, steady | "
              "multiplies per HR px | table reads per HR px |",
              "|---|---|---|---|---|"] + rows
    if hk:
        lines += ["", f"HKLUT row: its record in `bench/results/hklut_hw.json` (command "
                  f"`{hk['command']}`, engine {hk.get('engine_commit')}), seeded random tables "
                  "(area does not depend on the values)."]
    for target, title in (("ecp5", "ECP5 (yosys synth_ecp5 + nextpnr-ecp5, default part):"),
                          ("generic", "Generic (yosys, memories kept as memory cells):")):
        table = render_synth_markdown(both, target, COLUMNS)
        if len(table) > 2:
            lines += ["", title, ""] + table
    lines += _energy_lines(report)
    q = report["quality"]
    names = q["photos"]
    lines += ["", "## Quality on the built-in test photos (x4, LR = Pillow bicubic downscale)", "",
              "Y-PSNR dB (BT.601 luma, 4 px shave) / SSIM against HR; integer bicubic = the "
              "golden model = the engine's output; Pillow = `Image.resize(BICUBIC)`; HKLUT = "
              "the shipped artifact's exact golden readout (= its RTL).", "",
              "| model | " + " | ".join(names) + " | mean |", "|---|" + "---|" * (len(names) + 1)]
    first = next(iter(q["bicubic"].values()))
    pillow = [f"{s['pillow_psnr']:.2f} / {s['pillow_ssim']:.4f}" for s in first]
    for label, scores in q["bicubic"].items():
        lines.append(f"| integer {label} | " + " | ".join(
            f"{s['psnr']:.2f} / {s['ssim']:.4f}" for s in scores) + " |")
    lines.append("| Pillow BICUBIC | " + " | ".join(pillow) + " |")
    lines.append("| HKLUT-S x4 | " + " | ".join(f"{s['psnr']:.2f} / {s['ssim']:.4f}"
                                               for s in q["hklut"]["images"]) + " |")
    lines += ["", "Integer bicubic against Pillow's output (Y-PSNR dB; they differ in the "
              "rounding between passes and at the border) and largest difference from the "
              "float64 bicubic with the exact kernel (levels):", "",
              "| model | mean PSNR vs Pillow | max abs diff vs float |", "|---|---|---|"]
    for label, scores in q["bicubic"].items():
        lines.append(f"| integer {label} | {scores[-1]['psnr_vs_pillow']:.2f} | "
                     f"{scores[-1]['max_diff_vs_float']} |")
    return "\n".join(lines) + "\n"


def _energy_lines(report: dict) -> list[str]:
    """Estimated energy per HR pixel (per channel) of the bicubic record, HKLUT's beside it."""
    r = report["records"][0]
    e = r.get("energy")
    if e is None:
        return []
    hr = r["performance"]["outputs_per_input"] * r["config"]["channels"]
    mults = sum(line["pj"] for line in e["lines"] if "-bit mul)" in line["what"])
    lines = ["", f"Energy per HR pixel, estimated from the model's counts ({e['source']}; "
             f"never measured): bicubic {e['pj']['on_chip'] / hr:.2f} pJ on chip, of which "
             f"{mults / hr:.2f} pJ the multiplies, and {e['pj']['off_chip'] / hr:.2f} pJ "
             "off chip (1 byte in and 16 out per LR pixel, DRAM)."]
    hk = report.get("hklut_energy")
    if hk:
        pj = hk["pj_per_output_pixel"]
        lines[-1] += (f" HKLUT-S x4 (`bench/results/hklut_energy.json`, {hk['width']}x"
                      f"{hk['height']}, table and buffer accesses; its adds not counted): "
                      f"{pj['on_chip']:.2f} pJ on chip, {pj['off_chip']:.2f} pJ off chip.")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="frame side (default 64)")
    parser.add_argument("--quick", action="store_true", help="generic synthesis only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    publish(args.out, "bicubic_hw", run(args.size, quick=args.quick), render_markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
