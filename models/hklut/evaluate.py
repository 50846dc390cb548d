"""Evaluate an HKLUT artifact against bicubic: Y-channel PSNR/SSIM, a table and side-by-side pictures.

The metrics follow the SR-benchmark convention of :mod:`edgeforge.models.metrics`
(PSNR with a border shave of the scale factor, SSIM without). The baseline is
Pillow's bicubic upscaling of the same LR image. HKLUT output comes from the
golden model (:func:`edgeforge.sim.golden.hklut.upscale`) unless another
upscaler is passed.

:func:`upscale_file` is the file-level counterpart: any 8-bit grey or RGB image
in, an image in the format its name says out; :func:`upscale_files` does
several files or folders in one call.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from rich.progress import Progress
from rich.table import Table

from ... import jsonfile
from ...artifact import Artifact
from ...images import IMAGE_FORMATS, check_uint8_image, image_format, read_image, write_image
from ...paths import check_output_dir, check_output_file
from ..metrics import psnr_y, ssim_y
from .storage import as_hklut

__all__ = ["ImageScore", "EvalReport", "bicubic_upscale", "evaluate", "render_eval_table",
           "upscale_file", "upscale_files", "upscale_plan", "ARITHMETICS"]

ARITHMETICS = ("exact", "float32")
BICUBIC_NOTE = "bicubic = Pillow Image.resize(BICUBIC) of the same LR image"
METRIC_NOTE = ("Y = BT.601 luma (0..255, unrounded); PSNR peak 255, border shave {shave} px; "
               "SSIM 11x11 Gaussian sigma 1.5, K=(0.01, 0.03), valid windows, no shave")

# An upscaler maps (artifact, uint8 LR image, arithmetic=...) to the uint8 HR image.
Upscaler = Callable[..., np.ndarray]


@dataclass
class ImageScore:
    """Scores of one image (or their mean): HKLUT and the bicubic baseline, Y channel."""
    name: str
    psnr: float
    ssim: float
    bicubic_psnr: float
    bicubic_ssim: float


@dataclass
class EvalReport:
    """Result of :func:`evaluate`: per-image scores, their mean, and the pictures written."""
    scale: int
    arithmetic: str
    images: list[ImageScore]
    mean: ImageScore
    pictures: list[Path] = field(default_factory=list)
    artifact: str = ""

    def to_dict(self) -> dict:
        """JSON-ready data; an infinite PSNR (identical images) is written as the string "inf"."""
        def clean(score: ImageScore) -> dict:
            return {k: ("inf" if isinstance(v, float) and math.isinf(v) else v)
                    for k, v in asdict(score).items()}
        return {"artifact": self.artifact, "scale": self.scale, "arithmetic": self.arithmetic,
                "metric": METRIC_NOTE.format(shave=self.scale), "baseline": BICUBIC_NOTE,
                "images": [clean(s) for s in self.images], "mean": clean(self.mean),
                "pictures": [p.name for p in self.pictures]}


def _check_arithmetic(arithmetic) -> str:
    if arithmetic not in ARITHMETICS:
        raise ValueError(f"arithmetic must be one of {ARITHMETICS}, got {arithmetic!r}")
    return arithmetic


def _default_upscaler() -> Upscaler:
    from ...sim.golden.hklut import upscale
    return upscale


def bicubic_upscale(lr, factor: int) -> np.ndarray:
    """Upscale by an integer factor with Pillow's bicubic filter (the evaluation baseline).

    Parameters
    ----------
    lr : numpy.ndarray
        ``uint8`` image, grey ``(H, W)`` or RGB ``(H, W, 3)``.
    factor : int
        Upscaling factor (>= 1).

    Returns
    -------
    numpy.ndarray
        ``uint8`` image of shape ``(factor H, factor W[, 3])``.
    """
    lr = check_uint8_image("lr", lr)
    if not isinstance(factor, (int, np.integer)) or isinstance(factor, bool) or factor < 1:
        raise ValueError(f"factor must be an integer >= 1, got {factor!r}")
    size = (lr.shape[1] * factor, lr.shape[0] * factor)
    return np.asarray(Image.fromarray(np.ascontiguousarray(lr)).resize(size, Image.BICUBIC))


def _check_pairs(pairs, scale: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    if not isinstance(pairs, (list, tuple)) or not pairs:
        raise ValueError(f"pairs must be a non-empty list of (name, lr, hr), got {pairs!r}")
    checked = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (list, tuple)) or len(pair) != 3 or not isinstance(pair[0], str):
            raise ValueError(f"pairs[{i}] must be a (name, lr, hr) tuple, got {pair!r}")
        name, lr, hr = pair
        lr, hr = check_uint8_image(f"pairs[{i}] lr", lr), check_uint8_image(f"pairs[{i}] hr", hr)
        want = (lr.shape[0] * scale, lr.shape[1] * scale) + lr.shape[2:]
        if hr.shape != want:
            raise ValueError(f"pairs[{i}] ({name!r}) hr must be the x{scale} size of lr "
                             f"{lr.shape!r}, that is {want!r}, got {hr.shape!r}")
        if any(name == seen for seen, _, _ in checked):
            raise ValueError(f"pairs[{i}] repeats an image name (pictures are named after "
                             f"it), got {name!r}")
        checked.append((name, lr, hr))
    return checked


def _run(upscaler: Upscaler, artifact: Artifact, lr: np.ndarray, arithmetic: str, scale: int,
         name: str) -> np.ndarray:
    """Call the upscaler and check that it returned the x``scale`` uint8 image."""
    sr = upscaler(artifact, lr, arithmetic=arithmetic)
    want = (lr.shape[0] * scale, lr.shape[1] * scale) + lr.shape[2:]
    if not isinstance(sr, np.ndarray) or sr.dtype != np.uint8 or sr.shape != want:
        raise ValueError(f"upscaler output for {name!r} must be uint8 of shape {want!r}, got "
                         f"{getattr(sr, 'dtype', type(sr).__name__)} {getattr(sr, 'shape', None)!r}")
    return sr


def _mean(scores: list[ImageScore]) -> ImageScore:
    return ImageScore("mean", *(float(np.mean([getattr(s, f) for s in scores]))
                                for f in ("psnr", "ssim", "bicubic_psnr", "bicubic_ssim")))


def _rgb(img: np.ndarray) -> np.ndarray:
    return np.stack([img] * 3, axis=2) if img.ndim == 2 else img


_LABEL_HEIGHT = 18
_GAP = 4


def _side_by_side(panels: list[tuple[str, np.ndarray]]) -> Image.Image:
    """Panels of one size left to right on a white sheet, each with its label above."""
    h, w = panels[0][1].shape[:2]
    sheet = Image.new("RGB", (len(panels) * w + (len(panels) - 1) * _GAP, h + _LABEL_HEIGHT),
                      "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for i, (label, img) in enumerate(panels):
        x = i * (w + _GAP)
        sheet.paste(Image.fromarray(_rgb(img)), (x, _LABEL_HEIGHT))
        draw.text((x + 2, 3), label, fill="black", font=font)
    return sheet


def _picture_name(name: str, scale: int) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) + f"_x{scale}.png"


def evaluate(artifact, pairs=None, *, arithmetic: str = "exact", out_dir=None,
             upscaler: Upscaler | None = None, progress: bool = True) -> EvalReport:
    """Score an HKLUT artifact and the bicubic baseline on (name, LR, HR) pairs.

    Parameters
    ----------
    artifact : Artifact or str or pathlib.Path
        An HKLUT artifact, or the path of one (loaded and validated).
    pairs : list of (str, numpy.ndarray, numpy.ndarray), optional
        ``uint8`` LR and HR images, HR exactly ``scale`` times LR. Defaults to
        the built-in test photos, ``edgeforge.models.data.builtin_pairs(scale, "test")``.
    arithmetic : {"exact", "float32"}
        Readout arithmetic handed to the upscaler: the hardware's exact
        integer readout, or the authors' float32 order.
    out_dir : str or pathlib.Path, optional
        If given, one side-by-side PNG per image (LR nearest-enlarged | bicubic |
        HKLUT | HR, labelled) and ``eval.json`` are written there.
    upscaler : callable, optional
        ``upscaler(artifact, lr, arithmetic=...) -> uint8 HR image``; defaults
        to the golden model.
    progress : bool
        Show a rich progress bar, one step per image.

    Returns
    -------
    EvalReport

    Raises
    ------
    TypeError, ValueError
        On a bad artifact, arithmetic, pair, or an upscaler output of the wrong
        shape or dtype.
    """
    artifact, config = as_hklut(artifact)
    arithmetic = _check_arithmetic(arithmetic)
    scale = config.scale
    if pairs is None:
        from ..data import builtin_pairs
        pairs = builtin_pairs(scale, "test")
    pairs = _check_pairs(pairs, scale)
    upscaler = upscaler or _default_upscaler()
    if out_dir is not None:
        out_dir = check_output_dir(out_dir, "out_dir")
        out_dir.mkdir(parents=True, exist_ok=True)

    scores, pictures = [], []
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("evaluating", total=len(pairs))
        for name, lr, hr in pairs:
            bar.update(task, description=f"x{scale} {arithmetic}: {name}")
            sr = _run(upscaler, artifact, lr, arithmetic, scale, name)
            bic = bicubic_upscale(lr, scale)
            score = ImageScore(name, psnr_y(sr, hr, scale), ssim_y(sr, hr),
                               psnr_y(bic, hr, scale), ssim_y(bic, hr))
            scores.append(score)
            if out_dir is not None:
                nearest = np.repeat(np.repeat(lr, scale, axis=0), scale, axis=1)
                sheet = _side_by_side([(f"LR (nearest x{scale})", nearest),
                                       (f"bicubic {score.bicubic_psnr:.2f} dB", bic),
                                       (f"HKLUT {score.psnr:.2f} dB", sr), ("HR", hr)])
                path = out_dir / _picture_name(name, scale)
                write_image(path, np.asarray(sheet))
                pictures.append(path)
            bar.advance(task)

    label = str(artifact.path) if artifact.path is not None else artifact.short_hash
    report = EvalReport(scale=scale, arithmetic=arithmetic, images=scores, mean=_mean(scores),
                        pictures=pictures, artifact=label)
    if out_dir is not None:
        jsonfile.write(out_dir / "eval.json", report.to_dict(), indent=2)
    return report


def _fmt(value: float, digits: int) -> str:
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


def render_eval_table(report: EvalReport, scheme: str = "HKLUT") -> Table:
    """Per-image and mean PSNR/SSIM of HKLUT (or ``scheme``) and bicubic as a rich table.

    Parameters
    ----------
    report : EvalReport
    scheme : str
        The name the columns give the scored tables (SR-LUT reuses this table).

    Returns
    -------
    rich.table.Table
    """
    if not isinstance(report, EvalReport):
        raise TypeError(f"report must be an EvalReport, got {type(report).__name__}")
    table = Table(title=f"{scheme} x{report.scale} vs bicubic ({report.arithmetic} readout)",
                  caption=METRIC_NOTE.format(shave=report.scale) + "; " + BICUBIC_NOTE)
    table.add_column("image")
    for header in ("bicubic PSNR", f"{scheme} PSNR", "gain dB", "bicubic SSIM", f"{scheme} SSIM"):
        table.add_column(header, justify="right")
    for i, s in enumerate(report.images + [report.mean]):
        gain = s.psnr - s.bicubic_psnr if not math.isinf(s.psnr) else math.inf
        table.add_row(s.name, _fmt(s.bicubic_psnr, 2), _fmt(s.psnr, 2), f"{gain:+.2f}",
                      _fmt(s.bicubic_ssim, 4), _fmt(s.ssim, 4),
                      style="bold" if s is report.mean else None,
                      end_section=i == len(report.images) - 1)
    return table


def upscale_file(artifact, in_png, out_png, arithmetic: str = "exact", *,
                 upscaler: Upscaler | None = None) -> Path:
    """Upscale an 8-bit image file with an HKLUT artifact and write the result.

    The image is read by :func:`edgeforge.images.read_image`: grey stays grey
    and RGB stays RGB, palette images become RGB and bilevel ones grey, an
    opaque alpha channel is dropped and a transparent one refused, and 16-bit
    and float images are refused, naming the mode. The output is written in the
    format its suffix names (:func:`edgeforge.images.write_image`: ``.png`` at
    a fast zlib level, ``.jpg``, ``.bmp``, ``.tif``, ``.webp``).

    Parameters
    ----------
    artifact : Artifact or str or pathlib.Path
        An HKLUT artifact, or the path of one.
    in_png, out_png : str or pathlib.Path
        Input image (any format Pillow reads) and output image path (parents created).
    arithmetic : {"exact", "float32"}
        Readout arithmetic of the golden model.
    upscaler : callable, optional
        ``upscaler(artifact, lr, arithmetic=...)``; defaults to the golden model.

    Returns
    -------
    pathlib.Path
        ``out_png``.

    Raises
    ------
    FileNotFoundError
        If ``in_png`` does not exist.
    TypeError, ValueError
        On a bad artifact or arithmetic, an image that is not 8-bit grey/RGB, or
        an ``out_png`` that is a folder, cannot be written or has no image
        suffix; all checked before upscaling.
    """
    artifact, config = as_hklut(artifact)
    arithmetic = _check_arithmetic(arithmetic)
    out_png = check_output_file(out_png, "out_png")
    image_format(out_png, "out_png")
    return _upscale_one(artifact, config.scale, Path(in_png), out_png, arithmetic,
                        upscaler or _default_upscaler(), "in_png")


def _upscale_one(artifact: Artifact, scale: int, src: Path, dst: Path, arithmetic: str,
                 upscaler: Upscaler, name: str) -> Path:
    lr = read_image(src, name)
    sr = _run(upscaler, artifact, lr, arithmetic, scale, src.name)
    dst.parent.mkdir(parents=True, exist_ok=True)
    return write_image(dst, sr)


def _input_images(inputs: list[Path], field: str) -> list[Path]:
    """The files named, with each folder replaced by its image files (by name, not recursive)."""
    files = []
    for item in inputs:
        if item.is_dir():
            found = sorted(p for p in item.iterdir()
                           if p.is_file() and p.suffix.lower() in IMAGE_FORMATS)
            if not found:
                raise ValueError(f"{field}: folder {str(item)!r} holds no image file (suffixes "
                                 f"{', '.join(IMAGE_FORMATS)})")
            files += found
        elif item.is_file():
            files.append(item)
        else:
            raise FileNotFoundError(f"{field}: {str(item)!r} does not exist")
    if not files:
        raise ValueError(f"{field}: give at least one image or folder, got none")
    return files


def upscale_plan(inputs, out, *, inputs_field: str = "inputs",
                 out_field: str = "out") -> list[tuple[Path, Path]]:
    """Where :func:`upscale_files` writes each image: ``(input, output)`` pairs, all checked.

    One input file and an ``out`` with an image suffix (not an existing
    folder): ``out`` is the output file, in the format its suffix names.
    Otherwise ``out`` is a folder (made if missing) and ``<stem>.png`` is
    written there for each input; folders in ``inputs`` stand for their image
    files.

    Parameters
    ----------
    inputs : str or pathlib.Path or sequence of them
        Image files and folders of image files.
    out : str or pathlib.Path
        Output file or folder.
    inputs_field, out_field : str
        Names that start the error messages (the CLI passes its argument names).

    Raises
    ------
    FileNotFoundError
        If an input does not exist.
    ValueError
        For a folder without images, two inputs with one output name, an output
        that would replace its input, an unknown output suffix, or an output
        that cannot be written.
    """
    inputs = [Path(inputs)] if isinstance(inputs, (str, Path)) else [Path(i) for i in inputs]
    files = _input_images(inputs, inputs_field)
    out = Path(out)
    if len(inputs) == 1 and not inputs[0].is_dir() and not out.is_dir() and out.suffix:
        image_format(out, out_field)
        plan = [(files[0], check_output_file(out, out_field))]
    else:
        check_output_dir(out, out_field)
        plan, seen = [], {}
        for src in files:
            dst = out / f"{src.stem}.png"
            if dst in seen:
                raise ValueError(f"{out_field}: {str(seen[dst])!r} and {str(src)!r} would both "
                                 f"be written to {str(dst)!r}; upscale them into separate "
                                 f"folders")
            seen[dst] = src
            plan.append((src, dst))
    for src, dst in plan:
        if dst.exists() and dst.resolve() == src.resolve():
            raise ValueError(f"{out_field}: writing {str(dst)!r} would replace its input; "
                             f"choose another output")
    return plan


def upscale_files(artifact, inputs, out, arithmetic: str = "exact", *,
                  upscaler: Upscaler | None = None, progress: bool = False,
                  inputs_field: str = "inputs", out_field: str = "out") -> list[Path]:
    """Upscale several image files (or folders of them) in one call; return the files written.

    Everything is checked before the first image is read (:func:`upscale_plan`
    says where each output goes); each image is then read, upscaled and
    written as by :func:`upscale_file`, so a folder costs one process and one
    artifact load, not one per image.

    Parameters
    ----------
    artifact : Artifact or str or pathlib.Path
        An HKLUT artifact, or the path of one.
    inputs, out, inputs_field, out_field
        As :func:`upscale_plan`.
    arithmetic : {"exact", "float32"}
        Readout arithmetic of the golden model.
    upscaler : callable, optional
        ``upscaler(artifact, lr, arithmetic=...)``; defaults to the golden model.
    progress : bool
        Show a rich progress bar, one step per image.

    Raises
    ------
    As :func:`upscale_plan` and :func:`upscale_file`; an image refused by
    :func:`~edgeforge.images.read_image` stops the run at that image, naming it.
    """
    artifact, config = as_hklut(artifact)
    arithmetic = _check_arithmetic(arithmetic)
    plan = upscale_plan(inputs, out, inputs_field=inputs_field, out_field=out_field)
    upscaler = upscaler or _default_upscaler()
    written = []
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("upscaling", total=len(plan))
        for src, dst in plan:
            bar.update(task, description=f"x{config.scale} {arithmetic}: {src.name}")
            written.append(_upscale_one(artifact, config.scale, src, dst, arithmetic, upscaler,
                                        f"image {str(src)!r}"))
            bar.advance(task)
    return written
