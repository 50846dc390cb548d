"""The SR-LUT / MuLUT network: one small CNN per (stage, kernel), each read at four rotations.

Each unit is SR-LUT's (``yhjo09/SR-LUT: 1_Train_deep_model/Train_Model_S.py``):
a first layer over the kernel's pixels 1 -> nf, four 1x1 convs nf -> nf, a
1x1 conv nf -> r*r, ReLU after each but the last, pixel shuffle by the
stage's factor r; Kaiming-normal weights, zero biases (18,000 parameters for
S x4 at nf = 64). The first layer is a convolution over the pattern where the
kernel's taps form a (dilated) grid: SR-LUT's 2x2 ``s``, 1x3 ``f``, 1x2 ``v``,
MuLUT's 2x2-dilated-by-2 ``d``; for MuLUT's ``y`` (taps (0,0)(1,1)(1,2)(2,1),
no grid) the four taps are gathered and mixed by a 1x1 conv, as MuLUT's 1x4
conv over them does.

The forward is the golden readout (:mod:`edgeforge.sim.golden.srlut`) with the
network in place of the interpolated table. Per rotation, the plane is
rotated, padded at the bottom and right as the kernel set's :data:`PADDING`
says, and every unit's ``clamp(out, -1, 1) * 127`` (one table entry) is laid
out and turned back; T, the sum over the stage's K kernels and 4 rotations,
ends the stage as the golden model ends it:

- the last stage: ``T / K`` (SR-LUT: K = 1, the fixed official code's scale
  of its commit 8cbe403), /255 for the loss;
- an earlier stage (MuLUT's re-indexing): ``clip(T / (4 K) + 127, 0, 255)``,
  rounded, the next stage's 8-bit input (/255).

With ``integer`` the entries and both stage ends are rounded (half to even,
as the transfer and the golden model round) with a straight-through gradient,
so training sees the integer pipeline (MuLUT's recipe). Without it nothing is
rounded (SR-LUT's recipe, in which the shipped ``srlut-*-x4`` tables were
trained). The default follows the authors: rounded for MuLUT's ``sdy`` or any
config of several stages, whose earlier stages hand on integers, unrounded
for one stage of ``s``, ``f`` or ``v``.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...schemes.hklut import ROTATIONS, Kernel
from ...schemes.srlut import REINDEX_BIAS, SRLUTConfig, table_name

__all__ = ["SRLUTNet", "ENTRY_SCALE"]

ENTRY_SCALE = 127               # int8 entry = round(clamp(out, -1, 1) * 127)
_TORCH_PAD_MODE = {"reflect": "reflect", "replicate": "replicate"}


def _box(kernel: Kernel) -> tuple[int, int]:
    """Rows and columns the kernel's taps span from the anchor."""
    return (max(dy for dy, _ in kernel.taps) + 1, max(dx for _, dx in kernel.taps) + 1)


def _grid(kernel: Kernel) -> tuple[int, int, int] | None:
    """``(rows, cols, dilation)`` when the taps, in index order, are a row-major dilated grid."""
    h, w = _box(kernel)
    for dilation in range(1, max(h, w)):
        rows, cols = (h - 1) // dilation + 1, (w - 1) // dilation + 1
        taps = tuple((dilation * i, dilation * j) for i in range(rows) for j in range(cols))
        if taps == kernel.taps:
            return rows, cols, dilation
    return None


class _Taps(nn.Module):
    """First layer of a kernel whose taps are no grid: gather them as channels, 1x1 conv."""

    def __init__(self, kernel: Kernel, nf: int):
        super().__init__()
        self.taps, self.box = kernel.taps, _box(kernel)
        self.conv = nn.Conv2d(kernel.pixels, nf, 1)

    @property
    def weight(self):
        return self.conv.weight

    @property
    def bias(self):
        return self.conv.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2] - self.box[0] + 1, x.shape[3] - self.box[1] + 1
        return self.conv(torch.cat([x[:, :, dy:dy + h, dx:dx + w] for dy, dx in self.taps], 1))


def _first_layer(kernel: Kernel, nf: int) -> nn.Module:
    grid = _grid(kernel)
    if grid is None:
        return _Taps(kernel, nf)
    rows, cols, dilation = grid
    return nn.Conv2d(1, nf, (rows, cols), dilation=dilation)


class Unit(nn.Module):
    """One table's network: raw outputs ``(N, r*r, H, W)`` of a padded plane
    ``(N, 1, H+h-1, W+w-1)`` in [0, 1], ``(h, w)`` the kernel's box."""

    def __init__(self, kernel: Kernel, factor: int, nf: int):
        super().__init__()
        self.kernel, self.box = kernel, _box(kernel)
        self.convs = nn.ModuleList([_first_layer(kernel, nf)]
                                   + [nn.Conv2d(nf, nf, 1) for _ in range(4)]
                                   + [nn.Conv2d(nf, factor * factor, 1)])
        for conv in self.convs:
            nn.init.kaiming_normal_(conv.weight)
            nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs[:-1]:
            x = F.relu(conv(x))
        return self.convs[-1](x)


