"""SR-LUT (Jo & Kim, CVPR 2021) and MuLUT (Li et al., ECCV 2022): configuration and table layout.

The LUT-SR peers of HKLUT. One scheme covers both, because they share the
readout: every kernel samples 2-4 pixels of the (rotated) LR plane, splits each
8-bit value into an MSB (``v >> b``, ``b`` = ``interval_bits``) and an LSB
(``v & (2**b - 1)``), and interpolates between the ``n + 1`` vertices of the
simplex of the LSBs (4-simplex for 4 pixels, 3-simplex for 3) in a table
sampled every ``q = 2**b`` levels, ``L = 256/q + 1`` nodes per input:

    row = sum_i MSB_i * L**(n-1-i);  S = sum_j w_j * T[vertex_j]

with weights ``w_j`` summing to ``q``. Each kernel is read at four rotations
from one shared table of r x r int8 blocks, and T is the sum over kernels and
rotations. A stage with K kernels ends in

- the last stage: ``out = clip(RHE(T / (q K)), 0, 255)`` (SR-LUT: T/16;
  MuLUT: T/48);
- an earlier stage (MuLUT's re-indexing): ``x = clip(RHE(T / (4 q K) + 127),
  0, 255)``, MuLUT's T1/192 + 127; ``x`` is the next stage's 8-bit input.

RHE is round half to even. Kernel sets fix the pixels and the border padding
of the authors' test code: SR-LUT's ``s``, ``f``, ``v`` reflect, MuLUT's
``sdy`` replicates (``shared/notes/srlut.md`` has the sources).
The golden model is ``edgeforge.sim.golden.srlut``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..artifact import ArraySpec, ArtifactError
from . import ConfigScheme
from .hklut import PIXEL_BITS, ROTATIONS, TABLE_BITS, Kernel

__all__ = ["KERNEL_SETS", "PADDING", "SRLUTConfig", "SRLUTScheme", "table_name", "REINDEX_BIAS"]

# Kernels by name: taps (row, col) from the anchor, in index order (first slowest).
_S = Kernel("s", ((0, 0), (0, 1), (1, 0), (1, 1)))
KERNEL_SETS: dict[str, tuple[Kernel, ...]] = {
    "s": (_S,),                                           # SR-LUT-S: 2x2
    "f": (Kernel("f", ((0, 0), (0, 1), (0, 2))),),        # SR-LUT-F: 1x3
    "v": (Kernel("v", ((0, 0), (0, 1))),),                # SR-LUT-V: 1x2 (no interpolation)
    "sdy": (_S,                                           # MuLUT: S, D (2x2 dilated), Y
            Kernel("d", ((0, 0), (0, 2), (2, 0), (2, 2))),
            Kernel("y", ((0, 0), (1, 1), (1, 2), (2, 1)))),
}
# Padding after rotation (bottom/right only) in the authors' test code.
PADDING = {"s": "reflect", "f": "reflect", "v": "reflect", "sdy": "replicate"}
REINDEX_BIAS = 127          # MuLUT: an earlier stage's mean readout + 127 indexes the next
MAX_FACTOR = 4
MAX_ENTRIES = 1 << 24       # a table of more rows than this is no LUT a chip can hold
# The released SR-LUT tables use these (file suffix "Nbit" = log2 of the interval).
DEFAULT_INTERVAL_BITS = {"s": 4, "f": 4, "v": 0, "sdy": 4}


def table_name(stage: int, kernel: str) -> str:
    return f"s{stage}_{kernel}"


@dataclass(frozen=True)
class SRLUTConfig:
    """The readout structure of an SR-LUT / MuLUT artifact (SR-LUT-S x4 by default)."""
    kernels: str = "s"
    stages: tuple[int, ...] = (4,)
    interval_bits: int = 4

    @classmethod
    def from_dict(cls, config: dict) -> "SRLUTConfig":
        known = {"kernels", "stages", "interval_bits"}
        for key in config:
            if key not in known:
                raise ArtifactError(f"config.{key}", f"unknown SR-LUT config field; known: "
                                    f"{sorted(known)}")
        kernels = config.get("kernels", cls.kernels)
        if kernels not in KERNEL_SETS:
            raise ArtifactError("config.kernels", f"expected one of {sorted(KERNEL_SETS)}, "
                                f"got {kernels!r}")
        stages = config.get("stages", list(cls.stages))
        if (not isinstance(stages, (list, tuple)) or not stages
                or not all(isinstance(r, int) and not isinstance(r, bool) for r in stages)):
            raise ArtifactError("config.stages", f"expected a non-empty list of integer stage "
                                f"factors, got {stages!r}")
        for r in stages:
            if not 1 <= r <= MAX_FACTOR:
                raise ArtifactError("config.stages", f"stage factor must be 1..{MAX_FACTOR}, "
                                    f"got {r!r}")
        bits = config.get("interval_bits", DEFAULT_INTERVAL_BITS[kernels])
        if not isinstance(bits, int) or isinstance(bits, bool) or not 0 <= bits <= PIXEL_BITS:
            raise ArtifactError("config.interval_bits", f"expected an integer 0..{PIXEL_BITS} "
                                f"(log2 of the sampling interval), got {bits!r}")
        out = cls(kernels=kernels, stages=tuple(stages), interval_bits=bits)
        if out.entries > MAX_ENTRIES:
            raise ArtifactError("config.interval_bits", f"{out.nodes} nodes per input make "
                                f"{out.entries:,} rows per {kernels!r} table, more than "
                                f"{MAX_ENTRIES:,}; got interval_bits {bits!r}")
        return out

    def to_dict(self) -> dict:
        return {"kernels": self.kernels, "stages": list(self.stages),
                "interval_bits": self.interval_bits}

    @property
    def title(self) -> str:
        """The method's name: MuLUT for the ``sdy`` set, else SR-LUT-S/F/V."""
        return "MuLUT" if self.kernels == "sdy" else f"SR-LUT-{self.kernels.upper()}"

    @property
    def kernel_list(self) -> tuple[Kernel, ...]:
        return KERNEL_SETS[self.kernels]

    @property
    def padding(self) -> str:
        return PADDING[self.kernels]

    @property
    def pixels(self) -> int:
        """Pattern pixels of every kernel of the set (all kernels of a set have as many)."""
        return self.kernel_list[0].pixels

    @property
    def interval(self) -> int:
        """q: the sampling interval of the table, in grey levels."""
        return 1 << self.interval_bits

    @property
    def nodes(self) -> int:
        """L: table nodes per input, 0, q, ..., 256 - q and one more for the top cell."""
        return (1 << (PIXEL_BITS - self.interval_bits)) + 1

    @property
    def entries(self) -> int:
        return self.nodes ** self.pixels

    @property
    def scale(self) -> int:
        return math.prod(self.stages)

    def tables(self):
        """Yield (name, stage, kernel, factor) for every table, in a fixed order."""
        for s, r in enumerate(self.stages):
            for k in self.kernel_list:
                yield table_name(s, k.name), s, k, r

    def array_specs(self) -> dict[str, ArraySpec]:
        return {name: ArraySpec("int8", (self.entries, r, r), TABLE_BITS, True)
                for name, _, _, r in self.tables()}

    def denominator(self, stage: int) -> int:
        """T is divided by this at the end of ``stage``: q K, times 4 rotations before the last."""
        k = len(self.kernel_list)
        last = stage == len(self.stages) - 1
        return self.interval * k * (1 if last else ROTATIONS)

    def sum_range(self) -> tuple[int, int]:
        """T's range over every table its declared width allows and every input, under the
        sorted (``fixed``) rule: each of the 4 rotations x K kernels adds ``q`` units of
        non-negative weights on entries of the table's range (int8: -128..127), so
        ``4 K q`` times the range's ends; a flat table at either end reaches them."""
        spec = next(iter(self.array_specs().values()))
        reads = ROTATIONS * len(self.kernel_list) * self.interval
        return reads * spec.min, reads * spec.max

    @property
    def sum_bits(self) -> int:
        """Signed width that holds :meth:`sum_range`: the engine's accumulators."""
        lo, hi = self.sum_range()
        return max(-lo - 1, hi).bit_length() + 1


class SRLUTScheme(ConfigScheme):
    name = "srlut"
    version = 1
    title = "SR-LUT / MuLUT"
    flows = "edgeforge.schemes.srlut_flows"
    config_class = SRLUTConfig
    design_class = "edgeforge.hw.srlut.design:SRLUTDesign"
