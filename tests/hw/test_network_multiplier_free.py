"""PECAN-D is multiplier-free on the netlist: yosys finds no $mul / $macc after `proc; opt`
on the emitted Verilog of a small digits-ref-shaped PECAN-D network, and no DSP multiplier
(MULT18X18D on ECP5, SB_MAC16 on iCE40) after synthesis; the dense network of the same shape
has them all (so the check can fail)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from edgeforge.bench.synth import MULTIPLIER_CELLS, netlist_cells
from edgeforge.hw.network.design import NetworkDesign
from edgeforge.schemes.network import random_artifact

from network_helpers import SMALL_PECAN, SMALL_REF

def multipliers(config, tmp_path, name):
    design = NetworkDesign(random_artifact(config, seed=3), folding="folded")
    files = design.write_verilog(tmp_path / name)

    def count(flow):
        cells = netlist_cells(files.verilog, design.name, flow, out_dir=tmp_path / name / flow)
        return flow, {c: cells[c] for c in MULTIPLIER_CELLS[flow] if cells.get(c)}

    # Three yosys processes at once: the flows are independent.
    with ThreadPoolExecutor(3) as pool:
        return dict(pool.map(count, MULTIPLIER_CELLS))


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mulfree")
    return {"pecan": multipliers(SMALL_PECAN, tmp, "pecan"),
            "dense": multipliers(SMALL_REF, tmp, "dense")}


def test_pecan_d_network_has_no_multiplier(found):
    assert found["pecan"] == {"rtl": {}, "ecp5": {}, "ice40": {}}


def test_dense_network_has_them_so_the_check_can_fail(found):
    # Folded: one MAC a layer, four layers.
    assert found["dense"]["rtl"].get("$mul", 0) + found["dense"]["rtl"].get("$macc", 0) >= 4
    assert found["dense"]["ecp5"].get("MULT18X18D", 0) >= 1
    assert found["dense"]["ice40"].get("SB_MAC16", 0) >= 1


def test_unknown_flow_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"^flow must be one of \['ecp5', 'ice40', 'rtl'\], "
                                         r"got 'vivado'$"):
        netlist_cells(tmp_path / "x.v", "top", "vivado", out_dir=tmp_path)
