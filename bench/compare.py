"""Hardware cost across schemes: one table of every scheme's designs, Pareto plots.

Data first: a spec (TOML, or the built-in default) lists rows, each an artifact of any
scheme with its hardware options; every row is generated, checked bit-exact and
cycle-exact on a sample (cocotb on Verilator, ``bench/harness.measure``) and synthesised
for its targets, and becomes a record (cached by design hash and targets, so that a re-run
costs nothing for what is done). A row that fails (a bad option, RTL or tool error) stays
in the table with its reason. Then renderers: a rich table, CSV, Markdown and matplotlib
plots, from the records alone.

Spec::

    title = "digits classifiers and x4 SR"
    targets = ["generic", "ice40", "ecp5"]     # defaults for every row
    [[row]]
    label = "dense, folded"
    artifact = "shipped:digits-ref"            # or a path to an artifact .npz
    options = { folding = "folded" }           # what ``edgeforge.generate`` takes
    targets = ["generic"]                      # optional, this row only
    group = "digits-ref @ 64 cycles"           # optional: rows of a like-for-like set
    [[row]]
    label = "MuLUT x4 (golden only)"
    artifact = "rtl_out/imports/mulut-x4.npz"
    hardware = false                           # task metric and storage only: no engine

An ``ecp5`` target takes the smallest ECP5 part the design fits. Energy per output is
estimated from the record's operation and access counts (``bench.energy.estimate``),
never measured.

Run::

    python -m edgeforge.bench.compare [SPEC.toml] [--quick] [--out DIR]

(``edgeforge compare`` is the same.) Writes ``compare.json``, ``.csv``, ``.md`` and the
plots ``compare_*.png`` into ``bench/results/`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import fnmatch
import sys
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from .. import jsonfile
from .energy import ASSUMPTIONS, SOURCE, estimate
from .harness import REPO, RESULTS, cost_smallest, measure

__all__ = ["SpecError", "RowSpec", "Spec", "SHIPPED", "DEFAULT_SPEC", "parse_spec",
           "resolve_artifact", "cache_key", "design_of", "cached_record", "store_record",
           "measure_row", "run", "table_rows", "csv_text", "markdown_table", "render_markdown",
           "render_csv", "render_rich", "group_ratios", "pareto", "pareto_front",
           "scatter_front", "plot", "NOT_MEASURED", "row_filter", "add_arguments",
           "run_command", "main"]

COMMAND = "python -m edgeforge.bench.compare"
TARGETS = ("generic", "ice40", "ecp5")
ENGINE_PATHS = ("hw", "sim/cycles", "edgeforge/schemes")
#: Artifacts that ship with edgeforge, by the name a spec gives after ``shipped:``.
SHIPPED = {
    "digits-ref": "models/network/pretrained/digits-ref.npz",
    "digits-mlp": "models/network/pretrained/digits-mlp.npz",
    "hklut-s-x4": "models/hklut/pretrained/hklut-s-x4.npz",
    "bicubic-x4": "models/bicubic/shipped/bicubic-x4.npz",
    "srlut-s-x4": "models/srlut/pretrained/srlut-s-x4.npz",
    "srlut-f-x4": "models/srlut/pretrained/srlut-f-x4.npz",
    "digits-all-debut": "models/network/pretrained/digits-all-debut.npz",
    "digits-pecan-d": "models/network/pretrained/digits-pecan-d.npz",
    "digits-pecan-d-scalar": "models/network/pretrained/digits-pecan-d-scalar.npz",
    "digits-pecan-a": "models/network/pretrained/digits-pecan-a.npz",
    "digits-mlp-pecan-d": "models/network/pretrained/digits-mlp-pecan-d.npz",
    "digits-wide": "models/network/pretrained/digits-wide.npz",
    "digits-wide-ezcrop50": "models/network/pretrained/digits-wide-ezcrop50.npz",
    "digits-wide-nrmf95": "models/network/pretrained/digits-wide-nrmf95.npz",
}
DEFAULT_SPEC = REPO / "bench" / "specs" / "compare.toml"
#: The reason of a row that ``--cached`` / ``--only`` left unmeasured and the cache lacks.
NOT_MEASURED = f"not measured yet: `{COMMAND}` (or `--only LABEL`) measures it"
CACHE = REPO / "build" / "compare"


class SpecError(ValueError):
    """A spec that cannot be read, naming the field and the value."""


@dataclass(frozen=True)
class RowSpec:
    label: str
    artifact: str
    options: dict
    targets: tuple[str, ...]
    group: str | None = None
    #: False: the cycle model and synthesis only, no RTL run (a sweep's quick trials).
    verify: bool = True
    #: A family's part instead of the default (``{"ecp5": "ecp5-45f"}``: no smallest-part search).
    devices: dict | None = None
    #: False: the artifact's task metric and storage alone, for a scheme without an engine
    #: (MuLUT): no design, no RTL run, no synthesis.
    hardware: bool = True


@dataclass(frozen=True)
class Spec:
    title: str
    rows: tuple[RowSpec, ...]
    source: str


def _targets(value, where: str) -> tuple[str, ...]:
    if (not isinstance(value, list) or not value
            or any(t not in TARGETS for t in value) or len(set(value)) != len(value)):
        raise SpecError(f"{where}: expected a list of distinct targets from {list(TARGETS)}, "
                        f"got {value!r}")
    return tuple(value)


def parse_spec(text: str, source: str = "<spec>") -> Spec:
    """The rows of a TOML spec (see the module docstring); refuse a bad one naming the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{source}: not TOML: {err}") from None
    unknown = sorted(set(data) - {"title", "targets", "row"})
    if unknown:
        raise SpecError(f"{source}: unknown field {unknown[0]!r}; known: title, targets, row")
    targets = _targets(data.get("targets", list(TARGETS)), f"{source}: targets")
    rows = data.get("row")
    if not isinstance(rows, list) or not rows:
        raise SpecError(f"{source}: row: expected at least one [[row]], got {rows!r}")
    out, labels = [], set()
    for i, row in enumerate(rows):
        where = f"{source}: row[{i}]"
        unknown = sorted(set(row) - {"label", "artifact", "options", "targets", "group",
                                     "hardware"})
        if unknown:
            raise SpecError(f"{where}: unknown field {unknown[0]!r}; known: label, artifact, "
                            "options, targets, group, hardware")
        for key in ("label", "artifact"):
            if not isinstance(row.get(key), str) or not row[key]:
                raise SpecError(f"{where}.{key}: expected a non-empty string, got "
                                f"{row.get(key)!r}")
        if row["label"] in labels:
            raise SpecError(f"{where}.label: {row['label']!r} is already a row's label")
        labels.add(row["label"])
        options = row.get("options", {})
        if not isinstance(options, dict):
            raise SpecError(f"{where}.options: expected a table, got {options!r}")
        group = row.get("group")
        if group is not None and not isinstance(group, str):
            raise SpecError(f"{where}.group: expected a string, got {group!r}")
        hardware = row.get("hardware", True)
        if not isinstance(hardware, bool):
            raise SpecError(f"{where}.hardware: expected true or false, got {hardware!r}")
        if not hardware and (options or "targets" in row):
            raise SpecError(f"{where}: a row with hardware = false has no design: drop its "
                            "options and targets")
        out.append(RowSpec(row["label"], row["artifact"], options,
                           (_targets(row["targets"], f"{where}.targets") if "targets" in row
                            else targets) if hardware else (), group, hardware=hardware))
    return Spec(str(data.get("title", "Hardware cost across schemes")), tuple(out), source)


