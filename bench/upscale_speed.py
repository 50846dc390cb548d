"""``edgeforge upscale`` as a user times it: whole processes, exact vs the authors' readout.

Times, in one run on the same machine and inputs, the whole process ``python -m
edgeforge.cli upscale A.npz IN.png -o OUT.png`` (interpreter start, imports,
artifact load, image read, upscaling, PNG write) with the exact (hardware)
readout and with the authors' readout (the golden model's ``float32`` mode,
which reproduces their LUT code value for value); then a folder of images in
one process against one process per image; then, inside one process, what the
upscaling, the reading and the PNG writing of one image each take, the PNG
write at every zlib level (size and time: what
:data:`edgeforge.images.PNG_COMPRESS_LEVEL` was chosen from), and the start of
a process that does nothing (``edgeforge --version``).

Input: scikit-image's test photos (astronaut first), Pillow-bicubic resized to
``size`` x ``size`` RGB; the artifact is the HKLUT-S x4 trained here
(``models/hklut/pretrained/hklut-s-x4.npz``) unless ``--artifact`` names another.

Run::

    python -m edgeforge.bench.upscale_speed

Writes ``bench/results/upscale_speed.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .harness import publish
from .hklut_golden_speed import best_of

__all__ = ["run", "render_markdown", "main"]

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
COMMAND = "python -m edgeforge.bench.upscale_speed"
ARITHMETICS = {"exact": "exact (hardware) readout", "float32": "the authors' readout (float32)"}


def _photos(size: int, count: int) -> list[np.ndarray]:
    from PIL import Image

    from ..models.data import sample_images
    photos = list(sample_images("test").values())
    return [np.asarray(Image.fromarray(photos[i % len(photos)]).resize((size, size),
                                                                      Image.BICUBIC))
            for i in range(count)]


def _best_of(fn, repeats: int) -> float:
    return best_of(fn, repeats)[0]


def _process(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "edgeforge.cli", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _png_levels(image: np.ndarray, repeats: int) -> list[dict]:
    from PIL import Image
    im = Image.fromarray(image)
    rows = []
    for level in range(10):
        buf = io.BytesIO()

        def save():
            buf.seek(0)
            buf.truncate()
            im.save(buf, format="PNG", compress_level=level)
        seconds = _best_of(save, repeats)
        rows.append({"level": level, "seconds": round(seconds, 4), "bytes": len(buf.getvalue())})
    return rows


def run(size: int = 256, repeats: int = 3, images: int = 4, artifact: Path | None = None) -> dict:
    """Time whole ``edgeforge upscale`` processes and their parts; see the module docstring.

    Parameters
    ----------
    size : int
        Side of the square RGB inputs (the output is ``scale * size`` a side).
    repeats : int
        Timed runs of each measurement; the best is kept.
    images : int
        Images in the folder upscaled by one process.
    artifact : pathlib.Path, optional
        An HKLUT artifact; default the shipped HKLUT-S x4.

    Returns
    -------
    dict
        Seconds per measurement, PNG sizes per zlib level, and the machine.
    """
    if size < 3 or repeats < 1 or images < 1:
        raise ValueError(f"size must be >= 3, repeats and images >= 1, "
                         f"got {(size, repeats, images)!r}")
    from ..artifact import load
    from ..images import PNG_COMPRESS_LEVEL, read_image, write_image
    from ..models.hklut import PRETRAINED
    from ..sim.golden.hklut import upscale

    artifact = Path(artifact) if artifact is not None else PRETRAINED
    art = load(artifact)
    photos = _photos(size, images)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "in"
        folder.mkdir()
        for i, photo in enumerate(photos):
            write_image(folder / f"{i}.png", photo)
        one = folder / "0.png"
        whole, per_image = {}, {}
        for arithmetic in ARITHMETICS:
            whole[arithmetic] = _best_of(lambda: _process(
                "upscale", str(artifact), str(one), "-o", str(tmp / "out.png"),
                "--arithmetic", arithmetic), repeats)
            per_image[arithmetic] = _best_of(lambda: _process(
                "upscale", str(artifact), str(folder), "-o", str(tmp / "out"),
                "--arithmetic", arithmetic), repeats) / images
        start = _best_of(lambda: _process("--version"), repeats)
        lr = read_image(one)
        parts = {"read": _best_of(lambda: read_image(one), repeats)}
        for arithmetic in ARITHMETICS:
            parts[f"upscale_{arithmetic}"] = _best_of(lambda: upscale(art, lr, arithmetic),
                                                      repeats)
        sr = upscale(art, lr, "exact")
        parts["write_png"] = _best_of(lambda: write_image(tmp / "sr.png", sr), repeats)
    levels = _png_levels(sr, repeats)
    return {
        "command": COMMAND, "artifact": artifact.name,
        "input": f"scikit-image test photos, Pillow bicubic to {size}x{size} RGB",
        "output_shape": list(sr.shape), "repeats": repeats, "images": images,
        "png_compress_level": PNG_COMPRESS_LEVEL,
        "seconds": {
            "process_one_image": {a: round(s, 4) for a, s in whole.items()},
            "process_folder_per_image": {a: round(s, 4) for a, s in per_image.items()},
            "process_start_version": round(start, 4),
            "in_process": {k: round(v, 4) for k, v in parts.items()},
        },
        "png_levels": levels,
        "machine": {"cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
                    "numpy": np.__version__, "python": platform.python_version(),
                    "platform": platform.platform()},
    }


def render_markdown(results: dict) -> str:
    """The results of :func:`run` as a Markdown report."""
    s, m = results["seconds"], results["machine"]
    one, folder, part = s["process_one_image"], s["process_folder_per_image"], s["in_process"]
    h, w = results["output_shape"][:2]
    default = next(r for r in results["png_levels"] if r["level"] == 6)
    lines = [f"# `edgeforge upscale` speed ({results['input']}, {results['artifact']})", "",
             f"Command: `{results['command']}`", "",
             f"- Output {w}x{h}; best of {results['repeats']} timed runs after one warm-up; "
             f"PNGs written at zlib level {results['png_compress_level']}.",
             f"- Machine: {m['cpu_count']} CPUs, NumPy {m['numpy']}, Python {m['python']}; "
             f"1-minute load average {m['load_average_1min']} at the end of the run.", "",
             "Whole processes (`python -m edgeforge.cli upscale ...`), seconds:", "",
             "| readout | one image, one process | per image, a folder of "
             f"{results['images']} in one process |", "|---|---:|---:|"]
    for arithmetic, label in ARITHMETICS.items():
        lines.append(f"| {label} | {one[arithmetic]:.3f} | {folder[arithmetic]:.3f} |")
    lines += ["", f"A process that only starts (`edgeforge --version`): "
                  f"{s['process_start_version']:.3f} s.", "",
              "Inside one process, one image, seconds:", "",
              "| step | seconds |", "|---|---:|",
              f"| read the input PNG | {part['read']:.3f} |"]
    for arithmetic, label in ARITHMETICS.items():
        lines.append(f"| upscale, {label} | {part[f'upscale_{arithmetic}']:.3f} |")
    lines += [f"| write the output PNG (level {results['png_compress_level']}) "
              f"| {part['write_png']:.3f} |", "",
              f"PNG write of the {w}x{h} output by zlib level (Pillow's default is 6):", "",
              "| level | seconds | bytes | size vs level 6 |", "|---:|---:|---:|---:|"]
    for row in results["png_levels"]:
        lines.append(f"| {row['level']} | {row['seconds']:.3f} | {row['bytes']:,} "
                     f"| {row['bytes'] / default['bytes']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="side of the square RGB inputs")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement")
    parser.add_argument("--images", type=int, default=4, help="images in the folder run")
    parser.add_argument("--artifact", type=Path, default=None,
                        help="HKLUT artifact (default: the shipped HKLUT-S x4)")
    parser.add_argument("-o", "--out", type=Path, default=RESULTS,
                        help="folder for upscale_speed.json and .md")
    args = parser.parse_args(argv)
    results = run(args.size, args.repeats, args.images, args.artifact)
    results["command"] = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    publish(args.out, "upscale_speed", results, render_markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
