"""Transfer a trained HKLUT network to its lookup tables: the artifact the hardware reads.

As the authors' ``transfer.py``: every unit is run once on all 16^n inputs of its
grid (MSB m*16/255, LSB l/255, first pattern pixel varying slowest, no rotation)
and each entry is floor(127 * clamp(tanh, -1, 1)) stored as int8, shape
``(16**n, r, r)``. 4-bit inputs are exact grid points, so nothing is
interpolated or fine-tuned: the tables are exactly the values the network's
forward uses (:meth:`~edgeforge.models.hklut.net.HKLUTNet.tables_int8`), and the
LUT readout reproduces the network's output on interior pixels.
"""

from __future__ import annotations

import torch

from ...artifact import Artifact, check
from .net import HKLUTNet

__all__ = ["transfer", "non_finite_weights"]


def non_finite_weights(net: HKLUTNet) -> list[str]:
    """Names of the parameters of ``net`` that hold a NaN or an infinity (empty when none)."""
    return [name for name, p in net.named_parameters() if not bool(torch.isfinite(p).all())]


def transfer(net: HKLUTNet, *, result=None, command: str = "", seed: int | None = None,
             train_data: str | None = None) -> Artifact:
    """Build the validated ``hklut`` artifact of ``net``.

    Parameters
    ----------
    net : HKLUTNet
        The trained network.
    result : TrainResult, optional
        The :func:`~edgeforge.models.hklut.train.train` result that produced
        ``net``; its iterations, PSNRs, data and time go into the provenance.
    command : str
        The command line that trained it (provenance).
    seed : int, optional
        The training seed (provenance).
    train_data : str, optional
        What it was trained on, when ``result`` does not say.

    Returns
    -------
    Artifact
        Scheme ``hklut``, the net's config, one int8 table per stage, branch and
        kernel, and a provenance with ``source = "edgeforge-train"``.

    Raises
    ------
    TypeError
        If ``net`` is not an :class:`HKLUTNet`.
    ValueError
        If a weight is NaN or infinite: its tables would silently read as zeros.
    """
    if not isinstance(net, HKLUTNet):
        raise TypeError(f"net must be an HKLUTNet, got {type(net).__name__!r}")
    bad = non_finite_weights(net)
    if bad:
        raise ValueError(f"net: {len(bad)} weight tensor(s) hold NaN or infinity (first "
                         f"{bad[0]}), so its tables would be meaningless; got a diverged network")
    provenance = {"source": "edgeforge-train", "activation": net.activation, "nf": net.nf,
                  "command": command, "seed": seed, "train_data": train_data}
    if result is not None:
        provenance.update({
            "iterations": result.iteration, "best_iteration": result.best_iteration,
            "psnr": round(result.best_psnr, 4), "bicubic_psnr": round(result.bicubic_psnr, 4),
            "psnr_data": result.eval_data, "train_seconds": round(result.seconds, 1),
            "train_data": train_data or result.train_data,
        })
    return check(Artifact(scheme="hklut", config=net.config.to_dict(), arrays=net.tables_int8(),
                          provenance=provenance))
