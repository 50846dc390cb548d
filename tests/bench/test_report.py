"""Report parsers on checked-in tool output, and the cost table rendered from results.

tests/bench/data/ holds real yosys 0.70 / nextpnr 0.11 output for the counter + 256 x 8 ROM
of test_synth.py (generic, ice40 on up5k-sg48, ecp5 on ecp5-25f) and for its four-RAM bank
on up5k-sg48 (``rams-*``: 32 block RAMs of 30, so nextpnr fails to place it).
"""

import json
from pathlib import Path

import pytest
from rich.console import Console

from edgeforge.bench.report import (ReportError, normalise_cells, parse_nextpnr_errors,
                                    parse_nextpnr_report, parse_yosys_memories, parse_yosys_stat,
                                    pick_fmax, render_cost_table)
from edgeforge.bench.synth import SynthResult

DATA = Path(__file__).resolve().parent / "data"


def test_generic_stat_counts_gates_flops_and_transistors():
    stat = parse_yosys_stat(DATA / "generic.stat.json")
    assert stat["cells"] == {"$_ANDNOT_": 5, "$_AND_": 6, "$_DFF_P_": 8, "$_NAND_": 1,
                             "$_NOR_": 14, "$_XOR_": 1, "$mem_v2": 1}
    assert stat["num_cells"] == 36 and stat["port_bits"] == 10
    # "266+": the ROM cell has no CMOS figure; every logic cell does.
    assert stat["transistors"] == 266
    assert stat["transistors_partial"] is True and stat["uncounted_cells"] == ["$mem_v2"]
    assert stat["creator"].startswith("Yosys 0.70")
    assert normalise_cells("generic", stat["cells"]) == {"ff": 8, "gates": 27, "memories": 1}


def test_ice40_stat_normalises_to_lut4_ff_bram():
    stat = parse_yosys_stat(DATA / "ice40-up5k-sg48.stat.json")
    assert stat["transistors"] is None and stat["transistors_partial"] is False
    assert normalise_cells("ice40", stat["cells"], stat["port_bits"]) == {
        "lut4": 8, "ff": 8, "bram": 1, "carry": 6, "io": 10}


def test_ecp5_stat_normalises_to_lut4_ff_bram():
    stat = parse_yosys_stat(DATA / "ecp5-25f.stat.json")
    assert normalise_cells("ecp5", stat["cells"], stat["port_bits"]) == {
        "lut4": 1, "ff": 8, "bram": 1, "carry": 4, "io": 10}


def test_normalise_cells_sums_variants_and_keeps_unknown_cells_out():
    cells = {"SB_DFFSR": 2, "SB_DFFE": 3, "SB_RAM40_4KNR": 1, "SB_RAM40_4K": 2, "SB_MAC16": 1,
             "SB_SPRAM256KA": 4, "SB_WARMBOOT": 1}
    assert normalise_cells("ice40", cells) == {"lut4": 0, "ff": 5, "bram": 3, "dsp": 1,
                                               "spram": 4}
    cells = {"TRELLIS_DPR16X4": 2, "PFUMX": 3, "L6MUX21": 1, "MULT18X18D": 2, "ALU54B": 1}
    assert normalise_cells("ecp5", cells, port_bits=7) == {
        "lut4": 0, "ff": 0, "bram": 0, "lutram": 2, "mux": 4, "dsp": 2, "alu54": 1, "io": 7}
    with pytest.raises(ValueError, match=r"^target must be one of 'generic', 'ice40', 'ecp5'; "
                                         r"got 'gowin'$"):
        normalise_cells("gowin", {})


def test_memories_are_read_from_the_mem_v2_netlist():
    assert parse_yosys_memories(DATA / "generic.mem.json") == [
        {"name": "rom", "width": 8, "depth": 256, "bits": 2048, "read_ports": 1,
         "write_ports": 0, "rom_style": "block"}]


def test_nextpnr_reports_give_the_clk_fmax_whatever_the_global_net_is_called():
    ice40 = parse_nextpnr_report(DATA / "ice40-up5k-sg48.nextpnr.json")
    assert ice40["fmax"] == {"clk": {"net": "clk$SB_IO_IN_$glb_clk",
                                     "achieved": pytest.approx(143.2664794921875),
                                     "constraint": 100.0}}
    assert ice40["utilization"]["ICESTORM_RAM"] == {"used": 1, "available": 30}
    ecp5 = parse_nextpnr_report(DATA / "ecp5-25f.nextpnr.json")
    assert ecp5["fmax"]["clk"]["net"] == "$glbnet$clk$TRELLIS_IO_IN"
    assert pick_fmax(ecp5) == pytest.approx(354.3586120605469)
    assert ecp5["utilization"]["DP16KD"] == {"used": 1, "available": 56}


