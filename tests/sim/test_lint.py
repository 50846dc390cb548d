"""Verilator lint: Amaranth's artefacts are waived by name, anything else is a finding."""

import pytest

from edgeforge.sim.lint import WAIVED, lint_verilog


@pytest.fixture(autouse=True)
def _needs_verilator(verilator):
    pass


def test_clean_amaranth_design_passes(designs):
    result = lint_verilog(designs["add_one"].verilog)
    assert result.ok and result.findings == []


def test_truncation_is_a_finding(tmp_path):
    bad = tmp_path / "bad.v"
    bad.write_text("module bad(input [7:0] a, output [3:0] y);\n  assign y = a;\nendmodule\n")
    result = lint_verilog(bad)
    assert not result.ok
    assert len(result.findings) == 1
    assert result.findings[0].startswith("%Warning-WIDTHTRUNC: ")
    assert "bad.v:2:" in result.findings[0]


def test_only_the_named_artefacts_are_waived(tmp_path):
    assert WAIVED == ("PROCASSINIT", "UNUSEDSIGNAL", "WIDTHEXPAND", "VARHIDDEN")
    src = tmp_path / "mixed.v"
    # Waived: unused signals (UNUSEDSIGNAL), a 4-bit operand widened (WIDTHEXPAND).
    # Findings: an undriven output (UNDRIVEN), a blocking assignment in a clocked block (BLKSEQ).
    src.write_text(
        "module mixed(input clk, input [7:0] a, input [3:0] b, input unused, output [7:0] y, output z);\n"
        "  assign y = a + b;\n"
        "  reg r = 0;\n"
        "  always @(posedge clk) r = a[0];\n"
        "endmodule\n")
    result = lint_verilog(src)
    assert not result.ok
    assert sorted(f.split(":")[0] for f in result.findings) == ["%Warning-BLKSEQ", "%Warning-UNDRIVEN"]


def test_syntax_error_is_a_finding(tmp_path):
    src = tmp_path / "broken.v"
    src.write_text("module broken(input a);\n  wire x = ;\nendmodule\n")
    result = lint_verilog(src)
    assert not result.ok
    assert result.findings[0].startswith("%Error: ")


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"^Verilog file to lint must exist, not '.*nope\.v'$"):
        lint_verilog(tmp_path / "nope.v")
