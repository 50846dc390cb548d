"""bench/network_widths: the shipped results are verified, narrower products cost fewer cells,
and the folding estimate's LUT4 model matches the LUT4-only rows it was fitted to."""

import json

import pytest

from edgeforge.bench.harness import RESULTS
from edgeforge.bench.network_widths import WIDTHS, config, render
from edgeforge.hw.network.plan import LANE_LUT4
from edgeforge.schemes.network import parse_network


@pytest.fixture(scope="module")
def results():
    return json.loads((RESULTS / "network_widths.json").read_text())


def test_every_width_verified_and_rendered(results):
    got = [(r["widths"]["weight_bits"], r["widths"]["act_bits"]) for r in results["records"]]
    assert got == list(WIDTHS)
    assert all(r["verify"]["passed"] for r in results["records"])
    assert (RESULTS / "network_widths.md").read_text() == render(results)
    for w, a in WIDTHS:
        parse_network(config(w, a))


def test_narrow_products_cost_fewer_cells(results):
    cells = {(r["widths"]["weight_bits"], r["widths"]["act_bits"]):
             sum(r["cost"]["generic"]["resources"].values()) for r in results["records"]}
    equal = [cells[(b, b)] for b in (8, 6, 4, 3, 2)]
    assert equal == sorted(equal, reverse=True)
    assert cells[(8, 8)] > cells[(4, 8)] > cells[(2, 8)]


def test_lane_model_fits_the_lut_only_rows(results):
    c0, c1, c2 = LANE_LUT4
    for r in results["records"]:
        ice = r["cost"]["ice40"]["resources"]
        if ice.get("dsp", 0):
            continue                                   # products in SB_MAC16: not LUT4
        w, a, lanes = (r["widths"][k] for k in ("weight_bits", "act_bits", "lanes"))
        assert c0 + c1 * w * a + c2 * (w + a) == pytest.approx(ice["lut4"] / lanes, abs=0.5)
