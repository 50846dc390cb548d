"""SR data: bundled sample images, bicubic LR, benchmark and training folders."""

import numpy as np
import pytest
from PIL import Image

from edgeforge.models import data


def _png(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def _rgb(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_sample_images_split_is_fixed_and_disjoint():
    train, test = data.sample_images("train"), data.sample_images("test")
    assert not set(train) & set(test)
    assert {"astronaut", "chelsea", "coffee"} <= set(test)
    assert set(data.sample_images("all")) == set(train) | set(test)
    assert len(train) >= 5
    for img in list(train.values()) + list(test.values()):
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3


def test_sample_images_rejects_unknown_split():
    with pytest.raises(ValueError, match=r"^split must be one of \('train', 'test', 'all'\), "
                                         r"got 'val'$"):
        data.sample_images("val")


def test_bicubic_downscale_is_pillow_bicubic_per_channel():
    hr = _rgb(18, 22)
    lr = data.bicubic_downscale(hr, 4)
    assert lr.shape == (4, 5, 3) and lr.dtype == np.uint8   # cropped to 16x20 first
    ref = np.asarray(Image.fromarray(hr[:16, :20]).resize((5, 4), Image.BICUBIC))
    assert np.array_equal(lr, ref)
    flat = np.full((8, 8), 77, np.uint8)
    assert np.array_equal(data.bicubic_downscale(flat, 2), np.full((4, 4), 77, np.uint8))


def test_bicubic_downscale_rejects_bad_input():
    with pytest.raises(TypeError, match=r"^hr must have dtype uint8, got dtype\('float64'\)$"):
        data.bicubic_downscale(np.zeros((8, 8)), 2)
    with pytest.raises(ValueError, match=r"^hr must be grey \(H, W\) or RGB \(H, W, 3\), "
                                         r"got shape \(8, 8, 4\)$"):
        data.bicubic_downscale(np.zeros((8, 8, 4), np.uint8), 2)
    with pytest.raises(ValueError, match=r"^factor must be a positive integer, got 0$"):
        data.bicubic_downscale(np.zeros((8, 8), np.uint8), 0)


def test_crop_to_multiple():
    assert data.crop_to_multiple(np.zeros((10, 7, 3)), 4).shape == (8, 4, 3)
    with pytest.raises(ValueError, match=r"smaller than the multiple 4$"):
        data.crop_to_multiple(np.zeros((3, 7)), 4)


def test_builtin_pairs_match_scale():
    for name, lr, hr in data.builtin_pairs(4, "test"):
        assert hr.shape == (lr.shape[0] * 4, lr.shape[1] * 4, 3), name


def test_load_benchmark_dir_pairs_suffixed_lr_and_triples_grey(tmp_path):
    root = tmp_path / "Set2"
    _png(root / "HR" / "baby.png", _rgb(17, 16))                      # cropped to 16x16
    _png(root / "LR_bicubic" / "X4" / "babyx4.png", _rgb(4, 4, 1))
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8)
    _png(root / "HR" / "bird.png", grey)
    _png(root / "LR_bicubic" / "X4" / "bird.png", grey[::4, ::4].copy())
    pairs = data.load_benchmark_dir(root, 4)
    assert [p[0] for p in pairs] == ["baby", "bird"]
    assert pairs[0][2].shape == (16, 16, 3) and pairs[0][1].shape == (4, 4, 3)
    bird_lr, bird_hr = pairs[1][1], pairs[1][2]
    assert bird_hr.shape == (8, 8, 3) and np.array_equal(bird_hr[..., 0], grey)
    assert np.array_equal(bird_hr[..., 0], bird_hr[..., 2]) and bird_lr.shape == (2, 2, 3)


def test_load_benchmark_dir_errors(tmp_path):
    root = tmp_path / "Set1"
    _png(root / "HR" / "a.png", _rgb(16, 16))
    with pytest.raises(ValueError, match=r"^benchmark folder must hold HR/ and LR_bicubic/X4/; "
                                         r"missing '.*LR_bicubic/X4'$"):
        data.load_benchmark_dir(root, 4)
    (root / "LR_bicubic" / "X4").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"^no LR image for '.*a\.png' in '.*X4' \(expected "
                                         r"a\.png or ax4\.png\)$"):
        data.load_benchmark_dir(root, 4)
    _png(root / "LR_bicubic" / "X4" / "a.png", _rgb(5, 4))
    with pytest.raises(ValueError, match=r"has shape \(5, 4\), which x4 does not give the HR "
                                         r"shape cropped to a multiple of 4, \(16, 16\)$"):
        data.load_benchmark_dir(root, 4)
    with pytest.raises(ValueError, match=r"^benchmark folder has no PNG images in '.*HR'$"):
        (tmp_path / "empty" / "HR").mkdir(parents=True)
        (tmp_path / "empty" / "LR_bicubic" / "X4").mkdir(parents=True)
        data.load_benchmark_dir(tmp_path / "empty", 4)


def test_load_train_dir_with_and_without_lr(tmp_path):
    hr = _rgb(16, 24)
    _png(tmp_path / "div" / "HR" / "0001.png", hr)
    (name, lr, got_hr), = data.load_train_dir(tmp_path / "div", 4)
    assert name == "0001" and np.array_equal(got_hr, hr)
    assert np.array_equal(lr, data.bicubic_downscale(hr, 4))
    given = _rgb(4, 6, 3)
    _png(tmp_path / "div" / "LR_bicubic" / "X4" / "0001x4.png", given)
    (_, lr, _), = data.load_train_dir(tmp_path / "div", 4)
    assert np.array_equal(lr, given)
    with pytest.raises(ValueError, match=r"^training folder must hold HR/\*\.png; missing "):
        data.load_train_dir(tmp_path / "nothing", 4)


def test_benchmark_and_training_images_are_read_by_upscales_rules(tmp_path):
    """Issue 10.4: a 16-bit HR was clipped to 255 and an RGBA image lost its alpha silently."""
    root = tmp_path / "Set1"
    _png(root / "LR_bicubic" / "X4" / "a.png", _rgb(4, 4))
    _png(root / "HR" / "a.png", np.full((16, 16), 40_000, np.uint16))
    for load in (data.load_benchmark_dir, data.load_train_dir):
        with pytest.raises(ValueError, match=r"^image '.*HR/a\.png' must be an 8-bit grey or RGB "
                                             r"image; 16-bit and float images are not read"):
            load(root, 4)
    hr = _rgb(16, 16)
    alpha = np.full((16, 16, 1), 255, np.uint8)
    _png(root / "HR" / "a.png", np.concatenate([hr, alpha], axis=2))
    assert np.array_equal(data.load_benchmark_dir(root, 4)[0][2], hr)   # opaque: alpha dropped
    alpha[3, 5] = 0
    _png(root / "HR" / "a.png", np.concatenate([hr, alpha], axis=2))
    with pytest.raises(ValueError, match=r"^image '.*HR/a\.png' has transparent pixels"):
        data.load_benchmark_dir(root, 4)
