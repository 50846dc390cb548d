"""Design-space sweeps: a grid or an Optuna search (NSGA-II) over a design's parameters,
its trials run on Dask, their records those of ``edgeforge compare``.

A spec (:mod:`edgeforge.bench.sweep_spec`) names the base design, the parameters, the
objectives and constraints. Every trial is a compare row (the base design with the trial's
parameters); its record is cached by design hash and targets in compare's cache
(``build/compare/<design_hash>-<targets>.json``), so that a re-run or a resumed sweep costs
nothing for what is done, and two trials that make the same design measure it once. The
trials that are not cached run on Dask: a ``distributed.LocalCluster`` by default (nothing to
start), or the cluster at ``--scheduler ADDRESS``; each in a process of its own on its worker
(:mod:`edgeforge.bench.sweep_trial`). A worker that dies under a trial has it retried on
another by the scheduler (``distributed.scheduler.allowed-failures`` times, 3 by default; a
task that raises is retried once more); the trial is counted once, when its result comes
back, and its Dask key is its cache key, so that one design is never in flight twice. A trial
that fails (a bad option, an RTL or tool error, a timeout, workers lost) keeps its reason.

Optuna's study lives in a journal file (``build/sweep/<spec>.journal``) or an RDB URL
(``--storage``), so an interrupted search goes on where it stopped.

Run::

    edgeforge sweep SPEC.toml [--workers N | --scheduler ADDRESS] [--storage URL]
                    [--launcher WORDS] [--synth-dir DIR] [-o DIR]

Writes ``<spec>.json``, ``.csv`` (and ``.parquet`` where pyarrow is installed), ``.md`` and
``<spec>_<objective>_<objective>.png`` (Pareto plots) into ``bench/results/`` (or ``-o DIR``).
"""

from __future__ import annotations

import logging
import shlex
import sys
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import jsonfile
from .compare import (CACHE, RowSpec, SpecError, cache_key, cached_record, csv_text,
                      design_of, markdown_table, pareto_front, row_fields, scatter_front,
                      store_record, table_rows)
from .energy import ASSUMPTIONS, SOURCE
from .harness import ECP5_PARTS, REPO, RESULTS
from .sweep_spec import OBJECTIVES, SweepSpec, load_sweep, row_of, value_label
from .sweep_trial import row_to_json, run_on_worker

__all__ = ["Trial", "run_sweep", "dask_client", "sweep_rows", "render_markdown", "render_rich",
           "publish", "main"]

WORK = REPO / "build" / "sweep"
COMMAND = "edgeforge sweep"


@dataclass
class Trial:
    """One point of the sweep and what became of it: ``state`` is ``cached`` (its record was
    there), ``measured`` (run on a worker), ``failed`` (``error`` says why) or ``pending``."""
    number: int
    params: dict
    row: RowSpec
    state: str = "pending"
    record: dict | None = None
    error: str | None = None
    key: str | None = None
    worker: str | None = None
    same_as: int | None = None       # an earlier trial that makes the same design

    def to_json(self) -> dict:
        return {"number": self.number, "params": {k: value_label(v) for k, v in
                                                  self.params.items()},
                "state": self.state, "key": self.key, "worker": self.worker,
                "same_as": self.same_as, "error": self.error,
                "record": self.record if self.record is not None
                else {**row_fields(self.row), "error": self.error}}


def _label(params: dict) -> str:
    return ", ".join(f"{k}={value_label(v)}" for k, v in params.items())


def prepare(trial: Trial, cache: Path | None) -> Trial:
    """Generate the trial's design (here: cheap next to measuring it) for its design hash, and
    take its record from the cache where it is there."""
    try:
        _, design = design_of(trial.row)
    except Exception as err:            # a bad option is the trial's reason
        trial.state, trial.error = "failed", f"{type(err).__name__}: {err}"
        return trial
    trial.key = cache_key(design.design_hash, trial.row.targets, trial.row.verify,
                          trial.row.devices)
    record = cached_record(trial.row, design, cache)
    if record is not None:
        trial.state, trial.record = "cached", {**row_fields(trial.row), **record}
    return trial


