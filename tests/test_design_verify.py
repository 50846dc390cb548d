"""Design.verify holds the RTL to its cycle model: exact without pauses, at least with them."""

import pytest

from edgeforge.design import cycle_mismatches
from edgeforge.hw.smoke import SmokeDesign
from edgeforge.schemes.smoke import default_artifact
from edgeforge.sim.cycles.record import RunCycles
from edgeforge.sim.runner import simulator_missing_reason

FREE, PAUSED = "stream/src=none/sink=none", "stream/src=random/sink=random"


def _run(run, starts, seed=3):
    return {"run_cycles": run, "output_start_cycles": starts, "seed": seed}


def test_an_exact_run_has_no_mismatch():
    predicted = RunCycles((1, 11), 20)
    assert cycle_mismatches({FREE: _run(21, [1, 11]), PAUSED: _run(40, [5, 30])}, predicted) == []


def test_a_free_run_must_equal_the_model():
    predicted = RunCycles((1, 11), 20)
    out = cycle_mismatches({FREE: _run(22, [1, 12])}, predicted)
    assert out == [
        f"{FREE}: cycles: measured 22, cycle model predicts 21; reproduce with seed=3",
        f"{FREE}: input 1's first output at cycle 12, cycle model predicts 11 (intervals "
        f"measured (11,), predicted (10,)); reproduce with seed=3"]


def test_a_paused_run_cannot_beat_the_model():
    out = cycle_mismatches({PAUSED: _run(15, [1, 8])}, RunCycles((1, 11), 20))
    assert out == [f"{PAUSED}: cycles: measured 15 with pauses, fewer than the 21 the cycle "
                   f"model predicts without; reproduce with seed=3"]


@pytest.fixture(scope="module")
def quick_sim():
    import simulators
    for sim in ((simulators.CHOSEN,) if simulators.CHOSEN else ("icarus", "verilator")):
        if simulator_missing_reason(sim) is None:
            return sim
    pytest.skip("neither icarus nor verilator is available")


def test_verify_passes_the_true_model_and_fails_a_wrong_one(quick_sim, tmp_path,
                                                          optimistic_smoke):
    art = default_artifact(addr_bits=6, data_bits=8)
    inputs = SmokeDesign(art).test_inputs(seed=1)
    good = SmokeDesign(art).verify(inputs, simulator=quick_sim, work_dir=tmp_path / "good")
    assert good.passed, good.failures
    assert good.predicted.total_cycles == sum(len(x) for x in inputs) + 1
    free = good.measurements[FREE]
    assert free["run_cycles"] == good.predicted.total_cycles
    assert tuple(free["output_start_cycles"]) == good.predicted.output_starts

    bad = optimistic_smoke(art).verify(inputs, simulator=quick_sim, work_dir=tmp_path / "bad")
    assert not bad.passed
    total = good.predicted.total_cycles
    assert bad.failures[0].startswith(f"{FREE}: cycles: measured {total}, cycle model predicts "
                                      f"{total - 1}; reproduce with seed=")
    assert "input 0's first output at cycle 1, cycle model predicts 0" in bad.failures[1]
