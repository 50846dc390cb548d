"""The script that makes the shipped network artifacts: one file per preset, loadable, repeatable."""

import pytest

from edgeforge.artifact import load
from edgeforge.models.network import PRETRAINED
from edgeforge.models.network.export import evaluate_network
from edgeforge.models.network.make_pretrained import make
from edgeforge.models.network.train import TrainConfig

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_make_writes_one_loadable_artifact_per_preset_byte_for_byte(tmp_path):
    config = TrainConfig(iterations=120, seed=4)
    first = make(tmp_path / "a", config, progress=False)
    second = make(tmp_path / "b", config, progress=False)
    assert sorted(first) == sorted(PRETRAINED) == ["digits-mlp", "digits-ref"]
    for name, path in first.items():
        assert path.name == f"{name}.npz"
        assert path.read_bytes() == second[name].read_bytes()
        art = load(path)
        assert art.provenance["preset"] == name and art.provenance["seed"] == 4
        assert evaluate_network(path) == pytest.approx(art.provenance["float_accuracy"], abs=1e-6)
