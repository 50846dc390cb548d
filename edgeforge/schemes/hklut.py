"""HKLUT (Huang, Li et al., IJCAI 2024): configuration, table layout and integer widths.

This module is the one place where HKLUT's structure and arithmetic widths are
defined. The golden model (``edgeforge.sim.golden.hklut``), the torch model
(``edgeforge.models.hklut``), the hardware generator (``edgeforge.hw.hklut``), the
cycle model and the manifests all read them from here.

Readout of one stage (factor r) on one channel, with q the stage's 8-bit input:
MSB plane m = q >> 4, LSB plane l = q & 15. Every kernel of a branch is read at
4 rotations from one shared table of r x r int8 blocks; S_msb and S_lsb are the
integer sums. The stage output is y = S_msb/K_msb/255 + S_lsb/K_lsb/255 + up(x),
clamped to [0, 1], where K is the number of kernels of the branch. With
D = lcm(K_msb, K_lsb), N = D*255*y is an integer:

    N = clamp((D/K_msb) S_msb + (D/K_lsb) S_lsb + up(N_prev), 0, 255 D)

with N_prev = D*q for the first stage; floor(N / D) feeds the next stage's
indices and the final output is round-half-to-even(N / D).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..artifact import ArraySpec, ArtifactError
from . import ConfigScheme

__all__ = ["KERNEL_SETS", "Kernel", "HKLUTConfig", "HKLUTWidths", "HKLUTScheme", "table_name"]

PLANE_BITS = 4            # 8-bit pixel split into a 4-bit MSB and a 4-bit LSB plane
LEVELS = 1 << PLANE_BITS  # 16 entries per pattern pixel
PIXEL_BITS = 8
TABLE_BITS = 8            # int8 entries
ROTATIONS = 4
BRANCHES = ("msb", "lsb")
MAX_FACTOR = 4


@dataclass(frozen=True)
class Kernel:
    """One sampling pattern: pixel offsets (row, col) from the anchor, in index order."""
    name: str
    taps: tuple[tuple[int, int], ...]

    @property
    def pixels(self) -> int:
        return len(self.taps)

    @property
    def entries(self) -> int:
        return LEVELS ** self.pixels


# A kernel set fixes the pattern pixels and the border padding the authors'
# test code applies after rotation (right/bottom only): 3-pixel sets reflect by
# 2, 2-pixel sets replicate by 1 (models/luts.py in jasonli0707/hklut).
KERNEL_SETS: dict[str, tuple[Kernel, ...]] = {
    "hdb": (Kernel("h", ((0, 0), (0, 1), (0, 2))),
            Kernel("d", ((0, 0), (1, 1), (2, 2))),
            Kernel("b", ((0, 0), (1, 2), (2, 1)))),
    "hd": (Kernel("h", ((0, 0), (0, 1))),
           Kernel("d", ((0, 0), (1, 1)))),
}
PADDING = {"hdb": "reflect", "hd": "replicate"}


def table_name(stage: int, branch: str, kernel: str) -> str:
    return f"s{stage}_{branch}_{kernel}"


@dataclass(frozen=True)
class HKLUTConfig:
    """The readout structure of an HKLUT artifact (HKLUT-S x4 by default)."""
    stages: tuple[int, ...] = (2, 2)
    msb_kernels: str = "hdb"
    lsb_kernels: str = "hd"

    @classmethod
    def from_dict(cls, config: dict) -> "HKLUTConfig":
        known = {"stages", "msb_kernels", "lsb_kernels"}
        for key in config:
            if key not in known:
                raise ArtifactError(f"config.{key}", f"unknown HKLUT config field; known: "
                                    f"{sorted(known)}")
        stages = config.get("stages", list(cls.stages))
        if (not isinstance(stages, (list, tuple)) or not stages
                or not all(isinstance(r, int) and not isinstance(r, bool) for r in stages)):
            raise ArtifactError("config.stages", f"expected a non-empty list of integer stage "
                                f"factors, got {stages!r}")
        for r in stages:
            if not 1 <= r <= MAX_FACTOR:
                raise ArtifactError("config.stages", f"stage factor must be 1..{MAX_FACTOR}, "
                                    f"got {r!r}")
        out = {}
        for key in ("msb_kernels", "lsb_kernels"):
            value = config.get(key, getattr(cls, key))
            if value not in KERNEL_SETS:
                raise ArtifactError(f"config.{key}", f"expected one of {sorted(KERNEL_SETS)}, "
                                    f"got {value!r}")
            out[key] = value
        return cls(stages=tuple(stages), **out)

    def to_dict(self) -> dict:
        return {"stages": list(self.stages), "msb_kernels": self.msb_kernels,
                "lsb_kernels": self.lsb_kernels}

    def kernels(self, branch: str) -> tuple[Kernel, ...]:
        return KERNEL_SETS[self.msb_kernels if branch == "msb" else self.lsb_kernels]

    def padding(self, branch: str) -> str:
        return PADDING[self.msb_kernels if branch == "msb" else self.lsb_kernels]

    @property
    def scale(self) -> int:
        return math.prod(self.stages)

    def tables(self):
        """Yield (name, stage, branch, kernel, factor) for every table, in a fixed order."""
        for s, r in enumerate(self.stages):
            for branch in BRANCHES:
                for k in self.kernels(branch):
                    yield table_name(s, branch, k.name), s, branch, k, r

    def array_specs(self) -> dict[str, ArraySpec]:
        return {name: ArraySpec("int8", (k.entries, r, r), TABLE_BITS, True)
                for name, _, _, k, r in self.tables()}

    def widths(self) -> "HKLUTWidths":
        return HKLUTWidths.derive(self)


@dataclass(frozen=True)
class HKLUTWidths:
    """Integer ranges of the exact readout, derived from the config alone (worst case)."""
    k_msb: int              # kernels per branch: the divisors of the authors' formula
    k_lsb: int
    denom: int              # D = lcm(k_msb, k_lsb); N = D * 255 * y
    w_msb: int              # N = w_msb * S_msb + w_lsb * S_lsb + up(N_prev)
    w_lsb: int
    s_msb_range: tuple[int, int]
    s_lsb_range: tuple[int, int]
    n_max: int              # clamp bound of N: 255 * D
    n_sum_range: tuple[int, int]   # N before the clamp
    n_sum_bits: int         # signed width that holds n_sum_range
    n_bits: int             # unsigned width of the clamped N

    @classmethod
    def derive(cls, config: HKLUTConfig) -> "HKLUTWidths":
        k_msb, k_lsb = len(config.kernels("msb")), len(config.kernels("lsb"))
        denom = math.lcm(k_msb, k_lsb)
        lo, hi = -(1 << (TABLE_BITS - 1)), (1 << (TABLE_BITS - 1)) - 1
        s_msb = (ROTATIONS * k_msb * lo, ROTATIONS * k_msb * hi)
        s_lsb = (ROTATIONS * k_lsb * lo, ROTATIONS * k_lsb * hi)
        w_msb, w_lsb = denom // k_msb, denom // k_lsb
        n_max = ((1 << PIXEL_BITS) - 1) * denom
        n_sum = (w_msb * s_msb[0] + w_lsb * s_lsb[0], w_msb * s_msb[1] + w_lsb * s_lsb[1] + n_max)
        n_sum_bits = max(abs(n_sum[0]), n_sum[1]).bit_length() + 1
        return cls(k_msb=k_msb, k_lsb=k_lsb, denom=denom, w_msb=w_msb, w_lsb=w_lsb,
                   s_msb_range=s_msb, s_lsb_range=s_lsb, n_max=n_max, n_sum_range=n_sum,
                   n_sum_bits=n_sum_bits, n_bits=n_max.bit_length())


class HKLUTScheme(ConfigScheme):
    name = "hklut"
    version = 1
    title = "HKLUT"
    flows = "edgeforge.schemes.hklut_flows"
    config_class = HKLUTConfig
    design_class = "edgeforge.hw.hklut.design:HKLUTDesign"