def finish(trial: Trial, result: dict, cache: Path | None) -> Trial:
    """Take a worker's result into ``trial`` and the measured record into the cache."""
    trial.worker = result.pop("worker", None)
    if "error" in result:
        trial.state, trial.error = "failed", result["error"]
        return trial
    trial.state, trial.record = "measured", {**result, **row_fields(trial.row)}
    if cache is not None:
        fields = row_fields(trial.row)
        store_record(trial.row, {k: v for k, v in result.items() if k not in fields}, cache)
    return trial


# -- execution on Dask ----------------------------------------------------------------------

@contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2):
    """A ``distributed.Client`` of the cluster at ``scheduler``, or of a LocalCluster of
    ``workers`` single-threaded worker processes started here and stopped after."""
    from distributed import Client, LocalCluster
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as err:
            raise SpecError(f"--scheduler: cannot reach {scheduler!r}: {err}") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client


class _Runner:
    """Submits trials to a Dask client, one future per design (Dask's key), and takes their
    results back as they finish."""

    def __init__(self, connect, cache, *, work_dir: Path, synth_dir: Path | None,
                 launcher, timeout_s, retries: int):
        # ``connect()`` gives the client when the first trial is submitted: a sweep whose
        # trials are all cached starts no cluster.
        self.connect, self._client, self.cache, self.retries = connect, None, cache, retries
        self.base = {"work_dir": str(work_dir), "synth_dir": str(synth_dir) if synth_dir else None,
                     "launcher": list(launcher), "timeout_s": timeout_s}
        self.futures: dict = {}          # key -> (future, the trials waiting on it)

    def submit(self, trial: Trial) -> None:
        if trial.key in self.futures:    # the same design in flight: measured once
            self.futures[trial.key][1].append(trial)
            return
        future = self.client.submit(run_on_worker, {**self.base, "row": row_to_json(trial.row),
                                                    "key": trial.key},
                                    key=f"edgeforge-trial-{trial.key}", retries=self.retries,
                                    pure=False)
        self.futures[trial.key] = (future, [trial])

    @property
    def client(self):
        if self._client is None:
            self._client = self.connect()
        return self._client

    @property
    def slots(self) -> int:
        """Trials to keep in flight: a worker thread each (one until a trial is submitted)."""
        if self._client is None:
            return 1
        return max(1, sum(self._client.nthreads().values()))

    def wait(self) -> list[Trial]:
        """The trials of the futures that finish next, their results taken in."""
        from distributed import wait
        done = wait([f for f, _ in self.futures.values()], return_when="FIRST_COMPLETED").done
        finished = []
        for key in [k for k, (f, _) in self.futures.items() if f in done]:
            future, trials = self.futures.pop(key)
            try:
                result = future.result()
            except Exception as err:    # KilledWorker (workers lost past the retries), ...
                result = {"error": f"{type(err).__name__}: {err}"}
            for trial in trials:
                finished.append(finish(trial, dict(result), self.cache))
            future.release()
        return finished


def _progress(enabled: bool, total: int, title: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), disable=not enabled, transient=False)
    return bar, bar.add_task(title, total=total)


