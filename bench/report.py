"""Reading yosys and nextpnr reports into plain data, and rendering cost tables from it.

``parse_*`` functions take a report file and return dicts of plain numbers; a missing or
malformed file raises :class:`ReportError` naming it. Cell names are normalised across the
two FPGA families (``SB_LUT4`` and ``LUT4`` are both ``lut4``), as :mod:`.devices` names what
a part has. ``render_*`` functions build :mod:`rich` tables from parsed data.

This module imports neither ``edgeforge.hw`` nor Amaranth: its inputs are files and the
plain results made from them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rich.table import Table

from .devices import DEVICES

__all__ = ["ReportError", "load_json", "parse_yosys_stat", "parse_yosys_memories",
           "parse_nextpnr_report", "parse_nextpnr_errors", "normalise_cells", "pick_fmax",
           "render_cost_table", "folding_label", "render_runs_markdown", "render_synth_markdown",
           "render_synth_sections",
           "render_traffic_markdown", "fits_cell"]

# Cell types `stat -tech cmos` has a transistor count for (yosys kernel/cost.cc); anything
# else in the design makes its estimate a lower bound, printed with a trailing "+".
CMOS_CELLS = frozenset({
    "$_BUF_", "$_NOT_", "$_AND_", "$_NAND_", "$_OR_", "$_NOR_", "$_ANDNOT_", "$_ORNOT_",
    "$_XOR_", "$_XNOR_", "$_AOI3_", "$_OAI3_", "$_AOI4_", "$_OAI4_", "$_MUX_", "$_NMUX_",
    "$_DFF_P_", "$_DFF_N_"})

# Normalised resource name of each technology cell, by family. Prefixes cover the variants
# (SB_DFFSR, SB_DFFESS, SB_RAM40_4KNR, ...).
_ICE40_CELLS = (("SB_LUT4", "lut4"), ("SB_CARRY", "carry"), ("SB_DFF", "ff"),
                ("SB_RAM40_4K", "bram"), ("SB_SPRAM256KA", "spram"), ("SB_MAC16", "dsp"),
                ("SB_IO", "io"), ("SB_GB", "global"))
_ECP5_CELLS = (("LUT4", "lut4"), ("CCU2C", "carry"), ("TRELLIS_FF", "ff"), ("DP16KD", "bram"),
               ("PDPW16KD", "bram"), ("MULT18X18D", "dsp"), ("ALU54B", "alu54"),
               ("TRELLIS_DPR16X4", "lutram"), ("PFUMX", "mux"), ("L6MUX21", "mux"),
               ("TRELLIS_IO", "io"), ("DCCA", "global"))
_FAMILY_CELLS = {"ice40": _ICE40_CELLS, "ecp5": _ECP5_CELLS}
# Generic flip-flop and latch cells all start with one of these.
_GENERIC_FF_PREFIXES = ("$_DFF", "$_SDFF", "$_ALDFF", "$_DLATCH", "$_SR_")


class ReportError(ValueError):
    """A report file is missing or cannot be read; the message names the file."""

    def __init__(self, path, message: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


def load_json(path) -> dict:
    """A JSON object from ``path``; ReportError naming the file if it is missing or malformed."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ReportError(path, f"cannot be read ({e.strerror or e})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReportError(path, f"is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ReportError(path, f"expected a JSON object, got {type(data).__name__}")
    return data


def _int(path, where: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReportError(path, f"{where} should be an integer, got {value!r}")
    return value


def parse_yosys_stat(path) -> dict:
    """Read the JSON of yosys ``stat -json [-tech cmos]`` (written with ``tee -o``).

    Returns the whole-design figures (the ``design`` section; a single module's figures
    where yosys wrote no such section).

    Returns
    -------
    dict
        ``cells`` (cell type -> count), ``num_cells``, ``port_bits`` (bits of the top
        module's ports), ``memory_bits`` (bits of unmapped memory objects, which synthesis
        has usually packed into ``$mem_v2`` cells, see :func:`parse_yosys_memories`),
        ``transistors`` (int, or None without ``-tech cmos``) and ``transistors_partial``
        (True where some cells have no CMOS figure, so ``transistors`` is a lower bound),
        ``uncounted_cells`` (those cell types), and ``creator`` (the yosys version string).

    Raises
    ------
    ReportError
        If the file is missing, not JSON, or lacks the fields above.
    """
    data = load_json(path)
    section = data.get("design")
    if section is None:
        modules = data.get("modules")
        if not isinstance(modules, dict) or len(modules) != 1:
            raise ReportError(path, "has no 'design' section and not exactly one module; "
                                    "is it the output of yosys `stat -json`?")
        section = next(iter(modules.values()))
    if not isinstance(section, dict) or not isinstance(section.get("num_cells_by_type"), dict):
        raise ReportError(path, "has no 'num_cells_by_type'; is it the output of yosys "
                                "`stat -json`?")
    cells = {str(k): _int(path, f"num_cells_by_type[{k!r}]", v)
             for k, v in section["num_cells_by_type"].items()}
    estimate = section.get("estimated_num_transistors")
    transistors, uncounted = None, []
    if estimate is not None:
        # yosys writes the estimate as a string, with "+" when some cells were not counted.
        match = re.fullmatch(r"(\d+)(\+?)", str(estimate).strip())
        if match is None:
            raise ReportError(path, f"estimated_num_transistors should be digits with an optional "
                                    f"'+', got {estimate!r}")
        transistors = int(match.group(1))
        uncounted = sorted(c for c in cells if c not in CMOS_CELLS)
    return {
        "cells": cells,
        "num_cells": _int(path, "num_cells", section.get("num_cells")),
        "port_bits": _int(path, "num_port_bits", section.get("num_port_bits", 0)),
        "memory_bits": _int(path, "num_memory_bits", section.get("num_memory_bits", 0)),
        "transistors": transistors,
        "transistors_partial": bool(uncounted),
        "uncounted_cells": uncounted,
        "creator": str(data.get("creator", "")),
    }


def _param_int(path, where: str, value) -> int:
    # yosys' JSON writes parameters as binary strings ("00...0100000000"), or as numbers
    # with `write_json -compat-int`.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[01]+", value):
        return int(value, 2)
    raise ReportError(path, f"{where} should be a binary parameter, got {value!r}")


def parse_yosys_memories(path) -> list[dict]:
    """Read the memory cells from a yosys JSON netlist of ``$mem_v2`` cells.

    The synthesis flows write this with ``select t:$mem_v2; write_json -selected`` just
    before memories are mapped, so every memory of the design is listed once.

    Returns
    -------
    list of dict
        One per memory, sorted by name: ``name``, ``width``, ``depth``, ``bits``
        (width x depth), ``read_ports``, ``write_ports``, ``rom_style`` (the attribute, or
        None).

    Raises
    ------
    ReportError
        If the file is missing, not a yosys JSON netlist, or a memory lacks its parameters.
    """
    data = load_json(path)
    modules = data.get("modules")
    if not isinstance(modules, dict):
        raise ReportError(path, "has no 'modules'; is it a yosys `write_json` netlist?")
    memories = []
    for module_name, module in modules.items():
        for cell_name, cell in (module.get("cells") or {}).items():
            if cell.get("type") != "$mem_v2":
                continue
            params = cell.get("parameters") or {}
            where = f"cell {cell_name!r}"
            try:
                width, depth = params["WIDTH"], params["SIZE"]
                read_ports, write_ports = params["RD_PORTS"], params["WR_PORTS"]
            except KeyError as e:
                raise ReportError(path, f"{where} has no {e.args[0]} parameter") from None
            width = _param_int(path, f"{where} WIDTH", width)
            depth = _param_int(path, f"{where} SIZE", depth)
            memories.append({
                "name": cell_name if len(modules) == 1 else f"{module_name}.{cell_name}",
                "width": width, "depth": depth, "bits": width * depth,
                "read_ports": _param_int(path, f"{where} RD_PORTS", read_ports),
                "write_ports": _param_int(path, f"{where} WR_PORTS", write_ports),
                "rom_style": (cell.get("attributes") or {}).get("rom_style"),
            })
    return sorted(memories, key=lambda m: m["name"])


def _clock_name(net: str) -> str:
    # nextpnr keys Fmax by the clock's global net, which decorates the port name:
    # "$glbnet$clk$TRELLIS_IO_IN" (ECP5), "clk$SB_IO_IN_$glb_clk" (iCE40).
    name = net.removeprefix("$glbnet$")
    return next((part for part in name.split("$") if part), net)


def parse_nextpnr_report(path) -> dict:
    """Read nextpnr's ``--report`` JSON.

    Returns
    -------
    dict
        ``fmax``: clock name (the port name, global-net decoration removed) -> dict with
        ``net`` (the key nextpnr used), ``achieved`` and ``constraint`` in MHz;
        ``utilization``: nextpnr cell type -> dict with ``used`` and ``available``.

    Raises
    ------
    ReportError
        If the file is missing, not JSON, or lacks ``fmax`` or ``utilization``.
    """
    data = load_json(path)
    fmax, utilization = data.get("fmax"), data.get("utilization")
    if not isinstance(fmax, dict) or not isinstance(utilization, dict):
        raise ReportError(path, "has no 'fmax' and 'utilization' objects; is it a nextpnr "
                                "--report file?")
    clocks = {}
    for net, entry in fmax.items():
        try:
            achieved, constraint = float(entry["achieved"]), float(entry["constraint"])
        except (TypeError, KeyError, ValueError):
            raise ReportError(path, f"fmax[{net!r}] should have numeric 'achieved' and "
                                    f"'constraint', got {entry!r}") from None
        clocks[_clock_name(net)] = {"net": net, "achieved": achieved, "constraint": constraint}
    usage = {}
    for bel, entry in utilization.items():
        try:
            usage[bel] = {"used": _int(path, f"utilization[{bel!r}].used", entry["used"]),
                          "available": _int(path, f"utilization[{bel!r}].available",
                                            entry["available"])}
        except (TypeError, KeyError):
            raise ReportError(path, f"utilization[{bel!r}] should have 'used' and 'available', "
                                    f"got {entry!r}") from None
    return {"fmax": clocks, "utilization": usage}


def pick_fmax(report: dict, clock: str = "clk") -> float | None:
    """The achieved Fmax in MHz of the design's main clock in a parsed nextpnr report.

    The clock called ``clock`` if there is one, else the only clock, else the slowest of the
    clocks whose name ends in ``clk``, else the slowest clock. None where the design has no
    clocked paths.
    """
    clocks = report["fmax"]
    if not clocks:
        return None
    if clock in clocks:
        return clocks[clock]["achieved"]
    candidates = [c for name, c in clocks.items() if name.endswith("clk")] or list(clocks.values())
    return min(c["achieved"] for c in candidates)


def parse_nextpnr_errors(path) -> list[str]:
    """The ``ERROR:`` lines of a nextpnr log, without the prefix (empty if there are none).

    Raises
    ------
    ReportError
        If the log cannot be read.
    """
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        raise ReportError(path, f"cannot be read ({e.strerror or e})") from None
    return [line.removeprefix("ERROR:").strip() for line in text.splitlines()
            if line.startswith("ERROR:")]


def normalise_cells(target: str, cells: dict[str, int], port_bits: int = 0) -> dict[str, int]:
    """Sum yosys cell counts under normalised resource names.

    Parameters
    ----------
    target : str
        ``"generic"``, ``"ice40"`` or ``"ecp5"``.
    cells : dict of str to int
        Cell type -> count, as in :func:`parse_yosys_stat`.
    port_bits : int
        Bits of the top module's ports: each needs an I/O pin on an FPGA.

    Returns
    -------
    dict of str to int
        Generic: ``ff`` (flip-flops and latches), ``gates`` (other logic cells),
        ``memories`` (``$mem_v2`` cells). FPGA: ``lut4``, ``carry``, ``ff``, ``bram``,
        ``spram``, ``dsp``, ... (see :mod:`.devices`) and ``io``; only names with a
        non-zero count, except that ``lut4``, ``ff`` and ``bram`` are always present.
    """
    if target == "generic":
        out = {"ff": 0, "gates": 0, "memories": 0}
        for cell, n in cells.items():
            if cell == "$mem_v2":
                out["memories"] += n
            elif cell.startswith(_GENERIC_FF_PREFIXES):
                out["ff"] += n
            else:
                out["gates"] += n
        return out
    if target not in _FAMILY_CELLS:
        raise ValueError(f"target must be one of 'generic', 'ice40', 'ecp5'; got {target!r}")
    out = {"lut4": 0, "ff": 0, "bram": 0}
    for cell, n in cells.items():
        name = next((res for prefix, res in _FAMILY_CELLS[target] if cell.startswith(prefix)),
                    None)
        if name is not None:
            out[name] = out.get(name, 0) + n
    # Synthesis leaves I/O buffers to nextpnr, which puts one on every top-level port bit.
    io = max(port_bits, out.get("io", 0))
    if io:
        out["io"] = io
    return out


def _count(value) -> str:
    return "—" if value is None else f"{value:,}"


def render_cost_table(results) -> Table:
    """A table of synthesis results, one row per (target, device).

    Parameters
    ----------
    results : iterable of SynthResult
        From :func:`edgeforge.bench.synth.synthesize` (or ``SynthResult.from_json``).

    Returns
    -------
    rich.table.Table
        Columns: target, device, LUT4, FF, BRAM used/avail, DSP, memory bits, transistors,
        Fmax MHz, fits. Where a design does not fit, the fits cell names each resource
        it is short of as needed/available.
    """
    table = Table(title="Hardware cost")
    for name in ("target", "device"):
        table.add_column(name)
    for name in ("LUT4", "FF", "BRAM used/avail", "DSP", "memory bits", "transistors",
                 "Fmax MHz"):
        table.add_column(name, justify="right")
    table.add_column("fits")
    for r in results:
        device = DEVICES.get(r.device) if r.device else None
        bram = "—"
        if device is not None:
            bram = f"{r.resources.get('bram', 0)}/{device.resources.get('bram', 0)}"
        if r.fits is None:
            fits = "—"
        elif r.fits:
            fits = "yes"
        else:
            fits = "no: " + ", ".join(f"{k} {need:,}/{have:,}" for k, (need, have) in
                                      sorted(r.over.items()))
        dsp = "—" if device is None else _count(r.resources.get("dsp", 0))
        table.add_row(r.target, r.device or "—",
                      _count(r.resources.get("lut4")), _count(r.resources.get("ff")), bram, dsp,
                      _count(r.memory_bits), _count(r.transistors),
                      "—" if r.fmax_mhz is None else f"{r.fmax_mhz:.1f}", fits)
    return table


# -- Markdown from bench records (``edgeforge.bench.harness``) ------------------------------

def fits_cell(result: dict) -> str:
    """A table cell: whether a cost result fits its part, and what it is short of."""
    over = "; ".join(f"{k} {need}/{have}" for k, (need, have) in result.get("over", {}).items())
    return f"{result.get('fits')}{' (' + over + ')' if over else ''}"


def _markdown(header: list[str], rows: list[list]) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join("-" if v is None else str(v) for v in row) + " |"
               for row in rows])


