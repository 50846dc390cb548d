"""The compression benchmark on a short schedule and one seed: every variant, the integers
classifying as the torch model, the summary and targets, the metric timing, Markdown."""

import json

import pytest

from edgeforge.bench import compress
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
    results = compress.run([0], TrainConfig(iterations=120), TrainConfig(iterations=40, lr=2e-3),
                           say=lambda msg: None)
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
    assert set(results["targets"]) == {"ezcrop_half", "nrmf_95_vs_vbmf"}
    results["metric_time"] = compress.time_metrics((4, 8), images=4, channels=2, repeats=1)
    assert [r["maps"] for r in results["metric_time"]["rows"]] == ["generated 4x4",
                                                                    "generated 8x8"]
    assert all(r["hrank_s"] > 0 and r["ezcrop_rfft_s"] > 0 for r in results["metric_time"]["rows"])
    md = compress.render_markdown(results)
    assert "| ezcrop 0.5 |" in md and "HRank / EZCrop fft2" in md and "NRMF p = 0.95" in md
    json.dumps(results)
