"""Fixtures for the runner and testbench tests: simulators, one shared build cache, the designs."""

from pathlib import Path

import pytest

from edgeforge.sim.runner import run_cocotb, simulator_missing_reason
from sim_designs import (ALL_COMBOS, N_ADD_ONE, TESTBENCH, Emitted, Fickle, Stage, Stuck,
                         add_one_vectors, emit)


@pytest.fixture(scope="session")
def sim_cache(tmp_path_factory) -> Path:
    """One build cache for the session, so each design builds once."""
    return tmp_path_factory.mktemp("simcache")


@pytest.fixture(scope="session")
def rtl_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rtl")


def _require(simulator: str) -> str:
    reason = simulator_missing_reason(simulator)
    if reason:
        pytest.skip(reason)
    return simulator


@pytest.fixture(scope="session")
def verilator() -> str:
    return _require("verilator")


@pytest.fixture(scope="session")
def icarus() -> str:
    return _require("icarus")


@pytest.fixture(scope="session")
def quick_sim() -> str:
    """Icarus where present (0.2 s builds) for testbench behaviour, else Verilator."""
    import simulators
    for sim in ((simulators.CHOSEN,) if simulators.CHOSEN else ("icarus", "verilator")):
        if simulator_missing_reason(sim) is None:
            return sim
    pytest.skip("neither icarus nor verilator is available")


@pytest.fixture(scope="session")
def designs(rtl_dir) -> dict[str, Emitted]:
    return {
        "add_one": emit(Stage(), "add_one", rtl_dir),
        "drops": emit(Stage(drop_every=5), "drops", rtl_dir),
        "dups": emit(Stage(dup_at=3), "dups", rtl_dir),
        "stuck": emit(Stuck(), "stuck", rtl_dir),
        "fickle": emit(Fickle(), "fickle", rtl_dir),
    }


@pytest.fixture(scope="session")
def add_one_run(designs, verilator, sim_cache, tmp_path_factory):
    """The add-one design's first Verilator run, under all nine pause combos.

    Session-scoped on a fresh cache, so it is the run that builds; the cache
    tests compare later runs with it.
    """
    vectors, _, _ = add_one_vectors(tmp_path_factory.mktemp("add_one") / "v.npz", N_ADD_ONE,
                                    out_marks=[0, 100, N_ADD_ONE - 1])
    emitted = designs["add_one"]
    result = run_cocotb([emitted.verilog], emitted.toplevel, TESTBENCH, build_dir=sim_cache,
                        simulator=verilator, design_hash=emitted.design_hash,
                        extra_env={"EDGEFORGE_VECTORS": str(vectors), "EDGEFORGE_PAUSES": ALL_COMBOS})
    return result, vectors
