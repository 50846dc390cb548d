"""Training patches shared by the LUT-SR trainers (HKLUT, SR-LUT): aligned LR/HR crops as tensors."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["PatchSampler", "to_tensor"]


class PatchSampler:
    """Random aligned LR/HR crops with the authors' flips and rotations, from a NumPy Generator."""

    def __init__(self, pairs, scale: int, patch: int, rng: np.random.Generator):
        self.pairs = [(lr, hr) for _, lr, hr in pairs if min(lr.shape[:2]) >= patch]
        if not self.pairs:
            raise ValueError(f"no training image is at least {patch}x{patch} pixels in LR; "
                             f"lower TrainConfig.patch, got {patch!r}")
        self.scale, self.patch, self.rng = scale, patch, rng

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        p, s, rng = self.patch, self.scale, self.rng
        lrs, hrs = [], []
        for _ in range(n):
            lr, hr = self.pairs[rng.integers(len(self.pairs))]
            y, x = rng.integers(lr.shape[0] - p + 1), rng.integers(lr.shape[1] - p + 1)
            a, b = lr[y:y + p, x:x + p], hr[y * s:(y + p) * s, x * s:(x + p) * s]
            if rng.random() < 0.5:
                a, b = a[:, ::-1], b[:, ::-1]
            if rng.random() < 0.5:
                a, b = a[::-1], b[::-1]
            k = int(rng.integers(4))
            lrs.append(np.rot90(a, k))
            hrs.append(np.rot90(b, k))
        return to_tensor(np.stack(lrs)), to_tensor(np.stack(hrs))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in [0, 1], as the authors' x / 255."""
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float() / 255.0
