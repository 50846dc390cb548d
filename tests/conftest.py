"""Shared pytest options: `--slow` runs the long RTL sweeps and full-size synthesis."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EDGEFORGE_SHARED", REPO.parent / "shared"))
HKLUT_OFFICIAL = SHARED / "data" / "hklut-s-x4-official"


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False,
                     help="also run tests marked slow (long RTL sweeps, full-size synthesis)")
    parser.addoption("--simulator", choices=("verilator", "icarus"), default=None,
                     help="run every engine's RTL (cocotb) tests on this simulator (default: "
                          "each test's own, mostly Verilator)")


def pytest_configure(config):
    import simulators
    simulators.CHOSEN = config.getoption("--simulator")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def hklut_official_dir() -> Path:
    """The HKLUT authors' released LUTs (CC BY-NC-ND: read in place, never copied)."""
    if not HKLUT_OFFICIAL.is_dir():
        pytest.skip(f"released HKLUT LUTs not found at {HKLUT_OFFICIAL}")
    return HKLUT_OFFICIAL


@pytest.fixture(scope="session")
def optimistic_smoke():
    """The smoke design class with a cycle model one cycle faster than its RTL (a wrong model
    that verify and the bench must catch)."""
    import dataclasses

    from edgeforge.hw.smoke import SmokeDesign
    from edgeforge.sim.cycles.record import RunCycles

    class OptimisticSmoke(SmokeDesign):
        def cycle_model(self):
            true = super().cycle_model()

            def shifted(beats):
                run = true.run(beats)
                return RunCycles(tuple(s - 1 for s in run.output_starts), run.last_output - 1)
            return dataclasses.replace(true, latency_cycles=0, schedule=shifted)

    return OptimisticSmoke
