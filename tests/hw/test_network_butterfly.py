"""FactorStage and DebutCore in Amaranth's simulator: one factor stage equals its factor's dense
matrix (then shift, round half up, saturate; or plus bias when last) at every lane count from one
to all p s products, nonzeros and inputs at their extremes, with valid gaps and backpressure;
vectors follow every F cycles; ROM only when folded; bad lanes refused by name."""

import numpy as np
import pytest
from amaranth.back import rtlil

from edgeforge.hw.network.butterfly import DebutCore, FactorStage
from edgeforge.hw.network.mac import core_depth
from edgeforge.hw.network.vectors import elem_shape
from edgeforge.schemes.network import range_bits
from edgeforge.schemes.network_debut import Factor, chain_ranges, lane_counts
from edgeforge.sim.amaranth_stream import run_stream
from edgeforge.sim.golden.debut import chain_forward
from edgeforge.sim.golden.network import requantise

from network_helpers import pack, unpack


def run_stage(shape, lanes, shift=None, x_bits=8, x_signed=True, seed=0, p_valid=1.0,
              p_ready=1.0, vectors=5):
    f = Factor(*shape)
    rng = np.random.default_rng(seed)
    theta = rng.choice([-128, 127, 0, 1, -1], size=f.theta_shape)
    xlo, xhi = ((-(1 << (x_bits - 1)), (1 << (x_bits - 1)) - 1) if x_signed
                else (0, (1 << x_bits) - 1))
    xs = [np.full(f.q, xhi), np.full(f.q, xlo)] + [rng.choice([xlo, xhi], size=f.q)
                                                   for _ in range(vectors - 2)]
    dense = f.dense(theta).astype(np.int64)
    bias = None if shift is not None else rng.integers(-1000, 1000, size=f.p)
    accs = [dense @ x + (0 if bias is None else bias) for x in xs]
    acc_bits = range_bits(min(int(a.min()) for a in accs) - 2 ** 20,
                          max(int(a.max()) for a in accs) + 2 ** 20)[0]
    if shift is None:
        out_bits, clip, expected = acc_bits, None, accs
    else:
        out_bits, clip = 6, (-32, 31)
        expected = [requantise(a, shift, *clip) for a in accs]
    dut = FactorStage(f, theta, elem_shape(x_bits, x_signed), lanes, 8, acc_bits,
                      elem_shape(out_bits, True), shift, clip, bias)
    run = run_stream(dut, [pack(x, x_bits) for x in xs], len(xs), seed=seed, p_valid=p_valid,
                     p_ready=p_ready)
    got = [unpack(word, out_bits, f.p) for word in run.outputs]
    assert got == [[int(v) for v in e] for e in expected]
    return dut, run.last


@pytest.mark.parametrize("shape, shift, p_valid, p_ready", [
    ((8, 12, 2, 3, 2), 9, 0.7, 0.6),        # requantised: saturates at the extremes
    ((8, 12, 2, 3, 2), None, 0.8, 0.5),     # last factor: plus bias
    ((6, 4, 3, 2, 1), 0, 1.0, 1.0),
    ((12, 9, 4, 3, 1), None, 0.9, 0.7),     # bulging
    ((10, 10, 2, 2, 5), 4, 0.6, 0.9),       # non-power-of-two
])
def test_every_lane_count_equals_the_dense_matrix(shape, shift, p_valid, p_ready):
    for lanes in lane_counts(Factor(*shape)):
        run_stage(shape, lanes, shift, seed=lanes, p_valid=p_valid, p_ready=p_ready)


def test_unsigned_inputs_and_rounding_half_up():
    run_stage((8, 8, 2, 2, 2), 2, shift=1, x_signed=False, seed=3)


def test_vectors_follow_every_fold_count_cycles():
    f = Factor(8, 12, 2, 3, 2)
    for lanes in (1, 3, 24):
        folds = f.params // lanes
        _, last = run_stage(f.as_tuple(), lanes, shift=None, vectors=5)
        assert last - 1 == 5 * folds + core_depth(folds)


def test_nonzeros_sit_in_a_block_rom_unless_fully_parallel():
    f = Factor(8, 12, 2, 3, 2)
    theta = np.ones(f.theta_shape, int)

    def stage(lanes):
        return rtlil.convert(FactorStage(f, theta, elem_shape(8, False), lanes, 8, 20,
                                         elem_shape(8, True), 4, (-128, 127)))
    assert 'attribute \\rom_style "block"' in stage(3)
    assert "rom_style" not in stage(24)


def test_bad_lanes_are_refused():
    f = Factor(8, 12, 2, 3, 2)
    with pytest.raises(ValueError, match=r"^FactorStage: MAC lanes must be one of \[1, 3, 6, "
                                         r"12, 24\] for factor \(8, 12, 2, 3, 2\), got 2$"):
        FactorStage(f, np.ones(f.theta_shape, int), elem_shape(8, False), 2, 8, 20,
                    elem_shape(8, True), 4, (-128, 127))


def test_core_chains_the_stages_with_padding_and_permuted_inputs():
    factors = [Factor(12, 9, 4, 3, 1), Factor(8, 12, 2, 3, 4)]
    rng = np.random.default_rng(4)
    thetas = [rng.choice([-128, 127, 3, -5], size=f.theta_shape) for f in factors]
    bias = rng.integers(-500, 500, size=7)
    order = np.array([3, 0, 7, 1, 6, 2, 5, 4])            # stream element j -> chain input
    ranges = chain_ranges(factors, thetas, bias, [6], 8, 8, 0, 255)
    dut = DebutCore(factors, thetas, bias, elem_shape(8, False), 8, order, ranges, 8, [6], 8,
                    [3, 6])
    xs = [rng.integers(0, 256, size=8) for _ in range(4)] + [np.full(8, 255)]
    chain_in = [np.zeros(8, np.int64) for _ in xs]
    for x, v in zip(xs, chain_in):
        v[order] = x
    expected = chain_forward(factors, thetas, bias, [6], 8, np.array(chain_in))
    run = run_stream(dut, [pack(x, 8) for x in xs], len(xs), seed=1, p_valid=0.7, p_ready=0.6)
    assert [unpack(w, ranges[-1].acc_bits, 7) for w in run.outputs] == expected.tolist()