def folding_label(record: dict) -> str:
    """A network record's name and folding: ``"<name> 1x1/2x8/..."`` (each layer's knobs)."""
    fold = record["config"]["folding"]
    return f"{record['network']['name']} {'/'.join('x'.join(map(str, f)) for f in fold)}"


def render_runs_markdown(records: list[dict], columns) -> list[str]:
    """Markdown lines of the verify figures of ``records`` (those that ran verify).

    ``columns`` is a list of (header, function of a record) for the leading config
    columns. The figures: cycles without pauses measured and predicted (equal, or verify
    would have failed), the model's steady cycles per input and latency, cycles under
    random pauses, and the simulator's time.
    """
    rows = []
    for r in records:
        v, p = r.get("verify"), r["performance"]
        if v is None:
            continue
        error = 100 * (v["cycles_measured"] - v["cycles_predicted"]) / v["cycles_predicted"]
        rows.append([f(r) for _, f in columns] + [
            v["cycles_measured"], v["cycles_predicted"], f"{error:.1f}",
            f"{p['cycles_per_input']:g}", p["latency_cycles"], v["cycles_with_backpressure"],
            v["run_s"], v["build_and_runs_s"]])
    unit = records[0]["performance"]["input_unit"] if records else "input"
    return _markdown([h for h, _ in columns] + [
        "cycles measured", "predicted", "error %", f"cycles per {unit} (model, steady)",
        "latency (model)", "cycles w/ backpressure", "sim run s", "build+runs s"], rows)


