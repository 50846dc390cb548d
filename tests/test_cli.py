"""The CLI: every subcommand has --help, errors are one line, unfinished commands say so."""

import subprocess
import sys

import pytest

from edgeforge import save
from edgeforge.cli import build_parser, main
from edgeforge.schemes.smoke import default_artifact

COMMANDS = ["demo", "train", "export", "import-hklut", "inspect", "generate", "verify", "cost",
            "evaluate", "upscale", "compare"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([command, "--help"])
    assert e.value.code == 0
    assert "usage: edgeforge " + command in capsys.readouterr().out


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "edgeforge.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in COMMANDS:
        assert command in out


def test_compare_exits_non_zero_until_implemented(capsys):
    assert main(["compare"]) == 3
    assert "later issue" in capsys.readouterr().err


def test_bad_artifact_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_text("not an archive")
    assert main(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: file:") and "\n" not in err and "Traceback" not in err


def test_inspect_and_generate(tmp_path, capsys):
    path = save(default_artifact(), tmp_path / "smoke.npz")
    assert main(["inspect", str(path)]) == 0
    assert "table" in capsys.readouterr().out
    assert main(["generate", str(path), "-o", str(tmp_path / "out")]) == 0
    written = sorted(p.suffix for p in (tmp_path / "out").iterdir())
    assert written == [".core", ".f", ".json", ".v"]


def test_generate_rejects_options_the_scheme_lacks(tmp_path, capsys):
    path = save(default_artifact(), tmp_path / "smoke.npz")
    assert main(["generate", str(path), "--width", "8"]) == 2
    assert capsys.readouterr().err.strip() == ("error: --width: a HKLUT option; a smoke artifact "
                                               "takes none")


def test_train_refuses_an_unknown_scheme_and_foreign_options(tmp_path, capsys):
    assert main(["train", "--scheme", "nope", "-o", str(tmp_path / "a.npz")]) == 2
    assert "error: --scheme: unknown scheme 'nope'; known: [" in capsys.readouterr().err
    assert main(["train", "--scheme", "smoke", "-o", str(tmp_path / "a.npz")]) == 2
    assert "error: --scheme: 'smoke' has no training; schemes that train: ['hklut']" in \
        capsys.readouterr().err


def test_train_then_export_round_trip(tmp_path, capsys):
    """A tiny schedule through `edgeforge train`, then `export` of its checkpoint."""
    from edgeforge import load
    ckpt = tmp_path / "ckpt"
    args = ["train", "-o", str(tmp_path / "a.npz"), "--stages", "2", "--iterations", "2",
            "--batch", "2", "--patch", "8", "--eval-every", "2", "--nf", "4", "--threads", "1",
            "--checkpoint-dir", str(ckpt), "--no-progress"]
    assert main(args) == 0
    trained = load(tmp_path / "a.npz")
    assert trained.config["stages"] == [2]
    assert trained.provenance["command"] == "edgeforge " + " ".join(args)
    assert main(["export", str(ckpt / "last.pt"), "-o", str(tmp_path / "b.npz")]) == 0
    exported = load(tmp_path / "b.npz")
    assert exported.provenance["source"] == "edgeforge-train"
    assert set(exported.arrays) == set(trained.arrays)


def test_export_refuses_a_foreign_file(tmp_path, capsys):
    bad = tmp_path / "x.pt"
    bad.write_bytes(b"junk")
    assert main(["export", str(bad), "-o", str(tmp_path / "b.npz")]) == 2
    assert "is not a readable torch checkpoint" in capsys.readouterr().err
