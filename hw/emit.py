"""Writes a design's files so that vendor, FuseSoC/edalize and OpenLane flows take it as it is.

``<name>.v`` (the Verilog), ``manifest.json`` (ports, stream layouts, config,
latency, artifact hash, tool versions), ``<name>.f`` (a plain filelist) and
``<name>.core`` (a FuseSoC CAPI2 core). Nothing here depends on the scheme.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..design import DesignFiles
from ..jsonfile import dumps
from ..paths import check_output_dir

__all__ = ["LINT_WAIVERS", "flat_verilog", "design_file_texts", "write_design_files",
           "capi2_core"]

#: Verilator -Wall warnings that are artefacts of Amaranth's Verilog backend, not design
#: faults (toolchain notes): the lint, the simulator build and the .core's lint target
#: all waive exactly these.
LINT_WAIVERS = ("PROCASSINIT", "UNUSEDSIGNAL", "WIDTHEXPAND", "VARHIDDEN")


def flat_verilog(component, name: str) -> str:
    """Verilog of an Amaranth component as ONE flattened module named ``name``.

    Amaranth writes every submodule as its own module in the one file, which
    Verilator's ``-Wall`` reports as DECLFILENAME (module name vs file name) and
    some vendor flows dislike. Flattening before ``write_verilog`` (the rest is
    the script of ``amaranth.back.verilog``) gives one module per file. Source
    locations are left out so that the text is byte-identical wherever it is made.
    """
    from amaranth._toolchain.yosys import find_yosys
    from amaranth.back import rtlil
    text = rtlil.convert(component, name=name, emit_src=False)
    script = [f"read_rtlil <<rtlil\n{text}\nrtlil", f"hierarchy -top {name}", "flatten",
              "proc -nomux -norom", "memory_collect", "write_verilog -norename"]
    yosys = find_yosys(lambda version: version >= (0, 40))
    # Yosys warns that not every process is translatable; Amaranth emits only ones that are.
    return yosys.run(["-q", "-"], "\n".join(script), ignore_warnings=True)


def capi2_core(name: str, description: str) -> str:
    """A FuseSoC CAPI2 core naming the one Verilog file, with a default and a lint target."""
    return (
        "CAPI=2:\n"
        f"name: edgeforge:designs:{name}:0.1.0\n"
        f"description: {json.dumps(description)}\n"
        "filesets:\n"
        "  rtl:\n"
        "    files:\n"
        f"      - {name}.v\n"
        "    file_type: verilogSource\n"
        "targets:\n"
        "  default:\n"
        "    filesets: [rtl]\n"
        f"    toplevel: {name}\n"
        "  lint:\n"
        "    default_tool: verilator\n"
        "    filesets: [rtl]\n"
        f"    toplevel: {name}\n"
        "    tools:\n"
        "      verilator:\n"
        "        mode: lint-only\n"
        f"        verilator_options: [-Wall, {', '.join(f'-Wno-{w}' for w in LINT_WAIVERS)}]\n"
    )


def _write_if_changed(path: Path, text: str) -> None:
    # Unchanged files keep their timestamps, so builds keyed on them stay cached.
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def design_file_texts(name: str, verilog: str, manifest: dict) -> dict[str, str]:
    """File name -> text of every file :func:`write_design_files` writes (what a re-check of
    a written design compares against)."""
    # Serialised first: a manifest JSON refuses (NaN, Infinity) leaves no half-written design.
    manifest_text = dumps(manifest, what=f"{name} manifest.json", indent=2, sort_keys=True) + "\n"
    description = f"edgeforge {manifest['scheme']} design {name} (generated, do not edit)"
    return {f"{name}.v": verilog, "manifest.json": manifest_text, f"{name}.f": f"{name}.v\n",
            f"{name}.core": capi2_core(name, description)}


def write_design_files(out_dir: Path, name: str, verilog: str, manifest: dict) -> DesignFiles:
    out_dir = check_output_dir(out_dir, "out_dir")
    texts = design_file_texts(name, verilog, manifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = DesignFiles(dir=out_dir, verilog=out_dir / f"{name}.v",
                        manifest=out_dir / "manifest.json", filelist=out_dir / f"{name}.f",
                        core=out_dir / f"{name}.core")
    for file_name, text in texts.items():
        _write_if_changed(out_dir / file_name, text)
    return files
