"""The scheme-neutral energy estimate: every line is a record count times a stated figure."""

import pytest

from edgeforge import generate, load
from edgeforge.bench.energy import add_pj, dram_pj, estimate, mul_pj, sram_read_pj
from edgeforge.models.network import PRETRAINED
from edgeforge.models.network.zoo import layer_macs


@pytest.fixture(scope="module")
def folded():
    return generate(load(PRETRAINED["digits-ref"]), folding="folded")


def test_the_lines_are_the_record_counts_priced(folded):
    perf = folded.cycle_model()
    result = estimate(perf)
    lines = {l["what"]: l for l in result["lines"]}
    # Every MAC of the network is a product and an accumulation in the record.
    macs = sum(layer_macs(folded.artifact.config).values())
    products = [o for o in perf.operations if o.op == "mul"]
    assert sum(o.count for o in products) == macs
    for o in perf.operations:
        line = lines[f"{o.what} ({'x'.join(map(str, o.bits))}-bit {o.op})"]
        assert line["count"] == o.count
        assert line["pj_each"] == (mul_pj(*o.bits) if o.op == "mul" else add_pj(o.bits[0]))
    weights = next(t for t in perf.traffic if t.memory == "l3_core.weights")
    assert weights.array_bits == 8 * 9 * 8 * 8          # 8 x 72 int8 weights
    line = lines[f"l3_core.weights reads (8-bit word, {weights.array_bits // 8} B)"]
    assert line["count"] == weights.reads and line["pj_each"] == sram_read_pj(576, 8)
    assert result["pj"]["off_chip"] == dram_pj(64 + 1)
    assert result["pj"]["total"] == pytest.approx(sum(l["pj"] for l in result["lines"]))
    assert result["counted"]


def test_a_parallel_layer_reads_no_rom_but_does_the_same_arithmetic(folded):
    parallel = generate(load(PRETRAINED["digits-ref"]), folding="parallel")
    ops = lambda d: sorted((o.what, o.op, o.bits, o.count) for o in d.cycle_model().operations)
    assert ops(parallel) == ops(folded)
    assert estimate(parallel.cycle_model())["pj"]["on_chip"] < estimate(
        folded.cycle_model())["pj"]["on_chip"]


def test_pecan_d_counts_no_multiply_and_debut_counts_its_factors():
    from debut_helpers import debut_networks
    from network_helpers import PECAN_REF

    from edgeforge.schemes.network import random_artifact
    from edgeforge.schemes.network_debut import Factor
    pecan = generate(random_artifact(PECAN_REF, seed=1), folding="folded").cycle_model()
    assert {o.op for o in pecan.operations} == {"add"}
    # Per image, the first layer's 64 windows of 9 groups of 1 tap against 8 prototypes.
    l1 = {o.what: o.count for o in pecan.operations if o.what.startswith("l0_core")}
    assert l1["l0_core L1 differences and absolute values"] == 64 * 9 * 8 * 1 * 2
    assert l1["l0_core arg-min compares"] == 64 * 9 * 7
    config = debut_networks()["square"]
    perf = generate(random_artifact(config, seed=1), folding="folded").cycle_model()
    products = sum(o.count for o in perf.operations if o.op == "mul")
    layers = [l for l in config["layers"] if l.get("transform") == "debut"]
    assert products == sum(Factor(*f).params for l in layers for f in l["factors"])
