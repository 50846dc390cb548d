"""HKLUTDesign: config checks, stream encoding, manifest, lint, and cocotb + Verilator vs golden."""

import re

import numpy as np
import pytest

from edgeforge.hw.hklut.design import HKLUTDesign
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.golden.hklut import upscale

from hklut_helpers import random_artifact

HKLUT_S = HKLUTConfig()


@pytest.fixture(scope="module")
def artifact():
    return random_artifact(HKLUT_S, seed=11)


@pytest.mark.parametrize("kwargs, message", [
    ({"channels": 2}, r"^channels must be one of \(1, 3\), got 2$"),
    ({"reads_per_table": (2, 3)}, r"^reads_per_table entries must be one of "
                                  r"\(1, 2, 4, 8, 16\), got \(2, 3\)$"),
    ({"out_pixels": 5}, r"^out_pixels must be one of \(1, 2, 4, 8, 16\), got 5$"),
    ({"width": 1}, r"^width must be an integer of at least 3, got 1$"),
    ({"width": 100_000}, r"^width must be at most 4096, the side of the largest supported LR "
                         r"frame \(4096 x 4096; at 4096 pixels a row the buffers of this "
                         r"config hold 1\.87 Mbit\), got 100000$"),
    ({"height": 2 ** 32}, r"^height must be at most 4096, .*, got 4294967296$"),
    ({"height": 99999999999999999999}, r"^height must be at most 4096, .*, "
                                       r"got 99999999999999999999$"),
    ({"buffer_ram": "bram"}, r"^buffer_ram must be one of \('auto', 'block', 'lut'\), "
                             r"got 'bram'$"),
])
def test_design_refuses_bad_configs(artifact, kwargs, message):
    with pytest.raises(ValueError, match=message):
        HKLUTDesign(artifact, **{"width": 4, "height": 4, **kwargs})


