"""The DeBut accuracy benchmark on a tiny schedule: the variants, their counts, the target by
the paired margin rule, the command line's options without training."""

import json

import pytest

from edgeforge.bench import debut_accuracy
from edgeforge.models.debut.convert import FINE_TUNE, SWEEPS
from edgeforge.models.image_sets import DIGITS, HeldOut
from edgeforge.models.network.train import TrainConfig


def test_run_converts_each_seeds_dense_network_and_renders(tmp_path):
    results = debut_accuracy.run([5], TrainConfig(iterations=30), TrainConfig(iterations=30),
                                 progress=False)
    runs = {r["variant"]: r for r in results["runs"]}
    assert list(runs) == ["dense", *(v[0] for v in debut_accuracy.VARIANTS.values())]
    dense, some, every = runs.values()
    assert dense["params"] == 1992 and dense["macs"] == 15168
    assert every["params"] <= 0.25 * 1992 < some["params"] < 1992
    assert [c["layer"] for c in some["chains"]] == [3, 7]
    for r in runs.values():
        # The golden model reads the exported integers: it classifies as the torch model does.
        assert r["agreement"] >= 0.99 and r["golden"] == r["float"]
    target = results["target"]
    assert target["params_ratio"] == round(every["params"] / 1992, 4)
    # One seed: no spread, the bound is the difference itself.
    assert target["accuracy"]["difference"] == pytest.approx(dense["golden"] - every["golden"],
                                                             abs=1e-6)
    assert target["accuracy"]["std"] == 0
    assert target["met"] == (target["accuracy"]["bound"] <= 0.015)
    md = debut_accuracy.render_markdown(results)
    assert "| dense | 1,992 (100.0 %) | 15,168 |" in md and "(test split)" in md
    assert "- All-DeBut, budget 0.25 with <= 25 % of the dense parameters within 1.5" in md
    assert "margin rule on seed-paired differences" in md
    json.dumps(results)


def test_distilled_fine_tune_on_validation_images_records_the_teacher():
    results = debut_accuracy.run([1], TrainConfig(iterations=20),
                                 TrainConfig(iterations=20, distill=0.5),
                                 variants=["all-debut-0.25"], sweeps=1, widths={0: 8},
                                 data=HeldOut("digits"), progress=False)
    assert results["validation"] and results["test_images"] == 252
    assert [r["variant"] for r in results["runs"]] == ["dense", "All-DeBut, budget 0.25"]
    assert results["fine_tune"]["distill"] == 0.5 and results["als_sweeps"] == 1
    first = results["runs"][1]["chains"][0]
    assert first["layer"] == 0 and first["min_width"] == 8 and results["widths"] == {"0": 8}
    md = debut_accuracy.render_markdown(results)
    assert "(validation split)" in md and "distilled from the seed's dense network" in md
    assert "with the narrowest vector fixed: layer 0 8" in md


def test_target_is_none_without_its_variant():
    rows = [{"variant": "dense", "seed": 0, "golden": 0.98, "params": 1992}]
    assert debut_accuracy.target(rows) is None


def test_main_passes_the_options_to_run(monkeypatch, tmp_path):
    seen = {}

    def fake_run(seeds, config, fine_tune, *, variants, sweeps, widths, data, progress, say):
        seen.update(seeds=seeds, config=config, fine_tune=fine_tune, variants=variants,
                    sweeps=sweeps, widths=widths, data=data)
        return {}

    monkeypatch.setattr(debut_accuracy, "run", fake_run)
    monkeypatch.setattr(debut_accuracy, "publish", lambda out, stem, results, render:
                        seen.update(out=out, stem=stem, command=results["command"]))
    assert debut_accuracy.main(["--seeds", "0", "1", "--variants", "all-debut-0.25",
                                "--fine-tune-steps", "8000", "--fine-tune-lr", "0.02",
                                "--fine-tune-weight-decay", "0", "--distill", "0.5",
                                "--distill-temperature", "2", "--sweeps", "0",
                                "--widths", "0:8", "3:4",
                                "--validation", "-o", str(tmp_path), "--stem", "x"]) == 0
    ft = seen["fine_tune"]
    assert seen["seeds"] == [0, 1] and seen["variants"] == ["all-debut-0.25"]
    assert (ft.iterations, ft.lr, ft.weight_decay, ft.distill, ft.distill_temperature) == (
        8000, 0.02, 0.0, 0.5, 2.0)
    assert ft.qat_fraction == FINE_TUNE.qat_fraction and seen["sweeps"] == 0
    assert seen["widths"] == {0: 8, 3: 4}
    assert isinstance(seen["data"], HeldOut) and seen["stem"] == "x" and seen["out"] == tmp_path
    assert seen["command"].startswith("python -m edgeforge.bench.debut_accuracy --seeds 0 1 ")
    debut_accuracy.main(["--seeds", "0"])
    assert seen["data"] is DIGITS and seen["stem"] == "debut_accuracy"
    assert seen["fine_tune"] == FINE_TUNE and seen["sweeps"] == SWEEPS
    assert seen["widths"] is None
    assert seen["variants"] == list(debut_accuracy.VARIANTS)


@pytest.mark.parametrize("flag, value, message", [
    ("--distill", "1.5", "argument --distill: must be a number in [0, 1], got '1.5'"),
    ("--fine-tune-weight-decay", "-1", "argument --fine-tune-weight-decay: must be a number "
                                       ">= 0, got '-1'"),
    ("--sweeps", "-2", "argument --sweeps: must be an integer of at least 0, got '-2'"),
    ("--fine-tune-steps", "0", "argument --fine-tune-steps: must be a positive integer, got '0'"),
    ("--widths", "0=8", "argument --widths: must be LAYER:WIDTH (a layer index and its "
                        "narrowest vector, e.g. 0:8), got '0=8'"),
    ("--variants", "all-debut", "argument --variants: invalid choice: 'all-debut'"),
])
def test_main_names_a_bad_option_and_its_value(flag, value, message, capsys):
    with pytest.raises(SystemExit):
        debut_accuracy.main([flag, value])
    assert message in capsys.readouterr().err
