"""The formal checks of the catalogue pass; deliberately broken blocks are caught with a trace."""

import pytest
from amaranth import Const, Module, Mux, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.sim.formal.checks import (ENGINES, KINDS, all_checks, cam_core, cam_deadline,
                                         check_depth, engine_frame, find_checks, network_bounds,
                                         network_frame, run_check, tiny_network)
from edgeforge.sim.formal.equivalence import Equivalence, argmin_scan
from edgeforge.sim.formal.sby import run_sby, sby_missing_reason
from edgeforge.sim.formal.streams import StreamHarness

needs_sby = pytest.mark.skipif(sby_missing_reason() is not None,
                               reason=str(sby_missing_reason()))
needs_yices = pytest.mark.skipif(sby_missing_reason("yices") is not None,
                                 reason=str(sby_missing_reason("yices")))

#: Checks of a few seconds each, one of every kind of property: the default suite (the
#: negative tests below exercise the counting harness on small blocks too).
DEFAULT = ["skid.rules", "requant.relu", "hklut.round", "cam.core11", "network.pecan-d.rules",
           "network.pecan-d.progress", "hklut.rules", "srlut.rules", "bicubic.rules",
           "srlut.count", "network.pecan-d.frame"]
# argmin.tree runs in tests/test_cli_formal.py.
SLOW = [c.name for c in all_checks() if c.name not in DEFAULT + ["argmin.tree"]]


def test_catalogue_names_are_unique_and_default_ones_are_fast():
    names = [c.name for c in all_checks()]
    assert len(names) == len(set(names))
    assert not [c.name for c in all_checks() if c.name in DEFAULT and c.slow]
    assert {c.prop for c in all_checks()} >= {"stream rules", "beat conservation",
                                             "beat conservation + progress", "equivalence",
                                             "beat conservation (in flight)", "frame on time"}
    # Every engine has its stream rules, its in-flight conservation and its frame checked.
    for kind in ("srlut", "bicubic", "hklut"):
        assert {f"{kind}.rules", f"{kind}.count", f"{kind}.frame"} <= set(names)
    assert {"srlut.stall", "bicubic.stall", "srlut.external"} <= set(names)


def test_find_checks_by_prefix_and_refuses_unknown():
    assert [c.name for c in find_checks(["argmin"])] == ["argmin.rules", "argmin.tree",
                                                        "argmin.tree8"]
    with pytest.raises(ValueError, match=r"^check must be one of \[.*\], got 'nope'$"):
        find_checks(["nope"])


def test_tiny_network_refuses_unknown_kind():
    with pytest.raises(ValueError, match=r"^kind must be one of \('dense', 'pecan-d', 'pecan-a', "
                                         r"'debut'\), got 'pecan-x'$"):
        tiny_network("pecan-x")


@pytest.mark.parametrize("kind", KINDS)
def test_progress_bound_covers_the_simulated_output(kind):
    """The response bound comes from the cycle model; the simulated first output (after the
    image's last beat) must come within it, and the BMC must reach past it."""
    from network_helpers import run_design
    import numpy as np
    design = tiny_network(kind)
    beats, response, depth = network_bounds(design)
    x = np.random.default_rng(0).integers(0, 16, size=(1, 2, 2), dtype=np.uint8)
    got, expected, last = run_design(design, [x])
    assert got == expected
    assert last - (beats - 1) <= response < depth


def skip_without_solver(check):
    reason = sby_missing_reason(check.solver)
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("name", DEFAULT)
def test_check_passes(name, tmp_path):
    (check,) = find_checks([name])
    skip_without_solver(check)
    result = run_check(check, tmp_path)
    assert result.passed, result.summary()
    assert result.depth == check_depth(check)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_slow_check_passes(name, tmp_path):
    (check,) = find_checks([name])
    skip_without_solver(check)
    result = run_check(check, tmp_path)
    assert result.passed, result.summary()


# -- deliberately broken blocks -----------------------------------------------------------

def argmin_ties_to_highest(values):
    """A broken arg-min tree: the right (higher index) operand wins a tie."""
    nodes = [(v, Const(i, range(len(values)))) for i, v in enumerate(values)]
    while len(nodes) > 1:
        nxt = []
        for i in range(0, len(nodes) - 1, 2):
            (va, ia), (vb, ib) = nodes[i], nodes[i + 1]
            right = vb <= va
            nxt.append((Mux(right, vb, va), Mux(right, ib, ia)))
        nodes = nxt + nodes[len(nodes) - len(nodes) % 2:]
    return nodes[0]


