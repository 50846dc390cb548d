"""The PECAN-D CAM core in Amaranth's simulator: the L1 match unit, the arg-min tree on every
tie pattern of small cases (exhaustively), and the whole core at every folding from one match
unit to all of them, with tied prototypes, values at the extremes and backpressure."""

import itertools

import numpy as np
import pytest
from amaranth import signed, unsigned
from amaranth.back import rtlil

from edgeforge.hw.network.cam import ArgMin, CamCore, MatchUnit
from edgeforge.hw.network.vectors import elem_shape
from edgeforge.schemes.network import codebook_type, range_bits
from edgeforge.sim.amaranth_stream import run_stream
from edgeforge.sim.golden.pecan_d import match

from network_helpers import pack
from pecan_helpers import check_core_stream


@pytest.mark.parametrize("x_shape, c_shape, d", [(unsigned(8), unsigned(8), 3),
                                                 (signed(4), signed(5), 4),
                                                 (unsigned(3), signed(3), 1)])
def test_match_unit_is_the_l1_distance(x_shape, c_shape, d):
    rng = np.random.default_rng(d)

    def span(s):
        return (-(1 << (s.width - 1)), (1 << (s.width - 1)) - 1) if s.signed else (
            0, (1 << s.width) - 1)
    (xlo, xhi), (clo, chi) = span(x_shape), span(c_shape)
    pairs = [(np.full(d, xlo), np.full(d, chi)), (np.full(d, xhi), np.full(d, clo))] + [
        (rng.choice([xlo, xhi, 0], size=d), rng.choice([clo, chi, 0], size=d))
        for _ in range(30)]
    dist_bits = range_bits(0, d * max(xhi - clo, chi - xlo))[0]
    dut = MatchUnit(x_shape, c_shape, d, dist_bits)
    words = [pack(x, x_shape.width) | (pack(c, c_shape.width) << (x_shape.width * d))
             for x, c in pairs]
    run = run_stream(dut, words, len(words), p_valid=0.7, p_ready=0.6, seed=d)
    assert run.outputs == [int(np.abs(x - c).sum()) for x, c in pairs]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_argmin_tree_on_every_tie_pattern(n):
    # Values in 0..2 give every pattern of ties among n inputs (3**n cases), the minimum
    # shared by any subset of positions.
    cases = list(itertools.product(range(3), repeat=n))
    dut = ArgMin(2, n)
    run = run_stream(dut, [pack(c, 2) for c in cases], len(cases), p_valid=0.8, p_ready=0.7)
    ib = dut.index_bits
    got = [(w & ((1 << ib) - 1), w >> ib) for w in run.outputs]
    assert got == [(c.index(min(c)), min(c)) for c in cases]


def cam_case(groups=4, protos=6, d=3, outputs=5, x_signed=False, seed=0):
    """A core's arrays with ties (prototype copies) and values at the input's extremes."""
    rng = np.random.default_rng(seed)
    lo, hi = (-128, 127) if x_signed else (0, 255)
    codebook = rng.choice([lo, hi, 0, 1, hi // 2], size=(groups, protos, d))
    codebook[:, protos - 1] = codebook[:, 0]             # the last copies the first: a tie
    table = rng.choice([-128, 127, 0, 5, -7], size=(groups, outputs, protos))
    bias = rng.integers(-1000, 1000, size=outputs)
    xs = [np.full(groups * d, lo), np.full(groups * d, hi)] + [
        rng.choice([lo, hi, 0, hi // 2], size=groups * d) for _ in range(6)]
    xs.append(codebook[:, 0].ravel())                     # exactly on the tied prototypes
    return codebook, table, bias, xs, (lo, hi)


def run_cam(gpc, ppc, *, x_signed=False, seed=0, p_valid=1.0, p_ready=1.0, **case):
    codebook, table, bias, xs, (lo, hi) = cam_case(x_signed=x_signed, seed=seed, **case)
    groups, protos, d = codebook.shape
    accs = [bias + table[np.arange(groups), :, match(x, codebook)].sum(axis=0) for x in xs]
    acc_bits = range_bits(min(int(a.min()) for a in accs) - 2 ** 12,
                          max(int(a.max()) for a in accs) + 2 ** 12)[0]
    cb = codebook.astype(np.int64)
    dist_bits = range_bits(0, int(np.maximum(cb - lo, hi - cb).sum(axis=2).max()))[0]
    x_shape = elem_shape(8, x_signed)
    dut = CamCore(codebook, table, bias, np.arange(groups * d), x_shape, 8, acc_bits, dist_bits,
                  gpc, ppc)
    run = check_core_stream(dut, xs, acc_bits, [[int(v) for v in a] for a in accs], seed=seed,
                            p_valid=p_valid, p_ready=p_ready)
    return run.last, dut, len(xs)


@pytest.mark.parametrize("gpc", [1, 2, 4])
@pytest.mark.parametrize("ppc", [1, 2, 3, 6])
def test_core_at_every_folding(gpc, ppc):
    run_cam(gpc, ppc, x_signed=(gpc + ppc) % 2 == 1, seed=gpc * 7 + ppc, p_valid=0.8,
            p_ready=0.7)


def test_one_group_one_prototype_and_odd_sizes():
    run_cam(1, 1, groups=1, protos=1, d=1, outputs=1)
    run_cam(3, 5, groups=3, protos=5, d=2, outputs=3, seed=2, p_ready=0.5)


def test_vectors_follow_every_fold_count_cycles():
    # Without pauses the last beat of the n-th vector (taken at (n - 1) F) leaves at n F + depth.
    for gpc, ppc in ((1, 1), (2, 3), (4, 6)):
        last, dut, n = run_cam(gpc, ppc)
        assert last - 1 == n * dut.folds + CamCore.depth({"folds": dut.folds})


def test_codebook_sits_in_a_rom_unless_fully_parallel_and_tables_always():
    codebook, table, bias, _, _ = cam_case()
    folded = rtlil.convert(CamCore(codebook, table, bias, np.arange(12), unsigned(8), 8, 16, 10,
                                   2, 3))
    parallel = rtlil.convert(CamCore(codebook, table, bias, np.arange(12), unsigned(8), 8, 16, 10,
                                     4, 6))
    assert folded.count('attribute \\rom_style "block"') == 1 + 2      # codebook + 2 lanes
    assert parallel.count('attribute \\rom_style "block"') == 4        # a table per group


@pytest.mark.parametrize("gpc, ppc, message", [
    (3, 1, r"^CamCore: groups per cycle must divide its 4 groups, got 3$"),
    (1, 4, r"^CamCore: prototypes per cycle must divide its 6 prototypes, got 4$"),
    (0, 1, r"^CamCore: groups per cycle must divide its 4 groups, got 0$"),
])
def test_folding_must_divide(gpc, ppc, message):
    codebook, table, bias, _, _ = cam_case()
    with pytest.raises(ValueError, match=message):
        CamCore(codebook, table, bias, np.arange(12), unsigned(8), 8, 16, 10, gpc, ppc)


def test_codebook_type_is_that_of_its_values():
    assert codebook_type(np.array([0, 255])) == (8, False)
    assert codebook_type(np.array([-3, 2])) == (3, True)
