"""DeBut factors and chains (the artifact contract): nonzero pattern, counts, and refusal of every
invalid chain with the factor and the rule named, including those the public generator emits."""

import numpy as np
import pytest

from edgeforge.schemes.network_debut import (Factor, chain_params, chain_product_support,
                                             check_chain, fold_count, lane_counts, lane_split)


def test_factor_pattern_is_blocks_of_diagonals():
    f = Factor(8, 12, 2, 3, 2)                 # a = 2 blocks, each a 2 x 3 grid of 2x2 diagonals
    assert f.blocks == 2 and f.theta_shape == (2, 2, 2, 3)
    support = f.support()
    expected = np.kron(np.eye(2), np.kron(np.ones((2, 3)), np.eye(2))).astype(bool)
    np.testing.assert_array_equal(support, expected)
    assert f.params == support.sum() == f.p * f.s == f.q * f.r


def test_dense_matrix_places_theta_at_b_d_i_c():
    f = Factor(6, 4, 3, 2, 1)
    theta = np.arange(1, 1 + f.params).reshape(f.theta_shape)
    m = f.dense(theta)
    for b in range(f.blocks):
        for d in range(f.t):
            for i in range(f.r):
                for c in range(f.s):
                    assert m[b * 3 + i, b * 2 + c] == theta[b, d, i, c]
    assert np.count_nonzero(m) == f.params


@pytest.mark.parametrize("shape, message", [
    ((8, 12, 3, 3, 2), r"^factor \(8, 12, 3, 3, 2\): r t = 6 must divide p, got p = 8$"),
    ((8, 12, 2, 4, 2), r"^factor \(8, 12, 2, 4, 2\): s t = 8 must divide q, got q = 12$"),
    ((8, 12, 2, 2, 2), r"^factor \(8, 12, 2, 2, 2\): p / \(r t\) and q / \(s t\) must be the "
                       r"same block count, got 2 and 3$"),
    ((8, 8, 0, 2, 2), r"^factor \(8, 8, 0, 2, 2\): r must be a positive integer, got 0$"),
    ((8, 8, 2, 2, True), r"^factor \(8, 8, 2, 2, True\): t must be a positive integer, got True$"),
])
def test_bad_factors_name_the_rule(shape, message):
    with pytest.raises(ValueError, match=message):
        Factor(*shape)


# The invalid chains of the public generator and modules (see shared notes), input side first.
PUBLIC_DEFAULT_16x72 = [(48, 72, 2, 3, 1), (16, 48, 1, 3, 2), (16, 16, 2, 2, 4), (16, 16, 2, 2, 8)]
# Bulging branch, C_in = 256: p = int(8 C_in 4/3) with (8, 6, 1), then (2048, 2730; 2, 6, 8).
PUBLIC_BULGING_256 = [(2730, 2304, 8, 6, 1), (2048, 2730, 2, 6, 8), (2048, 2048, 2, 2, 16)]
# Monotonic branch, C_in 32, C_out 64, N = 7: t reaches 128 > H, the closing r truncates to 0.
PUBLIC_LARGE_N = [(256, 288, 8, 9, 1), (256, 256, 2, 2, 8), (256, 256, 2, 2, 16),
                  (256, 256, 2, 2, 32), (256, 256, 2, 2, 64), (128, 256, 1, 2, 128),
                  (64, 128, 0, 1, 128)]