class DropThird(wiring.Component):
    """A register stage that takes every beat but loses the third."""

    def __init__(self, width):
        super().__init__({"i": In(stream.Signature(width)), "o": Out(stream.Signature(width))})

    def elaborate(self, platform):
        m = Module()
        seen = Signal(2)
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.payload.eq(self.i.payload), self.o.valid.eq(seen != 2),
                         seen.eq(seen + (seen != 3))]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m


class Twice(wiring.Component):
    """A register stage that offers each beat twice."""

    def __init__(self, width):
        super().__init__({"i": In(stream.Signature(width)), "o": Out(stream.Signature(width))})

    def elaborate(self, platform):
        m = Module()
        again = Signal()
        m.d.comb += self.i.ready.eq(~self.o.valid)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.payload.eq(self.i.payload), self.o.valid.eq(1), again.eq(1)]
        with m.Elif(self.o.ready):
            m.d.sync += [self.o.valid.eq(again), again.eq(0)]
        return m


class Chain(wiring.Component):
    """``first`` then ``second``, one stream."""

    def __init__(self, first, second):
        self.first, self.second = first, second
        super().__init__({"i": In(stream.Signature(len(first.i.payload))),
                          "o": Out(stream.Signature(len(second.o.payload)))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.first, m.submodules.second = self.first, self.second
        wiring.connect(m, source=wiring.flipped(self.i), sink=self.first.i)
        wiring.connect(m, source=self.first.o, sink=self.second.i)
        wiring.connect(m, source=self.second.o, sink=wiring.flipped(self.o))
        return m


@needs_sby
def test_wrong_tie_break_is_caught_with_its_trace(tmp_path):
    harness = Equivalence([unsigned(3)] * 4, lambda *v: argmin_ties_to_highest(list(v))[::-1],
                          lambda *v: argmin_scan(list(v))[::-1],
                          message="arg-min tree != first minimum")
    result = run_sby(harness, harness.ports, "argmin_broken", tmp_path, mode="prove", depth=1)
    assert result.status == "FAIL", result.summary()
    failure = result.counterexample
    assert failure.message == "arg-min tree != first minimum" and failure.step == 0
    assert failure.trace.exists() and failure.trace.suffix == ".vcd"
    assert str(failure.trace) in result.summary()


@needs_sby
def test_dropped_beat_before_an_engine_is_caught(tmp_path):
    design = tiny_network("pecan-d")
    beats, response, depth = network_bounds(design)
    pipeline = design.build()
    dut = Chain(DropThird(len(pipeline.i.payload)), pipeline)
    harness = StreamHarness(dut, ratio=(beats, 1), response=response)
    result = run_sby(harness, harness.ports, "dropped_beat", tmp_path, mode="bmc", depth=depth,
                     free_tables=True)
    assert result.status == "FAIL", result.summary()
    failure = result.counterexample
    assert failure.message == "an owed output did not come in time"
    # The image's last beat is taken in cycle beats - 1; the output is late after that.
    assert failure.step == beats + response + 1
    assert failure.trace.exists()


@needs_sby
def test_repeated_beat_outnumbers_the_inputs(tmp_path):
    harness = StreamHarness(Twice(4), ratio=(1, 1))
    result = run_sby(harness, harness.ports, "repeated_beat", tmp_path, mode="bmc", depth=6)
    assert result.status == "FAIL", result.summary()
    failure = result.counterexample
    assert failure.message == "more outputs than the inputs entitle"
    # Beat taken in step 0, offered in 1 and again in 2: the count is over in step 3.
    assert failure.step == 3 and failure.trace.exists()


@pytest.mark.parametrize("kind, first, last", [("srlut", 73, 192), ("bicubic", 40, 75),
                                               ("hklut", 95, 238)])
def test_frame_deadlines_come_from_the_cycle_models(kind, first, last):
    """A 3x3 frame: 1 output the cycle after the first one's transfer, all 9 r^2 the cycle
    after the last's; the BMC reaches past both. (The cycle models are checked against
    the RTL in tests/hw/test_*_cycles.py; the frame check proves them for all data.)"""
    beats, per_beat, deadlines, depth = engine_frame(kind)
    scale = 4 if kind == "hklut" else 2
    assert (beats, per_beat) == (9, scale * scale)
    assert deadlines == ((1, first + 1), (9 * per_beat, last + 1)) and depth > last + 1
    # A sink stalled up to 2 cycles running may hold each of the N outputs back 2 cycles.
    _, _, stalled, stalled_depth = engine_frame(kind, stall=2)
    total = 9 * per_beat
    assert stalled == ((1, first + 3), (total, last + 1 + 2 * total))
    assert stalled_depth > last + 1 + 2 * total


@needs_yices
def test_a_deadline_one_cycle_early_fails_at_that_step(tmp_path):
    """The bicubic engine's first output transfers in cycle 40 (its cycle model): asking
    for it by cycle 40 fails there, so the frame check's deadlines are tight."""
    _, per_beat, ((_, first_by), _), _ = engine_frame("bicubic")
    harness = StreamHarness(ENGINES["bicubic"](), ratio=(1, per_beat), frame=9,
                            deadlines=[(1, first_by - 1)], payloads=False)
    result = run_sby(harness, harness.ports, "early", tmp_path, mode="bmc", depth=first_by + 1,
                     solver="yices")
    assert result.status == "FAIL", result.summary()
    failure = result.counterexample
    assert failure.message == f"fewer than 1 outputs by cycle {first_by - 1}"
    assert failure.step == first_by - 1 and failure.trace.exists()


@needs_yices
def test_a_later_image_one_cycle_early_fails_at_that_step(tmp_path):
    """The tiny pecan-d engine's third output transfers in the cycle its cycle model's
    schedule says: asking for it one cycle sooner fails there."""
    design = tiny_network("pecan-d")
    total, beats, deadlines, depth = network_frame(design)
    count, by = deadlines[2]
    assert (total, beats, count) == (12, 4, 3)
    harness = StreamHarness(design.build(), ratio=(beats, 1), frame=total,
                            deadlines=[(count, by - 1)], payloads=False)
    result = run_sby(harness, harness.ports, "early3", tmp_path, mode="bmc", depth=depth,
                     free_tables=True, solver="yices")
    assert result.status == "FAIL", result.summary()
    assert result.counterexample.message == f"fewer than 3 outputs by cycle {by - 1}"
    assert result.counterexample.step == by - 1


@pytest.mark.filterwarnings("ignore:.*created but never used")
def test_frame_needs_a_ratio_and_no_response():
    with pytest.raises(ValueError, match=r"^frame needs a ratio, no response"):
        StreamHarness(Twice(4), frame=9)
    with pytest.raises(ValueError, match=r"^frame needs a ratio, no response"):
        StreamHarness(Twice(4), ratio=(1, 4), deadlines=[(1, 3)])
    with pytest.raises(ValueError, match=r"^kind must be one of \('srlut', 'bicubic', "
                                         r"'hklut'\), got 'fsrcnn'$"):
        engine_frame("fsrcnn")


@needs_yices
def test_dropped_beat_before_an_engine_breaks_the_in_flight_count(tmp_path):
    """A stage that loses the third beat in front of the SR-LUT engine: the inputs entitle
    four more HR pixels than the chain holds the cycle after the beat is taken."""
    from edgeforge.sim.formal.inflight import Blocks, Held, engine_in_flight
    engine = ENGINES["srlut"]()
    dut = Chain(DropThird(len(engine.i.payload)), engine)

    def in_flight(fragment, chain):
        held, units = engine_in_flight("srlut")(Blocks(fragment).sub("second").fragment,
                                                chain.second)
        return held + Held(chain.first.o.valid).scaled(units[0]), units

    harness = StreamHarness(dut, in_flight=in_flight)
    result = run_sby(harness, harness.ports, "dropped_in_flight", tmp_path, mode="bmc",
                     depth=6, free_tables=True, solver="yices")
    assert result.status == "FAIL", result.summary()
    failure = result.counterexample
    assert failure.message == "owed outputs != what the engine holds (a beat lost or made up)"
    # Beats taken in steps 0, 1, 2; the third is gone in step 3.
    assert failure.step == 3 and failure.trace.exists()


@needs_sby
def test_cam_core_check_pins_the_tie_break(tmp_path):
    """Group 0 of the tiny PECAN-D layer has two equal prototypes with different table
    columns: a reference that takes the last minimum disagrees with the RTL (which takes
    the first), and the check finds an input vector that shows it."""
    design = tiny_network("pecan-d")
    stage = next(s for s in design.plan.stages if s.kind == "core")
    codebook = design.artifact.arrays[f"l{stage.layer}_codebook"]
    assert (codebook[0, 0] == codebook[0, 1]).all()
    harness = cam_core((1, 1), ties="highest")
    result = run_sby(harness, harness.ports, "cam_ties", tmp_path, mode="bmc",
                     depth=cam_deadline((1, 1)) + 1)
    assert result.status == "FAIL", result.summary()
    failure = result.counterexample
    assert failure.message == "output beat != reference" and failure.trace.exists()
    assert failure.step <= cam_deadline((1, 1))


def test_argmin_scan_refuses_an_unknown_tie_rule():
    with pytest.raises(ValueError, match=r"^ties must be 'lowest' or 'highest', got 'middle'$"):
        argmin_scan([Signal(2), Signal(2)], "middle")
