"""HKLUT on the model side: training, LUT transfer and import, evaluation and storage accounting."""

from pathlib import Path

__all__ = ["PRETRAINED"]

# HKLUT-S x4 trained by this code on built-in photos (see pretrained/README.md);
# ours to ship, unlike the authors' released tables.
PRETRAINED = Path(__file__).resolve().parent / "pretrained" / "hklut-s-x4.npz"
