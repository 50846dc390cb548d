"""PECAN-D at export: prototype usage on a set of images, pruning of never-matched prototypes,
memory bits of codebooks and tables.

Everything here reads the network artifact and runs the golden model
(:mod:`edgeforge.sim.golden.network`, :mod:`edgeforge.sim.golden.pecan_d`), so usage is
that of the integer arithmetic the hardware runs.

Pruning keeps ``prototypes`` one number per layer, as the transform's fields and the CAM
core have it (every group a CAM of ``p`` entries): a layer's ``p`` becomes the largest
number of prototypes any of its groups used, each group keeps its used prototypes in
their order, and a group that used fewer is padded with copies of its last used
prototype (and of that prototype's table column). A copy ties with its original on every
input and sits at a higher index, so it never wins the arg-min: on the images the usage
was counted on, the pruned network's every match, accumulator and class is the
original's. On other images a pruned prototype may have been the nearest; then the
nearest kept one answers.
"""

from __future__ import annotations

import numpy as np

from ...artifact import Artifact, check
from ...schemes.network import parse_network
from ...sim.golden.network import forward
from ...sim.golden.pecan_d import match, vectors

__all__ = ["prototype_usage", "usage_report", "memory_bits", "prune_prototypes"]


def _pecan_layers(network):
    return [layer for layer in network.layers
            if layer.transform is not None and layer.fields["transform"] == "pecan-d"]


def prototype_usage(artifact: Artifact, images) -> dict[int, np.ndarray]:
    """How often each prototype is matched over ``images`` (every output position).

    Returns
    -------
    dict
        Layer index -> counts ``(D, p)`` (int64) of each PECAN-D layer.
    """
    network = parse_network(artifact.config)
    layers = _pecan_layers(network)
    if not layers:
        return {}
    outputs = forward(artifact, images, upto=layers[-1].index)
    x0 = np.asarray(images, np.int64)
    usage = {}
    for layer in layers:
        i = layer.index
        x = outputs[i - 1] if i else x0
        k = match(vectors(layer, x), artifact.arrays[f"l{i}_codebook"])      # (N, P, D)
        p = layer.fields["prototypes"]
        flat = k.reshape(-1, k.shape[-1])
        usage[i] = np.stack([np.bincount(flat[:, j], minlength=p) for j in range(flat.shape[1])])
    return usage


def memory_bits(artifact: Artifact) -> dict[int, dict]:
    """Bits of each PECAN-D layer's codebooks (``D p d`` values of the input's width) and
    tables (``D c_out p`` entries of ``table_bits``), by layer index."""
    network = parse_network(artifact.config)
    out = {}
    for layer in _pecan_layers(network):
        f = layer.fields
        outputs, _ = layer.transform.size(layer)
        bits, _ = network.input_type(layer.index)
        d_, p = f["groups"], f["prototypes"]
        out[layer.index] = {"codebook": d_ * p * f["group_size"] * bits,
                            "table": d_ * outputs * p * f["table_bits"]}
    return out


def usage_report(usage: dict[int, np.ndarray]) -> dict:
    """JSON-ready usage: per layer the prototypes ``p``, the number each group used and
    the share of all ``D p`` prototypes used."""
    out = {}
    for i, counts in usage.items():
        used = (counts > 0).sum(axis=1)
        out[f"l{i}"] = {"prototypes": int(counts.shape[1]),
                        "used_per_group": [int(u) for u in used],
                        "used_share": round(float(used.sum() / counts.size), 6)}
    return out


def prune_prototypes(artifact: Artifact, images) -> tuple[Artifact, dict]:
    """Drop the prototypes (and table columns) that no image of ``images`` matches.

    Returns
    -------
    (Artifact, dict)
        The pruned artifact (checked by the scheme; its provenance gains ``pruning``)
        and the report: per layer ``prototypes`` before and after and the memory bits
        before and after, and the totals.
    """
    usage = prototype_usage(artifact, images)
    config = {"input": dict(artifact.config["input"]),
              "layers": [dict(layer) for layer in artifact.config["layers"]]}
    arrays = dict(artifact.arrays)
    for i, counts in usage.items():
        kept = [np.flatnonzero(c) for c in counts]
        p_new = max(1, max(len(k) for k in kept))
        # Pad each group with copies of its last used prototype: they never win a tie.
        index = np.stack([np.concatenate([k, np.full(p_new - len(k), k[-1] if len(k) else 0)])
                          for k in kept])                                      # (D, p_new)
        groups = np.arange(len(index))[:, None]
        arrays[f"l{i}_codebook"] = artifact.arrays[f"l{i}_codebook"][groups, index]
        table = artifact.arrays[f"l{i}_table"]                                 # (D, O, p)
        arrays[f"l{i}_table"] = np.ascontiguousarray(
            table.transpose(0, 2, 1)[groups, index].transpose(0, 2, 1))
        config["layers"][i]["prototypes"] = int(p_new)
    before_bits = memory_bits(artifact)
    pruned = Artifact(scheme=artifact.scheme, config=config, arrays=arrays,
                      scales=dict(artifact.scales), provenance=dict(artifact.provenance))
    after_bits = memory_bits(pruned)
    layers = {f"l{i}": {"prototypes": int(usage[i].shape[1]),
                        "kept": config["layers"][i]["prototypes"],
                        "bits": sum(before_bits[i].values()),
                        "bits_kept": sum(after_bits[i].values())} for i in usage}
    report = {"images": int(len(images)), "layers": layers,
              "bits": sum(v["bits"] for v in layers.values()),
              "bits_kept": sum(v["bits_kept"] for v in layers.values())}
    pruned.provenance["pruning"] = report
    return check(pruned), report
