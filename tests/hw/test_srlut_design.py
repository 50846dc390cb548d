"""SRLUTDesign: config checks, manifest and lint, cocotb on Verilator (and Icarus) vs the golden
``fixed`` readout, with the testbench's memory model behind the external read port.

The cocotb runs are one Verilator build each (about 90 s on the shared machine), so they are
``slow``; the default suite covers the same engine in Amaranth's simulator
(``test_srlut_engine.py``, ``test_srlut_cycles.py``).
"""

from __future__ import annotations

import pytest

from edgeforge.artifact import Artifact, check
from edgeforge.hw.srlut.design import SRLUTDesign
from edgeforge.schemes.srlut import SRLUTConfig

from srlut_helpers import random_tables


def _artifact(kernels="s", r=2, bits=6, seed=3):
    config = SRLUTConfig(kernels, (r,), bits)
    return check(Artifact("srlut", config.to_dict(), random_tables(config, seed=seed)))


def test_design_refuses_bad_configs():
    with pytest.raises(ValueError, match=r"^memory_latency must be a positive integer, got 0$"):
        SRLUTDesign(_artifact(), width=4, height=3, memory_latency=0)
    with pytest.raises(ValueError, match=r"^table must be one of"):
        SRLUTDesign(_artifact(), width=4, height=3, table="sram")
    with pytest.raises(ValueError, match="kernel set s or f"):
        SRLUTDesign(check(Artifact("srlut", {"kernels": "v", "stages": [2],
                                             "interval_bits": 4},
                                   random_tables(SRLUTConfig("v", (2,), 4)))),
                    width=4, height=3)


def test_manifest_ports_and_lint(tmp_path):
    from edgeforge.sim.lint import lint_verilog
    design = SRLUTDesign(_artifact(), width=4, height=3, out_pixels=2, memory_latency=3)
    files = design.write_verilog(tmp_path)
    ports = {p["name"]: p for p in design.ports()}
    assert ports["mem_addr__payload"]["width"] == (5 ** 4 - 1).bit_length()   # interval 64: 5 nodes
    assert ports["mem_data__payload"]["width"] == 8 * 4
    assert ports["o__payload"]["width"] == 16
    structure = design.manifest()["structure"]
    assert structure["reads_per_anchor"] == 20 and structure["multipliers"] == 4
    lint = lint_verilog(files.verilog)
    assert lint.ok, lint.findings
    onchip = SRLUTDesign(_artifact("f", 2, 6), width=4, height=3, table="onchip")
    assert "mem_addr__payload" not in {p["name"] for p in onchip.ports()}
    assert onchip.memory_bits()["tables"] == 5 ** 3 * 4 * 8
    assert design.memory_bits() == {"tables": 0, "buffers": 8 * 4 * 8 + 2 * 2 * 8 * 8,
                                    "offchip_tables": 5 ** 4 * 4 * 8}


def _verify(design, inputs, **kwargs):
    result = design.verify(inputs, **kwargs)
    assert result.passed, result.failures
    return result


@pytest.mark.slow
def test_rtl_external_table_matches_golden_with_random_memory_latency():
    design = SRLUTDesign(_artifact("s", 4, 6), width=5, height=3, out_pixels=4, memory_latency=3)
    inputs = design.test_inputs(seed=1)
    result = _verify(design, inputs)
    steady = result.measurements["stream/src=none/sink=none"]
    assert steady["run_cycles"] == design.cycle_model().run([15] * len(inputs)).total_cycles
    for record in result.measurements.values():
        assert record["memory_reads"] == len(inputs) * 15 * 20


@pytest.mark.slow
def test_rtl_onchip_f_matches_golden():
    design = SRLUTDesign(_artifact("f", 4, 4), width=4, height=3, out_pixels=2, table="onchip")
    _verify(design, design.test_inputs(seed=2))


@pytest.mark.slow
def test_rtl_external_f_matches_golden_icarus():
    design = SRLUTDesign(_artifact("f", 3, 5), width=3, height=4, memory_latency=2)
    images = design.test_inputs(seed=3)[3:5]
    _verify(design, images, simulator="icarus", pauses="none:none,random:random")
