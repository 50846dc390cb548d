"""The generic stream testbench and its stream components: pure helpers first, then
real runs that must pass on a correct design and fail, naming the beat and the
seed, on every kind of broken one."""

import itertools
import re

import numpy as np
import pytest

from edgeforge.sim.runner import run_cocotb
from edgeforge.sim.stream import BeatChecker, pattern_pause, pause_for_mode, random_pause
from edgeforge.sim.tb.stream_tb import Vectors, load_vectors, parse_pauses, timeout_cycles

from sim_designs import MODES, N_ADD_ONE, TESTBENCH, add_one_vectors, to_beats, write_vectors

# --- helpers, no simulator ---------------------------------------------------------------

def test_parse_pauses():
    assert parse_pauses("none:none, random:heavy") == [("none", "none"), ("random", "heavy")]
    with pytest.raises(ValueError, match=r"^EDGEFORGE_PAUSES entries must be src:sink .*, not 'random'$"):
        parse_pauses("none:none,random")
    with pytest.raises(ValueError, match=r", not 'none:often'$"):
        parse_pauses("none:often")


def test_random_pause_is_seeded_and_has_its_rate():
    a = list(itertools.islice(random_pause(0.3, 42), 10_000))
    b = list(itertools.islice(random_pause(0.3, 42), 10_000))
    c = list(itertools.islice(random_pause(0.3, 43), 10_000))
    assert a == b and a != c
    assert abs(sum(a) / len(a) - 0.3) < 0.02
    with pytest.raises(ValueError, match=r"^Pause probability must be in \[0, 1\), not 1\.0$"):
        next(random_pause(1.0, 0))


def test_pattern_and_mode_pauses():
    assert list(itertools.islice(pattern_pause([1, 0, 0]), 7)) == [True, False, False] * 2 + [True]
    assert not any(itertools.islice(pause_for_mode("none"), 100))
    with pytest.raises(ValueError, match=r"^Pause pattern must not be empty, not \[\]$"):
        pattern_pause([])
    with pytest.raises(ValueError, match=r"^Pause mode must be one of \['heavy', 'none', 'random'\], not 'sometimes'$"):
        pause_for_mode("sometimes")


@pytest.mark.parametrize("got, message", [
    ([1, 2, 3], None),
    ([1, 3], r"^o: beat 1 wrong: expected 0x2, got 0x3 \(beat 1 lost, beat 2 arrived in its place\); reproduce with seed=9$"),
    ([1, 1, 2, 3], r"^o: beat 1 wrong: expected 0x2, got 0x1 \(duplicate of beat 0\); reproduce with seed=9$"),
    ([1, 2], r"^o: beat 2 lost: expected 0x3, got nothing \(2 of 3 beats arrived\); reproduce with seed=9$"),
    ([1, 2, 3, 4], r"^o: extra beat 3 \(only 3 expected\): got 0x4; reproduce with seed=9$"),
    ([1, 7, 3], r"^o: beat 1 wrong: expected 0x2, got 0x7; reproduce with seed=9$"),
    ([1, "0X1", 3], r"^o: beat 1 wrong: expected 0x2, got '0X1'; reproduce with seed=9$"),
])
def test_beat_checker(got, message):
    checker = BeatChecker([1, 2, 3], seed=9)
    if message is None:
        checker.check(got)
    else:
        with pytest.raises(AssertionError, match=message):
            checker.check(got)


def test_load_vectors(tmp_path):
    path = write_vectors(tmp_path / "v.npz", [1, 0x203], [0x302])
    assert load_vectors(path) == Vectors([1, 0x203], [0x302], (), None)
    path = write_vectors(tmp_path / "m.npz", [1], [2], out_marks=[0], predicted_cycles=7)
    assert load_vectors(path) == Vectors([1], [2], (0,), 7)
    np.savez(tmp_path / "bad.npz", in_beats=np.zeros((2, 2), np.int16), out_beats=to_beats([1]))
    with pytest.raises(ValueError, match=r"in_beats must be a 2-D uint8 array"):
        load_vectors(tmp_path / "bad.npz")


def test_timeout_grows_with_work():
    assert timeout_cycles(10, 10, None) < timeout_cycles(100, 10, None) < timeout_cycles(100, 10, 2000)


# --- runs through the simulator -----------------------------------------------------------

def _run(emitted, sim, cache, vectors, **kw):
    env = {"EDGEFORGE_VECTORS": str(vectors), **kw.pop("env", {})}
    return run_cocotb([emitted.verilog], emitted.toplevel, TESTBENCH, build_dir=cache,
                      simulator=sim, design_hash=emitted.design_hash, extra_env=env, **kw)


