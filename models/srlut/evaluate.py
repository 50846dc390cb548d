"""Score an SR-LUT / MuLUT artifact against bicubic: Y-PSNR/SSIM of the golden model's output.

The same convention and report as HKLUT's (:mod:`edgeforge.models.hklut.evaluate`):
PSNR with a border shave of the scale, SSIM without, Pillow bicubic as the
baseline, the built-in test photos unless pairs are given.
"""

from __future__ import annotations

from pathlib import Path

from ...artifact import Artifact, load
from ...schemes.srlut import SRLUTConfig
from ...sim.golden import srlut as golden
from ..hklut.evaluate import EvalReport, ImageScore, _check_pairs, _mean, bicubic_upscale
from ..metrics import psnr_y, ssim_y

__all__ = ["as_srlut", "evaluate"]


def as_srlut(artifact) -> tuple[Artifact, SRLUTConfig]:
    """An SR-LUT artifact (loading it when given a path) and its parsed config."""
    if isinstance(artifact, (str, Path)):
        artifact = load(artifact)
    if not isinstance(artifact, Artifact):
        raise TypeError(f"artifact must be an Artifact or a path to one, got "
                        f"{type(artifact).__name__}")
    if artifact.scheme != "srlut":
        raise ValueError(f"artifact must be an SR-LUT artifact, got scheme {artifact.scheme!r}")
    return artifact, SRLUTConfig.from_dict(artifact.config)


def evaluate(artifact, pairs=None, *, simplex: str = "fixed") -> EvalReport:
    """Mean and per-image Y-PSNR/SSIM of the golden readout and of bicubic.

    Parameters
    ----------
    artifact : Artifact or str or pathlib.Path
    pairs : list of (str, numpy.ndarray, numpy.ndarray), optional
        ``uint8`` LR and HR, HR exactly ``scale`` times LR; default the
        built-in test photos (``edgeforge.models.data.builtin_pairs(scale, "test")``).
    simplex : {"fixed", "authors"}

    Returns
    -------
    EvalReport
        ``arithmetic`` holds ``"<simplex> simplex"``.

    Raises
    ------
    ValueError
        For malformed pairs, or an LR image below the kernel set's
        :func:`~edgeforge.sim.golden.srlut.min_size`, naming it.
    """
    artifact, config = as_srlut(artifact)
    scale = config.scale
    if pairs is None:
        from ..data import builtin_pairs
        pairs = builtin_pairs(scale, "test")
    scores = []
    least = golden.min_size(config)
    for i, (name, lr, hr) in enumerate(_check_pairs(pairs, scale)):
        if min(lr.shape[:2]) < least:
            # The golden model's own error would not say which of the images it was.
            raise ValueError(f"pairs[{i}] ({name!r}) lr must be at least {least}x{least} pixels "
                             f"for kernel set {config.kernels!r} (its {config.padding} padding "
                             f"needs it), got size {tuple(lr.shape[:2])!r}")
        sr = golden.upscale(artifact, lr, simplex=simplex)
        bic = bicubic_upscale(lr, scale)
        scores.append(ImageScore(name, psnr_y(sr, hr, scale), ssim_y(sr, hr),
                                 psnr_y(bic, hr, scale), ssim_y(bic, hr)))
    label = str(artifact.path) if artifact.path is not None else artifact.short_hash
    return EvalReport(scale=scale, arithmetic=f"{simplex} simplex", images=scores,
                      mean=_mean(scores), artifact=label)
