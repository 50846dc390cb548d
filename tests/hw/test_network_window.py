"""Window in Amaranth's simulator: zero-padded k x k windows of every output pixel, edges and
corners, images back to back, random valid gaps and backpressure; NarrowWindow: the same
windows as beats of lanes taps, in tap-major order."""

import numpy as np
import pytest

from edgeforge.hw.network.vectors import elem_shape
from edgeforge.hw.network.window import NarrowWindow, Window, row_plans, slots
from edgeforge.sim.amaranth_stream import run_stream

from network_helpers import pack


def expected_windows(image, k, p):
    """Every window of ``image`` (C, H, W), taps (dy, dx) then channels, zero padded."""
    c, h, w = image.shape
    padded = np.pad(image, ((0, 0), (p, p), (p, p)))
    out = []
    for i in range(h + 2 * p - k + 1):
        for j in range(w + 2 * p - k + 1):
            out.append(padded[:, i:i + k, j:j + k].transpose(1, 2, 0).ravel())
    return out


@pytest.mark.parametrize("c, h, w, k, p, is_signed, p_valid, p_ready", [
    (1, 3, 3, 3, 1, False, 1.0, 1.0),    # every pixel on an edge
    (2, 4, 5, 3, 1, True, 0.7, 0.6),
    (1, 5, 4, 3, 0, False, 0.8, 0.9),    # no padding: fewer output rows and columns
    (3, 6, 3, 5, 2, True, 0.9, 0.5),     # 5x5, padding 2 on a 3-wide image
    (1, 6, 6, 5, 1, False, 0.6, 0.8),    # padding 1 of a 5x5
    (2, 4, 4, 1, 0, True, 0.7, 0.7),     # 1x1: the window is the pixel
    (1, 11, 4, 3, 1, False, 0.9, 0.4),   # more rows than slots: slots are reused
    (1, 3, 7, 3, 0, False, 1.0, 1.0),    # a single output row
])
def test_windows_match_zero_padding(c, h, w, k, p, is_signed, p_valid, p_ready):
    bits = 5
    rng = np.random.default_rng(h * 100 + w * 10 + k)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if is_signed else (1, (1 << bits) - 1)
    images = [rng.integers(lo, hi + 1, size=(c, h, w)) for _ in range(3)]
    ins = [pack(img[:, y, x], bits) for img in images for y in range(h) for x in range(w)]
    expected = [pack(win, bits) for img in images for win in expected_windows(img, k, p)]
    dut = Window(elem_shape(bits, is_signed), c, h, w, k, p)
    got = run_stream(dut, ins, len(expected), seed=k + h, p_valid=p_valid, p_ready=p_ready).outputs
    assert got == expected


@pytest.mark.parametrize("k, p, expected", [(3, 1, 4), (3, 0, 8), (1, 0, 2), (5, 2, 8), (5, 0, 16)])
def test_slots_hold_a_window_and_an_image_boundary(k, p, expected):
    assert slots(k, p) == expected


def test_row_plans_of_a_padded_3x3():
    plans = row_plans(4, 3, 1)
    # Row 0 reads rows -1 (padding), 0, 1; the last row reads 2, 3 and padding, and lets all go.
    assert [q.need for q in plans] == [2, 3, 3, 2]
    assert plans[0].offsets == (None, 0, 1) and plans[3].offsets == (0, 1, None)
    assert [q.release for q in plans] == [0, 1, 1, 2]


def test_refuses_an_even_kernel():
    with pytest.raises(ValueError, match=r"^kernel must be odd with padding 0\.\.kernel//2 and fit "
                                         r"the 4x4 image, got kernel 2 padding 0$"):
        Window(elem_shape(8, False), 1, 4, 4, 2, 0)


@pytest.mark.parametrize("c, lanes, h, w, k, p, is_signed, p_valid, p_ready", [
    (1, 1, 3, 3, 3, 1, False, 1.0, 1.0),    # every pixel on an edge
    (2, 1, 4, 5, 3, 1, True, 0.7, 0.6),
    (4, 2, 4, 5, 3, 1, True, 0.8, 0.7),     # two channels a beat
    (3, 3, 5, 4, 3, 0, False, 0.8, 0.9),    # a pixel a beat, no padding
    (3, 1, 6, 3, 5, 2, True, 0.9, 0.5),     # 5x5, padding 2 on a 3-wide image
    (2, 1, 4, 4, 1, 0, True, 0.7, 0.7),     # 1x1
    (1, 1, 11, 4, 3, 1, False, 0.9, 0.4),   # more rows than slots
    (8, 1, 4, 4, 3, 1, False, 1.0, 1.0),    # digits-ref's second conv
])
def test_narrow_windows_are_the_windows_lanes_at_a_time(c, lanes, h, w, k, p, is_signed,
                                                        p_valid, p_ready):
    bits = 5
    rng = np.random.default_rng(h * 100 + w * 10 + k + c)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if is_signed else (1, (1 << bits) - 1)
    images = [rng.integers(lo, hi + 1, size=(c, h, w)) for _ in range(3)]
    ins = [pack(img[g:g + lanes, y, x], bits) for img in images for y in range(h)
           for x in range(w) for g in range(0, c, lanes)]
    expected = [pack(win[t:t + lanes], bits) for img in images
                for win in expected_windows(img, k, p) for t in range(0, len(win), lanes)]
    dut = NarrowWindow(elem_shape(bits, is_signed), c, h, w, k, p, lanes)
    got = run_stream(dut, ins, len(expected), seed=k + h, p_valid=p_valid, p_ready=p_ready).outputs
    assert got == expected


def test_narrow_window_refuses_lanes_that_do_not_divide_the_channels():
    with pytest.raises(ValueError, match=r"^lanes must divide the 4 channels, got 3$"):
        NarrowWindow(elem_shape(8, False), 4, 4, 4, 3, 1, 3)
