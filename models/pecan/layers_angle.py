"""PECAN-A conv2d / linear layers of the network's QAT model (transform kind ``pecan-a``).

The geometry (groups of the im2col windows or of a linear's input), the codebook init, the
dense warm-up and the tables ``Y_j = W_j C_j`` are PECAN-D's (:mod:`.layers`); the match
is the angle one (:mod:`.pq_angle`): before calibration the float ``C_j softmax(C_j^T
x_j)``; after it, the integer arithmetic of
:class:`~edgeforge.schemes.network.PecanATransform` step by step, so that the fixed-point
network in torch is the golden model (:mod:`edgeforge.sim.golden.pecan_a`) and the RTL:

- the codebook is signed ``codebook_bits`` on its own grid ``2**-f_c`` (``f_c`` the
  finest that holds ``max |C|``; a dot product is then on ``2**-(a_in + f_c)``);
- ``exp_shift`` makes one exp table entry stand for :data:`EXP_STEP` to twice that units of
  ``beta (max_q s_q - s_q)`` (real), and the exp and reciprocal tables are the exporter's
  (:func:`~edgeforge.schemes.network.softmax_tables`) at the step ``beta 2**(exp_shift -
  a_in - f_c)``;
- the tables are signed ``table_bits`` on ``2**-f_y`` (``f_y`` the finest that holds
  ``max |W C|``), so that a group's normalised contribution, whose softmax weights sum to
  about ``2**exp_bits``, and the bias are on ``2**-(exp_bits + f_y)``: the layer's
  ``f_w`` is ``exp_bits + f_y - a_in``, and ``shift = a_in + f_w - a_out`` reads as for
  every other kind. ``f_c`` is the one exponent more in the artifact's ``scales``.

``beta`` is the softmax's sharpness (an inverse temperature), one per layer, trained as
``log_sharpness`` and initialised from the data (:meth:`init_from_data`: the dot products'
spread over the prototypes becomes :data:`INIT_SPREAD`). The paper's is 1, for inputs
normalised to unit variance; on digits' pixels ``x / 256`` and the activations after them
the dot products differ by a fraction of a unit, so the softmax at 1 is nearly uniform.
``beta`` costs no hardware: it is only the exp table's step. What ``beta`` cannot mend: with
non-negative inputs (pixels, activations after a relu) and prototypes, the largest dot
product is mostly that of the group's largest-norm prototype whatever the input, so PECAN-A
conv layers on digits-ref collapse to one match and the network trains to chance; PECAN-A
linears behind dense convs train. The transform's option ``prototype_offsets`` (off unless
the layer's spec says so) mends it: each score gets ``-|C_j[q]|**2 / 2``
(:meth:`offsets_int` on the dot products' grid, exported as ``l{i}_offset``), which makes it
a negative squared distance up to a constant of the input, so that every layer PECAN-A
trains (``python -m edgeforge.bench.pecan_a_qat`` measures all three).

Accumulators reach past float32's exact integers (``2**24``), so the fixed-point forward
runs in float64. Gradients: rounding passes them straight through; the table lookups of
the softmax pass none, so the backward is that of the float softmax ``2**exp_bits sum_q
softmax(s)_q Y_int[:, q]`` on the same integer codebook and tables (the forward is exactly
the integer one: ``hard + (soft - soft.detach())``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...schemes.network import MAX_SHIFT, softmax_tables
from ..network.quant import exponent_for, register, requantize, round_half_up, signed_max
from .layers import PecanDConv2d, PecanDLinear
from .pq_angle import PQAConv2d, PQALinear, distance_offsets

__all__ = ["EXP_STEP", "INIT_SPREAD", "exp_shift_for", "PecanAConv2d", "PecanALinear"]

#: The least real difference to the row's maximum that one exp table entry stands for (at
#: most twice it: the step is a power of two on the dot products' grid). The last of 64
#: entries then stands for at least 7.9 units, where ``exp(-7.9) 2**8`` rounds to 0.
EXP_STEP = 0.125
#: The standard deviation of ``beta s_q`` over a group's prototypes (mean over the groups
#: and the sampled inputs) that :meth:`_AngleLayer.init_from_data` gives ``beta``.
INIT_SPREAD = 2.0


def exp_shift_for(dot_exponent: int, sharpness: float = 1.0) -> int:
    """``exp_shift`` for dot products on ``2**-dot_exponent`` and a softmax of sharpness
    ``beta``: an entry at least :data:`EXP_STEP` units of ``beta s`` (twice that at most,
    unless the shift is 0)."""
    return min(MAX_SHIFT, max(0, math.ceil(math.log2(EXP_STEP / sharpness)) + dot_exponent))


class _AngleLayer:
    """The part the conv2d and linear kinds share, in front of PECAN-D's layer."""
    transform = "pecan-a"
    own_fields = ("groups", "group_size", "prototypes", "table_bits", "codebook_bits",
                  "exp_bits", "exp_entries", "recip_bits", "recip_shift")

    def __init__(self, spec: dict, unsigned: bool):
        super().__init__(spec, unsigned)
        #: The transform's option (absent from the spec: off): each score gets
        #: ``-|C_j[q]|**2 / 2`` (:func:`~.pq_angle.distance_offsets`).
        self.prototype_offsets = bool(spec.get("prototype_offsets", False))
        self.register_buffer("offset_int", None)
        self.f_c = None
        self.exp_shift = spec.get("exp_shift")
        self.log_sharpness = nn.Parameter(torch.zeros(()))
        self.register_buffer("exp_table", None)
        self.register_buffer("recip_table", None)
        #: The exp table is the artifact's (loaded), not one of the current sharpness.
        self.tables_loaded = False

    @property
    def sharpness(self) -> torch.Tensor:
        return self.log_sharpness.exp()

    # -- float -----------------------------------------------------------------------------
    def op(self, x, weight, bias):
        v = self.vectors(x)
        if not self.warmup:
            v = self.pq.quantise(v, self.sharpness, self.prototype_offsets)
        return self.outputs(v @ self.matrix(weight).T + bias, x)

    # -- fixed point -------------------------------------------------------------------
    def codebook_int(self) -> torch.Tensor:
        """``C_int`` ``(D, p, d)``: signed ``codebook_bits`` on ``2**-f_c``."""
        q = signed_max(self.codebook_bits)
        return torch.clamp(round_half_up(self.pq.codebook * 2.0 ** self.f_c), -q, q)

    def offsets_int(self) -> torch.Tensor:
        """The scores' offsets ``(D, p)`` on the dot products' grid ``2**-(a_in + f_c)``
        (float tensor of integers): ``round_half_up(-|C_int|**2 2**(a_in - f_c - 1))``, the
        integer codebook's :func:`~.pq_angle.distance_offsets`; the artifact's when loaded."""
        if self.offset_int is not None:
            return self.offset_int
        cb = self.codebook_int()
        return round_half_up(-(cb * cb).sum(-1) * 2.0 ** (self.a_in - self.f_c - 1))

    @property
    def codebook_exponent(self) -> int:
        return self.f_c

    @property
    def table_exponent(self) -> int:
        return self.acc_exponent - self.exp_bits

    def accumulate(self, x: torch.Tensor) -> torch.Tensor:
        """The accumulator (float64, on ``2**-acc_exponent``): the integer steps of
        :class:`~edgeforge.schemes.network.PecanATransform` forward, the float softmax's
        gradient backward."""
        if not self.tables_loaded:
            self._softmax_tables()                  # the sharpness moves as it trains
        v = self.vectors(x).double()
        x_int = v.reshape(*v.shape[:-1], self.groups, self.group_size) * 2.0 ** self.a_in
        cb = self.codebook_int().double()
        tables = self.tables_int().double()                              # (D, O, p)
        s = torch.einsum("npjd,jqd->npjq", x_int, cb)                    # exact dots
        if self.prototype_offsets:
            s = s + self.offsets_int().double()
        with torch.no_grad():
            diff = s.max(-1, keepdim=True).values - s
            index = torch.clamp(torch.floor(diff * 2.0 ** -self.exp_shift),
                                max=len(self.exp_table) - 1).long()
            e = self.exp_table.double()[index]
            z = e.sum(-1)
            u = torch.einsum("npjq,joq->npjo", e, tables)
            r = self.recip_table.double()[torch.floor(z * 2.0 ** -self.recip_shift).long()]
            hard = torch.floor(u * r[..., None] * 2.0 ** -(self.recip_bits - 1)).sum(-2)
        weights = torch.softmax(self.sharpness.double() * s * 2.0 ** -(self.a_in + self.f_c),
                                dim=-1)
        soft = torch.einsum("npjq,joq->npo", weights, tables) * 2.0 ** self.exp_bits
        acc = hard + (soft - soft.detach()) + self.bias_int().double()
        return self.outputs(acc * 2.0 ** -self.acc_exponent, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.quantized:
            return super().forward(x)
        y = requantize(self.accumulate(x), self.a_out, self.out_bits, self.unsigned)
        return y.to(x.dtype)

    def calibrate_weights(self, a_in: int) -> None:
        """``a_in``, the codebook's ``f_c`` from ``max |C|``, ``exp_shift`` and the softmax
        tables, then the tables' exponent from ``max |W C|`` (no entry saturates)."""
        self.a_in = a_in
        self.f_c = exponent_for(self.pq.codebook.detach().abs().max().item(),
                                signed_max(self.codebook_bits))
        self._softmax_tables()
        largest = self.tables_float().detach().abs().max().item()
        self.f_w = exponent_for(largest, signed_max(self.table_bits)) + self.exp_bits - a_in

    def _softmax_tables(self) -> None:
        beta = self.sharpness.item()
        self.exp_shift = exp_shift_for(self.a_in + self.f_c, beta)
        exp, recip = softmax_tables(self.fields_softmax(),
                                    beta * 2.0 ** (self.exp_shift - self.a_in - self.f_c))
        self.exp_table = torch.from_numpy(exp.astype("int64"))
        self.recip_table = torch.from_numpy(recip.astype("int64"))

    def fields_softmax(self) -> dict:
        return {k: getattr(self, k) for k in ("prototypes", "exp_bits", "exp_entries",
                                              "recip_bits", "recip_shift")}

    def set_schedule(self, step: int, steps: int) -> None:
        """No surrogate gradient to sharpen: the softmax is differentiable."""

    @torch.no_grad()
    def init_from_data(self, x: torch.Tensor, generator: torch.Generator) -> None:
        """PECAN-D's codebook init, then ``beta`` from the scores (the dot products, plus
        the offsets with ``prototype_offsets``) of another sample of the same kind
        (:meth:`~.layers.PecanDLayer.init_samples`) with it (:data:`INIT_SPREAD`)."""
        super().init_from_data(x, generator)
        v = self.init_samples(x, generator).reshape(-1, self.groups, self.group_size)
        s = torch.einsum("njd,jpd->njp", v, self.pq.codebook)
        if self.prototype_offsets:
            s = s + distance_offsets(self.pq.codebook)
        spread = s.std(dim=-1).mean().item() if self.prototypes > 1 else 0.0
        self.log_sharpness.fill_(math.log(INIT_SPREAD / spread) if spread > 0 else 0.0)

    # -- artifact ----------------------------------------------------------------------
    def fields(self) -> dict:
        # The option only when on: a layer without it exports the dict it always did.
        on = {"prototype_offsets": True} if self.prototype_offsets else {}
        return {**super().fields(), "exp_shift": self.exp_shift, **on}

    def exponents(self) -> dict:
        return {**super().exponents(), "f_c": self.f_c}

    def set_scales(self, scales: dict, where: str) -> None:
        f_c = scales.get("f_c")
        if not isinstance(f_c, int) or isinstance(f_c, bool):
            raise ValueError(f"{where}.f_c must be an integer (the codebook's exponent of a "
                             f"pecan-a layer), got {f_c!r}")
        super().set_scales(scales, where)
        self.f_c = f_c

    @torch.no_grad()
    def arrays(self, index: int) -> dict:
        """PECAN-D's codebook (int8), table and bias arrays, and ``l{index}_exp`` /
        ``l{index}_recip`` (uint16)."""
        out = super().arrays(index)
        out[f"l{index}_codebook"] = self.codebook_int().to(torch.int8).numpy()
        out[f"l{index}_exp"] = self.exp_table.to(torch.int32).numpy().astype("uint16")
        out[f"l{index}_recip"] = self.recip_table.to(torch.int32).numpy().astype("uint16")
        if self.prototype_offsets:
            offsets = self.offsets_int()
            if offsets.abs().max() >= 2 ** 31:
                raise ValueError(f"layers[{index}] prototype offsets need more than the format's "
                                 f"32 bits (largest {int(offsets.abs().max())}); lower its input "
                                 f"exponent")
            out[f"l{index}_offset"] = offsets.to(torch.int64).numpy().astype("int32")
        return out

    @torch.no_grad()
    def load_arrays(self, index: int, arrays: dict) -> None:
        dtype = self.bias.dtype
        self.pq.codebook.copy_(torch.from_numpy(arrays[f"l{index}_codebook"].astype("float64"))
                               * 2.0 ** -self.f_c)
        self.table_int = torch.from_numpy(arrays[f"l{index}_table"].astype("float64")).to(dtype)
        self.exp_table = torch.from_numpy(arrays[f"l{index}_exp"].astype("int64"))
        self.recip_table = torch.from_numpy(arrays[f"l{index}_recip"].astype("int64"))
        self.tables_loaded = True
        if self.prototype_offsets:
            self.offset_int = torch.from_numpy(arrays[f"l{index}_offset"].astype("float64"))
        b = torch.from_numpy(arrays[f"l{index}_bias"].astype("float64"))
        self.bias.copy_(b * 2.0 ** -self.acc_exponent)


@register
class PecanAConv2d(_AngleLayer, PecanDConv2d):
    """``conv2d`` with the PECAN-A transform: stride 1, zero padding, tap-major windows."""
    pq_type = PQAConv2d


@register
class PecanALinear(_AngleLayer, PecanDLinear):
    """``linear`` with the PECAN-A transform: the input vector in torch's order."""
    pq_type = PQALinear
