"""DeBut factors and chains as torch layers, trainable in float and in the hardware's fixed point.

A factor ``R(p, q; r, s, t)`` holds its nonzeros ``theta`` ``(a, t, r, s)`` (the artifact's
``l<i>_f<k>`` layout, :class:`~edgeforge.schemes.network_debut.Factor`) and maps a batch of
vectors ``(n, q)`` to ``(n, p)``: ``y[a, i, d] = sum_c theta[a, d, i, c] x[a, c, d]``
(:func:`factor_apply`, the golden model's einsum). A chain applies its factors input side
first to the layer's input vector zero-padded to ``q_1``, keeps the first ``outputs`` rows
and adds the bias. A conv's input vector is its window tap-major, ``(dy k + dx) C + c``
(:func:`windows`), the order of the golden model and the window generator; a linear's is
its input.

Fixed point (after :meth:`DebutLayer.calibrate`, the arithmetic of
:mod:`edgeforge.schemes.network_debut` in float): factor ``k`` has its own power-of-two
scale, ``theta_int = clip(round_half_up(theta 2**f_k), -q, q)``; the vector after factor
``k < N`` is rounded to the grid ``2**-e_k`` and saturated to signed ``mid_bits``
(:func:`~edgeforge.models.network.quant.requantize`), which on the integers is the
hardware's ``clip((acc + (1 << (s_k - 1))) >> s_k)`` with ``s_k = e_{k-1} + f_k - e_k``
(``e_0 = a_in``). The last factor's accumulator, bias included, is on ``2**-(e_{N-1} +
f_N)``: the layer's ``f_w`` is ``e_{N-1} + f_N - a_in``, so that ``shift = a_in + f_w -
a_out`` as for every layer. Rounding passes gradients straight through.

As for a dense layer (:mod:`edgeforge.models.network.quant`), float32 holds every sum
exactly while ``s * 2**(mid_bits - 1) * 2**(weight_bits - 1)`` stays below ``2**24`` (8-bit
mids and nonzeros: any ``s`` up to 1,000); wider mids are exact in float64, as
:func:`~edgeforge.models.network.export.network_from_artifact` builds the model.

The per-factor exponents go into the artifact's ``scales`` beside ``a_in``, ``f_w`` and
``a_out`` (``factors``: the ``f_k``; ``mids``: the ``e_k``), so that
:func:`~edgeforge.models.network.export.network_from_artifact` rebuilds the same model.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...schemes.network import MAX_SHIFT
from ...schemes.network_debut import Factor, check_chain, chain_params
from ..network.quant import QuantLayer, exponent_for, register, requantize, round_half_up, signed_max

__all__ = ["factor_apply", "windows", "DebutChain", "DebutLayer", "DebutConv2d", "DebutLinear"]


def factor_apply(factor: Factor, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``R x`` for a batch ``x`` ``(n, q)``, ``theta`` ``(a, t, r, s)``: ``(n, p)``."""
    f = factor
    y = torch.einsum("adic,nacd->naid", theta.reshape(f.theta_shape),
                     x.reshape(len(x), f.blocks, f.s, f.t))
    return y.reshape(len(x), f.p)


def windows(x: torch.Tensor, kernel: int, padding: int) -> tuple[torch.Tensor, tuple]:
    """The windows of ``x`` ``(N, C, H, W)`` as rows ``(N Ho Wo, k k C)``, column
    ``(dy k + dx) C + c`` (tap-major, as :func:`edgeforge.sim.golden.debut.im2col_tap_major`);
    and ``(N, Ho, Wo)``."""
    n, c, h, w = x.shape
    ho, wo = h + 2 * padding - kernel + 1, w + 2 * padding - kernel + 1
    cols = F.unfold(x, kernel, padding=padding)                  # (N, C kk, L): c kk + tap
    cols = cols.reshape(n, c, kernel * kernel, ho * wo).permute(0, 3, 2, 1)
    return cols.reshape(n * ho * wo, kernel * kernel * c), (n, ho, wo)


def _init_theta(factor: Factor, generator: torch.Generator | None = None) -> torch.Tensor:
    # Each factor keeps the variance of its input (s nonzeros a row): the chain then starts
    # as a dense layer would, whatever its length.
    return torch.randn(factor.theta_shape, generator=generator) / math.sqrt(factor.s)


