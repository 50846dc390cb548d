"""Driving a design's AXI4-Stream Verilog with cocotbext-axi (``edgeforge.sim.tb.axis_video_tb``)."""

from __future__ import annotations

import numpy as np
import pytest


def cocotbext_axis_run(design, in_beats, out_beats, geometry, tmp_path, simulator: str,
                       prefixes: tuple[str, str] | None = None):
    """Write ``design``'s Verilog, send ``in_beats`` and expect ``out_beats`` (uint8 rows of
    tdata bytes) under ``geometry`` (beats per line, lines per frame, in and out); skip where
    ``simulator`` is missing. Returns the cocotb result."""
    from edgeforge.sim.lint import WAIVED
    from edgeforge.sim.runner import run_cocotb, simulator_missing_reason
    reason = simulator_missing_reason(simulator)
    if reason:
        pytest.skip(reason)
    vectors = tmp_path / "vectors.npz"
    np.savez(vectors, in_beats=in_beats, out_beats=out_beats,
             geometry=np.array([geometry["in_beats_per_line"], geometry["in_lines"],
                                geometry["out_beats_per_line"], geometry["out_lines"]]))
    files = design.write_verilog(tmp_path / "rtl")
    env = {"EDGEFORGE_VECTORS": str(vectors)}
    if prefixes is not None:
        env["EDGEFORGE_AXIS_PREFIXES"] = ",".join(prefixes)
    return run_cocotb([files.verilog], design.name, "edgeforge.sim.tb.axis_video_tb",
                      build_dir=tmp_path / "sim", simulator=simulator,
                      design_hash=design.design_hash, extra_env=env,
                      build_args=[f"-Wno-{w}" for w in WAIVED] if simulator == "verilator"
                      else [])
