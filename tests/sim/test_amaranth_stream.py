"""The Amaranth-side stream driver: ordering, cycle counts and the hold rule."""

import pytest

from edgeforge.sim.amaranth_stream import run_stream
from sim_designs import Fickle, Stage


def test_one_stage_passes_every_beat_and_counts_cycles():
    run = run_stream(Stage(), list(range(50)), 50)
    assert run.outputs == list(range(1, 51))
    assert (run.first, run.last) == (2, 51)          # one register stage: a beat a cycle


def test_backpressure_keeps_the_order():
    run = run_stream(Stage(), list(range(200)), 200, seed=4, p_valid=0.5, p_ready=0.4)
    assert run.outputs == list(range(1, 201)) and run.last > 300


def test_a_beat_withdrawn_while_stalled_is_caught():
    with pytest.raises(AssertionError, match=r"^beat \d+ changed from \d+ to nothing while "
                                             r"stalled \(seed=3\)$"):
        run_stream(Fickle(), list(range(40)), 40, seed=3, p_ready=0.3)


def test_a_lost_beat_is_caught():
    with pytest.raises(AssertionError, match=r"stalled after 24 of 30 outputs .* seed=0$"):
        run_stream(Stage(drop_every=5), list(range(30)), 30, max_cycles=200)
