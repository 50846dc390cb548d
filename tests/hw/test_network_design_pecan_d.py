"""PECAN-D NetworkDesigns through Design.verify: cocotb on Verilator (and one config on
Icarus) bit-exact against the golden model, without pauses (cycles == the model, enforced by
verify) and under random valid gaps and backpressure: a small digits-ref-shaped PECAN-D net at
three foldings (fully folded, middle, fully parallel), a PECAN-D MLP at 8 pixels a beat on
Icarus, random PECAN-D and mixed networks; the full-size PECAN-D digits-ref (on digits test
images) in the slow tier; lint clean."""

import pytest

from edgeforge.hw.network.design import NetworkDesign
from edgeforge.schemes.network import random_artifact
from simulators import rtl_verify

from network_helpers import (PECAN_MLP, PECAN_REF, PECAN_REF_MIDDLE, SMALL_PECAN,
                             digits_test_images, edge_images, random_network_design)

#: Foldings of SMALL_PECAN ((groups, prototypes) a cycle per layer; groups 9, 9, 2, 1):
#: the middle one in the default tier (a Verilator build is 10-60 s here), all three slow.
SMALL_FOLDINGS = [pytest.param("folded", marks=pytest.mark.slow),
                  [(3, 2), (9, 4), (1, 8), (1, 2)],
                  pytest.param("parallel", marks=pytest.mark.slow)]


@pytest.fixture(scope="module")
def small():
    return random_artifact(SMALL_PECAN, seed=7)


@pytest.fixture(scope="module")
def pecan_ref():
    return random_artifact(PECAN_REF, seed=7)


_verify = rtl_verify      # on --simulator's choice when given


@pytest.mark.parametrize("folding", SMALL_FOLDINGS)
def test_small_network_at_three_foldings(small, folding):
    design = NetworkDesign(small, folding=folding, logits=True)
    xs = design.test_inputs(seed=1)[:5] + list(digits_test_images()[:2])
    result = _verify(design, xs)
    assert result.measurements["stream/src=none/sink=none"]["out_transfers"] == len(xs)


def test_pecan_mlp_eight_pixels_a_beat_on_icarus():
    design = NetworkDesign(random_artifact(PECAN_MLP, seed=4), folding="parallel",
                           pixels_per_beat=8, logits=True)
    assert design.cycle_model().cycles_per_input == 8
    _verify(design, design.test_inputs(seed=4), simulator="icarus")


@pytest.mark.parametrize("kwargs", [{"folding": "parallel"},
                                    {"folding": PECAN_REF_MIDDLE, "logits": True},
                                    pytest.param({"folding": "folded"}, marks=pytest.mark.slow),
                                    pytest.param({"folding": PECAN_REF_MIDDLE, "layer": 3},
                                                 marks=pytest.mark.slow)])
def test_configs_lint_clean(pecan_ref, tmp_path, kwargs):
    from edgeforge.sim.lint import lint_verilog
    lint = lint_verilog(NetworkDesign(pecan_ref, **kwargs).write_verilog(tmp_path).verilog)
    assert lint.ok, lint.findings


def _random_case(seed, transforms=("pecan-d",)):
    design = random_network_design(seed, transforms)
    _verify(design, design.test_inputs(seed=seed))


@pytest.mark.slow
@pytest.mark.parametrize("seed, transforms", [(s, ("pecan-d",)) for s in (1, 4, *range(30, 36))]
                         + [(s, ("pecan-d", "dense")) for s in range(40, 44)])
def test_random_networks_sweep(seed, transforms):
    _random_case(seed, transforms)


@pytest.mark.slow
def test_pecan_ref_parallel_on_digits_images(pecan_ref):
    design = NetworkDesign(pecan_ref, folding="parallel", logits=True)
    xs = design.test_inputs() + list(digits_test_images()[:16])
    _verify(design, xs)
    assert design.cycle_model().cycles_per_input == 64


@pytest.mark.slow
def test_pecan_ref_middle_and_folded(pecan_ref):
    design = NetworkDesign(pecan_ref, folding=PECAN_REF_MIDDLE, logits=True)
    _verify(design, design.test_inputs(seed=2))
    assert design.cycle_model().cycles_per_input == 64 * 3 * 2
    design = NetworkDesign(pecan_ref, folding="folded", logits=True)
    _verify(design, edge_images((1, 8, 8), 1, seed=3))
    assert design.cycle_model().cycles_per_input == 64 * 9 * 8