def render_synth_markdown(records: list[dict], target: str, columns) -> list[str]:
    """Markdown lines of the ``target`` cost of ``records`` (those that have one).

    FPGA targets: LUT4, FF, LUT RAM, block RAM, SPRAM, DSP, Fmax, fit; generic: gates, FF,
    memory bits and the CMOS transistor estimate of the logic. LUT4 counts are the iCE40
    and ECP5 4-input LUTs and are never mixed with other vendors' LUT6.
    """
    rows = []
    for r in records:
        c = r.get("cost", {}).get(target)
        if c is None:
            continue
        res = c["resources"]
        if target == "generic":
            rows.append([f(r) for _, f in columns] + [
                res.get("gates"), res.get("ff"), c["memory_bits"], c.get("transistors")])
        else:
            fmax = c.get("fmax_mhz")
            rows.append([f(r) for _, f in columns] + [
                c["device"], res.get("lut4"), res.get("ff"), res.get("lutram"), res.get("bram"),
                res.get("spram"), res.get("dsp", 0), None if fmax is None else round(fmax, 1),
                fits_cell(c)])
    header = ([h for h, _ in columns] + (["gates", "FF", "memory bits", "transistors (logic)"]
              if target == "generic" else ["part", "LUT4", "FF", "LUT RAM", "block RAM", "SPRAM",
                                           "DSP", "Fmax MHz", "fits"]))
    return _markdown(header, rows)


