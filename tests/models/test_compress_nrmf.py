"""NRMF and VBMF: mode unfoldings, truncated Tucker-2 (exact at the kernel's own ranks, the
Eckart-Young error when one mode is cut), the factorised network's layer list and outputs,
the energy-threshold rank, VBMF recovering the rank of low-rank data in noise, the
nuclear-norm regulariser and the checks on p and alpha."""

import math

import numpy as np
import pytest
import torch

from edgeforge.models.compress.common import weights
from edgeforge.models.compress.nrmf import (_tau_bar, check_p, decomposable_layers,
                                            energy_rank, factorise, nrmf_network,
                                            nuclear_penalty, select_ranks, tucker2,
                                            tucker_params, unfoldings, vbmf, vbmf_network)
from edgeforge.models.data_digits import load_digits
from edgeforge.models.network.net import QNet
from edgeforge.models.network.train import TrainConfig, train_network
from edgeforge.models.network.zoo import preset

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_unfoldings_are_modes_3_and_4():
    w = torch.arange(2 * 3 * 9, dtype=torch.float64).reshape(2, 3, 3, 3)   # (T, S, D, D)
    w1, w2 = unfoldings(w)
    assert w1.shape == (3, 18) and w2.shape == (2, 27)
    assert w1[1, 9 + 4] == w[1, 1, 1, 1] and w2[1, 9 + 4] == w[1, 1, 1, 1]


