"""PECAN-A NetworkDesigns through Design.verify: cocotb on Verilator (and one config on
Icarus) bit-exact against the golden model, without pauses (cycles == the model, enforced by
verify) and under random valid gaps and backpressure.

Verilator builds dominate the time (20-30 s of CPU each here), so the default tier shares
one build across three foldings: TINY_PECAN_A's three layers run a fully folded, a middle
and a fully parallel core in one design. The slow tier runs whole-network foldings (folded,
middle, parallel) of the small digits-ref-shaped net on digits images, random PECAN-A and
mixed networks, the full-size PECAN-A digits-ref, and Icarus; lint is clean."""

import pytest

from edgeforge.hw.network.design import NetworkDesign
from edgeforge.schemes.network import random_artifact
from simulators import rtl_verify

from network_helpers import (PECAN_A_REF, PECAN_REF_MIDDLE, SMALL_PECAN_A, TINY_PECAN_A,
                             TINY_PECAN_A_FOLDINGS, digits_test_images, random_network_design)


_verify = rtl_verify      # on --simulator's choice when given


@pytest.fixture(scope="module")
def tiny():
    return random_artifact(TINY_PECAN_A, seed=3)


def test_three_core_foldings_in_one_build(tiny):
    design = NetworkDesign(tiny, folding=TINY_PECAN_A_FOLDINGS, logits=True)
    # Cycles a vector: one match unit for 4 groups x 4 prototypes, then 2 x 2 folds, then 1.
    assert [st.params["folds"] for st in design.plan.stages if st.kind == "core"] == [16, 4, 1]
    xs = design.test_inputs(seed=1)[:8]
    result = _verify(design, xs)
    assert result.measurements["stream/src=none/sink=none"]["out_transfers"] == len(xs)
    assert result.measurements["stream/src=random/sink=random"]["out_transfers"] == len(xs)


def test_prototype_offsets_at_three_core_foldings():
    # Every layer with the option: the offsets as constants (the parallel core) and as a
    # ROM beside the codebook's (the folded and middle ones), bit-exact with the golden.
    config = {**TINY_PECAN_A, "layers": [{**layer, "prototype_offsets": True}
                                         if layer.get("transform") else layer
                                         for layer in TINY_PECAN_A["layers"]]}
    art = random_artifact(config, seed=4)
    assert all(f"l{i}_offset" in art.arrays for i, layer in enumerate(config["layers"])
               if layer.get("transform"))
    design = NetworkDesign(art, folding=TINY_PECAN_A_FOLDINGS, logits=True)
    perf = design.cycle_model()
    # The offsets' ROM beside each folded codebook's (not the parallel core's constants),
    # and their adds among the operations.
    assert len([t for t in perf.traffic if t.memory.endswith(".offset")]) == 2
    assert len([o for o in perf.operations if "prototype offset adds" in o.what]) == 3
    _verify(design, design.test_inputs(seed=2)[:8])


@pytest.mark.slow
@pytest.mark.parametrize("folding", ["folded", [(3, 2), (9, 4), (1, 8), (1, 2)], "parallel"])
def test_small_network_at_three_foldings(folding):
    design = NetworkDesign(random_artifact(SMALL_PECAN_A, seed=7), folding=folding, logits=True)
    _verify(design, design.test_inputs(seed=1)[:5] + list(digits_test_images()[:2]))


@pytest.mark.slow
def test_tiny_on_icarus(tiny):
    design = NetworkDesign(tiny, folding="parallel", pixels_per_beat=4, logits=True)
    assert design.cycle_model().cycles_per_input == 4
    _verify(design, design.test_inputs(seed=4)[:6], simulator="icarus")


@pytest.mark.parametrize("art, kwargs", [
    ("tiny", {"folding": TINY_PECAN_A_FOLDINGS, "logits": True}),
    ("tiny", {"folding": "parallel"}),
    pytest.param("ref", {"folding": PECAN_REF_MIDDLE, "logits": True}, marks=pytest.mark.slow),
    pytest.param("ref", {"folding": "parallel"}, marks=pytest.mark.slow)])
def test_configs_lint_clean(tiny, tmp_path, art, kwargs):
    from edgeforge.sim.lint import lint_verilog
    artifact = tiny if art == "tiny" else random_artifact(PECAN_A_REF, seed=7)
    lint = lint_verilog(NetworkDesign(artifact, **kwargs).write_verilog(tmp_path).verilog)
    assert lint.ok, lint.findings


@pytest.mark.slow
@pytest.mark.parametrize("seed, transforms", [(s, ("pecan-a",)) for s in (1, 2, 3, 30, 31)]
                         + [(s, ("pecan-a", "pecan-d", "dense")) for s in (40, 41)])
def test_random_networks_sweep(seed, transforms):
    design = random_network_design(seed, transforms)
    _verify(design, design.test_inputs(seed=seed))


@pytest.mark.slow
def test_pecan_a_ref_middle_on_digits_images():
    design = NetworkDesign(random_artifact(PECAN_A_REF, seed=7), folding=PECAN_REF_MIDDLE,
                           logits=True)
    _verify(design, design.test_inputs(seed=2)[:4] + list(digits_test_images()[:4]))
    assert design.cycle_model().cycles_per_input == 64 * 3 * 2
