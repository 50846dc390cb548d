"""BlockReorder in Amaranth's simulator: blocks in, raster rows out, 1 to 4 blocks a beat."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from edgeforge.hw.hklut.combine import pixel_layout
from edgeforge.hw.block_reorder import BlockReorder
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.amaranth_stream import run_stream


PIXEL = pixel_layout(HKLUTConfig().widths())     # 11 bits: q | rem << 8
PX_BITS = 11


@pytest.mark.parametrize("r, width, lanes, blocks, rows, p_valid, p_ready", [
    (2, 3, 1, 1, 3, 1.0, 1.0),
    (2, 4, 2, 1, 2, 0.6, 0.7),
    (2, 6, 4, 1, 3, 0.8, 0.5),      # lanes > r: a beat spans two blocks
    (3, 3, 1, 1, 2, 0.7, 0.7),
    (4, 3, 4, 1, 2, 1.0, 0.6),
    (1, 4, 2, 1, 3, 0.9, 0.9),
    (2, 4, 4, 2, 2, 0.7, 0.8),      # two blocks a beat in
    (2, 8, 16, 4, 2, 0.8, 0.6),     # the full-rate last stage: 4 blocks in, 16 pixels out
    (2, 6, 2, 2, 3, 1.0, 1.0),      # fewer pixels out a beat than in
])
def test_blocks_come_out_in_raster_order(r, width, lanes, blocks, rows, p_valid, p_ready):
    rng = np.random.default_rng(r * 10 + lanes)
    image = rng.integers(0, 1 << PX_BITS, size=(rows * r, width * r))
    block_bits = PX_BITS * r * r
    beats = []
    for i in range(rows):
        for j0 in range(0, width, blocks):
            beat = 0
            for b, j in enumerate(range(j0, j0 + blocks)):
                block = image[i * r:(i + 1) * r, j * r:(j + 1) * r].ravel()
                beat |= sum(int(v) << (PX_BITS * e) for e, v in enumerate(block)) << (block_bits * b)
            beats.append(beat)
    dut = BlockReorder(PIXEL, r, width, lanes, blocks)
    outs = run_stream(dut, beats, image.size // lanes, p_valid=p_valid, p_ready=p_ready,
                      seed=r + lanes).outputs
    got = [(v >> (PX_BITS * k)) & ((1 << PX_BITS) - 1) for v in outs for k in range(lanes)]
    assert got == [int(v) for v in image.ravel()]


def test_reorder_keeps_up_one_beat_per_cycle():
    # Two block rows written back to back; reading the first overlaps writing the second.
    r, width, lanes = 2, 8, 2
    dut = BlockReorder(PIXEL, r, width, lanes)
    n_out = 2 * r * r * width // lanes
    run = run_stream(dut, list(range(2 * width)), n_out)
    assert run.last - run.first == n_out - 1


def test_reorder_refuses_lanes_not_dividing_row():
    with pytest.raises(ValueError, match=r"^lanes must divide the output row of 6 pixels, got 4$"):
        BlockReorder(PIXEL, 2, 3, 4)


def test_reorder_refuses_blocks_not_dividing_row():
    with pytest.raises(ValueError, match=r"^blocks must divide the width of 6 blocks, got 4$"):
        BlockReorder(PIXEL, 2, 6, 4, 4)
