"""Which simulator the engines' RTL tests run on: one switch for the whole suite (issue 19.4).

``pytest --simulator icarus`` (or ``verilator``) runs every engine's cocotb test on that
simulator; without the option each test keeps its own (mostly Verilator, a few chosen for
Icarus). :func:`rtl_verify` is the one way the engine tests run a design in cocotb.
"""

from __future__ import annotations

import pytest

#: Set from ``--simulator`` by tests/conftest.py; None: each test's own choice.
CHOSEN: str | None = None


def rtl_simulator(default: str = "verilator") -> str:
    """The simulator a test that would use ``default`` runs on; skips when it is missing."""
    from edgeforge.sim.runner import simulator_missing_reason
    simulator = CHOSEN or default
    reason = simulator_missing_reason(simulator)
    if reason:
        pytest.skip(reason)
    return simulator


def rtl_verify(design, xs, simulator: str = "verilator", **kwargs):
    """``design.verify(xs)`` on :func:`rtl_simulator`; assert it passed with every input."""
    result = design.verify(xs, simulator=rtl_simulator(simulator), **kwargs)
    assert result.passed, result.failures
    assert result.inputs == len(xs)
    return result
