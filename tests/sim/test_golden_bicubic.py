"""Integer bicubic golden model: the coefficients, exactness properties, agreement with a float
bicubic on the built-in photos, and Pillow's BICUBIC as a reported (not asserted-equal) PSNR."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from edgeforge.models.data import builtin_pairs
from edgeforge.schemes.bicubic import BicubicConfig, coefficients, kernel, phase_offset
from edgeforge.sim.golden.bicubic import float_upscale, pillow_upscale, upscale

X4 = BicubicConfig(4, 8)


def test_x4_phases_sample_pillows_half_pixel_positions():
    # Output 4i + p samples i + (2p - 3)/8: taps i-2..i+1 at t = 5/8, 7/8, then i-1..i+2 at
    # t = 1/8, 3/8.
    assert [phase_offset(4, p) for p in range(4)] == [
        (-2, Fraction(5, 8)), (-2, Fraction(7, 8)), (-1, Fraction(1, 8)), (-1, Fraction(3, 8))]
    assert X4.offsets() == (-2, -2, -1, -1)


def test_kernel_is_keys_a_minus_half():
    assert (kernel(0), kernel(1), kernel(2), kernel(Fraction(5, 2))) == (1, 0, 0, 0)
    assert kernel(Fraction(1, 2)) == Fraction(9, 16) and kernel(Fraction(3, 2)) == Fraction(-1, 16)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("bits", [6, 8, 10, 12])
def test_every_phase_sums_to_one(scale, bits):
    for phase in coefficients(scale, bits):
        assert len(phase) == 4 and sum(phase) == 1 << bits


def test_ten_fraction_bits_are_the_exact_x4_kernel():
    for p, phase in enumerate(coefficients(4, 10)):
        _, t = phase_offset(4, p)
        exact = [kernel(t + 1), kernel(t), kernel(1 - t), kernel(2 - t)]
        assert [Fraction(c, 1024) for c in phase] == exact
    # 8 bits: each coefficient within half a step of the weight, but the largest tap (which
    # takes the residual) within one step.
    for p, phase in enumerate(coefficients(4, 8)):
        _, t = phase_offset(4, p)
        exact = [kernel(t + 1), kernel(t), kernel(1 - t), kernel(2 - t)]
        assert all(abs(Fraction(c, 256) - w) <= Fraction(1, 256) for c, w in zip(phase, exact))


@pytest.mark.parametrize("config", [X4, BicubicConfig(4, 6), BicubicConfig(3, 8),
                                    BicubicConfig(2, 12)])
@pytest.mark.parametrize("value", [0, 1, 77, 254, 255])
def test_flat_image_stays_flat(config, value):
    img = np.full((5, 7), value, np.uint8)
    out = upscale(config, img)
    assert out.shape == (5 * config.scale, 7 * config.scale)
    assert (out == value).all()


def test_zero_phase_of_odd_scales_is_the_input_pixel():
    # x3: output 3i + 1 samples i itself (t = 0, weights 0, 1, 0, 0).
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, size=(6, 9), dtype=np.uint8)
    for bits in (6, 8, 12):
        out = upscale(BicubicConfig(3, bits), img)
        np.testing.assert_array_equal(out[1::3, 1::3], img)
    assert coefficients(3, 8)[1] == (0, 256, 0, 0)


def test_linear_ramp_is_reproduced_inside_the_border():
    # Keys' cubic reproduces polynomials up to degree 2: at the exact kernel an 8-levels-a-pixel
    # ramp comes out as the line itself, 8 j + (2p - 3) at output 4 j + p, inside the border.
    img = np.tile((8 * np.arange(16) + 40).astype(np.uint8), (6, 1))
    out = upscale(BicubicConfig(4, 10), img)
    X = np.arange(64)
    line = 40 + 8 * (X // 4) + (2 * (X % 4) - 3)
    np.testing.assert_array_equal(out[:, 8:-8], np.tile(line[8:-8], (24, 1)))


def test_replicate_border():
    # A column of 200 at the left edge, 0 beside it: output columns 0 and 1 read taps -2..1,
    # of which -2 and -1 replicate column 0, so three taps of 200 and one of 0 (with Pillow's
    # renormalised border they would read two).
    img = np.zeros((4, 6), np.uint8)
    img[:, 0] = 200
    out = upscale(BicubicConfig(4, 10), img)
    c = coefficients(4, 10)
    for p in (0, 1):
        # The rows are flat, so the vertical pass multiplies by 1024.
        want = (200 * sum(c[p][:3]) * 1024 + (1 << 19)) >> 20
        assert (out[:, p] == want).all()
    assert (out[:, 0] == 215).all()      # overshoot of the negative lobe, 200 * 1099 / 1024


@pytest.fixture(scope="module")
def photos():
    pairs = builtin_pairs(4, "test")
    if not pairs:
        pytest.skip("scikit-image's sample photos are not installed")
    return pairs


def test_agrees_with_float_bicubic_on_the_photos(photos):
    for name, lr, _ in photos:
        want = float_upscale(4, lr)
        # The exact kernel (10 bits) is the float model to the level; 8 bits within 1 level
        # on under 7% of values (measured: 2.8-5.8%).
        np.testing.assert_array_equal(upscale(BicubicConfig(4, 10), lr), want, err_msg=name)
        diff = np.abs(upscale(X4, lr).astype(int) - want)
        assert diff.max() <= 1 and (diff > 0).mean() < 0.07, name


def test_pillow_bicubic_psnr_is_reported(photos, capsys):
    from edgeforge.models.bicubic import evaluate
    scores = evaluate(X4)
    assert [s.name for s in scores[:-1]] == [name for name, _, _ in photos]
    mean = scores[-1]
    with capsys.disabled():
        print(f"\n  integer bicubic x4 (8 bits) vs Pillow BICUBIC, Y-PSNR: "
              f"{mean.psnr_vs_pillow:.2f} dB; vs HR {mean.psnr:.3f} dB, Pillow {mean.pillow_psnr:.3f} dB")
    # Not the same resampler (Pillow rounds between its passes and renormalises at the border):
    # the outputs are near each other, not equal.
    assert 40 < mean.psnr_vs_pillow < 100
    assert abs(mean.psnr - mean.pillow_psnr) < 0.1
    _, lr, _ = photos[0]
    assert not np.array_equal(upscale(X4, lr), pillow_upscale(4, lr))


def test_rgb_is_three_planes():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    out = upscale(X4, img)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], upscale(X4, np.ascontiguousarray(img[..., c])))


def test_refuses_what_is_not_a_bicubic_input():
    from edgeforge.artifact import Artifact
    with pytest.raises(ValueError, match=r"^artifact must be of scheme 'bicubic', got scheme 'smoke'$"):
        upscale(Artifact("smoke", {}, {}), np.zeros((4, 4), np.uint8))
    with pytest.raises(TypeError, match=r"^artifact_or_config must be an Artifact or a "
                                        r"BicubicConfig, got 'int'$"):
        upscale(4, np.zeros((4, 4), np.uint8))
    with pytest.raises(TypeError, match=r"^image must have dtype uint8, got dtype\('float32'\)$"):
        upscale(X4, np.zeros((4, 4), np.float32))
