"""The PECAN-D hardware benchmark's operation counts: the paper's Table 1 formula, and the
cycle model's lines summed (no synthesis here)."""

from edgeforge import generate
from edgeforge.bench.pecan_hw import model_ops, table1_ops
from edgeforge.models.network.net import _with_placeholders
from edgeforge.models.network.zoo import macs, preset, with_transforms
from edgeforge.schemes.network import random_artifact


def test_table1_counts_pecan_d_additions_and_no_multiplication():
    net = _with_placeholders(with_transforms(preset("digits-ref"), "pecan-d",
                                             prototypes=[64, 16, 16, 16], group_size=[9, 8, 4, 2]))
    # Per output position D (2 p d + c_out): 64 positions, 16, then one for each linear.
    expected = (64 * 1 * (2 * 64 * 9 + 8) + 16 * 9 * (2 * 16 * 8 + 8)
                + 8 * (2 * 16 * 4 + 32) + 16 * (2 * 16 * 2 + 10))
    assert table1_ops(net) == {"mul": 0, "add": expected}
    dense = preset("digits-ref")
    assert table1_ops(_with_placeholders(dense)) == {"mul": macs(dense), "add": macs(dense)}


def test_model_ops_sums_the_cycle_models_lines():
    net = _with_placeholders(with_transforms(preset("digits-mlp"), "pecan-d", prototypes=4))
    perf = generate(random_artifact(net), folding="folded").cycle_model().to_dict()
    ops = model_ops(perf)
    assert ops["mul"] == 0
    assert ops["add"] == sum(int(line["count"]) for line in perf["operations"]) > 0
