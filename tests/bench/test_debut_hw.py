"""bench/debut_hw: the All-DeBut conversion of a dense config and the per-layer counts."""

from edgeforge.bench.debut_hw import all_debut_config, layer_counts
from edgeforge.hw.network.design import NetworkDesign
from edgeforge.schemes.network import random_artifact
from edgeforge.schemes.network_debut import chain_params

from network_helpers import DIGITS_REF


def test_every_conv_and_linear_becomes_a_valid_chain():
    config = all_debut_config(DIGITS_REF)
    kinds = [(l["kind"], l.get("transform")) for l in config["layers"]]
    assert kinds == [(l["kind"], "debut" if "transform" in l else None)
                     for l in DIGITS_REF["layers"]]
    design = NetworkDesign(random_artifact(config, seed=0), folding="folded")
    counts = layer_counts(design)
    assert [c["layer"] for c in counts] == [0, 3, 7, 9]
    conv1 = config["layers"][0]
    assert counts[0]["params"] == chain_params(conv1["factors"])
    assert counts[0]["macs"] == 64 * counts[0]["params"]           # 64 windows an image
    assert counts[0]["dense_params"] == 8 * 9
    assert sum(c["params"] for c in counts) < sum(c["dense_params"] for c in counts)
