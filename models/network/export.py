"""Export a trained network to the ``network`` artifact, rebuild its torch model, evaluate it.

:func:`export_network` writes the artifact of :mod:`edgeforge.schemes.network`: the
layer list with every conv2d / linear layer's ``weight_bits``, ``bias_bits``,
``shift`` and ``out_bits``; arrays ``l{i}_weight`` (int8) and ``l{i}_bias``
(int32), ``i`` the layer's index in the list; ``scales`` with each layer's
exponents ``{"a_in", "f_w", "a_out"}`` (``shift = a_in + f_w - a_out``, the
input pixels on ``2**-bits``); and the provenance. The integers are those the
fixed-point forward used, so the golden model run on the artifact and the
torch model agree exactly wherever float32 is exact (see :mod:`.quant`).

A network with PECAN-D layers (:mod:`edgeforge.models.pecan.layers`) exports its
codebooks, tables and biases instead of weights, and its provenance gains the prototype
usage on the training split (``prototype_usage``) and, with ``prune``, what pruning the
never-matched prototypes saved (``pruning``, :mod:`edgeforge.models.pecan.export`); one
trained on frozen weights names their artifact (``frozen_weights``).

:func:`network_from_artifact` goes the other way: the torch model whose
weights are the artifact's integers on their grids, in float64, which is the
artifact's arithmetic for any layer size; :func:`evaluate_network` measures
its accuracy on a digits split.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import torch

from ...artifact import Artifact, check, load
from ..image_sets import DIGITS, ImageSet
from .net import QNet
from .quant import QuantLayer
from .train import TrainResult, accuracy

__all__ = ["SCHEME", "export_network", "network_from_artifact", "evaluate_network"]

SCHEME = "network"


def _layer_dict(layer: dict, module) -> dict:
    return module.fields() if isinstance(module, QuantLayer) else dict(layer)


def export_network(result: TrainResult, *, command: str | None = None,
                   prune: bool = False, provenance: dict | None = None) -> Artifact:
    """The ``network`` artifact of a trained network.

    Parameters
    ----------
    result : TrainResult
        From :func:`~edgeforge.models.network.train.train_network`.
    command : str, optional
        The command that trained it, for the provenance; default: this
        process's command line, the program by name (no folder).
    prune : bool
        Drop the PECAN-D prototypes that no training image matches (and their table
        columns); the golden outputs on the training split stay the same.
    provenance : dict, optional
        Further provenance fields, e.g. ``compression`` (what pruned or
        factorised the network: :mod:`edgeforge.models.compress`); JSON data.

    Returns
    -------
    Artifact
        Scheme ``network``: config (input, layer list), arrays, scales and a
        provenance with the data, split, seed, test accuracies and command.
        Nothing time- or machine-dependent goes in, so the same seed makes the
        same file. Validated by the scheme (:mod:`edgeforge.schemes.network`).

    Raises
    ------
    TypeError
        If ``result`` is not a :class:`TrainResult`.
    ValueError
        If the network is not calibrated, or a bias needs more than 32 bits.
    ArtifactError
        If the scheme refuses the artifact (a ``ValueError`` too).
    """
    if not isinstance(result, TrainResult):
        raise TypeError(f"result must be a TrainResult, got {type(result).__name__!r}")
    net = result.net
    if not net.quantized:
        raise ValueError("the network is not calibrated: train_network calibrates it before QAT")
    layers, arrays = [], {}
    for i, (layer, module) in enumerate(zip(net.network["layers"], net.layers)):
        layers.append(_layer_dict(layer, module))
        if isinstance(module, QuantLayer):
            arrays.update(module.arrays(i))
    record = {
        "source": "edgeforge-train", "preset": result.preset,
        "data": result.data.data_name, "split": result.data.split_rule,
        "seed": result.config.seed,
        "train_config": result.config.to_dict(),
        # "float": the torch model of this fixed-point arithmetic; "unquantised":
        # the float network before calibration.
        "float_accuracy": round(result.float_accuracy, 6),
        "unquantised_accuracy": round(result.unquantised_accuracy, 6),
        "train_accuracy": round(result.train_accuracy, 6), "accuracy_split": "test",
        **result.provenance,
        # The program's name, not its path, so that the same run gives the same file anywhere.
        "command": command if command is not None else shlex.join([Path(sys.argv[0]).name,
                                                                   *sys.argv[1:]]),
        **(provenance or {}),
    }
    if result.frozen is not None:
        record["frozen_weights"] = result.frozen
    artifact = check(Artifact(scheme=SCHEME, config={"input": dict(net.network["input"]),
                                                     "layers": layers},
                              arrays=arrays, scales=net.scales(), provenance=record))
    if any(layer.get("transform") == "pecan-d" for layer in layers):
        from ..pecan.export import prototype_usage, prune_prototypes, usage_report
        x_train, _ = result.data.load("train")
        artifact.provenance["prototype_usage"] = usage_report(prototype_usage(artifact, x_train))
        if prune:
            artifact, _ = prune_prototypes(artifact, x_train)
    elif prune:
        raise ValueError("prune needs a network with PECAN-D layers")
    return artifact


def _exponents(artifact: Artifact, index: int, a_in: int, shift: int) -> dict:
    key = f"l{index}"
    s = artifact.scales.get(key)
    if not isinstance(s, dict) or not {"a_in", "f_w", "a_out"} <= set(s):
        raise ValueError(f"scales.{key} must hold a_in, f_w and a_out, got {s!r}")
    if s["a_in"] != a_in:
        raise ValueError(f"scales.{key}.a_in must be {a_in} (the previous layer's a_out or the "
                         f"input bits), got {s['a_in']!r}")
    if s["a_in"] + s["f_w"] - s["a_out"] != shift:
        raise ValueError(f"scales.{key} gives a_in + f_w - a_out = "
                         f"{s['a_in'] + s['f_w'] - s['a_out']}, but layers[{index}].shift is "
                         f"{shift!r}")
    return s


def network_from_artifact(artifact) -> QNet:
    """The fixed-point torch model of a ``network`` artifact (float64, exact).

    Parameters
    ----------
    artifact : Artifact or str or pathlib.Path
        An artifact, or the path of one (loaded and validated).

    Returns
    -------
    QNet
        Calibrated, with weights ``l{i}_weight * 2**-f_w`` and biases
        ``l{i}_bias * 2**-(a_in + f_w)``.

    Raises
    ------
    ValueError
        If the artifact is not of scheme ``network``, or its scales miss a
        layer or contradict its shifts.
    """
    if not isinstance(artifact, Artifact):
        artifact = load(artifact)
    if artifact.scheme != SCHEME:
        raise ValueError(f"artifact must be of scheme {SCHEME!r}, got {artifact.scheme!r}")
    net = QNet(artifact.config).double()
    a = net.input_bits
    for i, module in net.quant_layers():
        s = _exponents(artifact, i, a, artifact.config["layers"][i]["shift"])
        module.set_scales(s, f"scales.l{i}")
        module.load_arrays(i, artifact.arrays)
        a = s["a_out"]
    return net


def evaluate_network(artifact, split: str = "test", data: ImageSet = DIGITS) -> float:
    """Accuracy of an artifact's fixed-point model on a split of ``data``.

    Parameters
    ----------
    artifact : Artifact or str or pathlib.Path
        The network artifact, or its path.
    split : str
        Which images: ``"test"``, ``"train"`` (digits also ``"all"``).
    data : ImageSet
        The image set (:mod:`edgeforge.models.image_sets`; default digits).

    Returns
    -------
    float
        Share of images classified correctly (arg-max, ties to the lowest index).

    Raises
    ------
    ValueError
        For a network whose input is not ``data``'s images, or a split ``data`` lacks.
    """
    net = network_from_artifact(artifact)
    data.check_input(net.network["input"])
    images, labels = data.load(split)
    with torch.no_grad():
        return accuracy(net, images, labels)