@pytest.mark.parametrize("chain, message", [
    (PUBLIC_DEFAULT_16x72,
     r"^factor 3 \(16, 16, 2, 2, 4\): breaks the stride rule t_3 = r_2 t_2 = 2, got t = 4; "
     r"the product has 576 of 1152 entries structurally zero$"),
    (PUBLIC_BULGING_256, r"^factor 1 \(2730, 2304, 8, 6, 1\): r t = 8 must divide p, "
                         r"got p = 2730$"),
    # With the first factor's p corrected to 3072, the second is still inconsistent.
    ([(3072, 2304, 8, 6, 1)] + PUBLIC_BULGING_256[1:],
     r"^factor 2 \(2048, 2730, 2, 6, 8\): s t = 48 must divide q, got q = 2730$"),
    (PUBLIC_LARGE_N, r"^factor 7 \(64, 128, 0, 1, 128\): r must be a positive integer, got 0$"),
    ([], r"^a chain needs at least one factor, got \[\]$"),             # other C_out / C_in
    ([(8, 8, 2, 2, 1), (8, 16, 2, 4, 2)],
     r"^factor 2 \(8, 16, 2, 4, 2\): q must equal the previous factor's p = 8, got q = 16$"),
    ([(8, 8, 2, 2, 1), (8, 8, 2, 2, 2)],
     r"^factor 2 \(8, 8, 2, 2, 2\): the last factor must be a single block, got 2 blocks; "
     r"the product has 32 of 64 entries structurally zero$"),
    ([(4, 4, 2, 2, 2)], r"^factor 1 \(4, 4, 2, 2, 2\): breaks the stride rule t_1 = 1, got "
                        r"t = 2; the product has 8 of 16 entries structurally zero$"),
])
def test_invalid_chains_are_refused_naming_factor_and_rule(chain, message):
    with pytest.raises(ValueError, match=message):
        check_chain(chain)


def test_chain_ends_must_reach_the_layer():
    chain = [(8, 8, 2, 2, 1), (8, 8, 4, 4, 2)]
    assert [f.as_tuple() for f in check_chain(chain, 7, 5)] == chain
    with pytest.raises(ValueError, match=r"^factor 1 \(8, 8, 2, 2, 1\): q must be at least the "
                                         r"layer's 9 inputs, got q = 8$"):
        check_chain(chain, 9, 5)
    with pytest.raises(ValueError, match=r"^factor 2 \(8, 8, 4, 4, 2\): p must be at least the "
                                         r"layer's 10 outputs, got p = 8$"):
        check_chain(chain, 8, 10)


def test_public_default_chain_fails_the_bipolar_test_and_a_valid_one_passes():
    rng = np.random.default_rng(0)

    def product(chain):
        m = np.eye(chain[0][1])
        for shape in chain:
            f = Factor(*shape)
            m = f.dense(rng.choice([-1, 1], size=f.theta_shape)) @ m
        return m

    assert np.count_nonzero(product(PUBLIC_DEFAULT_16x72) == 0) == 576
    valid = [(24, 72, 1, 3, 1), (16, 24, 2, 3, 1), (16, 16, 2, 2, 2), (16, 16, 4, 4, 4)]
    assert np.count_nonzero(product(valid) == 0) == 0
    assert chain_product_support(valid).all()
    assert chain_params(valid) == 24 * 3 + 16 * 3 + 16 * 2 + 16 * 4


def test_a_dense_chain_off_the_stride_rule_is_accepted():
    # Two paths per entry: t_2 = 1 instead of r_1 t_1 = 2, yet every entry is reached.
    chain = [(4, 4, 2, 2, 1), (4, 4, 4, 4, 1)]
    assert chain_product_support(chain).all()
    check_chain(chain)


@pytest.mark.parametrize("shape, counts", [
    ((8, 12, 2, 3, 2), [1, 3, 6, 12, 24]),
    ((6, 4, 3, 2, 1), [1, 2, 4, 6, 12]),
])
def test_lane_counts_split_into_outputs_times_products(shape, counts):
    f = Factor(*shape)
    assert lane_counts(f) == counts
    for lanes in counts:
        po, so = lane_split(f, lanes)
        assert po * so == lanes and f.p % po == 0 and f.s % so == 0
        assert fold_count(f, lanes) * lanes == f.params
    with pytest.raises(ValueError, match=rf"^layer 2, factor 1: MAC lanes must be one of "
                                         rf"{counts!r}".replace("[", r"\[").replace("]", r"\]")
                       + r" for factor \(.*\), got 5$"):
        lane_split(f, 5, "layer 2, factor 1")
