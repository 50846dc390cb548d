"""HKLUT float reference in torch, structured as the authors' test code.

The authors' readout (``jasonli0707/hklut``: ``models/luts.py`` classes
``HDLUT``/``HDBLUT``, ``models/hklut.py`` class ``HKLUT``, ``test.py``) runs one
module per branch: for every kernel and rotation it turns the image with
``torch.rot90``, pads right/bottom with ``F.pad``, gathers table rows, lays the
``r x r`` blocks out with ``permute``, turns the result back and adds it; the sum
is divided by the number of kernels. A stage slices the 8-bit input into MSB and
LSB planes, divides each branch by 255, adds the nearest-upsampled input and
clamps; the last output is rounded half to even. This module does the same in
float32 on the CPU, as a slow, plain second opinion on
:func:`edgeforge.sim.golden.hklut.upscale` with ``arithmetic="float32"``.

Checked once against the authors' own ``HKLUT``/``HDLUT``/``HDBLUT`` modules
(``jasonli0707/hklut`` at d1c1024, run on the CPU from a scratch copy, fed as
their ``test.py`` feeds them): on the released HKLUT-S x4 tables, 8 inputs
(bicubic x4 LR of astronaut, coffee, chelsea, grey camera; crops 37x53, 61x3,
3x3, random 29x31), 2,318,272 output values, and on random tables for
(3,) hdb/hd, (2,1,2) hdb/hd, (2,2) hd/hd, (2,2) hdb/hdb and (4,) hd/hdb,
1,864,420 more: maximum difference 0, for this module and for the golden
float32 mode alike.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from edgeforge.schemes.hklut import HKLUTConfig, table_name

from .hklut import _planes, resolve

__all__ = ["upscale"]

# F.pad tuples (left, right, top, bottom) of the authors' HDLUT / HDBLUT
# (models/luts.py, pad_dict): what each kernel pads after rotation.
_PAD = {
    "hdb": {"h": (0, 2, 0, 2), "d": (0, 2, 0, 2), "b": (0, 2, 0, 2)},
    "hd": {"h": (0, 1, 0, 0), "d": (0, 1, 0, 1)},
}
_LEVELS = 16      # 2**4 entries per pattern pixel (their `L`)


def _branch(weights: dict[str, torch.Tensor], kernel_set: str, config: HKLUTConfig,
            branch: str, img: torch.Tensor, r: int) -> torch.Tensor:
    """One HDLUT/HDBLUT forward: sum over kernels and rotations, divided by the kernel count."""
    kernels = config.kernels(branch)
    mode = config.padding(branch)
    out = 0.
    for kernel in kernels:
        weight = weights[kernel.name]
        for rot in range(4):
            img_rot = torch.rot90(img, rot, [2, 3])
            b, c, h, w = img_rot.shape
            img_in = F.pad(img_rot, _PAD[kernel_set][kernel.name], mode=mode).type(torch.int64)
            index = 0
            for dy, dx in kernel.taps:
                index = index * _LEVELS + img_in[:, :, dy:dy + h, dx:dx + w]
            tmp = weight[index.flatten()].reshape((b, c, h, w, r, r))
            tmp = torch.permute(tmp, (0, 1, 2, 4, 3, 5)).reshape((b, c, h * r, w * r))
            out += torch.rot90(tmp, 4 - rot, [2, 3])
    return out / float(len(kernels))


def _stage(weights: dict, config: HKLUTConfig, stage: int, img_lr: torch.Tensor) -> torch.Tensor:
    """One HKLUT.forward: bit-plane slicing, both branches, residual, clamp."""
    r = config.stages[stage]
    img_255 = torch.floor(img_lr * 255)
    msb = torch.floor_divide((img_255.type(torch.int64) & 0xF0).type(torch.float32), 16)
    lsb = (img_255.type(torch.int64) & 0x0F).type(torch.float32)
    msb_out = _branch(weights["msb"], config.msb_kernels, config, "msb", msb, r) / 255.
    lsb_out = _branch(weights["lsb"], config.lsb_kernels, config, "lsb", lsb, r) / 255.
    img_out = msb_out + lsb_out + F.interpolate(img_lr, scale_factor=r, mode="nearest")
    return torch.clamp(img_out, 0, 1)


def upscale(artifact_or_tables, image: np.ndarray) -> np.ndarray:
    """Super-resolve ``image`` the way the authors' test code does, in torch float32 on the CPU.

    Parameters
    ----------
    artifact_or_tables : Artifact or tuple of (dict, HKLUTConfig)
        As for :func:`edgeforge.sim.golden.hklut.upscale`.
    image : numpy.ndarray
        ``uint8`` image, grey ``(H, W)`` or RGB ``(H, W, 3)``.

    Returns
    -------
    numpy.ndarray
        ``uint8`` image ``(H s, W s[, 3])``.

    Raises
    ------
    TypeError, ValueError
        As :func:`edgeforge.sim.golden.hklut.upscale` does for the same inputs (TypeError
        for a non-array or a dtype other than uint8, ValueError for a wrong shape).
    """
    tables, config = resolve(artifact_or_tables)
    planes = _planes(image, config)
    # test.py loads the int8 tables as int64 tensors of shape (entries, 1, r, r).
    weights = [{branch: {k.name: torch.from_numpy(tables[table_name(s, branch, k.name)]
                                                   .astype(np.int64))
                         for k in config.kernels(branch)}
                for branch in ("msb", "lsb")} for s in range(len(config.stages))]
    x = torch.from_numpy(planes.astype(np.float32) / 255.0)[None]
    with torch.no_grad():
        for stage in range(len(config.stages)):
            x = _stage(weights[stage], config, stage, x)
    out = np.clip(np.round(x[0].numpy() * 255), 0, 255).astype(np.uint8)
    return out[0] if image.ndim == 2 else np.ascontiguousarray(np.moveaxis(out, 0, 2))
