"""The HKLUT network in torch: per-kernel units, the authors' per-pixel forward and a fast exact one.

Structure (Huang, Li et al., IJCAI 2024; ``jasonli0707/hklut: models/hknet.py``):
each stage splits its 8-bit input q = floor(255 x) into an MSB plane
(q & 0xF0) / 255 and an LSB plane (q & 0x0F) / 255. Every kernel of a branch
(:data:`edgeforge.schemes.hklut.KERNEL_SETS`) has its own small network (a
*unit*), read at 4 rotations: rotate the plane, pad right/bottom, run the unit
on the kernel's pattern pixels, pixel-shuffle its r*r outputs, rotate back,
multiply by 127 and floor (straight-through: identity gradient). The branch sum
is divided by the number of kernels and 255 and clamped to [-1, 1] (a clamp
only the training code has); the stage output is
clamp(msb + lsb + nearest_up(x), 0, 1). Stages are chained.

Fast forward (:meth:`HKLUTNet.forward_tables`). A unit never sees anything but
points of the grid its lookup table enumerates: an MSB input is m*16/255 and an
LSB input l/255 with m, l in 0..15. Running the unit on every pixel is therefore
the same as running it once on all 16^n grid points (4096 rows for a 3-pixel
kernel, 256 for a 2-pixel one: exactly the table), applying the straight-through
floor(127 tanh) to each entry (the floor is elementwise, so flooring before or
after the rotation is the same), and gathering one row per pixel by its index,
the readout's index arithmetic. No image is ever rotated: each rotation's index
map is read in the input frame at turned tap offsets (:func:`index_maps`), and
each rotation reads a copy of the table whose r x r blocks are turned back, so one
gather-sum per branch (``embedding_bag(mode="sum")`` forward, 1-D ``index_add_``
backward) sums every kernel and rotation at once. Gradients flow through the
gather (a scatter-add into the table) into the units.
The network part then costs the same for any batch (HKLUT-S: ~0.9 GFLOP
forward for both stages, ~2.6 with backward) and the gathers dominate; the
per-pixel path needs ~24 GFLOP forward per 48x48 RGB patch (20 unit runs of
~17k MACs per pixel and stage). Outputs agree with :meth:`HKLUTNet.forward`
up to float32 rounding inside the unit (a different matmul batch can move an
entry across an integer, one level of one entry).

Padding: training uses the test-time padding of the kernel set (hdb: reflect by
2; hd: replicate by 1, :data:`edgeforge.schemes.hklut.PADDING`). The authors
reflect-pad both branches in training and replicate-pad the LSB branch at test;
we remove that train/test mismatch.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...schemes.hklut import (BRANCHES, LEVELS, ROTATIONS, HKLUTConfig, Kernel,
                              table_name)

__all__ = ["ACTIVATIONS", "HKLUTUnit", "HKLUTNet", "st_floor", "grid_inputs", "index_maps"]

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "leakyrelu": nn.LeakyReLU}
ENTRY_SCALE = 127.0        # tanh output in [-1, 1] -> int8 entry in [-127, 127]
PIXEL_MAX = 255.0
_PAD = {"reflect": 2, "replicate": 1}   # right/bottom pad after rotation, per kernel-set mode
_HIDDEN_LAYERS = 4


class _STFloor(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.floor(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def st_floor(x: torch.Tensor) -> torch.Tensor:
    """floor(x) in the forward pass with an identity gradient (straight-through)."""
    return _STFloor.apply(x)


class HKLUTUnit(nn.Module):
    """One kernel's network: pattern pixels -> r*r sub-pixel outputs in [-1, 1].

    The authors' unit: a dense layer over the ``pixels`` pattern pixels to ``nf``
    channels (their 1x2 / 1x3 conv), four ``nf -> nf`` 1x1 layers, a final
    ``nf -> r*r`` layer, the activation after every layer but the last, then tanh.
    Kaiming-normal weights and zero biases, as theirs.

    Parameters
    ----------
    pixels : int
        Pattern pixels (2 or 3).
    factor : int
        Upscaling factor r of the stage.
    nf : int
        Hidden channels.
    activation : str
        A key of :data:`ACTIVATIONS`.
    """

    def __init__(self, pixels: int, factor: int, nf: int = 64, activation: str = "relu"):
        super().__init__()
        widths = [pixels] + [nf] * (_HIDDEN_LAYERS + 1) + [factor * factor]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        for layer in self.layers:
            nn.init.kaiming_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.act = ACTIVATIONS[activation]()

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """``v``: ``(N, pixels)`` pattern values; returns ``(N, r*r)`` tanh outputs, row-major block."""
        for layer in self.layers[:-1]:
            v = self.act(layer(v))
        return torch.tanh(self.layers[-1](v))


def _plane_values(branch: str) -> torch.Tensor:
    # The same float32 operations as the per-pixel path, (q & 0xF0) / 255 and
    # (q & 0x0F) / 255, so grid and pixel inputs are bit-identical.
    levels = torch.arange(LEVELS, dtype=torch.int64)
    codes = levels * LEVELS if branch == "msb" else levels
    return codes.to(torch.float32) / PIXEL_MAX


def grid_inputs(branch: str, pixels: int) -> torch.Tensor:
    """All ``16**pixels`` unit inputs of a branch, first pattern pixel varying slowest.

    Row ``i`` is the input whose table index is ``i``: index = p1*256 + p2*16 + p3.
    """
    values = _plane_values(branch)
    grid = torch.cartesian_prod(*([values] * pixels))
    return grid.reshape(LEVELS ** pixels, pixels)


def _pad(planes: torch.Tensor, mode: str) -> torch.Tensor:
    p = _PAD[mode]
    return F.pad(planes, (0, p, 0, p), mode=mode)


def _taps(padded: torch.Tensor, kernel: Kernel, h: int, w: int) -> list[torch.Tensor]:
    return [padded[..., dy:dy + h, dx:dx + w] for dy, dx in kernel.taps]


def _rotated_offset(dy: int, dx: int, k: int) -> tuple[int, int]:
    """Where tap (dy, dx) of a plane turned by ``torch.rot90(., k)`` lies in the unturned plane.

    ``torch.rot90(X, 1)[i, j] = X[j, W-1-i]``: one step in the turned frame along
    (dy, dx) is the step (dx, -dy) in the original one.
    """
    for _ in range(k % ROTATIONS):
        dy, dx = dx, -dy
    return dy, dx


def index_maps(codes: torch.Tensor, kernel: Kernel, mode: str) -> list[torch.Tensor]:
    """Table indices of one kernel at each rotation, in the input frame.

    Equal to rotating the plane by k quarter turns, padding right/bottom,
    reading the kernel's taps and turning the index map back; computed without
    any rotation: reflect and replicate padding commute with quarter turns, so
    padding every side of the unturned plane and reading each tap at its turned
    offset (:func:`_rotated_offset`) reads the same pixels.

    Parameters
    ----------
    codes : torch.Tensor
        ``(N, H, W)`` 4-bit plane values (0..15), any integer or float dtype.
    kernel : Kernel
        Pattern pixels.
    mode : {"reflect", "replicate"}
        Padding after rotation (right/bottom).

    Returns
    -------
    list of torch.Tensor
        ``ROTATIONS`` int32 ``(N, H, W)`` maps: element (i, j) of map k is the
        index read, for output block (i, j), by the lookup at rotation k.
    """
    p = _PAD[mode]
    n, h, w = codes.shape
    # F.pad's reflect/replicate modes need a float tensor; 0..15 are exact.
    padded = F.pad(codes.to(torch.float32).unsqueeze(1), (p, p, p, p), mode=mode)
    padded = padded.squeeze(1).to(torch.int32)
    maps = []
    for k in range(ROTATIONS):
        idx = None
        for dy, dx in kernel.taps:
            oy, ox = _rotated_offset(dy, dx, k)
            tap = padded[:, p + oy:p + oy + h, p + ox:p + ox + w]
            idx = tap.clone() if idx is None else idx * LEVELS + tap
        maps.append(idx)
    return maps


class _GatherSum(torch.autograd.Function):
    """out[i] = sum_l weight[idx[l, i]]: ``embedding_bag(mode="sum")`` with a faster backward.

    torch's dense embedding_bag backward sorts the indices; for narrow rows (r*r
    floats) one 1-D ``index_add_`` per bag slot and column is several times faster
    on CPU.
    """

    @staticmethod
    def forward(ctx, idx, weight):
        ctx.save_for_backward(idx)
        ctx.rows = weight.shape[0]
        return F.embedding_bag(idx.t().contiguous(), weight, mode="sum")

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_tensors
        grad_t = grad.t().contiguous()
        out = grad.new_zeros(grad.shape[1], ctx.rows)
        for slot in idx:
            for column, g in zip(out, grad_t):
                column.index_add_(0, slot, g)
        return None, out.t()


def _block_perms(factor: int) -> torch.Tensor:
    """``(4, r*r)``: column order that turns an r x r block back from rotation k."""
    block = torch.arange(factor * factor).reshape(factor, factor)
    return torch.stack([torch.rot90(block, (ROTATIONS - k) % ROTATIONS, [0, 1]).reshape(-1)
                        for k in range(ROTATIONS)])


def _shuffle(blocks: torch.Tensor, n: int, h: int, w: int, r: int) -> torch.Tensor:
    """``(n*h*w, r*r)`` blocks -> ``(n, h*r, w*r)`` image (pixel shuffle)."""
    return blocks.reshape(n, h, w, r, r).permute(0, 1, 3, 2, 4).reshape(n, h * r, w * r)


class HKLUTNet(nn.Module):
    """HKLUT network: one :class:`HKLUTUnit` per stage, branch and kernel.

    Parameters
    ----------
    config : HKLUTConfig
        Stages and kernel sets (HKLUT-S x4 by default).
    nf : int
        Hidden channels of every unit (64 in the release).
    activation : str
        ``"relu"`` (the release), ``"gelu"`` or ``"leakyrelu"``.

    Attributes
    ----------
    units : torch.nn.ModuleDict
        Keyed by the artifact's table names (``s0_msb_h`` ...).
    """

    def __init__(self, config: HKLUTConfig = HKLUTConfig(), nf: int = 64,
                 activation: str = "relu"):
        super().__init__()
        if not isinstance(config, HKLUTConfig):
            raise TypeError(f"config must be an HKLUTConfig, got {config!r}")
        if not isinstance(nf, int) or isinstance(nf, bool) or nf < 1:
            raise ValueError(f"nf must be a positive integer, got {nf!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.config, self.nf, self.activation = config, nf, activation
        self.units = nn.ModuleDict({name: HKLUTUnit(k.pixels, r, nf, activation)
                                    for name, _, _, k, r in config.tables()})
        self._grids = {(branch, n): grid_inputs(branch, n) for branch in BRANCHES for n in (2, 3)}
        self._perms = {r: _block_perms(r) for r in set(config.stages)}

    # -- tables ---------------------------------------------------------------

    def table(self, name: str) -> torch.Tensor:
        """One table as float entries ``(16**n, r*r)``: st_floor(127 tanh(unit(grid))).

        Differentiable (straight-through); the values are the int8 entries.
        """
        for tname, _, branch, kernel, _ in self.config.tables():
            if tname == name:
                out = self.units[name](self._grids[branch, kernel.pixels])
                # Clamp as the transfer does: float32 tanh stays in [-1, 1], so it only
                # documents that 127 * out fits int8.
                return st_floor(ENTRY_SCALE * torch.clamp(out, -1.0, 1.0))
        raise ValueError(f"name must be one of {list(self.units)}, got {name!r}")

    @torch.no_grad()
    def tables_int8(self) -> dict[str, np.ndarray]:
        """Every table as int8 ``(16**n, r, r)``, keyed by table name: the artifact's arrays."""
        out = {}
        for name, _, _, kernel, r in self.config.tables():
            out[name] = self.table(name).to(torch.int8).reshape(kernel.entries, r, r).numpy()
        return out

    # -- forwards -------------------------------------------------------------

    def _check_input(self, x) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or not x.is_floating_point():
            raise ValueError(f"x must be a float tensor (B, C, H, W) in [0, 1], got "
                             f"{type(x).__name__ if not isinstance(x, torch.Tensor) else tuple(x.shape)!r}")
        if min(x.shape[2:]) < 3:
            raise ValueError(f"x must be at least 3x3 pixels (reflect padding by 2), got "
                             f"{tuple(x.shape)!r}")
        return x

    def _split(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        q = torch.floor(x.detach() * PIXEL_MAX).to(torch.int64)
        return {"msb": q & 0xF0, "lsb": q & 0x0F}

    def _finish(self, sums: dict[str, torch.Tensor], x: torch.Tensor, r: int) -> torch.Tensor:
        out = 0.0
        for branch in BRANCHES:
            k = len(self.config.kernels(branch))
            out = out + torch.clamp(sums[branch] / k / PIXEL_MAX, -1.0, 1.0)
        up = F.interpolate(x, scale_factor=r, mode="nearest")
        return torch.clamp(out + up, 0.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The authors' per-pixel forward (slow: the units run on every pixel and rotation).

        Parameters
        ----------
        x : torch.Tensor
            ``(B, C, H, W)`` float image in [0, 1].

        Returns
        -------
        torch.Tensor
            ``(B, C, H*s, W*s)`` in [0, 1], s the overall scale.
        """
        x = self._check_input(x)
        for s, r in enumerate(self.config.stages):
            b, c, h, w = x.shape
            planes = self._split(x)
            sums = {}
            for branch in BRANCHES:
                plane = planes[branch].to(torch.float32).reshape(b * c, 1, h, w) / PIXEL_MAX
                mode, total = self.config.padding(branch), 0.0
                for kernel in self.config.kernels(branch):
                    unit = self.units[table_name(s, branch, kernel.name)]
                    for k in range(ROTATIONS):
                        rotated = torch.rot90(plane, k, [2, 3])
                        rh, rw = rotated.shape[2:]
                        taps = _taps(_pad(rotated, mode), kernel, rh, rw)
                        v = torch.stack([t.reshape(-1) for t in taps], dim=1)
                        img = _shuffle(unit(v), b * c, rh, rw, r).unsqueeze(1)
                        img = torch.rot90(img, (ROTATIONS - k) % ROTATIONS, [2, 3])
                        total = total + st_floor(ENTRY_SCALE * img)
                sums[branch] = total.reshape(b, c, h * r, w * r)
            x = self._finish(sums, x, r)
        return x

    def forward_tables(self, x: torch.Tensor) -> torch.Tensor:
        """The same function as :meth:`forward`, computed by table evaluation and gathers.

        See the module docstring. Use this for training and evaluation.
        """
        x = self._check_input(x)
        for s, r in enumerate(self.config.stages):
            b, c, h, w = x.shape
            planes = self._split(x)
            perms = self._perms[r]
            sums = {}
            for branch in BRANCHES:
                codes = planes[branch].reshape(b * c, h, w)
                if branch == "msb":
                    codes = codes >> 4
                mode, weights, indices, offset = self.config.padding(branch), [], [], 0
                for kernel in self.config.kernels(branch):
                    name = table_name(s, branch, kernel.name)
                    # (4 * E, r*r): row k*E + e is entry e with its block turned back from rotation k.
                    weights.append(self.table(name)[:, perms].transpose(0, 1).reshape(-1, r * r))
                    for k, idx in enumerate(index_maps(codes, kernel, mode)):
                        indices.append(idx + (offset + k * kernel.entries))
                    offset += ROTATIONS * kernel.entries
                bags = torch.stack(indices).reshape(len(indices), -1)
                blocks = _GatherSum.apply(bags, torch.cat(weights))
                sums[branch] = _shuffle(blocks, b * c, h, w, r).reshape(b, c, h * r, w * r)
            x = self._finish(sums, x, r)
        return x
