"""LUT storage accounting of an HKLUT artifact: bytes per table, branch, stage and in total.

The bytes are what hardware must store: entries x r x r values at the bit-width
each table's :class:`~edgeforge.artifact.ArraySpec` declares (``Artifact.storage_bytes``),
not the size of the ``.npz`` file. HKLUT-S x4 comes to 102,400 bytes (100 KiB).
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from ...artifact import Artifact, load
from ...schemes.hklut import HKLUTConfig

__all__ = ["as_hklut", "storage_rows", "render_storage_table"]


def as_hklut(artifact) -> tuple[Artifact, HKLUTConfig]:
    """An HKLUT artifact (loading it when given a path) and its parsed config.

    Raises
    ------
    TypeError
        If ``artifact`` is neither an Artifact nor a path.
    ValueError
        If it is not an HKLUT artifact (or the file is not a valid artifact).
    """
    if isinstance(artifact, (str, Path)):
        artifact = load(artifact)
    if not isinstance(artifact, Artifact):
        raise TypeError(f"artifact must be an Artifact or a path to one, got "
                        f"{type(artifact).__name__}")
    if artifact.scheme != "hklut":
        raise ValueError(f"artifact must be an HKLUT artifact, got scheme {artifact.scheme!r}")
    return artifact, HKLUTConfig.from_dict(artifact.config)


def storage_rows(artifact) -> list[dict]:
    """Storage of every table, with per-branch, per-stage subtotals and the total.

    Parameters
    ----------
    artifact : Artifact or str or pathlib.Path
        An HKLUT artifact, or the path of one (loaded and validated).

    Returns
    -------
    list of dict
        In reading order: for each stage, its tables (``kind="table"``) then a
        subtotal per branch (``kind="branch"``), then the stage subtotal
        (``kind="stage"``); last the ``kind="total"`` row. Every row has
        ``kind, name, stage, branch, kernel, entries, r, bits, bytes``; fields
        that do not apply to a subtotal are ``None``, and ``entries`` of a
        subtotal counts the LUT entries (r x r values each) it sums.

    Raises
    ------
    TypeError
        If ``artifact`` is neither an Artifact nor a path.
    ValueError
        If it is not an HKLUT artifact.
    """
    artifact, config = as_hklut(artifact)
    specs = artifact.specs()
    nbytes = artifact.storage_bytes()
    rows: list[dict] = []

    def subtotal(kind, name, stage, branch, tables):
        return {"kind": kind, "name": name, "stage": stage, "branch": branch, "kernel": None,
                "entries": sum(t["entries"] for t in tables),
                "r": tables[0]["r"] if stage is not None else None,
                "bits": None, "bytes": sum(t["bytes"] for t in tables)}

    all_tables = []
    for stage, r in enumerate(config.stages):
        stage_tables = []
        branch_rows = []
        for branch in ("msb", "lsb"):
            tables = [{"kind": "table", "name": name, "stage": s, "branch": b, "kernel": k.name,
                       "entries": k.entries, "r": factor, "bits": specs[name].bits,
                       "bytes": nbytes[name]}
                      for name, s, b, k, factor in config.tables() if s == stage and b == branch]
            rows += tables
            stage_tables += tables
            branch_rows.append(subtotal("branch", f"s{stage}_{branch}", stage, branch, tables))
        rows += branch_rows
        rows.append(subtotal("stage", f"s{stage}", stage, None, stage_tables))
        all_tables += stage_tables
    rows.append(subtotal("total", "total", None, None, all_tables))
    return rows


def _cell(value) -> str:
    return "" if value is None else str(value)


def render_storage_table(artifact) -> Table:
    """The rows of :func:`storage_rows` as a rich table, subtotals in bold.

    Parameters
    ----------
    artifact : Artifact or str or pathlib.Path
        An HKLUT artifact, or the path of one.

    Returns
    -------
    rich.table.Table
    """
    artifact, config = as_hklut(artifact)
    rows = storage_rows(artifact)
    total = rows[-1]["bytes"]
    stages = " x ".join(str(r) for r in config.stages)
    table = Table(title=f"HKLUT LUT storage (x{config.scale} = stages {stages}, "
                        f"MSB {config.msb_kernels.upper()}, LSB {config.lsb_kernels.upper()})",
                  caption="bytes = entries x r x r x bits / 8 (stored on chip; not the file size)")
    # Stage, branch and kernel are spelt in the name (s0_msb_h); the rows carry them as data.
    table.add_column("table")
    for header in ("entries", "r x r", "bits", "bytes", "KiB", "share"):
        table.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(row["name"], f"{row['entries']:,}",
                      "" if row["r"] is None else f"{row['r']}x{row['r']}",
                      _cell(row["bits"]), f"{row['bytes']:,}", f"{row['bytes'] / 1024:.3f}",
                      f"{100 * row['bytes'] / total:.1f}%",
                      style=None if row["kind"] == "table" else "bold",
                      end_section=row["kind"] == "stage")
    return table
