"""The compression benchmark on a short schedule and one seed: every variant, the integers
classifying as the torch model, the summary and targets, the metric timing, Markdown; the
margin rule on made-up rows, the variant names and the command line without training."""

import json

import pytest

from edgeforge.bench import compress
from edgeforge.models.image_sets import DIGITS, HeldOut
from edgeforge.models.network.train import TrainConfig

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture
def torch_one_thread():
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_run_covers_every_variant_and_renders():
    # On validation images (the held-out part of the training split), every variant named
    # in another order and dense among them: the table's order comes back.
    results = compress.run([0], TrainConfig(iterations=120), TrainConfig(iterations=40, lr=2e-3),
                           regularise=TrainConfig(iterations=30, lr=2e-3),
                           variants=["vbmf", "dense", *list(compress.VARIANTS)[:-1]],
                           data=HeldOut("digits"), say=lambda msg: None)
    assert results["validation"] and results["test_images"] == 252
    assert results["train_images"] == 1005 and "metric_time" not in results
    assert results["regularise"]["iterations"] == 30 and results["fine_tune"]["iterations"] == 40
    variants = [r["variant"] for r in results["runs"]]
    assert variants == ["dense", "ezcrop 0.5", "ezcrop 0.75", "hrank 0.5", "hrank 0.75",
                        "ezcrop 0.75, 3 rounds", "nrmf p=0.92", "nrmf p=0.95", "nrmf p=0.98",
                        "energy p=0.95, no regulariser", "vbmf"]
    rows = {r["variant"]: r for r in results["runs"]}
    for r in results["runs"]:
        assert r["float_integer_class_agreement"] >= 0.99
    assert rows["ezcrop 0.5"]["params"] == rows["hrank 0.5"]["params"] < rows["dense"]["params"]
    assert rows["ezcrop 0.75"]["params"] < rows["ezcrop 0.5"]["params"]
    assert rows["ezcrop 0.75, 3 rounds"]["params"] == rows["ezcrop 0.75"]["params"]
    assert len(rows["ezcrop 0.75, 3 rounds"]["metric_seconds"]) == 3
    assert rows["dense"]["macs"] == 87360
    assert set(rows["vbmf"]["ranks"]) == {"0", "3"} and rows["dense"]["ranks"] is None
    assert results["summary"]["nrmf p=0.95"]["params"]["std"] == 0       # one seed
    assert set(results["targets"]) == {"ezcrop_half", "nrmf_95"}
    assert set(results["targets"]["nrmf_95"]) >= {"within_1_point_of_dense",
                                                  "within_1_point_of_vbmf", "fewer_params"}
    results["metric_time"] = compress.time_metrics((4, 8), images=4, channels=2, repeats=1)
    assert [r["maps"] for r in results["metric_time"]["rows"]] == ["generated 4x4",
                                                                    "generated 8x8"]
    assert all(r["hrank_s"] > 0 and r["ezcrop_rfft_s"] > 0 for r in results["metric_time"]["rows"])
    md = compress.render_markdown(results)
    assert "| ezcrop 0.5 |" in md and "HRank / EZCrop fft2" in md and "NRMF p = 0.95" in md
    assert "margin rule on seed-paired differences" in md and "held-out validation images" in md
    json.dumps(results)


def test_variants_are_checked_and_ordered():
    assert compress.check_variants(["vbmf", "dense", "ezcrop0.5"]) == ["ezcrop0.5", "vbmf"]
    assert compress.check_variants(compress.VARIANTS) == list(compress.VARIANTS)
    with pytest.raises(ValueError, match=r"^variant must be one of \['dense', 'ezcrop0.5', .*"
                                         r"got 'nrmf0.9'$"):
        compress.check_variants(["nrmf0.9"])


def _runs(table: dict) -> list[dict]:
    """Per-seed rows as run() writes them, from ``{variant: [accuracy per seed]}``."""
    return [{"variant": v, "seed": seed, "integer": acc, "params": 100 if v == "vbmf" else 90}
            for v, accs in table.items() for seed, acc in enumerate(accs)]


