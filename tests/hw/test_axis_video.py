"""AXISVideo: checks, port names, tuser/tlast placement, frame_error, and lint of a wrapped HKLUT design."""

import numpy as np
import pytest
from amaranth import Fragment, Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.hw.axis_video import AXISVideo
from edgeforge.hw.hklut.design import HKLUTDesign
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.amaranth_stream import Port, run_stream

from axis_helpers import cocotbext_axis_run
from hklut_helpers import random_artifact

HKLUT_S = HKLUTConfig()
AXIS_PORTS = {f"{side}_axis_video_{field}" for side in "sm"
              for field in ("tdata", "tvalid", "tready", "tuser", "tlast")}


class Passthrough(wiring.Component):
    """The smallest engine: ``o`` is ``i``, with a 12-bit payload (not a whole byte)."""

    i: In(stream.Signature(12))
    o: Out(stream.Signature(12))

    def elaborate(self, platform):
        m = Module()
        wiring.connect(m, wiring.flipped(self.i), wiring.flipped(self.o))
        return m


class NoStreams(wiring.Component):
    a: In(1)

    def elaborate(self, platform):
        return Module()


@pytest.fixture(scope="module")
def artifact():
    return random_artifact(HKLUT_S, seed=5)


def raster_flags(beats_per_line: int, lines: int, frames: int) -> list[tuple[int, int]]:
    """(tuser, tlast) of every beat of ``frames`` frames: the rule the wrapper must follow."""
    return [(int(b == 0 and ln == 0), int(b == beats_per_line - 1))
            for _ in range(frames) for ln in range(lines) for b in range(beats_per_line)]


def run_axis(dut, beats, n_out, *, seed=0, p_valid=1.0, p_ready=1.0, reset_after=None):
    """Drive ``(tdata, tuser, tlast)`` beats into ``s_axis_video`` and collect ``n_out`` from
    ``m_axis_video``; return the output beats and ``frame_error`` after each input transfer."""
    ports = {side: Port(tuple(getattr(dut, f"{side}_axis_video_{name}")
                              for name in ("tdata", "tuser", "tlast")),
                        getattr(dut, f"{side}_axis_video_tvalid"),
                        getattr(dut, f"{side}_axis_video_tready")) for side in ("s", "m")}
    run = run_stream(dut, beats, n_out, seed=seed, p_valid=p_valid, p_ready=p_ready,
                     i=ports["s"], o=ports["m"], reset_after=reset_after,
                     on_input=lambda ctx: ctx.get(dut.frame_error))
    return run.outputs, run.after_inputs


# -- checks and ports (no simulation) ---------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    ({"in_lines": 0}, ValueError, r"^in_lines must be a positive integer, got 0$"),
    ({"out_beats_per_line": 2.0}, ValueError,
     r"^out_beats_per_line must be a positive integer, got 2\.0$"),
    ({"inner": NoStreams}, TypeError,
     r"^inner must have an In\(stream\.Signature\) member 'i', got None$"),
    ({"inner": Module}, TypeError, r"^inner must be a wiring\.Component, got 'Module'$"),
])
def test_refuses_bad_arguments(kwargs, error, message):
    # Classes in the cases, instances here: an unused one would warn at exit.
    args = {"in_beats_per_line": 4, "in_lines": 3, "out_beats_per_line": 4, "out_lines": 3,
            **kwargs}
    args["inner"] = args.get("inner", Passthrough)()
    with pytest.raises(error, match=message):
        AXISVideo(**args)
    Fragment.get(args["inner"], None)                            # used: no warning at exit


def test_ports_carry_the_standard_names_and_whole_bytes():
    dut = AXISVideo(Passthrough(), in_beats_per_line=4, in_lines=3, out_beats_per_line=4,
                    out_lines=3)
    Fragment.get(dut, None)                                      # it elaborates
    members = dut.signature.members
    assert set(members) == AXIS_PORTS | {"frame_error"}
    assert members["s_axis_video_tdata"].shape == 16            # 12-bit payload, byte-padded
    assert members["m_axis_video_tdata"].shape == 16
    assert members["s_axis_video_tready"].flow == Out and members["m_axis_video_tready"].flow == In


# -- generic behaviour on the passthrough engine -----------------------------

def test_odd_geometry_flags_and_padding():
    # One beat per line (tlast on every beat) and a 12-bit payload padded to 16.
    dut = AXISVideo(Passthrough(), in_beats_per_line=1, in_lines=3, out_beats_per_line=1,
                    out_lines=3)
    data = [0xABC, 0x123, 0xFFF, 0x001, 0x800, 0x7FF]
    beats = [(d | 0xF000, u, t) for d, (u, t) in zip(data, raster_flags(1, 3, 2))]
    outs, errors = run_axis(dut, beats, len(beats), p_valid=0.6, p_ready=0.5, seed=3)
    assert [o[0] for o in outs] == data                          # padding bits dropped and zero
    assert [o[1:] for o in outs] == raster_flags(1, 3, 2)
    assert errors == [0] * len(beats)


