"""HKLUT golden model: float32 mode vs the torch reference, exact mode vs a per-pixel loop model.

The torch reference (``edgeforge.sim.golden.hklut_reference``) was confirmed once
against the authors' own ``models/luts.py`` / ``models/hklut.py`` on their
released tables (max difference 0); here the vectorised golden model must
match it exactly. The exact mode is checked against :func:`slow_exact`, written
below from the readout's definition with explicit loops, explicit padding and
rational arithmetic, so that it shares no code with the golden model.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from edgeforge.artifact import Artifact
from edgeforge.models.hklut.importer import import_lut_dir
from edgeforge.schemes.hklut import HKLUTConfig, table_name
from edgeforge.sim.golden import hklut as golden
from edgeforge.sim.golden import hklut_reference as reference

CONFIGS = [HKLUTConfig((2, 2), "hdb", "hd"), HKLUTConfig((3,), "hdb", "hd"),
           HKLUTConfig((2, 1, 2), "hdb", "hd"), HKLUTConfig((2, 2), "hd", "hd"),
           HKLUTConfig((2, 2), "hdb", "hdb"), HKLUTConfig((4,), "hd", "hdb")]
CONFIG_IDS = [f"{'x'.join(map(str, c.stages))}-{c.msb_kernels}-{c.lsb_kernels}" for c in CONFIGS]


def random_tables(config: HKLUTConfig, seed: int, spread: int = 127) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.integers(-spread, spread + 1, spec.shape, dtype=np.int8)
            for name, spec in config.array_specs().items()}


def bicubic_lr(img: np.ndarray, factor: int = 4) -> np.ndarray:
    h, w = img.shape[0] // factor, img.shape[1] // factor
    return np.asarray(Image.fromarray(img[:h * factor, :w * factor]).resize((w, h), Image.BICUBIC))


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    """Small LR photographs (PIL bicubic x4 from scikit-image samples), odd sizes included."""
    import skimage.data as data
    return {"astronaut_lr": bicubic_lr(data.astronaut())[32:96, 40:104],
            "coffee_lr_odd": bicubic_lr(data.coffee())[10:47, 30:83],      # 37x53
            "camera_lr_grey": bicubic_lr(data.camera())[:41, :29],
            "chelsea_lr_thin": bicubic_lr(data.chelsea())[:23, 50:53],     # 3 columns
            "astronaut_3x3": data.astronaut()[200:203, 200:203]}


@pytest.fixture(scope="module")
def official(hklut_official_dir) -> Artifact:
    return import_lut_dir(hklut_official_dir)


# --- float32 mode == the authors' float readout ---------------------------------------------

@pytest.mark.parametrize("name", ["astronaut_lr", "coffee_lr_odd", "camera_lr_grey",
                                  "chelsea_lr_thin", "astronaut_3x3"])
def test_float32_equals_reference_on_released_luts(official, photos, name):
    img = photos[name]
    out = golden.upscale(official, img, "float32")
    assert out.shape == (img.shape[0] * 4, img.shape[1] * 4) + img.shape[2:]
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, reference.upscale(official, img))


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_float32_equals_reference_on_random_luts(config, photos):
    # Small table values keep outputs off the clamps, so the comparison exercises
    # the float order of operations rather than saturation.
    tables = random_tables(config, seed=3, spread=20)
    rng = np.random.default_rng(4)
    for img in (photos["coffee_lr_odd"][:13, :11], photos["camera_lr_grey"][:9, :7],
                rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)):
        np.testing.assert_array_equal(golden.upscale((tables, config), img, "float32"),
                                      reference.upscale((tables, config), img))


# --- exact mode == a per-pixel loop model -----------------------------------------------------

def padded_value(plane: np.ndarray, y: int, x: int, mode: str) -> int:
    """plane[y, x] after right/bottom padding.

    Reflect mirrors without repeating the edge; replicate repeats the edge.
    """
    h, w = plane.shape
    if mode == "reflect":
        y, x = (2 * (h - 1) - y if y >= h else y), (2 * (w - 1) - x if x >= w else x)
    else:
        y, x = min(y, h - 1), min(x, w - 1)
    return int(plane[y, x])


def slow_branch_sum(tables, config, stage, branch, plane):
    """S of one branch: every kernel, every rotation, every pixel, one lookup at a time."""
    r = config.stages[stage]
    h, w = plane.shape
    total = np.zeros((h * r, w * r), np.int64)
    for kernel in config.kernels(branch):
        table = tables[table_name(stage, branch, kernel.name)]
        for rot in range(4):
            turned = np.rot90(plane, rot)
            th, tw = turned.shape
            out = np.zeros((th * r, tw * r), np.int64)
            for i in range(th):
                for j in range(tw):
                    index = 0
                    for dy, dx in kernel.taps:
                        index = index * 16 + padded_value(turned, i + dy, j + dx,
                                                          config.padding(branch))
                    out[i * r:(i + 1) * r, j * r:(j + 1) * r] = table[index]
            total += np.rot90(out, 4 - rot)
    return total


def slow_exact(tables, config, plane):
    """Per stage: (S_msb, S_lsb, 255 y as Fractions) and the final uint8 plane."""
    k_msb, k_lsb = len(config.kernels("msb")), len(config.kernels("lsb"))
    y = [[Fraction(int(v), 255) for v in row] for row in plane]
    q = plane.astype(np.int64)
    stages = []
    for stage, r in enumerate(config.stages):
        s_msb = slow_branch_sum(tables, config, stage, "msb", q >> 4)
        s_lsb = slow_branch_sum(tables, config, stage, "lsb", q & 15)
        h, w = s_msb.shape
        y = [[min(max(Fraction(int(s_msb[i, j]), k_msb * 255) + Fraction(int(s_lsb[i, j]),
                                                                         k_lsb * 255)
                      + y[i // r][j // r], Fraction(0)), Fraction(1))
              for j in range(w)] for i in range(h)]
        q = np.array([[math.floor(255 * v) for v in row] for row in y], np.int64)
        stages.append((s_msb, s_lsb, [[255 * v for v in row] for row in y]))
    final = np.array([[round(255 * v) for v in row] for row in y], np.uint8)  # half to even
    return stages, final


SMALL_PLANES = [(3, 3), (4, 5), (7, 6), (5, 3)]


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_exact_equals_loop_model(config):
    tables = random_tables(config, seed=11, spread=40)
    rng = np.random.default_rng(12)
    widths = config.widths()
    ties = 0
    for shape in SMALL_PLANES:
        plane = rng.integers(0, 256, shape, dtype=np.uint8)
        stages, final = slow_exact(tables, config, plane)
        np.testing.assert_array_equal(golden.upscale((tables, config), plane), final)
        ns = golden.exact_stages(tables, config, plane)
        q = plane
        for stage, ((s_msb, s_lsb, y255), n) in enumerate(zip(stages, ns)):
            assert n.dtype == np.int32
            expected_n = np.array([[v * widths.denom for v in row] for row in y255])
            assert all(v.denominator == 1 for v in expected_n.flat)
            np.testing.assert_array_equal(n, expected_n.astype(np.int64))
            got_msb, got_lsb = golden.stage_sums(tables, config, stage, q)
            assert got_msb.dtype == got_lsb.dtype == np.int32
            np.testing.assert_array_equal(got_msb, s_msb)
            np.testing.assert_array_equal(got_lsb, s_lsb)
            q = (n // widths.denom).astype(np.uint8)
        ties += int(np.sum(2 * (ns[-1] % widths.denom) == widths.denom))
    # With an even D the final rounding meets exact halves; they must have been exercised.
    assert widths.denom % 2 == 1 or ties > 0


def test_exact_rgb_is_three_independent_channels():
    config = CONFIGS[0]
    tables = random_tables(config, seed=5, spread=30)
    img = np.random.default_rng(6).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    out = golden.upscale((tables, config), img)
    assert out.shape == (24, 28, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], golden.upscale((tables, config), img[:, :, c]))


# --- exact vs float32 on photographs ----------------------------------------------------------

def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255 ** 2 / mse)


def test_exact_and_float32_differ_rarely_and_slightly_on_a_photo(official):
    import skimage.data as data
    hr = data.astronaut()
    lr = bicubic_lr(hr)
    exact = golden.upscale(official, lr)
    f32 = golden.upscale(official, lr, "float32")
    differ = np.mean(exact != f32)
    # The two readouts part only where float32 lands just below an integer of
    # 255 y before the next stage floors it: a few percent of pixels.
    assert 0.001 < differ < 0.08
    assert abs(psnr(exact, hr) - psnr(f32, hr)) < 0.01
    assert psnr(exact, hr) > psnr(np.asarray(Image.fromarray(lr).resize((512, 512), Image.NEAREST)),
                                  hr) + 1


# --- errors -----------------------------------------------------------------------------------

@pytest.fixture
def small():
    config = CONFIGS[0]
    return random_tables(config, seed=1), config


@pytest.mark.parametrize("image, exc, message", [
    (np.zeros((5, 5), np.float32), TypeError,
     r"^image must have dtype uint8, got dtype\('float32'\)$"),
    ([[0] * 5] * 5, TypeError, r"^image must be a uint8 numpy array, got 'list'$"),
    (np.zeros((5, 5, 4), np.uint8), ValueError,
     r"^image must be grey \(H, W\) or RGB \(H, W, 3\), got shape \(5, 5, 4\)$"),
    (np.zeros((5, 5, 1), np.uint8), ValueError,
     r"^image must be grey \(H, W\) or RGB \(H, W, 3\), got shape \(5, 5, 1\)$"),
    (np.zeros((2, 5), np.uint8), ValueError,
     r"^image must be at least 3x3 pixels for kernel sets msb='hdb', lsb='hd' "
     r"\(their padding needs it\), got size \(2, 5\)$"),
    (np.zeros((7, 2, 3), np.uint8), ValueError,
     r"^image must be at least 3x3 .*got size \(7, 2\)$"),
])
def test_bad_images_are_named(small, image, exc, message):
    with pytest.raises(exc, match=message):
        golden.upscale(small, image)


def test_hd_only_config_reads_2x2_but_not_1xn():
    config = HKLUTConfig((2,), "hd", "hd")
    tables = random_tables(config, seed=2)
    assert golden.min_size(config) == 2 and golden.min_size(CONFIGS[0]) == 3
    assert golden.upscale((tables, config), np.zeros((2, 2), np.uint8)).shape == (4, 4)
    with pytest.raises(ValueError, match=r"^image must be at least 2x2 .*got size \(1, 4\)$"):
        golden.upscale((tables, config), np.zeros((1, 4), np.uint8))


def test_unknown_arithmetic_is_named(small):
    with pytest.raises(ValueError, match=r"^arithmetic must be one of \('exact', 'float32'\), "
                                         r"got 'float64'$"):
        golden.upscale(small, np.zeros((4, 4), np.uint8), "float64")


def test_artifact_of_another_scheme_is_refused():
    other = Artifact(scheme="smoke", config={}, arrays={})
    with pytest.raises(ValueError, match=r"^artifact_or_tables must be an artifact of scheme "
                                         r"'hklut', got scheme 'smoke'$"):
        golden.upscale(other, np.zeros((4, 4), np.uint8))
    with pytest.raises(TypeError, match=r"^artifact_or_tables must be an Artifact or a "
                                        r"\(tables, HKLUTConfig\) pair, got 'list'$"):
        golden.upscale([], np.zeros((4, 4), np.uint8))


def test_bad_tables_are_named(small):
    tables, config = small
    missing = {k: v for k, v in tables.items() if k != "s0_msb_h"}
    with pytest.raises(ValueError, match=r"^tables lack 1 table\(s\) this config reads, "
                                         r"first 's0_msb_h'$"):
        golden.upscale((missing, config), np.zeros((4, 4), np.uint8))
    wide = dict(tables, s1_lsb_d=tables["s1_lsb_d"].astype(np.int16))
    with pytest.raises(ValueError, match=r"^s1_lsb_d: expected dtype int8, got int16$"):
        golden.upscale((wide, config), np.zeros((4, 4), np.uint8))
    extra = dict(tables, s2_msb_h=tables["s0_msb_h"])
    with pytest.raises(ValueError, match=r"^tables hold table\(s\) this config does not read, "
                                         r"first 's2_msb_h'$"):
        golden.stage_sums(extra, config, 0, np.zeros((4, 4), np.uint8))


def test_stage_and_plane_arguments_are_checked(small):
    tables, config = small
    with pytest.raises(ValueError, match=r"^stage must be an integer in 0\.\.1, got 2$"):
        golden.stage_sums(tables, config, 2, np.zeros((4, 4), np.uint8))
    with pytest.raises(TypeError, match=r"^q must have dtype uint8, got dtype\('int16'\)$"):
        golden.stage_sums(tables, config, 0, np.zeros((4, 4), np.int16))
    with pytest.raises(ValueError, match=r"^plane must be grey \(H, W\), got shape \(4, 4, 3\)$"):
        golden.exact_stages(tables, config, np.zeros((4, 4, 3), np.uint8))
