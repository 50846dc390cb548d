"""The shipped network artifacts: they load, carry their provenance and classify as recorded."""

import pytest

from edgeforge.artifact import load
from edgeforge.bench.compare import SHIPPED, resolve_artifact
from edgeforge.models.data_digits import load_digits
from edgeforge.models.network import PRETRAINED
from edgeforge.models.network.export import evaluate_network
from edgeforge.models.network.zoo import preset
from edgeforge.sim.golden.network import classify

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.mark.parametrize("name", sorted(PRETRAINED))
def test_shipped_artifact_loads_and_reproduces_its_recorded_accuracy(name):
    art = load(PRETRAINED[name])
    p = art.provenance
    assert p["preset"] == name and p["seed"] == 0
    assert [layer["kind"] for layer in art.config["layers"]] == \
        [layer["kind"] for layer in preset(name)["layers"]]
    x, y = load_digits("test")
    golden = float((classify(art, x).classes == y).mean())
    assert golden == evaluate_network(art) == pytest.approx(p["float_accuracy"], abs=1e-6)
    if name == "digits-ref":
        assert golden >= 0.97           # the target, met by the shipped file


COMPARED = sorted(k for k, v in SHIPPED.items() if v.startswith("models/network/"))


@pytest.mark.parametrize("name", COMPARED)
def test_the_comparisons_networks_classify_as_their_provenance_records(name):
    art = load(resolve_artifact(f"shipped:{name}"))
    x, y = load_digits("test")
    golden = float((classify(art, x).classes == y).mean())
    assert golden == pytest.approx(evaluate_network(art), abs=1e-9)
    assert golden == pytest.approx(art.provenance["float_accuracy"], abs=1e-6)
