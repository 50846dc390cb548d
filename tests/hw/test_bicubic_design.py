"""BicubicDesign: config checks, encoding, manifest, lint, and cocotb (Verilator, Icarus) vs golden."""

import numpy as np
import pytest

from edgeforge.hw.bicubic.design import BicubicDesign
from edgeforge.schemes.bicubic import default_artifact
from edgeforge.sim.golden.bicubic import upscale


@pytest.fixture(scope="module")
def artifact():
    return default_artifact(4, 8)


@pytest.mark.parametrize("kwargs, message", [
    ({"channels": 2}, r"^channels must be one of \(1, 3\), got 2$"),
    ({"width": 1}, r"^width must be an integer of at least 3, got 1$"),
    ({"out_pixels": 3}, r"^out_pixels must be one of \(1, 2, 4\), got 3$"),
])
def test_design_refuses_bad_configs(artifact, kwargs, message):
    with pytest.raises(ValueError, match=message):
        BicubicDesign(artifact, **{"width": 4, "height": 4, **kwargs})
    with pytest.raises(TypeError, match=r"^axis must be a bool, got 1$"):
        BicubicDesign(artifact, width=4, height=4, axis=1)


def test_streams_and_manifest(artifact, tmp_path):
    from edgeforge.sim.lint import lint_verilog
    design = BicubicDesign(artifact, width=5, height=3, out_pixels=4, channels=3)
    x = np.arange(45, dtype=np.uint8).reshape(3, 5, 3)
    y = design.golden(x)
    np.testing.assert_array_equal(y, upscale(artifact, x))
    assert design.encode_inputs([x]).shape == (45, 1)
    out = design.encode_outputs([y])
    assert out.shape == (3 * 5 * 16 * 3 // 4, 4)
    np.testing.assert_array_equal(design.decode_outputs(out, 1)[0], y)
    files = design.write_verilog(tmp_path)
    manifest = design.manifest()
    assert {p["name"]: p["width"] for p in manifest["ports"]}["o__payload"] == 32
    assert manifest["arithmetic"]["coefficients"] == [[-11, 100, 186, -19], [-2, 23, 247, -12],
                                                       [-12, 247, 23, -2], [-19, 186, 100, -11]]
    assert manifest["structure"]["multipliers"] == 12
    assert manifest["cycle_model"]["detail"]["cycles_per_input_pixel"] == 16
    lint = lint_verilog(files.verilog)
    assert lint.ok, lint.findings


def test_axis_verilog_lints_clean(artifact, tmp_path):
    from edgeforge.sim.lint import lint_verilog
    design = BicubicDesign(artifact, width=4, height=3, out_pixels=2, axis=True)
    assert {p["name"] for p in design.manifest()["ports"]} >= {"s_axis_video_tdata",
                                                              "m_axis_video_tlast"}
    lint = lint_verilog(design.write_verilog(tmp_path).verilog)
    assert lint.ok, lint.findings
    with pytest.raises(ValueError, match=r"^verify drives the i/o stream ports"):
        design.verify()


def _photo_crops(h, w):
    """One crop of every built-in test photo, at a different place in each."""
    from edgeforge.models.data import sample_images
    crops = []
    for k, img in enumerate(sample_images("test").values()):
        y0, x0 = (k * 17) % (img.shape[0] - h), (k * 29) % (img.shape[1] - w)
        crops.append(np.ascontiguousarray(img[y0:y0 + h, x0:x0 + w]))
    return crops


def _rtl_inputs(design):
    """The default edge cases, a crop of each test photo and random RGB frames."""
    h, w = design.height, design.width
    rng = np.random.default_rng(5)
    return (design.test_inputs(seed=1) + _photo_crops(h, w)
            + [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for _ in range(3)])


# One Verilator build (most of this test's time) for every input, without pauses and
# under random pauses; heavy pauses and other configs with --slow.
RTL_DESIGN = {"width": 10, "height": 6, "out_pixels": 2, "channels": 3}


def test_rtl_matches_golden_random_and_photos_with_backpressure(artifact):
    design = BicubicDesign(artifact, **RTL_DESIGN)
    images = _rtl_inputs(design)
    result = design.verify(images, pauses="none:none,random:random", seed=1)
    assert result.passed, result.failures
    steady = result.measurements["stream/src=none/sink=none"]
    # The testbench counts from reset release, one edge before the first input transfer.
    assert steady["cycles"] == design.cycles().total_cycles(3 * len(images)) + 1
    assert result.output_beats == len(images) * 3 * 6 * 10 * 16 // 2


@pytest.mark.slow
def test_rtl_matches_golden_under_heavy_pauses(artifact):
    design = BicubicDesign(artifact, **RTL_DESIGN)
    result = design.verify(_rtl_inputs(design), pauses="heavy:heavy,heavy:none,none:heavy",
                           seed=2)
    assert result.passed, result.failures


def test_rtl_matches_golden_icarus():
    design = BicubicDesign(default_artifact(3, 10), width=4, height=3, out_pixels=1)
    images = design.test_inputs(seed=2)[3:5]                           # ramp, random
    result = design.verify(images, simulator="icarus", pauses="none:none,random:random")
    assert result.passed, result.failures


@pytest.mark.slow
@pytest.mark.parametrize("scale, bits, size, lanes, channels", [
    (4, 10, (5, 7), 4, 1), (2, 6, (8, 3), 2, 3), (3, 12, (3, 9), 1, 1)])
def test_rtl_matches_golden_other_configs(scale, bits, size, lanes, channels):
    h, w = size
    design = BicubicDesign(default_artifact(scale, bits), width=w, height=h, out_pixels=lanes,
                           channels=channels)
    result = design.verify(design.test_inputs(seed=3), pauses="none:none,random:random,heavy:heavy")
    assert result.passed, result.failures
