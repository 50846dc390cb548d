"""The CLI: every subcommand has --help, errors are one line, unfinished commands say so."""

import json
import math
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from edgeforge import save
from edgeforge.cli import build_parser, main
from edgeforge.models.hklut import PRETRAINED as PRETRAINED_PATH
from edgeforge.schemes.smoke import default_artifact

COMMANDS = ["demo", "train", "export", "import-hklut", "import-srlut", "inspect", "generate",
            "verify", "cost", "evaluate", "upscale", "compare", "bicubic-artifact"]


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


def test_compare_refuses_a_bad_spec_in_one_line(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text('[[row]]\nlabel = "a"\nartifact = "shipped:nope"\nfolding = "folded"\n')
    assert main(["compare", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "row[0]: unknown field 'folding'" in err and "Traceback" not in err
    assert main(["compare", str(tmp_path / "missing.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


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
    # Every scheme that declares --width is named (by its title).
    assert capsys.readouterr().err.strip() == ("error: --width: a HKLUT or SR-LUT / MuLUT or "
                                               "bicubic option; the smoke scheme takes none "
                                               "here")


def test_train_refuses_an_unknown_scheme_and_foreign_options(tmp_path, capsys):
    assert main(["train", "--scheme", "nope", "-o", str(tmp_path / "a.npz")]) == 2
    assert "error: --scheme: unknown scheme 'nope'; known: [" in capsys.readouterr().err
    assert main(["train", "--scheme", "smoke", "-o", str(tmp_path / "a.npz")]) == 2
    assert "error: --scheme: 'smoke' has no training; schemes that train: ['hklut', 'network', 'srlut']" in \
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


def _strict_json(text):
    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


TINY_TRAIN = ["--batch", "2", "--patch", "8", "--nf", "4", "--threads", "1", "--no-progress"]


def test_train_again_in_the_same_folder_refuses_the_earlier_run(tmp_path, monkeypatch, capsys):
    """Issue 10.1: the second run used to export the first run's best.pt under its own name."""
    monkeypatch.chdir(tmp_path)
    assert main(["train", "-o", "a.npz", "--stop-after", "3", *TINY_TRAIN]) == 0
    capsys.readouterr()
    assert main(["train", "-o", "b.npz", "--stages", "2", "--stop-after", "2", *TINY_TRAIN]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: checkpoint_dir: 'checkpoints/hklut' holds an earlier run's "
                          "last.pt and best.pt") and "\n" not in err
    assert not (tmp_path / "b.npz").exists()


def test_train_stopped_before_its_first_evaluation_exports_evaluated_weights(tmp_path, capsys):
    """Issue 10.2: --stop-after below --eval-every reported -inf dB and wrote -Infinity."""
    from edgeforge import load
    out = tmp_path / "b.npz"
    assert main(["train", "-o", str(out), "--stages", "2", "--stop-after", "5",
                 "--checkpoint-dir", str(tmp_path / "ckpt"), *TINY_TRAIN]) == 0
    printed = capsys.readouterr().out
    assert "at iteration 5 " in printed and "-inf" not in printed
    with zipfile.ZipFile(out) as zf:
        manifest = _strict_json(zf.read("manifest.json"))
    assert math.isfinite(manifest["provenance"]["psnr"])
    assert manifest["provenance"]["best_iteration"] == 5
    assert load(out).provenance["psnr"] == manifest["provenance"]["psnr"]
    assert main(["generate", str(out), "--width", "4", "--height", "4",
                 "-o", str(tmp_path / "rtl")]) == 0
    assert _strict_json((tmp_path / "rtl" / "manifest.json").read_text())["artifact"]


@pytest.mark.parametrize("lr", ["inf", "nan", "5"])
def test_train_refuses_a_learning_rate_that_cannot_train(lr, tmp_path, capsys):
    """Issue 10.3: --lr inf trained to all-zero tables and exited 0."""
    assert main(["train", "-o", str(tmp_path / "t.npz"), "--lr", lr,
                 "--checkpoint-dir", str(tmp_path / "ckpt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: TrainConfig.lr must be a number in (0, 1], got {float(lr)!r}"
    assert not any(tmp_path.iterdir())


PRETRAINED = str(PRETRAINED_PATH)


def test_evaluate_refuses_a_16_bit_test_image_as_upscale_does(tmp_path, capsys):
    """Issue 10.4: evaluate --test-dir clipped a 16-bit PNG to 255 and reported 6.19 dB."""
    import numpy as np
    from PIL import Image
    root = tmp_path / "Set1"
    (root / "HR").mkdir(parents=True)
    (root / "LR_bicubic" / "X4").mkdir(parents=True)
    Image.fromarray(np.full((4, 4), 30_000, np.uint16)).save(root / "LR_bicubic" / "X4" / "a.png")
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(root / "HR" / "a.png")
    assert main(["evaluate", PRETRAINED, "--test-dir", str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: image '") and "a.png' must be an 8-bit grey or RGB image" in err
    assert main(["upscale", PRETRAINED, str(root / "LR_bicubic" / "X4" / "a.png"),
                 "-o", str(tmp_path / "up.png")]) == 2
    assert "must be an 8-bit grey or RGB image" in capsys.readouterr().err


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder this process cannot write: chmod'ed, or /sys where root ignores the mode."""
    import os
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):      # root: chmod does not stop it, sysfs does
        ro = Path("/sys")
    yield ro
    (tmp_path / "ro").chmod(0o755)


def _small_png(path, shape=(6, 5, 3)):
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(path)
    return path


def _one_line_error(capsys, *parts):
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    for part in parts:
        assert part in err, err
    return err


def _output_commands(tmp_path, out):
    smoke = save(default_artifact(), tmp_path / "smoke.npz")
    src = _small_png(tmp_path / "in.png")
    return {
        "train": ["train", "-o", str(out / "t.npz"), "--checkpoint-dir", str(tmp_path / "ck")],
        "export": ["export", str(tmp_path / "none.pt"), "-o", str(out / "e.npz")],
        "import-hklut": ["import-hklut", str(tmp_path / "none"), "-o", str(out / "i.npz")],
        "generate": ["generate", str(smoke), "-o", str(out / "rtl")],
        "cost": ["cost", str(smoke), "-o", str(out / "rtl")],
        "evaluate": ["evaluate", PRETRAINED, "-o", str(out / "ev")],
        "upscale": ["upscale", PRETRAINED, str(src), "-o", str(out / "up.png")],
        "demo": ["demo", "--out", str(out / "demo")],
    }


@pytest.mark.parametrize("command", ["train", "export", "import-hklut", "generate", "cost",
                                     "evaluate", "upscale", "demo"])
def test_output_in_a_read_only_folder_is_refused_before_the_work(command, tmp_path,
                                                                 read_only_dir, capsys):
    """Issue 10.6: an OSError traceback, for train only after the whole training."""
    argv = _output_commands(tmp_path, read_only_dir)[command]
    assert main(argv) == 2
    _one_line_error(capsys, "-o/--output: " if command != "demo" else "--out: ",
                    f"folder '{read_only_dir}' is not writable")
    assert not (tmp_path / "ck").exists()     # train stopped before making its checkpoints


@pytest.mark.parametrize("command", ["train", "export", "import-hklut"])
def test_an_existing_folder_as_output_file_is_refused(command, tmp_path, capsys):
    (tmp_path / "d").mkdir()
    argv = _output_commands(tmp_path, tmp_path)[command]
    argv[argv.index("-o") + 1] = str(tmp_path / "d")
    assert main(argv) == 2
    _one_line_error(capsys, f"error: -o/--output: '{tmp_path / 'd'}' is a folder; name a file")


@pytest.mark.parametrize("command", ["generate", "cost", "evaluate"])
def test_an_existing_file_as_output_folder_is_refused(command, tmp_path, capsys):
    (tmp_path / "f").write_text("")
    argv = _output_commands(tmp_path, tmp_path)[command]
    argv[argv.index("-o") + 1] = str(tmp_path / "f")
    assert main(argv) == 2
    _one_line_error(capsys, f"error: -o/--output: '{tmp_path / 'f'}' is a file; give a folder")


def test_upscale_into_an_existing_folder_writes_there(tmp_path, capsys):
    """Issue 10.6: -o naming an existing folder was an IsADirectoryError traceback."""
    from PIL import Image
    (tmp_path / "out").mkdir()
    assert main(["upscale", PRETRAINED, str(_small_png(tmp_path / "a.png")),
                 "-o", str(tmp_path / "out")]) == 0
    assert Image.open(tmp_path / "out" / "a.png").size == (20, 24)


def test_upscale_writes_the_format_its_suffix_names(tmp_path, capsys):
    """Issue 10.10: -o out.jpg wrote PNG data under a .jpg name."""
    from PIL import Image
    src = _small_png(tmp_path / "a.png")
    for suffix, fmt in ((".jpg", "JPEG"), (".JPEG", "JPEG"), (".bmp", "BMP"), (".png", "PNG")):
        assert main(["upscale", PRETRAINED, str(src), "-o", str(tmp_path / f"o{suffix}")]) == 0
        assert Image.open(tmp_path / f"o{suffix}").format == fmt
    assert main(["upscale", PRETRAINED, str(src), "-o", str(tmp_path / "o.xyz")]) == 2
    _one_line_error(capsys, "-o/--output: ", "must end in an image suffix", "got '.xyz'")
    assert not (tmp_path / "o.xyz").exists()


def test_upscale_png_is_lossless_at_the_fast_zlib_level(tmp_path, capsys):
    """Issue 10.9: Pillow's default zlib level took 0.7 of 0.85 s; PNG_COMPRESS_LEVEL is fast."""
    import numpy as np
    from PIL import Image
    from edgeforge import load, upscale
    src = _small_png(tmp_path / "a.png", (16, 16, 3))
    assert main(["upscale", PRETRAINED, str(src), "-o", str(tmp_path / "o.png")]) == 0
    expected = upscale(load(PRETRAINED), np.asarray(Image.open(src)))
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "o.png")), expected)
    data = (tmp_path / "o.png").read_bytes()
    idat = data.index(b"IDAT") + 4
    # zlib's header records its level class: 0 = the fastest levels (0 and 1), 2 = default (6).
    assert data[idat + 1] >> 6 == 0


def test_upscale_several_images_and_a_folder_in_one_process(tmp_path, capsys):
    """Issue 10.9: upscale took one image per process."""
    from PIL import Image
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("b.png", "c.bmp"):
        _small_png(folder / name)
    (folder / "notes.txt").write_text("not an image")
    single = _small_png(tmp_path / "a.png", (4, 7))
    assert main(["upscale", PRETRAINED, str(single), str(folder), "-o", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png", "c.png"]
    assert Image.open(tmp_path / "out" / "a.png").size == (28, 16)
    assert main(["upscale", PRETRAINED, str(single), str(folder / "b.png"), str(folder / "b.png"),
                 "-o", str(tmp_path / "out")]) == 2
    _one_line_error(capsys, "would both be written to")
    assert main(["upscale", PRETRAINED, str(folder), "-o", str(folder)]) == 2
    _one_line_error(capsys, "would replace its input")


@pytest.mark.parametrize("size, value", [("--height", "4294967296"), ("--width", "100000"),
                                         ("--height", "99999999999999999999")])
def test_generate_refuses_a_frame_beyond_the_largest_supported(size, value, tmp_path, capsys):
    """Issue 10.5: these took all memory, 112 s and 203 MB, or an OverflowError traceback."""
    other = "--width" if size == "--height" else "--height"
    assert main(["generate", PRETRAINED, size, value, other, "8",
                 "-o", str(tmp_path / "rtl")]) == 2
    _one_line_error(capsys, f"error: {size[2:]} must be at most 4096, the side of the largest "
                            f"supported LR frame", f"got {value}")
    assert not (tmp_path / "rtl").exists()


def test_generate_states_the_memory_before_building(tmp_path, capsys):
    from edgeforge import generate
    bits = generate(PRETRAINED, width=4, height=4).memory_bits()
    assert main(["generate", PRETRAINED, "--width", "4", "--height", "4",
                 "-o", str(tmp_path / "rtl")]) == 0
    out = capsys.readouterr().out
    said = f"memories: {bits['tables']:,} table bits, {bits['buffers']:,} buffer bits"
    assert out.index(said) < out.index("wrote ")


def test_generate_without_a_frame_size_names_the_flags(capsys):
    """Issue 10.8: Python's 'missing 2 required keyword-only arguments' reached the user."""
    assert main(["generate", PRETRAINED]) == 2
    _one_line_error(capsys, "error: width, height: the hklut design needs a value for each "
                            "(--width, --height on the command line), got none")


def test_design_options_are_checked_by_name():
    from edgeforge import generate
    with pytest.raises(ValueError, match=r"^height: the hklut design needs a value for each "
                                         r"\(--height on the command line\), got none$"):
        generate(PRETRAINED, width=8)
    with pytest.raises(ValueError, match=r"^colour: not an option of the hklut design, whose "
                                         r"options are width, height, .*; got 'red'$"):
        generate(PRETRAINED, width=8, height=8, colour="red")


@pytest.mark.parametrize("option, value, message", [
    ("--seed", "-1", r"seed must be an integer in [0, 2**32), got -1"),
    ("--seed", str(2 ** 32), r"seed must be an integer in [0, 2**32), got 4294967296"),
    ("--pauses", "random:sometimes", "pauses entries must be src:sink with modes from "
                                     "['heavy', 'none', 'random'], not 'random:sometimes'"),
])
def test_verify_checks_every_option_before_building(option, value, message, tmp_path,
                                                     monkeypatch, capsys):
    """Issue 10.7/10.8: --pauses built for 18 s, then a cocotb traceback; --seed -1 named no field."""
    monkeypatch.setenv("EDGEFORGE_CACHE", str(tmp_path / "cache"))
    assert main(["verify", PRETRAINED, "--width", "4", "--height", "4", option, value]) == 2
    _one_line_error(capsys, f"error: {message}")
    assert not (tmp_path / "cache").exists()      # nothing was written or built


def test_verify_prints_the_seed_that_reproduces_it(tmp_path, capsys):
    """Issue 10.10: the seed was time-based and not printed."""
    import re
    from edgeforge import generate
    smoke = save(default_artifact(), tmp_path / "smoke.npz")
    assert main(["verify", str(smoke)]) == 0
    out = capsys.readouterr().out
    seed = int(re.search(r"^seed (\d+) \(--seed \1 repeats this run\)$", out, re.M).group(1))
    assert f"PASS: 3 input(s), 763 beats in, 763 beats out on verilator, seed {seed}" in out
    # The printed seed is the one cocotb ran with: every test's record quotes it.
    result = generate(smoke).verify(seed=seed, work_dir=tmp_path / "again")
    assert result.seed == seed and {m["seed"] for m in result.measurements.values()} == {seed}


def test_cost_reports_go_to_the_folder_write_verilog_was_given(tmp_path, monkeypatch):
    """Issue 10.10: cost wrote a second copy of the design under rtl_out/."""
    from edgeforge import generate
    monkeypatch.chdir(tmp_path)
    design = generate(default_artifact())
    design.write_verilog(tmp_path / "mine")
    design.verify(work_dir=tmp_path / "verify")      # its cache copy does not move the reports
    design.cost(("generic",), place_route=False)
    assert (tmp_path / "mine" / "reports").is_dir() and not (tmp_path / "rtl_out").exists()


def test_version(capsys):
    from importlib.metadata import version
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out == f"edgeforge {version('edgeforge')}\n"


@pytest.mark.parametrize("extra, message", [
    (["--device", "ecp5-nope"], "error: device must be one of "),
    (["--target", "ecp5", "--device", "up5k-sg48"],
     "error: --device: up5k-sg48 is an ice40 part, but the targets are ecp5; add --target ice40"),
])
def test_cost_checks_its_parts_before_anything_else(extra, message, tmp_path, capsys):
    smoke = save(default_artifact(), tmp_path / "smoke.npz")
    assert main(["cost", str(smoke), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(message)
