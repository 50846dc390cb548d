"""HKLUT importer: the authors' LUT folder layout in, a validated artifact out, or a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeforge.artifact import load, save
from edgeforge.models.hklut.importer import file_name, import_lut_dir
from edgeforge.schemes.hklut import HKLUTConfig


def write_lut_dir(folder: Path, config: HKLUTConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """Random tables saved as the authors' transfer.py saves them; returns them by table name."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {}
    for name, stage, branch, kernel, r in config.tables():
        kernel_set = config.msb_kernels if branch == "msb" else config.lsb_kernels
        table = rng.integers(-128, 128, (kernel.entries, 1, r, r), dtype=np.int8)
        np.save(folder / file_name(stage, branch, kernel_set, kernel.name, r), table)
        tables[name] = table[:, 0]
    return tables


def test_released_folder_imports_as_hklut_s_x4(hklut_official_dir):
    artifact = import_lut_dir(hklut_official_dir)
    assert artifact.scheme == "hklut"
    assert artifact.config == HKLUTConfig().to_dict()
    assert sum(artifact.storage_bytes().values()) == 100 * 1024
    assert artifact.provenance["source"] == "imported"
    assert artifact.provenance["from"] == hklut_official_dir.resolve().name
    assert len(artifact.provenance["files"]) == 10
    table = np.load(hklut_official_dir / "S1_MSB_HDB_LUT_B_x2_4bit_int8.npy")
    np.testing.assert_array_equal(artifact.arrays["s1_msb_b"], table[:, 0])
    assert artifact.arrays["s0_lsb_h"].shape == (256, 2, 2)


@pytest.mark.parametrize("config", [HKLUTConfig(), HKLUTConfig((2, 1, 2), "hdb", "hd"),
                                    HKLUTConfig((3,), "hd", "hdb"), HKLUTConfig((4,), "hd", "hd")],
                         ids=["s-x4", "2x1x2", "x3-hd-hdb", "x4-hd-hd"])
def test_generated_folder_round_trips(tmp_path, config):
    tables = write_lut_dir(tmp_path / "luts", config)
    (tmp_path / "luts" / "readme.md").write_text("not a table")
    artifact = import_lut_dir(tmp_path / "luts")
    assert artifact.config == config.to_dict()
    files = sorted(p.name for p in (tmp_path / "luts").glob("*.npy"))
    assert artifact.provenance == {"source": "imported", "from": "luts", "files": files}
    assert sorted(artifact.arrays) == sorted(tables)
    for name, table in tables.items():
        assert artifact.arrays[name].dtype == np.int8
        np.testing.assert_array_equal(artifact.arrays[name], table)
    loaded = load(save(artifact, tmp_path / "a.npz"))
    assert loaded.content_hash == artifact.content_hash


def test_wider_integer_dtype_is_accepted_when_values_fit(tmp_path):
    config = HKLUTConfig((1,), "hd", "hd")
    tables = write_lut_dir(tmp_path, config)
    path = tmp_path / file_name(0, "msb", "hd", "d", 1)
    np.save(path, np.load(path).astype(np.int64))     # test.py itself reads them as int64
    artifact = import_lut_dir(tmp_path)
    assert artifact.arrays["s0_msb_d"].dtype == np.int8
    np.testing.assert_array_equal(artifact.arrays["s0_msb_d"], tables["s0_msb_d"])


def _rewrite(path: Path, array: np.ndarray) -> None:
    np.save(path, array)