def render_synth_sections(records: list[dict], columns, titles) -> list[str]:
    """Markdown lines of a :func:`render_synth_markdown` table per ``(target, title)`` of
    ``titles``, each under its title; a target no record was costed for is left out."""
    lines = []
    for target, title in titles:
        table = render_synth_markdown(records, target, columns)
        if len(table) > 2:
            lines += ["", title, ""] + table
    return lines


def render_traffic_markdown(records: list[dict], label) -> list[str]:
    """Markdown lines of the modelled memory traffic per input of ``records``: a row per
    memory (in the first record's order), a column per record headed ``label(record)``,
    cells ``reads / writes (word bits)``, and the off-chip bytes in and out last."""
    names = list(dict.fromkeys(t["memory"] for r in records
                               for t in r["performance"]["traffic"]))
    lines = {id(r): {t["memory"]: t for t in r["performance"]["traffic"]} for r in records}
    rows = []
    for name in names:
        cells = []
        for r in records:
            t = lines[id(r)].get(name)
            cells.append(None if t is None else
                         f"{t['reads']:g} / {t['writes']:g} ({t['word_bits']}b)")
        rows.append([name] + cells)
    rows.append(["off-chip bytes in / out"] + [
        f"{r['performance']['offchip_bytes_in']:g} / {r['performance']['offchip_bytes_out']:g}"
        for r in records])
    return _markdown(["memory"] + [label(r) for r in records], rows)