def test_correct_design_passes_every_pause_combo(add_one_run):
    result, _ = add_one_run
    n = N_ADD_ONE
    assert result.passed, result.summary()
    assert result.tests == 9
    m = result.measurements
    assert sorted(m) == sorted(f"stream/src={a}/sink={b}" for a, b in itertools.product(MODES, repeat=2))
    calm = m["stream/src=none/sink=none"]
    # One register stage at one beat per cycle: n cycles plus fill.
    assert calm["steady_cycles_per_input"] == 1.0
    assert n <= calm["cycles"] <= n + 3
    assert calm["input_stall_cycles"] == calm["output_stall_cycles"] == 0
    # One register stage: beat k leaves one cycle after it came in, the run is n + 1 long.
    assert calm["output_start_cycles"] == [1, 101, n]
    assert calm["run_cycles"] == n + 1
    busy = m["stream/src=heavy/sink=heavy"]
    assert busy["output_stall_cycles"] > n // 2 and busy["cycles"] > 2 * n
    assert all(r["in_transfers"] == r["out_transfers"] == n for r in m.values())


def test_wrong_expected_beat_fails_with_index_and_seed(designs, quick_sim, sim_cache, tmp_path):
    x = np.arange(40)
    y = x + 1
    y[17] ^= 4
    vectors = write_vectors(tmp_path / "v.npz", x, y)
    result = _run(designs["add_one"], quick_sim, sim_cache, vectors, seed=1234)
    assert not result.passed
    assert result.tests == 2 and len(result.failures) == 2
    for failure in result.failures:
        assert re.search(r"beat 17 wrong: expected 0x16, got 0x12; reproduce with seed=1234", failure), failure


def test_lost_beat_fails(designs, quick_sim, sim_cache, tmp_path):
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 30)
    result = _run(designs["drops"], quick_sim, sim_cache, vectors, seed=5)
    assert not result.passed
    assert "beat 4 wrong" in result.failures[0]
    assert "(beat 4 lost, beat 5 arrived in its place)" in result.failures[0]


def test_duplicated_beat_fails(designs, quick_sim, sim_cache, tmp_path):
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 30)
    result = _run(designs["dups"], quick_sim, sim_cache, vectors, seed=5)
    assert not result.passed
    assert "beat 4 wrong" in result.failures[0] and "(duplicate of beat 3)" in result.failures[0]


def test_extra_beat_after_the_last_fails(designs, quick_sim, sim_cache, tmp_path):
    x = np.arange(20)
    vectors = write_vectors(tmp_path / "v.npz", x, x[:-1] + 1)  # expects one beat fewer than sent
    result = _run(designs["add_one"], quick_sim, sim_cache, vectors, seed=5)
    assert not result.passed
    assert "extra beat 19 (only 19 expected): got 0x14" in result.failures[0]


def test_hung_design_fails_instead_of_hanging(designs, quick_sim, sim_cache, tmp_path):
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 10)
    result = _run(designs["stuck"], quick_sim, sim_cache, vectors, seed=5,
                  env={"EDGEFORGE_PAUSES": "none:none"})
    assert not result.passed
    assert "beat 0 lost: expected" in result.failures[0]
    assert "(0 of 10 beats arrived)" in result.failures[0]
    assert result.seconds < 60


def test_stream_rule_violation_is_caught(designs, quick_sim, sim_cache, tmp_path):
    # With backpressure the fickle design withdraws valid before the transfer.
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 30)
    result = _run(designs["fickle"], quick_sim, sim_cache, vectors, seed=5,
                  env={"EDGEFORGE_PAUSES": "none:heavy"})
    assert not result.passed
    assert "stream rule violation" in result.failures[0]
    assert "o: valid dropped before transfer at cycle" in result.failures[0]
    assert "reproduce with seed=5" in result.failures[0]




def test_same_seed_same_run(designs, quick_sim, sim_cache, tmp_path):
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 100)
    env = {"EDGEFORGE_PAUSES": "random:random"}
    runs = [_run(designs["add_one"], quick_sim, sim_cache, vectors, seed=s, env=env).measurements
            for s in (77, 77, 78)]
    key = "stream/src=random/sink=random"
    assert runs[0][key] == runs[1][key]
    assert runs[0][key]["cycles"] != runs[2][key]["cycles"] or (
        runs[0][key]["output_stall_cycles"] != runs[2][key]["output_stall_cycles"])
