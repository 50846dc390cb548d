"""HKLUT evaluation: scores, side-by-side pictures, eval.json, and upscale_file on image files."""

import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rich.console import Console

from edgeforge.artifact import Artifact, save
from edgeforge.models.hklut.evaluate import (EvalReport, ImageScore, bicubic_upscale, evaluate,
                                             render_eval_table, upscale_file)
from edgeforge.models.metrics import psnr_y, ssim_y
from edgeforge.schemes.hklut import HKLUTConfig

def _artifact(seed=0, config=HKLUTConfig()) -> Artifact:
    rng = np.random.default_rng(seed)
    arrays = {name: rng.integers(-8, 9, spec.shape).astype(np.int8)
              for name, spec in config.array_specs().items()}
    return Artifact(scheme="hklut", config=config.to_dict(), arrays=arrays)


def nearest(artifact, lr, arithmetic="exact"):
    """Stand-in upscaler: pixel repetition by the artifact's scale."""
    s = HKLUTConfig.from_dict(artifact.config).scale
    return np.repeat(np.repeat(lr, s, axis=0), s, axis=1)


def _pairs(scale=4):
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:12 * scale, :16 * scale]
    hr = np.clip(np.stack([yy * 3, xx * 2, yy + xx], -1) + rng.normal(0, 8, (12 * scale, 16 * scale, 3)),
                 0, 255).astype(np.uint8)
    lr = np.asarray(Image.fromarray(hr).resize((16, 12), Image.BICUBIC))
    return [("ramp", lr, hr), ("grey ramp", lr[..., 0].copy(), hr[..., 0].copy())]


def test_bicubic_upscale_is_pillow_bicubic():
    lr = _pairs()[0][1]
    up = bicubic_upscale(lr, 4)
    assert up.shape == (48, 64, 3) and up.dtype == np.uint8
    np.testing.assert_array_equal(up, np.asarray(Image.fromarray(lr).resize((64, 48), Image.BICUBIC)))
    assert bicubic_upscale(lr[..., 1].copy(), 3).shape == (36, 48)
    with pytest.raises(ValueError, match=r"^factor must be an integer >= 1, got 0$"):
        bicubic_upscale(lr, 0)


def test_evaluate_scores_pictures_and_json(tmp_path):
    pairs = _pairs()
    report = evaluate(_artifact(), pairs, out_dir=tmp_path, upscaler=nearest, progress=False)
    assert isinstance(report, EvalReport) and report.scale == 4 and report.arithmetic == "exact"
    assert [s.name for s in report.images] == ["ramp", "grey ramp"]
    for score, (name, lr, hr) in zip(report.images, pairs):
        sr = nearest(_artifact(), lr)
        assert score.psnr == pytest.approx(psnr_y(sr, hr, 4))
        assert score.ssim == pytest.approx(ssim_y(sr, hr))
        assert score.bicubic_psnr == pytest.approx(psnr_y(bicubic_upscale(lr, 4), hr, 4))
        # Bicubic beats pixel repetition on a smooth ramp: the numbers are not swapped.
        assert score.bicubic_psnr > score.psnr
    assert report.mean.psnr == pytest.approx(np.mean([s.psnr for s in report.images]))
    assert report.mean.bicubic_ssim == pytest.approx(np.mean([s.bicubic_ssim for s in report.images]))

    assert [p.name for p in report.pictures] == ["ramp_x4.png", "grey_ramp_x4.png"]
    for path in report.pictures:
        with Image.open(path) as im:
            assert im.mode == "RGB"
            # Four 64-wide panels with 3 gaps of 4 px, under an 18 px label band.
            assert im.size == (4 * 64 + 3 * 4, 48 + 18)
            sheet = np.asarray(im)
    hr = pairs[1][2]
    np.testing.assert_array_equal(sheet[18:, 3 * 68:], np.stack([hr] * 3, -1))
    np.testing.assert_array_equal(sheet[18:, :64, 0], nearest(_artifact(), pairs[1][1]))

    data = json.loads((tmp_path / "eval.json").read_text())
    assert data["scale"] == 4 and data["arithmetic"] == "exact"
    assert data["pictures"] == ["ramp_x4.png", "grey_ramp_x4.png"]
    assert data["images"][0]["psnr"] == pytest.approx(report.images[0].psnr)
    assert data["mean"]["name"] == "mean" and "Pillow" in data["baseline"]


