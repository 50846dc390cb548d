"""Rotation and index generation of the HKLUT engine vs the golden readout (no simulator)."""

import numpy as np
import pytest

from edgeforge.hw.hklut.index import turn_block, turn_tap, window_taps
from edgeforge.hw.line_window import RADIUS, reflect
from edgeforge.schemes.hklut import HKLUTConfig, Kernel
from edgeforge.sim.golden.hklut import stage_sums

from hklut_helpers import random_tables


def _clamp(x, n):
    return min(max(x, 0), n - 1)


def _per_pixel_sums(tables, config, stage, q):
    """S_msb, S_lsb from the engine's view: turned taps on border-mapped coordinates."""
    h, w = q.shape
    r = config.stages[stage]
    sums = {}
    for branch in ("msb", "lsb"):
        border = reflect if config.padding(branch) == "reflect" else _clamp
        out = np.zeros((h * r, w * r), np.int64)
        for kernel in config.kernels(branch):
            table = tables[f"s{stage}_{branch}_{kernel.name}"]
            for rot in range(4):
                taps = window_taps(kernel, rot)
                for i in range(h):
                    for j in range(w):
                        index = 0
                        for dy, dx in taps:
                            v = int(q[border(i + dy, h), border(j + dx, w)])
                            index = index * 16 + (v >> 4 if branch == "msb" else v & 15)
                        for ey in range(r):
                            for ex in range(r):
                                ay, ax = turn_block(rot, ey, ex, r)
                                out[r * i + ay, r * j + ax] += int(table[index, ey, ex])
        sums[branch] = out
    return sums["msb"], sums["lsb"]


@pytest.mark.parametrize("config, size", [
    (HKLUTConfig(), (4, 5)),
    (HKLUTConfig(stages=(3,), msb_kernels="hd", lsb_kernels="hdb"), (3, 3)),
    (HKLUTConfig(stages=(1,)), (5, 3)),
])
def test_turned_taps_and_blocks_match_golden(config, size):
    tables = random_tables(config, seed=3)
    q = np.random.default_rng(4).integers(0, 256, size=size).astype(np.uint8)
    s_msb, s_lsb = stage_sums(tables, config, 0, q)
    mine_msb, mine_lsb = _per_pixel_sums(tables, config, 0, q)
    np.testing.assert_array_equal(mine_msb, s_msb)
    np.testing.assert_array_equal(mine_lsb, s_lsb)


def test_quarter_turn_is_counter_clockwise():
    # numpy.rot90 turns counter-clockwise: a tap to the right reads the pixel above.
    assert turn_tap(1, 0, 1) == (1, 0)
    assert turn_tap(1, 1, 0) == (0, -1)
    assert turn_tap(4, 1, 2) == (1, 2)
    assert turn_block(1, 0, 0, 2) == (0, 1)
    assert [turn_block(rot, 0, 1, 3) for rot in range(4)] == [(0, 1), (1, 2), (2, 1), (1, 0)]


def test_taps_stay_in_window():
    for kernels in ("hdb", "hd"):
        for kernel in HKLUTConfig(msb_kernels=kernels).kernels("msb"):
            for rot in range(4):
                assert all(max(abs(dy), abs(dx)) <= RADIUS for dy, dx in window_taps(kernel, rot))


def test_tap_beyond_window_is_refused():
    with pytest.raises(ValueError, match=r"^kernel 'x' reaches beyond the 5x5 window, "
                                         r"got tap \(0, 3\)$"):
        window_taps(Kernel("x", ((0, 0), (0, 3))), 0)


def test_index_generator_reads_turned_taps_with_border_flags():
    # The Amaranth index expressions, on random windows with every border combination.
    from amaranth import Module, Signal
    from amaranth.sim import Simulator

    from edgeforge.hw.hklut.combine import pixel_layout
    from edgeforge.hw.hklut.index import kernel_index
    from edgeforge.hw.line_window import SIDE, tap_index, window_layout

    config = HKLUTConfig()
    window = Signal(window_layout(pixel_layout(config.widths())))
    exprs = {}
    m = Module()
    for branch in ("msb", "lsb"):
        for kernel in config.kernels(branch):
            for rot in range(4):
                sig = Signal(4 * kernel.pixels, name=f"{branch}_{kernel.name}_{rot}")
                m.d.comb += sig.eq(kernel_index(window, kernel, rot, branch,
                                                config.padding(branch)))
                exprs[(branch, kernel, rot)] = sig
    rng = np.random.default_rng(5)

    def expected(qs, flags, branch, kernel, rot):
        top, bottom, left, right = flags
        index = 0
        for dy, dx in window_taps(kernel, rot):
            if config.padding(branch) == "replicate":
                dy = 0 if (dy < 0 and top) or (dy > 0 and bottom) else dy
                dx = 0 if (dx < 0 and left) or (dx > 0 and right) else dx
            v = qs[tap_index(dy, dx)]
            index = index * 16 + (v >> 4 if branch == "msb" else v & 15)
        return index

    async def bench(ctx):
        for trial in range(16):
            qs = [int(v) for v in rng.integers(0, 256, size=SIDE * SIDE)]
            flags = [(trial >> b) & 1 for b in range(4)]
            ctx.set(window, {"q": qs, "rem": 0, "top": flags[0], "bottom": flags[1],
                             "left": flags[2], "right": flags[3]})
            for (branch, kernel, rot), sig in exprs.items():
                assert ctx.get(sig) == expected(qs, flags, branch, kernel, rot), \
                    (trial, branch, kernel.name, rot)

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