def resolve_artifact(name: str) -> Path:
    """The path of ``shipped:<name>`` (:data:`SHIPPED`) or of a file (a relative one from the
    working folder, else from the repository, as the committed specs name them), checked to
    exist."""
    if name.startswith("shipped:"):
        key = name[len("shipped:"):]
        if key not in SHIPPED:
            raise SpecError(f"artifact: unknown shipped artifact {key!r}; known: "
                            f"{', '.join(sorted(SHIPPED))}")
        return REPO / SHIPPED[key]
    path = Path(name).expanduser()
    if not path.is_file() and not path.is_absolute():
        path = REPO / path
    if not path.is_file():
        raise SpecError(f"artifact: no such file {name!r}")
    return path


def _metric(art) -> dict | None:
    from ..schemes import get_scheme
    flows = get_scheme(art.scheme).flows_module()
    metric = getattr(flows, "task_metric", None)
    return metric(art) if metric else None


def cache_key(design_hash: str, targets, verify: bool = True, devices: dict | None = None) -> str:
    """The name of a record in the cache: design hash and targets (a target on a fixed part as
    ``ecp5@ecp5-45f``; ``none`` for the cycle model alone), ``-unverified`` for a record
    without the RTL run. A verified record on the default parts keeps compare's own name."""
    devices = devices or {}
    names = [f"{t}@{devices[t]}" if t in devices else t for t in targets] or ["none"]
    return f"{design_hash}-{'-'.join(names)}" + ("" if verify else "-unverified")


