"""bench/pecan_a_hw and bench/pecan_a_accuracy: the PECAN recast of a dense config, the
operation counts (PECAN-D none multiplied, PECAN-A the paper's count plus the softmax's),
and one short training run of each accuracy model."""

import pytest
import torch

from edgeforge.bench.pecan_a_accuracy import MODELS, _data, train_one
from edgeforge.bench.pecan_a_hw import operation_counts, pecan_config
from edgeforge.hw.network.design import NetworkDesign
from edgeforge.schemes.network import random_artifact

from network_helpers import DIGITS_REF


def test_pecan_configs_and_their_operations():
    designs = {kind: NetworkDesign(random_artifact(pecan_config(DIGITS_REF, kind), seed=0),
                                   folding="folded") for kind in ("pecan-d", "pecan-a")}
    for kind, design in designs.items():
        assert {l.fields["transform"] for l in design.network.layers if l.transform} == {kind}
    d, a = (operation_counts(designs[k]) for k in ("pecan-d", "pecan-a"))
    assert d["mul"] == 0 and d["softmax_add"] == 0
    # conv1 alone: 64 windows x 8 prototypes x 9 groups x (d 1 + c_out 8) multiplies, plus
    # 64 x 9 x 8 normalisation products.
    assert a["mul"] > 64 * 8 * 9 * (1 + 8) + 64 * 9 * 8
    assert 0 < a["softmax_mul"] < a["mul"] and a["softmax_add"] > 0


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow)
                                  if n != "pecan-a prototypes" else n for n in MODELS])
def test_each_accuracy_model_trains(name):
    torch.set_num_threads(1)
    # A few steps: above chance (10 %) on the 540 test images, far from converged. PECAN-A
    # from scratch sits at chance for its first ~150 steps (at temperature 1 on inputs in
    # 0..1 the softmax starts nearly uniform: every group quantises to about the mean
    # prototype), so both PECAN-A models get more.
    steps = 400 if name.startswith("pecan-a") else 60
    assert train_one(name, 0, _data(), iterations=steps) > 0.2


def test_norm_bias_measures_the_largest_prototype_winning_whatever_the_input():
    import torch
    from edgeforge.bench.pecan_a_qat import norm_bias
    from edgeforge.models.data_digits import load_digits
    from edgeforge.models.network.net import QNet
    from edgeforge.models.network.zoo import preset, with_transforms
    torch.manual_seed(0)
    net = QNet(with_transforms(preset("digits-mlp"), "pecan-a", prototypes=4))
    images = load_digits("test")[0][:32]
    with torch.no_grad():
        for _, m in net.quant_layers():
            m.pq.codebook.uniform_(0.1, 1.0)
            m.pq.codebook[:, 0] *= 10           # non-negative inputs: prototype 0 always wins
    assert norm_bias(net, images) == {"l1": 1.0, "l3": 1.0}
    # With prototype offsets the score is a negative squared distance: the largest
    # prototype, far from every input, never wins.
    for _, m in net.quant_layers():
        m.prototype_offsets = True
    assert norm_bias(net, images) == {"l1": 0.0, "l3": 0.0}
    for _, m in net.quant_layers():
        m.prototype_offsets = False
    with torch.no_grad():
        for _, m in net.quant_layers():
            m.pq.codebook[:, 0] *= -1           # the largest is now never the nearest in angle
    assert norm_bias(net, images) == {"l1": 0.0, "l3": 0.0}