def test_perfect_upscaler_gives_inf_psnr_in_report_json_and_table(tmp_path):
    pairs = _pairs()
    lookup = {id(lr): hr for _, lr, hr in pairs}
    report = evaluate(_artifact(), pairs, out_dir=tmp_path, progress=False,
                      upscaler=lambda art, lr, arithmetic: lookup[id(lr)])
    assert report.mean.psnr == math.inf and report.images[0].ssim == pytest.approx(1.0)
    data = json.loads((tmp_path / "eval.json").read_text())
    assert data["images"][0]["psnr"] == "inf" and data["mean"]["psnr"] == "inf"
    console = Console(file=io.StringIO(), width=200, record=True)
    console.print(render_eval_table(report))
    assert re.search(r"mean .* inf .*\+inf", console.export_text())


def test_arithmetic_reaches_the_upscaler_and_path_artifacts_load(tmp_path):
    seen = []

    def spy(artifact, lr, arithmetic):
        seen.append((artifact.scheme, arithmetic))
        return nearest(artifact, lr)

    path = save(_artifact(), tmp_path / "a.npz")
    report = evaluate(path, _pairs()[:1], arithmetic="float32", upscaler=spy, progress=False)
    assert seen == [("hklut", "float32")] and report.arithmetic == "float32"
    assert report.artifact == str(path) and report.pictures == []


def test_render_eval_table_rows_and_caption():
    report = EvalReport(scale=4, arithmetic="exact",
                        images=[ImageScore("a", 28.5, 0.8, 26.8, 0.75)],
                        mean=ImageScore("mean", 28.5, 0.8, 26.8, 0.75))
    console = Console(file=io.StringIO(), width=300, record=True)
    console.print(render_eval_table(report))
    text = console.export_text()
    assert re.search(r"a .*26\.80 .*28\.50 .*\+1\.70 .*0\.7500 .*0\.8000", text)
    assert "shave 4 px" in text and "Pillow" in text and "BICUBIC" in text
    with pytest.raises(TypeError, match=r"^report must be an EvalReport, got dict$"):
        render_eval_table({})


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(arithmetic="float64"), ValueError,
     "arithmetic must be one of ('exact', 'float32'), got 'float64'"),
    (dict(pairs=[]), ValueError, "pairs must be a non-empty list of (name, lr, hr), got []"),
    (dict(pairs=[("x", np.zeros((4, 4), np.uint8), np.zeros((15, 16), np.uint8))]), ValueError,
     "pairs[0] ('x') hr must be the x4 size of lr (4, 4), that is (16, 16), got (15, 16)"),
    (dict(pairs=[("x", np.zeros((4, 4)), np.zeros((16, 16), np.uint8))]), TypeError,
     "pairs[0] lr must have dtype uint8, got dtype('float64')"),
    (dict(pairs=_pairs()[:1] * 2), ValueError,
     "pairs[1] repeats an image name (pictures are named after it), got 'ramp'"),
    (dict(upscaler=lambda a, lr, arithmetic: lr), ValueError,
     "upscaler output for 'ramp' must be uint8 of shape (48, 64, 3), got uint8 (12, 16, 3)"),
])
def test_evaluate_rejects_bad_input(kwargs, exc, message):
    kwargs = {"pairs": _pairs()[:1], "upscaler": nearest, "progress": False, **kwargs}
    with pytest.raises(exc, match="^" + re.escape(message) + "$"):
        evaluate(_artifact(), **kwargs)


def test_evaluate_rejects_another_scheme():
    with pytest.raises(ValueError, match=r"^artifact must be an HKLUT artifact, got scheme 'smoke'$"):
        evaluate(Artifact(scheme="smoke", config={}, arrays={}), _pairs(), upscaler=nearest)


# upscale_file ------------------------------------------------------------------------------

def _write(tmp_path, name, img, mode=None, **save_kwargs):
    path = tmp_path / name
    im = Image.fromarray(img) if mode is None else Image.fromarray(img).convert(mode)
    im.save(path, **save_kwargs)
    return path


@pytest.mark.parametrize("kind", ["grey", "rgb"])
def test_upscale_file_round_trip_with_stand_in(tmp_path, kind):
    lr = _pairs()[0][1] if kind == "rgb" else _pairs()[1][1]
    src = _write(tmp_path, f"{kind}.png", lr)
    out = upscale_file(_artifact(), src, tmp_path / "out" / "up.png", upscaler=nearest)
    assert out == tmp_path / "out" / "up.png"
    with Image.open(out) as im:
        assert im.mode == ("L" if kind == "grey" else "RGB")
        np.testing.assert_array_equal(np.asarray(im), nearest(_artifact(), lr))


@pytest.mark.parametrize("kind", ["grey", "rgb"])
@pytest.mark.parametrize("arithmetic", ["exact", "float32"])
def test_upscale_file_with_the_golden_model(tmp_path, kind, arithmetic):
    from edgeforge.sim.golden import hklut as golden
    lr = _pairs()[0][1] if kind == "rgb" else _pairs()[1][1]
    art = _artifact(3)
    out = upscale_file(art, _write(tmp_path, "in.png", lr), tmp_path / "up.png",
                       arithmetic=arithmetic)
    with Image.open(out) as im:
        np.testing.assert_array_equal(np.asarray(im), golden.upscale(art, lr, arithmetic=arithmetic))


