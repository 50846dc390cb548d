"""PECAN-D networks through the pipeline in Amaranth's simulator: RTL == golden (class and
logits) and the cycle model's output cycles == the RTL's, for the PECAN-D digits-ref at three
foldings, a mixed network (dense first layer, PECAN-D after it) and random PECAN-D networks
(tied prototypes, values at the extremes, random foldings, backpressure: in
test_network_pipeline's random-network test); memory traffic == the model."""

import pytest

from edgeforge.hw.network.design import NetworkDesign
from edgeforge.schemes.network import random_artifact

from network_helpers import (DIGITS_REF, PECAN_REF, PECAN_REF_MIDDLE, check_against_model,
                             check_traffic, edge_images)

#: digits-ref with its first conv dense and the rest PECAN-D.
MIXED_REF = {"input": PECAN_REF["input"],
             "layers": [DIGITS_REF["layers"][0], *PECAN_REF["layers"][1:]]}


@pytest.fixture(scope="module")
def pecan_ref():
    return random_artifact(PECAN_REF, seed=5)


@pytest.mark.parametrize("folding, images", [("parallel", 3), (PECAN_REF_MIDDLE, 3),
                                             pytest.param("folded", 2, marks=pytest.mark.slow)])
def test_pecan_ref_output_cycles_equal_the_model(pecan_ref, folding, images):
    design = NetworkDesign(pecan_ref, folding=folding, logits=True)
    xs = edge_images((1, 8, 8), images - 2, seed=1)[:images]
    model = check_against_model(design, xs)
    assert model.output_start(images) - model.output_start(images - 1) == model.interval


# Folded: conv1 is 64 windows x 9 groups x 8 prototypes; middle: conv1 64 x 3 x 2;
# parallel: input-bound at a pixel a beat.
@pytest.mark.parametrize("folding, interval", [("folded", 64 * 9 * 8),
                                               (PECAN_REF_MIDDLE, 64 * 3 * 2), ("parallel", 64)])
def test_pecan_ref_interval_follows_the_folding(pecan_ref, folding, interval):
    assert NetworkDesign(pecan_ref, folding=folding).cycles().interval == interval


def test_balanced_folding_keeps_the_parallel_interval_with_fewer_match_units(pecan_ref):
    design = NetworkDesign(pecan_ref, folding="balanced", logits=True)
    parallel = NetworkDesign(pecan_ref, folding="parallel")
    assert design.cycles().interval == parallel.cycles().interval == 64
    units = sum(g * p for g, p in design.folding)
    assert units < sum(g * p for g, p in parallel.folding)
    # conv2 (16 windows) may take 4 cycles a window: 9 x 8 / 4 units.
    assert design.folding[1][0] * design.folding[1][1] == 9 * 8 // 4
    check_against_model(design, edge_images((1, 8, 8), 1, seed=4))


@pytest.mark.parametrize("folding", [[(2, 3), (9, 4), (2, 8), (4, 8)],
                                     pytest.param("parallel", marks=pytest.mark.slow)])
def test_mixed_network_dense_first_layer(folding):
    art = random_artifact(MIXED_REF, seed=8)
    check_against_model(NetworkDesign(art, folding=folding, logits=True),
                        edge_images((1, 8, 8), 2, seed=8))


def test_folding_names_the_pecan_knobs(pecan_ref):
    with pytest.raises(ValueError, match=r"^folding of layer 3 \(conv2d\): prototypes per cycle "
                                         r"must divide its 8 prototypes, got 3$"):
        NetworkDesign(pecan_ref, folding=[(1, 1), (1, 3), (1, 1), (1, 1)])
    with pytest.raises(ValueError, match=r"^folding of layer 0 \(conv2d\): groups per cycle must "
                                         r"divide its 9 groups, got 2$"):
        NetworkDesign(pecan_ref, folding=[(2, 1), (1, 1), (1, 1), (1, 1)])
    with pytest.raises(ValueError, match=r"^folding of layer 9 \(linear\) must be a \(groups per "
                                         r"cycle, prototypes per cycle\) pair, got 4$"):
        NetworkDesign(pecan_ref, folding=[(1, 1), (1, 1), (1, 1), 4])


@pytest.mark.parametrize("folding", [PECAN_REF_MIDDLE, "parallel"])
def test_memory_traffic_equals_the_model(pecan_ref, folding):
    check_traffic(NetworkDesign(pecan_ref, folding=folding), edge_images((1, 8, 8), 0))
