"""HKLUT storage accounting: table, branch, stage and total bytes."""

import io
import re

import numpy as np
import pytest
from rich.console import Console

from edgeforge.artifact import Artifact, save
from edgeforge.models.hklut.storage import render_storage_table, storage_rows
from edgeforge.schemes.hklut import HKLUTConfig


def _artifact(config: HKLUTConfig) -> Artifact:
    arrays = {name: np.zeros(spec.shape, np.int8) for name, spec in config.array_specs().items()}
    return Artifact(scheme="hklut", config=config.to_dict(), arrays=arrays)


def _by(rows, kind):
    return {row["name"]: row for row in rows if row["kind"] == kind}


def test_hklut_s_x4_is_100_kib():
    rows = storage_rows(_artifact(HKLUTConfig()))
    assert rows[-1]["kind"] == "total" and rows[-1]["bytes"] == 102_400
    stages = _by(rows, "stage")
    assert {n: r["bytes"] for n, r in stages.items()} == {"s0": 51_200, "s1": 51_200}
    branches = _by(rows, "branch")
    assert {n: r["bytes"] for n, r in branches.items()} == {
        "s0_msb": 49_152, "s0_lsb": 2_048, "s1_msb": 49_152, "s1_lsb": 2_048}
    tables = _by(rows, "table")
    assert len(tables) == 10
    assert tables["s1_msb_b"] == {"kind": "table", "name": "s1_msb_b", "stage": 1, "branch": "msb",
                                  "kernel": "b", "entries": 4096, "r": 2, "bits": 8,
                                  "bytes": 16_384}
    assert tables["s0_lsb_d"]["entries"] == 256 and tables["s0_lsb_d"]["bytes"] == 1_024
    assert rows[-1]["entries"] == 2 * (3 * 4096 + 2 * 256)


def test_rows_come_in_reading_order():
    kinds = [(r["kind"], r["name"]) for r in storage_rows(_artifact(HKLUTConfig()))]
    assert kinds[:8] == [("table", "s0_msb_h"), ("table", "s0_msb_d"), ("table", "s0_msb_b"),
                         ("table", "s0_lsb_h"), ("table", "s0_lsb_d"),
                         ("branch", "s0_msb"), ("branch", "s0_lsb"), ("stage", "s0")]
    assert kinds[-1] == ("total", "total") and len(kinds) == 2 * 8 + 1


def test_three_stage_212_is_112_5_kib():
    rows = storage_rows(_artifact(HKLUTConfig(stages=(2, 1, 2))))
    assert rows[-1]["bytes"] == 115_200
    stages = _by(rows, "stage")
    assert stages["s1"]["bytes"] == 12_800 and stages["s1"]["r"] == 1


def test_other_kernel_sets_follow_the_config():
    rows = storage_rows(_artifact(HKLUTConfig(stages=(4,), msb_kernels="hd", lsb_kernels="hdb")))
    branches = _by(rows, "branch")
    assert branches["s0_msb"]["bytes"] == 2 * 256 * 16
    assert branches["s0_lsb"]["bytes"] == 3 * 4096 * 16
    assert rows[-1]["bytes"] == 16 * (2 * 256 + 3 * 4096)


def test_accepts_a_path(tmp_path):
    path = save(_artifact(HKLUTConfig()), tmp_path / "a.npz")
    assert storage_rows(path)[-1]["bytes"] == 102_400
    assert storage_rows(str(path))[-1]["bytes"] == 102_400


def test_rejects_what_is_not_an_hklut_artifact():
    with pytest.raises(TypeError, match=r"^artifact must be an Artifact or a path to one, got int$"):
        storage_rows(3)
    other = Artifact(scheme="smoke", config={}, arrays={})
    with pytest.raises(ValueError, match=r"^artifact must be an HKLUT artifact, got scheme 'smoke'$"):
        storage_rows(other)


def test_rendered_table_shows_totals():
    console = Console(file=io.StringIO(), width=160, record=True)
    console.print(render_storage_table(_artifact(HKLUTConfig())))
    text = console.export_text()
    assert re.search(r"total .*102,400 .*100\.000 .*100\.0%", text)
    assert re.search(r"s0_msb_h .*4,096 .*2x2 .*8 .*16,384 .*16\.000", text)
    assert "x4 = stages 2 x 2" in text
