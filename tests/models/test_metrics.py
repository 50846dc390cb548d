"""Y-channel PSNR/SSIM against independent formulas and scikit-image."""

import math
import re
import warnings

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from edgeforge.models.metrics import psnr_y, rgb_to_y, ssim_y


def _photo(seed=0, shape=(40, 52, 3)):
    rng = np.random.default_rng(seed)
    # A smooth gradient plus noise: structured enough that SSIM is neither 0 nor 1.
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    base = (yy * 3 + xx * 2)[..., None] + np.array([0, 40, 90])
    img = base + rng.normal(0, 12, size=shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_rgb_to_y_matches_bt601_formula():
    img = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [10, 200, 33]]], np.uint8)
    expected = [16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255 for r, g, b in img[0].tolist()]
    y = rgb_to_y(img)
    assert y.dtype == np.float64 and y.shape == (1, 4)
    np.testing.assert_allclose(y[0], expected, rtol=0, atol=1e-12)
    assert y[0, 0] == pytest.approx(16) and y[0, 1] == pytest.approx(235)


def test_rgb_to_y_grey_equals_tripled_grey():
    grey = _photo()[..., 1]
    np.testing.assert_allclose(rgb_to_y(grey), rgb_to_y(np.stack([grey] * 3, -1)),
                               rtol=0, atol=1e-12)


def test_psnr_of_known_mse():
    hr = _photo()
    sr = hr.copy()
    # Changing only B by 3 everywhere shifts Y by 3 * 24.966 / 255 exactly.
    sr[..., 2] = np.where(hr[..., 2] < 250, hr[..., 2] + 3, hr[..., 2] - 3)
    dy = 3 * 24.966 / 255
    assert psnr_y(sr, hr, shave=0) == pytest.approx(20 * math.log10(255 / dy), abs=1e-9)


def test_psnr_grey_known_mse():
    hr = np.full((20, 20), 100, np.uint8)
    sr = hr + np.uint8(1)
    assert psnr_y(sr, hr, 0) == pytest.approx(20 * math.log10(255 / (219 / 255)), abs=1e-9)


def test_psnr_shave_ignores_the_border():
    hr = _photo()
    sr = hr.copy()
    sr[:4] = 255 - sr[:4]
    sr[:, -4:] = 0
    assert psnr_y(sr, hr, shave=4) == math.inf
    assert psnr_y(sr, hr, shave=3) < 20
    # shave=1 averages over (H-2)(W-2) pixels: check against the direct computation.
    d = (rgb_to_y(sr) - rgb_to_y(hr))[1:-1, 1:-1]
    assert psnr_y(sr, hr, 1) == pytest.approx(10 * math.log10(255 ** 2 / np.mean(d ** 2)))


def test_identical_images_give_inf_psnr_and_unit_ssim_without_warnings():
    img = _photo()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert psnr_y(img, img.copy(), 4) == math.inf
        assert ssim_y(img, img.copy()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ssim_equals_skimage_on_the_y_plane(seed):
    hr = _photo(seed)
    noise = np.random.default_rng(seed + 10).integers(-20, 21, size=hr.shape)
    sr = np.clip(hr.astype(int) + noise, 0, 255).astype(np.uint8)
    ref = structural_similarity(rgb_to_y(sr), rgb_to_y(hr), gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False, data_range=255)
    ours = ssim_y(sr, hr)
    assert 0.05 < ours < 0.99
    assert abs(ours - ref) < 1e-12


def test_ssim_differs_from_skimage_defaults():
    # Guards the reason this module exists: the library's defaults are another metric.
    hr = _photo(3)
    sr = np.clip(hr.astype(int) + 15, 0, 255).astype(np.uint8)
    default = structural_similarity(rgb_to_y(sr), rgb_to_y(hr), data_range=255)
    assert abs(ssim_y(sr, hr) - default) > 1e-4


def test_ssim_on_exactly_one_window():
    hr = _photo(shape=(11, 11, 3))
    sr = hr[::-1].copy()
    ref = structural_similarity(rgb_to_y(sr), rgb_to_y(hr), gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False, data_range=255)
    assert abs(ssim_y(sr, hr) - ref) < 1e-12


@pytest.mark.parametrize("call, exc, message", [
    (lambda a: psnr_y(a, a[:-1], 0), ValueError,
     "sr and hr must have the same shape; hr has (39, 52, 3), got sr (40, 52, 3)"),
    (lambda a: psnr_y(a.astype(np.uint16), a, 0), TypeError,
     "sr must have dtype uint8, got dtype('uint16')"),
    (lambda a: psnr_y(a.tolist(), a, 0), TypeError, "sr must be a uint8 numpy array, got 'list'"),
    (lambda a: psnr_y(a[..., :2], a[..., :2], 0), ValueError,
     "sr must be grey (H, W) or RGB (H, W, 3), got shape (40, 52, 2)"),
    (lambda a: psnr_y(a, a, -1), ValueError, "shave must be >= 0, got -1"),
    (lambda a: psnr_y(a, a, 2.0), TypeError, "shave must be an integer, got 2.0"),
    (lambda a: psnr_y(a, a, 20), ValueError, "shave leaves no pixel of a 40x52 image, got 20"),
    (lambda a: ssim_y(a[:10], a[:10]), ValueError,
     "SSIM needs images of at least 11x11 pixels, got shape (10, 52, 3)"),
    (lambda a: rgb_to_y(a.astype(np.float32)), TypeError,
     "img_uint8 must have dtype uint8, got dtype('float32')"),
])
def test_bad_input_gets_one_clear_error(call, exc, message):
    with pytest.raises(exc, match="^" + re.escape(message) + "$"):
        call(_photo())