def design_of(row: RowSpec):
    """The artifact and the design ``row`` names (raises what ``load``/``generate`` raise)."""
    from .. import generate, load
    art = load(resolve_artifact(row.artifact))
    return art, generate(art, **row.options)


def cached_record(row: RowSpec, design, cache: Path | None) -> dict | None:
    """The cached record of ``design`` measured as ``row`` says, or None; a verified record
    serves a row that asks for none."""
    if cache is None:
        return None
    keys = [cache_key(design.design_hash, row.targets, True, row.devices)]
    if not row.verify:
        keys.append(cache_key(design.design_hash, row.targets, False, row.devices))
    for key in keys:
        if (cache / f"{key}.json").is_file():
            return json.loads((cache / f"{key}.json").read_text())
    return None


def store_record(row: RowSpec, record: dict, cache: Path) -> Path:
    """Write ``record`` (a measured row's, without the row's own fields) into ``cache``."""
    path = cache / f"{cache_key(record['design_hash'], row.targets, row.verify, row.devices)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    jsonfile.write(path, record, indent=2)
    return path


def row_fields(row: RowSpec) -> dict:
    return {"label": row.label, "artifact": row.artifact, "options": row.options,
            "group": row.group}


def measure_row(row: RowSpec, *, cache: Path | None = CACHE, progress: bool = True,
                design_dir=None, measure_missing: bool = True) -> dict:
    """The record of one row: the harness's (verify on the design's default sample unless
    ``row.verify`` is False, cost for the row's targets) plus the task metric, the artifact's
    storage, the operation counts and the energy estimate; ``{"label", "error"}`` where it
    fails. ``design_dir``: the folder (or a function of the design giving it) where the
    design's folder of files and synthesis reports goes, which is also where earlier synthesis
    results are found (default ``rtl_out``). ``measure_missing`` False: a row the cache lacks is
    not measured but kept with :data:`NOT_MEASURED` as its reason."""
    base = row_fields(row)
    if not row.hardware:
        return {**base, **artifact_record(row, cache=cache, measure_missing=measure_missing)}
    try:
        art, design = design_of(row)
    except Exception as err:            # a bad artifact or option is the row's reason
        return {**base, "error": f"{type(err).__name__}: {err}"}
    record = cached_record(row, design, cache)
    if record is None and not measure_missing:
        return {**base, "scheme": art.scheme, "design_hash": design.design_hash,
                "error": NOT_MEASURED}
    if record is None:
        try:
            if design_dir is not None:
                parent = design_dir(design) if callable(design_dir) else Path(design_dir)
                design.write_verilog(parent / design.name)
            record = measure(design, None, command=COMMAND, engine_paths=ENGINE_PATHS,
                             verify=row.verify, progress=progress)
            record["cost"] = cost_smallest(design, row.targets, devices=row.devices,
                                           progress=progress)
        except Exception as err:        # RTL mismatch, tool failure: kept with its reason
            return {**base, "scheme": art.scheme, "error": f"{type(err).__name__}: {err}"}
        perf = design.cycle_model()
        record["metric"] = _metric(art)
        record["storage_bytes"] = sum(art.storage_bytes().values())
        record["energy"] = estimate(perf)
        if cache is not None:
            store_record(row, record, cache)
    return {**base, **record}


