"""`edgeforge demo`: the whole flow on built-in defaults, step by step, ending in a summary table.

Each step is one API call; the demo grows with each scheme.
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
    """Runs named steps with a spinner, records their outcome, renders the summary."""

    def __init__(self, console: Console):
        self.console = console
        self.steps: list[Step] = []

    def run(self, name: str, action: Callable[[Step], None]) -> Step:
        step = Step(name)
        start = time.monotonic()
        with self.console.status(f"[bold]{name}[/] ..."):
            action(step)
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


def lint_step(step: Step, verilog: Path) -> None:
    from edgeforge.sim.lint import lint_verilog
    result = lint_verilog(verilog)
    step.ok = result.ok
    step.result = "verilator -Wall clean" if result.ok else "; ".join(result.findings[:3])


def smoke_flow(flow: Flow, out: Path, *, quick: bool, simulator: str) -> None:
    import numpy as np

    import edgeforge
    from edgeforge.schemes.smoke import default_artifact
    from edgeforge.sim.amaranth_stream import run_stream

    state = {}

    def artifact(step):
        path = edgeforge.save(default_artifact(addr_bits=8, data_bits=8), out / "smoke.npz")
        state["art"] = edgeforge.load(path)
        step.result = f"256 x 8-bit table, {state['art'].short_hash}"
        step.paths.append(path)

    def generate(step):
        state["design"] = design = edgeforge.generate(state["art"])
        files = design.write_verilog(out / design.name)
        state["files"] = files
        step.result = f"{design.name}: {len(design.ports())} ports"
        step.paths += [files.verilog, files.manifest, files.core]

    def amaranth_sim(step):
        design = state["design"]
        x = np.random.default_rng(0).integers(0, 256, size=1000)
        got, cycles = run_stream(design.build(), x.tolist(), len(x), seed=1, p_valid=0.7,
                                 p_ready=0.7)
        step.ok = np.array_equal(got, design.golden(x))
        step.result = f"{len(x)} beats bit-exact under random backpressure ({cycles} cycles)"

    def verify(step):
        result = state["design"].verify(simulator=simulator)
        step.ok = result.passed
        step.result = result.summary() if result.passed else "; ".join(result.failures[:2])

    def cost(step):
        from edgeforge.bench.report import render_cost_table
        targets = ("generic",) if quick else ("generic", "ice40", "ecp5")
        results = state["design"].cost(targets, out_dir=out / state["design"].name)
        state["cost"] = results
        parts = []
        for r in results:
            fmax = f", {r.fmax_mhz:.0f} MHz" if r.fmax_mhz else ""
            parts.append(f"{r.target}: {r.memory_bits} mem bits{fmax}")
        step.result = "; ".join(parts)
        step.paths.append(out / state["design"].name / "reports")
        flow.console.print(render_cost_table(results))

    flow.run("smoke: artifact", artifact)
    flow.run("smoke: generate Verilog", generate)
    flow.run("smoke: lint", lambda step: lint_step(step, state["files"].verilog))
    flow.run("smoke: Amaranth simulation vs golden", amaranth_sim)
    flow.run(f"smoke: cocotb on {simulator} vs golden", verify)
    flow.run("smoke: synthesis and timing", cost)


def hklut_flow(flow: Flow, out: Path, *, quick: bool, simulator: str) -> None:
    import numpy as np

    import edgeforge
    from edgeforge.models.hklut import PRETRAINED
    from edgeforge.models.hklut.evaluate import evaluate, render_eval_table
    from edgeforge.models.hklut.storage import render_storage_table

    state = {}
    hk = out / "hklut"

    def artifact(step):
        state["art"] = art = edgeforge.load(PRETRAINED)
        flow.console.print(render_storage_table(art))
        total = sum(art.storage_bytes().values())
        step.result = (f"{PRETRAINED.name}: stages {art.config['stages']}, {total / 1024:.1f} KiB "
                       f"of int8 tables, {art.short_hash}")
        step.paths.append(PRETRAINED)

    def quality(step):
        report = evaluate(state["art"], out_dir=hk / "eval", progress=False)
        flow.console.print(render_eval_table(report))
        m = report.mean
        step.ok = m.psnr > m.bicubic_psnr
        step.result = (f"Y-PSNR {m.psnr:.2f} dB vs bicubic {m.bicubic_psnr:.2f} dB, SSIM "
                       f"{m.ssim:.4f} vs {m.bicubic_ssim:.4f} ({len(report.images)} photos, x4)")
        step.paths += list(report.pictures)

    def generate(step):
        state["design"] = design = edgeforge.generate(state["art"], width=32, height=32,
                                                      reads_per_table=(2, 2), out_pixels=2)
        state["files"] = files = design.write_verilog(hk / design.name)
        perf = design.cycle_model()
        step.result = (f"{design.name}: 32x32 LR -> 128x128, "
                       f"{perf.cycles_per_output:.3f} cycles per HR pixel (model)")
        step.paths += [files.verilog, files.manifest]

    def verify(step):
        design = state["design"]
        inputs = design.test_inputs(seed=0)
        result = design.verify(inputs, simulator=simulator)
        step.ok = result.passed
        runs = result.measurements
        free = next((m for k, m in runs.items() if "src=none/sink=none" in k), None)
        # verify has held the run to the model: equal without pauses.
        rate = (f", {free['run_cycles']} cycles measured = the cycle model's "
                f"{result.predicted.total_cycles}" if free else "")
        step.result = (f"{len(inputs)} images ({np.prod(inputs[0].shape)} px each) bit-exact "
                       f"vs golden, with and without backpressure{rate}"
                       if result.passed else "; ".join(result.failures[:2]))

    def cost(step):
        from edgeforge.bench.report import render_cost_table
        targets = ("generic",) if quick else ("generic", "ecp5")
        results = state["design"].cost(targets, out_dir=hk / state["design"].name)
        flow.console.print(render_cost_table(results))
        parts = []
        for r in results:
            fit = "" if r.fits is None else (" fits" if r.fits else " does NOT fit")
            fmax = f", {r.fmax_mhz:.0f} MHz" if r.fmax_mhz else ""
            parts.append(f"{r.target}{'/' + r.device if r.device else ''}: "
                         f"{r.memory_bits / 8192:.0f} KiB memory{fmax}{fit}")
        step.result = "; ".join(parts)
        step.paths.append(hk / state["design"].name / "reports")

    flow.run("hklut: trained artifact", artifact)
    flow.run("hklut: quality vs bicubic (golden, exact)", quality)
    flow.run("hklut: generate engine", generate)
    flow.run("hklut: lint", lambda step: lint_step(step, state["files"].verilog))
    flow.run(f"hklut: cocotb on {simulator} vs golden", verify)
    flow.run("hklut: synthesis and timing", cost)


def run_demo(out: Path, *, quick: bool = False, simulator: str = "verilator") -> int:
    console = Console()
    out.mkdir(parents=True, exist_ok=True)
    flow = Flow(console)
    console.rule("edgeforge demo: smoke design (ROM-backed streaming lookup)")
    smoke_flow(flow, out, quick=quick, simulator=simulator)
    console.rule("edgeforge demo: HKLUT-S x4 (our trained tables) as a streaming LUT engine")
    hklut_flow(flow, out, quick=quick, simulator=simulator)
    console.print(flow.table())
    console.print("wrote:")
    for path in flow.written():
        console.print(f"  {path}", highlight=False, soft_wrap=True)
    console.print(f"outputs under [bold]{out.resolve()}[/]")
    return 0 if flow.ok else 1
