"""The demo's closing comparison: its spec names the demo's own artifacts (``demo:<name>``),
which the flow replaces by the files its steps wrote."""

import io

from rich.console import Console

from edgeforge.demo import Flow, demo_spec


def test_demo_artifacts_are_the_files_the_steps_wrote(tmp_path):
    flow = Flow(Console(file=io.StringIO()))
    (row,) = [r for r in demo_spec(flow).rows if r.artifact.startswith("demo:")]
    assert row.artifact == "demo:all-debut"          # its step has not run: left to fail
    flow.artifacts["all-debut"] = tmp_path / "all-debut.npz"
    assert str(tmp_path / "all-debut.npz") in [r.artifact for r in demo_spec(flow).rows]
