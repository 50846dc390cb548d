"""Quantisation-aware layers with power-of-two scales: the network artifact's arithmetic, in float.

Every value the quantised forward computes is an integer times a power of two,
the hardware's integers (the arithmetic of :mod:`edgeforge.schemes.network`)
on the power-of-two scales the exporter records in the artifact's ``scales``:

- a layer's input ``x`` is ``x_int * 2**-a_in`` (the pixels: ``pixel / 2**bits``);
- weights are ``w_int * 2**-f_w``, ``w_int = clip(round_half_up(w * 2**f_w), -q, q)``
  with ``q = 2**(weight_bits - 1) - 1`` (signed, symmetric);
- biases are ``b_int * 2**-(a_in + f_w)``, ``b_int = round_half_up(b * 2**(a_in + f_w))``
  (clipped to ``bias_bits`` when the layer states it);
- so the accumulator is ``acc_int * 2**-(a_in + f_w)`` with ``acc_int = b_int + sum(w_int * x_int)``,
  and the output ``floor(acc * 2**a_out + 1/2) * 2**-a_out``, clipped to unsigned
  ``out_bits`` when a relu follows and to signed ``out_bits`` otherwise, is
  ``y_int * 2**-a_out`` with ``y_int = clip((acc_int + (1 << (shift - 1))) >> shift)``,
  ``shift = a_in + f_w - a_out`` (``y_int = acc_int`` for ``shift = 0``).

Multiplying by a power of two is exact in binary floating point, and float32
holds every integer below 2**24 exactly, so as long as
``fan_in * 2**in_bits * 2**(weight_bits - 1)`` plus the bias stays below 2**24
(about 500 inputs per output at 8 bits; digits-ref's largest is 72) the
float32 forward *is* the integer arithmetic, whatever order the convolution
sums in. The exporter reads the integers back with :meth:`QuantLayer.weight_int`
and :meth:`QuantLayer.bias_int`, the very values the forward used.

Rounding passes gradients straight through (:func:`round_half_up`); clipping
passes none outside its range (``torch.clamp``).

A transform kind is one :class:`QuantLayer` subclass per layer kind, registered in
:data:`LAYERS` (``dense`` here; ``pecan-d`` in :mod:`edgeforge.models.pecan.layers` and
``debut`` in :mod:`edgeforge.models.debut.layers`, which build on this module and so
register themselves with :func:`register`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LAYERS", "register", "round_half_up", "requantize", "signed_max", "exponent_for",
           "QuantLayer", "DenseConv2d", "DenseLinear"]

# Exponents are kept in this range: a scale of 2**-40 or 2**40 means a dead or
# exploding layer, not a useful fixed-point format.
_EXPONENT_RANGE = (-31, 31)


class _RoundHalfUp(torch.autograd.Function):
    """``floor(x + 1/2)`` forward, identity backward (straight-through estimator)."""

    @staticmethod
    def forward(ctx, x):
        return torch.floor(x + 0.5)

    @staticmethod
    def backward(ctx, grad):
        return grad


def round_half_up(x: torch.Tensor) -> torch.Tensor:
    """Round to the nearest integer, halves up (``floor(x + 1/2)``); the gradient passes straight through.

    A custom autograd function rather than ``x + (r - x).detach()``, whose
    float result is not always exactly ``r``.
    """
    return _RoundHalfUp.apply(x)


def signed_max(bits: int) -> int:
    """Largest value of a ``bits``-bit signed integer, ``2**(bits - 1) - 1``."""
    return (1 << (bits - 1)) - 1


def requantize(acc: torch.Tensor, a_out: int, out_bits: int, unsigned: bool) -> torch.Tensor:
    """The shift requantisation on real values: round ``acc`` to the grid ``2**-a_out``, then saturate.

    Parameters
    ----------
    acc : torch.Tensor
        Accumulator values (on the grid ``2**-(a_in + f_w)``).
    a_out : int
        Output exponent: the result is ``y_int * 2**-a_out``.
    out_bits : int
        Output width.
    unsigned : bool
        Saturate to ``0 .. 2**out_bits - 1`` (a relu follows: it is thereby
        applied) instead of ``-2**(out_bits-1) .. 2**(out_bits-1) - 1``.
    """
    lo, hi = (0, (1 << out_bits) - 1) if unsigned else (-(1 << (out_bits - 1)), signed_max(out_bits))
    y = torch.clamp(round_half_up(acc * 2.0 ** a_out), lo, hi)
    return y * 2.0 ** -a_out


def exponent_for(magnitude: float, limit: int) -> int:
    """The largest exponent ``e`` with ``magnitude * 2**e <= limit``: the finest grid that does not saturate.

    A zero magnitude (a layer whose values are all 0) gets the top of the
    exponent range, as any grid holds it.
    """
    if not magnitude > 0:
        return _EXPONENT_RANGE[1]
    e = math.floor(math.log2(limit / magnitude))
    # log2 may be off by one ulp at exact powers of two; settle on the exact answer.
    while magnitude * 2.0 ** (e + 1) <= limit:
        e += 1
    while magnitude * 2.0 ** e > limit:
        e -= 1
    return max(_EXPONENT_RANGE[0], min(_EXPONENT_RANGE[1], e))


class QuantLayer(nn.Module):
    """A conv2d or linear layer that trains in float and then in the hardware's fixed point.

    Until its exponents are set (:meth:`~edgeforge.models.network.net.QNet.calibrate`,
    or :meth:`set_exponents` from an artifact) it is a plain float layer; then
    every forward is the quantised arithmetic of the module docstring. Subclasses
    give the layer kind, its extra fields, the parameters and the linear
    operation (:meth:`op`).

    Parameters
    ----------
    spec : dict
        The layer's fields (as the artifact's layer dict; ``shift`` and a
        ``bias_bits`` of ``None`` are filled in at export).
    unsigned : bool
        A relu follows: outputs saturate to unsigned ``out_bits``.

    Attributes
    ----------
    a_in, f_w, a_out : int or None
        Exponents of the input, weight and output grids; ``None`` until calibrated.
    in_type : tuple of (int, bool)
        ``(bits, signed)`` of the layer's input integers (the network's
        ``input_type``; :class:`~edgeforge.models.network.net.QNet` sets it).
    """
    kind: str = ""
    transform: str = ""
    shape_fields: tuple[str, ...] = ()
    #: The transform kind's own fields in the artifact's layer dict (read from ``spec``).
    own_fields: tuple[str, ...] = ()

    def __init__(self, spec: dict, unsigned: bool):
        super().__init__()
        for name in self.own_fields:
            setattr(self, name, spec[name])
        self.out_bits = spec["out_bits"]
        self.bias_bits = spec.get("bias_bits")
        self.unsigned = unsigned
        self.in_type = (8, False)
        self.a_in = self.f_w = self.a_out = None

    @property
    def quantized(self) -> bool:
        return self.a_out is not None

    def op(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def acc_exponent(self) -> int:
        return self.a_in + self.f_w

    @property
    def shift(self) -> int:
        return self.a_in + self.f_w - self.a_out

    def weight_int(self) -> torch.Tensor:
        """``w_int`` as the forward uses it (float tensor of integers)."""
        q = signed_max(self.weight_bits)
        return torch.clamp(round_half_up(self.weight * 2.0 ** self.f_w), -q, q)

    def bias_int(self) -> torch.Tensor:
        """``b_int`` as the forward uses it (float tensor of integers)."""
        b = round_half_up(self.bias * 2.0 ** self.acc_exponent)
        if self.bias_bits is not None:
            b = torch.clamp(b, -(1 << (self.bias_bits - 1)), signed_max(self.bias_bits))
        return b

    def accumulate(self, x: torch.Tensor) -> torch.Tensor:
        """The accumulator on the integer weights and bias (needs ``a_in`` and ``f_w``)."""
        return self.op(x, self.weight_int() * 2.0 ** -self.f_w,
                       self.bias_int() * 2.0 ** -self.acc_exponent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.quantized:
            return self.op(x, self.weight, self.bias)
        return requantize(self.accumulate(x), self.a_out, self.out_bits, self.unsigned)

    def calibrate(self, x: torch.Tensor, a_in: int) -> None:
        """Fix every exponent from the layer's input batch ``x`` (on ``2**-a_in``): the weight
        grid from ``max |w|``, the output grid from the largest accumulator."""
        self.calibrate_weights(a_in)
        acc = self.accumulate(x)
        self.calibrate_output((acc.clamp(min=0) if self.unsigned else acc.abs()).max().item())

    def calibrate_weights(self, a_in: int) -> None:
        """Fix ``a_in`` and the weight exponent from ``max |w|`` (no weight saturates)."""
        self.a_in = a_in
        self.f_w = exponent_for(self.weight.detach().abs().max().item(), signed_max(self.weight_bits))

    def calibrate_output(self, out_max: float) -> None:
        """Fix ``a_out`` from the largest accumulator magnitude seen, keeping ``shift >= 0``."""
        limit = (1 << self.out_bits) - 1 if self.unsigned else signed_max(self.out_bits)
        self.a_out = min(exponent_for(out_max, limit), self.acc_exponent)

    def set_exponents(self, a_in: int, f_w: int, a_out: int) -> None:
        self.a_in, self.f_w, self.a_out = a_in, f_w, a_out

    def exponents(self) -> dict:
        """The layer's ``scales`` entry in the artifact."""
        return {"a_in": self.a_in, "f_w": self.f_w, "a_out": self.a_out}

    def set_scales(self, scales: dict, where: str) -> None:
        """Set the exponents from the artifact's ``scales`` entry (checked by the exporter
        for ``a_in``, ``f_w``, ``a_out``; a kind with more exponents checks its own, naming
        ``where``)."""
        self.set_exponents(scales["a_in"], scales["f_w"], scales["a_out"])

    def fields(self) -> dict:
        """The artifact's layer dict (quantised layers only)."""
        return {"kind": self.kind, "transform": self.transform,
                **{f: getattr(self, f) for f in self.shape_fields + self.own_fields},
                "bias_bits": self._bias_bits_stated(), "shift": self.shift,
                "out_bits": self.out_bits}

    # -- hooks of the training loop (no-ops for a dense layer) ---------------------------
    def init_from_data(self, x: torch.Tensor, generator: torch.Generator) -> None:
        """Initialise from a batch of the layer's float inputs ``x`` before training
        (PECAN-D: its codebooks)."""

    def set_warmup(self, on: bool) -> None:
        """While ``on``, a transform that approximates the dense one (PECAN-D) runs dense."""

    def set_schedule(self, step: int, steps: int) -> None:
        """Training is at ``step`` of ``steps`` (PECAN-D: its surrogate gradient's slope)."""

    def set_soft(self, tau: float | None) -> None:
        """While ``tau`` is a number, a transform that matches (PECAN-D) trains with the soft
        match at that temperature in its forward; ``None``: the hard match."""

    def _bias_bits_stated(self) -> int:
        if self.bias_bits is not None:
            return self.bias_bits
        # The narrowest signed width that holds every trained bias (at least 2, the format's minimum).
        m = int(self.bias_int().abs().max().item())
        return max(2, m.bit_length() + 1)

    @torch.no_grad()
    def bias_arrays(self, index: int) -> dict:
        """``{"l{index}_bias": int32 b_int}``; refuse a bias wider than the format's 32 bits."""
        bias = self.bias_int().to(torch.int64)
        bits = self._bias_bits_stated()
        if bits > 32:
            raise ValueError(f"layers[{index}] bias needs {bits} bits, more than the format's 32; "
                             f"lower its input or weight exponent")
        return {f"l{index}_bias": bias.to(torch.int32).numpy()}

    @torch.no_grad()
    def arrays(self, index: int) -> dict:
        """The layer's integer arrays for the artifact, named ``l{index}_weight`` and ``l{index}_bias``."""
        return {f"l{index}_weight": self.weight_int().to(torch.int8).numpy(),
                **self.bias_arrays(index)}

    @torch.no_grad()
    def load_arrays(self, index: int, arrays: dict) -> None:
        """Set the float parameters to the artifact's integers on the calibrated grids."""
        w = torch.from_numpy(arrays[f"l{index}_weight"].astype("float64"))
        b = torch.from_numpy(arrays[f"l{index}_bias"].astype("float64"))
        self.weight.copy_(w * 2.0 ** -self.f_w)
        self.bias.copy_(b * 2.0 ** -self.acc_exponent)