def test_streams_encode_planes_in_order(artifact):
    design = HKLUTDesign(artifact, width=4, height=3, reads_per_table=(2, 4), out_pixels=4,
                         channels=3)
    x = np.arange(36, dtype=np.uint8).reshape(3, 4, 3)
    beats = design.encode_inputs([x, x])
    assert beats.shape == (72, 1)
    np.testing.assert_array_equal(beats[:12, 0], x[..., 0].ravel())     # R plane first
    y = design.golden(x)
    np.testing.assert_array_equal(y, upscale(artifact, x))
    out = design.encode_outputs([y])
    assert out.shape == (12 * 16 * 3 // 4, 4)
    np.testing.assert_array_equal(out[0], y[0, :4, 0])                   # pixel k = byte k
    np.testing.assert_array_equal(design.decode_outputs(out, 1)[0], y)
    with pytest.raises(ValueError, match=r"^input must be a uint8 array of shape \(3, 4, 3\), "):
        design.encode_inputs([x[..., 0]])


def test_test_inputs_cover_the_edge_cases(artifact):
    design = HKLUTDesign(artifact, width=5, height=3, channels=3)
    images = design.test_inputs()
    assert all(x.shape == (3, 5, 3) and x.dtype == np.uint8 for x in images)
    assert images[0].max() == 0 and images[1].min() == 255
    assert len(images) >= 5


def test_manifest_ports_widths_and_lint(artifact, tmp_path):
    from edgeforge.sim.lint import lint_verilog
    design = HKLUTDesign(artifact, width=3, height=3, reads_per_table=(2, 4), out_pixels=4)
    files = design.write_verilog(tmp_path)
    manifest = design.manifest()
    assert {p["name"] for p in manifest["ports"]} == {
        "clk", "rst", "i__payload", "i__valid", "i__ready", "o__payload", "o__valid", "o__ready"}
    assert {p["name"]: p["width"] for p in manifest["ports"]}["o__payload"] == 32
    widths = HKLUT_S.widths()
    assert manifest["widths"]["denom"] == widths.denom == 6
    assert manifest["widths"]["n_bits"] == widths.n_bits
    assert manifest["cycle_model"]["detail"]["asymptotic_cycles_per_input_pixel"] == 4
    assert manifest["structure"]["stage_sizes"] == [[3, 3], [6, 6]]
    lint = lint_verilog(files.verilog)
    assert lint.ok, lint.findings


def test_full_rate_verilog_lints_clean(artifact, tmp_path):
    from edgeforge.sim.lint import lint_verilog
    design = HKLUTDesign(artifact, width=4, height=3, reads_per_table=(4, 16), out_pixels=16)
    assert design.cycle_model().detail["asymptotic_cycles_per_input_pixel"] == 1
    lint = lint_verilog(design.write_verilog(tmp_path).verilog)
    assert lint.ok, lint.findings


def test_rgb_lanes_verilog_lints_clean(artifact, tmp_path):
    from edgeforge.sim.lint import lint_verilog
    design = HKLUTDesign(artifact, width=4, height=3, out_pixels=4, channels=3, rgb_lanes=True,
                         axis=True)
    lint = lint_verilog(design.write_verilog(tmp_path).verilog)
    assert lint.ok, lint.findings


def _buffer_memories(verilog: str) -> list[tuple[str, str, int]]:
    """(memory kind, name, bits a word) of every memory with a ``ram_style``."""
    found = re.findall(r'\(\* ram_style = "(\w+)" \*\)\s*reg \[(\d+):0\] \\(\S+)', verilog)
    return [(kind, name, int(msb) + 1) for kind, msb, name in found]


@pytest.mark.parametrize("buffer_ram, kinds", [
    ("auto", {"distributed"}), ("block", {"block"}), ("lut", {"distributed"})])
def test_buffer_ram_places_every_buffer(artifact, buffer_ram, kinds):
    design = HKLUTDesign(artifact, width=4, height=3, buffer_ram=buffer_ram)
    memories = _buffer_memories(design.verilog)
    # 8 line-buffer rows and 2 x 2 re-order banks per stage; nothing else has a ram_style.
    assert len(memories) == 2 * (8 + 4)
    assert {kind for kind, _, _ in memories} == kinds
    assert design.slug.endswith("_c1" if buffer_ram == "auto" else f"_{buffer_ram}ram")
    # Only what varies is stored: 8-bit input pixels (rem = 0) in the first line buffer,
    # (q, rem) between stages, rounded 8-bit output pixels in the last re-order.
    widths = {name.split(".")[0]: bits for _, name, bits in memories}
    assert widths == {"s0_window": 8, "s0_reorder": 11, "s1_window": 11, "s1_reorder": 8}


def _verify(design, inputs, **kwargs):
    from simulators import rtl_verify        # on --simulator's choice when given
    return rtl_verify(design, inputs, **kwargs)


# One Verilator build per config and size; each is about two minutes here, so the
# default suite builds two and leaves the rest to --slow.
def test_rtl_matches_golden_rgb_with_backpressure(artifact):
    design = HKLUTDesign(artifact, width=8, height=8, reads_per_table=(2, 4), out_pixels=4,
                         channels=3)
    result = _verify(design, design.test_inputs(seed=1))
    steady = result.measurements["stream/src=none/sink=none"]
    planes = 3 * len(design.test_inputs(seed=1))
    # The testbench counts from reset release, one edge before the first input transfer.
    assert steady["cycles"] == design.cycles().total_cycles(planes) + 1


def test_rtl_released_luts_odd_size(hklut_official_dir):
    from edgeforge.models.hklut.importer import import_lut_dir
    design = HKLUTDesign(import_lut_dir(hklut_official_dir), width=7, height=5,
                         reads_per_table=(1, 1), out_pixels=1)
    _verify(design, design.test_inputs(seed=2))


@pytest.mark.slow
@pytest.mark.parametrize("reads, lanes, size, channels", [
    ((2, 2), 2, (3, 3), 3),
    ((1, 1), 1, (4, 5), 1),
    ((2, 4), 4, (6, 3), 1),
    ((4, 16), 16, (4, 4), 3),     # full rate: 4 stage-2 pixels and 16 output pixels a cycle
])
def test_rtl_matches_golden_other_configs(artifact, reads, lanes, size, channels):
    h, w = size
    design = HKLUTDesign(artifact, width=w, height=h, reads_per_table=reads, out_pixels=lanes,
                         channels=channels)
    _verify(design, design.test_inputs(seed=3), pauses="none:none,random:random,heavy:heavy")


@pytest.mark.slow
def test_rtl_released_luts_photo_64(hklut_official_dir):
    from edgeforge.models.hklut.importer import import_lut_dir
    design = HKLUTDesign(import_lut_dir(hklut_official_dir), width=64, height=64,
                         reads_per_table=(2, 2), out_pixels=2, channels=3)
    photo = design.test_inputs()[-1]
    result = _verify(design, [photo], pauses="none:none")
    measured = result.measurements["stream/src=none/sink=none"]["cycles"]
    assert measured == pytest.approx(design.cycles().total_cycles(3), rel=0.02)


def test_auto_buffers_split_by_depth():
    from edgeforge.hw.logic import BUFFER_LUTRAM_DEPTH, buffer_attrs
    assert buffer_attrs(BUFFER_LUTRAM_DEPTH) == {"ram_style": "distributed"}
    assert buffer_attrs(BUFFER_LUTRAM_DEPTH + 1) == {"ram_style": "block"}
    assert buffer_attrs(BUFFER_LUTRAM_DEPTH + 1, "lut") == {"ram_style": "distributed"}


def test_rgb_lanes_encode_a_pixel_a_beat(artifact):
    design = HKLUTDesign(artifact, width=4, height=3, reads_per_table=(2, 2), out_pixels=2,
                         channels=3, rgb_lanes=True)
    assert design.slug.endswith("_c3_lanes") and design.planes_per_image == 1
    x = np.arange(36, dtype=np.uint8).reshape(3, 4, 3)
    beats = design.encode_inputs([x])
    assert beats.shape == (12, 3)
    np.testing.assert_array_equal(beats[1], x[0, 1])                    # R, G, B of one pixel
    y = design.golden(x)
    out = design.encode_outputs([y])
    assert out.shape == (12 * 16 // 2, 6)
    np.testing.assert_array_equal(out[0], np.concatenate([y[0, 0], y[0, 1]]))
    np.testing.assert_array_equal(design.decode_outputs(out, 1)[0], y)
    streams = design.manifest()["streams"]
    assert (streams["i"]["payload_bits"], streams["o"]["payload_bits"]) == (24, 48)
    with pytest.raises(ValueError, match=r"^rgb_lanes needs channels=3, got channels=1$"):
        HKLUTDesign(artifact, width=4, height=3, rgb_lanes=True)
    with pytest.raises(TypeError, match=r"^rgb_lanes must be a bool, got 1$"):
        HKLUTDesign(artifact, width=4, height=3, channels=3, rgb_lanes=1)


def test_rtl_rgb_lanes_matches_golden_icarus(artifact):
    # Three engines side by side: an RGB image costs the cycles of one plane.
    design = HKLUTDesign(artifact, width=5, height=4, reads_per_table=(2, 2), out_pixels=2,
                         channels=3, rgb_lanes=True)
    images = design.test_inputs(seed=2)[3:5]                           # ramp, random
    result = _verify(design, images, simulator="icarus", pauses="none:none,random:random")
    steady = result.measurements["stream/src=none/sink=none"]
    assert steady["cycles"] == design.cycles().total_cycles(len(images)) + 1


def _memory_bits_built(component) -> int:
    """Width x depth of every Memory the elaborated component holds, submodules included."""
    from amaranth import Module, Shape
    from amaranth.lib import memory
    total = 0
    m = component.elaborate(None)
    # Read here, never handed to a backend: no "created but never used" warnings.
    component._MustUse__silence = m._MustUse__silence = True
    if isinstance(m, Module):
        # Module keeps its submodules, as (submodule, source location), in these two
        # private fields (amaranth 0.5).
        for sub in [*m._named_submodules.values(), *m._anon_submodules]:
            sub = sub[0] if isinstance(sub, tuple) else sub
            if isinstance(sub, memory.Memory):
                sub._MustUse__silence = True
                total += Shape.cast(sub.shape).width * sub.depth
            else:
                total += _memory_bits_built(sub)
    return total


@pytest.mark.parametrize("config", [
    {"width": 12, "height": 3},
    {"width": 8, "height": 4, "reads_per_table": (2, 4), "out_pixels": 4, "buffer_ram": "block"},
    {"width": 8, "height": 3, "channels": 3, "rgb_lanes": True, "reads_per_table": (4, 16),
     "out_pixels": 16},
])
def test_memory_estimate_is_what_the_built_design_holds(artifact, config):
    """Issue 10.5: the size is known before the (possibly long) build, and it is exact."""
    design = HKLUTDesign(artifact, **config)
    bits = design.memory_bits()
    assert bits["tables"] + bits["buffers"] == _memory_bits_built(design.build())


def test_a_factor_one_stage_lints_clean(tmp_path):
    """Issue 19: a stage of factor 1 (one re-order bank) gave zero-width counters, written
    `wire [-1:0]`, which Verilator refused to build (Icarus accepted them)."""
    from edgeforge.sim.lint import lint_verilog
    config = HKLUTConfig(stages=(1,), msb_kernels="hd", lsb_kernels="hd")
    design = HKLUTDesign(random_artifact(config, seed=1), width=4, height=3)
    assert "[-1:0]" not in design.verilog
    lint = lint_verilog(design.write_verilog(tmp_path).verilog)
    assert lint.ok, lint.findings
