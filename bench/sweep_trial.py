"""One sweep trial, in a process of its own on a Dask worker.

The Dask task (:func:`run_on_worker`) starts ``python -m edgeforge.bench.sweep_trial ROW OUT``
in the worker's own folder (``<work>/<worker>/``: simulation builds under its ``cache/``, the
design's files and synthesis reports under its ``rtl_out/`` unless the sweep shares one
synthesis folder) and returns what the process wrote: the compare record of the row
(:func:`edgeforge.bench.compare.measure_row`), or ``{"error": reason}``. A process of its own
means a trial that crashes, hangs or exhausts memory costs its trial, not the worker; a
worker that dies under a trial is the scheduler's to retry on another worker.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from .. import jsonfile
from .compare import RowSpec, measure_row

__all__ = ["run_on_worker", "row_to_json", "row_from_json", "main"]


def row_to_json(row: RowSpec) -> dict:
    return {**asdict(row), "targets": list(row.targets)}


def row_from_json(data: dict) -> RowSpec:
    return RowSpec(**{**data, "targets": tuple(data["targets"])})


def _worker_name() -> str:
    try:
        from distributed import get_worker
        name = str(get_worker().name)
    except (ImportError, ValueError):       # not on a worker: the process itself
        name = f"pid{os.getpid()}"
    return "worker-" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _tail(text: str, lines: int = 8) -> str:
    return " | ".join(line for line in text.strip().splitlines()[-lines:])


def _die_with_parent() -> None:
    """In the trial's process before it starts (Linux): end with the worker, so that a killed
    worker leaves no orphan trial running beside its retry."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_on_worker(payload: dict) -> dict:
    """The Dask task of one trial: ``payload`` holds ``row`` (:func:`row_to_json`), ``key``
    (the trial's cache key), ``work_dir``, ``synth_dir`` (None: the worker's own),
    ``launcher`` (words put before the command, e.g. ``["nice"]``) and ``timeout_s``."""
    worker = _worker_name()
    home = Path(payload["work_dir"]) / worker
    trials = home / "trials"
    trials.mkdir(parents=True, exist_ok=True)
    row_file, out_file = trials / f"{payload['key']}.row.json", trials / f"{payload['key']}.json"
    out_file.unlink(missing_ok=True)
    jsonfile.write(row_file, payload["row"], indent=2)
    design_dir = payload.get("synth_dir") or home / "rtl_out"
    command = [*payload.get("launcher", ()), sys.executable, "-m", "edgeforge.bench.sweep_trial",
               str(row_file), str(out_file), str(design_dir)]
    env = {**os.environ, "EDGEFORGE_CACHE": str(home / "cache")}
    # A session of its own: a timeout ends the trial and the tools it started (yosys, nextpnr).
    proc = subprocess.Popen(command, cwd=home, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    try:
        _, stderr = proc.communicate(timeout=payload.get("timeout_s"))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"error": f"TimeoutError: the trial took more than {payload['timeout_s']} s",
                "worker": worker}
    if proc.returncode != 0 or not out_file.is_file():
        return {"error": f"TrialProcessError: exit status {proc.returncode}: "
                         f"{_tail(stderr) or 'no output'}", "worker": worker}
    return {**json.loads(out_file.read_text()), "worker": worker}


def main(argv=None) -> int:
    """``python -m edgeforge.bench.sweep_trial ROW.json OUT.json DESIGN_DIR``: measure the row
    (no record cache: the sweep keeps that) and write its record to OUT.json."""
    argv = sys.argv[1:] if argv is None else argv
    row_file, out_file, design_dir = (Path(a) for a in argv)
    row = row_from_json(json.loads(row_file.read_text()))
    record = measure_row(row, cache=None, progress=False, design_dir=design_dir)
    jsonfile.write(out_file, record, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