class DenseConv2d(QuantLayer):
    """``conv2d`` with the dense transform: int weights ``(out, in, k, k)``, zero padding, stride 1."""
    kind, transform = "conv2d", "dense"
    shape_fields = ("in_channels", "out_channels", "kernel", "padding")
    own_fields = ("weight_bits",)

    def __init__(self, spec: dict, unsigned: bool):
        super().__init__(spec, unsigned)
        self.in_channels, self.out_channels = spec["in_channels"], spec["out_channels"]
        self.kernel, self.padding = spec["kernel"], spec["padding"]
        conv = nn.Conv2d(self.in_channels, self.out_channels, self.kernel, padding=self.padding)
        self.weight, self.bias = conv.weight, conv.bias

    def op(self, x, weight, bias):
        return F.conv2d(x, weight, bias, padding=self.padding)


class DenseLinear(QuantLayer):
    """``linear`` with the dense transform: int weights ``(out, in)``."""
    kind, transform = "linear", "dense"
    shape_fields = ("in_features", "out_features")
    own_fields = ("weight_bits",)

    def __init__(self, spec: dict, unsigned: bool):
        super().__init__(spec, unsigned)
        self.in_features, self.out_features = spec["in_features"], spec["out_features"]
        lin = nn.Linear(self.in_features, self.out_features)
        self.weight, self.bias = lin.weight, lin.bias

    def op(self, x, weight, bias):
        return F.linear(x, weight, bias)


# (layer kind, transform kind) -> the torch layer; a new transform adds its rows (register).
LAYERS: dict[tuple[str, str], type[QuantLayer]] = {
    ("conv2d", "dense"): DenseConv2d,
    ("linear", "dense"): DenseLinear,
}


def register(cls: type[QuantLayer]) -> type[QuantLayer]:
    """Class decorator: ``cls`` is the torch layer of ``(cls.kind, cls.transform)``."""
    LAYERS[cls.kind, cls.transform] = cls
    return cls
