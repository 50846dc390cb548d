"""Compressed networks that compile onto the dense engine: EZCrop channel pruning (with HRank as
the metric it replaces) and NRMF rank factorisation (with VBMF ranks as the baseline).

- :func:`~.ezcrop.prune_network` ``(source, rates, *, metric="ezcrop", rounds=1, ...)``
- :func:`~.nrmf.nrmf_network` ``(source, p=0.95, *, alpha=1e-2, ...)``
- :func:`~.nrmf.vbmf_network` ``(source, ...)``

Each returns a :class:`~.common.Compressed` whose ``result`` exports with
:func:`~edgeforge.models.network.export.export_network` (``provenance=c.provenance()``): a
dense network artifact like any other, so ``generate`` / ``verify`` / ``cost`` need nothing
new. Like :mod:`edgeforge.models.network`, this package imports torch only when one of them
is first used (the CLI reads :data:`METHODS` and :data:`FINE_TUNE_FIELDS` to build its parser).
"""

from importlib import import_module

__all__ = ["METHODS", "FINE_TUNE_FIELDS", "FINE_TUNE", "Compressed", "prune_network",
           "nrmf_network", "vbmf_network"]

#: The methods by name, as the CLI offers them.
METHODS = ("ezcrop", "hrank", "nrmf", "vbmf")

#: How fine-tuning after pruning or factorisation differs from a training run's
#: :class:`~edgeforge.models.network.train.TrainConfig`: a quarter of the steps at a fifth of
#: the peak learning rate (the network starts trained); float, then QAT, as in training.
FINE_TUNE_FIELDS = {"iterations": 1000, "lr": 2e-3}

_LAZY = {"FINE_TUNE": "common", "Compressed": "common", "prune_network": "ezcrop",
         "nrmf_network": "nrmf", "vbmf_network": "nrmf"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
