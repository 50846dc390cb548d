"""The bicubic scheme's user-facing parts: design options (the HKLUT engine's, where they
apply), ``evaluate``, the ``bicubic-artifact`` command, and the comparison's task metric.

The CLI (``edgeforge.cli``) assembles these; nothing here parses ``sys.argv``.
"""

from __future__ import annotations

from rich.console import Console

from . import Command
from .hklut_flows import DESIGN_OPTIONS as _HKLUT_DESIGN_OPTIONS

__all__ = ["DESIGN_OPTIONS", "COMMANDS", "evaluate", "task_metric"]

console = Console()

# The same flags as HKLUT's (the CLI defines a shared flag once; both schemes read it).
DESIGN_OPTIONS = tuple(o for o in _HKLUT_DESIGN_OPTIONS
                       if o.key in ("width", "height", "out_pixels", "channels", "buffer_ram",
                                    "axis"))


def evaluate(args, art) -> int:
    """``edgeforge evaluate bicubic.npz``: Y-PSNR/SSIM on the built-in photos, Pillow beside."""
    from ..models.bicubic import evaluate as run_evaluation, render_table
    from ..paths import check_output_dir
    scores = run_evaluation(art)
    console.print(render_table(scores, f"integer bicubic x{art.config['scale']}, "
                                       f"{art.config['coef_bits']} fraction bits"))
    if args.output:
        from .. import jsonfile
        out = check_output_dir(args.output, "-o/--output")
        out.mkdir(parents=True, exist_ok=True)
        path = jsonfile.write(out / "eval.json", [s.to_dict() for s in scores], indent=2)
        console.print(f"  wrote {path}")
    return 0


def task_metric(art) -> dict:
    """The comparison's task figure: the golden model's (= RTL's) mean Y-PSNR on the
    built-in scikit-image photos, Pillow's bicubic beside it (as HKLUT's)."""
    from ..models.bicubic import evaluate as run_evaluation
    mean = run_evaluation(art)[-1]
    return {"name": "psnr_db", "what": "Y-PSNR dB, scikit-image photos (golden = RTL)",
            "value": mean.psnr, "bicubic": mean.pillow_psnr}


def _artifact_arguments(p) -> None:
    from .bicubic import COEF_BITS, DEFAULT_COEF_BITS, SCALES
    p.add_argument("-o", "--output", required=True, help="artifact file (.npz)")
    p.add_argument("--scale", type=int, default=4, choices=SCALES, help="upscaling factor")
    p.add_argument("--coef-bits", type=int, default=DEFAULT_COEF_BITS, choices=COEF_BITS,
                   help=f"fractional bits of each 1-D coefficient (default {DEFAULT_COEF_BITS}; "
                        f"10 is the exact kernel at x4)")


def _artifact(args) -> int:
    from ..artifact import save
    from ..paths import check_output_file
    from .bicubic import BicubicConfig, default_artifact
    check_output_file(args.output, "-o/--output")
    art = default_artifact(args.scale, args.coef_bits)
    out = save(art, args.output)
    coefs = BicubicConfig.from_dict(art.config).coefficients()
    console.print(f"bicubic x{args.scale}, coefficients /2^{args.coef_bits} per phase: {coefs}; "
                  f"wrote [bold]{out}[/] ({art.short_hash})")
    return 0


COMMANDS = (
    Command("bicubic-artifact", "write a bicubic interpolation artifact (no training needed)",
            _artifact_arguments, _artifact),
)
