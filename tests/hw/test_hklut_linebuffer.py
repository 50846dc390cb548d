"""LineWindow in Amaranth's simulator: reflect-mapped 5x5 windows, border flags, frames back to back."""

import numpy as np
import pytest

from edgeforge.hw.hklut.combine import pixel_layout
from edgeforge.hw.hklut.index import SIDE
from edgeforge.hw.hklut.linebuffer import LineWindow, reflect
from edgeforge.schemes.hklut import HKLUTConfig

from hklut_helpers import run_flat

PIXEL = pixel_layout(HKLUTConfig().widths())     # q 8 bits, rem 3 bits (D = 6)


def _expected(frame, i, j):
    h, w = frame.shape
    qs = [int(frame[reflect(i + dy, h), reflect(j + dx, w)]) & 255
          for dy in range(-2, 3) for dx in range(-2, 3)]
    flags = (i == 0) | (i == h - 1) << 1 | (j == 0) << 2 | (j == w - 1) << 3
    return qs, int(frame[i, j]) >> 8, flags


@pytest.mark.parametrize("width, height, frames, p_valid, p_ready", [
    (3, 3, 2, 1.0, 1.0),
    (5, 4, 2, 0.7, 0.6),
    (4, 11, 2, 0.9, 0.5),       # more rows than slots: slots are reused
    (8, 3, 3, 0.5, 0.9),
])
def test_windows_match_reflect_map(width, height, frames, p_valid, p_ready):
    rng = np.random.default_rng(width * 100 + height)
    # A pixel is rem << 8 | q (q in the low bits): the test reads both fields back.
    data = [rng.integers(0, 1 << 11, size=(height, width)) for _ in range(frames)]
    dut = LineWindow(PIXEL, width, height)
    outs, _, _ = run_flat(dut, [int(v) for f in data for v in f.ravel()], frames * width * height,
                          p_valid=p_valid, p_ready=p_ready, seed=width + height)
    k = 0
    for frame in data:
        for i in range(height):
            for j in range(width):
                v = outs[k]
                k += 1
                qs = [(v >> (8 * t)) & 255 for t in range(SIDE * SIDE)]
                rem, flags = (v >> 200) & 7, (v >> 203) & 15
                assert (qs, rem, flags) == _expected(frame, i, j), (i, j)


def test_row_costs_width_plus_four_steps():
    # No gaps, no backpressure: each row takes w + 4 read steps, rows back to back.
    width, height = 6, 5
    dut = LineWindow(PIXEL, width, height)
    _, first, last = run_flat(dut, list(range(2 * width * height)), 2 * width * height)
    assert last - first == 2 * height * (width + 4) - 4 - 1


@pytest.mark.parametrize("name, value", [("width", 2), ("height", 0), ("width", 4.0)])
def test_too_small_plane_is_refused(name, value):
    size = {"width": 4, "height": 4, name: value}
    with pytest.raises(ValueError, match=rf"^{name} must be an integer of at least 3, "
                                         rf"got {value!r}$"):
        LineWindow(PIXEL, **size)
