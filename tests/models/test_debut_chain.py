"""DeBut chain generation: the paper's generator (corrected) for its three channel ratios and
bulging, with out-of-range levels refused; the search for any shape against brute force."""

import numpy as np
import pytest

from edgeforge.models.debut.chain import chain_from_blocks, paper_chain, search_chain
from edgeforge.schemes.network_debut import chain_params, chain_product_support, check_chain


@pytest.mark.parametrize("c_out, c_in, halvings", [(64, 64, 2), (32, 64, 3), (128, 64, 1)])
def test_paper_chain_shrinks_monotonically_for_its_three_ratios(c_out, c_in, halvings):
    chain = paper_chain(c_out, c_in, 3, level=6)
    assert len(chain) == 6
    assert chain[0].as_tuple() == (8 * c_in, 9 * c_in, 8, 9, 1)
    assert sum(f.p == f.q // 2 for f in chain[1:-1]) == halvings
    assert chain[-1].blocks == 1 and chain[-1].p == c_out
    sizes = [chain[0].q] + [f.p for f in chain]
    assert sizes == sorted(sizes, reverse=True)                 # never grows
    assert chain_product_support(chain).all()
    assert chain_params(chain) < c_out * 9 * c_in


def test_paper_bulging_chain_grows_then_shrinks_and_is_valid():
    chain = paper_chain(256, 256, 3, level=6, bulging=True)
    assert [f.as_tuple() for f in chain[:2]] == [(3072, 2304, 8, 6, 1), (2048, 3072, 2, 3, 8)]
    assert chain[0].p > chain[0].q and chain[-1].p == 256
    check_chain(chain, 2304, 256)


def test_paper_chain_pads_channels_to_powers_of_two():
    chain = paper_chain(12, 12, 3, level=5)           # C = 16 after padding
    assert chain[0].q == 9 * 16 and chain[-1].p == 16
    check_chain(chain, 9 * 12, 12)


@pytest.mark.parametrize("kwargs, message", [
    ({"c_out": 64, "c_in": 16, "level": 6},
     r"^the paper's generator covers C_out in \{C_in, C_in/2, 2 C_in\} \(after rounding to "
     r"powers of two, C_in = 16\), got C_out 64$"),
    ({"c_out": 64, "c_in": 32, "level": 7},
     r"^level must be 3..6 for C_out 64, C_in 32, 3x3, got 7$"),
    ({"c_out": 64, "c_in": 64, "level": 3}, r"^level must be 4..7 for C_out 64, C_in 64, 3x3, "
                                             r"got 3$"),
    ({"c_out": 8, "c_in": 8, "level": 4, "kernel": 1, "bulging": True},
     r"^the bulging chain is defined for 3x3 kernels and C_in >= 2, got kernel 1, C_in 8$"),
])
def test_paper_chain_refuses_what_it_cannot_build(kwargs, message):
    with pytest.raises(ValueError, match=message):
        paper_chain(**kwargs)


def test_every_paper_level_in_range_is_valid():
    for c_out, c_in in ((16, 16), (8, 16), (32, 16)):
        levels = [n for n in range(1, 12) if _builds(c_out, c_in, n)]
        assert levels, (c_out, c_in)
        assert levels == list(range(levels[0], levels[-1] + 1))


def _builds(c_out, c_in, n):
    try:
        paper_chain(c_out, c_in, 3, level=n)
    except ValueError as err:
        assert str(err).startswith("level must be")
        return False
    return True


def _brute_force(rows, cols, n, width):
    def factorisations(value, parts):
        if parts == 1:
            yield (value,)
            return
        for d in range(1, value + 1):
            if value % d == 0:
                for rest in factorisations(value // d, parts - 1):
                    yield (d,) + rest
    best = None
    for rs in factorisations(rows, n):
        for ss in factorisations(cols, n):
            blocks = list(zip(rs, ss))
            if (1, 1) in blocks:
                continue
            chain = chain_from_blocks(blocks)
            if any(f.p < width for f in chain[:-1]):
                continue
            params = chain_params(chain)
            best = params if best is None else min(best, params)
    return best


@pytest.mark.parametrize("outputs, inputs, kernel", [(8, 1, 3), (10, 32, 1), (8, 8, 1),
                                                     (12, 6, 1)])
def test_search_finds_the_fewest_parameters(outputs, inputs, kernel):
    found = search_chain(outputs, inputs, kernel, max_factors=3)
    n_in = kernel * kernel * inputs
    pads = [(r, c) for r in {outputs, 1 << (outputs - 1).bit_length()}
            for c in {n_in, 1 << (n_in - 1).bit_length()}]
    brute = min(b for r, c in pads for n in (1, 2, 3)
                if (b := _brute_force(r, c, n, min(r, c))) is not None)
    assert found.params == brute
    assert found.params <= found.dense_params
    check_chain(found.factors, n_in, outputs)
    # A valid chain's product has no structural zero: dense with random +-1 nonzeros.
    rng = np.random.default_rng(1)
    m = np.eye(found.factors[0].q)
    for f in found.factors:
        m = f.dense(rng.choice([-1, 1], size=f.theta_shape)) @ m
    assert np.count_nonzero(m == 0) == 0


def test_search_pads_when_padding_saves_parameters():
    # 10 x 30 (no cheap factorisation of 30 x 10 inputs) against 16 x 32 padded.
    found = search_chain(10, 31, max_factors=3)
    assert found.factors[0].q == 32 and found.pad_in == 1


def test_search_refuses_a_target_it_cannot_meet():
    with pytest.raises(ValueError, match=r"^the fewest parameters of a chain for 32 x 32 are "
                                         r"\d+ \(dense 1024\), above max_params 10$"):
        search_chain(32, 32, max_params=10)


def test_search_with_an_exact_factor_count():
    found = search_chain(32, 32, factors=2)
    assert len(found.factors) == 2
    assert found.params == _brute_force(32, 32, 2, 32)