def clocks(**achieved):
    return {"fmax": {name: {"net": name, "achieved": mhz, "constraint": 100.0}
                     for name, mhz in achieved.items()}}


@pytest.mark.parametrize("report, expected", [
    (clocks(), None),
    (clocks(sys=80.0), 80.0),
    (clocks(clk=120.0, pix_clk=60.0), 120.0),
    (clocks(pix_clk=60.0, mem_clk=90.0, jtag=10.0), 60.0),
    (clocks(a=60.0, b=30.0), 30.0),
])
def test_pick_fmax_prefers_clk_then_clock_like_names(report, expected):
    assert pick_fmax(report) == expected


def test_nextpnr_errors_are_read_from_the_log():
    assert parse_nextpnr_errors(DATA / "rams-ice40.nextpnr.log") == [
        "Unable to place cell 'bank[0].mem.0.4_RAM', no BELs remaining to implement cell type "
        "'ICESTORM_RAM'"]
    assert parse_nextpnr_errors(DATA / "rams-ice40.stat.json") == []


@pytest.mark.parametrize("parser", [parse_yosys_stat, parse_yosys_memories,
                                    parse_nextpnr_report, parse_nextpnr_errors])
def test_a_missing_report_is_named(parser, tmp_path):
    missing = tmp_path / "absent.json"
    with pytest.raises(ReportError, match=rf"^{missing}: cannot be read"):
        parser(missing)


@pytest.mark.parametrize("parser, content, message", [
    (parse_yosys_stat, "{not json", r"is not valid JSON"),
    (parse_yosys_stat, "[1, 2]", r"expected a JSON object, got list"),
    (parse_yosys_stat, '{"modules": {}}', r"has no 'design' section and not exactly one module"),
    (parse_yosys_stat, '{"design": {"num_cells": 1}}', r"has no 'num_cells_by_type'"),
    (parse_yosys_stat, '{"design": {"num_cells": 1, "num_cells_by_type": {"$_AND_": "1"}}}',
     r"num_cells_by_type\['\$_AND_'\] should be an integer, got '1'"),
    (parse_yosys_stat, '{"design": {"num_cells": 0, "num_cells_by_type": {}, '
                       '"estimated_num_transistors": "lots"}}',
     r"estimated_num_transistors should be digits with an optional '\+', got 'lots'"),
    (parse_yosys_memories, '{"creator": "x"}', r"has no 'modules'"),
    (parse_yosys_memories, '{"modules": {"m": {"cells": {"r": {"type": "$mem_v2", '
                           '"parameters": {"WIDTH": "1000"}}}}}}', r"cell 'r' has no SIZE"),
    (parse_nextpnr_report, '{"fmax": {}}', r"has no 'fmax' and 'utilization' objects"),
    (parse_nextpnr_report, '{"fmax": {"clk": {"achieved": 1}}, "utilization": {}}',
     r"fmax\['clk'\] should have numeric 'achieved' and 'constraint'"),
])
def test_a_malformed_report_is_named(parser, content, message, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ReportError, match=rf"^{path}: .*{message}"):
        parser(path)


def result(**fields):
    base = dict(target="ice40", device="up5k-sg48", cells={}, resources={"lut4": 8, "ff": 8,
                "bram": 1}, memory_bits=2048, transistors=None, fmax_mhz=143.27, fits=True,
                over={}, seconds=1.0, log_path="x.log")
    return SynthResult(**{**base, **fields})


def render(table) -> str:
    console = Console(record=True, width=200)
    console.print(table)
    return console.export_text()


def test_cost_table_has_one_row_per_result_and_says_what_does_not_fit():
    rows = [result(target="generic", device=None, resources={"ff": 8, "gates": 27,
                   "memories": 1}, transistors=266, fmax_mhz=None, fits=None),
            result(),
            result(resources={"lut4": 61, "ff": 43, "bram": 32}, memory_bits=131072,
                   fmax_mhz=None, fits=False, over={"bram": (32, 30)})]
    text = render(render_cost_table(rows))
    header = text.splitlines()[2]
    for column in ("target", "device", "LUT4", "FF", "BRAM used/avail", "memory bits",
                   "transistors", "Fmax MHz", "fits"):
        assert column in header
    lines = [line for line in text.splitlines() if line.startswith("│")]
    assert [line.split("│")[1].strip() for line in lines] == ["generic", "ice40", "ice40"]
    assert "266" in lines[0] and "2,048" in lines[0]
    assert "1/30" in lines[1] and "143.3" in lines[1] and "yes" in lines[1]
    assert "32/30" in lines[2] and "131,072" in lines[2] and "no: bram 32/30" in lines[2]


def test_cost_table_reads_results_from_their_json():
    data = json.loads(json.dumps(result().to_json()))
    assert "1/30" in render(render_cost_table([SynthResult.from_json(data)]))