def _low_rank_kernel(t=6, s=5, k=3, r3=2, r4=3, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    core = torch.randn(r4, r3, k, k, generator=g, dtype=torch.float64)
    a, b = torch.randn(s, r3, generator=g, dtype=torch.float64), torch.randn(
        t, r4, generator=g, dtype=torch.float64)
    return torch.einsum("bakl,sa,tb->tskl", core, a, b)


def _rebuild(first, core, last) -> torch.Tensor:
    w = core.double()
    if first is not None:
        w = torch.einsum("bakl,as->bskl", w, first[:, :, 0, 0].double())
    if last is not None:
        w = torch.einsum("bskl,tb->tskl", w, last[:, :, 0, 0].double())
    return w


def test_tucker2_is_exact_at_the_kernels_ranks_and_drops_full_rank_factors():
    w = _low_rank_kernel()
    first, core, last = tucker2(w, 2, 3)
    assert first.shape == (2, 5, 1, 1) and core.shape == (3, 2, 3, 3) and last.shape == (6, 3, 1, 1)
    torch.testing.assert_close(_rebuild(first, core, last), w, rtol=1e-5, atol=1e-5)
    first, core, last = tucker2(w, 5, 6)
    assert first is None and last is None
    torch.testing.assert_close(core.double(), w, rtol=1e-6, atol=1e-6)


def test_tucker2_cut_on_one_mode_is_the_eckart_young_error():
    w = torch.randn(8, 6, 3, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    first, core, last = tucker2(w, 6, 3)                     # input mode full, output cut to 3
    s = torch.linalg.svdvals(unfoldings(w)[1])
    error = torch.linalg.norm(_rebuild(first, core, last) - w)
    assert math.isclose(error.item(), s[3:].square().sum().sqrt().item(), rel_tol=1e-5)
    with pytest.raises(ValueError, match=r"^r4 must be an integer 1\.\.8, got 9$"):
        tucker2(w, 6, 9)


def test_factorised_network_is_the_same_function_at_the_kernels_ranks():
    torch.manual_seed(0)
    net = QNet(preset("digits-wide"))
    with torch.no_grad():
        net.layers[3].weight.copy_(_low_rank_kernel(t=32, s=16, r3=4, r4=5).float())
    small = factorise(net, {3: (4, 5)})
    kinds = [(l["kind"], l.get("kernel"), l.get("in_channels"), l.get("out_channels"))
             for l in small.network["layers"]]
    assert kinds[3:7] == [("conv2d", 1, 16, 4), ("conv2d", 3, 4, 5), ("conv2d", 1, 5, 32),
                          ("relu", None, None, None)]
    # The conv's bias moves to the last layer; the new ones start at 0.
    p = weights(small)
    assert not p[3][1].any() and not p[4][1].any()
    torch.testing.assert_close(p[5][1], net.layers[3].bias.detach())
    images = load_digits("test")[0][:40]
    torch.testing.assert_close(small.logits(images), net.logits(images), rtol=1e-4, atol=1e-4)
    assert tucker_params(16, 32, 3, 4, 5) == sum(
        l["out_channels"] * (l["in_channels"] * l["kernel"] ** 2 + 1)
        for l in small.network["layers"][3:6])
    with pytest.raises(ValueError, match=r"^ranks: layer 7 is not a dense conv2d with a kernel "
                                         r"> 1 \(have \[0, 3\]\)$"):
        factorise(net, {7: (1, 1)})


def test_energy_rank_thresholds():
    m = np.diag(np.sqrt([5.0, 3.0, 1.0, 1.0]))      # eigenvalues of W W^T: 5, 3, 1, 1 of 10
    assert [energy_rank(m, p) for p in (0.5, 0.8, 0.85, 0.9, 0.95, 1.0)] == [1, 2, 3, 3, 4, 4]
    assert energy_rank(np.zeros((3, 4)), 0.9) == 1
    assert check_p(1) == 1.0
    for p, message in ((0, r"^p must be in \(0, 1\], got 0$"),
                       (1.5, r"^p must be in \(0, 1\], got 1\.5$"),
                       (95, r"^p must be in \(0, 1\] \(a fraction: 0\.95 for 95 %\), got 95$"),
                       ("0.9", r"^p must be in \(0, 1\], got '0\.9'$")):
        with pytest.raises(ValueError, match=message):
            check_p(p)


def test_tau_bar_is_the_zero_of_xi():
    assert math.isclose(_tau_bar(1.0), 2.5129, abs_tol=1e-4)        # the paper's constant

    def phi(z):
        return math.log1p(z) / z - 0.5

    for alpha in (0.01, 0.05, 0.3, 0.7):
        tau = _tau_bar(alpha)
        assert abs(phi(tau) + phi(tau / alpha)) < 1e-9
        # 2.5129 sqrt(alpha), the usual approximation, is close but low for small alpha.
        assert 1 <= tau / (2.5129 * math.sqrt(alpha)) < 1.2


@pytest.mark.parametrize("shape, rank", [((30, 80), 4), ((80, 30), 4), ((20, 20), 2)])
def test_vbmf_recovers_the_rank_of_low_rank_data_in_noise(shape, rank):
    rng = np.random.default_rng(rank)
    l, m = shape
    signal = (rng.normal(size=(l, rank)) * 3) @ rng.normal(size=(rank, m))
    noise_std = 0.5
    answer = vbmf(signal + rng.normal(scale=noise_std, size=shape))
    assert answer.rank == rank
    assert math.isclose(answer.sigma2, noise_std ** 2, rel_tol=0.2)
    assert vbmf(rng.normal(size=shape)).rank == 0           # noise alone: nothing stays


def test_nuclear_penalty_and_alpha_check():
    torch.manual_seed(0)
    net = QNet(preset("digits-ref"))
    value = nuclear_penalty(0.5)(net)
    expected = 0.5 * sum(torch.linalg.svdvals(u).sum() for i in (0, 3)
                         for u in unfoldings(net.layers[i].weight.detach()))
    torch.testing.assert_close(value.detach(), expected)
    value.backward()
    assert net.layers[3].weight.grad.abs().sum() > 0
    assert net.layers[7].weight.grad is None                # linears are not penalised
    assert decomposable_layers(net.network) == [0, 3]
    with pytest.raises(ValueError, match=r"^alpha must be a number >= 0, got -1$"):
        nuclear_penalty(-1)


def test_select_ranks_reports_and_decides():
    torch.manual_seed(0)
    net = QNet(preset("digits-wide"))
    with torch.no_grad():
        net.layers[3].weight.copy_(_low_rank_kernel(t=32, s=16, r3=3, r4=4).float())
    ranks = select_ranks(net, "energy", 0.999)
    assert (ranks[3]["in"], ranks[3]["out"], ranks[3]["factorise"]) == (3, 4, True)
    assert ranks[3]["channels"] == [16, 32] and ranks[3]["params"] == 32 * 145
    with torch.no_grad():
        net.layers[3].weight.add_(0.05 * torch.randn(32, 16, 3, 3))     # VBMF needs noise
    vb = select_ranks(net, "vbmf")[3]
    assert (vb["in"], vb["out"]) == (3, 4)
    with pytest.raises(ValueError, match=r"^selector must be one of \['energy', 'vbmf'\], "):
        select_ranks(net, "svd")


def test_regularised_training_lowers_ranks_and_the_pipeline_factorises():
    dense = train_network("digits-ref", TrainConfig(iterations=200, seed=2), progress=False)
    short = TrainConfig(iterations=80, lr=2e-3)
    done = nrmf_network(dense, 0.9, alpha=0.05, regularise=short, fine_tune=short)
    assert done.method == "nrmf" and done.details["p"] == 0.9
    base = select_ranks(dense, "energy", 0.9)
    assert done.details["ranks"]["3"]["out"] <= base[3]["out"]
    net = done.result.net
    assert net.quantized and done.result.preset == "digits-ref-nrmf"
    assert any(l["kind"] == "conv2d" and l["kernel"] == 1 for l in net.network["layers"])
    base = vbmf_network(dense, fine_tune=short)
    assert base.method == "vbmf" and "regularised" not in base.details
