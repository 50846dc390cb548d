"""HKLUT quality benchmark: Y-channel PSNR/SSIM of HKLUT tables vs bicubic on the built-in photos, x4.

Rows: the authors' released HKLUT-S x4 tables (imported in memory from
``shared/data/hklut-s-x4-official``; the row is skipped when that folder is
absent, and the imported artifact is never written into the repository) and
the artifact trained here (``models/hklut/pretrained/hklut-s-x4.npz``, skipped
when absent), each read out with the hardware's exact arithmetic and with the
authors' float32 order. Bicubic is the baseline row. For each table set the
share of output pixels where the two arithmetics differ is recorded too.

Run::

    python -m edgeforge.bench.hklut_quality

Writes ``bench/results/hklut_quality.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from .. import jsonfile
from ..artifact import load
from ..models.data import builtin_pairs
from ..models.hklut import PRETRAINED
from ..models.hklut.evaluate import ARITHMETICS, BICUBIC_NOTE, METRIC_NOTE, evaluate

__all__ = ["run", "render_markdown", "main"]

REPO = Path(__file__).resolve().parents[1]
SCALE = 4
DEFAULT_OFFICIAL = (Path(os.environ.get("EDGEFORGE_SHARED", REPO / ".." / "shared"))
                    / "data" / "hklut-s-x4-official")
DEFAULT_TRAINED = PRETRAINED
RESULTS = REPO / "bench" / "results"
COMMAND = "python -m edgeforge.bench.hklut_quality"
LR_NOTE = ("LR = Pillow bicubic downscale x4 of the HR photo (edgeforge.models.data.bicubic_downscale); "
           "numbers are comparable with each other, not with published MATLAB-LR tables")


def _finite(value: float):
    return "inf" if math.isinf(value) else round(value, 6)


def _show(path: Path) -> str:
    """A path relative to the repository when inside it, so results read the same anywhere."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def _sources(official: Path, trained: Path) -> tuple[list[tuple[str, object]], list[str]]:
    """(label, artifact) for every table set present, and a reason for every one skipped."""
    sources, skipped = [], []
    if official.is_dir():
        from ..models.hklut.importer import import_lut_dir
        sources.append(("HKLUT-S x4, released tables", import_lut_dir(official)))
    else:
        skipped.append(f"released tables: no folder at {_show(official)}")
    if trained.is_file():
        sources.append((f"trained here ({trained.name})", load(trained)))
    else:
        skipped.append(f"trained artifact: no file at {_show(trained)}")
    return sources, skipped


