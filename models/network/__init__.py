"""Classifier networks on the model side: QAT layers, presets, training and export to the network artifact.

The entry points (the CLI wires them in):

- :func:`~.train.train_network` ``(preset, config=TrainConfig(), *, progress=True, frozen=None,
  name=None, data=DIGITS) -> TrainResult``
- :func:`~.export.export_network` ``(result, *, command=None, prune=False) -> Artifact``
- :func:`~.export.evaluate_network` ``(artifact, split="test", data=DIGITS) -> float``

``data`` is an :class:`~edgeforge.models.image_sets.ImageSet` (digits, MNIST or CIFAR-10).

They are importable from this package too; it imports torch only when one of
them is first used, so that reading :data:`PRETRAINED` stays cheap.
"""

from importlib import import_module
from pathlib import Path

__all__ = ["PRETRAINED", "TrainConfig", "TrainResult", "train_network", "export_network",
           "evaluate_network", "network_from_artifact", "PRESETS", "preset"]

# Networks trained by this code on digits (see pretrained/README.md), by preset name.
PRETRAINED = {name: Path(__file__).resolve().parent / "pretrained" / f"{name}.npz"
              for name in ("digits-ref", "digits-mlp")}

_LAZY = {"TrainConfig": "train", "TrainResult": "train", "train_network": "train",
         "export_network": "export", "evaluate_network": "export",
         "network_from_artifact": "export", "PRESETS": "zoo", "preset": "zoo"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
