"""QAT layers: round half up with a straight-through gradient, shift requantisation, exponents."""

import numpy as np
import pytest
import torch

from edgeforge.models.network.quant import (DenseLinear, exponent_for, requantize, round_half_up,
                                            signed_max)

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_round_half_up_forward_and_straight_through_gradient():
    x = torch.tensor([-2.5, -1.5, -0.5, -0.4, 0.5, 1.49, 2.5], requires_grad=True)
    y = round_half_up(x)
    assert y.tolist() == [-2.0, -1.0, 0.0, 0.0, 1.0, 1.0, 3.0]
    (y * torch.arange(7.0)).sum().backward()
    assert torch.equal(x.grad, torch.arange(7.0))


@pytest.mark.parametrize("out_bits", [2, 5, 8])
@pytest.mark.parametrize("unsigned", [False, True])
def test_requantize_is_the_integer_shift_round_saturate(out_bits, unsigned):
    rng = np.random.default_rng(out_bits)
    lo, hi = (0, 2 ** out_bits - 1) if unsigned else (-2 ** (out_bits - 1), 2 ** (out_bits - 1) - 1)
    for shift in (0, 1, 3, 9):
        # Around every rounding boundary and far past both saturation limits.
        acc = np.concatenate([rng.integers(-2 ** 20, 2 ** 20, 500),
                              np.arange(-5, 6) * 2 ** shift + (2 ** shift >> 1),
                              [hi << shift, (hi + 1) << shift, lo << shift, (lo - 1) << shift]])
        a_in_fw, a_out = 12, 12 - shift
        got = requantize(torch.tensor(acc * 2.0 ** -a_in_fw, dtype=torch.float32), a_out, out_bits,
                         unsigned)
        want = (acc + (1 << (shift - 1))) >> shift if shift else acc
        want = np.clip(want, lo, hi)
        assert np.array_equal((got * 2.0 ** a_out).numpy().astype(np.int64), want), shift


@pytest.mark.parametrize("magnitude, limit, e", [(1.0, 127, 6), (127.0, 127, 0), (0.7, 127, 7),
                                                 (1 / 64, 255, 13), (300.0, 127, -2),
                                                 (127 / 2 ** 5, 127, 5)])
def test_exponent_for_is_the_finest_grid_that_does_not_saturate(magnitude, limit, e):
    assert exponent_for(magnitude, limit) == e
    assert magnitude * 2.0 ** e <= limit < magnitude * 2.0 ** (e + 1)


def test_exponent_for_a_zero_layer_is_the_top_of_the_range():
    assert exponent_for(0.0, 127) == 31


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_weights_are_signed_symmetric_and_saturate(bits):
    layer = DenseLinear({"in_features": 4, "out_features": 2, "weight_bits": bits,
                         "out_bits": 8, "bias_bits": None}, unsigned=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[-9.0, -0.5, 0.26, 0.74], [9.0, 0.0, -0.25, 0.25]]))
    layer.calibrate_weights(a_in=8)
    q = signed_max(bits)
    # max |w| = 9 must land at or below q: the exponent is the largest that fits.
    assert 9 * 2.0 ** layer.f_w <= q < 9 * 2.0 ** (layer.f_w + 1)
    w = layer.weight_int()
    assert w.abs().max().item() <= q
    assert torch.equal(w, torch.clamp(torch.floor(layer.weight * 2.0 ** layer.f_w + 0.5), -q, q))
    layer.f_w += 3                    # a grid too fine: the extremes saturate at -q and q
    assert layer.weight_int()[:, 0].tolist() == [-q, q]