def run(official=DEFAULT_OFFICIAL, trained=DEFAULT_TRAINED, *, progress: bool = True) -> dict:
    """Evaluate every table set present with both arithmetics; return JSON-ready results.

    Parameters
    ----------
    official : str or pathlib.Path
        Folder of the released ``.npy`` tables.
    trained : str or pathlib.Path
        The trained artifact.
    progress : bool
        Show rich progress per image.

    Returns
    -------
    dict
        ``rows`` (one per table set and arithmetic, with per-image and mean
        PSNR/SSIM), ``bicubic`` (the baseline), ``arithmetic_agreement`` (per
        table set: share of output pixels where exact and float32 differ, and
        the largest difference), ``skipped`` and the notes on method.
    """
    from ..sim.golden.hklut import upscale

    pairs = builtin_pairs(SCALE, "test")
    sources, skipped = _sources(Path(official), Path(trained))
    rows, agreement, bicubic = [], [], None
    for label, artifact in sources:
        # The golden outputs are kept, in image order, to compare the two arithmetics.
        outputs: dict[str, list[np.ndarray]] = {a: [] for a in ARITHMETICS}

        def keep(art, lr, arithmetic, _store=outputs):
            sr = upscale(art, lr, arithmetic=arithmetic)
            _store[arithmetic].append(sr)
            return sr

        for arithmetic in ARITHMETICS:
            start = time.perf_counter()
            report = evaluate(artifact, pairs, arithmetic=arithmetic, upscaler=keep,
                              progress=progress)
            rows.append({"model": label, "artifact_hash": artifact.content_hash,
                         "arithmetic": arithmetic,
                         "seconds": round(time.perf_counter() - start, 2),
                         "images": {s.name: {"psnr": _finite(s.psnr), "ssim": round(s.ssim, 6)}
                                    for s in report.images},
                         "mean": {"psnr": _finite(report.mean.psnr),
                                  "ssim": round(report.mean.ssim, 6)}})
            if bicubic is None:
                bicubic = {"images": {s.name: {"psnr": _finite(s.bicubic_psnr),
                                               "ssim": round(s.bicubic_ssim, 6)}
                                      for s in report.images},
                           "mean": {"psnr": _finite(report.mean.bicubic_psnr),
                                    "ssim": round(report.mean.bicubic_ssim, 6)}}
        exact, f32 = outputs["exact"], outputs["float32"]
        diff = [np.abs(e.astype(int) - f.astype(int)) for e, f in zip(exact, f32)]
        agreement.append({"model": label,
                          "pixels_differing": round(float(sum((d > 0).sum() for d in diff)
                                                          / sum(d.size for d in diff)), 6),
                          "max_difference": int(max(d.max() for d in diff))})
    return {"command": COMMAND, "scale": SCALE, "images": [name for name, _, _ in pairs],
            "sizes_hr": {name: list(hr.shape) for name, _, hr in pairs},
            "metric": METRIC_NOTE.format(shave=SCALE), "baseline": BICUBIC_NOTE, "lr": LR_NOTE,
            "rows": rows, "bicubic": bicubic, "arithmetic_agreement": agreement,
            "skipped": skipped}


def _psnr_text(value) -> str:
    return value if isinstance(value, str) else f"{value:.3f}"


def render_markdown(results: dict) -> str:
    """The results of :func:`run` as a Markdown report."""
    names = results["images"]
    lines = [f"# HKLUT quality, x{results['scale']}, built-in test photos",
             "", f"Command: `{results['command']}`", "",
             f"- Metric: {results['metric']}.", f"- Baseline: {results['baseline']}.",
             f"- {results['lr']}.", "",
             "| model | arithmetic | " + " | ".join(f"{n} PSNR / SSIM" for n in names)
             + " | mean PSNR | mean SSIM |",
             "|---|---|" + "---:|" * (len(names) + 2)]

    def cells(entry):
        return (" | ".join(f"{_psnr_text(entry['images'][n]['psnr'])} / "
                           f"{entry['images'][n]['ssim']:.4f}" for n in names)
                + f" | {_psnr_text(entry['mean']['psnr'])} | {entry['mean']['ssim']:.4f} |")

    if results["bicubic"] is not None:
        lines.append("| bicubic (Pillow) | - | " + cells(results["bicubic"]))
    for row in results["rows"]:
        lines.append(f"| {row['model']} | {row['arithmetic']} | " + cells(row))
    if results["arithmetic_agreement"]:
        lines += ["", "Exact vs float32 readout on the same tables (all test images):", "",
                  "| model | pixels differing | largest difference (levels) |", "|---|---:|---:|"]
        lines += [f"| {a['model']} | {100 * a['pixels_differing']:.3f}% | {a['max_difference']} |"
                  for a in results["arithmetic_agreement"]]
    if results["skipped"]:
        lines += ["", "Skipped:", ""] + [f"- {reason}" for reason in results["skipped"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", type=Path, default=DEFAULT_OFFICIAL,
                        help="folder of the released HKLUT-S x4 .npy tables")
    parser.add_argument("--trained", type=Path, default=DEFAULT_TRAINED,
                        help="HKLUT artifact trained here")
    parser.add_argument("-o", "--out", type=Path, default=RESULTS,
                        help="folder for hklut_quality.json and .md")
    args = parser.parse_args(argv)
    results = run(args.official, args.trained)
    results["command"] = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    args.out.mkdir(parents=True, exist_ok=True)
    jsonfile.write(args.out / "hklut_quality.json", results, indent=2)
    markdown = render_markdown(results)
    (args.out / "hklut_quality.md").write_text(markdown)
    sys.stdout.write(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
