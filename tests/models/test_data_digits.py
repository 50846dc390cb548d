"""scikit-learn digits: the pixel rule, the fixed stratified 70/30 split, shapes and errors."""

import numpy as np
import pytest
from sklearn.datasets import load_digits as sk_load_digits

from edgeforge.models.data_digits import (N_TEST, N_TRAIN, load_digits, pixels_to_uint8,
                                          split_indices)


def test_pixel_rule_maps_ends_and_middle():
    p = np.arange(17)
    u = pixels_to_uint8(p)
    assert u.dtype == np.uint8
    assert (u[0], u[8], u[16]) == (0, 128, 255)
    # Nearest integer to p * 255 / 16, halves up; never more than half a level off.
    assert np.all(np.abs(u - p * 255 / 16) <= 0.5)
    assert np.all(np.diff(u.astype(int)) > 0)


@pytest.mark.parametrize("bad", [17, -1, 3.5])
def test_pixel_rule_refuses_values_outside_0_16(bad):
    with pytest.raises(ValueError, match=rf"^digits pixels must be integers in 0\.\.16, got {bad!r}$"):
        pixels_to_uint8([0, bad])


def test_splits_have_the_documented_sizes_shapes_and_types():
    for split, n in (("train", N_TRAIN), ("test", N_TEST), ("all", 1797)):
        x, y = load_digits(split)
        assert x.shape == (n, 1, 8, 8) and x.dtype == np.uint8
        assert y.shape == (n,) and y.dtype == np.int64
        assert set(np.unique(y)) == set(range(10))
    assert (N_TRAIN, N_TEST) == (1257, 540)


def test_split_is_disjoint_complete_stratified_and_fixed():
    train, test = split_indices()
    assert len(np.intersect1d(train, test)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1797))
    target = sk_load_digits().target
    # Stratified: each class's test share is 30 % to within one image.
    for c in range(10):
        n_c = np.sum(target == c)
        assert abs(np.sum(target[test] == c) - 0.3 * n_c) <= 1
    again = split_indices()
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])


def test_images_are_the_sklearn_pixels_under_the_rule():
    d = sk_load_digits()
    x, y = load_digits("test")
    _, test = split_indices()
    k = 17
    assert y[k] == d.target[test[k]]
    assert np.array_equal(x[k, 0], (d.images[test[k]].astype(int) * 255 + 8) // 16)


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match=r"^split must be one of \('train', 'test', 'all'\), got 'val'$"):
        load_digits("val")
