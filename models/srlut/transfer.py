"""Transfer a trained SR-LUT network to its table: the artifact the golden model and hardware read.

As ``yhjo09/SR-LUT: 2_Transfer_to_LUT/Transfer_Model_S.py``: the network's
first layer is run on every node tuple (``SRLUTNet.tables_int8``) and each
entry is ``round(clamp(out, -1, 1) * 127)`` (torch round, half to even).
"""

from __future__ import annotations

import torch

from ...artifact import Artifact, check
from .net import SRLUTNet

__all__ = ["transfer"]


def transfer(net: SRLUTNet, *, provenance: dict | None = None) -> Artifact:
    """The validated ``srlut`` artifact of ``net``; ``provenance`` adds to ``source``/``nf``.

    Raises
    ------
    TypeError
        If ``net`` is not an :class:`SRLUTNet`.
    ValueError
        If a weight is NaN or infinite (its table would be meaningless).
    """
    if not isinstance(net, SRLUTNet):
        raise TypeError(f"net must be an SRLUTNet, got {type(net).__name__!r}")
    bad = [n for n, p in net.named_parameters() if not bool(torch.isfinite(p).all())]
    if bad:
        raise ValueError(f"net: {len(bad)} weight tensor(s) hold NaN or infinity (first "
                         f"{bad[0]}); got a diverged network")
    info = {"source": "edgeforge-train", "nf": net.nf} | (provenance or {})
    return check(Artifact(scheme="srlut", config=net.config.to_dict(), arrays=net.tables_int8(),
                          provenance=info))
