"""Requant in Amaranth's simulator: round half up and saturation at the extremes of the
accumulator width, signed and relu (unsigned) clips, shift 0, random backpressure."""

import numpy as np
import pytest

from edgeforge.hw.network.requant import Requant
from edgeforge.hw.network.vectors import elem_shape
from edgeforge.schemes.network import range_bits
from edgeforge.sim.amaranth_stream import run_stream

from network_helpers import pack, unpack
from edgeforge.sim.golden.network import requantise


@pytest.mark.parametrize("acc_bits, shift, clip", [
    (20, 6, (-128, 127)), (20, 6, (0, 255)), (12, 0, (-8, 7)), (12, 1, (0, 3)),
    (9, 3, (-128, 127)),      # the rounded value cannot reach the clip: no compare is emitted
    (16, 15, (-2, 1)), (10, 4, (0, 15))])
def test_requant_matches_golden_at_the_extremes(acc_bits, shift, clip):
    lanes = 3
    lo, hi = -(1 << (acc_bits - 1)), (1 << (acc_bits - 1)) - 1
    half = (1 << (shift - 1)) if shift else 0
    rng = np.random.default_rng(acc_bits + shift)
    # Extremes of the width, the rounding boundaries around 0 and the clip, random values.
    special = [lo, lo + 1, hi, hi - half, -1, 0, 1, half - 1, half, -half, -half - 1,
               (clip[1] << shift) - half - 1, (clip[1] << shift) - half,
               (clip[0] << shift) - half - 1, (clip[0] << shift) - half]
    values = [v for v in special if lo <= v <= hi - half] + list(rng.integers(lo, hi - half,
                                                                               size=40))
    values += [0] * (-len(values) % lanes)
    beats = np.array(values).reshape(-1, lanes)
    out_bits, out_signed = range_bits(*requant_bounds(acc_bits, shift, clip, lo, hi - half))
    dut = Requant(acc_bits, lanes, shift, clip, elem_shape(out_bits, out_signed))
    got = run_stream(dut, [pack(b, acc_bits) for b in beats], len(beats), seed=shift,
                        p_valid=0.8, p_ready=0.7).outputs
    flat = [v for word in got for v in unpack(word, out_bits, lanes, out_signed)]
    assert flat == list(requantise(beats.ravel(), shift, *clip))


def requant_bounds(acc_bits, shift, clip, lo, hi):
    """The output range of accumulators lo..hi (what the scheme derives)."""
    r = requantise(np.array([lo, hi]), shift, *clip)
    return int(r[0]), int(r[1])


def test_refuses_an_empty_clip():
    with pytest.raises(ValueError, match=r"^clip must be \(lo, hi\) with lo <= hi and shift >= 0, "
                                         r"got clip \(3, 2\) shift 1$"):
        Requant(8, 1, 1, (3, 2), elem_shape(8, True))
