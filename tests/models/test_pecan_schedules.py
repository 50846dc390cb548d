"""PECAN-D training schedules: the soft forward (annealed temperature while training, hard in
evaluation) and the progressive conversion (layers leave dense one at a time, each codebook
initialised on the inputs the converted layers before it give); bad values refused by name."""

import pytest
import torch
from torch import nn

from edgeforge.models.network.net import QNet
from edgeforge.models.network.train import TrainConfig, train_network
from edgeforge.models.network.zoo import preset, with_transforms
from edgeforge.models.pecan.pq import SOFT_TAU_END, PQLinear, l1_distance, soft_temperature

pytestmark = pytest.mark.usefixtures("torch_one_thread")

# A small PECAN-D digits-mlp (64 -> 32 -> 10): two PECAN-D layers, 4 prototypes each.
MLP = dict(transforms="pecan-d", prototypes=4)


def test_soft_forward_mixes_prototypes_in_training_and_matches_hard_in_evaluation():
    torch.manual_seed(0)
    pq = PQLinear(nn.Linear(6, 3), groups=2, prototypes=4)
    x = torch.rand(5, 6)
    groups = x.reshape(5, 2, 3)
    dist = (groups.unsqueeze(-2) - pq.codebook).abs().sum(-1)                  # (5, 2, 4)
    hard = pq.codebook[torch.arange(2), dist.argmin(-1)].reshape(5, 6)
    assert torch.equal(pq.quantise(x), hard)                     # no temperature: hard
    pq.soft_tau = 0.3
    mixed = torch.einsum("njp,jpd->njd", torch.softmax(-dist / 0.3, -1), pq.codebook)
    assert torch.allclose(pq.quantise(x), mixed.reshape(5, 6), atol=1e-6)
    assert not torch.allclose(pq.quantise(x), hard)              # not a prototype
    pq.eval()
    assert torch.equal(pq.quantise(x), hard)                     # at test always hard
    # The soft forward's gradient reaches every prototype, not only the matched ones.
    pq.train()
    pq.quantise(x).sum().backward()
    assert (pq.codebook.grad.abs().sum(-1) > 0).all()
    assert torch.equal(l1_distance(groups, pq.codebook), dist)


def test_soft_temperature_anneals_geometrically_to_its_end_share():
    taus = [soft_temperature(s, 10, 0.5) for s in range(11)]
    assert taus[0] == 0.5 and taus[-1] == pytest.approx(0.5 * SOFT_TAU_END)
    assert all(a > b for a, b in zip(taus, taus[1:]))
    assert taus[5] == pytest.approx(0.5 * SOFT_TAU_END ** 0.5)


def test_training_with_the_soft_forward_anneals_then_hands_over_to_the_hard_match(monkeypatch):
    seen = []
    original = QNet.set_soft
    monkeypatch.setattr(QNet, "set_soft", lambda net, tau: (seen.append(tau), original(net, tau)))
    config = TrainConfig(iterations=20, soft_match=0.25, soft_tau=0.4, seed=2)
    result = train_network(with_transforms(preset("digits-mlp"), **MLP), config, progress=False)
    per_step = [t for t in seen if t is not None]
    # The first 5 of the 20 steps soft, from 0.4 down, then hard to the end.
    assert len(per_step) == config.soft_iterations == 5 and per_step[0] == 0.4
    assert all(a > b for a, b in zip(per_step, per_step[1:]))
    assert seen[-1] is None
    assert all(m.pq.soft_tau is None for _, m in result.net.quant_layers())


def test_conversion_steps_space_the_layers_over_the_progressive_share():
    config = TrainConfig(iterations=100, progressive=0.5)
    assert config.conversion_steps(4) == [0, 12, 25, 38]
    # Clamped to the float phase (60 of 100 steps here).
    assert TrainConfig(iterations=100, progressive=0.9).conversion_steps(2) == [0, 30]
    assert TrainConfig(iterations=100).conversion_steps(3) == [0, 0, 0]


def test_progressive_training_converts_one_layer_at_a_time_first_to_last(monkeypatch):
    events = []
    init, schedule = QNet.init_from_data, QNet.set_schedule

    def record_init(net, images, generator, only=None):
        # Which layers are dense when a codebook is initialised.
        events.append(("init", sorted(only), [m.warmup for _, m in net.quant_layers()]))
        init(net, images, generator, only)

    monkeypatch.setattr(QNet, "init_from_data", record_init)
    monkeypatch.setattr(QNet, "set_schedule",
                        lambda net, step, steps: (events.append(("step", step)),
                                                  schedule(net, step, steps)))
    config = TrainConfig(iterations=20, progressive=0.5, seed=3)
    result = train_network(with_transforms(preset("digits-mlp"), **MLP), config, progress=False)
    inits = [(i, e) for i, e in enumerate(events) if e[0] == "init"]
    layers = [i for i, _ in result.net.quant_layers()]
    assert [e[1] for _, e in inits] == [[layers[0]], [layers[1]]]
    # Layer 0 converts before the first step, with layer 1 still dense; layer 1 at step
    # conversion_steps(2)[1] = 5, after layer 0 has trained for 5 steps.
    assert inits[0][1][2] == [False, True] and inits[1][1][2] == [False, False]
    steps_before = [e[1] for e in events[:inits[1][0]] if e[0] == "step"]
    assert steps_before[-1] == config.conversion_steps(2)[1] == 5
    assert not any(m.warmup for _, m in result.net.quant_layers())


def test_init_from_data_only_touches_the_layers_named():
    torch.manual_seed(0)
    net = QNet(with_transforms(preset("digits-mlp"), **MLP))
    from edgeforge.models.data_digits import load_digits
    images, _ = load_digits("train")
    (a, la), (b, lb) = net.quant_layers()
    before_a, before_b = la.pq.codebook.clone(), lb.pq.codebook.clone()
    net.init_from_data(images[:200], torch.Generator().manual_seed(0), only={b})
    assert torch.equal(la.pq.codebook, before_a) and not torch.equal(lb.pq.codebook, before_b)


@pytest.mark.parametrize("field, value, match", [
    ("soft_match", 1.0, r"TrainConfig.soft_match must be in \[0, 1\), got 1.0"),
    ("soft_match", -0.1, r"TrainConfig.soft_match must be in \[0, 1\), got -0.1"),
    ("soft_tau", 0, r"TrainConfig.soft_tau must be a positive number, got 0"),
    ("progressive", True, r"TrainConfig.progressive must be in \[0, 1\), got True"),
])
def test_bad_schedule_values_are_refused_by_name(field, value, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**{field: value})


def test_progressive_is_refused_with_a_warmup():
    with pytest.raises(ValueError, match=r"TrainConfig.progressive: not with warmup"):
        TrainConfig(progressive=0.5, warmup=0.2)
