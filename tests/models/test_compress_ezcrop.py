"""EZCrop and HRank channel importance, and physical channel pruning: the energy-zone metric
against a literal per-map implementation of the paper's steps, HRank's ranks on maps of known
rank, dead channels ranked last by both and pruned away without changing the logits, rates
checked naming the value, repetitive rounds."""

import math

import numpy as np
import pytest
import torch

from edgeforge.models.compress.common import image_batches, weights
from edgeforge.models.compress.ezcrop import (Consumer, channel_importance, check_rates,
                                              ezcrop_scores, ezcrop_scores_rfft,
                                              hrank_scores, keep_channels,
                                              keep_counts, prunable_layers, prune,
                                              prune_network, zone_half_width)
from edgeforge.models.data_digits import load_digits
from edgeforge.models.network.net import QNet
from edgeforge.models.network.train import TrainConfig, train_network
from edgeforge.models.network.zoo import preset

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.mark.parametrize("h, w, expected", [
    (8, 8, (4, 4, 1)), (16, 16, (8, 8, 2)), (32, 32, (16, 16, 4)), (4, 4, (2, 2, 1)),
    (7, 7, (3, 3, 1)), (3, 3, (1, 1, 0)), (2, 2, (1, 1, 0)), (16, 8, (8, 4, 1)),
])
def test_zone_half_width(h, w, expected):
    assert zone_half_width(h, w) == expected


def _eta_by_the_steps(m: np.ndarray, alpha: float = 0.25) -> float:
    """The paper's steps on one map, written out with NumPy and loops."""
    h, w = m.shape
    e = np.log(1 + np.abs(np.fft.fftshift(np.fft.fft2(m))))
    xc = h // 2 if h % 2 == 0 else (h - 1) // 2
    yc = w // 2 if w % 2 == 0 else (w - 1) // 2
    step = 0 if xc - 1 == 0 or yc - 1 == 0 else min(math.ceil(alpha * (h - xc - 1)),
                                                     math.ceil(alpha * (w - yc - 1)))
    zone = sum(e[x, y] for x in range(xc - step, xc + step + 1)
               for y in range(yc - step, yc + step + 1))
    return 1 - zone / e.sum()


@pytest.mark.parametrize("side", [4, 7, 8, 16, 32])
def test_energy_zone_score_is_the_papers_steps(side):
    rng = np.random.default_rng(side)
    maps = np.maximum(rng.normal(size=(3, 2, side, side)), 0)
    got = ezcrop_scores(torch.from_numpy(maps)).numpy()
    expected = [[_eta_by_the_steps(maps[n, c]) for c in range(2)] for n in range(3)]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize("h, w", [(2, 2), (3, 3), (4, 4), (5, 7), (8, 8), (8, 5), (16, 16),
                                  (32, 32), (33, 32)])
def test_half_spectrum_gives_the_same_scores(h, w):
    maps = torch.relu(torch.randn(4, 3, h, w, generator=torch.Generator().manual_seed(h * w)))
    maps[0, 0] = 0                                                   # a dead map: 0 both ways
    torch.testing.assert_close(ezcrop_scores_rfft(maps), ezcrop_scores(maps), rtol=1e-5,
                               atol=1e-6)


def test_energy_zone_extremes():
    n = 8
    constant = np.full((n, n), 3.0)                     # all energy at DC, inside the zone
    checker = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))   # all at the corner
    maps = torch.tensor(np.stack([constant, checker, np.zeros((n, n))])[None])
    np.testing.assert_allclose(ezcrop_scores(maps).numpy(), [[0.0, 1.0, 0.0]], atol=1e-6)


def test_hrank_scores_are_map_ranks():
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=8), rng.normal(size=8)
    maps = torch.tensor(np.stack([np.outer(u, v), np.eye(8), np.zeros((8, 8)),
                                  np.diag([1.0, 2, 3, 0, 0, 0, 0, 0])])[None])
    assert hrank_scores(maps).tolist() == [[1.0, 8.0, 0.0, 3.0]]


def test_prunable_layers_and_their_consumers():
    assert prunable_layers(preset("digits-ref")) == {0: Consumer(3, "conv2d"),
                                                     3: Consumer(7, "linear", 4)}
    assert prunable_layers(preset("digits-mlp")) == {}


@pytest.fixture
def net_with_dead_channels():
    """digits-wide's shape, seeded float weights; channels 2 and 5 of each conv never fire."""
    torch.manual_seed(0)
    net = QNet(preset("digits-wide"))
    with torch.no_grad():
        for i in (0, 3):
            for c in (2, 5):
                net.layers[i].weight[c] = 0
                net.layers[i].bias[c] = -1
    return net


