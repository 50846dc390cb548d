"""PECAN-A torch layers: the forward is sum_j Y_j softmax(C_j^T x_j) + b (temperature 1, no
1/sqrt(d)), the golden integer layer approaches it as its tables get finer, conv windows are
PECAN-D's, and the two training modes train what they say."""

import numpy as np
import pytest
import torch
from torch import nn

from edgeforge.models.pecan.pq_angle import (PQAConv2d, PQALinear, angle_weights,
                                             distance_offsets, set_training_mode)
from edgeforge.schemes.network import Layer, softmax_tables
from edgeforge.sim.golden.pecan_a import accumulate


def test_linear_forward_is_the_softmax_weighted_table_sum():
    torch.manual_seed(0)
    layer = PQALinear(nn.Linear(8, 3).double(), groups=4, prototypes=3).double()
    x = torch.randn(10, 8, dtype=torch.float64)
    k = angle_weights(x.reshape(10, 4, 2), layer.codebook)            # (10, D, p)
    s = torch.einsum("njd,jpd->njp", x.reshape(10, 4, 2), layer.codebook)
    torch.testing.assert_close(k, torch.exp(s) / torch.exp(s).sum(-1, keepdim=True))
    tables = layer.tables(layer.matrix())                              # (D, O, p)
    expected = torch.einsum("njp,jop->no", k, tables) + layer.linear.bias
    torch.testing.assert_close(layer(x), expected)


def test_golden_integer_layer_approaches_the_float_one():
    # Integer inputs and codebooks (scale 1), float tables scaled by 2**8 and rounded: the
    # golden accumulators over 2**(8 + exp_bits) are the float layer's outputs within the
    # exp and reciprocal tables' precision.
    rng = np.random.default_rng(2)
    torch.manual_seed(2)
    layer = PQALinear(nn.Linear(6, 2, bias=False).double(), groups=3, prototypes=4).double()
    with torch.no_grad():
        layer.codebook.copy_(torch.from_numpy(rng.integers(-2, 3, size=(3, 4, 2))).double())
    x = torch.from_numpy(rng.integers(0, 4, size=(50, 6))).double()
    f = {"groups": 3, "group_size": 2, "prototypes": 4, "table_bits": 16, "exp_bits": 12,
         "exp_entries": 64, "exp_shift": 0, "recip_bits": 16, "recip_shift": 3}
    exp, recip = softmax_tables(f, 1.0)          # one integer step of s is 1 real unit
    tables = np.rint(layer.tables(layer.matrix()).detach().numpy() * 2 ** 8).astype(np.int64)
    arrays = {"l0_codebook": layer.codebook.detach().numpy().astype(np.int64),
              "l0_table": tables, "l0_bias": np.zeros(2, np.int64), "l0_exp": exp,
              "l0_recip": recip}
    acc = accumulate(Layer(0, "linear", f, (6,), (2,)), arrays, x.numpy().astype(np.int64))
    got = acc / 2 ** (8 + 12)
    err = np.abs(got - layer(x).detach().numpy()).max()
    # Each group's weights are within about 2**-9 (Z grouped by 8 of >= 4095, R rounded) and
    # the table entries within 2**-9 of the float ones: a few thousandths of the largest.
    assert err < 0.01 * np.abs(tables).max() / 2 ** 8, err


def test_conv_uses_pecan_d_windows():
    torch.manual_seed(1)
    layer = PQAConv2d(nn.Conv2d(2, 3, 3, padding=1).double(), groups=9, prototypes=4).double()
    x = torch.randn(2, 2, 4, 5, dtype=torch.float64)
    vecs = layer.windows(x)                                            # (N, 20, 18)
    y = layer.quantise(vecs) @ layer.matrix().T + layer.conv.bias
    torch.testing.assert_close(layer(x), y.transpose(1, 2).reshape(2, 3, 4, 5))


def test_training_modes():
    model = nn.Sequential(PQALinear(nn.Linear(8, 4), 2, 3), nn.ReLU(),
                          PQALinear(nn.Linear(4, 2), 2, 2))
    trained = set_training_mode(model, "prototypes")
    assert {id(p) for p in trained} == {id(model[0].codebook), id(model[2].codebook)}
    assert not model[0].linear.weight.requires_grad
    assert len(set_training_mode(model, "joint")) == len(list(model.parameters()))
    with pytest.raises(ValueError, match=r"^mode must be one of \['joint', 'prototypes'\], "
                                         r"got 'weights'$"):
        set_training_mode(model, "weights")


def test_distance_offsets_make_the_match_the_nearest_prototype():
    # Non-negative inputs and prototypes: by dot product alone the largest prototype wins
    # almost every match; with -|c|**2 / 2 added the arg-max is the nearest in L2 on every
    # input (|x|**2 / 2, the rest of -|x - c|**2 / 2, is the same for every prototype).
    g = torch.Generator().manual_seed(3)
    x = torch.rand(500, 2, 4, generator=g, dtype=torch.float64)
    cb = torch.rand(2, 6, 4, generator=g, dtype=torch.float64)
    cb[:, 2] += 2                   # above every other prototype in every coordinate
    nearest = torch.cdist(x.transpose(0, 1), cb).argmin(-1).T              # (n, D)
    sharp = 1e4
    with_offsets = angle_weights(x, cb, sharp, offsets=True).argmax(-1)
    assert torch.equal(with_offsets, nearest)
    torch.testing.assert_close(distance_offsets(cb), -0.5 * cb.pow(2).sum(-1))
    top = cb.norm(dim=-1).argmax(-1)                                        # (D,)
    by_dot = (angle_weights(x, cb, sharp).argmax(-1) == top).float().mean()
    assert by_dot > 0.9 and (nearest == top).float().mean() < 0.5