def _ste_round(x: torch.Tensor) -> torch.Tensor:
    """Round half to even forward, identity backward."""
    return x + (torch.round(x) - x).detach()


class SRLUTNet(nn.Module):
    """SR-LUT / MuLUT network of a config: one :class:`Unit` per table (``config.tables()``).

    Parameters
    ----------
    config : SRLUTConfig
        Any kernel set and stages the golden model reads (SR-LUT-S x4 by default).
    nf : int
        Channels of every unit's hidden layers.
    integer : bool, optional
        Round entries and stage ends straight-through (see the module's
        docstring for the default).
    """

    def __init__(self, config: SRLUTConfig = SRLUTConfig(), nf: int = 64,
                 integer: bool | None = None):
        super().__init__()
        if not isinstance(config, SRLUTConfig):
            raise TypeError(f"config must be an SRLUTConfig, got {type(config).__name__!r}")
        if not isinstance(nf, int) or isinstance(nf, bool) or nf < 1:
            raise ValueError(f"nf must be a positive integer, got {nf!r}")
        if integer is None:
            integer = config.kernels == "sdy" or len(config.stages) > 1
        if not isinstance(integer, bool):
            raise ValueError(f"integer must be True, False or None, got {integer!r}")
        self.config, self.nf, self.integer = config, nf, integer
        # Built and initialised in table order, so a one-table net draws its weights as before.
        self.units = nn.ModuleDict({name: Unit(kernel, r, nf)
                                    for name, _, kernel, r in config.tables()})

    def unit(self, x: torch.Tensor, stage: int = 0, kernel: str | None = None) -> torch.Tensor:
        """Raw outputs of one table's network on already padded planes (default: the first)."""
        name = table_name(stage, kernel or self.config.kernel_list[0].name)
        return self.units[name](x)

    def _entries(self, out: torch.Tensor) -> torch.Tensor:
        out = torch.clamp(out, -1, 1) * ENTRY_SCALE
        return _ste_round(out) if self.integer else out

    def stage_sum(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        """T of ``stage`` in entry units (the golden T / q) on planes ``(N, 1, H, W)`` in [0, 1]:
        ``(N, 1, H r, W r)``."""
        c = self.config
        r, mode = c.stages[stage], _TORCH_PAD_MODE[c.padding]
        total = 0.
        for kernel in c.kernel_list:
            unit = self.units[table_name(stage, kernel.name)]
            h, w = unit.box
            for rot in range(ROTATIONS):
                turned = torch.rot90(x, rot, (2, 3))
                padded = F.pad(turned, (0, w - 1, 0, h - 1), mode=mode)
                out = self._entries(unit(padded))
                total = total + torch.rot90(F.pixel_shuffle(out, r), -rot, (2, 3))
        return total

    def stage(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        """What ``stage`` hands on, /255: the image (last stage) or the re-indexed next input."""
        k = len(self.config.kernel_list)
        total = self.stage_sum(stage, x)
        if stage == len(self.config.stages) - 1:
            y = total / k
            return (_ste_round(y) if self.integer else y) / 255.0
        y = total / (ROTATIONS * k) + REINDEX_BIAS
        if self.integer:
            y = _ste_round(y)
        return torch.clamp(y, 0, 255) / 255.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Super-resolve planes ``(N, 1, H, W)`` in [0, 1] through every stage (the last unclipped,
        as both authors train)."""
        for stage in range(len(self.config.stages)):
            x = self.stage(stage, x)
        return x

    @torch.no_grad()
    def tables_int8(self) -> dict:
        """Every table ``table_name(stage, kernel)``: L^n x r x r int8, first input slowest.

        Nodes are ``0, q, ..., 256 - q`` and 255 for the top one (as the
        authors' transfer, which samples it at 255 and reads it as 256); each
        node tuple is placed at the kernel's taps of its box (MuLUT's transfer
        does so for D and Y) and the entry is ``round(clamp(out, -1, 1) * 127)``.
        """
        import numpy as np

        c = self.config
        levels = torch.arange(c.nodes, dtype=torch.float32) * c.interval
        levels[-1] = 255.0
        grid = torch.cartesian_prod(*[levels] * c.pixels).reshape(-1, c.pixels) / 255.0
        tables = {}
        for name, _, kernel, r in c.tables():
            unit = self.units[name]
            patches = torch.zeros(len(grid), 1, *unit.box)
            for i, (dy, dx) in enumerate(kernel.taps):
                patches[:, 0, dy, dx] = grid[:, i]
            out = [torch.round(torch.clamp(unit(chunk), -1, 1) * ENTRY_SCALE)
                   for chunk in torch.split(patches, 1 << 14)]
            tables[name] = torch.cat(out).reshape(-1, r, r).numpy().astype(np.int8)
        return tables
