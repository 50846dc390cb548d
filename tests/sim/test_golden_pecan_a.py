"""PECAN-A golden: the batched NumPy equals a loop reading of the spec in Python integers
(dot products, the maximum, the exp table with its saturation, Z and the weighted column sum,
the reciprocal table, the flooring shift, the sum over the groups, the walker's
requantisation) on random networks with tied prototypes and values at the extremes; and the
integer softmax is close to the float one it stands for."""

import math

import numpy as np
import pytest

from edgeforge.schemes.network import softmax_tables
from edgeforge.sim.golden.pecan_a import accumulate, exp_terms
from edgeforge.sim.golden.pecan_d import vectors

from pecan_helpers import check_golden_equals_loop


def loop_group(f, cb, table, exp, recip, vec):
    """One group's contribution, step by step."""
    protos, d = cb.shape
    s = [sum(int(vec[i]) * int(cb[q, i]) for i in range(d)) for q in range(protos)]
    top = max(s)
    e = [int(exp[min((top - sq) >> f["exp_shift"], len(exp) - 1)]) for sq in s]
    z = sum(e)
    r = int(recip[z >> f["recip_shift"]])
    return [(sum(e[q] * int(table[o, q]) for q in range(protos)) * r) >> (f["recip_bits"] - 1)
            for o in range(table.shape[0])]


def loop_accumulate(layer, arrays, x):
    i, f = layer.index, layer.fields
    cb, table = arrays[f"l{i}_codebook"], arrays[f"l{i}_table"]
    exp, recip, bias = arrays[f"l{i}_exp"], arrays[f"l{i}_recip"], arrays[f"l{i}_bias"]
    d = f["group_size"]
    vecs = vectors(layer, x)                       # the window order is PECAN-D's (tested there)
    out = np.zeros((*vecs.shape[:2], len(bias)), np.int64)
    for n in range(vecs.shape[0]):
        for pos in range(vecs.shape[1]):
            acc = [int(b) for b in bias]
            for j in range(f["groups"]):
                part = loop_group(f, cb[j], table[j], exp, recip,
                                  vecs[n, pos, j * d:(j + 1) * d])
                acc = [a + c for a, c in zip(acc, part)]
            out[n, pos] = acc
    if layer.kind == "linear":
        return out[:, 0]
    _, ho, wo = layer.out_shape
    return out.reshape(len(x), ho, wo, -1).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("seed, transforms", [(s, ("pecan-a",)) for s in range(5)]
                         + [(s, ("pecan-a", "pecan-d", "dense")) for s in (11, 13, 18)])
def test_golden_equals_the_loop_reading(seed, transforms):
    check_golden_equals_loop("pecan-a", seed, transforms, 2, accumulate, loop_accumulate)


def test_exp_terms_saturate_and_ties_share_the_top():
    exp = np.array([100, 50, 20, 0])
    s = np.array([[7, 7, 6, 3, -100]])
    # Differences 0, 0, 1, 4, 107; >> 1: 0, 0, 0, 2, 53 -> saturates at the last entry.
    assert exp_terms(s, exp, 1).tolist() == [[100, 100, 100, 20, 0]]
    assert exp_terms(s, exp, 0).tolist() == [[100, 100, 50, 0, 0]]


def test_integer_softmax_is_close_to_the_float_one():
    # Dot products on a scale where one unit is step / 2**exp_shift real units: the integer
    # weights e_q R / 2**(recip_bits - 1) over 2**exp_bits are softmax(s) within the tables'
    # precision.
    fields = {"exp_bits": 12, "exp_entries": 256, "prototypes": 8, "recip_bits": 16,
              "recip_shift": 4}
    step, shift = 1 / 16, 2
    exp, recip = softmax_tables(fields, step)
    rng = np.random.default_rng(0)
    s = rng.integers(-600, 600, size=(500, 8))
    e = exp_terms(s, exp, shift)
    r = recip.astype(np.int64)[e.sum(-1) >> fields["recip_shift"]]
    weights = e * r[:, None] / 2 ** (fields["recip_bits"] - 1) / 2 ** fields["exp_bits"]
    real = s * step / 2 ** shift
    soft = np.exp(real - real.max(-1, keepdims=True))
    soft /= soft.sum(-1, keepdims=True)
    # The flooring shift loses up to a step per term: exp(step) - 1 relative, plus rounding.
    assert np.abs(weights - soft).max() < math.expm1(step) + 2 ** -10
