"""Shared helpers of the HKLUT hardware tests: random tables and artifacts."""

from __future__ import annotations

import numpy as np

from edgeforge.artifact import Artifact
from edgeforge.schemes.hklut import HKLUTConfig


def random_tables(config: HKLUTConfig, seed: int = 0, spread: int = 128) -> dict[str, np.ndarray]:
    """Random int8 tables for ``config`` in ``-spread..spread-1`` (128: the whole int8 range)."""
    rng = np.random.default_rng(seed)
    return {name: rng.integers(-spread, spread, size=(k.entries, r, r)).astype(np.int8)
            for name, _, _, k, r in config.tables()}


def random_artifact(config: HKLUTConfig, seed: int = 0, spread: int = 128) -> Artifact:
    return Artifact("hklut", config.to_dict(), random_tables(config, seed, spread))
