"""MaxPool and ArgMax in Amaranth's simulator: max of every window (signed and unsigned, images
back to back), arg-max with every tie pattern of small vectors, lowest index first; their narrow
forms (NarrowPool, NarrowArgMax) on streams of a few lanes a beat."""

import itertools

import numpy as np
import pytest

from edgeforge.hw.network.argmax import ArgMax, NarrowArgMax, class_bits, output_layout
from edgeforge.hw.network.pool import MaxPool, NarrowPool
from edgeforge.hw.network.vectors import elem_shape
from edgeforge.sim.amaranth_stream import run_stream

from network_helpers import pack, unpack
from edgeforge.sim.golden.network import argmax, maxpool


@pytest.mark.parametrize("c, h, w, size, is_signed, p_valid, p_ready", [
    (1, 2, 2, 2, False, 1.0, 1.0), (3, 4, 6, 2, True, 0.7, 0.6), (2, 6, 3, 3, True, 0.8, 0.8),
    (1, 4, 8, 4, False, 0.9, 0.5), (8, 8, 8, 2, False, 1.0, 1.0)])
def test_pool_takes_the_max_of_every_window(c, h, w, size, is_signed, p_valid, p_ready):
    bits = 6
    rng = np.random.default_rng(c * h * w)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if is_signed else (0, (1 << bits) - 1)
    images = rng.integers(lo, hi + 1, size=(3, c, h, w))
    images[0] = lo                                       # all at one extreme, then the other
    images[1] = hi
    ins = [pack(img[:, y, x], bits) for img in images for y in range(h) for x in range(w)]
    pooled = maxpool(images, size)
    expected = [list(p[:, y, x]) for p in pooled for y in range(h // size)
                for x in range(w // size)]
    dut = MaxPool(elem_shape(bits, is_signed), c, w, size)
    got = run_stream(dut, ins, len(expected), seed=size, p_valid=p_valid, p_ready=p_ready).outputs
    assert [unpack(g, bits, c, is_signed) for g in got] == expected


def test_pool_refuses_a_size_that_does_not_divide():
    with pytest.raises(ValueError, match=r"^size must be at least 2 and divide the width of 5, "
                                         r"got 2$"):
        MaxPool(elem_shape(8, False), 1, 5, 2)


@pytest.mark.parametrize("n, levels, is_signed", [
    (4, (-1, 0, 1), True),         # all 81 patterns of three levels
    (5, (0, 1), False),            # a non-power-of-two tree, all 32 patterns
    (3, (-128, 127, -127), True),  # the int8 extremes
    (1, (0, 7), False)])
def test_argmax_every_tie_pattern(n, levels, is_signed):
    bits = 8 if is_signed else 3
    patterns = [list(p) for p in itertools.product(levels, repeat=n)]
    logit_bits = 8 if is_signed else 4
    dut = ArgMax(elem_shape(bits, is_signed), n, logit_bits)
    got = run_stream(dut, [pack(p, bits) for p in patterns], len(patterns), seed=n,
                        p_valid=0.8, p_ready=0.7).outputs
    cb = class_bits(n)
    assert output_layout(n, logit_bits).size == cb + n * logit_bits
    assert [g & ((1 << cb) - 1) for g in got] == list(argmax(np.array(patterns)))
    assert [unpack(g >> cb, logit_bits, n, True) for g in got] == patterns


def test_argmax_class_alone():
    dut = ArgMax(elem_shape(4, True), 10, None)
    patterns = [[3] * 10, [0] * 9 + [7], [-8] * 5 + [-7] + [-8] * 4]
    got = run_stream(dut, [pack(p, 4) for p in patterns], 3).outputs
    assert got == [0, 9, 5] and dut.o.payload.shape().width == 4


@pytest.mark.parametrize("c, lanes, h, w, size, is_signed, p_valid, p_ready", [
    (1, 1, 2, 2, 2, False, 1.0, 1.0),    # one window: one word, every beat reads the last one
    (3, 1, 4, 6, 2, True, 0.7, 0.6),
    (4, 2, 6, 3, 3, True, 0.8, 0.8),
    (1, 1, 4, 8, 4, False, 0.9, 0.5),
    (8, 1, 8, 8, 2, False, 1.0, 1.0),    # digits-ref's first pool, a channel a beat
    (8, 4, 4, 4, 2, False, 0.6, 0.4)])
def test_narrow_pool_takes_the_max_of_every_window(c, lanes, h, w, size, is_signed, p_valid,
                                                   p_ready):
    bits = 6
    rng = np.random.default_rng(c * h * w + lanes)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if is_signed else (0, (1 << bits) - 1)
    images = rng.integers(lo, hi + 1, size=(3, c, h, w))
    images[0] = lo
    images[1] = hi
    ins = [pack(img[g:g + lanes, y, x], bits) for img in images for y in range(h)
           for x in range(w) for g in range(0, c, lanes)]
    pooled = maxpool(images, size)
    expected = [list(p[g:g + lanes, y, x]) for p in pooled for y in range(h // size)
                for x in range(w // size) for g in range(0, c, lanes)]
    dut = NarrowPool(elem_shape(bits, is_signed), c, w, size, lanes)
    got = run_stream(dut, ins, len(expected), seed=size, p_valid=p_valid, p_ready=p_ready).outputs
    assert [unpack(g, bits, lanes, is_signed) for g in got] == expected


@pytest.mark.parametrize("n, lanes, levels, is_signed", [
    (4, 1, (-1, 0, 1), True),         # all 81 patterns of three levels, a logit a beat
    (4, 2, (-1, 0, 1), True),
    (6, 3, (0, 1), False),
    (3, 1, (-128, 127, -127), True),  # the int8 extremes
    (1, 1, (0, 7), False)])
def test_narrow_argmax_every_tie_pattern(n, lanes, levels, is_signed):
    bits = 8 if is_signed else 3
    patterns = [list(p) for p in itertools.product(levels, repeat=n)]
    dut = NarrowArgMax(elem_shape(bits, is_signed), n, lanes)
    ins = [pack(p[b:b + lanes], bits) for p in patterns for b in range(0, n, lanes)]
    got = run_stream(dut, ins, len(patterns), seed=n, p_valid=0.8, p_ready=0.7).outputs
    assert got == list(argmax(np.array(patterns)))
    assert dut.o.payload.shape().width == class_bits(n)
