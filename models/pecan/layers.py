"""PECAN-D conv2d / linear layers of the network's QAT model (transform kind ``pecan-d``).

They are :class:`~edgeforge.models.network.quant.QuantLayer` subclasses, so a network
mixes them freely with dense layers and trains, calibrates and exports through the same
code (:mod:`edgeforge.models.network.train`, ``.export``). Before calibration the forward
is the float PQ layer of :mod:`.pq` (hard L1 match forward, soft assignment and tanh
surrogate backward); after it, the hardware's integers on power-of-two grids, in float:

- the codebook is on the layer input's own grid and type: ``C_int = clip(round_half_up(C
  2**a_in))`` to the input's ``(bits, signed)`` range (the pixels, or the previous layer's
  clip), so that the L1 distances to the integer inputs are exact integers;
- the tables ``Y_j = W_j (C_int 2**-a_in)`` are quantised to signed ``table_bits`` on the
  accumulator's grid ``2**-(a_in + f_w)``: ``Y_int = clip(round_half_up(Y 2**(a_in + f_w)),
  +-(2**(table_bits - 1) - 1))``. ``f_w`` (the artifact's ``scales``) is the table's
  exponent less ``a_in``, as for a dense layer the weights' is, so that ``shift = a_in +
  f_w - a_out`` reads the same for both kinds;
- ``acc = b_int + sum_j Y_int[j, :, k_j]`` then the shift requantisation of the dense layer.

The float weights ``W`` are never exported: only the tables they make. Rounding passes
gradients straight through, so QAT trains the codebooks (through the distances and the
tables) and, unless frozen, the weights (through the tables).
"""

from __future__ import annotations

import torch
from torch import nn

from ..network.quant import QuantLayer, exponent_for, register, round_half_up, signed_max
from .pq import PQConv2d, PQLinear, assign, l1_distance, surrogate_slope

__all__ = ["PecanDLayer", "PecanDConv2d", "PecanDLinear"]


