"""LineWindow in Amaranth's simulator: reflect- or replicate-mapped 5x5 windows, border flags,
frames back to back, 1, 2 or 4 pixels a beat."""

import numpy as np
import pytest

from edgeforge.hw.hklut.combine import pixel_layout
from edgeforge.hw.line_window import SIDE, LineWindow, reflect
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.amaranth_stream import run_stream


PIXEL = pixel_layout(HKLUTConfig().widths())     # q 8 bits, rem 3 bits (D = 6)


def _replicate(x, n):
    return min(max(x, 0), n - 1)


def _expected(frame, i, j, border="reflect"):
    h, w = frame.shape
    mapped = reflect if border == "reflect" else _replicate
    qs = [int(frame[mapped(i + dy, h), mapped(j + dx, w)]) & 255
          for dy in range(-2, 3) for dx in range(-2, 3)]
    flags = (i == 0) | (i == h - 1) << 1 | (j == 0) << 2 | (j == w - 1) << 3
    return qs, int(frame[i, j]) >> 8, flags


PIXEL_BITS, WINDOW_BITS = 11, 207


def _words(frames, lanes, bits=PIXEL_BITS):
    """Input beats: ``lanes`` adjacent pixels, each ``rem << 8 | q``, leftmost lowest."""
    return [sum(int(v) << (bits * k) for k, v in enumerate(f.ravel()[n:n + lanes]))
            for f in frames for n in range(0, f.size, lanes)]


@pytest.mark.parametrize("width, height, lanes, frames, p_valid, p_ready", [
    (3, 3, 1, 2, 1.0, 1.0),
    (5, 4, 1, 2, 0.7, 0.6),
    (4, 11, 1, 2, 0.9, 0.5),    # more rows than slots: slots are reused
    (8, 3, 1, 3, 0.5, 0.9),
    (4, 3, 2, 2, 0.8, 0.7),     # reflected columns in the next / previous word
    (6, 4, 2, 2, 1.0, 1.0),
    (4, 4, 4, 2, 0.7, 0.8),     # one word a row: both borders in the anchor word
    (12, 5, 4, 2, 0.9, 0.6),
])
def test_windows_match_reflect_map(width, height, lanes, frames, p_valid, p_ready):
    _check_windows(width, height, lanes, frames, p_valid, p_ready, carries_rem=True)


@pytest.mark.parametrize("width, lanes", [(5, 1), (8, 2), (8, 4)])
def test_windows_without_rem_store_q_alone(width, lanes):
    # The first stage's 8-bit pixels: i takes q alone and every window's rem is 0.
    _check_windows(width, 4, lanes, 2, 0.8, 0.7, carries_rem=False)


@pytest.mark.parametrize("width, height, lanes", [(3, 3, 1), (5, 4, 1), (4, 11, 1), (4, 3, 2),
                                                  (4, 4, 4), (12, 5, 4)])
def test_windows_match_replicate_map(width, height, lanes):
    # The bicubic engine's border: a tap outside the plane reads the nearest edge pixel.
    _check_windows(width, height, lanes, 2, 0.8, 0.7, carries_rem=False, border="replicate")


def test_replicate_border_reads_fewer_rows_at_the_edges():
    from edgeforge.hw.line_window import rows_read
    # Rows 0 and h-1 reach 3 distinct rows (e.g. 0, 0, 0, 1, 2), rows 1 and h-2 reach 4;
    # a 3-row plane's rows all reach the 3 rows it has; 5 inside.
    assert [rows_read(y, 6, "replicate") for y in range(6)] == [3, 4, 5, 5, 4, 3]
    assert [rows_read(y, 3, "replicate") for y in range(3)] == [3, 3, 3]
    assert [rows_read(y, 4, "replicate") for y in range(4)] == [3, 4, 4, 3]


def test_unknown_border_is_refused():
    with pytest.raises(ValueError, match=r"^border must be one of \('reflect', 'replicate'\), "
                                         r"got 'wrap'$"):
        LineWindow(PIXEL, 4, 4, border="wrap")


def _check_windows(width, height, lanes, frames, p_valid, p_ready, *, carries_rem,
                   border="reflect"):
    rng = np.random.default_rng(width * 100 + height + lanes)
    # A pixel is rem << 8 | q (q in the low bits): the test reads both fields back.
    bits = PIXEL_BITS if carries_rem else 8
    data = [rng.integers(0, 1 << bits, size=(height, width)) for _ in range(frames)]
    dut = LineWindow(PIXEL, width, height, lanes, carries_rem=carries_rem, border=border)
    assert dut.i.payload.shape().size == bits * lanes
    outs = run_stream(dut, _words(data, lanes, bits), frames * width * height // lanes,
                      p_valid=p_valid, p_ready=p_ready, seed=width + height).outputs
    windows = [(beat >> (WINDOW_BITS * v)) & ((1 << WINDOW_BITS) - 1)
               for beat in outs for v in range(lanes)]
    k = 0
    for frame in data:
        for i in range(height):
            for j in range(width):
                v = windows[k]
                k += 1
                qs = [(v >> (8 * t)) & 255 for t in range(SIDE * SIDE)]
                rem, flags = (v >> 200) & 7, (v >> 203) & 15
                assert (qs, rem, flags) == _expected(frame, i, j, border), (i, j)


@pytest.mark.parametrize("lanes", [1, 2, 4])
def test_row_costs_its_words_and_nothing_more(lanes):
    # No gaps, no backpressure: a row takes w / lanes read steps, rows back to back (the
    # next row's reads overlap the last windows of this one).
    width, height = 8, 5
    dut = LineWindow(PIXEL, width, height, lanes)
    beats = 2 * width * height // lanes
    run = run_stream(dut, list(range(beats)), beats)
    assert run.last - run.first == beats - 1


@pytest.mark.parametrize("name, value", [("width", 2), ("height", 0), ("width", 4.0)])
def test_too_small_plane_is_refused(name, value):
    size = {"width": 4, "height": 4, name: value}
    with pytest.raises(ValueError, match=rf"^{name} must be an integer of at least 3, "
                                         rf"got {value!r}$"):
        LineWindow(PIXEL, **size)


@pytest.mark.parametrize("lanes, width, message", [
    (3, 6, r"^lanes must be one of \(1, 2, 4\), got 3$"),
    (4, 6, r"^lanes must divide the width of 6 pixels, got 4$"),
])
def test_lanes_it_cannot_build_are_refused(lanes, width, message):
    with pytest.raises(ValueError, match=message):
        LineWindow(PIXEL, width, 4, lanes)
