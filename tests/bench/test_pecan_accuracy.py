"""The PECAN-D accuracy benchmark on a tiny schedule: rows per seed and variant, summary,
pruning figures, Markdown with the paper's table beside."""

import json

import pytest

from edgeforge.bench import pecan_accuracy
from edgeforge.models.network.train import TrainConfig


TINY = dict(pecan={"prototypes": [4, 4, 3, 2]}, dense_config=TrainConfig(iterations=40),
            pecan_config=TrainConfig(iterations=20, warmup=0.3), iterations=20, progress=False)


def test_run_summarises_variants_and_renders():
    results = pecan_accuracy.run([0], tuple(pecan_accuracy.VARIANTS), **TINY)
    runs = results["runs"]
    assert [r["variant"] for r in runs] == list(pecan_accuracy.VARIANTS)
    for r in runs:
        # The golden model reads the exported integers: it classifies as the torch model does.
        assert r["float_golden_class_agreement"] >= 0.99
        assert 0 < r["prototypes_used"] <= 1 and r["bits_pruned"] <= r["bits"]
        assert r["bits"] == sum(b["codebook"] + b["table"] for b in r["memory_bits"].values())
    # The hybrid's dense first layer takes no knob: the PECAN-D ones get theirs in order.
    assert {k: v["prototypes"] for k, v in runs[2]["pruning"].items()} == {"l3": 4, "l7": 3,
                                                                          "l9": 2}
    assert runs[0]["train_config"]["warmup"] == 0.0 and runs[1]["train_config"]["warmup"] == 0.3
    # The from-dense variant has knobs and a schedule of its own (here cut to 20 iterations).
    assert {k: v["prototypes"] for k, v in runs[3]["pruning"].items()} == dict(
        zip(("l0", "l3", "l7", "l9"), pecan_accuracy.FROM_DENSE_PECAN["prototypes"]))
    assert runs[3]["train_config"]["iterations"] == 20 and runs[3]["train_config"]["warmup"] == 0
    assert results["quick"] and results["variants"]["from dense"]["start"] == "dense"
    s = results["summary"]["from scratch"]
    assert s["golden"]["mean"] == pytest.approx(runs[1]["golden"]) and s["golden"]["std"] == 0
    md = pecan_accuracy.render_markdown(results)
    assert "| PECAN-D from scratch |" in md and "| LeNet5, MNIST | 99.41 | 99.25 | 99.01 |" in md
    assert "**Quick runs**" in md and "group_size [3, 4, 4, 2]" in md
    # A variant's knobs are listed for its PECAN-D layers only (the hybrid's three).
    assert "prototypes [4, 3, 2]" in md
    json.dumps(results)


def test_an_ablation_runs_by_name_and_unknown_names_are_refused():
    results = pecan_accuracy.run([0], ("fc2 alone, p 16 d 2 (frozen)",), **TINY)
    (row,) = results["runs"]
    assert list(row["pruning"]) == ["l9"] and row["train_config"]["warmup"] == 0.0
    with pytest.raises(ValueError, match=r"^variants: unknown 'nope'"):
        pecan_accuracy.run([0], ("nope",), **TINY)


def test_validation_scores_held_out_training_images_and_reports_the_target():
    from edgeforge.bench.harness import paired_margin
    from edgeforge.models.image_sets import HeldOut
    results = pecan_accuracy.run([0, 1], ("fc2 alone, p 16 d 2 (frozen)",), **TINY,
                                 data=HeldOut("digits"))
    # 20 % of the 1,257 training images held out; the test images are not read.
    assert results["validation"] and results["test_images"] == 252
    assert results["train_images"] == 1005
    (name,) = results["variants"]
    t = results["targets"][name]
    dense = {d["seed"]: d["golden"] for d in results["dense"]}
    ours = {r["seed"]: r["golden"] for r in results["runs"]}
    assert t == paired_margin(dense, ours, 0.02)
    assert t["met"] == (t["difference"] + t["std"] <= 0.02 + 1e-12)
    md = pecan_accuracy.render_markdown(results)
    assert "(validation split)" in md and "held-out validation images" in md
    assert f"| PECAN-D {name} | {100 * t['difference']:.2f} |" in md



@pytest.mark.slow
def test_seeds_in_parallel_processes_give_the_same_networks():
    name = ("fc2 alone, p 16 d 2 (frozen)",)
    one = pecan_accuracy.run([0, 1], name, **TINY)
    two = pecan_accuracy.run([0, 1], name, **TINY, jobs=2)
    assert [r["artifact_hash"] for r in two["runs"]] == [r["artifact_hash"] for r in one["runs"]]
    assert [d["golden"] for d in two["dense"]] == [d["golden"] for d in one["dense"]]