def test_dead_channels_rank_last_and_prune_away_unchanged(net_with_dead_channels):
    net = net_with_dead_channels
    batches = image_batches(batch=32, batches=2)
    for metric in ("ezcrop", "hrank"):
        importance, seconds = channel_importance(net, batches, metric)
        assert sorted(importance) == [0, 3] and seconds > 0
        for i, scores in importance.items():
            assert scores[2] == scores[5] == 0 == scores.min()
            assert (scores > 0).mean() > 0.5           # the live ones carry something
    keep = {i: np.array([c for c in range(net.network["layers"][i]["out_channels"])
                         if c not in (2, 5)]) for i in (0, 3)}
    small = prune(net, keep)
    assert [small.network["layers"][i].get(k) for i, k in
            ((0, "out_channels"), (3, "in_channels"), (3, "out_channels"),
             (7, "in_features"))] == [14, 14, 30, 30 * 4]
    images = load_digits("test")[0][:50]
    torch.testing.assert_close(small.logits(images), net.logits(images), rtol=1e-5, atol=1e-5)
    assert not small.quantized


def test_keep_choice_and_refusals(net_with_dead_channels):
    net = net_with_dead_channels
    np.testing.assert_array_equal(keep_channels({3: np.array([0.1, 0.9, 0.5, 0.9])}, {3: 2})[3],
                                  [1, 3])                 # ties to the lower index, in order
    with pytest.raises(ValueError, match=r"^keep\[3\] must be distinct channel indices in "
                                         r"0\.\.31, got \[1, 1\]$"):
        prune(net, {3: [1, 1]})
    with pytest.raises(ValueError, match=r"^keep: layer 7 is not a prunable conv2d "
                                         r"\(have \[0, 3\]\)$"):
        prune(net, {7: [0]})


def test_pruned_weights_are_the_kept_rows_and_columns(net_with_dead_channels):
    net = net_with_dead_channels
    keep = {0: np.array([1, 4, 9]), 3: np.array([0, 31])}
    p = weights(prune(net, keep))
    w0, w3, w7 = (net.layers[i].weight.detach() for i in (0, 3, 7))
    torch.testing.assert_close(p[0][0], w0[[1, 4, 9]])
    torch.testing.assert_close(p[3][0], w3[[0, 31]][:, [1, 4, 9]])
    torch.testing.assert_close(p[7][0], w7[:, [0, 1, 2, 3, 124, 125, 126, 127]])


def test_rates_are_checked_naming_the_value():
    network = preset("digits-ref")
    assert check_rates(network, 0.5) == {0: 0.5, 3: 0.5}
    assert check_rates(network, {3: 0.25}) == {0: 0.0, 3: 0.25}
    assert keep_counts(preset("digits-wide"), {0: 0.5, 3: 0.3}) == {0: 8, 3: 22}
    assert keep_counts(network, {0: 0.99, 3: 0.0}) == {0: 1, 3: 8}
    for rates, message in ((1.0, r"^rate must be a number in \[0, 1\), got 1\.0$"),
                           (-0.1, r"^rate must be a number in \[0, 1\), got -0\.1$"),
                           ("half", r"^rate must be a number in \[0, 1\), got 'half'$"),
                           ({3: 2}, r"^rates\[3\] must be a number in \[0, 1\), got 2$"),
                           ({7: 0.5}, r"^rates: layer 7 is not a prunable conv2d "
                                      r"\(have \[0, 3\]\)$")):
        with pytest.raises(ValueError, match=message):
            check_rates(network, rates)
    with pytest.raises(ValueError, match=r"^metric must be one of \['ezcrop', 'hrank'\], "
                                         r"got 'l1'$"):
        prune_network(QNet(network), 0.5, metric="l1")
    with pytest.raises(ValueError, match=r"^rounds must be a positive integer, got 0$"):
        prune_network(QNet(network), 0.5, rounds=0)


def test_a_torch_data_loader_feeds_the_metric(net_with_dead_channels):
    x, y = load_digits("train")
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x[:64]), torch.from_numpy(y[:64])),
        batch_size=32)
    by_loader, _ = channel_importance(net_with_dead_channels, loader, "ezcrop", layers=[0])
    by_arrays, _ = channel_importance(net_with_dead_channels, [x[:32], x[32:64]], "ezcrop",
                                      layers=[0])
    np.testing.assert_allclose(by_loader[0], by_arrays[0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"^loader must yield at least one batch of images, "
                                         r"got none$"):
        channel_importance(net_with_dead_channels, [], "ezcrop")


def test_repetitive_rounds_reach_the_rate():
    dense = train_network("digits-ref", TrainConfig(iterations=200, seed=1), progress=False)
    short = TrainConfig(iterations=60, lr=2e-3)
    done = prune_network(dense, {0: 0.5, 3: 0.25}, rounds=2, fine_tune=short,
                         loader=image_batches(batch=64, batches=2))
    net = done.result.net
    assert net.quantized
    assert [net.network["layers"][i]["out_channels"] for i in (0, 3)] == [4, 6]
    kept = done.details["kept"]
    assert len(kept["0"]) == 4 and len(set(kept["0"])) == 4 and max(kept["0"]) < 8
    assert len(done.details["metric_seconds"]) == 2
    assert done.details["after"]["params"] < done.details["before"]["params"]
    assert done.result.preset == "digits-ref-ezcrop"
    assert done.result.float_accuracy > 0.5