def _rename(folder: Path, old: str, new: str) -> None:
    (folder / old).rename(folder / new)


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "S0_MSB_HDB_LUT_D_x2_4bit_int8.npy").unlink(),
     r"^LUT file missing: the config read from the names needs "
     r"'S0_MSB_HDB_LUT_D_x2_4bit_int8\.npy'$"),
    (lambda d: _rename(d, "S1_LSB_HD_LUT_H_x2_4bit_int8.npy", "S1_LSB_HDB_LUT_H_x2_4bit_int8.npy"),
     r"^LUT files mix kernel sets in the LSB branch: 'S0_LSB_HD_LUT_D_x2_4bit_int8\.npy' is HD, "
     r"got 'S1_LSB_HDB_LUT_H_x2_4bit_int8\.npy'$"),
    (lambda d: _rename(d, "S1_MSB_HDB_LUT_H_x2_4bit_int8.npy", "S1_MSB_HDB_LUT_H_x3_4bit_int8.npy"),
     r"^LUT files mix factors within stage 1: 'S1_LSB_HD_LUT_D_x2_4bit_int8\.npy' is x2, "
     r"got 'S1_MSB_HDB_LUT_H_x3_4bit_int8\.npy'$"),
    (lambda d: _rename(d, "S0_LSB_HD_LUT_D_x2_4bit_int8.npy", "S0_LSB_HD_LUT_B_x2_4bit_int8.npy"),
     r"^LUT file 'S0_LSB_HD_LUT_B_x2_4bit_int8\.npy' names kernel 'B', which kernel set 'HD' "
     r"does not have$"),
    (lambda d: (d / "S0_LSB_HD_LUT_D_x2_4bit_int8.npy").rename(d / "S0_LSB_HD_LUT_D_x2.npy"),
     r"^LUT file name does not follow the authors' layout .*, got 'S0_LSB_HD_LUT_D_x2\.npy'$"),
    (lambda d: [p.rename(d / p.name.replace("S1_", "S2_")) for p in d.glob("S1_*")],
     r"^LUT files skip stage 1: stages present are \[0, 2\]$"),
    (lambda d: [p.unlink() for p in d.glob("*_LSB_*")],
     r"^no LUT file for the LSB branch among \[.*\]$"),
    (lambda d: _rewrite(d / "S0_MSB_HDB_LUT_B_x2_4bit_int8.npy", np.zeros((4096, 2, 2), np.int8)),
     r"^LUT file 'S0_MSB_HDB_LUT_B_x2_4bit_int8\.npy' must have shape \(4096, 1, 2, 2\), "
     r"got \(4096, 2, 2\)$"),
    (lambda d: _rewrite(d / "S1_LSB_HD_LUT_D_x2_4bit_int8.npy",
                        np.zeros((256, 1, 2, 2), np.float32)),
     r"^LUT file 'S1_LSB_HD_LUT_D_x2_4bit_int8\.npy' must hold int8 integers, "
     r"got dtype\('float32'\)$"),
    (lambda d: _rewrite(d / "S1_LSB_HD_LUT_D_x2_4bit_int8.npy",
                        np.full((256, 1, 2, 2), 200, np.int16)),
     r"^LUT file 'S1_LSB_HD_LUT_D_x2_4bit_int8\.npy' has values outside int8 \[-128, 127\], "
     r"got span \(200, 200\)$"),
    (lambda d: (d / "S1_LSB_HD_LUT_D_x2_4bit_int8.npy").write_bytes(b"not numpy"),
     r"^LUT file 'S1_LSB_HD_LUT_D_x2_4bit_int8\.npy' is not a readable \.npy array"),
], ids=["missing-kernel", "mixed-sets", "mixed-factors", "kernel-not-in-set", "bad-name",
        "missing-stage", "missing-branch", "wrong-shape", "float-dtype", "outside-int8",
        "not-npy"])
def test_inconsistent_folders_are_refused_naming_the_file(tmp_path, damage, message):
    write_lut_dir(tmp_path, HKLUTConfig())
    damage(tmp_path)
    with pytest.raises(ValueError, match=message):
        import_lut_dir(tmp_path)


def test_factor_out_of_range_and_empty_or_absent_folders(tmp_path):
    with pytest.raises(ValueError, match=r"^LUT folder does not exist or is not a folder, "
                                         r"got '.*nowhere'$"):
        import_lut_dir(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"^LUT folder holds no \.npy files, got '.*'$"):
        import_lut_dir(tmp_path)
    np.save(tmp_path / "S0_MSB_HD_LUT_H_x5_4bit_int8.npy", np.zeros((256, 1, 5, 5), np.int8))
    with pytest.raises(ValueError, match=r"^LUT file 'S0_MSB_HD_LUT_H_x5_4bit_int8\.npy' names "
                                         r"factor x5; stage factors must be 1\.\.4, got 5$"):
        import_lut_dir(tmp_path)
