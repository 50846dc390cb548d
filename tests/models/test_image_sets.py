"""A held-out validation set: the training split cut in two, stratified and seeded."""

import numpy as np
import pytest

from edgeforge.models.image_sets import DIGITS, HeldOut


def test_held_out_splits_the_training_split_only():
    data = HeldOut("digits", share=0.2, seed=0)
    fit_x, fit_y = data.load("train")
    val_x, val_y = data.load("test")
    train_x, train_y = DIGITS.load("train")
    assert len(fit_y) + len(val_y) == len(train_y)
    assert len(val_y) == -(-2 * len(train_y) // 10)           # sklearn: ceil(share n)
    # Stratified: every class held out in proportion (+-1 image).
    share = np.bincount(val_y, minlength=10) / np.bincount(train_y, minlength=10)
    assert np.all(np.abs(share - 0.2) < 1.5 / np.bincount(train_y, minlength=10))
    # The two parts are disjoint and make the training split; no test image appears.
    order = np.lexsort(train_x.reshape(len(train_x), -1).T)
    both = np.concatenate([fit_x, val_x])
    assert np.array_equal(both[np.lexsort(both.reshape(len(both), -1).T)], train_x[order])
    # Seeded: the same split again; another seed, another split.
    assert np.array_equal(data.load("test")[0], val_x)
    assert not np.array_equal(HeldOut("digits", seed=1).load("test")[0], val_x)
    assert "validation" in data.split_rule and "0.2 of train held out" in str(data)


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.1, True, "0.2"])
def test_held_out_share_is_checked(share):
    with pytest.raises(ValueError, match=r"^HeldOut\.share must be in \(0, 1\), got "):
        HeldOut("digits", share=share)


def test_held_out_has_no_all_split():
    with pytest.raises(ValueError, match=r"^split must be one of \['train', 'test'\] for a "
                                         r"held-out validation set, got 'all'$"):
        HeldOut("digits").load("all")
