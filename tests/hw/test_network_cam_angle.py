"""The PECAN-A core in Amaranth's simulator: the exp lookup over its whole input range (every
difference to the maximum, with and without saturation), the whole core on every input value
of a one-value group (the softmax's whole input range through the core: every Z the inputs
reach), and the core at every folding from one match unit to all of them, with ties in the
max, values at the extremes and backpressure; widths from the transform's derivation."""

import numpy as np
import pytest
from amaranth.back import rtlil

from edgeforge.hw.network.cam_angle import AngleCore, ExpLookup
from edgeforge.hw.network.vectors import elem_shape
from edgeforge.schemes.network import TRANSFORMS, Layer, range_bits, softmax_tables
from edgeforge.sim.amaranth_stream import run_stream
from edgeforge.sim.golden.pecan_a import softmax_sum

from network_helpers import unpack
from pecan_helpers import check_core_stream


@pytest.mark.parametrize("entries, shift, diff_bits", [(32, 0, 6), (32, 3, 9), (20, 2, 7),
                                                       (1, 0, 4), (5, 9, 8), (7, 0, 2)])
def test_exp_lookup_over_its_whole_input_range(entries, shift, diff_bits):
    exp, _ = softmax_tables({"exp_bits": 8, "exp_entries": entries, "prototypes": 1,
                             "recip_bits": 8, "recip_shift": 0}, 6 / entries)
    diffs = list(range(1 << diff_bits))
    run = run_stream(ExpLookup(exp, shift, diff_bits), diffs, len(diffs), p_valid=0.8,
                     p_ready=0.7, seed=entries)
    assert run.outputs == [int(exp[min(v >> shift, entries - 1)]) for v in diffs]


FIELDS = {"codebook_bits": 8, "table_bits": 8, "exp_bits": 6, "exp_entries": 20,
          "exp_shift": 3, "recip_bits": 10, "recip_shift": 1}