def test_targets_apply_the_margin_rule_to_seed_pairs():
    dense = [0.985, 0.99, 0.98]
    t = compress.targets(_runs({"dense": dense, "ezcrop 0.5": [0.98, 0.985, 0.975],
                                "hrank 0.5": [0.98, 0.98, 0.98],
                                "nrmf p=0.95": [0.97, 0.985, 0.98], "vbmf": [0.95] * 3}))
    ez = t["ezcrop_half"]["within_1_point_of_dense"]
    # Every pair 0.5 below: difference 0.5 points, no spread: met.
    assert ez["difference"] == pytest.approx(0.005) and ez["std"] == 0 and ez["met"]
    assert t["ezcrop_half"]["ahead_of_hrank"] is False          # 97.99 vs 98.00 on the means
    nr = t["nrmf_95"]["within_1_point_of_dense"]
    # Differences 1.5, 0.5, 0: mean 0.67, std 0.76: 1.43 > 1: not met, though the means
    # are within a point of each other.
    assert nr["difference"] == pytest.approx(0.02 / 3, abs=1e-6)
    assert nr["std"] == pytest.approx(0.007638, abs=1e-6)
    assert not nr["met"]
    assert t["nrmf_95"]["within_1_point_of_vbmf"]["met"] and t["nrmf_95"]["fewer_params"]
    assert compress.targets(_runs({"dense": dense})) == {}


def test_main_passes_the_options_to_run(monkeypatch, tmp_path):
    seen = {}

    def fake_run(seeds, *, fine_tune, regularise, variants, data, metric_time, progress, say):
        seen.update(seeds=seeds, fine_tune=fine_tune, regularise=regularise, variants=variants,
                    data=data, metric_time=metric_time)
        return {}

    monkeypatch.setattr(compress, "run", fake_run)
    monkeypatch.setattr(compress, "publish", lambda out, stem, results, render:
                        seen.update(out=out, stem=stem, command=results["command"]))
    assert compress.main(["--seeds", "0", "1", "--variants", "ezcrop0.5", "nrmf0.95",
                          "--fine-tune-steps", "3000", "--fine-tune-lr", "0.004",
                          "--regularise-steps", "1000",
                          "--validation", "--no-metric-time", "-o", str(tmp_path),
                          "--stem", "compress_targets"]) == 0
    assert seen["seeds"] == [0, 1] and seen["variants"] == ["ezcrop0.5", "nrmf0.95"]
    assert seen["fine_tune"].iterations == 3000 and seen["fine_tune"].lr == 0.004
    assert seen["fine_tune"].qat_fraction == compress.FINE_TUNE.qat_fraction
    assert seen["regularise"].iterations == 1000 and seen["regularise"].lr == 0.004
    assert isinstance(seen["data"], HeldOut) and seen["metric_time"] is False
    assert seen["stem"] == "compress_targets" and seen["out"] == tmp_path
    assert seen["command"].startswith("python -m edgeforge.bench.compress --seeds 0 1 ")
    compress.main(["--seeds", "0"])
    assert seen["data"] is DIGITS and seen["metric_time"] and seen["stem"] == "compress"
    assert seen["variants"] == list(compress.VARIANTS)
    assert seen["fine_tune"] == compress.FINE_TUNE == seen["regularise"]


@pytest.mark.parametrize("argv, message", [
    (["--variants", "nrmf0.9"], "argument --variants: invalid choice: 'nrmf0.9'"),
    (["--fine-tune-steps", "0"], "argument --fine-tune-steps: must be a positive integer, got '0'"),
    (["--fine-tune-lr", "-1"], "argument --fine-tune-lr: must be a positive number, got '-1'"),
    (["--regularise-steps", "x"], "argument --regularise-steps: must be a positive integer, "
                                  "got 'x'"),
])
def test_bad_options_are_named(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        compress.main(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err
