"""The HKLUT quality benchmark on small crops: rows, skips, arithmetic agreement and Markdown."""

import json

import numpy as np
import pytest

from edgeforge.artifact import Artifact, save
from edgeforge.bench import hklut_quality
from edgeforge.models.data import bicubic_downscale
from edgeforge.schemes.hklut import HKLUTConfig


@pytest.fixture
def small_pairs(monkeypatch):
    rng = np.random.default_rng(5)
    hr = np.clip(np.mgrid[:32, :40][1][..., None] * 6 + rng.normal(0, 10, (32, 40, 3)),
                 0, 255).astype(np.uint8)
    pairs = [("noisy", bicubic_downscale(hr, 4), hr)]
    monkeypatch.setattr(hklut_quality, "builtin_pairs", lambda scale, split: pairs)
    return pairs


def test_run_with_trained_artifact_and_missing_release(tmp_path, small_pairs):
    config = HKLUTConfig()
    rng = np.random.default_rng(0)
    arrays = {n: rng.integers(-30, 31, s.shape).astype(np.int8)
              for n, s in config.array_specs().items()}
    path = save(Artifact(scheme="hklut", config=config.to_dict(), arrays=arrays),
                tmp_path / "t.npz")
    results = hklut_quality.run(tmp_path / "missing", path, progress=False)
    assert [(r["model"], r["arithmetic"]) for r in results["rows"]] == [
        ("trained here (t.npz)", "exact"), ("trained here (t.npz)", "float32")]
    assert results["skipped"] == [f"released tables: no folder at {tmp_path / 'missing'}"]
    assert set(results["bicubic"]["images"]) == {"noisy"}
    agreement = results["arithmetic_agreement"][0]
    assert 0 <= agreement["pixels_differing"] < 0.5 and agreement["max_difference"] >= 0
    json.dumps(results, allow_nan=False)

    text = hklut_quality.render_markdown(results)
    assert "| bicubic (Pillow) | - |" in text and "| trained here (t.npz) | float32 |" in text
    assert "- released tables: no folder at" in text


def test_main_writes_json_and_markdown(tmp_path, small_pairs, capsys):
    out = tmp_path / "res"
    assert hklut_quality.main(["--official", str(tmp_path / "x"), "--trained",
                               str(tmp_path / "y.npz"), "-o", str(out)]) == 0
    data = json.loads((out / "hklut_quality.json").read_text())
    assert data["rows"] == [] and len(data["skipped"]) == 2
    assert data["command"].startswith("python -m edgeforge.bench.hklut_quality --official ")
    assert (out / "hklut_quality.md").read_text() == capsys.readouterr().out
