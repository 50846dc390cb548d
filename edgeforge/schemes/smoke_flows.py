"""The smoke scheme's demo flow: a ROM-backed streaming lookup through every step."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO_FLOWS"]


def demo_flow(flow, out: Path, *, quick: bool, simulator: str) -> None:
    import numpy as np

    import edgeforge
    from edgeforge.schemes.smoke import default_artifact
    from edgeforge.sim.amaranth_stream import run_stream

    flow.console.rule("edgeforge demo: smoke design (ROM-backed streaming lookup)")
    state = {}

    def artifact(step):
        path = edgeforge.save(default_artifact(addr_bits=8, data_bits=8), out / "smoke.npz")
        state["art"] = edgeforge.load(path)
        state["design"] = edgeforge.generate(state["art"])
        step.result = f"256 x 8-bit table, {state['art'].short_hash}"
        step.paths.append(path)

    def amaranth_sim(step):
        design = state["design"]
        x = np.random.default_rng(0).integers(0, 256, size=1000)
        run = run_stream(design.build(), x.tolist(), len(x), seed=1, p_valid=0.7, p_ready=0.7)
        step.ok = np.array_equal(run.outputs, design.golden(x))
        step.result = f"{len(x)} beats bit-exact under random backpressure ({run.last} cycles)"

    flow.run("smoke: artifact", artifact)
    flow.run("smoke: Amaranth simulation vs golden", amaranth_sim)
    flow.check_design("smoke", lambda: state["design"], out, quick=quick, simulator=simulator,
                      targets=("generic",) if quick else ("generic", "ice40", "ecp5"))


DEMO_FLOWS = (demo_flow,)
