"""PECAN-D torch layers: the hard forward is the golden model's (L1 match, lowest index on a
tie, tap-major conv windows, tables Y_j = W_j C_j), the backward is the soft assignment and
the tanh surrogate of the notes."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from edgeforge.models.pecan.pq import (PQConv2d, PQLinear, assign, l1_distance,
                                       surrogate_slope)
from edgeforge.schemes.network import parse_network
from edgeforge.sim.golden.pecan_d import accumulate, match


def _integer_params(module, rng, lo=-3, hi=3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.integers(lo, hi + 1, size=p.shape)).double())


def test_linear_forward_is_the_table_sum_of_the_golden_match():
    rng = np.random.default_rng(0)
    layer = PQLinear(nn.Linear(8, 3).double(), groups=4, prototypes=3).double()
    _integer_params(layer, rng)
    with torch.no_grad():
        layer.codebook[:, 2] = layer.codebook[:, 0]          # a tie: prototype 0 must win
    x = torch.from_numpy(rng.integers(-3, 4, size=(20, 8))).double()
    cb = layer.codebook.detach().numpy().astype(np.int64)
    k = match(x.numpy().astype(np.int64), cb)                # (20, 4)
    tables = layer.tables(layer.matrix()).detach().numpy()
    expected = tables[np.arange(4), :, k].sum(axis=1) + layer.linear.bias.detach().numpy()
    np.testing.assert_array_equal(layer(x).detach().numpy(), expected)


def test_conv_forward_equals_the_golden_layer():
    rng = np.random.default_rng(1)
    layer = PQConv2d(nn.Conv2d(2, 3, 3, padding=1).double(), groups=9, prototypes=4).double()
    _integer_params(layer, rng, 0, 5)
    config = {"input": {"channels": 2, "height": 4, "width": 5, "bits": 8}, "layers": [
        {"kind": "conv2d", "transform": "pecan-d", "in_channels": 2, "out_channels": 3,
         "kernel": 3, "padding": 1, "bias_bits": 16, "shift": 0, "out_bits": 8, "groups": 9,
         "group_size": 2, "prototypes": 4, "table_bits": 16}]}
    net = parse_network(config)
    arrays = {"l0_codebook": layer.codebook.detach().numpy().astype(np.int64),
              "l0_table": layer.tables(layer.matrix()).detach().numpy().astype(np.int64),
              "l0_bias": layer.conv.bias.detach().numpy().astype(np.int64)}
    x = torch.from_numpy(rng.integers(0, 6, size=(3, 2, 4, 5))).double()
    golden = accumulate(net.layers[0], arrays, x.numpy().astype(np.int64))
    np.testing.assert_array_equal(layer(x).detach().numpy(), golden)


def test_l1_backward_is_the_tanh_surrogate():
    x = torch.tensor([[[0.0, 1.0], [2.0, -1.0]]], requires_grad=True)       # (1, D=2, d=2)
    c = torch.tensor([[[0.5, 0.0]], [[2.0, 3.0]]], requires_grad=True)     # (D=2, p=1, d=2)
    a = surrogate_slope(5, 10)
    assert a == pytest.approx(math.exp(2.0))
    l1_distance(x, c, a).sum().backward()
    diff = x.detach().unsqueeze(-2) - c.detach()
    torch.testing.assert_close(c.grad, -torch.tanh(a * diff).sum(0))
    torch.testing.assert_close(x.grad, torch.tanh(a * diff).sum(-2))


def test_assignment_is_hard_forward_and_soft_backward():
    dist = torch.tensor([[1.0, 0.5, 0.5, 2.0]], requires_grad=True)
    a = assign(dist, tau=0.5)
    assert a.detach().tolist() == [[0.0, 1.0, 0.0, 0.0]]                    # lowest of the tie
    (a * torch.tensor([[1.0, 2.0, 3.0, 4.0]])).sum().backward()
    soft = torch.softmax(-dist.detach() / 0.5, dim=-1)
    v = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    expected = -(soft * (v - (soft * v).sum())) / 0.5                      # d softmax(-d/tau)
    torch.testing.assert_close(dist.grad, expected)


def test_groups_must_divide_the_inputs():
    with pytest.raises(ValueError, match=r"^groups must divide the 8 inputs, got 3$"):
        PQLinear(nn.Linear(8, 2), groups=3, prototypes=2)
    with pytest.raises(ValueError, match=r"^groups must divide the 18 inputs, got 4$"):
        PQConv2d(nn.Conv2d(2, 2, 3), groups=4, prototypes=2)