def test_upscale_file_palette_and_opaque_alpha_are_read_as_rgb(tmp_path):
    rgb = _pairs()[0][1]
    palette = _write(tmp_path, "p.png", rgb, mode="P")
    with Image.open(palette) as im:
        expected = np.asarray(im.convert("RGB"))
    out = upscale_file(_artifact(), palette, tmp_path / "p_up.png", upscaler=nearest)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), nearest(_artifact(), expected))

    opaque = _write(tmp_path, "rgba.png", np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]))
    out = upscale_file(_artifact(), opaque, tmp_path / "a_up.png", upscaler=nearest)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), nearest(_artifact(), rgb))


def _png16_rgb(path, h=12, w=16):
    """A 16-bit-per-channel RGB PNG, which Pillow opens as plain mode 'RGB'."""
    import struct
    import zlib

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = b"".join(b"\x00" + bytes(6 * w) for _ in range(h))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def test_upscale_file_errors(tmp_path):
    art = _artifact()
    rgb = _pairs()[0][1]
    with pytest.raises(FileNotFoundError, match=r"^in_png does not exist, got '.*nope\.png'$"):
        upscale_file(art, tmp_path / "nope.png", tmp_path / "o.png", upscaler=nearest)
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"^in_png is not an image Pillow can read, got '.*text\.png'$"):
        upscale_file(art, tmp_path / "text.png", tmp_path / "o.png", upscaler=nearest)
    grey16 = tmp_path / "g16.png"
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(grey16)
    with pytest.raises(ValueError, match=r"^in_png must be an 8-bit grey or RGB image; 16-bit and "
                                         r"float images are not read, got mode 'I;16' stored as "
                                         r"'I;16B'$"):
        upscale_file(art, grey16, tmp_path / "o.png", upscaler=nearest)
    with pytest.raises(ValueError, match=r"got mode 'RGB' stored as 'RGB;16B'$"):
        upscale_file(art, _png16_rgb(tmp_path / "rgb16.png"), tmp_path / "o.png", upscaler=nearest)
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[0, 0] = 10
    rgba = _write(tmp_path, "t.png", np.dstack([rgb, alpha]))
    with pytest.raises(ValueError, match=r"^in_png has transparent pixels, which upscaling would "
                                         r"lose; flatten it onto a background first, got mode "
                                         r"'RGBA'$"):
        upscale_file(art, rgba, tmp_path / "o.png", upscaler=nearest)
    cmyk = _write(tmp_path, "c.jpg", rgb, mode="CMYK")
    with pytest.raises(ValueError, match=r"^in_png must be an 8-bit grey, RGB or palette image, "
                                         r"got mode 'CMYK'$"):
        upscale_file(art, cmyk, tmp_path / "o.png", upscaler=nearest)
    assert not (tmp_path / "o.png").exists()


# The authors' released tables -------------------------------------------------------------

@pytest.mark.parametrize("arithmetic, expected", [("exact", 28.674), ("float32", 28.673)])
def test_released_tables_on_astronaut_match_the_documented_psnr(hklut_official_dir, tmp_path,
                                                                  arithmetic, expected):
    from edgeforge.models.data import builtin_pairs
    from edgeforge.models.hklut.importer import import_lut_dir

    astronaut = [p for p in builtin_pairs(4, "test") if p[0] == "astronaut"]
    report = evaluate(import_lut_dir(hklut_official_dir), astronaut, arithmetic=arithmetic,
                      out_dir=tmp_path, progress=False)
    # Figures from the README beside the released tables (x4 from Pillow-bicubic LR).
    score = report.images[0]
    assert round(score.psnr, 3) == expected
    assert round(score.bicubic_psnr, 3) == 26.838
    assert score.ssim > score.bicubic_ssim
    with Image.open(report.pictures[0]) as im:
        assert im.size == (4 * 512 + 3 * 4, 512 + 18)


def test_shipped_trained_artifact_beats_bicubic_on_astronaut():
    from edgeforge.models.data import builtin_pairs

    path = Path(__file__).resolve().parents[2] / "models" / "hklut" / "pretrained" / "hklut-s-x4.npz"
    if not path.is_file():
        pytest.skip(f"no trained artifact at {path}")
    astronaut = [p for p in builtin_pairs(4, "test") if p[0] == "astronaut"]
    score = evaluate(path, astronaut, progress=False).images[0]
    assert score.psnr > score.bicubic_psnr + 1.0 and score.ssim > score.bicubic_ssim