def _describe(bar, task, title, trials):
    counts = {s: sum(t.state == s for t in trials) for s in ("cached", "measured", "failed")}
    bar.update(task, description=f"{title}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))


def _run_grid(spec: SweepSpec, runner: _Runner, cache, progress: bool, done) -> list[Trial]:
    points = spec.grid()
    trials = [Trial(i, p, row_of(spec, p, _label(p))) for i, p in enumerate(points)]
    bar, task = _progress(progress, len(trials), spec.stem)
    first: dict[str, Trial] = {}
    with bar:
        for trial in trials:
            prepare(trial, cache)
            if trial.state == "pending":
                if trial.key in first:
                    trial.same_as = first[trial.key].number  # measured once, under one key
                first.setdefault(trial.key, trial)
                runner.submit(trial)
            else:
                bar.advance(task)
            _describe(bar, task, spec.stem, trials)
        while runner.futures:
            for trial in runner.wait():
                bar.advance(task)
            _describe(bar, task, spec.stem, trials)
            if done is not None:
                done(trials)
    return trials


# -- the Optuna search ----------------------------------------------------------------------

def _storage(url: str | None, spec: SweepSpec, work_dir: Path):
    import optuna
    if url:
        return url
    path = work_dir / f"{spec.stem}.journal"
    path.parent.mkdir(parents=True, exist_ok=True)
    from optuna.storages.journal import JournalFileBackend
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def _suggest(otrial, spec: SweepSpec) -> dict:
    params = {}
    for p in spec.parameters:
        if p.values is not None:
            labels = {value_label(v): v for v in p.values}
            params[p.name] = labels[otrial.suggest_categorical(p.name, list(labels))]
        else:
            params[p.name] = otrial.suggest_int(p.name, p.low, p.high, step=p.step, log=p.log)
    return params


def _params_of(frozen, spec: SweepSpec) -> dict:
    out = {}
    for p in spec.parameters:
        value = frozen.params[p.name]
        out[p.name] = ({value_label(v): v for v in p.values}[value] if p.values is not None
                       else value)
    return out


def fits(record: dict, part: str) -> bool:
    """Whether the record's design fits ``part``: costed on it (or, for an ECP5 design on
    the smallest part it fits, on a smaller one) and fitting."""
    from .devices import get_device
    c = record.get("cost", {}).get(get_device(part).family)
    if not c or not c["fits"]:
        return False
    if c["device"] == part:
        return True
    return (part in ECP5_PARTS and c["device"] in ECP5_PARTS
            and ECP5_PARTS.index(c["device"]) <= ECP5_PARTS.index(part))


def constraint_values(constraints, record: dict, row: dict) -> dict[str, float]:
    """Per constraint (:class:`~edgeforge.bench.sweep_spec.Constraint`), Optuna's value: at
    most 0 where it holds."""
    out = {}
    for c in constraints:
        if c.part is not None:
            out[c.text] = 0.0 if fits(record, c.part) else 1.0
        else:
            value = row.get(OBJECTIVES[c.name][0])
            if value is None:
                out[c.text] = 1.0
            else:
                out[c.text] = value - c.bound if c.op == "<=" else c.bound - value
    return out


def _tell(study, otrial, trial: Trial, spec: SweepSpec) -> None:
    from optuna.trial import TrialState
    if trial.key:
        otrial.set_user_attr("key", trial.key)
    if trial.worker:
        otrial.set_user_attr("worker", trial.worker)
    otrial.set_user_attr("state", trial.state)
    if trial.state != "failed":
        row = table_rows({"records": [trial.record]})[0]
        missing = [o.name for o in spec.objectives if row.get(o.column) is None]
        if missing:
            trial.state = "failed"
            trial.error = (f"ObjectiveError: no {OBJECTIVES[missing[0]][0]!r} for objective "
                           f"{missing[0]!r} in the record")
        else:
            for name, value in constraint_values(spec.constraints, trial.record, row).items():
                otrial.set_constraint(name, value)
            study.tell(otrial, [float(row[o.column]) for o in spec.objectives])
            return
    otrial.set_user_attr("error", trial.error)
    otrial.set_user_attr("state", "failed")
    study.tell(otrial, state=TrialState.FAIL)


def _study_trials(study, spec: SweepSpec, cache) -> list[Trial]:
    """The study's finished trials as :class:`Trial` (records from the cache)."""
    import json
    from optuna.trial import TrialState
    out = []
    for frozen in study.get_trials(deepcopy=False):
        if frozen.state not in (TrialState.COMPLETE, TrialState.FAIL) \
                or frozen.user_attrs.get("interrupted"):
            continue
        params = _params_of(frozen, spec)
        trial = Trial(frozen.number, params, row_of(spec, params, _label(params)),
                      state=frozen.user_attrs.get("state", "failed"),
                      key=frozen.user_attrs.get("key"), worker=frozen.user_attrs.get("worker"),
                      error=frozen.user_attrs.get("error"))
        if trial.state != "failed":
            path = (cache or CACHE) / f"{trial.key}.json"
            if path.is_file():
                trial.record = {**row_fields(trial.row), **json.loads(path.read_text())}
            else:
                trial.state, trial.error = "failed", f"CacheError: no record {path.name} in the cache"
        out.append(trial)
    return out


def _run_optuna(spec: SweepSpec, runner: _Runner, cache, progress: bool, done, *,
                storage_url, work_dir) -> list[Trial]:
    import optuna
    from optuna.trial import TrialState
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.NSGAIISampler(population_size=spec.population, seed=spec.seed)
    study = optuna.create_study(study_name=spec.stem, storage=_storage(storage_url, spec, work_dir),
                                sampler=sampler, directions=[o.direction for o in spec.objectives],
                                load_if_exists=True)
    # A sweep stopped with trials in flight: those go again (their records may be cached).
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.enqueue_trial(frozen.params, skip_if_exists=False)
        # Marked so that it is neither counted nor tabled (Optuna has no public setter for
        # another process's trial).
        study._storage.set_trial_user_attr(frozen._trial_id, "interrupted", True)
        study.tell(frozen.number, state=TrialState.FAIL)
    finished = _study_trials(study, spec, cache)
    bar, task = _progress(progress, spec.trials, spec.stem)
    inflight: dict[int, object] = {}
    with bar:
        bar.update(task, completed=min(len(finished), spec.trials))
        _describe(bar, task, spec.stem, finished)
        while len(finished) + len(inflight) < spec.trials or inflight:
            while len(inflight) < runner.slots and len(finished) + len(inflight) < spec.trials:
                otrial = study.ask()
                params = _suggest(otrial, spec)
                trial = prepare(Trial(otrial.number, params, row_of(spec, params, _label(params))),
                                cache)
                if trial.state == "pending":
                    inflight[trial.number] = otrial
                    runner.submit(trial)
                else:
                    _tell(study, otrial, trial, spec)
                    finished.append(trial)
                    bar.advance(task)
            if inflight:
                for trial in runner.wait():
                    _tell(study, inflight.pop(trial.number), trial, spec)
                    finished.append(trial)
                    bar.advance(task)
            _describe(bar, task, spec.stem, finished)
            if done is not None:
                done(sorted(finished, key=lambda t: t.number))
    return sorted(finished, key=lambda t: t.number)


def run_sweep(spec: SweepSpec, *, client=None, scheduler: str | None = None, workers: int = 2,
              cache: Path | None = CACHE, work_dir: Path = WORK, synth_dir: Path | None = None,
              storage: str | None = None, launcher=(), retries: int = 1,
              progress: bool = True, done=None, command: str | None = None) -> dict:
    """Run the sweep ``spec`` describes on ``client`` (else a new one: ``scheduler``'s
    cluster, or a LocalCluster of ``workers``) and return its report. ``done(trials)`` after
    every finished trial, so that a long sweep leaves its results behind."""
    with ExitStack() as stack:
        connect = ((lambda: client) if client is not None
                   else (lambda: stack.enter_context(dask_client(scheduler, workers))))
        runner = _Runner(connect, cache, work_dir=Path(work_dir) / "workers",
                         synth_dir=synth_dir, launcher=launcher,
                         timeout_s=spec.trial_timeout_s, retries=retries)
        return _run(spec, runner, cache, progress, done, storage, Path(work_dir),
                    command or f"{COMMAND} {spec.source}")


def _run(spec, runner, cache, progress, done, storage, work_dir, command) -> dict:
    say = None if done is None else (lambda trials: done(report(spec, trials, command)))
    if spec.mode == "grid":
        trials = _run_grid(spec, runner, cache, progress, say)
    else:
        trials = _run_optuna(spec, runner, cache, progress, say, storage_url=storage,
                             work_dir=work_dir)
    return report(spec, trials, command)


def report(spec: SweepSpec, trials: list[Trial], command: str) -> dict:
    return {"title": spec.title, "spec": spec.source, "spec_text": spec.text, "mode": spec.mode,
            "command": command,
            "objectives": [{"name": o.name, "column": o.column, "direction": o.direction}
                           for o in spec.objectives],
            "constraints": [c.text for c in spec.constraints],
            "parameters": [p.name for p in spec.parameters],
            "trials": [t.to_json() for t in trials],
            "energy_source": SOURCE, "energy_assumptions": ASSUMPTIONS}


# -- the table and its renderers ------------------------------------------------------------

def _constraints_of(report: dict):
    """The report's constraints, read again from their text (the spec checked them)."""
    from .compare import TARGETS
    from .sweep_spec import parse_constraint
    return [parse_constraint(text, "constraints", TARGETS) for text in report["constraints"]]


def sweep_rows(report: dict) -> list[dict]:
    """One flat dict a trial: its number, parameters and state, compare's columns
    (:func:`edgeforge.bench.compare.table_rows`), whether it meets the constraints and
    whether it is on the Pareto front of the objectives (among the feasible trials)."""
    constraints = _constraints_of(report)
    trials = report["trials"]
    table = table_rows({"records": [t["record"] for t in trials]})
    rows = []
    for t, row in zip(trials, table):
        out = {"trial": t["number"], **t["params"], "state": t["state"], "worker": t["worker"],
               **{k: v for k, v in row.items() if k not in ("label", "group")}}
        if t.get("error"):
            out["error"] = t["error"]
        if t["state"] != "failed":
            values = constraint_values(constraints, t["record"], row)
            out["feasible"] = all(v <= 0 for v in values.values())
        rows.append(out)
    cols = [o["column"] for o in report["objectives"]]
    candidates = [r for r in rows if r.get("feasible") and all(r.get(c) is not None for c in cols)]
    if cols:
        front = set(pareto_front([tuple(r[c] for c in cols) for r in candidates],
                                 tuple(o["direction"] for o in report["objectives"])))
        for i, r in enumerate(candidates):
            r["pareto"] = i in front
    return rows


SUMMARY = ("cycles per output", "latency cycles", "generic cells", "ice40 LUT4", "ice40 fits",
           "ecp5 part", "ecp5 LUT4", "ecp5 DSP", "ecp5 Fmax MHz", "metric value",
           "est. pJ per output")


def summary_columns(report: dict, rows: list[dict]) -> list[str]:
    """The columns a summary shows: trial, parameters, state, objectives, then the usual
    figures where any trial has them, feasibility and the Pareto mark, the reason."""
    cols = ["trial", *report["parameters"], "state"]
    for c in [o["column"] for o in report["objectives"]] + list(SUMMARY):
        if c not in cols and any(r.get(c) is not None for r in rows):
            cols.append(c)
    cols += [c for c in ("feasible", "pareto", "error") if any(c in r for r in rows)]
    return cols


def render_markdown(report: dict, plots: list[Path] = ()) -> str:
    rows = sweep_rows(report)
    states = {s: sum(r["state"] == s for r in rows) for s in ("measured", "cached", "failed")}
    lines = [f"# {report['title']}", "",
             f"Command: `{report['command']}` ({report['mode']}, {len(rows)} trials: "
             + ", ".join(f"{n} {s}" for s, n in states.items()) + "). Every trial is a design "
             "of `edgeforge compare` (its record, cached by design hash); the full table is "
             "the CSV beside this file. Objectives: "
             + (", ".join(f"{o['name']} ({o['column']}, {o['direction']})"
                          for o in report["objectives"]) or "none")
             + "; constraints: " + (", ".join(report["constraints"]) or "none")
             + ". Pareto: on the front of the objectives among the feasible trials.", "",
             "Spec:", "", "```toml", report["spec_text"].strip(), "```", ""]
    lines += markdown_table(rows, summary_columns(report, rows))
    lines += [""] + [f"![{p.stem}]({p.name})" for p in plots]
    lines += ["", f"Energy: estimated from operation and access counts, never measured "
              f"({report['energy_source']}; {report['energy_assumptions']})."]
    return "\n".join(lines) + "\n"


def render_rich(report: dict):
    from rich.table import Table
    from .compare import _cell
    rows = sweep_rows(report)
    cols = summary_columns(report, rows)
    table = Table(title=report["title"])
    for c in cols:
        table.add_column(c, justify="left" if c in ("state", "error", "ecp5 part") else "right")
    for r in rows:
        table.add_row(*(f"[red]{str(r.get(c))[:60]}[/]" if c == "error" and r.get(c)
                        else _cell(r.get(c)) for c in cols))
    return table


def plot(report: dict, out: Path, stem: str) -> list[Path]:
    """The first objective against each other one (``<stem>_<a>_<b>.png``), the feasible
    trials labelled by number (a series per value of the first parameter of names), the
    Pareto front of the pair marked."""
    rows = [r for r in sweep_rows(report) if r.get("feasible")]
    objectives = report["objectives"]
    # A series per value of the first parameter of names (an artifact, a folding mode).
    by = next((name for name in report["parameters"]
               if any(isinstance(r.get(name), str) for r in rows)), None)
    written = []
    for other in objectives[1:]:
        a = objectives[0]
        shown = [r for r in rows
                 if r.get(a["column"]) is not None and r.get(other["column"]) is not None]
        pts = [(r[a["column"]], r[other["column"]], str(r["trial"])) for r in shown]
        if not pts:
            continue
        xs = [p[0] for p in pts]
        written.append(scatter_front(
            out / f"{stem}_{a['name']}_{other['name']}.png", pts, a["column"], other["column"],
            (a["direction"], other["direction"]), logx=min(xs) > 0 and max(xs) > 10 * min(xs),
            title=report["title"], groups=None if by is None
            else [f"{by}={r[by]}" for r in shown]))
    return written


def _parquet(rows: list[dict], path: Path) -> Path | None:
    """``rows`` as Parquet where pyarrow is installed (a column of mixed types as text)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    cols = list(dict.fromkeys(k for r in rows for k in r))
    data = {}
    for c in cols:
        values = [r.get(c) for r in rows]
        kinds = {type(v) for v in values if v is not None}
        if len(kinds - {int, float}) > 1 or (kinds & {int, float} and kinds - {int, float}):
            values = [None if v is None else str(v) for v in values]
        data[c] = values
    pq.write_table(pa.table(data), path)
    return path


def publish(report: dict, out: Path, stem: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rows = sweep_rows(report)
    jsonfile.write(out / f"{stem}.json", report, indent=2)
    (out / f"{stem}.csv").write_text(csv_text(rows))
    plots = plot(report, out, stem)
    (out / f"{stem}.md").write_text(render_markdown(report, plots))
    parquet = _parquet(rows, out / f"{stem}.parquet")
    return ([out / f"{stem}.{ext}" for ext in ("json", "csv", "md")]
            + ([parquet] if parquet else []) + plots)


# -- the command line -----------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("spec", type=Path, help="TOML spec of the sweep")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=2,
                       help="workers of the LocalCluster started here (default 2)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the Dask cluster at ADDRESS (tcp://host:8786) instead")
    parser.add_argument("--storage", metavar="URL",
                        help="Optuna storage: an RDB URL (sqlite:///s.db, postgresql://...) "
                             "for many machines (default: the journal build/sweep/<spec>.journal)")
    parser.add_argument("--synth-dir", type=Path, metavar="DIR",
                        help="one synthesis cache for all workers (default: each worker's own)")
    parser.add_argument("--work-dir", type=Path, default=WORK, metavar="DIR",
                        help="the workers' folders and the journal (default build/sweep); on "
                             "a cluster, a path every worker can write")
    parser.add_argument("--launcher", metavar="WORDS", default="",
                        help="words put before each trial's command on its worker, e.g. "
                             "'nice -n 10' (default none)")
    parser.add_argument("--cache", type=Path, default=CACHE, metavar="DIR",
                        help="the record cache (default build/compare, compare's own)")
    parser.add_argument("-o", "--output", type=Path, default=RESULTS,
                        help="folder for <spec>.{json,csv,parquet,md} and the plots "
                             "(default bench/results)")


def run_command(args, console) -> int:
    from ..paths import check_output_dir
    check_output_dir(args.output, "-o/--output")
    if args.workers < 1:
        raise SpecError(f"--workers: expected at least 1, got {args.workers}")
    spec = load_sweep(args.spec)
    stem = spec.stem
    # What reproduces the results: ``edgeforge sweep`` gives its words, ``python -m`` its own.
    words = args.argv[1:] if getattr(args, "argv", None) else sys.argv[1:]
    rep = run_sweep(spec, scheduler=args.scheduler, workers=args.workers,
                    storage=args.storage, synth_dir=args.synth_dir, work_dir=args.work_dir,
                    cache=args.cache, launcher=shlex.split(args.launcher),
                    command=" ".join([COMMAND, *map(shlex.quote, words)]),
                    done=lambda r: publish(r, args.output, stem))
    console.print(render_rich(rep))
    for path in publish(rep, args.output, stem):
        console.print(f"wrote {path}")
    return 0


def main(argv=None) -> int:
    import argparse
    from rich.console import Console
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = ["sweep", *argv]
    console = Console()
    try:
        return run_command(args, console)
    except SpecError as err:
        console.print(f"[red]error:[/] {err}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
