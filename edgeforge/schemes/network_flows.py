"""Classifier networks' user-facing parts: the design options of ``generate``, ``verify`` and
``cost`` (training and evaluation are the model side's, ``edgeforge.models.network``).

The CLI (``edgeforge.cli``) assembles these; nothing here parses ``sys.argv``.
"""

from __future__ import annotations

from . import Option

__all__ = ["DESIGN_OPTIONS", "folding_arg"]


def folding_arg(text: str):
    """``folded``, ``parallel`` or ``PExSIMD`` pairs, one per conv2d/linear layer
    (``2x3,4x8,4x8,5x4``); the design checks that each divides its layer."""
    import argparse
    if text in ("folded", "parallel", "balanced"):
        return text
    try:
        return [tuple(int(v) for v in pair.split("x")) for pair in text.split(",") if pair]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected folded, parallel or PExSIMD pairs such as "
                                         f"2x3,4x8, got {text!r}") from None


DESIGN_OPTIONS = (
    Option(("--folding",), "folding", {
        "type": folding_arg, "metavar": "F",
        "help": "networks: folded (PE = SIMD = 1, the smallest; default), parallel (every layer "
                "at once), balanced (each layer with the fewest MACs that keeps the fastest "
                "interval) or PExSIMD per conv/linear layer, e.g. 2x3,4x8,4x8,5x4"}),
    Option(("--pixels-per-beat",), "pixels_per_beat", {
        "type": int, "metavar": "P",
        "help": "networks: input pixels per beat (a divisor of the image's pixels)"}),
    Option(("--logits",), "logits", {
        "action": "store_const", "const": True,
        "help": "networks: the output beat carries the logits above the class"}),
    Option(("--layer",), "layer", {
        "type": int, "metavar": "I",
        "help": "networks: generate layer I (a conv2d, linear or maxpool) alone"}),
    Option(("--buffer-ram",), "buffer_ram", {
        "metavar": "KIND",
        "help": "memory of the line buffers: auto (default), block or lut"}),
)