def test_frame_error_is_sticky_until_reset():
    dut = AXISVideo(Passthrough(), in_beats_per_line=3, in_lines=2, out_beats_per_line=3,
                    out_lines=2)
    flags = raster_flags(3, 2, 3)
    flags[4] = (1, 0)                                            # a stray tuser mid-frame
    beats = [(k, u, t) for k, (u, t) in enumerate(flags)]
    outs, errors = run_axis(dut, beats, len(beats), p_valid=0.7, p_ready=0.7, seed=4,
                            reset_after=12)
    assert [o[0] for o in outs] == list(range(len(beats)))       # passed through regardless
    assert errors == [0] * 4 + [1] * 8 + [0] * 6                 # set by beat 4, cleared by rst


# -- the HKLUT engine behind the wrapper --------------------------------------

def _hklut_run(artifact, *, width, height, reads, lanes, channels, corrupt=None, seed=0,
               p_valid=0.7, p_ready=0.6):
    design = HKLUTDesign(artifact, width=width, height=height, reads_per_table=reads,
                         out_pixels=lanes, channels=channels, axis=True)
    geometry = design.video_geometry()
    rng = np.random.default_rng(seed)
    shape = (height, width) + ((3,) if channels == 3 else ())
    images = [rng.integers(0, 256, size=shape, dtype=np.uint8) for _ in range(2)]
    frames = 2 * channels                                       # each channel plane is a frame
    pixels = design.encode_inputs(images)[:, 0]
    flags = raster_flags(geometry["in_beats_per_line"], geometry["in_lines"], frames)
    if corrupt is not None:
        index, flag = corrupt
        flags[index] = flag
    beats = [(int(p), u, t) for p, (u, t) in zip(pixels, flags)]
    expected = design.encode_outputs([design.golden(x) for x in images])
    words = [int.from_bytes(row.tobytes(), "little") for row in expected]
    outs, errors = run_axis(design.build(), beats, len(words), seed=seed, p_valid=p_valid,
                            p_ready=p_ready)
    assert [o[0] for o in outs] == words
    assert [o[1:] for o in outs] == raster_flags(geometry["out_beats_per_line"],
                                                 geometry["out_lines"], frames)
    return errors


@pytest.mark.parametrize("width, height, reads, lanes, channels", [
    (4, 3, (2, 4), 4, 1),
    (3, 4, (4, 4), 2, 3),
])
def test_hklut_flags_and_data_over_back_to_back_frames(artifact, width, height, reads, lanes,
                                                       channels):
    errors = _hklut_run(artifact, width=width, height=height, reads=reads, lanes=lanes,
                        channels=channels, seed=width)
    assert errors == [0] * (2 * channels * width * height)


@pytest.mark.parametrize("index, flag, what", [
    (5, (0, 0), "tlast missing at the end of line 1"),
    (6, (0, 1), "tlast mid-line"),
    (12, (0, 0), "tuser missing on the second frame"),
])
def test_hklut_frame_error_on_wrong_sideband(artifact, index, flag, what):
    errors = _hklut_run(artifact, width=3, height=4, reads=(4, 4), lanes=4, channels=1,
                        corrupt=(index, flag), seed=index)
    assert errors == [0] * index + [1] * (24 - index), what


def test_generate_axis_ports_manifest_and_lint(artifact, tmp_path):
    """``edgeforge generate --axis`` writes a design with the AXI names that lints clean."""
    import json

    from edgeforge.artifact import save
    from edgeforge.cli import main
    from edgeforge.sim.lint import lint_verilog
    args = ["generate", str(save(artifact, tmp_path / "a.npz")), "--width", "4", "--height", "3",
            "--reads-per-table", "2,4", "--out-pixels", "4", "--axis", "-o", str(tmp_path / "rtl")]
    assert main(args) == 0
    manifest = json.loads((tmp_path / "rtl" / "manifest.json").read_text())
    assert manifest["design"].endswith("_axis") and manifest["config"]["axis"] is True
    ports = {p["name"]: p["width"] for p in manifest["ports"]}
    assert set(ports) == AXIS_PORTS | {"frame_error", "clk", "rst"}
    assert ports["s_axis_video_tdata"] == 8 and ports["m_axis_video_tdata"] == 32
    assert manifest["streams"]["m_axis_video"]["beats_per_line"] == 4
    assert manifest["streams"]["m_axis_video"]["lines_per_frame"] == 12
    lint = lint_verilog(tmp_path / "rtl" / f"{manifest['design']}.v")
    assert lint.ok, lint.findings


def test_axis_design_refuses_verify_and_a_non_bool(artifact):
    design = HKLUTDesign(artifact, width=4, height=3, axis=True)
    with pytest.raises(ValueError, match=r"^verify drives the i/o stream ports, so it needs "
                                         r"axis=False, got True$"):
        design.verify()
    with pytest.raises(TypeError, match=r"^axis must be a bool, got 1$"):
        HKLUTDesign(artifact, width=4, height=3, axis=1)


# -- the Verilog under cocotbext-axi's AXI4-Stream source and sink --------------

@pytest.mark.parametrize("simulator", ["icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_cocotbext_axi_drives_the_verilog(artifact, tmp_path, simulator):
    design = HKLUTDesign(artifact, width=3, height=4, reads_per_table=(4, 4), out_pixels=4,
                         channels=3, axis=True)
    rng = np.random.default_rng(9)
    images = [rng.integers(0, 256, size=(4, 3, 3), dtype=np.uint8) for _ in range(2)]
    result = cocotbext_axis_run(design, design.encode_inputs(images),
                                design.encode_outputs([design.golden(x) for x in images]),
                                design.video_geometry(), tmp_path, simulator)
    assert result.passed and result.tests == 2, result.summary()
