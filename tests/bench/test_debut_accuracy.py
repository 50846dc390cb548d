"""The DeBut accuracy benchmark on a tiny schedule: the variants, their counts, the target."""

import json

from edgeforge.bench import debut_accuracy
from edgeforge.models.network.train import TrainConfig


def test_run_converts_each_seeds_dense_network_and_renders(tmp_path):
    results = debut_accuracy.run([5], TrainConfig(iterations=30), progress=False)
    runs = {r["variant"]: r for r in results["runs"]}
    assert list(runs) == list(debut_accuracy.VARIANTS)
    dense, some, every = (runs[name] for name in debut_accuracy.VARIANTS)
    assert dense["params"] == 1992 and dense["macs"] == 15168
    assert every["params"] <= 0.25 * 1992 < some["params"] < 1992
    assert [c["layer"] for c in some["chains"]] == [3, 7]
    for r in runs.values():
        # The golden model reads the exported integers: it classifies as the torch model does.
        assert r["agreement"] >= 0.99 and r["golden"] == r["float"]
    target = results["target"]
    assert target["params_ratio"] == round(every["params"] / 1992, 4)
    assert target["met"] == (target["drop"] <= 0.015)
    md = debut_accuracy.render_markdown(results)
    assert "| dense | 1,992 (100.0 %) | 15,168 |" in md and "Target: All-DeBut" in md
    json.dumps(results)
