"""The network accuracy benchmark on a short schedule: per-run rows, summary, target, Markdown."""

import json

import pytest

from edgeforge.bench import network_accuracy
from edgeforge.models.network.train import TrainConfig


# TrainConfig trains with one torch thread (its default); only the evaluation of the
# 540 test images runs outside it.


def test_run_summarises_seeds_and_renders():
    results = network_accuracy.run(["digits-mlp"], [0, 1], TrainConfig(iterations=200),
                                   progress=False)
    runs = results["runs"]
    assert [(r["preset"], r["seed"]) for r in runs] == [("digits-mlp", 0), ("digits-mlp", 1)]
    for r in runs:
        # The integer model reads the exported integers: it classifies as the torch model does.
        assert r["float_integer_class_agreement"] >= 0.99 and r["integer"] == r["float"]
        assert 0.8 < r["integer"] <= 1 and r["seconds"] > 0
    assert runs[0]["artifact_hash"] != runs[1]["artifact_hash"]
    s = results["summary"]["digits-mlp"]
    assert s["macs"] == 2368
    mean = (runs[0]["integer"] + runs[1]["integer"]) / 2
    assert s["integer"]["mean"] == pytest.approx(mean, abs=1e-6)
    assert s["integer"]["std"] == pytest.approx(abs(runs[0]["integer"] - runs[1]["integer"]) / 2 ** 0.5,
                                                abs=1e-6)
    assert "mean" not in results["target"]       # digits-ref was not run
    md = network_accuracy.render_markdown(results)
    assert "| digits-mlp | 2,368 |" in md and results["integer_model"] in md
    json.dumps(results)


def test_main_writes_json_and_markdown(tmp_path, capsys):
    assert network_accuracy.main(["--presets", "digits-ref", "--seeds", "3", "--iterations", "60",
                                  "--no-progress", "-o", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "network_accuracy.json").read_text())
    assert data["command"].endswith("--iterations 60 --no-progress -o " + str(tmp_path))
    assert data["target"]["preset"] == "digits-ref" and "met_by_mean" in data["target"]
    assert (tmp_path / "network_accuracy.md").read_text() == capsys.readouterr().out