def angle_case(groups=4, protos=6, d=3, outputs=5, x_signed=False, seed=0, offsets=False,
               **fields):
    """A core's arrays and fields with ties in the max (the last prototype copies the first)
    and values at the extremes, and its widths derived by the transform; with ``offsets``
    the option ``prototype_offsets``: the exporter's ``-|c|**2 / 2`` on the inputs' grid,
    and random ones as large as the dot products."""
    rng = np.random.default_rng(seed)
    f = {**FIELDS, **fields, "groups": groups, "group_size": d, "prototypes": protos,
         "bias_bits": 16}
    lo, hi = (-128, 127) if x_signed else (0, 255)
    cmax = 1 << (f["codebook_bits"] - 1)
    codebook = rng.choice([-cmax, cmax - 1, 0, 1, -3], size=(groups, protos, d))
    codebook[:, protos - 1] = codebook[:, 0]
    exp, recip = softmax_tables(f, 4.0 / f["exp_entries"])
    arrays = {"l0_codebook": codebook,
              "l0_table": rng.choice([-128, 127, 0, 5, -7], size=(groups, outputs, protos)),
              "l0_bias": rng.integers(-1000, 1000, size=outputs), "l0_exp": exp,
              "l0_recip": recip}
    if offsets:
        f["prototype_offsets"] = True
        norms = -((codebook * codebook).sum(axis=2) >> 1)
        arrays["l0_offset"] = np.where(rng.random((groups, protos)) < 0.5, norms,
                                       rng.integers(-hi * cmax * d, hi * cmax * d,
                                                    size=(groups, protos)))
    layer = Layer(0, "linear", {**f, "transform": "pecan-a", "in_features": groups * d,
                                "out_features": outputs, "shift": 0, "out_bits": 8},
                  (groups * d,), (outputs,))
    acc, widths = TRANSFORMS["pecan-a"].acc_range(layer, arrays, lo, hi)
    acc_bits = signed_bits(*acc)
    xs = [np.full(groups * d, lo), np.full(groups * d, hi)] + [
        rng.choice([lo, hi, 0, hi // 2], size=groups * d) for _ in range(6)]
    xs.append(codebook[:, 0].ravel() if x_signed else np.abs(codebook[:, 0]).ravel())
    return arrays, f, widths, acc_bits, xs, elem_shape(8, x_signed)


def signed_bits(lo, hi):
    return range_bits(min(lo, -1), hi)[0]


def build(arrays, f, widths, acc_bits, x_shape, gpc, ppc):
    n = f["groups"] * f["group_size"]
    return AngleCore(arrays["l0_codebook"], arrays["l0_table"], arrays["l0_bias"],
                     arrays["l0_exp"], arrays["l0_recip"], np.arange(n), x_shape, acc_bits,
                     widths, gpc, ppc, **{k: f[k] for k in ("codebook_bits", "table_bits",
                                                           "exp_shift", "recip_bits",
                                                           "recip_shift")},
                     offsets=arrays.get("l0_offset"))


def golden(arrays, f, xs):
    sums = softmax_sum(np.asarray(xs, np.int64), arrays["l0_codebook"], arrays["l0_table"],
                       arrays["l0_exp"], arrays["l0_recip"], exp_shift=f["exp_shift"],
                       recip_shift=f["recip_shift"], recip_bits=f["recip_bits"],
                       offset=arrays.get("l0_offset"))
    return (sums.sum(axis=-2) + arrays["l0_bias"]).tolist()


def run_core(gpc, ppc, *, seed=0, p_valid=1.0, p_ready=1.0, xs=None, **case):
    arrays, f, widths, acc_bits, case_xs, x_shape = angle_case(seed=seed, **case)
    xs = case_xs if xs is None else xs
    dut = build(arrays, f, widths, acc_bits, x_shape, gpc, ppc)
    run = check_core_stream(dut, xs, acc_bits, golden(arrays, f, xs), seed=seed, p_valid=p_valid,
                            p_ready=p_ready)
    return run.last, dut, len(xs)


@pytest.mark.parametrize("gpc", [1, 2, 4])
@pytest.mark.parametrize("ppc", [1, 2, 3, 6])
def test_core_at_every_folding(gpc, ppc):
    run_core(gpc, ppc, x_signed=(gpc + ppc) % 2 == 1, seed=gpc * 7 + ppc, p_valid=0.8,
             p_ready=0.7)


@pytest.mark.parametrize("gpc, ppc", [(1, 1), (2, 3), (4, 6)])
def test_core_with_prototype_offsets(gpc, ppc):
    # Constants of the netlist (fully parallel) or a ROM beside the codebook's (folded).
    arrays, f, *_ , xs, _ = angle_case(offsets=True, seed=5)
    assert f["prototype_offsets"] and arrays["l0_offset"].shape == (4, 6)
    # The offsets change the sums (else this would test nothing of them).
    assert golden(arrays, f, xs) != golden({k: v for k, v in arrays.items()
                                            if k != "l0_offset"}, f, xs)
    run_core(gpc, ppc, offsets=True, seed=5, p_valid=0.8, p_ready=0.7)


def test_one_group_one_prototype_and_odd_sizes():
    run_core(1, 1, groups=1, protos=1, d=1, outputs=1, exp_entries=1)
    run_core(3, 5, groups=3, protos=5, d=2, outputs=3, seed=2, p_ready=0.5, recip_shift=0,
             exp_shift=0)


@pytest.mark.parametrize("gpc, ppc", [(1, 2), (1, 4)])
def test_softmax_over_every_input_through_the_core(gpc, ppc):
    # One value a group: every input 0..255 gives dot products 127 x, -128 x, 0 and x (with
    # a tie at the top for x = 0); the differences to the maximum run over the whole exp
    # table and past it (saturation), and Z from 4 EXP[0] down to about EXP[0].
    xs = [np.array([v]) for v in range(256)]
    codebook_row = [[127], [-128], [0], [1]]
    arrays, f, widths, acc_bits, _, x_shape = angle_case(groups=1, protos=4, d=1, outputs=2,
                                                         exp_shift=4, exp_entries=40)
    arrays["l0_codebook"] = np.array([codebook_row])
    acc, widths = TRANSFORMS["pecan-a"].acc_range(
        Layer(0, "linear", {**f, "transform": "pecan-a", "in_features": 1, "out_features": 2,
                            "shift": 0, "out_bits": 8}, (1,), (2,)), arrays, 0, 255)
    acc_bits = signed_bits(*acc)
    dut = build(arrays, f, widths, acc_bits, x_shape, gpc, ppc)
    run = run_stream(dut, [int(x[0]) for x in xs], len(xs), p_valid=0.9, p_ready=0.8)
    assert [unpack(w, acc_bits, 2) for w in run.outputs] == golden(arrays, f, xs)
    # The inputs reached both ends of the table: index 0 for all four (x = 0) and the
    # saturated last entry (x = 255: 255 x 255 >> 4 > 40).
    assert (255 * 255) >> f["exp_shift"] > f["exp_entries"]


def test_vectors_follow_every_fold_count_cycles():
    # Without pauses the n-th vector (taken at (n - 1) F) leaves at n F + depth.
    for gpc, ppc in ((1, 1), (2, 3), (4, 6), (1, 6), (4, 1)):
        last, dut, n = run_core(gpc, ppc)
        assert last - 1 == n * dut.folds + AngleCore.depth({"folds": dut.folds, "pf": dut.pf})


def test_roms_codebook_unless_fully_parallel_tables_and_reciprocal():
    arrays, f, widths, acc_bits, _, x_shape = angle_case()
    folded = rtlil.convert(build(arrays, f, widths, acc_bits, x_shape, 2, 3))
    parallel = rtlil.convert(build(arrays, f, widths, acc_bits, x_shape, 4, 6))
    # Codebook + 2 table lanes + the reciprocal (2 lanes: one dual-port copy).
    assert folded.count('attribute \\rom_style "block"') == 1 + 2 + 1
    assert parallel.count('attribute \\rom_style "block"') == 4 + 2      # 4 lanes: 2 copies


@pytest.mark.parametrize("gpc, ppc, message", [
    (3, 1, r"^AngleCore: groups per cycle must divide its 4 groups, got 3$"),
    (1, 4, r"^AngleCore: prototypes per cycle must divide its 6 prototypes, got 4$"),
])
def test_folding_must_divide(gpc, ppc, message):
    arrays, f, widths, acc_bits, _, x_shape = angle_case()
    with pytest.raises(ValueError, match=message):
        build(arrays, f, widths, acc_bits, x_shape, gpc, ppc)
