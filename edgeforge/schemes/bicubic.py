"""Bicubic x``scale`` interpolation: configuration and the one derivation of its coefficients.

The minimal-hardware baseline beside the LUT super-resolution schemes: nothing is
trained, so an artifact holds no arrays, only its config (``scale``, ``coef_bits``).
The golden model (``edgeforge.sim.golden.bicubic``), the hardware generator
(``edgeforge.hw.bicubic``), the cycle model and the manifest all read the
coefficients from :func:`coefficients` and the widths from :class:`BicubicWidths`.

Arithmetic (what the hardware computes, bit for bit):

- Kernel: Keys' cubic with ``a = -0.5``, Pillow's ``BICUBIC``.
- Positions: half-pixel centres, as Pillow's ``resize``: output pixel ``X = r i + p``
  samples input coordinate ``i + d_p``, ``d_p = (2 p + 1 - r) / (2 r)``. Each phase
  ``p`` reads the 4 pixels ``i + o_p .. i + o_p + 3``, ``o_p = floor(d_p) - 1``
  (``-2`` or ``-1``: within 2 pixels of the anchor ``i``), at the kernel's weights for
  ``t = d_p - floor(d_p)``.
- Coefficients: ``scale`` phases x 4 taps of signed fixed point with ``coef_bits``
  fractional bits: ``round-half-to-even(w 2^F)`` of the exact weights, then the
  phase's largest tap takes the rounding residual so that every phase sums to
  exactly ``2^F`` (a flat image stays flat). At ``scale`` 4 the weights are
  multiples of ``2^-10``: ``coef_bits = 10`` is the exact kernel.
- Separable, kept at full precision (no rounding between the passes, so the order does
  not matter; the golden model and the engine go vertical first), so an
  output is the 4 x 4 tap sum ``S = sum c_y c_x x`` with ``2F``
  fractional bits; the pixel is ``clamp(floor((S + 2^(2F-1)) / 2^(2F)), 0, 255)``
  (round half up, then clamp to uint8).
- Border: replicate (clamp the coordinate into the image). Pillow instead drops the
  taps outside the image and renormalises, so the two differ near the edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from ..artifact import Artifact, ArraySpec, ArtifactError
from . import ConfigScheme

__all__ = ["A", "TAPS", "SCALES", "COEF_BITS", "DEFAULT_COEF_BITS", "BicubicConfig",
           "BicubicWidths", "phase_offset", "kernel", "coefficients", "default_artifact",
           "BicubicScheme"]

A = Fraction(-1, 2)          # Pillow's bicubic kernel parameter
TAPS = 4                     # taps per phase and dimension
PIXEL_BITS = 8
SCALES = (2, 3, 4)
COEF_BITS = range(6, 13)     # fractional bits of a 1-D coefficient
DEFAULT_COEF_BITS = 8
RADIUS = 2                   # the taps lie within 2 pixels of the anchor, every scale


def kernel(x: Fraction) -> Fraction:
    """Keys' cubic convolution kernel at ``x`` with ``a = -1/2``, exactly."""
    x = abs(Fraction(x))
    if x <= 1:
        return (A + 2) * x ** 3 - (A + 3) * x ** 2 + 1
    if x < 2:
        return A * x ** 3 - 5 * A * x ** 2 + 8 * A * x - 4 * A
    return Fraction(0)


def phase_offset(scale: int, p: int) -> tuple[int, Fraction]:
    """``(o_p, t_p)``: phase ``p`` reads pixels ``i + o_p .. i + o_p + 3`` at fraction ``t_p``."""
    d = Fraction(2 * p + 1 - scale, 2 * scale)
    base = d.numerator // d.denominator
    return base - 1, d - base


@lru_cache(maxsize=None)
def coefficients(scale: int, coef_bits: int) -> tuple[tuple[int, ...], ...]:
    """The ``scale x 4`` integer coefficients (``coef_bits`` fractional bits), each phase
    summing to ``2^coef_bits`` (see the module docstring)."""
    one = 1 << coef_bits
    out = []
    for p in range(scale):
        _, t = phase_offset(scale, p)
        weights = [kernel(t + 1), kernel(t), kernel(1 - t), kernel(2 - t)]
        taps = [round(w * one) for w in weights]
        largest = max(range(TAPS), key=lambda k: weights[k])
        taps[largest] += one - sum(taps)
        out.append(tuple(taps))
    return tuple(out)


