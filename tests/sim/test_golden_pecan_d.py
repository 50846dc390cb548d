"""PECAN-D golden: the batched NumPy equals a loop reading of the spec (L1 distance, arg-min
ties to the lowest index, table columns summed over the groups, the walker's requantisation)
on random networks with tied prototypes and values at the extremes."""

import numpy as np
import pytest

from edgeforge.sim.golden.pecan_d import accumulate, match

from pecan_helpers import check_golden_equals_loop


def loop_accumulate(layer, arrays, x):
    """One image, one position, one group at a time."""
    i, f = layer.index, layer.fields
    cb, table, bias = (arrays[f"l{i}_codebook"], arrays[f"l{i}_table"], arrays[f"l{i}_bias"])
    groups, protos, d = cb.shape

    def one(vec):
        acc = [int(b) for b in bias]
        for j in range(groups):
            best, best_q = None, None
            for q in range(protos):
                dist = sum(abs(int(vec[j * d + e]) - int(cb[j, q, e])) for e in range(d))
                if best is None or dist < best:          # strictly less: the lowest index wins
                    best, best_q = dist, q
            for o in range(len(acc)):
                acc[o] += int(table[j, o, best_q])
        return acc

    if layer.kind == "linear":
        return np.array([one(v) for v in x])
    k, pad = f["kernel"], f["padding"]
    n, c, h, w = x.shape
    ho, wo = layer.out_shape[1:]
    out = np.zeros((n, layer.out_shape[0], ho, wo), np.int64)
    for b in range(n):
        for oy in range(ho):
            for ox in range(wo):
                vec = []
                for dy in range(k):
                    for dx in range(k):                  # tap-major: (dy k + dx) C + c
                        for ch in range(c):
                            y, xx = oy + dy - pad, ox + dx - pad
                            vec.append(int(x[b, ch, y, xx]) if 0 <= y < h and 0 <= xx < w else 0)
                out[b, :, oy, ox] = one(vec)
    return out


@pytest.mark.parametrize("seed, transforms", [(s, ("pecan-d",)) for s in range(5)]
                         + [(s, ("pecan-d", "dense")) for s in (11, 12)])
def test_golden_equals_the_loop_reading(seed, transforms):
    check_golden_equals_loop("pecan-d", seed, transforms, 3, accumulate, loop_accumulate)


def test_ties_go_to_the_lowest_index():
    # Two groups of two; prototypes 0 and 2 of group 0 are equal, group 1 has three at
    # distance 2 from the input.
    codebook = np.array([[[1, 1], [9, 9], [1, 1]], [[0, 2], [2, 0], [3, 1]]])
    vec = np.array([[1, 1, 1, 1]])
    assert match(vec, codebook).tolist() == [[0, 0]]
    vec = np.array([[9, 9, 2, 0]])
    assert match(vec, codebook).tolist() == [[1, 1]]


def test_extremes_of_the_input_scale():
    # uint8 inputs and codebooks at 0 and 255: distances up to d * 255 are exact.
    codebook = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 255]]])
    assert match(np.array([[255, 255, 255]]), codebook).tolist() == [[1]]
    assert match(np.array([[0, 0, 0]]), codebook).tolist() == [[0]]
    assert match(np.array([[255, 100, 255]]), codebook).tolist() == [[2]]
    assert match(np.array([[255, 128, 255]]), codebook).tolist() == [[1]]      # 127 < 128
