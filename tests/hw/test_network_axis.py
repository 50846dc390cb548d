"""AXI4-Stream packet ports around a network (``axis=True``): tlast on the last beat of each
image in and on each result out, data bit-exact with the golden model; through Amaranth's
simulator and through cocotbext-axi on the generated Verilog."""

import numpy as np
import pytest
from amaranth import Fragment

from edgeforge.hw.axis_video import AXIS_PACKETS, AXISVideo
from edgeforge.hw.network.design import NetworkDesign
from edgeforge.schemes.network import random_artifact
from edgeforge.sim.amaranth_stream import Port, run_stream

from axis_helpers import cocotbext_axis_run
from network_helpers import conv, linear

# 2 x 4 x 4 image -> conv 3x3 -> relu -> pool -> flatten -> linear -> argmax: a conv window,
# a pool and a gather behind the ports.
NET = {"input": {"channels": 2, "height": 4, "width": 4, "bits": 8},
       "layers": [conv(2, 3), {"kind": "relu"}, {"kind": "maxpool", "size": 2},
                  {"kind": "flatten"}, linear(12, 5), {"kind": "argmax"}]}
PACKET_PORTS = {f"{side}_axis_{f}" for side in "sm" for f in ("tdata", "tvalid", "tready",
                                                              "tlast")}


@pytest.fixture(scope="module")
def art():
    return random_artifact(NET, seed=11)


def test_packet_ports_names_and_refusals(art):
    design = NetworkDesign(art, axis=True, logits=True)
    dut = design.build()
    assert isinstance(dut, AXISVideo) and dut.prefixes == AXIS_PACKETS
    assert set(dut.signature.members) == PACKET_PORTS | {"frame_error"}
    assert design.name.endswith("_axis") and design.config["axis"] is True
    assert design.describe()["streams"]["s_axis"]["beats_per_packet"] == 16
    Fragment.get(dut, None)
    with pytest.raises(ValueError, match=r"^verify drives the i/o stream ports, so it needs "
                                         r"axis=False, got True$"):
        design.verify()
    with pytest.raises(TypeError, match=r"^axis must be a bool, got 1$"):
        NetworkDesign(art, axis=1)
    inner = NetworkDesign(art).build()
    with pytest.raises(ValueError, match=r"^prefixes must be"):
        AXISVideo(inner, in_beats_per_line=1, in_lines=1, out_beats_per_line=1, out_lines=1,
                  prefixes=("a", "b"))
    Fragment.get(inner, None)                                  # used: no warning at exit


def _run(design, images, flags=None, seed=0):
    dut = design.build()
    beats = design.encode_inputs(images)
    words = [int.from_bytes(row.tobytes(), "little") for row in beats]
    per = design.plan.inp.beats
    flags = flags or [int(k % per == per - 1) for k in range(len(words))]
    ports = {side: Port((getattr(dut, f"{side}_axis_tdata"), getattr(dut, f"{side}_axis_tlast")),
                        getattr(dut, f"{side}_axis_tvalid"), getattr(dut, f"{side}_axis_tready"))
             for side in "sm"}
    run = run_stream(dut, list(zip(words, flags)), len(images), seed=seed, p_valid=0.7,
                     p_ready=0.5, i=ports["s"], o=ports["m"],
                     on_input=lambda ctx: ctx.get(dut.frame_error))
    return run.outputs, run.after_inputs


@pytest.mark.parametrize("kwargs", [{}, {"pixels_per_beat": 4, "logits": True},
                                    {"folding": "parallel"}])
def test_results_and_tlast_under_backpressure(art, kwargs):
    design = NetworkDesign(art, axis=True, **kwargs)
    rng = np.random.default_rng(5)
    images = design.test_inputs()[:2] + [rng.integers(0, 256, (2, 4, 4), dtype=np.uint8)
                                         for _ in range(3)]
    outs, errors = _run(design, images, seed=len(kwargs))
    expected = design.encode_outputs([design.golden(x) for x in images])
    assert [o[0] for o in outs] == [int.from_bytes(r.tobytes(), "little") for r in expected]
    assert [o[1] for o in outs] == [1] * len(images)           # tlast on every result
    assert errors == [0] * len(errors)


def test_frame_error_on_a_misplaced_tlast(art):
    design = NetworkDesign(art, axis=True)
    images = design.test_inputs()[:2]
    flags = [int(k % 16 == 15) for k in range(32)]
    flags[7] = 1                                               # tlast mid-image
    outs, errors = _run(design, images, flags)
    assert len(outs) == 2                                      # the data still goes through
    assert errors == [0] * 7 + [1] * 25


@pytest.mark.parametrize("simulator", ["icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_cocotbext_axi_drives_the_verilog(art, tmp_path, simulator):
    design = NetworkDesign(art, axis=True, pixels_per_beat=2, logits=True)
    rng = np.random.default_rng(9)
    images = design.test_inputs()[:3] + [rng.integers(0, 256, (2, 4, 4), dtype=np.uint8)
                                         for _ in range(3)]
    result = cocotbext_axis_run(design, design.encode_inputs(images),
                                design.encode_outputs([design.golden(x) for x in images]),
                                design.axis_geometry(), tmp_path, simulator, AXIS_PACKETS)
    assert result.passed and result.tests == 2, result.summary()


def test_generate_axis_through_the_cli(art, tmp_path):
    import json

    from edgeforge import save
    from edgeforge.cli import main
    path = save(art, tmp_path / "net.npz")
    assert main(["generate", str(path), "--axis", "-o", str(tmp_path / "rtl")]) == 0
    manifest = json.loads((tmp_path / "rtl" / "manifest.json").read_text())
    assert {p["name"] for p in manifest["ports"]} == PACKET_PORTS | {"frame_error", "clk", "rst"}
    assert manifest["streams"]["m_axis"]["beats_per_packet"] == 1
