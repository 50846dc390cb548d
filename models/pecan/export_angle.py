"""Post-training export of a float PECAN-A MLP (flatten, PQ-A linears, relus) to a ``network``
artifact whose layers are ``pecan-a`` (:class:`~edgeforge.schemes.network.PecanATransform`).

Every scale is a power of two, chosen from the float parameters and the activations on
calibration images (no quantisation-aware training: this is the quick route to a golden
and RTL accuracy of a trained PECAN-A network). A layer whose input is on ``2**-a_in``:

- codebook ``C_int = round(C 2**f_c)`` in signed ``CODEBOOK_BITS`` (``f_c`` the largest that
  holds ``max |C|``), so a dot product ``s_int`` is ``s 2**(a_in + f_c)``;
- exp table of ``EXP_ENTRIES`` entries of ``EXP_BITS``, ``exp_shift`` the one that makes an
  entry stand for about ``EXP_STEP`` real units (the step :func:`softmax_tables` is given
  is the exact one, ``2**(exp_shift - a_in - f_c)``), so that the table spans about
  ``EXP_ENTRIES x EXP_STEP`` real units below the maximum; the reciprocal of
  ``RECIP_BITS``, ``Z`` grouped by ``2**RECIP_SHIFT``;
- tables ``Y_int = round(W_j C_j 2**f_y)`` in signed ``TABLE_BITS``, bias
  ``round(b 2**(exp_bits + f_y))`` (the softmax weights sum to about ``2**exp_bits``);
- output on ``2**-a_out``, ``a_out`` the largest that holds the calibration maximum in
  ``OUT_BITS`` (unsigned after a relu, else signed), ``shift = exp_bits + f_y - a_out``.

The image pixels (0..255) are taken as ``x 2**-8``; a float model trained on ``x / 255`` sees
them 0.4 % larger, one of the documented quantisation differences.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ...artifact import Artifact, check
from ...schemes.network import softmax_tables
from .pq_angle import PQALinear

__all__ = ["CODEBOOK_BITS", "TABLE_BITS", "EXP_BITS", "EXP_ENTRIES", "EXP_STEP", "RECIP_BITS",
           "RECIP_SHIFT", "OUT_BITS", "export_angle_mlp"]

CODEBOOK_BITS, TABLE_BITS, OUT_BITS = 8, 16, 8
EXP_BITS, EXP_ENTRIES, EXP_STEP = 10, 64, 0.125
RECIP_BITS, RECIP_SHIFT = 12, 2


def _exponent(peak: float, bits: int) -> int:
    """The largest ``f`` with ``peak 2**f <= 2**bits - 1``."""
    return math.floor(math.log2(((1 << bits) - 1) / max(peak, 1e-12)))


def export_angle_mlp(model: nn.Sequential, calibration: np.ndarray, *,
                     provenance: dict | None = None) -> Artifact:
    """The ``network`` artifact of ``model`` (``nn.Flatten`` optional, then :class:`PQALinear`
    and ``nn.ReLU`` layers) on 8x8 one-channel uint8 images; ``calibration`` uint8 images
    ``(N, 1, 8, 8)`` set the output scales.

    Raises
    ------
    ValueError
        For a module other than those, or a bias that needs more than 32 bits.
    """
    modules = [m for m in model if not isinstance(m, nn.Flatten)]
    for m in modules:
        if not isinstance(m, (PQALinear, nn.ReLU)):
            raise ValueError(f"model must hold PQALinear and ReLU layers, got {type(m).__name__}")
    x = torch.from_numpy(calibration.reshape(len(calibration), -1).astype(np.float32) / 256)
    layers, arrays, a_in = [{"kind": "flatten"}], {}, 8
    for k, m in enumerate(modules):
        if isinstance(m, nn.ReLU):
            layers.append({"kind": "relu"})
            continue
        index = len(layers)
        relu = k + 1 < len(modules) and isinstance(modules[k + 1], nn.ReLU)
        with torch.no_grad():
            cb = m.codebook.double().numpy()
            tables = m.tables(m.matrix()).double().numpy()              # (D, O, p)
            bias = m.linear.bias.double().numpy()
            y = m(x)
            x = torch.relu(y) if relu else y
        f_c = _exponent(np.abs(cb).max(), CODEBOOK_BITS - 1)
        f_y = _exponent(np.abs(tables).max(), TABLE_BITS - 1)
        peak = float(x.abs().max())
        a_out = min(_exponent(peak, OUT_BITS if relu else OUT_BITS - 1), EXP_BITS + f_y)
        exp_shift = max(0, round(math.log2(EXP_STEP)) + a_in + f_c)
        fields = {"kind": "linear", "transform": "pecan-a", "in_features": m.linear.in_features,
                  "out_features": m.linear.out_features, "bias_bits": 32,
                  "shift": EXP_BITS + f_y - a_out, "out_bits": OUT_BITS, "groups": m.groups,
                  "group_size": m.group_size, "prototypes": m.prototypes,
                  "table_bits": TABLE_BITS, "codebook_bits": CODEBOOK_BITS, "exp_bits": EXP_BITS,
                  "exp_entries": EXP_ENTRIES, "exp_shift": exp_shift, "recip_bits": RECIP_BITS,
                  "recip_shift": RECIP_SHIFT}
        exp, recip = softmax_tables(fields, 2.0 ** (exp_shift - a_in - f_c))
        bias_int = np.rint(bias * 2.0 ** (EXP_BITS + f_y))
        if np.abs(bias_int).max() >= 2 ** 31:
            raise ValueError(f"layer {index}'s bias needs more than 32 bits at 2**{EXP_BITS + f_y}")
        lim = (1 << (CODEBOOK_BITS - 1)) - 1
        arrays.update({f"l{index}_codebook": np.clip(np.rint(cb * 2.0 ** f_c), -lim - 1,
                                                     lim).astype(np.int8),
                       f"l{index}_table": np.rint(tables * 2.0 ** f_y).astype(np.int16),
                       f"l{index}_bias": bias_int.astype(np.int32),
                       f"l{index}_exp": exp, f"l{index}_recip": recip})
        layers.append(fields)
        a_in = a_out
    layers.append({"kind": "argmax"})
    config = {"input": {"channels": 1, "height": 8, "width": 8, "bits": 8}, "layers": layers}
    return check(Artifact(scheme="network", config=config, arrays=arrays,
                          provenance=provenance or {"source": "export_angle_mlp"}))
