"""Compressed networks that compile onto the dense engine: EZCrop channel pruning (with HRank as
the metric it replaces) and NRMF rank factorisation (with VBMF ranks as the baseline).

- :func:`~.ezcrop.prune_network` ``(source, rates, *, metric="ezcrop", rounds=1, ...)``
- :func:`~.nrmf.nrmf_network` ``(source, p=0.95, *, alpha=1e-2, ...)``
- :func:`~.nrmf.vbmf_network` ``(source, ...)``

Each returns a :class:`~.common.Compressed` whose ``result`` exports with
:func:`~edgeforge.models.network.export.export_network` (``provenance=c.provenance()``): a
dense network artifact like any other, so ``generate`` / ``verify`` / ``cost`` need nothing
new.
"""

from .common import FINE_TUNE, Compressed
from .ezcrop import prune_network
from .nrmf import nrmf_network, vbmf_network

__all__ = ["FINE_TUNE", "Compressed", "prune_network", "nrmf_network", "vbmf_network",
           "METHODS"]

#: The methods by name, as the CLI offers them.
METHODS = ("ezcrop", "hrank", "nrmf", "vbmf")
