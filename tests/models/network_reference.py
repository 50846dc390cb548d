"""A pure integer NumPy reading of the network artifact's arithmetic (spec-network.md), for the model-side tests.

Stand-in until the project golden (``sim/golden/network.py``) lands: int64
throughout, no torch, no floats. Returns the logits; the class is their
arg-max (``np.argmax``: ties to the lowest index).
"""

import numpy as np


def reference_logits(artifact, images: np.ndarray) -> np.ndarray:
    x = images.astype(np.int64)
    layers = artifact.config["layers"]
    for i, layer in enumerate(layers):
        kind = layer["kind"]
        if kind in ("conv2d", "linear"):
            w = artifact.arrays[f"l{i}_weight"].astype(np.int64)
            b = artifact.arrays[f"l{i}_bias"].astype(np.int64)
            if kind == "conv2d":
                k, p = layer["kernel"], layer["padding"]
                x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
                oh, ow = x.shape[2] - k + 1, x.shape[3] - k + 1
                acc = np.broadcast_to(b[None, :, None, None], (len(x), len(b), oh, ow)).copy()
                for dy in range(k):
                    for dx in range(k):
                        acc += np.einsum("oc,nchw->nohw", w[:, :, dy, dx],
                                         x[:, :, dy:dy + oh, dx:dx + ow])
            else:
                acc = x @ w.T + b
            s, bits = layer["shift"], layer["out_bits"]
            y = (acc + (1 << (s - 1))) >> s if s > 0 else acc
            if i + 1 < len(layers) and layers[i + 1]["kind"] == "relu":
                x = np.clip(y, 0, (1 << bits) - 1)        # the relu, folded into saturation
            else:
                x = np.clip(y, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        elif kind == "maxpool":
            s = layer["size"]
            n, c, h, w = x.shape
            x = x.reshape(n, c, h // s, s, w // s, s).max(axis=(3, 5))
        elif kind == "flatten":
            x = x.reshape(len(x), -1)                      # c*H*W + h*W + w, as torch
    return x