def artifact_record(row: RowSpec, *, cache: Path | None, measure_missing: bool) -> dict:
    """The record of a ``hardware = false`` row: scheme, task metric and storage of its
    artifact (cached by the artifact's hash), or ``{"error"}``."""
    from .. import load
    try:
        art = load(resolve_artifact(row.artifact))
    except Exception as err:
        return {"error": f"{type(err).__name__}: {err}"}
    path = None if cache is None else cache / f"{art.short_hash}-artifact.json"
    if path is not None and path.is_file():
        return json.loads(path.read_text())
    if not measure_missing:
        return {"scheme": art.scheme, "error": NOT_MEASURED}
    record = {"scheme": art.scheme, "hardware": False, "artifact_hash": art.short_hash,
              "metric": _metric(art), "storage_bytes": sum(art.storage_bytes().values())}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        jsonfile.write(path, record, indent=2)
    return record


def row_filter(patterns) -> "callable":
    """Whether a row is measured, from ``--only`` label patterns (shell wildcards, any case):
    every row where none is given."""
    patterns = [p.lower() for p in patterns or ()]
    return lambda row: not patterns or any(fnmatch.fnmatchcase(row.label.lower(), p)
                                           for p in patterns)


def run(spec: Spec, *, quick: bool = False, progress: bool = True, cache: Path | None = CACHE,
        done=None, measured=lambda row: True, design_dir=None) -> dict:
    """Every row of ``spec`` (``quick``: generic synthesis only), measured where the cache
    lacks it and ``measured(row)`` is true, else kept as :data:`NOT_MEASURED`;
    ``done(report)`` after each row, so that a long run leaves its finished rows behind;
    ``design_dir`` as :func:`measure_row` takes it."""
    from rich.progress import Progress
    records = []
    report = {"title": spec.title, "spec": spec.source, "command": COMMAND, "records": records,
              "energy_source": SOURCE, "energy_assumptions": ASSUMPTIONS}
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("compare", total=len(spec.rows))
        for row in spec.rows:
            if quick:
                row = replace(row, targets=("generic",))
            bar.update(task, description=f"compare: {row.label}")
            records.append(measure_row(row, cache=cache, progress=progress,
                                       measure_missing=measured(row), design_dir=design_dir))
            bar.advance(task)
            if done is not None:
                done(report)
    return report


# -- the table: one dict of columns a record -----------------------------------------------

def _ops(record: dict, op: str) -> float | None:
    lines = record["performance"].get("operations", [])
    return sum(o["count"] for o in lines if o["op"] == op) if lines else None


def _fpga(record: dict, target: str) -> dict:
    c = record.get("cost", {}).get(target)
    if c is None:
        return {}
    res = c["resources"]
    return {f"{target} part": c["device"], f"{target} LUT4": res.get("lut4"),
            f"{target} FF": res.get("ff"), f"{target} BRAM": res.get("bram"),
            f"{target} DSP": res.get("dsp", 0), f"{target} fits": c["fits"],
            f"{target} Fmax MHz": c.get("fmax_mhz")}


