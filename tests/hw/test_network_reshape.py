"""Gather and Serialise in Amaranth's simulator: beats into vectors and back, in order, with
random valid gaps and backpressure."""

import pytest

from edgeforge.hw.network.reshape import Gather, Serialise, Skid
from edgeforge.hw.network.vectors import elem_shape
from edgeforge.sim.amaranth_stream import run_stream


@pytest.mark.parametrize("lanes, beats, p_valid, p_ready", [
    (1, 4, 1.0, 1.0), (3, 5, 0.7, 0.6), (8, 1, 0.8, 0.9), (2, 64, 1.0, 0.5)])
def test_gather_concatenates_beats_lowest_first(lanes, beats, p_valid, p_ready):
    bits = 5 * lanes
    ins = [(k * 2654435761) % (1 << bits) for k in range(beats * 4)]
    expected = [sum(v << (bits * b) for b, v in enumerate(ins[n:n + beats]))
                for n in range(0, len(ins), beats)]
    dut = Gather(elem_shape(5, True), lanes, beats)
    got = run_stream(dut, ins, len(expected), seed=beats, p_valid=p_valid, p_ready=p_ready).outputs
    assert got == expected


@pytest.mark.parametrize("lanes, count, p_valid, p_ready", [
    (1, 4, 1.0, 1.0), (2, 3, 0.6, 0.7), (1, 64, 0.9, 0.8), (4, 1, 0.7, 0.5)])
def test_serialise_splits_beats_lowest_first(lanes, count, p_valid, p_ready):
    bits = 8 * lanes
    ins = [(k * 40503 + 17) % (1 << (bits * count)) for k in range(5)]
    expected = [(v >> (bits * c)) & ((1 << bits) - 1) for v in ins for c in range(count)]
    dut = Serialise(elem_shape(8, False), lanes, count)
    run = run_stream(dut, ins, len(expected), seed=count, p_valid=p_valid, p_ready=p_ready)
    got, cycles = run.outputs, run.last
    assert got == expected
    if p_valid == p_ready == 1.0:
        assert cycles == len(expected) + 1      # a part a cycle, one cycle in


def test_counts_are_checked():
    with pytest.raises(ValueError, match=r"^beats must be a positive integer, got 0$"):
        Gather(elem_shape(8, False), 1, 0)


@pytest.mark.parametrize("p_valid, p_ready", [(1.0, 1.0), (0.7, 0.4), (0.4, 0.9), (0.9, 0.6)])
def test_skid_passes_every_beat_in_order(p_valid, p_ready):
    ins = [(k * 7919) % 4096 for k in range(200)]
    run = run_stream(Skid(12), ins, len(ins), seed=int(p_ready * 10), p_valid=p_valid,
                     p_ready=p_ready)
    assert run.outputs == ins
    if p_valid == p_ready == 1.0:
        assert run.last == len(ins) + 1          # a beat a cycle, one cycle in
