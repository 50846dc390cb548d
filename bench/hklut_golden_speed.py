"""HKLUT golden-model speed: vectorised NumPy readout vs the authors' torch readout on the CPU.

Times, in one run on the same machine and input, :func:`edgeforge.sim.golden.hklut.upscale`
in both arithmetic modes and the torch float reference written the authors' way
(:mod:`edgeforge.sim.golden.hklut_reference`: ``rot90`` + ``F.pad`` + gather per
kernel and rotation), on a 256x256 RGB image upscaled x4 with HKLUT-S tables.
The target is a golden model at least 2x faster than the reference; the reference
is timed on torch's default threads and on one thread, and the faster counts.

The tables are seeded random int8 tables of the HKLUT-S shapes by default: the
readout's cost does not depend on the values, and the results then hold nothing
made from the authors' CC BY-NC-ND tables. ``--luts DIR`` times a folder in the
authors' layout instead. The golden float32 output is also checked to equal
the reference's bit for bit.

Run::

    python -m edgeforge.bench.hklut_golden_speed

Writes ``bench/results/hklut_golden_speed.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from .harness import publish

__all__ = ["run", "render_markdown", "main", "best_of"]

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
COMMAND = "python -m edgeforge.bench.hklut_golden_speed"
TARGET_SPEEDUP = 2.0


def _image(size: int) -> np.ndarray:
    """scikit-image's astronaut, Pillow-bicubic downscaled to size x size RGB."""
    import skimage.data
    from PIL import Image
    return np.asarray(Image.fromarray(skimage.data.astronaut()).resize((size, size), Image.BICUBIC))


def _tables(luts: Path | None, seed: int):
    from ..schemes.hklut import HKLUTConfig
    if luts is not None:
        from ..models.hklut.importer import import_lut_dir
        artifact = import_lut_dir(luts)
        model = (artifact.arrays, HKLUTConfig.from_dict(artifact.config))
        return model, f"imported from {luts.name}"
    config = HKLUTConfig()
    rng = np.random.default_rng(seed)
    tables = {name: rng.integers(-127, 127, spec.shape, dtype=np.int8)
              for name, spec in config.array_specs().items()}
    return (tables, config), f"random int8, HKLUT-S x4 shapes, seed {seed}"


def best_of(fn, repeats: int) -> tuple[float, np.ndarray]:
    """Shortest wall time of ``repeats`` calls (after one warm-up call) and the last output."""
    out = fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def run(size: int = 256, repeats: int = 3, luts: Path | None = None, seed: int = 0) -> dict:
    """Time the golden model (exact, float32) and the torch reference on one image.

    Parameters
    ----------
    size : int
        Side of the square RGB input (the output is ``4 size`` a side).
    repeats : int
        Timed calls per implementation; the best is kept.
    luts : pathlib.Path or None
        Folder of tables in the authors' layout; ``None`` for seeded random tables.
    seed : int
        Seed of the random tables.

    Returns
    -------
    dict
        Seconds per implementation, speed-ups over the reference, whether the
        float32 outputs are identical, and the machine.
    """
    if size < 3 or repeats < 1:
        raise ValueError(f"size must be >= 3 and repeats >= 1, got {(size, repeats)!r}")
    import torch

    from ..sim.golden import hklut as golden
    from ..sim.golden import hklut_reference as reference

    model, tables_note = _tables(luts, seed)
    image = _image(size)
    threads = torch.get_num_threads()
    t_ref, out_ref = best_of(lambda: reference.upscale(model, image), repeats)
    # torch's intra-op threads spin and stall when other jobs share the cores, so
    # the reference is also timed on one thread; the speed-ups use the faster.
    torch.set_num_threads(1)
    try:
        t_ref1, _ = best_of(lambda: reference.upscale(model, image), repeats)
    finally:
        torch.set_num_threads(threads)
    t_base = min(t_ref, t_ref1)
    t_f32, out_f32 = best_of(lambda: golden.upscale(model, image, "float32"), repeats)
    t_exact, out_exact = best_of(lambda: golden.upscale(model, image, "exact"), repeats)
    return {
        "command": COMMAND, "input": f"astronaut, Pillow bicubic to {size}x{size} RGB, x4",
        "output_shape": list(out_f32.shape), "tables": tables_note, "repeats": repeats,
        "seconds": {"reference_torch": round(t_ref, 4),
                    "reference_torch_1_thread": round(t_ref1, 4),
                    "golden_float32": round(t_f32, 4), "golden_exact": round(t_exact, 4)},
        "speedup_vs_reference": {"golden_float32": round(t_base / t_f32, 2),
                                 "golden_exact": round(t_base / t_exact, 2)},
        "target_speedup": TARGET_SPEEDUP,
        "float32_identical_to_reference": bool(np.array_equal(out_f32, out_ref)),
        "exact_differs_from_float32": round(float(np.mean(out_exact != out_f32)), 6),
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": threads,
                    "load_average_1min": round(os.getloadavg()[0], 2),
                    "torch": torch.__version__, "numpy": np.__version__,
                    "python": platform.python_version(), "platform": platform.platform()},
    }


def render_markdown(results: dict) -> str:
    """The results of :func:`run` as a Markdown report."""
    s, x = results["seconds"], results["speedup_vs_reference"]
    m = results["machine"]
    base = min(s["reference_torch"], s["reference_torch_1_thread"])
    lines = [f"# HKLUT golden-model speed ({results['input']})", "",
             f"Command: `{results['command']}`", "",
             f"- Tables: {results['tables']}; output {tuple(results['output_shape'])}; "
             f"best of {results['repeats']} timed calls after one warm-up.",
             f"- Machine: {m['cpu_count']} CPUs, torch {m['torch']} on {m['torch_threads']} "
             f"threads, NumPy {m['numpy']} (single-threaded), Python {m['python']}; "
             f"1-minute load average {m['load_average_1min']} at the end of the run.",
             f"- Golden float32 output identical to the reference: "
             f"{'yes' if results['float32_identical_to_reference'] else 'NO'}; exact and float32 "
             f"differ on {100 * results['exact_differs_from_float32']:.2f}% of output values"
             + (" (random tables: trained ones differ far less)."
                if results["tables"].startswith("random") else "."), "",
             "Speed-ups are over the faster of the two reference timings.", "",
             "| implementation | seconds | speed-up vs reference |", "|---|---:|---:|",
             f"| reference (torch rot90 + F.pad, CPU, float32), {m['torch_threads']} threads "
             f"| {s['reference_torch']:.3f} | {base / s['reference_torch']:.2f} |",
             f"| reference, 1 thread | {s['reference_torch_1_thread']:.3f} "
             f"| {base / s['reference_torch_1_thread']:.2f} |",
             f"| golden, float32 | {s['golden_float32']:.3f} | {x['golden_float32']:.2f} |",
             f"| golden, exact | {s['golden_exact']:.3f} | {x['golden_exact']:.2f} |", "",
             f"Target: golden >= {results['target_speedup']:.0f}x faster than the reference: "
             + ("met." if min(x.values()) >= results["target_speedup"] else "NOT met.")]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="side of the square RGB input")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per implementation")
    parser.add_argument("--luts", type=Path, default=None,
                        help="folder of tables in the authors' layout (default: random tables)")
    parser.add_argument("-o", "--out", type=Path, default=RESULTS,
                        help="folder for hklut_golden_speed.json and .md")
    args = parser.parse_args(argv)
    results = run(args.size, args.repeats, args.luts)
    results["command"] = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    publish(args.out, "hklut_golden_speed", results, render_markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
