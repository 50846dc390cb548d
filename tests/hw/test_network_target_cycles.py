"""Automatic folding: the cheapest folding (by the LUT4 estimate) that meets a target of cycles
an image, the refusal of a target no folding meets, and ``generate --target-cycles``."""

import pytest

from edgeforge import save
from edgeforge.cli import main
from edgeforge.hw.network.design import NetworkDesign
from edgeforge.hw.network.plan import (balanced_folding, fastest_interval, layer_lut4,
                                       target_folding, transform_size)
from edgeforge.schemes.network import derive_widths, parse_network, random_artifact

from network_helpers import DIGITS_REF


@pytest.fixture(scope="module")
def digits_ref():
    return random_artifact(DIGITS_REF, seed=3)


def _pairs(layer):
    m, n = transform_size(layer)
    return [(pe, simd) for pe in range(1, m + 1) if m % pe == 0
            for simd in range(1, n + 1) if n % simd == 0]


@pytest.mark.parametrize("target", [64, 100, 333, 1000, 5000, 10 ** 6])
def test_target_is_met_at_the_least_estimated_cost(digits_ref, target):
    design = NetworkDesign(digits_ref, target_cycles=target)
    assert design.cycle_model().cycles_per_input <= target
    network, widths = design.network, design.widths
    parallel = NetworkDesign(digits_ref, folding="parallel")
    vectors = {st.layer: st.inp.beats for st in parallel.plan.stages if st.kind == "core"}
    dense = [l for l in network.layers if l.transform is not None]
    for layer, (pe, simd) in zip(dense, design.folding):
        m, n = transform_size(layer)
        # No folding of this layer that also meets the target is estimated cheaper.
        ok = [p for p in _pairs(layer) if vectors[layer.index] * (m // p[0]) * (n // p[1])
              <= target]
        assert (pe, simd) in ok
        assert layer_lut4(layer, widths, pe, simd) == min(layer_lut4(layer, widths, *p)
                                                          for p in ok)
    assert design.config["target_cycles"] == target


def test_a_looser_target_never_costs_more(digits_ref):
    network = parse_network(digits_ref.config)
    widths = derive_widths(network, digits_ref.arrays)
    dense = [l for l in network.layers if l.transform is not None]
    costs = [sum(layer_lut4(l, widths, *f) for l, f in
                 zip(dense, target_folding(network, widths, t))) for t in (64, 128, 512, 4096)]
    assert costs == sorted(costs, reverse=True) and costs[0] > costs[-1]


def test_finn_rule_at_the_fastest_target_is_the_balanced_folding(digits_ref):
    network = parse_network(digits_ref.config)
    widths = derive_widths(network, digits_ref.arrays)
    fastest = fastest_interval(network, widths)
    assert target_folding(network, widths, fastest, estimate="macs") == \
        balanced_folding(network, widths)


def test_refusals(digits_ref):
    with pytest.raises(ValueError, match=r"^target_cycles must be at least 64, the fastest this "
                       r"network goes \(folding 'parallel' at 1 pixel\(s\) a beat\), got 63$"):
        NetworkDesign(digits_ref, target_cycles=63)
    with pytest.raises(ValueError, match=r"^give folding or target_cycles, not both"):
        NetworkDesign(digits_ref, folding="parallel", target_cycles=100)
    with pytest.raises(ValueError, match=r"^target_cycles must be a positive integer, got 0$"):
        NetworkDesign(digits_ref, target_cycles=0)


def test_generate_target_cycles_through_the_cli(digits_ref, tmp_path, capsys):
    art = save(digits_ref, tmp_path / "dref.npz")
    assert main(["generate", str(art), "--target-cycles", "500", "-o", str(tmp_path / "rtl")]) == 0
    assert any(p.suffix == ".v" for p in (tmp_path / "rtl").iterdir())
    assert main(["generate", str(art), "--target-cycles", "10"]) == 2
    assert "the fastest this network goes" in capsys.readouterr().err
