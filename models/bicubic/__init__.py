"""Quality of the integer bicubic baseline on the built-in test photos (no training: the
"model" is the fixed kernel of ``edgeforge.schemes.bicubic``).

Each photo's LR image is ``edgeforge.models.data.builtin_pairs``' (the HKLUT
benchmarks' pairs); the scores are HKLUT's (``edgeforge.models.metrics``: BT.601 Y,
PSNR with a ``scale``-pixel shave, SSIM), for the integer golden model (what the engine
streams out) and for Pillow's ``BICUBIC`` resize beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = ["SHIPPED", "PhotoScore", "evaluate", "render_table"]

#: The x4, 8-fraction-bit artifact that ships (``edgeforge bicubic-artifact -o ...``), for
#: ``edgeforge compare``'s ``shipped:bicubic-x4``.
SHIPPED = Path(__file__).resolve().parent / "shipped" / "bicubic-x4.npz"


@dataclass(frozen=True)
class PhotoScore:
    """Y-PSNR/SSIM against HR of the integer model and of Pillow, and their agreement."""
    name: str
    psnr: float
    ssim: float
    pillow_psnr: float
    pillow_ssim: float
    psnr_vs_pillow: float          # the integer output against Pillow's, Y, same shave
    max_diff_vs_float: int         # levels, against the float64 model with the exact kernel

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(artifact_or_config, pairs=None) -> list[PhotoScore]:
    """One :class:`PhotoScore` per ``(name, LR, HR)`` pair (default: the built-in test
    photos at the config's scale), then their mean (named ``"mean"``)."""
    from edgeforge.sim.golden.bicubic import float_upscale, pillow_upscale, resolve, upscale
    from ..data import builtin_pairs
    from ..metrics import psnr_y, ssim_y
    config = resolve(artifact_or_config)
    s = config.scale
    scores = []
    for name, lr, hr in pairs if pairs is not None else builtin_pairs(s, "test"):
        ours, pil = upscale(config, lr), pillow_upscale(s, lr)
        diff = int(np.abs(ours.astype(int) - float_upscale(s, lr)).max())
        scores.append(PhotoScore(name, psnr_y(ours, hr, s), ssim_y(ours, hr), psnr_y(pil, hr, s),
                                 ssim_y(pil, hr), psnr_y(ours, pil, s), diff))
    mean = PhotoScore("mean", *(float(np.mean([getattr(x, f) for x in scores]))
                                for f in ("psnr", "ssim", "pillow_psnr", "pillow_ssim",
                                          "psnr_vs_pillow")),
                      max(x.max_diff_vs_float for x in scores))
    return scores + [mean]


def render_table(scores: list[PhotoScore], title: str):
    """The scores as a rich table."""
    from rich.table import Table
    table = Table(title=title, caption="Y = BT.601 luma; PSNR border shave = scale; Pillow = "
                                       "Image.resize(BICUBIC) of the same LR image")
    table.add_column("image")
    for header in ("PSNR", "SSIM", "Pillow PSNR", "Pillow SSIM", "vs Pillow dB",
                   "max |diff| vs float"):
        table.add_column(header, justify="right")
    for s in scores:
        table.add_row(s.name, f"{s.psnr:.2f}", f"{s.ssim:.4f}", f"{s.pillow_psnr:.2f}",
                      f"{s.pillow_ssim:.4f}", f"{s.psnr_vs_pillow:.2f}", str(s.max_diff_vs_float),
                      style="bold" if s.name == "mean" else None)
    return table