class DebutChain(nn.Module):
    """A chain of DeBut factors in float: ``(n, inputs)`` -> ``(n, outputs)`` (no bias).

    Parameters
    ----------
    factors : sequence of (p, q, r, s, t) or Factor
        Input side first; checked by :func:`~edgeforge.schemes.network_debut.check_chain`
        against ``inputs`` and ``outputs`` (zero padding at the ends).
    inputs, outputs : int
        The layer's vector sizes.

    Raises
    ------
    ValueError
        From ``check_chain``, naming the factor and the rule it breaks.
    """

    def __init__(self, factors, inputs: int, outputs: int):
        super().__init__()
        self.factors = check_chain(factors, inputs, outputs)
        self.inputs, self.outputs = inputs, outputs
        self.thetas = nn.ParameterList(nn.Parameter(_init_theta(f)) for f in self.factors)

    @property
    def params(self) -> int:
        """Nonzeros of the chain, padded rows included (= MACs a vector)."""
        return chain_params(self.factors)

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (0, self.factors[0].q - self.inputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = self.pad(x)
        for f, theta in zip(self.factors, self.thetas):
            v = factor_apply(f, theta, v)
        return v[:, :self.outputs]

    @torch.no_grad()
    def dense(self) -> np.ndarray:
        """The ``(outputs, inputs)`` matrix of the chain (float64, the padding cut off)."""
        m = np.eye(self.factors[0].q)
        for f, theta in zip(self.factors, self.thetas):
            m = f.dense(theta.detach().double().numpy()) @ m
        return m[:self.outputs, :self.inputs]

    @torch.no_grad()
    def set_thetas(self, thetas) -> None:
        for param, theta in zip(self.thetas, thetas):
            param.copy_(torch.as_tensor(np.asarray(theta).reshape(param.shape)))


class DebutLayer(QuantLayer):
    """A conv2d or linear layer whose transform is a DeBut chain (module docstring).

    Parameters
    ----------
    spec : dict
        The layer dict with ``factors``, ``mid_bits`` and ``weight_bits`` (``shifts`` are
        derived at calibration: a preset may hold placeholders).
    unsigned : bool
        A relu follows.

    Attributes
    ----------
    chain : DebutChain
    bias : torch.nn.Parameter
        ``(outputs,)``.
    f_factors, e_mids : list of int or None
        Each factor's weight exponent and the exponent of the vector after each factor but
        the last; ``None`` until calibrated.
    """
    transform = "debut"

    def __init__(self, spec: dict, unsigned: bool):
        super().__init__(spec, unsigned)
        self.mid_bits = spec["mid_bits"]
        outputs, inputs = self.size
        self.chain = DebutChain(spec["factors"], inputs, outputs)
        # torch's default bias init of a layer with this fan-in.
        bound = 1 / math.sqrt(inputs)
        self.bias = nn.Parameter(torch.empty(outputs).uniform_(-bound, bound))
        self.f_factors = self.e_mids = None

    @property
    def size(self) -> tuple[int, int]:
        """``(outputs, inputs)`` of the transform (the scheme's ``Transform.size``)."""
        raise NotImplementedError

    @property
    def params(self) -> int:
        """Nonzeros of the chain (biases not counted); also its MACs a vector."""
        return self.chain.params

    @property
    def factors(self) -> list[Factor]:
        return self.chain.factors

    # -- the transform on vectors ------------------------------------------------------------
    def vectors(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple | None]:
        """The layer's input as a batch of vectors, and what :meth:`unvectors` needs."""
        return x, None

    def unvectors(self, y: torch.Tensor, shape) -> torch.Tensor:
        return y

    def theta_int(self, k: int) -> torch.Tensor:
        """Factor ``k``'s integer nonzeros as the forward uses them (float tensor)."""
        q = signed_max(self.weight_bits)
        return torch.clamp(round_half_up(self.chain.thetas[k] * 2.0 ** self.f_factors[k]), -q, q)

    def _chain_quantized(self, v: torch.Tensor, calibrate: bool = False) -> torch.Tensor:
        """The fixed-point chain on padded vectors; with ``calibrate``, fix each factor's
        exponents on the way (the finest grids on which nothing saturates)."""
        n = len(self.factors)
        if calibrate:
            self.f_factors, self.e_mids = [], []
        e = self.a_in
        mid_max = signed_max(self.mid_bits)
        for k, f in enumerate(self.factors):
            if calibrate:
                theta = self.chain.thetas[k].detach()
                self.f_factors.append(exponent_for(theta.abs().max().item(),
                                                   signed_max(self.weight_bits)))
            v = factor_apply(f, self.theta_int(k) * 2.0 ** -self.f_factors[k], v)
            if k == n - 1:
                break
            if calibrate:
                # shift = e + f_k - e_k must lie in 0..MAX_SHIFT.
                top = e + self.f_factors[k]
                self.e_mids.append(max(top - MAX_SHIFT,
                                       min(exponent_for(v.abs().max().item(), mid_max), top)))
            e = self.e_mids[k]
            v = requantize(v, e, self.mid_bits, unsigned=False)
        if calibrate:
            self.f_w = e + self.f_factors[-1] - self.a_in
        return v

    def accumulate(self, x: torch.Tensor) -> torch.Tensor:
        v, shape = self.vectors(x)
        acc = self._chain_quantized(self.chain.pad(v))[:, :self.chain.outputs]
        return self.unvectors(acc + self.bias_int() * 2.0 ** -self.acc_exponent, shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.quantized:
            v, shape = self.vectors(x)
            return self.unvectors(self.chain(v) + self.bias, shape)
        return requantize(self.accumulate(x), self.a_out, self.out_bits, self.unsigned)

    # -- calibration, artifact ---------------------------------------------------------------
    def calibrate(self, x: torch.Tensor, a_in: int) -> None:
        """Fix every exponent from the layer's input batch ``x`` (on ``2**-a_in``)."""
        self.a_in = a_in
        v, _ = self.vectors(x)
        self._chain_quantized(self.chain.pad(v), calibrate=True)
        acc = self.accumulate(x)
        self.calibrate_output((acc.clamp(min=0) if self.unsigned else acc.abs()).max().item())

    def weight_int(self) -> torch.Tensor:
        raise TypeError("a debut layer has no weight matrix: see theta_int(k) per factor")

    @property
    def shifts(self) -> list[int]:
        """The shift after each factor but the last, ``e_{k-1} + f_k - e_k``."""
        e = [self.a_in] + list(self.e_mids)
        return [e[k] + self.f_factors[k] - e[k + 1] for k in range(len(self.e_mids))]

    def exponents(self) -> dict:
        return {**super().exponents(), "factors": list(self.f_factors), "mids": list(self.e_mids)}

    def set_scales(self, scales: dict, where: str) -> None:
        n = len(self.factors)
        f, e = scales.get("factors"), scales.get("mids")
        if (not isinstance(f, list) or len(f) != n or not isinstance(e, list)
                or len(e) != n - 1 or not all(isinstance(v, int) for v in f + e)):
            raise ValueError(f"{where} must hold factors ({n} exponents) and mids ({n - 1}), "
                             f"got {scales!r}")
        self.f_factors, self.e_mids = list(f), list(e)
        super().set_scales(scales, where)
        last = (self.e_mids[-1] if self.e_mids else self.a_in) + self.f_factors[-1]
        if last - self.a_in != self.f_w:
            raise ValueError(f"{where}.f_w must be the last factor's input exponent plus its "
                             f"weight exponent, minus a_in ({last - self.a_in}), got "
                             f"{self.f_w!r}")

    def fields(self) -> dict:
        return {**super().fields(), "factors": [list(f.as_tuple()) for f in self.factors],
                "shifts": self.shifts, "mid_bits": self.mid_bits}

    @torch.no_grad()
    def arrays(self, index: int) -> dict:
        bias = super().bias_arrays(index)
        return {**{f"l{index}_f{k}": self.theta_int(k).to(torch.int8).numpy()
                   for k in range(len(self.factors))}, **bias}

    @torch.no_grad()
    def load_arrays(self, index: int, arrays: dict) -> None:
        for k, theta in enumerate(self.chain.thetas):
            t = torch.from_numpy(arrays[f"l{index}_f{k}"].astype("float64"))
            theta.copy_(t * 2.0 ** -self.f_factors[k])
        b = torch.from_numpy(arrays[f"l{index}_bias"].astype("float64"))
        self.bias.copy_(b * 2.0 ** -self.acc_exponent)


@register
class DebutConv2d(DebutLayer):
    """``conv2d`` with the debut transform (zero padding, stride 1)."""
    kind = "conv2d"
    shape_fields = ("in_channels", "out_channels", "kernel", "padding")

    def __init__(self, spec: dict, unsigned: bool):
        self.in_channels, self.out_channels = spec["in_channels"], spec["out_channels"]
        self.kernel, self.padding = spec["kernel"], spec["padding"]
        super().__init__(spec, unsigned)

    @property
    def size(self):
        return self.out_channels, self.kernel ** 2 * self.in_channels

    def vectors(self, x):
        return windows(x, self.kernel, self.padding)

    def unvectors(self, y, shape):
        n, ho, wo = shape
        return y.reshape(n, ho, wo, -1).permute(0, 3, 1, 2)


@register
class DebutLinear(DebutLayer):
    """``linear`` with the debut transform."""
    kind = "linear"
    shape_fields = ("in_features", "out_features")

    def __init__(self, spec: dict, unsigned: bool):
        self.in_features, self.out_features = spec["in_features"], spec["out_features"]
        super().__init__(spec, unsigned)

    @property
    def size(self):
        return self.out_features, self.in_features
