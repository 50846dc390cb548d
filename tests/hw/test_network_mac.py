"""DenseCore in Amaranth's simulator: acc = bias + W x for every folding from (1, 1) to fully
parallel, weights and inputs at their extremes, random valid gaps and backpressure; NarrowDenseCore
fed SIMD inputs a beat (its input buffer re-read per neuron fold), vectors every F cycles."""

import numpy as np
import pytest
from amaranth.back import rtlil

from edgeforge.hw.network.mac import DenseCore, NarrowDenseCore, check_folding
from edgeforge.hw.network.vectors import elem_shape
from edgeforge.schemes.network import range_bits
from edgeforge.sim.amaranth_stream import run_stream

from network_helpers import pack, unpack


def run_core(m_out, n_in, pe, simd, weight_bits=8, x_bits=8, x_signed=False, seed=0,
             p_valid=1.0, p_ready=1.0, vectors=5, narrow=False):
    """Run ``vectors`` vectors through a DenseCore (a NarrowDenseCore with ``narrow``: each
    vector as SF beats of SIMD inputs), check every accumulator, return the last cycle."""
    rng = np.random.default_rng(seed)
    wlo, whi = -(1 << (weight_bits - 1)), (1 << (weight_bits - 1)) - 1
    xlo, xhi = ((-(1 << (x_bits - 1)), (1 << (x_bits - 1)) - 1) if x_signed
                else (0, (1 << x_bits) - 1))
    weights = rng.choice([wlo, whi, 0, 1, -1], size=(m_out, n_in))
    bias = rng.integers(-1000, 1000, size=m_out)
    xs = [np.full(n_in, xhi), np.full(n_in, xlo)] + [rng.choice([xlo, xhi], size=n_in)
                                                     for _ in range(vectors - 2)]
    accs = [bias + weights @ x for x in xs]
    lo = min(int(a.min()) for a in accs) - 2 ** 20
    hi = max(int(a.max()) for a in accs) + 2 ** 20
    acc_bits = range_bits(lo, hi)[0]
    core = NarrowDenseCore if narrow else DenseCore
    dut = core(weights, bias, elem_shape(x_bits, x_signed), weight_bits, acc_bits, pe, simd)
    beats = ([pack(x[b:b + simd], x_bits) for x in xs for b in range(0, n_in, simd)] if narrow
             else [pack(x, x_bits) for x in xs])
    run = run_stream(dut, beats, len(xs) * (m_out // pe),
                     seed=seed, p_valid=p_valid, p_ready=p_ready)
    got, cycles = run.outputs, run.last
    flat = [v for word in got for v in unpack(word, acc_bits, pe)]
    assert flat == [int(v) for a in accs for v in a]
    return cycles


@pytest.mark.parametrize("m_out, n_in, pe, simd, x_signed, p_valid, p_ready", [
    (4, 6, 1, 1, False, 1.0, 1.0),      # fully folded: 24 folds a vector
    (4, 6, 2, 3, True, 0.7, 0.6),
    (4, 6, 4, 6, False, 0.8, 0.5),      # fully parallel: constant weights
    (3, 5, 3, 1, True, 0.9, 0.9),       # odd sizes, one neuron fold
    (6, 4, 1, 4, False, 0.6, 0.8),      # one synapse fold, six neuron folds
    (10, 32, 5, 4, True, 1.0, 1.0),
])
def test_core_accumulates_bias_plus_weights_times_inputs(m_out, n_in, pe, simd, x_signed,
                                                         p_valid, p_ready):
    run_core(m_out, n_in, pe, simd, x_signed=x_signed, seed=m_out + n_in + pe,
             p_valid=p_valid, p_ready=p_ready)


def test_narrow_weights_at_their_extremes():
    run_core(5, 7, 1, 7, weight_bits=2, x_bits=3, x_signed=True, seed=3)


def test_vectors_follow_every_fold_count_cycles():
    # Without pauses the last beat of the fifth vector (taken at 4 F) leaves at 5 F + depth.
    from edgeforge.hw.network.mac import core_depth
    for pe, simd in ((1, 2), (4, 6)):
        folds = (6 // simd) * (4 // pe)
        cycles = run_core(4, 6, pe, simd, vectors=5)
        assert cycles - 1 == 5 * folds + core_depth(folds, simd)


@pytest.mark.parametrize("m_out, n_in, pe, simd, x_signed, p_valid, p_ready", [
    (4, 6, 1, 1, False, 1.0, 1.0),      # fully folded: the input buffer re-read 3 times
    (4, 6, 2, 3, True, 0.7, 0.6),
    (3, 5, 3, 1, True, 0.9, 0.9),       # one neuron fold: no input buffer
    (6, 4, 1, 4, False, 0.6, 0.8),      # one beat a vector, held over six neuron folds
    (4, 6, 4, 6, False, 0.8, 0.5),      # fully parallel
    (10, 32, 1, 1, True, 0.5, 0.5),
])
def test_narrow_core_takes_simd_inputs_a_beat(m_out, n_in, pe, simd, x_signed, p_valid,
                                              p_ready):
    run_core(m_out, n_in, pe, simd, x_signed=x_signed, seed=m_out + n_in + pe,
             p_valid=p_valid, p_ready=p_ready, narrow=True)


def test_narrow_core_vectors_follow_every_fold_count_cycles():
    # Beats back to back: neuron fold 0 folds a beat as it arrives, so vectors follow every F
    # cycles and the fifth one's last fold (cycle 5 F - 1) leaves core_depth cycles later.
    from edgeforge.hw.network.mac import core_depth
    for pe, simd in ((1, 1), (2, 3), (1, 6)):
        folds = (6 // simd) * (4 // pe)
        cycles = run_core(4, 6, pe, simd, vectors=5, narrow=True)
        assert cycles - 1 == 5 * folds - 1 + core_depth(folds, simd)


def test_weights_sit_in_a_block_rom_unless_fully_parallel():
    weights, bias = np.ones((4, 6), int), np.zeros(4, int)
    folded = rtlil.convert(DenseCore(weights, bias, elem_shape(8, False), 8, 16, 2, 3))
    parallel = rtlil.convert(DenseCore(weights, bias, elem_shape(8, False), 8, 16, 4, 6))
    assert 'attribute \\rom_style "block"' in folded
    assert "rom_style" not in parallel


@pytest.mark.parametrize("pe, simd, message", [
    (3, 1, r"^layer 2: PE must divide its 4 output channels, got 3$"),
    (1, 4, r"^layer 2: SIMD must divide its 6 inputs, got 4$"),
    (0, 1, r"^layer 2: PE must divide its 4 output channels, got 0$"),
    (True, 1, r"^layer 2: PE must divide its 4 output channels, got True$"),
])
def test_folding_must_divide(pe, simd, message):
    with pytest.raises(ValueError, match=message):
        check_folding("layer 2", pe, simd, 4, 6)


def test_mac_pipeline_registers_grow_with_the_tree():
    # None for one product a lane (the folded and narrow cores keep their timing); then the
    # products and every TREE_LEVELS levels but the last ones.
    from edgeforge.hw.network.mac import TREE_LEVELS, mac_stages
    assert TREE_LEVELS == 2
    assert [mac_stages(s) for s in (1, 2, 3, 4, 5, 8, 9, 16, 17, 72)] == [0, 1, 1, 1, 2, 2, 2, 2, 3, 4]
