"""edgeforge: hardware-friendly neural networks -> verified, costed Verilog.

The API reads like the flow, one call per step::

    import edgeforge
    art    = edgeforge.load("hklut-s-x4.npz")                 # validated artifact
    design = edgeforge.generate(art, width=64, height=64)     # Design object
    files  = design.write_verilog("rtl_out/hklut")            # .v, manifest, .f, .core
    y      = design.golden(x)                                 # bit-exact NumPy
    result = design.verify([x])                               # cocotb + Verilator vs golden
    cost   = design.cost(("generic", "ecp5"))                 # yosys + nextpnr

Heavy dependencies (torch, Amaranth, cocotb) are imported only by the steps
that need them.
"""

from __future__ import annotations

import os

from .artifact import Artifact, ArtifactError, ArraySpec, load, save, validate
from .design import Design, DesignFiles, VerifyResult

__all__ = ["Artifact", "ArtifactError", "ArraySpec", "Design", "DesignFiles", "VerifyResult",
           "load", "save", "validate", "generate", "upscale", "__version__"]

__version__ = "0.1.0"


def generate(artifact: Artifact | str, **config) -> Design:
    """Build the design of ``artifact`` (an Artifact or a path) for a hardware config.

    The config keywords are the scheme's (e.g. HKLUT: ``width``, ``height``,
    ``reads_per_table``, ``out_pixels``); an unknown or invalid one raises
    ``ValueError`` naming it.
    """
    from .schemes import get_scheme
    if not isinstance(artifact, Artifact):
        if not isinstance(artifact, (str, os.PathLike)):
            raise TypeError(f"artifact must be an edgeforge Artifact or a path to one, got "
                            f"{type(artifact).__name__}")
        artifact = load(artifact)
    return get_scheme(artifact.scheme).design(artifact, **config)


def upscale(artifact: Artifact | str, image, arithmetic: str = "exact"):
    """Super-resolve a uint8 image (H, W) or (H, W, 3) with an HKLUT artifact's golden model."""
    from .sim.golden.hklut import upscale as _upscale
    if not isinstance(artifact, Artifact):
        artifact = load(artifact)
    return _upscale(artifact, image, arithmetic=arithmetic)
