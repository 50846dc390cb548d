"""The smoke scheme: one ROM table read as a streaming lookup.

It proves the whole chain (artifact -> generator -> Verilog -> cocotb vs golden ->
synthesis and timing) on a design small enough to build in seconds. Its
artifact holds one unsigned table of ``2**addr_bits`` entries of ``data_bits``
bits.
"""

from __future__ import annotations

import numpy as np

from ..artifact import Artifact, ArraySpec, ArtifactError
from . import Scheme

__all__ = ["SmokeScheme", "container_dtype", "default_artifact"]

MAX_ADDR_BITS = 16
MAX_DATA_BITS = 32


def container_dtype(bits: int) -> str:
    """The smallest unsigned NumPy dtype holding ``bits``-bit values."""
    for width in (8, 16, 32):
        if bits <= width:
            return f"uint{width}"
    raise ValueError(f"no container for {bits}-bit values")


def _check_int(config: dict, key: str, lo: int, hi: int) -> int:
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ArtifactError(f"config.{key}", f"expected an integer in {lo}..{hi}, got {value!r}")
    return value


class SmokeScheme(Scheme):
    name = "smoke"
    version = 1
    title = "smoke"
    flows = "edgeforge.schemes.smoke_flows"

    def check_config(self, config: dict) -> dict:
        unknown = set(config) - {"addr_bits", "data_bits"}
        if unknown:
            raise ArtifactError(f"config.{sorted(unknown)[0]}", "unknown smoke config field; "
                                "known: ['addr_bits', 'data_bits']")
        return {"addr_bits": _check_int(config, "addr_bits", 1, MAX_ADDR_BITS),
                "data_bits": _check_int(config, "data_bits", 1, MAX_DATA_BITS)}

    def array_specs(self, config: dict) -> dict[str, ArraySpec]:
        return {"table": ArraySpec(container_dtype(config["data_bits"]),
                                   (1 << config["addr_bits"],), config["data_bits"], False)}

    def design(self, artifact, **hw_config):
        from ..hw.smoke import SmokeDesign
        return SmokeDesign(artifact, **hw_config)


def default_artifact(addr_bits: int = 8, data_bits: int = 8, seed: int = 0) -> Artifact:
    """A built-in smoke artifact: a seeded random table (no training needed)."""
    config = SmokeScheme().check_config({"addr_bits": addr_bits, "data_bits": data_bits})
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 1 << data_bits, size=1 << addr_bits, dtype=np.uint64)
    return Artifact(scheme="smoke", config=config,
                    arrays={"table": table.astype(container_dtype(data_bits))},
                    provenance={"source": "edgeforge built-in", "seed": seed})