@dataclass(frozen=True)
class BicubicConfig:
    """The interpolation an artifact of scheme ``"bicubic"`` stands for (x4, 8 bits default)."""
    scale: int = 4
    coef_bits: int = DEFAULT_COEF_BITS

    @classmethod
    def from_dict(cls, config: dict) -> "BicubicConfig":
        known = ("scale", "coef_bits")
        for key in config:
            if key not in known:
                raise ArtifactError(f"config.{key}", f"unknown bicubic config field; known: "
                                    f"{list(known)}")
        scale = config.get("scale", cls.scale)
        if not isinstance(scale, int) or isinstance(scale, bool) or scale not in SCALES:
            raise ArtifactError("config.scale", f"expected one of {SCALES}, got {scale!r}")
        bits = config.get("coef_bits", cls.coef_bits)
        if not isinstance(bits, int) or isinstance(bits, bool) or bits not in COEF_BITS:
            raise ArtifactError("config.coef_bits", f"expected an integer in "
                                f"{COEF_BITS.start}..{COEF_BITS.stop - 1}, got {bits!r}")
        return cls(scale=scale, coef_bits=bits)

    def to_dict(self) -> dict:
        return {"scale": self.scale, "coef_bits": self.coef_bits}

    def array_specs(self) -> dict[str, ArraySpec]:
        """None: the coefficients follow from the config, so the artifact holds no arrays."""
        return {}

    def coefficients(self) -> tuple[tuple[int, ...], ...]:
        return coefficients(self.scale, self.coef_bits)

    def offsets(self) -> tuple[int, ...]:
        """First tap's offset from the anchor, per phase (-2 or -1)."""
        return tuple(phase_offset(self.scale, p)[0] for p in range(self.scale))

    def widths(self) -> "BicubicWidths":
        return BicubicWidths.derive(self)


@dataclass(frozen=True)
class BicubicWidths:
    """Integer ranges of the separable sum, derived from the coefficients (worst case)."""
    shift: int                   # 2F: fractional bits of the tap sum
    coef_bits: int               # signed width of a 1-D coefficient (F + 1)
    column_range: tuple[int, int]  # a vertical pass's column sum V, every 8-bit input
    column_bits: int             # signed width holding column_range
    sum_range: tuple[int, int]   # S over every phase pair and every 8-bit input
    sum_bits: int                # signed width holding sum_range plus the rounding half

    @classmethod
    def derive(cls, config: BicubicConfig) -> "BicubicWidths":
        c = config.coefficients()
        top = (1 << PIXEL_BITS) - 1
        signed_bits = lambda lo, hi: max(-lo - 1, hi).bit_length() + 1
        column = (min(top * sum(min(0, v) for v in p) for p in c),
                  max(top * sum(max(0, v) for v in p) for p in c))
        lo = min(top * sum(min(0, cy * cx) for cy in py for cx in px) for py in c for px in c)
        hi = max(top * sum(max(0, cy * cx) for cy in py for cx in px) for py in c for px in c)
        shift = 2 * config.coef_bits
        return cls(shift=shift, coef_bits=signed_bits(min(map(min, c)), max(map(max, c))),
                   column_range=column, column_bits=signed_bits(*column), sum_range=(lo, hi),
                   sum_bits=signed_bits(lo, hi + (1 << (shift - 1))))


def default_artifact(scale: int = 4, coef_bits: int = DEFAULT_COEF_BITS) -> Artifact:
    """A bicubic artifact (no arrays: the coefficients follow from the config)."""
    config = BicubicConfig.from_dict({"scale": scale, "coef_bits": coef_bits})
    return Artifact("bicubic", config.to_dict(), {},
                    provenance={"source": "edgeforge built-in", "kernel": "Keys a=-0.5"})


class BicubicScheme(ConfigScheme):
    name = "bicubic"
    version = 1
    title = "bicubic"
    flows = "edgeforge.schemes.bicubic_flows"
    config_class = BicubicConfig
    design_class = "edgeforge.hw.bicubic.design:BicubicDesign"
