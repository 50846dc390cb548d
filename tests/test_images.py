import re

import numpy as np
import pytest

from edgeforge.images import check_uint8_image


@pytest.mark.parametrize("shape, channels", [
    ((4, 5), (1, 3)), ((4, 5, 3), (1, 3)), ((4, 5), (1,)), ((4, 5, 3), (3,)), ((4, 5, 4), (3, 4)),
    ((0, 5), (1,)),   # sizes are the caller's business
])
def test_accepted_images_come_back_unchanged(shape, channels):
    img = np.zeros(shape, np.uint8)
    assert check_uint8_image("img", img, channels=channels) is img


@pytest.mark.parametrize("img, channels, exc, message", [
    ([[1, 2]], (1, 3), TypeError, "x must be a uint8 numpy array, got 'list'"),
    (np.zeros((4, 5), np.int16), (1, 3), TypeError, "x must have dtype uint8, got dtype('int16')"),
    (np.zeros((4, 5), bool), (1,), TypeError, "x must have dtype uint8, got dtype('bool')"),
    (np.zeros((4, 5, 1), np.uint8), (1, 3), ValueError,
     "x must be grey (H, W) or RGB (H, W, 3), got shape (4, 5, 1)"),
    (np.zeros((4, 5, 4), np.uint8), (1, 3), ValueError,
     "x must be grey (H, W) or RGB (H, W, 3), got shape (4, 5, 4)"),
    (np.zeros(5, np.uint8), (1, 3), ValueError,
     "x must be grey (H, W) or RGB (H, W, 3), got shape (5,)"),
    (np.zeros((4, 5, 3), np.uint8), (1,), ValueError, "x must be grey (H, W), got shape (4, 5, 3)"),
    (np.zeros((4, 5), np.uint8), (3,), ValueError, "x must be RGB (H, W, 3), got shape (4, 5)"),
    (np.zeros((4, 5, 3), np.uint8), (4,), ValueError, "x must be (H, W, 4), got shape (4, 5, 3)"),
    (np.zeros((4, 5), np.uint8), (), ValueError,
     "channels must be a non-empty tuple of positive integers, got ()"),
    (np.zeros((4, 5), np.uint8), [1, 3], ValueError,
     "channels must be a non-empty tuple of positive integers, got [1, 3]"),
    (np.zeros((4, 5), np.uint8), (0,), ValueError,
     "channels must be a non-empty tuple of positive integers, got (0,)"),
])
def test_bad_input_gets_one_clear_error(img, channels, exc, message):
    with pytest.raises(exc, match="^" + re.escape(message) + "$"):
        check_uint8_image("x", img, channels=channels)


def test_a_wrong_dtype_is_named_before_a_wrong_shape():
    with pytest.raises(TypeError, match=r"^x must have dtype uint8, got dtype\('float32'\)$"):
        check_uint8_image("x", np.zeros((4, 5, 7), np.float32))
