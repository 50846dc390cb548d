"""Where the iCE40 LUT4 and FF of a folded digits-ref go: each pipeline block's share, wide
and narrow datapath.

The shipped digits-ref at folding ``folded`` (PE = SIMD = 1) in both datapaths is
synthesised for the iCE40 with the hierarchy kept (``synth_ice40 -dsp -noflatten``,
:func:`~edgeforge.bench.synth.module_cells`), and each block's cells (with its
submodules': ROMs, row memories) are summed: LUT4 (``SB_LUT4``), FF (``SB_DFF*``),
carry (``SB_CARRY``), block RAM (``SB_RAM40_4K``) and DSP (``SB_MAC16``). Keeping the
hierarchy stops optimisation across blocks, so the totals sit a little above the flat
synthesis of ``network_hw`` (which is what fits or not). Synthesis only: no place and
route, no simulation.

Run::

    python -m edgeforge.bench.network_blocks

Writes ``bench/results/network_blocks.json`` and ``.md``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .. import generate, load
from ..models.network import PRETRAINED
from .harness import RESULTS, engine_commit, printer, publish
from .network_hw import ENGINE_PATHS
from .synth import module_cells

__all__ = ["KINDS", "block_cells", "run", "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.network_blocks"
DATAPATHS = ("wide", "narrow")
#: Resource columns: name -> the iCE40 cell types counted in it.
KINDS = {"lut4": ("SB_LUT4",), "ff": ("SB_DFF",), "carry": ("SB_CARRY",),
         "bram": ("SB_RAM40_4K",), "dsp": ("SB_MAC16",)}


def _count(cells: dict[str, int], prefixes) -> int:
    return sum(n for cell, n in cells.items() if cell.startswith(prefixes))


def block_cells(design, out_dir) -> dict[str, dict[str, int]]:
    """Per plan stage (``l3_window``, ...), its :data:`KINDS` counts, submodules included;
    ``top`` for the pipeline's own glue."""
    top = "top"
    modules = module_cells(design.build(), top, out_dir=out_dir)
    blocks = {st.name: dict.fromkeys(KINDS, 0) for st in design.plan.stages}
    blocks[top] = dict.fromkeys(KINDS, 0)
    for name, cells in modules.items():
        parts = name.split(".")
        block = parts[1] if len(parts) > 1 and parts[1] in blocks else top
        for kind, prefixes in KINDS.items():
            blocks[block][kind] += _count(cells, prefixes)
    return blocks


def run(*, progress: bool = True, done=None) -> dict:
    """Both datapaths' block counts; ``done(report)`` after each."""
    say = printer(progress) or (lambda msg: None)
    art = load(PRETRAINED["digits-ref"])
    records = []
    report = {"network": "digits-ref (shipped), folding folded", "records": records,
              "command": COMMAND, "engine_commit": engine_commit(ENGINE_PATHS)}
    for datapath in DATAPATHS:
        design = generate(art, folding="folded", datapath=datapath)
        say(f"[bench] {design.name}: synth_ice40 -noflatten ...")
        with tempfile.TemporaryDirectory() as tmp:
            blocks = block_cells(design, Path(tmp))
        records.append({"datapath": datapath, "design": design.name, "blocks": blocks,
                        "total": {k: sum(b[k] for b in blocks.values()) for k in KINDS}})
        if done is not None:
            done(report)
    return report


def render_markdown(report: dict) -> str:
    lines = ["# Where a folded digits-ref's iCE40 cells go", "",
             f"Command: `{report['command']}` (engine {report['engine_commit']}). "
             f"{report['network']}; yosys `synth_ice40 -dsp -noflatten` (hierarchy kept, so "
             "totals sit a little above the flat synthesis of `network_hw`, which is what "
             "is placed and routed). Each block counts its submodules (ROMs, row memories).",
             ""]
    for r in report["records"]:
        lines += [f"## {r['datapath']} datapath ({r['design']})", "",
                  "| block | " + " | ".join(KINDS) + " |",
                  "|---|" + "---:|" * len(KINDS)]
        for name, counts in r["blocks"].items():
            lines.append(f"| {name} | " + " | ".join(str(counts[k]) for k in KINDS) + " |")
        lines.append("| **total** | " + " | ".join(f"**{r['total'][k]}**" for k in KINDS)
                     + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    run(done=lambda report: publish(args.out, "network_blocks", report, render_markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