def table_rows(report: dict) -> list[dict]:
    """One flat dict a record, the table's columns (None where a figure does not apply)."""
    rows = []
    for r in report["records"]:
        row = {"label": r["label"], "group": r.get("group"), "scheme": r.get("scheme")}
        if "error" in r:
            rows.append({**row, "error": r["error"]})
            continue
        metric = r.get("metric") or {}
        row.update({"metric": metric.get("name"), "metric value": metric.get("value"),
                    "storage bytes": r.get("storage_bytes")})
        if not r.get("hardware", True):
            rows.append(row)
            continue
        perf, verify = r["performance"], r.get("verify", {})
        per_out = perf["outputs_per_input"]
        reads = sum(t["reads"] for t in perf["traffic"])
        ecp5 = (r.get("cost", {}).get("ecp5") or {})
        fmax = ecp5.get("fmax_mhz") if ecp5.get("fits") else None
        generic = r.get("cost", {}).get("generic") or {}
        row.update({
            "on-chip memory bits": generic.get("memory_bits"),
            "off-chip bytes per output": (perf["offchip_bytes_in"] + perf["offchip_bytes_out"])
            / per_out,
            "multiplies per output": None if _ops(r, "mul") is None else _ops(r, "mul") / per_out,
            "adds per output": None if _ops(r, "add") is None else _ops(r, "add") / per_out,
            "memory reads per output": reads / per_out,
            "cycles per output": perf["cycles_per_input"] / per_out,
            "cycles measured": verify.get("cycles_measured"),
            "cycles predicted": verify.get("cycles_predicted"),
            "latency cycles": perf["latency_cycles"],
            "generic cells": (generic.get("resources") or {}).get("gates"),
            "transistors": generic.get("transistors"),
            **_fpga(r, "ice40"), **_fpga(r, "ecp5"),
            "outputs per s at ECP5 Fmax": None if fmax is None
            else fmax * 1e6 * per_out / perf["cycles_per_input"],
            "est. pJ per output": r["energy"]["pj"]["total"] / per_out,
            "est. pJ per output on chip": r["energy"]["pj"]["on_chip"] / per_out,
            "output unit": f"{perf['output_unit']} ({per_out} per {perf['input_unit']})",
        })
        rows.append(row)
    return rows


def _columns(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(k for row in rows for k in row))


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    return str(value)


def csv_text(rows: list[dict], columns: list[str] | None = None) -> str:
    """``rows`` (flat dicts) as CSV, every key a column unless ``columns`` says which."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns or _columns(rows), lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def markdown_table(rows: list[dict], columns: list[str] | None = None) -> list[str]:
    """``rows`` as the lines of a Markdown table (``-`` where a row lacks a figure)."""
    cols = columns or _columns(rows)
    return (["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            + ["| " + " | ".join(_cell(row.get(c)) for c in cols) + " |" for row in rows])


def render_csv(report: dict) -> str:
    return csv_text(table_rows(report))


def render_markdown(report: dict) -> str:
    rows = table_rows(report)
    lines = [f"# {report['title']}", "",
             f"Command: `{report['command']}` (spec {report['spec']}). Every row is checked "
             "bit-exact against its golden model and cycle-exact against its cycle model on "
             "its design's default sample (cocotb on Verilator) before it is costed; a row "
             "that failed keeps its reason. LUT4 are iCE40/ECP5 4-input LUTs; an ECP5 row "
             "is on the smallest part the design fits; outputs per second are at the ECP5 "
             "Fmax where it fits.", ""] + markdown_table(rows)
    for group, ratios in group_ratios(rows).items():
        base = ratios[0]["label"]
        lines += ["", f"Like for like: {group} (ratios to {base})", "",
                  "| row | " + " | ".join(RATIO_COLUMNS) + " |",
                  "|" + "---|" * (len(RATIO_COLUMNS) + 1)]
        lines += ["| " + r["label"] + " | " + " | ".join(_cell(r.get(c)) for c in RATIO_COLUMNS)
                  + " |" for r in ratios]
    lines += ["", f"Energy: estimated from operation and access counts, never measured "
              f"({report['energy_source']}; {report['energy_assumptions']})."]
    return "\n".join(lines) + "\n"


#: What a like-for-like group compares, as ratios to its first row.
RATIO_COLUMNS = ("metric value", "storage bytes", "cycles per output", "ice40 LUT4", "ecp5 LUT4",
                 "ecp5 DSP", "est. pJ per output")


def group_ratios(rows: list[dict]) -> dict[str, list[dict]]:
    """Per ``group`` of two or more measured rows, each row's :data:`RATIO_COLUMNS` as a
    ratio to the group's first row (None where either figure is missing or the base is 0)."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        if row.get("group") and "error" not in row:
            groups.setdefault(row["group"], []).append(row)
    out = {}
    for group, members in groups.items():
        if len(members) < 2:
            continue
        base = members[0]
        out[group] = [{"label": r["label"], **{
            c: (r[c] / base[c] if isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
                and isinstance(base.get(c), (int, float)) and base[c] else None)
            for c in RATIO_COLUMNS}} for r in members]
    return out


