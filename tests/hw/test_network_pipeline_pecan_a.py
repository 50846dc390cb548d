"""PECAN-A networks through the pipeline in Amaranth's simulator: RTL == golden (class and
logits) and the cycle model's output cycles == the RTL's, for a small digits-ref-shaped
PECAN-A net and the full-size one at three foldings, a mixed network (dense first layer,
PECAN-D second, PECAN-A after) and random PECAN-A networks (ties in the max, random foldings,
backpressure: in test_network_pipeline's random-network test); memory traffic == the model."""

import pytest

from edgeforge.hw.network.design import NetworkDesign
from edgeforge.schemes.network import random_artifact

from network_helpers import (DIGITS_REF, PECAN_A_REF, PECAN_REF, PECAN_REF_MIDDLE,
                             SMALL_PECAN_A, check_against_model, check_traffic, edge_images,
                             run_design)

#: digits-ref with its first conv dense, the second PECAN-D and the linears PECAN-A.
MIXED_REF = {"input": DIGITS_REF["input"],
             "layers": [DIGITS_REF["layers"][0], *PECAN_REF["layers"][1:6],
                        *PECAN_A_REF["layers"][6:]]}
#: (groups, prototypes) a cycle per layer of SMALL_PECAN_A (groups 9, 9, 2, 1).
SMALL_MIDDLE = [(3, 2), (9, 4), (1, 8), (1, 2)]


@pytest.fixture(scope="module")
def small():
    return random_artifact(SMALL_PECAN_A, seed=7)


@pytest.fixture(scope="module")
def pecan_a_ref():
    return random_artifact(PECAN_A_REF, seed=5)


@pytest.mark.parametrize("folding", [pytest.param("folded", marks=pytest.mark.slow), SMALL_MIDDLE,
                                     pytest.param("parallel", marks=pytest.mark.slow)])
def test_small_output_cycles_equal_the_model(small, folding):
    design = NetworkDesign(small, folding=folding, logits=True)
    xs = edge_images((1, 8, 8), 1, seed=1)
    model = check_against_model(design, xs)
    assert model.output_start(len(xs)) - model.output_start(len(xs) - 1) == model.interval


@pytest.mark.slow
@pytest.mark.parametrize("folding", ["parallel", PECAN_REF_MIDDLE])
def test_pecan_a_ref_equals_golden_under_backpressure(pecan_a_ref, folding):
    design = NetworkDesign(pecan_a_ref, folding=folding, logits=True)
    xs = edge_images((1, 8, 8), 0)
    got, expected, _ = run_design(design, xs, p_valid=0.7, p_ready=0.6)
    assert got == expected


# Folded: conv1 is 64 windows x 9 groups x 8 prototypes (the weigh half overlaps);
# middle: conv1 64 x 3 x 2; parallel: input-bound at a pixel a beat.
@pytest.mark.parametrize("folding, interval", [("folded", 64 * 9 * 8),
                                               (PECAN_REF_MIDDLE, 64 * 3 * 2), ("parallel", 64)])
def test_interval_follows_the_folding(pecan_a_ref, folding, interval):
    assert NetworkDesign(pecan_a_ref, folding=folding).cycles().interval == interval


@pytest.mark.slow
def test_mixed_network_dense_pecan_d_pecan_a():
    art = random_artifact(MIXED_REF, seed=8)
    check_against_model(NetworkDesign(art, folding=[(2, 3), (9, 4), (2, 8), (4, 8)],
                                      logits=True), edge_images((1, 8, 8), 1, seed=8))


def test_folding_names_the_pecan_knobs(small):
    with pytest.raises(ValueError, match=r"^folding of layer 3 \(conv2d\): prototypes per cycle "
                                         r"must divide its 8 prototypes, got 3$"):
        NetworkDesign(small, folding=[(1, 1), (1, 3), (1, 1), (1, 1)])


@pytest.mark.parametrize("folding", [SMALL_MIDDLE, pytest.param("parallel",
                                                               marks=pytest.mark.slow)])
def test_memory_traffic_equals_the_model(small, folding):
    check_traffic(NetworkDesign(small, folding=folding), edge_images((1, 8, 8), 0))


def test_operations_are_the_papers_count_plus_the_softmax(small):
    # Paper Table 1: p D (d + c_out) multiplications (and as many additions) an output
    # position; the softmax's lines apart. conv1 of SMALL_PECAN_A: 64 positions, D = 9,
    # d = 1, p = 8, c_out = 2.
    ops = NetworkDesign(small, folding="folded").cycle_model().operations
    l0 = {o.what[len("l0_core "):]: o for o in ops if o.what.startswith("l0_core")}
    paper = sum(o.count for name, o in l0.items() if o.op == "mul" and "softmax" not in name)
    assert paper == 64 * 8 * 9 * (1 + 2)
    assert l0["dot-product sums"].count + l0["weighted column sums"].count == paper
    assert l0["softmax normalisation products"].count == 64 * 9 * 2
    assert l0["softmax maximum compares"].count == 64 * 9 * 7
