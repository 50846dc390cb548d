"""Shared by the SR-LUT tests: generated tables and the authors' repositories, when fetched.

The authors' repositories (``yhjo09/SR-LUT``, ``ddlee-cn/MuLUT``) carry no
licence that allows copying, so nothing of theirs is in this repository: tests
that compare against their tables and images read them from a local git mirror
(``EDGEFORGE_SRLUT_MIRROR`` / ``EDGEFORGE_MULUT_MIRROR``, default the session
mirrors under ``/work/.mirror``) and skip when it is absent.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgeforge.schemes.srlut import SRLUTConfig

SRLUT_MIRROR = Path(os.environ.get("EDGEFORGE_SRLUT_MIRROR", "/work/.mirror/yhjo09+SR-LUT/repo"))
MULUT_MIRROR = Path(os.environ.get("EDGEFORGE_MULUT_MIRROR", "/work/.mirror/ddlee-cn+MuLUT/repo"))
SET5 = ("baby", "bird", "butterfly", "head", "woman")


def random_tables(config: SRLUTConfig, seed: int = 0, spread: int = 127) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.integers(-spread, spread + 1, spec.shape, dtype=np.int8)
            for name, spec in config.array_specs().items()}


def node_tables(config: SRLUTConfig, fn) -> dict[str, np.ndarray]:
    """Tables whose every r x r block is ``fn(nodes)``: ``nodes`` = the row's node index per input
    ``(pixels, entries)``; an affine ``fn`` makes the readout interpolate it exactly."""
    rows = np.arange(config.entries)
    nodes = np.stack([(rows // config.nodes ** (config.pixels - 1 - i)) % config.nodes
                      for i in range(config.pixels)])
    value = np.asarray(fn(nodes), dtype=np.int64)
    out = {}
    for name, _, _, r in config.tables():
        out[name] = np.ascontiguousarray(
            np.broadcast_to(value[:, None, None], (config.entries, r, r))).astype(np.int8)
    return out


def mirror_blob(mirror: Path, path: str) -> bytes:
    """One file of a mirrored repository at HEAD, or skip the test when the mirror is absent."""
    if not mirror.is_dir():
        pytest.skip(f"authors' repository mirror not present at {mirror}")
    done = subprocess.run(["git", f"--git-dir={mirror}", "show", f"HEAD:{path}"],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"{path} not in the mirror at {mirror}")
    return done.stdout


def mirror_npy(mirror: Path, path: str) -> np.ndarray:
    return np.load(io.BytesIO(mirror_blob(mirror, path)), allow_pickle=False)


def mirror_png(mirror: Path, path: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(mirror_blob(mirror, path))))


def extract(mirror: Path, paths: list[str], folder: Path) -> Path:
    """Copy files of the mirror into ``folder`` (a test's tmp_path) under their base names."""
    folder.mkdir(parents=True, exist_ok=True)
    for p in paths:
        (folder / Path(p).name).write_bytes(mirror_blob(mirror, p))
    return folder
