"""MuLUT trained here vs SR-LUT-S/F trained here vs bicubic: Y-PSNR/SSIM of the golden readout, x4.

Rows, all scored by :func:`edgeforge.models.srlut.evaluate.evaluate` (the golden
``fixed`` simplex, the engine's specification) on the built-in scikit-image
test photos, LR by Pillow bicubic, as the shipped SR-LUT tables are scored
(``models/srlut/pretrained/README.md``):

- bicubic (Pillow, the same LR);
- SR-LUT-F x4 and SR-LUT-S x4 trained here (``models/srlut/pretrained``);
- MuLUT-style S/D/Y, two stages (x1 refinement, then x4), trained here by
  ``edgeforge train --scheme srlut --kernels sdy --stages 1,4 ...``. Its six
  tables are 4.06 MiB, so the file is not shipped: ``--artifact`` reads the
  one that command wrote (default ``rtl_out/mulut/mulut-sdy-x4.npz``), and its
  training command and time come from the artifact's provenance;
- the MuLUT authors' ``sr_x2sdy`` tables when a local import of them exists
  (``--authors``, default ``rtl_out/imports/mulut-sdy-x2-x4.npz``, made as
  ``bench/specs/compare.toml`` says; skipped when absent, never shipped).

One training seed (42) per table set: the 5-seed rule is for the dense
networks' accuracy, and these are short CPU runs.

Command: ``python -m edgeforge.bench.mulut_quality [--artifact A.npz] [--authors B.npz]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edgeforge.bench.harness import RESULTS, publish

REPO = Path(__file__).resolve().parents[1]
STEM = "mulut_quality"
DEFAULT_ARTIFACT = "rtl_out/mulut/mulut-sdy-x4.npz"
DEFAULT_AUTHORS = "rtl_out/imports/mulut-sdy-x2-x4.npz"
TRAIN_COMMAND = ("edgeforge train --scheme srlut --kernels sdy --stages 1,4 --nf 32 "
                 "--iterations 2000 --batch 16 --patch 24 --seed 42 --threads 1 --no-progress "
                 f"-o {DEFAULT_ARTIFACT}")
SHIPPED = (("SR-LUT-F x4 (trained here, shipped)", "shipped:srlut-f-x4"),
           ("SR-LUT-S x4 (trained here, shipped)", "shipped:srlut-s-x4"))


def _path(name: str) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() or path.is_file() else REPO / path


def _row(name: str, art, pairs) -> dict:
    from edgeforge.models.srlut.evaluate import evaluate
    report = evaluate(art, pairs)
    info = art.provenance
    row = {"name": name, "config": art.config, "table_bytes": sum(art.storage_bytes().values()),
           "psnr_db": round(report.mean.psnr, 3), "ssim": round(report.mean.ssim, 4),
           "bicubic_psnr_db": round(report.mean.bicubic_psnr, 3),
           "bicubic_ssim": round(report.mean.bicubic_ssim, 4),
           "images": {s.name: {"psnr_db": round(s.psnr, 3), "ssim": round(s.ssim, 4),
                               "bicubic_psnr_db": round(s.bicubic_psnr, 3)}
                      for s in report.images},
           "source": info.get("source")}
    for key in ("command", "iterations", "train_seconds", "nf", "batch", "patch", "seed"):
        if key in info:
            row[key] = info[key]
    return row


def run(artifact: Path, authors: Path | None, pairs=None) -> dict:
    """The rows; ``pairs`` (name, LR, HR) default to the built-in test photos."""
    from edgeforge import load
    from edgeforge.bench.compare import resolve_artifact
    rows = [_row(name, load(resolve_artifact(ref)), pairs) for name, ref in SHIPPED]
    rows.append(_row("MuLUT-style S/D/Y x4, 2 stages (trained here)", load(artifact), pairs))
    skipped = []
    if authors is not None and authors.is_file():
        rows.append(_row("MuLUT-SDY-X2 x4 (authors' tables, local import, not shipped)",
                         load(authors), pairs))
    elif authors is not None:
        skipped.append(f"MuLUT authors' tables: no import at {authors}")
    first = rows[0]
    bicubic = {"name": "bicubic x4 (Pillow)", "psnr_db": first["bicubic_psnr_db"],
               "ssim": first["bicubic_ssim"], "table_bytes": 0,
               "images": {k: {"psnr_db": v["bicubic_psnr_db"]} for k, v in first["images"].items()}}
    return {"command": "python -m edgeforge.bench.mulut_quality", "train_command": TRAIN_COMMAND,
            "rows": [bicubic] + rows, "skipped": skipped,
            "note": ("x4, golden fixed simplex (= the RTL where there is an engine), the "
                     f"{len(first['images'])} "
                     f"{'built-in scikit-image test photos' if pairs is None else 'given images'}"
                     ", LR by Pillow "
                     "bicubic; Y-PSNR (BT.601, 4 px shave), SSIM 11x11 Gaussian; one training "
                     "seed (42) per table set, short CPU runs")}


def render(results: dict) -> str:
    rows = results["rows"]
    names = list(rows[0]["images"])
    lines = ["# MuLUT-style two-stage S/D/Y tables trained here, beside SR-LUT and bicubic (x4)",
             "", f"Command: `{results['command']}` (after the MuLUT training: "
             f"`{results['train_command']}`)", "", results["note"] + ".", "",
             "| tables | table bytes | Y-PSNR dB | SSIM | training |", "|---|---:|---:|---:|---|"]
    for r in rows:
        trained = (f"{r['iterations']:,} it x batch {r['batch']}, patch {r['patch']}, nf {r['nf']}"
                   f", {r['train_seconds']} s" if "iterations" in r else "-")
        lines.append(f"| {r['name']} | {r['table_bytes']:,} | {r['psnr_db']} | {r['ssim']} "
                     f"| {trained} |")
    lines += ["", "Y-PSNR dB per photo:", "", "| tables | " + " | ".join(names) + " |",
              "|---|" + "---:|" * len(names)]
    lines += [f"| {r['name']} | " + " | ".join(str(r["images"][n]["psnr_db"]) for n in names)
              + " |" for r in rows]
    lines += [f"- skipped: {s}" for s in results["skipped"]]
    lines += ["", "Training seconds are wall time of one torch thread on the shared 2-core "
              "machine (other jobs running); the shipped SR-LUT tables' own schedule is in "
              "models/srlut/pretrained/README.md.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--artifact", default=DEFAULT_ARTIFACT,
                   help=f"the trained MuLUT artifact (default {DEFAULT_ARTIFACT})")
    p.add_argument("--authors", default=DEFAULT_AUTHORS,
                   help="an import of the MuLUT authors' tables; skipped when absent")
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = p.parse_args(argv)
    artifact = _path(args.artifact)
    if not artifact.is_file():
        p.error(f"--artifact: no such file {args.artifact!r}; make it with: {TRAIN_COMMAND}")
    publish(args.out, STEM, run(artifact, _path(args.authors)), render)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
