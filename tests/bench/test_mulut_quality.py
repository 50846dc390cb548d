"""The MuLUT quality benchmark on one small image: its rows, the authors' row skipped when no
import exists, the Markdown, and the error naming the training command when the artifact is
missing."""

import json

import numpy as np
import pytest

from edgeforge.artifact import Artifact, save
from edgeforge.bench import mulut_quality
from edgeforge.models.data import bicubic_downscale
from edgeforge.schemes.srlut import SRLUTConfig

from srlut_helpers import random_tables


@pytest.fixture
def mulut_artifact(tmp_path):
    config = SRLUTConfig("sdy", (1, 4), 6)          # 5 nodes per input: small tables
    art = Artifact(scheme="srlut", config=config.to_dict(),
                   arrays=random_tables(config, seed=2, spread=20),
                   provenance={"source": "edgeforge-train", "iterations": 3, "batch": 2,
                               "patch": 6, "nf": 4, "train_seconds": 0.1})
    return save(art, tmp_path / "mulut.npz")


def test_run_rows_skip_and_markdown(tmp_path, mulut_artifact):
    rng = np.random.default_rng(5)
    hr = np.clip(np.mgrid[:32, :40][1][..., None] * 6 + rng.normal(0, 10, (32, 40, 3)),
                 0, 255).astype(np.uint8)
    pairs = [("noisy", bicubic_downscale(hr, 4), hr)]
    results = mulut_quality.run(mulut_artifact, tmp_path / "none.npz", pairs)
    names = [r["name"] for r in results["rows"]]
    assert names[0] == "bicubic x4 (Pillow)" and len(names) == 4
    assert names[-1].startswith("MuLUT-style S/D/Y x4")
    mulut = results["rows"][-1]
    assert mulut["table_bytes"] == 3 * 5 ** 4 * (1 + 16) and mulut["iterations"] == 3
    assert all(set(r["images"]) == {"noisy"} for r in results["rows"])
    assert results["skipped"] == [f"MuLUT authors' tables: no import at {tmp_path / 'none.npz'}"]
    json.dumps(results, allow_nan=False)
    text = mulut_quality.render(results)
    assert "| 3 it x batch 2, patch 6, nf 4, 0.1 s |" in text and "- skipped: MuLUT" in text


def test_missing_artifact_names_the_command(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        mulut_quality.main(["--artifact", str(tmp_path / "x.npz"), "--out", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--artifact: no such file" in err and "--kernels sdy --stages 1,4" in err