def render_rich(report: dict, columns=("label", "scheme", "metric value", "cycles per output",
                                        "ice40 LUT4", "ice40 DSP", "ice40 fits",
                                        "ecp5 Fmax MHz", "est. pJ per output")):
    from rich.table import Table
    table = Table(title=report["title"])
    for c in columns:
        table.add_column(c, justify="left" if c in ("label", "scheme") else "right")
    for row in table_rows(report):
        if "error" in row:
            table.add_row(row["label"], row.get("scheme") or "-",
                          f"[red]{row['error'][:60]}[/]", *["" for _ in columns[3:]])
        else:
            table.add_row(*(_cell(row.get(c)) for c in columns))
    return table


# -- plots ----------------------------------------------------------------------------------

def pareto_front(points: list[tuple], directions: tuple[str, ...]) -> list[int]:
    """Indices of the points no other point dominates: as good in every coordinate (each
    ``"minimize"`` or ``"maximize"``) and better in one. Equal points both stay."""
    signs = [1 if d == "minimize" else -1 for d in directions]
    keyed = [tuple(s * v for s, v in zip(signs, p)) for p in points]
    return [i for i, a in enumerate(keyed)
            if not any(all(b_ <= a_ for a_, b_ in zip(a, b)) and b != a for b in keyed)]


