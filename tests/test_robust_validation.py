"""Issue 19.1: one clear error for every bad input, table-driven, through the CLI and the API.

Each row of :data:`CASES` is one bad input, given twice: as a user types it on the command
line (``argv``: exit status non-zero, one ``error:`` line that names the field and what
was expected, no traceback) and as a Python caller makes it (``api``: the exception type
and an anchored message). Placeholders in ``argv`` (``{smoke}``, ``{ro}``, ...) name the
files the ``files`` fixture writes: valid artifacts and tampered copies of them, images and
folders. A row whose input exists on one side only has None on the other.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import edgeforge
from edgeforge import ArtifactError, generate, load, save
from edgeforge.cli import main
from edgeforge.schemes.network import random_artifact
from edgeforge.schemes.smoke import default_artifact

from network_helpers import DIGITS_INPUT, DIGITS_MLP



def _hklut_path() -> str:
    from edgeforge.models.hklut import PRETRAINED
    return str(PRETRAINED)


# -- the files the rows name ---------------------------------------------------------------

def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write_zip(path: Path, members: dict[str, bytes]) -> str:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return str(path)


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=array.dtype == object)
    return buf.getvalue()


def _tampered(src, dst: Path, *, manifest: Callable[[dict], None] | None = None,
              arrays: dict[str, np.ndarray] | None = None) -> str:
    """A copy of the artifact ``src`` with its manifest edited in place and/or arrays replaced
    (the manifest's content hash is left as it was, as a tamperer would)."""
    members = _members(src)
    if manifest is not None:
        m = json.loads(members["manifest.json"])
        manifest(m)
        members["manifest.json"] = json.dumps(m).encode()
    for name, array in (arrays or {}).items():
        members[f"{name}.npy"] = _npy(array)
    return _write_zip(dst, members)


def _set(*keys_value):
    """A manifest edit setting ``m[k0][k1]... = value``."""
    *keys, value = keys_value

    def edit(m):
        for key in keys[:-1]:
            m = m[key]
        m[keys[-1]] = value
    return edit


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    from PIL import Image
    d = tmp_path_factory.mktemp("bad")
    smoke = save(default_artifact(addr_bits=4, data_bits=6), d / "smoke.npz")
    net = save(random_artifact(DIGITS_MLP, seed=1), d / "net.npz")
    f = {"smoke": str(smoke), "net": str(net), "hklut": _hklut_path(), "d": str(d)}
    raw = smoke.read_bytes()
    (d / "truncated.npz").write_bytes(raw[: len(raw) // 2])
    (d / "empty.npz").write_bytes(b"")
    np.savez(d / "plain.npz", table=np.zeros(16, np.uint8))
    members = _members(smoke)
    _write_zip(d / "notjson.npz", {**members, "manifest.json": b"{not json"})
    _write_zip(d / "jsonlist.npz", {**members, "manifest.json": b"[1, 2]"})
    _write_zip(d / "short_member.npz", {**members, "table.npy": members["table.npy"][:-5]})
    table = default_artifact(addr_bits=4, data_bits=6).arrays["table"]
    tampered = {
        "pickled": {"arrays": {"table": np.array([{"evil": 1}] * 16, dtype=object)}},
        "float_table": {"arrays": {"table": table.astype(np.float32)}},
        "short_table": {"arrays": {"table": table[:15]}},
        "wide_table": {"arrays": {"table": np.full(16, 64, np.uint8)}},
        "edited_table": {"arrays": {"table": (table + 1) % 64}},
        "unknown_scheme": {"manifest": _set("scheme", "pecan")},
        "format_v2": {"manifest": _set("format_version", 2)},
        "format_true": {"manifest": _set("format_version", True)},
        "scheme_v_str": {"manifest": _set("scheme_version", "1")},
        "config_list": {"manifest": _set("config", [4, 6])},
        "provenance_str": {"manifest": _set("provenance", "trained by me")},
        "hash_edited": {"manifest": _set("content_hash", "sha256:" + "0" * 64)},
    }
    for name, edits in tampered.items():
        f[name] = _tampered(smoke, d / f"{name}.npz", **edits)
    weight = random_artifact(DIGITS_MLP, seed=1).arrays["l1_weight"]
    f["net_wide_weight"] = _tampered(net, d / "net_wide_weight.npz", arrays={
        "l1_weight": np.full_like(weight, 127)},
        manifest=lambda m: (_set("config", "layers", 1, "weight_bits", 4)(m),
                            _set("arrays", "l1_weight", "bits", 4)(m)))
    f["net_str_field"] = _tampered(net, d / "net_str_field.npz",
                                   manifest=_set("config", "layers", 1, "in_features", "64"))
    f["net_bias_bits"] = _tampered(net, d / "net_bias_bits.npz",
                                   manifest=_set("config", "layers", 1, "bias_bits", 40))
    f["hklut_stages"] = _tampered(f["hklut"], d / "hklut_stages.npz",
                                  manifest=_set("config", "stages", "22"))
    # A 5x5 kernel on a 3x3 image without padding: an input too small for its kernels.
    big_kernel = {"input": {**DIGITS_INPUT, "height": 3, "width": 3}, "layers": [
        {"kind": "conv2d", "transform": "dense", "in_channels": 1, "out_channels": 2,
         "kernel": 5, "padding": 0, "weight_bits": 8, "bias_bits": 16, "shift": 6,
         "out_bits": 8}, {"kind": "flatten"}]}
    f["net_big_kernel"] = _tampered(net, d / "net_big_kernel.npz",
                                    manifest=_set("config", big_kernel))
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)).save(d / "rgb.png")
    Image.fromarray(rng.integers(0, 256, (6, 5, 4), dtype=np.uint8), "RGBA").save(d / "rgba.png")
    Image.fromarray(np.full((6, 5), 30_000, np.uint16)).save(d / "16bit.png")
    Image.fromarray(np.zeros((6, 5), np.uint8)).convert("CMYK").save(d / "cmyk.jpg")
    Image.fromarray(np.zeros((2, 4), np.uint8)).save(d / "tiny.png")
    (d / "fake.png").write_bytes(b"not a png")
    (d / "empty_dir").mkdir()
    (d / "a_file").write_text("")
    f.update(_image_engine_files(d))
    ro = d / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    f["ro"] = str(ro if not os.access(ro, os.W_OK) else Path("/sys"))   # root ignores the mode
    yield f
    ro.chmod(0o755)


def _image_engine_files(d: Path) -> dict[str, str]:
    """SR-LUT-F x2 (interval 64: 125 rows), MuLUT and bicubic x3 artifacts, tampered copies,
    and SR-LUT benchmark folders (``HR/``, ``LR_bicubic/X2/``) with one bad LR image each."""
    from PIL import Image
    from edgeforge.schemes.bicubic import default_artifact as bicubic_artifact
    from edgeforge.schemes.srlut import SRLUTConfig
    from robust_helpers import random_table_artifact
    srlut, bicubic = d / "srlut.npz", d / "bicubic.npz"
    save(random_table_artifact("srlut", SRLUTConfig("f", (2,), 6), seed=1), srlut)
    save(bicubic_artifact(3, 7), bicubic)
    mulut = save(random_table_artifact("srlut", SRLUTConfig("sdy", (1, 2), 7), seed=1),
                 d / "mulut.npz")
    f = {"srlut": str(srlut), "bicubic": str(bicubic), "mulut": str(mulut)}
    raw = srlut.read_bytes()
    (d / "srlut_truncated.npz").write_bytes(raw[: len(raw) // 3])
    (d / "bicubic_truncated.npz").write_bytes(bicubic.read_bytes()[:200])
    table = load(srlut).arrays["s0_f"]
    edited = table.copy()
    edited[7, 1, 0] = 127 if edited[7, 1, 0] != 127 else -128
    tampered = {
        "srlut_edited": (srlut, {"arrays": {"s0_f": edited}}),
        "srlut_int16": (srlut, {"arrays": {"s0_f": table.astype(np.int16)}}),
        "srlut_short": (srlut, {"arrays": {"s0_f": table[:124]}}),
        "srlut_block": (srlut, {"arrays": {"s0_f": np.zeros((125, 3, 3), np.int8)}}),
        "srlut_pickled": (srlut, {"arrays": {"s0_f": np.array([None] * 500, dtype=object)}}),
        "srlut_declared_bits": (srlut, {"manifest": _set("arrays", "s0_f", "bits", 4)}),
        "srlut_interval_9": (srlut, {"manifest": _set("config", "interval_bits", 9)}),
        "srlut_rows_huge": (srlut, {"manifest": lambda m: (_set("config", "kernels", "s")(m),
                                                           _set("config", "interval_bits", 2)(m))}),
        "srlut_factor_5": (srlut, {"manifest": _set("config", "stages", [5])}),
        "srlut_kernels": (srlut, {"manifest": _set("config", "kernels", "x")}),
        "srlut_stages_str": (srlut, {"manifest": _set("config", "stages", "2")}),
        "srlut_extra": (srlut, {"arrays": {"s1_f": table}}),
        "bicubic_scale": (bicubic, {"manifest": _set("config", "scale", 5)}),
        "bicubic_coef_bits": (bicubic, {"manifest": _set("config", "coef_bits", 13)}),
        "bicubic_coef_str": (bicubic, {"manifest": _set("config", "coef_bits", "7")}),
        "bicubic_field": (bicubic, {"manifest": _set("config", "taps", 6)}),
        "bicubic_edited": (bicubic, {"manifest": _set("config", "coef_bits", 8)}),
        "bicubic_array": (bicubic, {"arrays": {"coefficients": np.zeros((3, 4), np.int16)}}),
    }
    for name, (src, edits) in tampered.items():
        f[name] = _tampered(src, d / f"{name}.npz", **edits)
    rng = np.random.default_rng(1)
    for name, lr in (("tiny", rng.integers(0, 256, (2, 4, 3), dtype=np.uint8)),
                     ("rgba", rng.integers(0, 256, (4, 4, 4), dtype=np.uint8))):
        folder = d / f"bench_{name}"
        (folder / "HR").mkdir(parents=True)
        (folder / "LR_bicubic" / "X2").mkdir(parents=True)
        hr = np.repeat(np.repeat(lr, 2, axis=0), 2, axis=1)
        mode = "RGBA" if lr.shape[2] == 4 else "RGB"
        Image.fromarray(hr, mode).save(folder / "HR" / "a.png")
        Image.fromarray(lr, mode).save(folder / "LR_bicubic" / "X2" / "a.png")
        f[f"bench_{name}"] = str(folder)
    return f


# -- the table -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One bad input: ``argv`` for the CLI (placeholders from ``files``) and the pieces its one
    error line must hold; ``api(files)`` for Python, the exception type and a regex (search,
    anchored where it starts with ``^``)."""
    id: str
    argv: list[str] | None
    says: tuple[str, ...]
    api: Callable[[dict], object] | None = None
    error: type[Exception] = ArtifactError
    message: str = ""


def _net_design(f, **kw):
    return generate(f["net"], **kw)


def _hk_design(f, **kw):
    return generate(f["hklut"], **{"width": 4, "height": 4, **kw})


def _mutated_after_loading(f):
    art = load(f["smoke"])
    art.arrays["table"] = art.arrays["table"].astype(np.int64) + 100    # outside 6 bits
    return generate(art)


def _mutated_net_after_loading(f):
    art = load(f["net"])
    art.arrays["l3_bias"] = art.arrays["l3_bias"].astype(np.float64)
    return generate(art)


def _changed_under_a_design(f):
    art = load(f["smoke"])
    design = generate(art)
    before = design.golden(np.arange(16))
    art.arrays["table"][:] = 0                 # the caller's copy: the design keeps its own
    after = design.golden(np.arange(16))
    assert np.array_equal(before, after) and before.any()
    design.artifact.arrays["table"][0] = 1     # and its own cannot be changed in place


def _upscale(f, name):
    from edgeforge.images import read_image
    return edgeforge.upscale(f["hklut"], read_image(Path(f["d"]) / name, "image"))


SMOKE_NPZ = r"'[^']*\.npz'"
CASES = [
    # malformed and truncated files
    Case("truncated", ["inspect", "{d}/truncated.npz"],
         ("file: ", "is not a readable .npz archive", "truncated"),
         lambda f: load(Path(f["d"]) / "truncated.npz"),
         message=rf"^file: {SMOKE_NPZ} is not a readable \.npz archive \(truncated or not a zip"),
    Case("empty-file", ["inspect", "{d}/empty.npz"], ("file: ", "not a zip file"),
         lambda f: load(Path(f["d"]) / "empty.npz"), message=r"^file: .*not a zip file"),
    Case("plain-npz", ["inspect", "{d}/plain.npz"], ("manifest: ", "no manifest.json member"),
         lambda f: load(Path(f["d"]) / "plain.npz"),
         message=r"^manifest: .* has no manifest\.json member; it is an \.npz but not an "
                 r"edgeforge artifact$"),
    Case("manifest-not-json", ["inspect", "{d}/notjson.npz"], ("manifest: ", "not valid JSON"),
         lambda f: load(Path(f["d"]) / "notjson.npz"),
         message=r"^manifest: manifest\.json is not valid JSON"),
    Case("manifest-a-list", ["inspect", "{d}/jsonlist.npz"],
         ("manifest: expected a JSON object, got list",),
         lambda f: load(Path(f["d"]) / "jsonlist.npz"),
         message=r"^manifest: expected a JSON object, got list$"),
    Case("member-truncated", ["inspect", "{d}/short_member.npz"],
         ("table: array cannot be read", "corrupt"),
         lambda f: load(Path(f["d"]) / "short_member.npz"),
         message=r"^table: array cannot be read without unpickling or is corrupt \(.*expected "
                 r"16 bytes got 11\)$"),
    Case("pickled-member", ["inspect", "{pickled}"], ("table: array cannot be read without "
                                                      "unpickling",),
         lambda f: load(f["pickled"]), message=r"^table: array cannot be read without unpickling"),
    Case("path-not-a-path", None, (), lambda f: load(3),
         message=r"^path: expected a file path \(str or os\.PathLike\), got int 3$"),
    Case("missing-artifact", ["inspect", "{d}/nope.npz"], ("path: no artifact file at",),
         lambda f: load(Path(f["d"]) / "nope.npz"), message=r"^path: no artifact file at "),
    # dtypes, shapes, bit-widths
    Case("wrong-dtype", ["inspect", "{float_table}"], ("table: expected dtype uint8, got float32",),
         lambda f: load(f["float_table"]), message=r"^table: expected dtype uint8, got float32$"),
    Case("wrong-shape", ["inspect", "{short_table}"], ("table: expected shape (16,), got (15,)",),
         lambda f: load(f["short_table"]), message=r"^table: expected shape \(16,\), got \(15,\)$"),
    Case("outside-bit-width", ["inspect", "{wide_table}"],
         ("table: values span [64, 64], outside [0, 63] of its 6-bit unsigned range",),
         lambda f: load(f["wide_table"]),
         message=r"^table: values span \[64, 64\], outside \[0, 63\] of its 6-bit unsigned range$"),
    Case("network-weight-outside-bit-width", ["generate", "{net_wide_weight}"],
         ("l1_weight: values span [127, 127], outside [-8, 7] of its 4-bit signed range",),
         lambda f: generate(f["net_wide_weight"]),
         message=r"^l1_weight: values span \[127, 127\], outside \[-8, 7\]"),
    # scheme, versions and JSON types
    Case("unknown-scheme", ["inspect", "{unknown_scheme}"],
         ("scheme: unknown scheme 'pecan'; known: ['bicubic', 'hklut', 'network', 'smoke'",),
         lambda f: load(f["unknown_scheme"]), message=r"^scheme: unknown scheme 'pecan'; known: "),
    Case("unknown-format-version", ["inspect", "{format_v2}"],
         ("format_version: this edgeforge reads version 1, got 2",),
         lambda f: load(f["format_v2"]), message=r"^format_version: this edgeforge reads version "
                                                 r"1, got 2$"),
    Case("format-version-a-bool", ["inspect", "{format_true}"],
         ("format_version: expected int, got True",), lambda f: load(f["format_true"]),
         message=r"^format_version: expected int, got True$"),
    Case("scheme-version-a-string", ["inspect", "{scheme_v_str}"],
         ("scheme_version: expected int, got '1'",), lambda f: load(f["scheme_v_str"]),
         message=r"^scheme_version: expected int, got '1'$"),
    Case("config-a-list", ["inspect", "{config_list}"], ("config: expected dict, got [4, 6]",),
         lambda f: load(f["config_list"]), message=r"^config: expected dict, got \[4, 6\]$"),
    Case("provenance-a-string", ["inspect", "{provenance_str}"],
         ("provenance: expected dict, got 'trained by me'",), lambda f: load(f["provenance_str"]),
         message=r"^provenance: expected dict, got 'trained by me'$"),
    Case("network-field-a-string", ["inspect", "{net_str_field}"],
         ("config.layers[1].in_features: expected an integer >= 1, got '64'",),
         lambda f: load(f["net_str_field"]),
         message=r"^config\.layers\[1\]\.in_features: expected an integer >= 1, got '64'$"),
    Case("hklut-stages-a-string", ["inspect", "{hklut_stages}"],
         ("config.stages: expected a non-empty list of integer stage factors, got '22'",),
         lambda f: load(f["hklut_stages"]), message=r"^config\.stages: expected a non-empty list"),
    # content hash, and artifacts changed after loading
    Case("hash-edited", ["inspect", "{hash_edited}"],
         ("content_hash: stored 'sha256:000", "the file was altered"),
         lambda f: load(f["hash_edited"]), message=r"^content_hash: stored 'sha256:0+' does not "
                                                   r"match the content .*: the file was altered$"),
    Case("content-edited", ["generate", "{edited_table}"],
         ("content_hash: stored 'sha256:", "the file was altered"),
         lambda f: load(f["edited_table"]), message=r"^content_hash: stored .* the file was altered$"),
    Case("changed-after-loading", None, (), _mutated_after_loading,
         message=r"^table: expected dtype uint8, got int64$"),
    Case("network-changed-after-loading", None, (), _mutated_net_after_loading,
         message=r"^l3_bias: expected dtype int32, got float64$"),
    Case("changed-under-a-design", None, (), _changed_under_a_design, ValueError,
         r"^assignment destination is read-only$"),
    Case("generate-not-an-artifact", None, (), lambda f: generate(42), TypeError,
         r"^artifact must be an edgeforge Artifact or a path to one, got int$"),
    Case("save-not-an-artifact", None, (), lambda f: save("x", Path(f["d"]) / "x.npz"), TypeError,
         r"^artifact must be an edgeforge Artifact, got str$"),
    # impossible hardware configs
    Case("folding-does-not-divide", ["generate", "{net}", "--folding", "3x1,1x1"],
         ("folding of layer 1 (linear): PE must divide its 32 output channels, got 3",),
         lambda f: _net_design(f, folding=[(3, 1), (1, 1)]), ValueError,
         r"^folding of layer 1 \(linear\): PE must divide its 32 output channels, got 3$"),
    Case("folding-zero", ["generate", "{net}", "--folding", "1x1,1x0"],
         ("folding of layer 3 (linear): SIMD must divide its 32 inputs, got 0",),
         lambda f: _net_design(f, folding=[(1, 1), (1, 0)]), ValueError,
         r"^folding of layer 3 \(linear\): SIMD must divide its 32 inputs, got 0$"),
    Case("folding-a-triple", ["generate", "{net}", "--folding", "1x1x1,1x1"],
         ("folding of layer 1 (linear) must be a (PE, SIMD) pair, got (1, 1, 1)",),
         lambda f: _net_design(f, folding=[(1, 1, 1), (1, 1)]), ValueError,
         r"^folding of layer 1 \(linear\) must be a \(PE, SIMD\) pair, got \(1, 1, 1\)$"),
    Case("pixels-per-beat-does-not-divide", ["generate", "{net}", "--pixels-per-beat", "3"],
         ("pixels_per_beat must divide the 64 pixels of an image, got 3",),
         lambda f: _net_design(f, pixels_per_beat=3), ValueError,
         r"^pixels_per_beat must divide the 64 pixels of an image, got 3$"),
    Case("pixels-per-beat-huge", ["generate", "{net}", "--pixels-per-beat", str(10 ** 20)],
         ("pixels_per_beat must divide the 64 pixels of an image, got 100000000000000000000",),
         lambda f: _net_design(f, pixels_per_beat=10 ** 20), ValueError,
         r"^pixels_per_beat must divide the 64 pixels of an image, got 10{20}$"),
    Case("target-cycles-zero", ["generate", "{net}", "--target-cycles", "0"],
         ("target_cycles must be a positive integer, got 0",),
         lambda f: _net_design(f, target_cycles=0), ValueError,
         r"^target_cycles must be a positive integer, got 0$"),
    Case("layer-out-of-range", ["generate", "{net}", "--layer", "99"],
         ("layer must be the index of a conv2d, linear or maxpool layer ([1, 3]), got 99",),
         lambda f: _net_design(f, layer=99), ValueError,
         r"^layer must be the index of a conv2d, linear or maxpool layer \(\[1, 3\]\), got 99$"),
    Case("kernel-larger-than-input", ["inspect", "{net_big_kernel}"],
         ("config.layers[0].kernel: a 5x5 kernel with padding 0 does not fit the 3x3 input",),
         lambda f: load(f["net_big_kernel"]),
         message=r"^config\.layers\[0\]\.kernel: a 5x5 kernel with padding 0 does not fit the "
                 r"3x3 input, got kernel 5$"),
    Case("bias-width-overflows", ["inspect", "{net_bias_bits}"],
         ("config.layers[1].bias_bits: expected an integer 2..32, got 40",),
         lambda f: load(f["net_bias_bits"]),
         message=r"^config\.layers\[1\]\.bias_bits: expected an integer 2\.\.32, got 40$"),
    Case("reads-per-table-not-a-choice", ["generate", "{hklut}", "--width", "4", "--height", "4",
                                          "--reads-per-table", "3,3"],
         ("reads_per_table entries must be one of (1, 2, 4, 8, 16), got (3, 3)",),
         lambda f: _hk_design(f, reads_per_table=(3, 3)), ValueError,
         r"^reads_per_table entries must be one of \(1, 2, 4, 8, 16\), got \(3, 3\)$"),
    Case("reads-per-table-one-stage-short", ["generate", "{hklut}", "--width", "4", "--height", "4",
                                             "--reads-per-table", "2"],
         ("reads_per_table must give one count per stage (2), got (2,)",),
         lambda f: _hk_design(f, reads_per_table=(2,)), ValueError,
         r"^reads_per_table must give one count per stage \(2\), got \(2,\)$"),
    Case("out-pixels-not-a-choice", ["generate", "{hklut}", "--width", "4", "--height", "4",
                                     "--out-pixels", "32"],
         ("out_pixels must be one of (1, 2, 4, 8, 16), got 32",),
         lambda f: _hk_design(f, out_pixels=32), ValueError,
         r"^out_pixels must be one of \(1, 2, 4, 8, 16\), got 32$"),
    Case("frame-too-small-for-kernels", ["generate", "{hklut}", "--width", "2", "--height", "4"],
         ("width must be an integer of at least 3, got 2",),
         lambda f: _hk_design(f, width=2), ValueError,
         r"^width must be an integer of at least 3, got 2$"),
    Case("frame-zero", ["generate", "{hklut}", "--width", "0", "--height", "4"],
         ("width must be an integer of at least 3, got 0",),
         lambda f: _hk_design(f, width=0), ValueError, r"^width must be an integer of at least 3"),
    Case("frame-huge", ["generate", "{hklut}", "--width", "100000", "--height", "4"],
         ("width must be at most 4096", "got 100000"),
         lambda f: _hk_design(f, width=100_000), ValueError,
         r"^width must be at most 4096, the side of the largest supported LR frame .*got 100000$"),
    Case("rgb-lanes-on-grey", ["generate", "{hklut}", "--width", "4", "--height", "4",
                               "--rgb-lanes"],
         ("rgb_lanes needs channels=3, got channels=1",),
         lambda f: _hk_design(f, rgb_lanes=True), ValueError,
         r"^rgb_lanes needs channels=3, got channels=1$"),
    Case("option-of-another-scheme", ["generate", "{smoke}", "--folding", "folded"],
         ("--folding: a classifier networks option; the smoke scheme takes none here",),
         lambda f: generate(f["smoke"], folding="folded"), ValueError,
         r"^the smoke design takes no hardware options, got \['folding'\]$"),
    # inputs of the wrong type, mode or shape
    Case("image-rgba", ["upscale", "{hklut}", "{d}/rgba.png", "-o", "{d}/up"],
         ("has transparent pixels", "got mode 'RGBA'"), lambda f: _upscale(f, "rgba.png"),
         ValueError, r"^image has transparent pixels, which upscaling would lose; .*got mode "
                     r"'RGBA'$"),
    Case("image-16-bit", ["upscale", "{hklut}", "{d}/16bit.png", "-o", "{d}/up"],
         ("must be an 8-bit grey or RGB image",), lambda f: _upscale(f, "16bit.png"), ValueError,
         r"^image must be an 8-bit grey or RGB image"),
    Case("image-cmyk", ["upscale", "{hklut}", "{d}/cmyk.jpg", "-o", "{d}/up"],
         ("must be an 8-bit grey, RGB or palette image, got mode 'CMYK'",),
         lambda f: _upscale(f, "cmyk.jpg"), ValueError,
         r"^image must be an 8-bit grey, RGB or palette image, got mode 'CMYK'$"),
    Case("image-too-small", ["upscale", "{hklut}", "{d}/tiny.png", "-o", "{d}/up"],
         ("image must be at least 3x3 pixels", "got size (2, 4)"),
         lambda f: _upscale(f, "tiny.png"), ValueError,
         r"^image must be at least 3x3 pixels for kernel sets .* got size \(2, 4\)$"),
    Case("image-not-an-image", ["upscale", "{hklut}", "{d}/fake.png", "-o", "{d}/up"],
         ("is not an image Pillow can read",), lambda f: _upscale(f, "fake.png"), ValueError,
         r"^image is not an image Pillow can read, got '.*fake\.png'$"),
    Case("image-float-array", None, (),
         lambda f: edgeforge.upscale(f["hklut"], np.zeros((4, 4), np.float64)), TypeError,
         r"^image must have dtype uint8, got dtype\('float64'\)$"),
    Case("upscale-with-a-network", ["upscale", "{net}", "{d}/rgb.png", "-o", "{d}/up"],
         ("artifact must be an HKLUT artifact, got scheme 'network'",),
         lambda f: edgeforge.upscale(f["net"], np.zeros((4, 4), np.uint8)), ValueError,
         r"must be an artifact of scheme 'hklut', got scheme 'network'$"),
    Case("network-input-shape", None, (),
         lambda f: _net_design(f).golden(np.zeros((8, 8), np.uint8)), ValueError,
         r"^input must be a uint8 array of shape \(1, 8, 8\), got \(dtype\('uint8'\), \(8, 8\)\)$"),
    Case("network-input-dtype", None, (),
         lambda f: _net_design(f).golden(np.zeros((1, 8, 8), np.float32)), ValueError,
         r"^input must be a uint8 array of shape \(1, 8, 8\), got \(dtype\('float32'\)"),
    Case("hklut-input-shape", None, (),
         lambda f: _hk_design(f).golden(np.zeros((4, 4, 3), np.uint8)), ValueError,
         r"^input must be a uint8 array of shape \(4, 4\), got \(dtype\('uint8'\), \(4, 4, 3\)\)$"),
    Case("smoke-address-outside-table", None, (),
         lambda f: generate(f["smoke"]).golden(np.array([0, 16])), ValueError,
         r"^addresses must lie in 0\.\.15, got \[0, 16\]$"),
    Case("verify-no-inputs", None, (), lambda f: generate(f["smoke"]).verify([]), ValueError,
         r"^verify needs at least one input, got an empty list$"),
    # data folders
    Case("benchmark-folder-missing", ["evaluate", "{hklut}", "--test-dir", "{d}/nodir"],
         ("benchmark folder must hold HR/ and LR_bicubic/X4/; missing",),
         None),
    Case("benchmark-folder-empty", ["evaluate", "{hklut}", "--test-dir", "{d}/empty_dir"],
         ("benchmark folder must hold HR/ and LR_bicubic/X4/; missing", "empty_dir/HR"), None),
    Case("training-folder-missing", ["train", "-o", "{d}/t.npz", "--train-dir", "{d}/nodir",
                                     "--checkpoint-dir", "{d}/ck"],
         ("training folder must hold HR/*.png; missing",), None),
    Case("lut-folder-missing", ["import-hklut", "{d}/nodir", "-o", "{d}/i.npz"],
         ("LUT folder does not exist or is not a folder",), None),
    Case("lut-folder-empty", ["import-hklut", "{d}/empty_dir", "-o", "{d}/i.npz"],
         ("LUT folder holds no .npy files",), None),
    Case("upscale-folder-empty", ["upscale", "{hklut}", "{d}/empty_dir", "-o", "{d}/up"],
         ("input: folder", "holds no image file"), None),
    # unwritable outputs
    Case("generate-into-read-only", ["generate", "{smoke}", "-o", "{ro}/rtl"],
         ("-o/--output: cannot write", "is not writable"),
         lambda f: generate(f["smoke"]).write_verilog(Path(f["ro"]) / "rtl"), ValueError,
         r"^out_dir: cannot write '.*rtl': folder '.*' is not writable"),
    Case("generate-onto-a-file", ["generate", "{smoke}", "-o", "{d}/a_file"],
         ("-o/--output:", "is a file; give a folder",),
         lambda f: generate(f["smoke"]).write_verilog(Path(f["d"]) / "a_file"), ValueError,
         r"^out_dir: '.*a_file' is a file; give a folder"),
    Case("save-into-read-only", None, (),
         lambda f: save(default_artifact(), Path(f["ro"]) / "a.npz"), ValueError,
         r"^path: cannot write '.*a\.npz': folder '.*' is not writable"),
    Case("verify-work-dir-read-only", None, (),
         lambda f: generate(f["smoke"]).verify(work_dir=Path(f["ro"]) / "w"), ValueError,
         r"^work_dir: cannot write '.*w': folder '.*' is not writable"),
    Case("train-into-read-only", ["train", "-o", "{ro}/t.npz", "--checkpoint-dir", "{d}/ck2"],
         ("-o/--output: cannot write", "is not writable"), None),
    # run options
    Case("seed-negative", ["verify", "{smoke}", "--seed", "-1"],
         ("seed must be an integer in [0, 2**32), got -1",),
         lambda f: generate(f["smoke"]).verify(seed=-1), ValueError,
         r"^seed must be an integer in \[0, 2\*\*32\), got -1$"),
    Case("pauses-unknown", ["verify", "{smoke}", "--pauses", "random:sometimes"],
         ("pauses entries must be src:sink",),
         lambda f: generate(f["smoke"]).verify(pauses="random:sometimes"), ValueError,
         r"^pauses entries must be src:sink with modes from \['heavy', 'none', 'random'\], not "
         r"'random:sometimes'$"),
    Case("simulator-unknown", None, (), lambda f: generate(f["smoke"]).verify(simulator="xsim"),
         ValueError, r"^simulator must be one of \('verilator', 'icarus'\), got 'xsim'$"),
]


# -- SR-LUT / MuLUT and bicubic ----------------------------------------------------------------

def _sr_design(f, **kw):
    return generate(f["srlut"], **{"width": 4, "height": 3, **kw})


def _bic_design(f, **kw):
    return generate(f["bicubic"], **{"width": 4, "height": 3, **kw})


def _sr_upscale(f, image, artifact="srlut", **kw):
    from edgeforge.sim.golden.srlut import upscale
    return upscale(load(f[artifact]), image, **kw)


def _sr_tables_of_another_dtype(f):
    from edgeforge.schemes.srlut import SRLUTConfig
    from edgeforge.sim.golden.srlut import upscale
    tables = {"s0_f": load(f["srlut"]).arrays["s0_f"].astype(np.int16)}
    return upscale((tables, SRLUTConfig("f", (2,), 6)), np.zeros((4, 4), np.uint8))


def _bic_upscale(f, image, artifact="bicubic"):
    from edgeforge.sim.golden.bicubic import upscale
    return upscale(load(f[artifact]), image)


def _bicubic_artifact(**kw):
    from edgeforge.schemes.bicubic import default_artifact as bicubic_artifact
    return bicubic_artifact(**kw)


def _sr_changed_after_loading(f):
    art = load(f["srlut"])
    art.arrays["s0_f"] = art.arrays["s0_f"].astype(np.int32) * 2     # outside int8
    return generate(art, width=4, height=3)


def _sr_evaluate(f, folder):
    from edgeforge.models.data import load_benchmark_dir
    from edgeforge.models.srlut.evaluate import evaluate
    return evaluate(f["srlut"], load_benchmark_dir(f[folder], 2))


def _sr_generate(*options):
    return ["generate", "{srlut}", "--width", "4", "--height", "3", *options]


def _bic_generate(*options):
    return ["generate", "{bicubic}", "--width", "4", "--height", "3", *options]


SRLUT_SPEC = r"\{'dtype': 'int8', 'shape': \[125, 2, 2\], 'bits': 8, 'signed': True\}"
CASES += [
    # malformed, truncated and tampered artifacts
    Case("srlut-truncated", ["inspect", "{d}/srlut_truncated.npz"],
         ("file: ", "is not a readable .npz archive", "truncated"),
         lambda f: load(Path(f["d"]) / "srlut_truncated.npz"),
         message=r"^file: '[^']*srlut_truncated\.npz' is not a readable \.npz archive"),
    Case("bicubic-truncated", ["inspect", "{d}/bicubic_truncated.npz"],
         ("file: ", "is not a readable .npz archive", "truncated"),
         lambda f: load(Path(f["d"]) / "bicubic_truncated.npz"),
         message=r"^file: '[^']*bicubic_truncated\.npz' is not a readable \.npz archive"),
    Case("srlut-pickled-table", ["inspect", "{srlut_pickled}"],
         ("s0_f: array cannot be read without unpickling",), lambda f: load(f["srlut_pickled"]),
         message=r"^s0_f: array cannot be read without unpickling"),
    Case("srlut-content-edited", ["generate", "{srlut_edited}", "--width", "4", "--height", "3"],
         ("content_hash: stored 'sha256:", "the file was altered"),
         lambda f: load(f["srlut_edited"]),
         message=r"^content_hash: stored .* the file was altered$"),
    Case("bicubic-content-edited",
         ["generate", "{bicubic_edited}", "--width", "4", "--height", "3"],
         ("content_hash: stored 'sha256:", "the file was altered"),
         lambda f: load(f["bicubic_edited"]),
         message=r"^content_hash: stored .* the file was altered$"),
    # dtypes, shapes, declared widths
    Case("srlut-wrong-dtype", ["inspect", "{srlut_int16}"],
         ("s0_f: expected dtype int8, got int16",), lambda f: load(f["srlut_int16"]),
         message=r"^s0_f: expected dtype int8, got int16$"),
    Case("srlut-rows-short", ["inspect", "{srlut_short}"],
         ("s0_f: expected shape (125, 2, 2), got (124, 2, 2)",), lambda f: load(f["srlut_short"]),
         message=r"^s0_f: expected shape \(125, 2, 2\), got \(124, 2, 2\)$"),
    Case("srlut-block-of-another-factor", ["inspect", "{srlut_block}"],
         ("s0_f: expected shape (125, 2, 2), got (125, 3, 3)",), lambda f: load(f["srlut_block"]),
         message=r"^s0_f: expected shape \(125, 2, 2\), got \(125, 3, 3\)$"),
    Case("srlut-declared-width-edited", ["inspect", "{srlut_declared_bits}"],
         ("arrays.s0_f: expected {{'dtype': 'int8', 'shape': [125, 2, 2], 'bits': 8",
          "'bits': 4"), lambda f: load(f["srlut_declared_bits"]),
         message=rf"^arrays\.s0_f: expected {SRLUT_SPEC}, got .*'bits': 4"),
    Case("srlut-table-outside-int8-after-loading", None, (), _sr_changed_after_loading,
         message=r"^s0_f: expected dtype int8, got int32$"),
    Case("srlut-extra-table", ["inspect", "{srlut_extra}"],
         ("arrays.s1_f: unexpected array for scheme 'srlut' with this config (expected ['s0_f'])",),
         lambda f: load(f["srlut_extra"]),
         message=r"^arrays\.s1_f: unexpected array for scheme 'srlut' with this config"),
    Case("bicubic-array-it-has-none-of", ["inspect", "{bicubic_array}"],
         ("arrays.coefficients: unexpected array for scheme 'bicubic' with this config "
          "(expected [])",), lambda f: load(f["bicubic_array"]),
         message=r"^arrays\.coefficients: unexpected array for scheme 'bicubic'"),
    Case("srlut-golden-table-int16", None, (), _sr_tables_of_another_dtype,
         message=r"^s0_f: expected dtype int8, got int16$"),
    # config values outside their declared ranges, JSON types
    Case("srlut-interval-bits-outside", ["inspect", "{srlut_interval_9}"],
         ("config.interval_bits: expected an integer 0..8 (log2 of the sampling interval), got 9",),
         lambda f: load(f["srlut_interval_9"]),
         message=r"^config\.interval_bits: expected an integer 0\.\.8 .*got 9$"),
    Case("srlut-table-too-many-rows", ["inspect", "{srlut_rows_huge}"],
         ("config.interval_bits: 65 nodes per input make 17,850,625 rows per 's' table, more than "
          "16,777,216; got interval_bits 2",), lambda f: load(f["srlut_rows_huge"]),
         message=r"^config\.interval_bits: 65 nodes per input make 17,850,625 rows"),
    Case("srlut-factor-outside", ["inspect", "{srlut_factor_5}"],
         ("config.stages: stage factor must be 1..4, got 5",), lambda f: load(f["srlut_factor_5"]),
         message=r"^config\.stages: stage factor must be 1\.\.4, got 5$"),
    Case("srlut-kernels-unknown", ["inspect", "{srlut_kernels}"],
         ("config.kernels: expected one of ['f', 's', 'sdy', 'v'], got 'x'",),
         lambda f: load(f["srlut_kernels"]),
         message=r"^config\.kernels: expected one of \['f', 's', 'sdy', 'v'\], got 'x'$"),
    Case("srlut-stages-a-string", ["inspect", "{srlut_stages_str}"],
         ("config.stages: expected a non-empty list of integer stage factors, got '2'",),
         lambda f: load(f["srlut_stages_str"]), message=r"^config\.stages: expected a non-empty"),
    Case("bicubic-scale-outside", ["inspect", "{bicubic_scale}"],
         ("config.scale: expected one of (2, 3, 4), got 5",), lambda f: load(f["bicubic_scale"]),
         message=r"^config\.scale: expected one of \(2, 3, 4\), got 5$"),
    Case("bicubic-coef-bits-outside", ["inspect", "{bicubic_coef_bits}"],
         ("config.coef_bits: expected an integer in 6..12, got 13",),
         lambda f: load(f["bicubic_coef_bits"]),
         message=r"^config\.coef_bits: expected an integer in 6\.\.12, got 13$"),
    Case("bicubic-coef-bits-a-string", ["inspect", "{bicubic_coef_str}"],
         ("config.coef_bits: expected an integer in 6..12, got '7'",),
         lambda f: load(f["bicubic_coef_str"]),
         message=r"^config\.coef_bits: expected an integer in 6\.\.12, got '7'$"),
    Case("bicubic-unknown-config-field", ["inspect", "{bicubic_field}"],
         ("config.taps: unknown bicubic config field; known: ['scale', 'coef_bits']",),
         lambda f: load(f["bicubic_field"]),
         message=r"^config\.taps: unknown bicubic config field"),
    Case("bicubic-artifact-scale-outside", None, (), lambda f: _bicubic_artifact(scale=5),
         message=r"^config\.scale: expected one of \(2, 3, 4\), got 5$"),
    # impossible hardware configs
    Case("srlut-frame-zero", _sr_generate("--width", "0"),
         ("width must be an integer of at least 3, got 0",), lambda f: _sr_design(f, width=0),
         ValueError, r"^width must be an integer of at least 3, got 0$"),
    Case("srlut-frame-too-small", _sr_generate("--height", "2"),
         ("height must be an integer of at least 3, got 2",), lambda f: _sr_design(f, height=2),
         ValueError, r"^height must be an integer of at least 3, got 2$"),
    Case("srlut-frame-huge", _sr_generate("--width", "100000"),
         ("width must be at most 4096, the side of the largest supported LR frame, got 100000",),
         lambda f: _sr_design(f, width=100_000), ValueError,
         r"^width must be at most 4096, the side of the largest supported LR frame, got 100000$"),
    Case("srlut-out-pixels-does-not-divide", _sr_generate("--width", "3", "--out-pixels", "4"),
         ("out_pixels must divide the output row of 6 pixels, got 4",),
         lambda f: _sr_design(f, width=3, out_pixels=4), ValueError,
         r"^out_pixels must divide the output row of 6 pixels, got 4$"),
    Case("srlut-out-pixels-not-a-choice", _sr_generate("--out-pixels", "3"),
         ("out_pixels must be one of (1, 2, 4, 8, 16), got 3",),
         lambda f: _sr_design(f, out_pixels=3), ValueError,
         r"^out_pixels must be one of \(1, 2, 4, 8, 16\), got 3$"),
    Case("srlut-memory-latency-zero", _sr_generate("--memory-latency", "0"),
         ("memory_latency must be a positive integer, got 0",),
         lambda f: _sr_design(f, memory_latency=0), ValueError,
         r"^memory_latency must be a positive integer, got 0$"),
    Case("srlut-memory-latency-huge", _sr_generate("--memory-latency", "1000000000000"),
         ("memory_latency must be at most 1024 cycles (a DRAM's is tens to hundreds), got "
          "1000000000000",),
         lambda f: _sr_design(f, memory_latency=10 ** 12), ValueError,
         r"^memory_latency must be at most 1024 cycles \(a DRAM's is tens to hundreds\), "
         r"got 1000000000000$"),
    Case("srlut-table-place-unknown", None, (), lambda f: _sr_design(f, table="dram"), ValueError,
         r"^table must be one of \('onchip', 'external'\), got 'dram'$"),
    Case("srlut-buffer-ram-unknown", _sr_generate("--buffer-ram", "bram"),
         ("buffer_ram must be one of ('auto', 'block', 'lut'), got 'bram'",),
         lambda f: _sr_design(f, buffer_ram="bram"), ValueError,
         r"^buffer_ram must be one of \('auto', 'block', 'lut'\), got 'bram'$"),
    Case("srlut-option-of-another-scheme", _sr_generate("--channels", "3"),
         ("--channels: a HKLUT or bicubic option; the srlut scheme takes",),
         lambda f: _sr_design(f, channels=3), ValueError,
         r"^channels: not an option of the srlut design, whose options are width, height, "),
    Case("mulut-has-no-engine", ["generate", "{mulut}", "--width", "4", "--height", "4"],
         ("config: the engine reads one stage of kernel set s or f, got kernels 'sdy', "
          "stages [1, 2]",), lambda f: generate(f["mulut"], width=4, height=4), ValueError,
         r"^config: the engine reads one stage of kernel set s or f, got kernels 'sdy', "
         r"stages \[1, 2\]$"),
    Case("bicubic-frame-zero", _bic_generate("--height", "0"),
         ("height must be an integer of at least 3, got 0",), lambda f: _bic_design(f, height=0),
         ValueError, r"^height must be an integer of at least 3, got 0$"),
    Case("bicubic-frame-too-small", _bic_generate("--width", "2"),
         ("width must be an integer of at least 3, got 2",), lambda f: _bic_design(f, width=2),
         ValueError, r"^width must be an integer of at least 3, got 2$"),
    Case("bicubic-frame-huge", _bic_generate("--height", "5000"),
         ("height must be at most 4096, the side of the largest supported LR frame, got 5000",),
         lambda f: _bic_design(f, height=5000), ValueError, r"^height must be at most 4096"),
    Case("bicubic-out-pixels-does-not-divide", _bic_generate("--width", "3", "--out-pixels", "4"),
         ("out_pixels must divide the output row of 9 pixels, got 4",),
         lambda f: _bic_design(f, width=3, out_pixels=4), ValueError,
         r"^out_pixels must divide the output row of 9 pixels, got 4$"),
    Case("bicubic-channels", None, (), lambda f: _bic_design(f, channels=2), ValueError,
         r"^channels must be one of \(1, 3\), got 2$"),
    Case("bicubic-option-of-another-scheme", _bic_generate("--table", "onchip"),
         ("--table: a SR-LUT / MuLUT option; the bicubic scheme takes",),
         lambda f: _bic_design(f, table="onchip"), ValueError,
         r"^table: not an option of the bicubic design, whose options are "),
    Case("bicubic-verify-axis", ["verify", "{bicubic}", "--width", "4", "--height", "3",
                                 "--axis", "--seed", "1"],
         ("verify drives the i/o stream ports, so it needs axis=False, got True",),
         lambda f: _bic_design(f, axis=True).verify(), ValueError,
         r"^verify drives the i/o stream ports, so it needs axis=False, got True$"),
    # inputs of the wrong type, mode or shape
    Case("srlut-input-shape", None, (),
         lambda f: _sr_design(f).golden(np.zeros((3, 4, 3), np.uint8)), ValueError,
         r"^input must be a uint8 array of shape \(3, 4\), got \(dtype\('uint8'\), \(3, 4, 3\)\)$"),
    Case("srlut-input-dtype", None, (),
         lambda f: _sr_design(f).verify([np.zeros((3, 4), np.float32)]), ValueError,
         r"^input must be a uint8 array of shape \(3, 4\), got \(dtype\('float32'\), \(3, 4\)\)$"),
    Case("srlut-image-rgba", None, (), lambda f: _sr_upscale(f, np.zeros((4, 4, 4), np.uint8)),
         ValueError, r"^image must be grey \(H, W\) or RGB \(H, W, 3\), got shape \(4, 4, 4\)$"),
    Case("srlut-image-too-small", None, (), lambda f: _sr_upscale(f, np.zeros((2, 5), np.uint8)),
         ValueError, r"^image must be at least 3x3 pixels for kernel set 'f' \(its reflect "
                     r"padding needs it\), got size \(2, 5\)$"),
    Case("srlut-image-float", None, (), lambda f: _sr_upscale(f, np.zeros((4, 4), np.float64)),
         TypeError, r"^image must have dtype uint8, got dtype\('float64'\)$"),
    Case("srlut-simplex-unknown", None, (),
         lambda f: _sr_upscale(f, np.zeros((4, 4), np.uint8), simplex="sorted"), ValueError,
         r"^simplex must be one of \('fixed', 'authors'\), got 'sorted'$"),
    Case("srlut-evaluate-image-too-small", ["evaluate", "{srlut}", "--test-dir", "{bench_tiny}"],
         ("pairs[0] ('a') lr must be at least 3x3 pixels for kernel set 'f'", "got size (2, 4)"),
         lambda f: _sr_evaluate(f, "bench_tiny"), ValueError,
         r"^pairs\[0\] \('a'\) lr must be at least 3x3 pixels for kernel set 'f' \(its "
         r"reflect padding needs it\), got size \(2, 4\)$"),
    Case("srlut-evaluate-image-rgba", ["evaluate", "{srlut}", "--test-dir", "{bench_rgba}"],
         ("has transparent pixels", "got mode 'RGBA'"), lambda f: _sr_evaluate(f, "bench_rgba"),
         ValueError, r"^image '.*a\.png' has transparent pixels"),
    Case("srlut-evaluate-folder-missing", ["evaluate", "{srlut}", "--test-dir", "{d}/nodir"],
         ("benchmark folder must hold HR/ and LR_bicubic/X2/; missing",), None),
    Case("srlut-upscale-with-bicubic", None, (),
         lambda f: _sr_upscale(f, np.zeros((4, 4), np.uint8), artifact="bicubic"), ValueError,
         r"must be an artifact of scheme 'srlut', got scheme 'bicubic'$"),
    Case("bicubic-input-shape", None, (),
         lambda f: _bic_design(f, channels=3).golden(np.zeros((3, 4), np.uint8)), ValueError,
         r"^input must be a uint8 array of shape \(3, 4, 3\), got \(dtype\('uint8'\), \(3, 4\)\)$"),
    Case("bicubic-image-rgba", None, (), lambda f: _bic_upscale(f, np.zeros((4, 4, 4), np.uint8)),
         ValueError, r"^image must be grey \(H, W\) or RGB \(H, W, 3\), got shape \(4, 4, 4\)$"),
    Case("bicubic-image-empty", None, (), lambda f: _bic_upscale(f, np.zeros((0, 4), np.uint8)),
         ValueError, r"^image must have at least one pixel, got shape \(0, 4\)$"),
    Case("bicubic-image-float", None, (), lambda f: _bic_upscale(f, np.zeros((4, 4), np.float32)),
         TypeError, r"^image must have dtype uint8, got dtype\('float32'\)$"),
    Case("bicubic-upscale-with-srlut", None, (),
         lambda f: _bic_upscale(f, np.zeros((4, 4), np.uint8), artifact="srlut"), ValueError,
         r"^artifact must be of scheme 'bicubic', got scheme 'srlut'$"),
    # unwritable outputs
    Case("bicubic-artifact-into-read-only", ["bicubic-artifact", "-o", "{ro}/b.npz"],
         ("-o/--output: cannot write", "is not writable"), None),
    Case("srlut-generate-into-read-only", _sr_generate("-o", "{ro}/rtl"),
         ("-o/--output: cannot write", "is not writable"),
         lambda f: _sr_design(f).write_verilog(Path(f["ro"]) / "rtl"), ValueError,
         r"^out_dir: cannot write '.*rtl': folder '.*' is not writable"),
]


def _argv(case: Case, files: dict) -> list[str]:
    return [part.format(**files) for part in case.argv]


@pytest.mark.parametrize("case", [c for c in CASES if c.argv], ids=lambda c: c.id)
def test_cli_gives_one_clear_error(case, files, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("EDGEFORGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    status = main(_argv(case, files))
    err = capsys.readouterr().err.strip()
    assert status != 0, err
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    for part in case.says:
        assert part.format(**files) in err, err
    assert not (tmp_path / "cache").exists()      # refused before anything was built


@pytest.mark.parametrize("case", [c for c in CASES if c.api], ids=lambda c: c.id)
def test_api_raises_a_named_error(case, files, monkeypatch, tmp_path):
    monkeypatch.setenv("EDGEFORGE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(case.error, match=case.message) as info:
        case.api(files)
    assert type(info.value) is case.error or case.error is not ArtifactError
    assert not (tmp_path / "cache").exists()


def test_every_listed_kind_of_bad_input_has_a_row():
    """The issue's list, each kind by at least one row (a deleted row fails here)."""
    ids = {c.id for c in CASES}
    kinds = {"malformed": {"manifest-not-json", "manifest-a-list", "plain-npz"},
             "truncated": {"truncated", "member-truncated"}, "pickled": {"pickled-member"},
             "dtype/shape": {"wrong-dtype", "wrong-shape"},
             "bit-width": {"outside-bit-width", "network-weight-outside-bit-width"},
             "scheme/version": {"unknown-scheme", "unknown-format-version"},
             "json types": {"format-version-a-bool", "config-a-list", "provenance-a-string"},
             "hash": {"hash-edited", "content-edited"},
             "changed after loading": {"changed-after-loading", "changed-under-a-design"},
             "divide": {"folding-does-not-divide", "pixels-per-beat-does-not-divide"},
             "overflow": {"bias-width-overflows"},
             "too small": {"kernel-larger-than-input", "frame-too-small-for-kernels"},
             "zero/huge": {"frame-zero", "frame-huge", "pixels-per-beat-huge",
                           "target-cycles-zero"},
             "input": {"image-rgba", "image-16-bit", "network-input-shape"},
             "data folders": {"benchmark-folder-missing", "training-folder-missing"},
             "unwritable": {"generate-into-read-only", "save-into-read-only"}}
    for kind, needed in kinds.items():
        assert needed <= ids, (kind, needed - ids)


def test_every_kind_has_an_srlut_and_a_bicubic_row():
    """The kinds of the issue's list that apply to the SR-LUT / MuLUT and bicubic schemes."""
    ids = {c.id for c in CASES}
    kinds = {"truncated": {"srlut-truncated", "bicubic-truncated"},
             "tampered": {"srlut-content-edited", "bicubic-content-edited"},
             "pickled": {"srlut-pickled-table"},
             "dtype/shape": {"srlut-wrong-dtype", "srlut-rows-short", "srlut-golden-table-int16"},
             "declared widths": {"srlut-declared-width-edited", "srlut-interval-bits-outside",
                                 "srlut-factor-outside", "bicubic-scale-outside",
                                 "bicubic-coef-bits-outside"},
             "json types": {"srlut-stages-a-string", "bicubic-coef-bits-a-string"},
             "changed after loading": {"srlut-table-outside-int8-after-loading"},
             "divide": {"srlut-out-pixels-does-not-divide", "bicubic-out-pixels-does-not-divide"},
             "huge tables": {"srlut-table-too-many-rows"},
             "too small": {"srlut-frame-too-small", "bicubic-frame-too-small",
                           "srlut-image-too-small", "srlut-evaluate-image-too-small"},
             "zero/huge": {"srlut-frame-zero", "srlut-frame-huge", "bicubic-frame-zero",
                           "bicubic-frame-huge", "srlut-memory-latency-zero"},
             "input": {"srlut-input-shape", "srlut-image-rgba", "srlut-evaluate-image-rgba",
                       "bicubic-input-shape", "bicubic-image-rgba", "bicubic-image-empty"},
             "no engine": {"mulut-has-no-engine"},
             "data folders": {"srlut-evaluate-folder-missing"},
             "unwritable": {"bicubic-artifact-into-read-only", "srlut-generate-into-read-only"}}
    for kind, needed in kinds.items():
        assert needed <= ids, (kind, needed - ids)
