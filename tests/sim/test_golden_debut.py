"""DeBut golden: a factor's forward equals its dense matrix product at the int8 extremes, the
chain equals dense products with the stated rounding and saturation between factors, a debut
conv2d equals a dense conv2d of the chain's product (tap-major im2col); the artifact fields are
validated naming config.layers[i].<field>, and the derived widths bound and reach the extremes."""

import copy
import re

import numpy as np
import pytest

from edgeforge.artifact import ArtifactError
from edgeforge.schemes.network import derive_widths, parse_network, random_artifact
from edgeforge.schemes.network_debut import Factor
from edgeforge.sim.golden.debut import accumulate, chain_forward, factor_forward
from edgeforge.sim.golden.dense import conv2d
from edgeforge.sim.golden.network import classify, requantise

from debut_helpers import dconv, digits_debut, dlinear
from network_helpers import DIGITS_INPUT, FLATTEN, RELU, ARGMAX


def _extreme(rng, shape, lo, hi):
    return rng.choice([lo, hi, lo + 1, hi - 1, 0], size=shape)


@pytest.mark.parametrize("shape", [(8, 12, 2, 3, 2), (6, 4, 3, 2, 1), (16, 16, 2, 2, 8),
                                   (5, 5, 5, 5, 1), (12, 9, 4, 3, 1)])
def test_factor_forward_is_its_dense_matrix_product(shape):
    f = Factor(*shape)
    rng = np.random.default_rng(sum(shape))
    theta = _extreme(rng, f.theta_shape, -128, 127)
    x = _extreme(rng, (7, f.q), -32768, 32767)
    np.testing.assert_array_equal(factor_forward(f, theta, x), x @ f.dense(theta).T)


def test_chain_rounds_half_up_and_saturates_between_factors():
    factors = [Factor(8, 8, 2, 2, 1), Factor(8, 8, 4, 4, 2)]
    rng = np.random.default_rng(0)
    thetas = [_extreme(rng, f.theta_shape, -128, 127) for f in factors]
    bias = rng.integers(-1000, 1000, size=6)
    x = _extreme(rng, (9, 7), 0, 255)
    got = chain_forward(factors, thetas, bias, [5], 6, x)
    v = np.pad(x, ((0, 0), (0, 1))) @ factors[0].dense(thetas[0]).T
    v = np.clip((v + 16) >> 5, -32, 31)               # round half up, then saturate
    assert (np.abs(v) == 32).any() or (v == 31).any()  # the extremes saturate
    np.testing.assert_array_equal(got, (v @ factors[1].dense(thetas[1]).T)[:, :6] + bias)
    np.testing.assert_array_equal(requantise(np.array([-3, -2, 2, 3]), 2, -8, 7), [-1, 0, 1, 1])


def test_debut_conv_is_a_dense_conv_of_the_product_tap_major():
    # One factor per chain and no shift: the chain is exactly a dense matrix on the
    # tap-major window, i.e. a dense conv with weights permuted to (O, C, k, k).
    config = {"input": {**DIGITS_INPUT, "channels": 2},
              "layers": [dconv(2, 4, [(4, 18, 2, 9, 1), (4, 4, 2, 2, 2)], mid_bits=16),
                         FLATTEN, dlinear(256, 3, [(4, 256, 4, 256, 1)]), ARGMAX]}
    art = random_artifact(config, seed=2, shifts=False)
    rng = np.random.default_rng(3)
    # Nonzeros small enough that the 16-bit vector between the factors never saturates
    # (18 taps x 255 x 3 < 2**15), so the chain is exactly its product.
    for k in (0, 1):
        art.arrays[f"l0_f{k}"] = rng.integers(-3, 4, size=art.arrays[f"l0_f{k}"].shape)
    layer = parse_network(art.config).layers[0]
    factors = [Factor(*f) for f in layer.fields["factors"]]
    m = factors[1].dense(art.arrays["l0_f1"]) @ factors[0].dense(art.arrays["l0_f0"])
    x = rng.integers(0, 256, size=(2, 2, 8, 8))
    x[0] = 255
    got = accumulate(layer, art.arrays, x)
    weight = m.reshape(4, 3, 3, 2).transpose(0, 3, 1, 2)        # tap-major columns -> (O, C, k, k)
    np.testing.assert_array_equal(got, conv2d(x, weight, art.arrays["l0_bias"], 1))
    assert got.shape == (2, 4, 8, 8)


