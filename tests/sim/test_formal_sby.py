"""The sby runner: its config, its reading of sby's log, and a proof and a refutation."""

import re

import pytest
from amaranth import Elaboratable, Module, Signal
from amaranth.back import rtlil
from amaranth.hdl import Assert

from edgeforge.sim.formal.sby import (FormalResult, _parse_log, check_messages, run_sby,
                                      sby_config, sby_missing_reason)

needs_sby = pytest.mark.skipif(sby_missing_reason() is not None,
                               reason=str(sby_missing_reason()))


class Counter(Elaboratable):
    """A counter that wraps at ``top``; the check asserts it stays at most ``bound``."""

    def __init__(self, top: int, bound: int):
        self.top, self.bound = top, bound
        self.count = Signal(8, name="count")
        self.ports = [self.count]

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.count.eq(self.count + 1)
        with m.If(self.count == self.top):
            m.d.sync += self.count.eq(0)
        m.d.comb += Assert(self.count <= self.bound, "count above its bound")
        return m


def test_config_names_mode_depth_and_z3():
    text = sby_config("bmc", 7)
    assert "mode bmc" in text and "depth 7" in text and "smtbmc z3" in text
    assert "read_rtlil top.il" in text
    assert "read_rtlil a.il" in sby_config("prove", 2, source="a.il")


def test_config_names_the_solver_and_refuses_an_unknown_one():
    assert "smtbmc yices" in sby_config("prove", 2, solver="yices")
    with pytest.raises(ValueError, match=r"^solver must be one of \('z3', 'yices'\), got 'cvc'$"):
        sby_config("bmc", 3, solver="cvc")
    with pytest.raises(ValueError, match=r"^solver must be one of .*, got 'cvc'$"):
        sby_missing_reason("cvc")


@pytest.mark.skipif(sby_missing_reason("yices") is not None,
                    reason=str(sby_missing_reason("yices")))
def test_run_sby_with_yices_proves_and_refutes(tmp_path):
    ok, bad = Counter(5, 5), Counter(5, 3)
    assert run_sby(ok, ok.ports, "yices_ok", tmp_path, mode="prove", depth=2,
                   solver="yices").passed
    result = run_sby(bad, bad.ports, "yices_bad", tmp_path, mode="bmc", depth=8, solver="yices")
    assert result.status == "FAIL" and result.counterexample.step == 4


@pytest.mark.parametrize("mode, depth, message", [
    ("cover", 3, r"^mode must be one of \('prove', 'bmc'\), got 'cover'$"),
    ("bmc", 0, r"^depth must be a positive integer, got 0$"),
    ("prove", True, r"^depth must be a positive integer, got True$"),
])
def test_config_refuses_bad_mode_and_depth(mode, depth, message):
    with pytest.raises(ValueError, match=message):
        sby_config(mode, depth)


def test_check_messages_map_witness_names_to_assert_messages():
    c = Counter(5, 5)
    text = rtlil.convert(c, name="top", ports=c.ports, platform="formal")
    messages = check_messages(text)
    assert list(messages.values()) == ["count above its bound"]
    assert all(re.fullmatch(r"_witness_\.check_\d+", k) for k in messages)


LOG = """\
SBY 14:36:21 [t] summary: engine_0 (smtbmc z3) returned FAIL for basecase
SBY 14:36:21 [t] summary: counterexample trace [basecase]: t/engine_0/trace.vcd
SBY 14:36:21 [t] summary:   failed assertion top._witness_.check_11 at /x/exp.py:13 step 2
SBY 14:36:21 [t] summary: counterexample trace [induction]: t/engine_0/trace_induct.vcd
SBY 14:36:21 [t] summary:   failed assertion top._witness_.check_11 at /x/exp.py:13
SBY 14:36:21 [t] DONE (FAIL, rc=2)
"""


def test_parse_log_reads_status_step_trace_and_message(tmp_path):
    status, failures = _parse_log(LOG, tmp_path, {"_witness_.check_11": "o.valid dropped"})
    assert status == "FAIL"
    base, induct = failures
    assert (base.message, base.step, base.phase) == ("o.valid dropped", 2, "basecase")
    assert base.trace == tmp_path / "t/engine_0/trace.vcd"
    assert (induct.step, induct.phase) == (None, "induction")


@needs_sby
def test_run_sby_proves_a_true_invariant_by_induction(tmp_path):
    c = Counter(5, 5)
    result = run_sby(c, c.ports, "counter_ok", tmp_path, mode="prove", depth=2)
    assert isinstance(result, FormalResult) and result.passed, result.summary()
    assert (tmp_path / "counter_ok.il").exists() and (tmp_path / "counter_ok.sby").exists()


@needs_sby
def test_run_sby_fails_a_wrong_invariant_with_step_and_trace(tmp_path):
    c = Counter(5, 3)
    result = run_sby(c, c.ports, "counter_bad", tmp_path, mode="bmc", depth=8)
    assert result.status == "FAIL"
    failure = result.counterexample
    # count is 0 in step 0, so it first exceeds 3 in step 4.
    assert (failure.message, failure.step) == ("count above its bound", 4)
    assert failure.trace.suffix == ".vcd" and failure.trace.exists()
    assert "fails at step 4" in result.summary() and str(failure.trace) in result.summary()


class RomRead(Elaboratable):
    """A one-word ROM read every cycle; asserts the word (from the second cycle on)."""

    def __init__(self):
        self.ports = []

    def elaborate(self, platform):
        from edgeforge.hw.rom import RomBank
        m = Module()
        m.submodules.rom = rom = RomBank([5, 5], 4)
        started = Signal(reset_less=True)
        m.d.sync += started.eq(1)
        m.d.comb += rom.en.eq(1)
        with m.If(started):
            m.d.comb += Assert(rom.data[0] == 5, "ROM word is not 5")
        return m


@needs_sby
@pytest.mark.parametrize("free", [False, True])
def test_free_tables_make_rom_contents_free(free, tmp_path):
    h = RomRead()
    result = run_sby(h, h.ports, "rom", tmp_path, mode="bmc", depth=3, free_tables=free)
    assert result.status == ("FAIL" if free else "PASS"), result.summary()


def test_run_sby_refuses_a_bad_name(tmp_path):
    with pytest.raises(ValueError, match=r"^name must be letters, digits, '_', '\.' or '-', "
                                         r"got 'a b'$"):
        run_sby(object(), [], "a b", tmp_path)