class PecanDLayer(QuantLayer):
    """The part shared by the conv2d and linear kinds; :attr:`pq` holds the torch layer and
    the codebook ``(D, p, d)``.

    Attributes
    ----------
    table_int : torch.Tensor or None
        The artifact's tables ``(D, out, p)`` when the layer was loaded from one
        (:meth:`load_arrays`); ``None``: the tables are ``W C`` of the trained weights.
    """
    transform = "pecan-d"
    own_fields = ("groups", "group_size", "prototypes", "table_bits")
    #: Input vectors sampled (over the batch and the positions) for the codebook init.
    INIT_SAMPLES = 4096
    #: Lloyd iterations of the k-medians codebook init.
    KMEDIANS_ITERATIONS = 8

    def __init__(self, spec: dict, unsigned: bool, pq):
        super().__init__(spec, unsigned)
        self.pq = pq
        self.warmup = False
        self.register_buffer("table_int", None)

    # -- geometry (the artifact's vector order) ------------------------------------------
    def vectors(self, x: torch.Tensor) -> torch.Tensor:
        """The input vectors ``(N, positions, D d)``."""
        raise NotImplementedError

    def outputs(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``y`` ``(N, positions, out)`` in the layer's output shape."""
        raise NotImplementedError

    def matrix(self, weight: torch.Tensor) -> torch.Tensor:
        """The weights ``(out, D d)`` in the vectors' order."""
        raise NotImplementedError

    # -- float -----------------------------------------------------------------------------
    def op(self, x, weight, bias):
        v = self.vectors(x)
        if not self.warmup:
            v = self.pq.quantise(v)
        return self.outputs(v @ self.matrix(weight).T + bias, x)

    # -- fixed point -------------------------------------------------------------------
    def _input_range(self) -> tuple[int, int]:
        bits, signed = self.in_type
        return (-(1 << (bits - 1)), signed_max(bits)) if signed else (0, (1 << bits) - 1)

    def codebook_int(self) -> torch.Tensor:
        """``C_int`` ``(D, p, d)`` as the forward uses it (float tensor of integers)."""
        lo, hi = self._input_range()
        return torch.clamp(round_half_up(self.pq.codebook * 2.0 ** self.a_in), lo, hi)

    @property
    def codebook_exponent(self) -> int:
        """The codebook's grid ``2**-e``: the input's own (PECAN-A's has its own)."""
        return self.a_in

    @property
    def table_exponent(self) -> int:
        """The tables' grid ``2**-e``: the accumulator's (PECAN-A's is ``exp_bits`` coarser)."""
        return self.acc_exponent

    def tables_float(self) -> torch.Tensor:
        """``W_j C_j`` ``(D, out, p)`` on the integer codebook, before rounding."""
        w = self.matrix(self.weight).reshape(-1, self.groups, self.group_size)
        return torch.einsum("ojd,jpd->jop", w,
                            self.codebook_int() * 2.0 ** -self.codebook_exponent)

    def tables_int(self) -> torch.Tensor:
        """``Y_int`` ``(D, out, p)`` as the forward uses it (float tensor of integers)."""
        if self.table_int is not None:
            return self.table_int
        q = signed_max(self.table_bits)
        return torch.clamp(round_half_up(self.tables_float() * 2.0 ** self.table_exponent), -q, q)

    def accumulate(self, x: torch.Tensor) -> torch.Tensor:
        v = self.vectors(x)
        groups = v.reshape(*v.shape[:-1], self.groups, self.group_size)
        codebook = self.codebook_int() * 2.0 ** -self.a_in
        a = assign(l1_distance(groups, codebook, self.pq.slope), self.pq.tau)    # (N, P, D, p)
        tables = self.tables_int() * 2.0 ** -self.acc_exponent
        acc = torch.einsum("npjq,joq->npo", a, tables) + self.bias_int() * 2.0 ** -self.acc_exponent
        return self.outputs(acc, x)

    def calibrate_weights(self, a_in: int) -> None:
        """Fix ``a_in`` and the table's exponent from ``max |W C|`` (no entry saturates)."""
        self.a_in = a_in
        largest = self.tables_float().detach().abs().max().item()
        self.f_w = exponent_for(largest, signed_max(self.table_bits)) - a_in

    # -- training hooks ----------------------------------------------------------------
    @torch.no_grad()
    def init_from_data(self, x: torch.Tensor, generator: torch.Generator) -> None:
        """The codebook: k-medians (:func:`~.pq.kmedians`) of up to :attr:`INIT_SAMPLES`
        of the layer's input vectors over ``x``."""
        self.pq.init_codebook(self.init_samples(x, generator), generator,
                              self.KMEDIANS_ITERATIONS)

    def init_samples(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Up to :attr:`INIT_SAMPLES` of the layer's input vectors over ``x`` (the batch and
        the positions), drawn without replacement: ``(n, D d)``."""
        v = self.vectors(x).reshape(-1, self.groups * self.group_size)
        return v[torch.randperm(len(v), generator=generator)[:self.INIT_SAMPLES]]

    def set_warmup(self, on: bool) -> None:
        """While ``on`` (the start of training from scratch) the float layer is dense: the
        codebooks are initialised when it ends, on the inputs the weights then give."""
        self.warmup = on

    def set_schedule(self, step: int, steps: int) -> None:
        """The surrogate slope ``a = exp(4 step / steps)`` (the paper's, by epoch)."""
        self.pq.slope = surrogate_slope(step, steps)

    def set_soft(self, tau: float | None) -> None:
        """The float forward's soft match at ``tau`` while training (:mod:`.pq`), or the hard
        one (``None``). The fixed-point forward after calibration is always hard."""
        self.pq.soft_tau = tau

    # -- artifact ----------------------------------------------------------------------
    @torch.no_grad()
    def arrays(self, index: int) -> dict:
        """``l{index}_codebook`` ``(D, p, d)`` (uint8 / int8 by the input's type),
        ``l{index}_table`` ``(D, out, p)`` int16 and ``l{index}_bias`` int32."""
        bits = self._bias_bits_stated()
        if bits > 32:
            raise ValueError(f"layers[{index}] bias needs {bits} bits, more than the format's 32; "
                             f"lower its input or table exponent")
        dtype = torch.int8 if self.in_type[1] else torch.uint8
        return {f"l{index}_codebook": self.codebook_int().to(dtype).numpy(),
                f"l{index}_table": self.tables_int().to(torch.int16).numpy(),
                f"l{index}_bias": self.bias_int().to(torch.int64).to(torch.int32).numpy()}

    @torch.no_grad()
    def load_arrays(self, index: int, arrays: dict) -> None:
        """The codebook on the input's grid, the artifact's tables as they are, the bias on
        the accumulator's grid."""
        dtype = self.bias.dtype
        cb = torch.from_numpy(arrays[f"l{index}_codebook"].astype("float64"))
        self.pq.codebook.copy_(cb * 2.0 ** -self.a_in)
        self.table_int = torch.from_numpy(arrays[f"l{index}_table"].astype("float64")).to(dtype)
        b = torch.from_numpy(arrays[f"l{index}_bias"].astype("float64"))
        self.bias.copy_(b * 2.0 ** -self.acc_exponent)


@register
class PecanDConv2d(PecanDLayer):
    """``conv2d`` with the PECAN-D transform: stride 1, zero padding, tap-major windows."""
    kind = "conv2d"
    shape_fields = ("in_channels", "out_channels", "kernel", "padding")
    #: The torch PQ layer (PECAN-A's layers give their own).
    pq_type = PQConv2d

    def __init__(self, spec: dict, unsigned: bool):
        conv = nn.Conv2d(spec["in_channels"], spec["out_channels"], spec["kernel"],
                         padding=spec["padding"])
        super().__init__(spec, unsigned, self.pq_type(conv, spec["groups"], spec["prototypes"]))
        self.in_channels, self.out_channels = spec["in_channels"], spec["out_channels"]
        self.kernel, self.padding = spec["kernel"], spec["padding"]
        self.weight, self.bias = conv.weight, conv.bias

    def vectors(self, x):
        return self.pq.windows(x)

    def outputs(self, y, x):
        k, pad = self.kernel, self.padding
        ho, wo = x.shape[2] + 2 * pad - k + 1, x.shape[3] + 2 * pad - k + 1
        return y.transpose(1, 2).reshape(len(x), -1, ho, wo)

    def matrix(self, weight):
        return weight.permute(0, 2, 3, 1).reshape(len(weight), -1)


@register
class PecanDLinear(PecanDLayer):
    """``linear`` with the PECAN-D transform: the input vector in torch's order."""
    kind = "linear"
    shape_fields = ("in_features", "out_features")
    pq_type = PQLinear

    def __init__(self, spec: dict, unsigned: bool):
        lin = nn.Linear(spec["in_features"], spec["out_features"])
        super().__init__(spec, unsigned, self.pq_type(lin, spec["groups"], spec["prototypes"]))
        self.in_features, self.out_features = spec["in_features"], spec["out_features"]
        self.weight, self.bias = lin.weight, lin.bias

    def vectors(self, x):
        return x[:, None, :]

    def outputs(self, y, x):
        return y[:, 0]

    def matrix(self, weight):
        return weight