def pareto(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats: at most the cost (x) and at least the
    quality (y), one of them strictly."""
    return pareto_front(points, ("minimize", "maximize"))


def scatter_front(path: Path, points: list[tuple[float, float, str]], xlabel: str,
                  ylabel: str, directions: tuple[str, str] = ("minimize", "maximize"), *,
                  logx: bool = True, yscale: float = 1.0, title: str | None = None,
                  groups: list[str] | None = None) -> Path:
    """A labelled scatter of ``(x, y, label)`` with its Pareto front (for ``directions``)
    as a dashed line, saved to ``path``; ``groups`` (one name a point): a series each."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    if groups is None:
        ax.scatter([p[0] for p in points], [yscale * p[1] for p in points])
    else:
        for name in dict.fromkeys(groups):
            mine = [p for p, g in zip(points, groups) if g == name]
            ax.scatter([p[0] for p in mine], [yscale * p[1] for p in mine], label=name)
    for x, y, label in points:
        ax.annotate(label, (x, yscale * y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    front = sorted(points[i] for i in pareto_front([(p[0], p[1]) for p in points], directions))
    ax.plot([p[0] for p in front], [yscale * p[1] for p in front], "r--", label="Pareto front")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot(report: dict, out: Path) -> list[Path]:
    """``compare_accuracy_area.png`` (accuracy vs iCE40 LUT4, else generic cells),
    ``compare_accuracy_energy.png`` and ``compare_cycles.png`` (cycles per output vs
    operations a cycle, each scheme a series) in ``out``; Pareto fronts marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [r for r in table_rows(report) if "error" not in r]
    written = []
    accuracy = [r for r in rows if r["metric"] == "accuracy" and r["metric value"] is not None]
    area_key = ("ice40 LUT4" if accuracy and all(r.get("ice40 LUT4") for r in accuracy)
                else "generic cells")
    for name, key, xlabel in (("area", area_key, area_key),
                              ("energy", "est. pJ per output", "estimated pJ per inference")):
        pts = [(r[key], r["metric value"], r["label"]) for r in accuracy if r.get(key)]
        if not pts:
            continue
        written.append(scatter_front(out / f"compare_accuracy_{name}.png", pts, xlabel,
                                     "test accuracy %", yscale=100))
    series: dict[str, list] = {}
    for r in rows:
        ops = (r.get("multiplies per output") or 0) + (r.get("adds per output") or 0)
        if ops and r.get("cycles per output"):
            series.setdefault(r["scheme"], []).append((ops / r["cycles per output"],
                                                       r["cycles per output"]))
    sr = [(r["storage bytes"], r["metric value"], r["label"]) for r in rows
          if r["metric"] == "psnr_db" and r["metric value"] is not None and r["storage bytes"]]
    if sr:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.scatter([p[0] for p in sr], [p[1] for p in sr])
        for x, y, label in sr:
            ax.annotate(label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("table bytes")
        ax.set_ylabel("Y-PSNR dB (x4)")
        fig.tight_layout()
        path = out / "compare_sr_psnr_bytes.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    if series:
        fig, ax = plt.subplots(figsize=(6, 4))
        for scheme, pts in sorted(series.items()):
            pts.sort()
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=scheme)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("operations a cycle (parallelism)")
        ax.set_ylabel("cycles per output")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out / "compare_cycles.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


def publish(report: dict, out: Path, stem: str = "compare") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    jsonfile.write(out / f"{stem}.json", report, indent=2)
    (out / f"{stem}.csv").write_text(render_csv(report))
    (out / f"{stem}.md").write_text(render_markdown(report))
    return [out / f"{stem}.{ext}" for ext in ("json", "csv", "md")] + plot(report, out)


def load_spec(path: Path | None) -> Spec:
    path = DEFAULT_SPEC if path is None else Path(path)
    if not path.is_file():
        raise SpecError(f"spec: no such file {str(path)!r}")
    return parse_spec(path.read_text(), str(path.relative_to(REPO) if path.is_relative_to(REPO)
                                            else path))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``edgeforge compare`` and of ``python -m edgeforge.bench.compare``."""
    parser.add_argument("spec", nargs="?", type=Path, help="TOML spec (default: "
                        "bench/specs/compare.toml, the shipped artifacts)")
    parser.add_argument("--quick", action="store_true", help="generic synthesis only")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--cached", action="store_true",
                       help="measure nothing: the table of what the cache holds, every other "
                            "row marked 'not measured yet'")
    which.add_argument("--only", action="append", metavar="LABEL",
                       help="measure only the rows whose label matches (shell wildcards, any "
                            "case; repeatable); the others come from the cache or are marked "
                            "'not measured yet'")
    parser.add_argument("-o", "--output", "--out", dest="output", type=Path, default=RESULTS,
                        help="folder for compare.{json,csv,md} and the plots "
                             "(default: bench/results)")


def run_command(args, console) -> int:
    """Run the spec ``args`` names, publish as each row finishes, print the table; a bad
    spec or an ``--only`` that matches no row raises :class:`SpecError`."""
    spec = load_spec(args.spec)
    if args.cached:
        measured = lambda row: False        # noqa: E731
    else:
        measured = row_filter(args.only)
        if args.only and not any(measured(row) for row in spec.rows):
            raise SpecError(f"--only: no row's label matches {args.only}; labels: "
                            + "; ".join(row.label for row in spec.rows))
    report = run(spec, quick=args.quick, measured=measured,
                 done=lambda rep: publish(rep, args.output))
    console.print(render_rich(report))
    for path in publish(report, args.output):
        console.print(f"wrote {path}")
    return 0


def main(argv=None) -> int:
    from rich.console import Console
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    console = Console()
    try:
        return run_command(args, console)
    except SpecError as err:
        console.print(f"[red]error:[/] {err}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