def test_classify_runs_an_all_debut_digits_network():
    art = random_artifact(digits_debut(), seed=1)
    x = np.random.default_rng(0).integers(0, 256, size=(4, 1, 8, 8)).astype(np.uint8)
    out = classify(art, x)
    assert out.logits.shape == (4, 10) and out.classes.shape == (4,)
    assert all(len(l["shifts"]) == len(l["factors"]) - 1
               for l in art.config["layers"] if l.get("transform") == "debut")


def _with(index, **changes):
    config = copy.deepcopy(digits_debut())
    config["layers"][index].update(changes)
    return config


@pytest.mark.parametrize("config, field, message", [
    (_with(0, factors=[[12, 9, 4, 3, 1], [8, 12, 2, 3, 2]]), "config.layers[0].factors",
     r"factor 2 \(8, 12, 2, 3, 2\): breaks the stride rule t_2 = r_1 t_1 = 4, got t = 2; "),
    (_with(0, factors=[[8, 8, 2, 2, 1], [8, 8, 4, 4, 2]]), "config.layers[0].factors",
     r"factor 1 \(8, 8, 2, 2, 1\): q must be at least the layer's 9 inputs, got q = 8, got "),
    (_with(0, factors=[]), "config.layers[0].factors",
     r"expected a non-empty list of \[p, q, r, s, t\], got \[\]$"),
    (_with(9, factors=[[16, 32, 1, 2, 1], [8, 16, 5, 8, 1]]), "config.layers[9].factors",
     r"factor 2 \(8, 16, 5, 8, 1\): r t = 5 must divide p, got p = 8, got "),
    (_with(0, shifts=[1, 2]), "config.layers[0].shifts",
     r"expected 1 integer\(s\) 0..62, one after each factor but the last, got \[1, 2\]$"),
    (_with(3, shifts=[-1, 0]), "config.layers[3].shifts",
     r"expected 2 integer\(s\) 0..62, one after each factor but the last, got \[-1, 0\]$"),
    (_with(0, mid_bits=17), "config.layers[0].mid_bits", r"expected an integer 2..16, got 17$"),
    (_with(0, weight=1), "config.layers[0].weight", r"unknown conv2d field; known: "),
])
def test_bad_debut_fields_are_named(config, field, message):
    with pytest.raises(ArtifactError, match=rf"^{re.escape(field)}: {message}"):
        parse_network(config)


def test_debut_arrays_and_missing_fields():
    net = parse_network(digits_debut())
    specs = net.array_specs()
    factors = net.layers[0].fields["factors"]
    assert sorted(k for k in specs if k.startswith("l0_")) == (
        ["l0_bias"] + [f"l0_f{k}" for k in range(len(factors))])
    assert specs["l0_f0"].shape == Factor(*factors[0]).theta_shape
    assert specs["l0_bias"].shape == (8,)
    config = digits_debut()
    del config["layers"][0]["mid_bits"]
    with pytest.raises(ArtifactError, match=r"^config\.layers\[0\]\.mid_bits: missing from the "
                                            r"conv2d layer$"):
        parse_network(config)


def test_widths_bound_every_value_and_are_reached_by_one_factor():
    # One factor: the worst case is reached by inputs at the ends of their range.
    config = {"input": DIGITS_INPUT, "layers": [
        FLATTEN, dlinear(64, 8, [(8, 64, 1, 8, 1), (8, 8, 8, 8, 1)]), RELU,
        dlinear(8, 4, [(4, 8, 4, 8, 1)]), ARGMAX]}
    art = random_artifact(config, seed=4, extremes=0.5)
    net = parse_network(art.config)
    widths = derive_widths(net, art.arrays)
    last = net.layers[3]
    w = Factor(4, 8, 4, 8, 1).dense(art.arrays["l3_f0"]).astype(np.int64)
    lo_in, hi_in = widths.layers[3].in_range
    best = art.arrays["l3_bias"] + np.where(w > 0, w * hi_in, w * lo_in).sum(axis=1)
    worst = art.arrays["l3_bias"] + np.where(w > 0, w * lo_in, w * hi_in).sum(axis=1)
    assert widths.layers[3].acc_range == (min(int(worst.min()), 0), max(int(best.max()), 0))
    # Whole chain: the golden never leaves the derived ranges.
    from edgeforge.sim.golden.network import forward
    x = np.random.default_rng(5).integers(0, 256, size=(200, 1, 8, 8)).astype(np.uint8)
    x[0], x[1] = 0, 255
    outs = forward(art, x)
    for lw, out in zip(widths.layers, outs):
        assert lw.out_range[0] <= out.min() and out.max() <= lw.out_range[1]
    assert last.transform.ranges(last, art.arrays, lo_in, hi_in)[-1].acc_bits == \
        widths.layers[3].acc_bits
