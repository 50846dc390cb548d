"""`edgeforge demo`: the whole flow on built-in defaults, step by step, ending in a summary table.

Each step is one API call. The flows are the schemes' own (``DEMO_FLOWS`` in each
scheme's flows module); :meth:`Flow.check_design` gives every scheme's design the same
Verilog, lint, cocotb and synthesis steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

__all__ = ["run_demo"]


@dataclass
class Step:
    name: str
    result: str = ""
    ok: bool = True
    seconds: float = 0.0
    paths: list[Path] = field(default_factory=list)


class Flow:
    """Runs named steps with a spinner, records their outcome, renders the summary.

    A step whose action raises is recorded as failed with the error, and the demo goes
    on: a later step that needs its result fails the same way. The designs the steps
    checked and the artifacts they made are kept for the closing comparison, which reuses
    their synthesis results and names the artifacts as ``demo:<name>``."""

    def __init__(self, console: Console):
        self.console = console
        self.steps: list[Step] = []
        #: Design name -> the folder its files and synthesis reports went under.
        self.design_dirs: dict[str, Path] = {}
        #: ``demo:<name>`` artifacts a step wrote -> their path.
        self.artifacts: dict[str, Path] = {}

    def run(self, name: str, action: Callable[[Step], None]) -> Step:
        step = Step(name)
        start = time.monotonic()
        with self.console.status(f"[bold]{name}[/] ..."):
            try:
                action(step)
            except Exception as e:     # one failed step must not hide the rest of the demo
                step.ok, step.result = False, f"{type(e).__name__}: {e}"
        step.seconds = time.monotonic() - start
        self.steps.append(step)
        mark = "[green]ok[/]" if step.ok else "[red]FAILED[/]"
        self.console.print(f"{mark} {name}: {step.result} ({step.seconds:.1f} s)")
        return step

    def table(self) -> Table:
        table = Table(title="edgeforge demo")
        table.add_column("step")
        table.add_column("result", overflow="fold")
        table.add_column("time", justify="right")
        for s in self.steps:
            table.add_row(s.name, s.result if s.ok else f"[red]{s.result}[/]", f"{s.seconds:.1f} s")
        return table

    def written(self) -> list[Path]:
        return [p for s in self.steps for p in s.paths]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


    def check_design(self, prefix: str, design, out: Path, *, quick: bool, simulator: str,
                     targets: tuple[str, ...], inputs=None) -> None:
        """The steps every scheme's design goes through: Verilog, lint, cocotb against the
        golden and the cycle model, synthesis. ``design`` is called for the design, so that
        a failed earlier step fails these rather than the flow; ``inputs(design)`` gives
        what cocotb streams (default: the design's ``test_inputs``)."""
        state = {}

        def write(step):
            state["design"] = d = design()
            state["files"] = files = d.write_verilog(out / d.name)
            self.design_dirs[d.name] = out
            step.result = f"{d.name}: {len(d.ports())} ports"
            step.paths += [files.verilog, files.manifest, files.core]

        def lint(step):
            from edgeforge.sim.lint import lint_verilog
            result = lint_verilog(state["files"].verilog)
            step.ok = result.ok
            step.result = "verilator -Wall clean" if result.ok else "; ".join(result.findings[:3])

        def verify(step):
            d = state["design"]
            xs = inputs(d) if inputs else d.test_inputs(seed=0)
            result = d.verify(xs, simulator=simulator, seed=0)
            step.ok = result.passed
            free = result.measurements.get("stream/src=none/sink=none")
            unit = d.cycle_model().input_unit
            step.result = (f"{len(xs)} {unit}s bit-exact vs golden, with and without "
                           f"backpressure; {free['run_cycles']} cycles measured = the cycle "
                           f"model's {result.predicted.total_cycles} (seed 0)"
                           if result.passed else "; ".join(result.failures[:2]))

        def cost(step):
            from edgeforge.bench.report import render_cost_table
            d = state["design"]
            results = d.cost(targets, out_dir=state["files"].dir)
            self.console.print(render_cost_table(results))
            parts = []
            for r in results:
                fit = "" if r.fits is None else (" fits" if r.fits else " does NOT fit")
                fmax = f", {r.fmax_mhz:.0f} MHz" if r.fmax_mhz else ""
                parts.append(f"{r.target}{'/' + r.device if r.device else ''}: "
                             f"{r.memory_bits} memory bits{fmax}{fit}")
            step.result = "; ".join(parts)
            step.paths.append(state["files"].dir / "reports")

        self.run(f"{prefix}: generate Verilog", write)
        self.run(f"{prefix}: lint", lint)
        self.run(f"{prefix}: cocotb on {simulator} vs golden and cycle model", verify)
        self.run(f"{prefix}: synthesis and timing", cost)


#: The demo's short comparison: an artifact of each scheme at one folding.
DEMO_COMPARE_SPEC = Path(__file__).resolve().parents[1] / "bench" / "specs" / "demo.toml"


def demo_spec(flow: Flow):
    """:data:`DEMO_COMPARE_SPEC` with its ``demo:<name>`` artifacts replaced by the files the
    demo's steps wrote (left as they are where that step failed: the row then fails naming
    it)."""
    from dataclasses import replace
    from edgeforge.bench import compare
    spec = compare.load_spec(DEMO_COMPARE_SPEC)

    def row(r):
        made = flow.artifacts.get(r.artifact.removeprefix("demo:"))
        return replace(r, artifact=str(made)) if r.artifact.startswith("demo:") and made else r

    return replace(spec, rows=tuple(row(r) for r in spec.rows))


def compare_flow(flow: Flow, out: Path, *, quick: bool) -> None:
    """The demo's last step: the short cross-scheme table and one plot (generic and iCE40;
    generic only with ``quick``). A design an earlier step checked is measured in that
    step's folder, so that its synthesis is not run twice."""
    from edgeforge.bench import compare

    def table(step):
        report = compare.run(demo_spec(flow), quick=quick, progress=False,
                             cache=out / "compare" / "cache",
                             design_dir=lambda d: flow.design_dirs.get(d.name, out / "compare"))
        flow.console.print(compare.render_rich(report))
        failed = [r["label"] for r in report["records"] if "error" in r]
        step.ok = not failed
        step.paths += compare.publish(report, out / "compare")
        step.result = (f"{len(report['records'])} rows across "
                       f"{len({r.get('scheme') for r in report['records']})} schemes"
                       + (f"; failed: {', '.join(failed)}" if failed else ""))

    flow.console.rule("edgeforge demo: hardware cost across schemes")
    flow.run("compare: an artifact of each scheme at one folding", table)


def run_demo(out: Path, *, quick: bool = False, simulator: str = "verilator") -> int:
    """Run every registered scheme's demo flows (:data:`edgeforge.schemes.SCHEMES` order)."""
    from edgeforge.schemes import SCHEMES, get_scheme
    console = Console()
    out.mkdir(parents=True, exist_ok=True)
    flow = Flow(console)
    for name in SCHEMES:
        flows = get_scheme(name).flows_module()
        for demo_flow in getattr(flows, "DEMO_FLOWS", ()):
            demo_flow(flow, out, quick=quick, simulator=simulator)
    compare_flow(flow, out, quick=quick)
    console.print(flow.table())
    console.print("wrote:")
    for path in flow.written():
        console.print(f"  {path}", highlight=False, soft_wrap=True)
    console.print(f"outputs under [bold]{out.resolve()}[/]")
    return 0 if flow.ok else 1
