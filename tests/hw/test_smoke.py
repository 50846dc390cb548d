"""The smoke design end to end: Amaranth simulation, Verilog emission, lint."""

import numpy as np
import pytest

import edgeforge
from edgeforge.hw.smoke import TRAFFIC_LINE, SmokeLookup
from edgeforge.schemes.smoke import default_artifact
from edgeforge.sim.amaranth_stream import run_stream
from edgeforge.sim.cycles.record import TrafficLine
from edgeforge.sim.memory_probe import MemoryProbe


@pytest.mark.parametrize("p_valid, p_ready", [(1.0, 1.0), (0.5, 0.5), (0.9, 0.2)])
@pytest.mark.parametrize("addr_bits, data_bits", [(4, 6), (8, 8), (5, 13)])
def test_lookup_matches_golden_under_backpressure(addr_bits, data_bits, p_valid, p_ready):
    design = edgeforge.generate(default_artifact(addr_bits, data_bits, seed=3))
    rng = np.random.default_rng(addr_bits * 100 + data_bits)
    addresses = rng.integers(0, 1 << addr_bits, size=300)
    run = run_stream(design.build(), addresses.tolist(), len(addresses), seed=7,
                     p_valid=p_valid, p_ready=p_ready)
    np.testing.assert_array_equal(run.outputs, design.golden(addresses))
    if p_valid == p_ready == 1.0:
        # One beat a cycle after one cycle of latency, as the cycle model says.
        assert (run.first, run.last) == (2, len(addresses) + 1)


def test_wrong_golden_is_caught():
    design = edgeforge.generate(default_artifact(4, 4))
    addresses = list(range(16))
    out = run_stream(design.build(), addresses, 16, seed=1, p_valid=0.7, p_ready=0.6).outputs
    wrong = design.golden(np.array(addresses)).copy()
    wrong[5] ^= 1
    assert not np.array_equal(out, wrong)


def test_table_size_mismatch_is_refused():
    with pytest.raises(ValueError, match=r"^table must have 2\*\*addr_bits = 16 entries, got 8$"):
        SmokeLookup([0] * 8, 4, 8)


def test_no_hardware_options():
    with pytest.raises(ValueError, match=r"takes no hardware options, got \['width'\]$"):
        edgeforge.generate(default_artifact(), width=3)


def test_golden_refuses_out_of_range_addresses():
    design = edgeforge.generate(default_artifact(4, 4))
    with pytest.raises(ValueError, match=r"addresses must lie in 0\.\.15, got \[0, 16\]"):
        design.golden(np.array([0, 16]))


def test_emission_is_byte_identical(tmp_path):
    files_a = edgeforge.generate(default_artifact()).write_verilog(tmp_path / "a")
    files_b = edgeforge.generate(default_artifact()).write_verilog(tmp_path / "b")
    for name in ("verilog", "manifest", "filelist", "core"):
        assert getattr(files_a, name).read_bytes() == getattr(files_b, name).read_bytes()
    text = files_a.verilog.read_text()
    assert 'rom_style = "block"' in text
    manifest = __import__("json").loads(files_a.manifest.read_text())
    names = {p["name"] for p in manifest["ports"]}
    assert names == {"clk", "rst", "i__payload", "i__valid", "i__ready", "o__payload", "o__valid",
                     "o__ready"}
    assert manifest["artifact"]["content_hash"] == default_artifact().content_hash
    assert files_a.filelist.read_text() == f"{files_a.verilog.name}\n"
    assert f"toplevel: {manifest['top']}" in files_a.core.read_text()


@pytest.mark.parametrize("p", [1.0, 0.5])
def test_rom_reads_once_per_address_as_the_model_says(p):
    design = edgeforge.generate(default_artifact(6, 8))
    dut = design.build()
    probe = MemoryProbe(dut)
    addresses = list(range(64)) * 2
    run_stream(dut, addresses, len(addresses), seed=3, p_valid=p, p_ready=p, probe=probe)
    line, = design.cycle_model().traffic
    assert probe.lines(lambda path: TRAFFIC_LINE) == (
        TrafficLine(TRAFFIC_LINE, 8, line.reads * len(addresses), 0),)
