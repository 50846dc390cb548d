"""The artifact format: save/load round trip and one clear error per malformed case."""

import json
import zipfile

import numpy as np
import pytest

from edgeforge.artifact import Artifact, ArtifactError, load, save
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.schemes.smoke import default_artifact


def hklut_artifact(seed=0, config=HKLUTConfig()):
    rng = np.random.default_rng(seed)
    arrays = {name: rng.integers(-128, 128, size=spec.shape).astype(np.int8)
              for name, spec in config.array_specs().items()}
    return Artifact(scheme="hklut", config=config.to_dict(), arrays=arrays,
                    provenance={"source": "test"})


def rewrite(src, dst, *, manifest=None, arrays=None, drop=()):
    """Copy an artifact zip, replacing the manifest and/or some arrays (as a tamperer would)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            if item in drop:
                continue
            data = zin.read(item)
            if item == "manifest.json" and manifest is not None:
                data = json.dumps(manifest).encode()
            name = item[:-4]
            if arrays and name in arrays:
                import io
                buf = io.BytesIO()
                np.lib.format.write_array(buf, arrays[name], allow_pickle=arrays[name].dtype == object)
                data = buf.getvalue()
            zout.writestr(item, data)
    return dst


@pytest.fixture
def saved(tmp_path):
    return save(default_artifact(addr_bits=4, data_bits=6), tmp_path / "smoke.npz")


@pytest.fixture
def manifest(saved):
    with zipfile.ZipFile(saved) as zf:
        return json.loads(zf.read("manifest.json"))


def test_round_trip_and_determinism(tmp_path):
    art = hklut_artifact()
    a = save(art, tmp_path / "a.npz")
    b = save(hklut_artifact(), tmp_path / "b.npz")
    assert a.read_bytes() == b.read_bytes()
    back = load(a)
    assert back.scheme == "hklut" and back.config == HKLUTConfig().to_dict()
    assert back.content_hash == art.content_hash
    for name, arr in art.arrays.items():
        np.testing.assert_array_equal(back.arrays[name], arr)
    assert sum(back.storage_bytes().values()) == 102400


def test_save_refuses_invalid_in_memory_artifact(tmp_path):
    art = hklut_artifact()
    art.arrays["s0_msb_h"] = art.arrays["s0_msb_h"][:10]
    with pytest.raises(ArtifactError, match=r"^s0_msb_h: expected shape \(4096, 2, 2\), got \(10, 2, 2\)$"):
        save(art, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_missing_file(tmp_path):
    with pytest.raises(ArtifactError, match=r"^path: no artifact file at '.*nope\.npz'$"):
        load(tmp_path / "nope.npz")


def test_truncated_file(saved, tmp_path):
    bad = tmp_path / "trunc.npz"
    bad.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(ArtifactError, match=r"^file: '.*trunc\.npz' is not a readable \.npz archive"):
        load(bad)


def test_not_a_zip(tmp_path):
    bad = tmp_path / "text.npz"
    bad.write_text("hello")
    with pytest.raises(ArtifactError, match=r"^file: .* is not a readable \.npz archive"):
        load(bad)


def test_plain_npz_without_manifest(tmp_path):
    bad = tmp_path / "plain.npz"
    np.savez(bad, table=np.zeros(16, np.uint8))
    with pytest.raises(ArtifactError, match=r"^manifest: .* has no manifest\.json member"):
        load(bad)


def test_manifest_not_json(saved, tmp_path):
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(saved) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.namelist():
            zout.writestr(item, b"{not json" if item == "manifest.json" else zin.read(item))
    with pytest.raises(ArtifactError, match=r"^manifest: manifest\.json is not valid JSON"):
        load(bad)


@pytest.mark.parametrize("key, value, pattern", [
    ("format", "other", r"^format: expected 'edgeforge-artifact', got 'other'$"),
    ("format_version", 99, r"^format_version: this edgeforge reads version 1, got 99$"),
    ("scheme", "nope", r"^scheme: unknown scheme 'nope'; known: \['bicubic', 'hklut', 'network', 'smoke', 'srlut'\]$"),
    ("scheme_version", 7, r"^scheme_version: scheme 'smoke' is at version 1, got 7$"),
    ("content_hash", "sha256:00", r"^content_hash: stored 'sha256:00' does not match"),
])
def test_bad_manifest_fields(saved, manifest, tmp_path, key, value, pattern):
    manifest[key] = value
    with pytest.raises(ArtifactError, match=pattern):
        load(rewrite(saved, tmp_path / "bad.npz", manifest=manifest))


def test_missing_manifest_field(saved, manifest, tmp_path):
    del manifest["scheme"]
    with pytest.raises(ArtifactError, match=r"^scheme: missing from the manifest$"):
        load(rewrite(saved, tmp_path / "bad.npz", manifest=manifest))


def test_bad_config_value(saved, manifest, tmp_path):
    manifest["config"]["addr_bits"] = 40
    with pytest.raises(ArtifactError, match=r"^config\.addr_bits: expected an integer in 1\.\.16, got 40$"):
        load(rewrite(saved, tmp_path / "bad.npz", manifest=manifest))


def test_missing_array(saved, tmp_path):
    with pytest.raises(ArtifactError, match=r"^table: array missing from the file$"):
        load(rewrite(saved, tmp_path / "bad.npz", drop=("table.npy",)))


def test_wrong_dtype(saved, tmp_path):
    arr = np.zeros(16, np.int16)
    with pytest.raises(ArtifactError, match=r"^table: expected dtype uint8, got int16$"):
        load(rewrite(saved, tmp_path / "bad.npz", arrays={"table": arr}))


def test_wrong_shape(saved, tmp_path):
    arr = np.zeros(15, np.uint8)
    with pytest.raises(ArtifactError, match=r"^table: expected shape \(16,\), got \(15,\)$"):
        load(rewrite(saved, tmp_path / "bad.npz", arrays={"table": arr}))


def test_value_out_of_range_for_bit_width(saved, tmp_path):
    arr = np.full(16, 64, np.uint8)  # 6-bit table: 0..63
    with pytest.raises(ArtifactError,
                       match=r"^table: values span \[64, 64\], outside \[0, 63\] of its 6-bit unsigned range$"):
        load(rewrite(saved, tmp_path / "bad.npz", arrays={"table": arr}))


def test_pickled_array_is_refused(saved, tmp_path):
    arr = np.array([{"evil": 1}] * 16, dtype=object)
    with pytest.raises(ArtifactError, match=r"^table: array cannot be read without unpickling"):
        load(rewrite(saved, tmp_path / "bad.npz", arrays={"table": arr}))


def test_unexpected_array(saved, manifest, tmp_path):
    bad = tmp_path / "extra.npz"
    rewrite(saved, bad)
    with zipfile.ZipFile(bad, "a") as zf:
        import io
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.zeros(3, np.uint8))
        zf.writestr("extra.npy", buf.getvalue())
    with pytest.raises(ArtifactError, match=r"^arrays\.extra: unexpected array for scheme 'smoke'"):
        load(bad)


def test_hklut_table_missing_and_out_of_int8(tmp_path):
    art = hklut_artifact()
    del art.arrays["s1_lsb_d"]
    with pytest.raises(ArtifactError, match=r"^s1_lsb_d: array missing from the file$"):
        save(art, tmp_path / "x.npz")
    art = hklut_artifact()
    art.arrays["s0_lsb_h"] = art.arrays["s0_lsb_h"].astype(np.int16) * 3
    with pytest.raises(ArtifactError, match=r"^s0_lsb_h: expected dtype int8, got int16$"):
        save(art, tmp_path / "x.npz")


def test_hklut_bad_config():
    from edgeforge.artifact import check
    art = hklut_artifact()
    art.config = {"stages": [2, 9], "msb_kernels": "hdb", "lsb_kernels": "hd"}
    with pytest.raises(ArtifactError, match=r"^config\.stages: stage factor must be 1\.\.4, got 9$"):
        check(art)
    art.config = {"stages": [2, 2], "msb_kernels": "xyz", "lsb_kernels": "hd"}
    with pytest.raises(ArtifactError, match=r"^config\.msb_kernels: expected one of \['hd', 'hdb'\], got 'xyz'$"):
        check(art)
