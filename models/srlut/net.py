"""The SR-LUT network (Jo & Kim, CVPR 2021): one small CNN over the kernel's pixels, read at four
rotations.

As ``yhjo09/SR-LUT: 1_Train_deep_model/Train_Model_S.py``: a first conv over
the pattern (2x2 for ``s``, 1x3 for ``f``, 1x2 for ``v``) 1 -> nf, four 1x1
convs nf -> nf, a 1x1 conv nf -> r*r, ReLU after each but the last, pixel
shuffle by r; Kaiming-normal weights, zero biases (18,000 parameters for S x4
at nf = 64). The prediction uses the fixed official code's scale (its commit
8cbe403): the sum over the four rotations of ``clamp(out, -1, 1) * 127``,
divided by 255, each rotation reflect-padded at the bottom and right as at
test. So one table unit is one grey level, which is what the transfer stores.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...schemes.hklut import ROTATIONS
from ...schemes.srlut import SRLUTConfig

__all__ = ["SRLUTNet", "TRAINABLE"]

TRAINABLE = ("s", "f", "v")     # single-kernel sets; MuLUT's sdy is read, not trained, here
_FIRST_KERNEL = {"s": (2, 2), "f": (1, 3), "v": (1, 2)}
ENTRY_SCALE = 127               # int8 entry = round(clamp(out, -1, 1) * 127)


class SRLUTNet(nn.Module):
    """SR-LUT network of one single-stage config (kernel set ``s``, ``f`` or ``v``)."""

    def __init__(self, config: SRLUTConfig = SRLUTConfig(), nf: int = 64):
        super().__init__()
        if config.kernels not in TRAINABLE or len(config.stages) != 1:
            raise ValueError(f"config: an SR-LUT network has one stage of kernel set "
                             f"{'/'.join(TRAINABLE)}, got kernels {config.kernels!r}, stages "
                             f"{list(config.stages)!r}")
        if not isinstance(nf, int) or isinstance(nf, bool) or nf < 1:
            raise ValueError(f"nf must be a positive integer, got {nf!r}")
        self.config, self.nf = config, nf
        r = config.stages[0]
        self.convs = nn.ModuleList([nn.Conv2d(1, nf, _FIRST_KERNEL[config.kernels])]
                                   + [nn.Conv2d(nf, nf, 1) for _ in range(4)]
                                   + [nn.Conv2d(nf, r * r, 1)])
        for conv in self.convs:
            nn.init.kaiming_normal_(conv.weight)
            nn.init.zeros_(conv.bias)

    def unit(self, x: torch.Tensor) -> torch.Tensor:
        """Raw outputs ``(N, r*r, H', W')`` on already padded planes ``(N, 1, H, W)`` in [0, 1]."""
        for conv in self.convs[:-1]:
            x = F.relu(conv(x))
        return self.convs[-1](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Super-resolve planes ``(N, 1, H, W)`` in [0, 1]: the four-rotation sum, /255."""
        r = self.config.stages[0]
        kh, kw = _FIRST_KERNEL[self.config.kernels]
        total = 0.
        for rot in range(ROTATIONS):
            turned = torch.rot90(x, rot, (2, 3))
            padded = F.pad(turned, (0, kw - 1, 0, kh - 1), mode="reflect")
            out = torch.clamp(self.unit(padded), -1, 1) * ENTRY_SCALE
            total = total + torch.rot90(F.pixel_shuffle(out, r), -rot, (2, 3))
        return total / 255.0

    @torch.no_grad()
    def tables_int8(self) -> dict:
        """The 17^n (L^n) x r x r int8 table: every node tuple, first input slowest.

        Nodes are ``0, q, ..., 256 - q`` and 255 for the top one (as the
        authors' transfer, which samples it at 255 and reads it as 256).
        """
        import numpy as np

        from ...schemes.srlut import table_name
        c = self.config
        r = c.stages[0]
        levels = torch.arange(c.nodes, dtype=torch.float32) * c.interval
        levels[-1] = 255.0
        grid = torch.cartesian_prod(*[levels] * c.pixels).reshape(-1, c.pixels) / 255.0
        kh, kw = _FIRST_KERNEL[c.kernels]
        patches = grid.reshape(-1, 1, kh, kw)
        out = []
        for chunk in torch.split(patches, 1 << 14):
            out.append(torch.round(torch.clamp(self.unit(chunk), -1, 1) * ENTRY_SCALE))
        values = torch.cat(out).reshape(-1, r, r).numpy().astype(np.int8)
        return {table_name(0, c.kernel_list[0].name): values}
