"""The bench harness on the smoke design: verify and cost into a record, rendered from its file."""

import math

import pytest

from edgeforge.bench.harness import MeasureError, measure, write_json
from edgeforge.bench.report import load_json, render_runs_markdown, render_synth_markdown
from edgeforge.hw.smoke import SmokeDesign
from edgeforge.schemes.smoke import default_artifact
from edgeforge.sim.runner import simulator_missing_reason

COLUMNS = [("design", lambda r: r["design"])]


@pytest.fixture(scope="module")
def record():
    if simulator_missing_reason("verilator"):
        pytest.skip(simulator_missing_reason("verilator"))
    design = SmokeDesign(default_artifact(addr_bits=5, data_bits=8))
    return measure(design, design.test_inputs(seed=2), command="pytest", seed=2,
                   targets=("generic",), progress=False)


def test_record_holds_model_run_and_cost(record, tmp_path):
    v, p = record["verify"], record["performance"]
    beats = 32 + 7 + 500                     # the smoke design's test inputs, one a beat
    assert v["cycles_measured"] == v["cycles_predicted"] == beats + 1
    assert v["output_starts_measured"] == v["output_starts_predicted"] == [1, 33, 40]
    assert v["cycles_with_backpressure"] > beats
    assert p["traffic"] == [{"memory": "rom table", "word_bits": 8, "reads": 1, "writes": 0,
                             "array_bits": 8 << 5}]
    assert record["cost"]["generic"]["memory_bits"] == 32 * 8


def test_renderers_read_the_written_file(record, tmp_path):
    path = write_json(tmp_path / "r.json", {"records": [record]})
    records = load_json(path)["records"]
    runs = render_runs_markdown(records, COLUMNS)
    assert runs[0].startswith("| design | cycles measured | predicted | error % | cycles per "
                              "address (model, steady) |")
    assert runs[2].startswith(f"| {record['design']} | 540 | 540 | 0.0 | 1 | 1 |")
    synth = render_synth_markdown(records, "generic", COLUMNS)
    assert synth[2].startswith(f"| {record['design']} |") and "| 256 |" in synth[2]
    assert render_synth_markdown(records, "ecp5", COLUMNS)[2:] == []


def test_results_are_strict_json(tmp_path):
    with pytest.raises(ValueError, match=r"x\.json: psnr is -inf, which JSON cannot hold"):
        write_json(tmp_path / "x.json", {"psnr": -math.inf})
    assert not (tmp_path / "x.json").exists()


def test_a_design_off_its_model_is_an_error(optimistic_smoke):
    if simulator_missing_reason("verilator"):
        pytest.skip(simulator_missing_reason("verilator"))
    design = optimistic_smoke(default_artifact(addr_bits=5, data_bits=8))
    with pytest.raises(MeasureError, match=r"cycles: measured \d+, cycle model predicts"):
        measure(design, design.test_inputs(seed=2), command="pytest", progress=False)


@pytest.mark.parametrize("lut4, multipliers, tried, fits", [
    (1000, 4, [("ecp5-25f", True)], True),
    # Too many LUT4 for the 25F and 45F: the counts send it to the 85F straight away.
    (60000, 4, [("ecp5-25f", True), ("ecp5-85f", True)], True),
    # More DSPs than any part: again with multipliers in LUTs, from the smallest part.
    (3000, 231, [("ecp5-25f", True), ("ecp5-25f", False)], True),
    # Too big in LUT4 for every part: no retry without DSPs (it would not help).
    (200000, 4, [("ecp5-25f", True)], False),
])
def test_ecp5_costs_go_to_the_smallest_part_that_fits(monkeypatch, lut4, multipliers, tried,
                                                      fits):
    from edgeforge.bench import harness
    from edgeforge.bench.devices import get_device
    calls = []

    def fake(design, targets, *, devices=None, dsp=True, progress=True):
        part = devices["ecp5"]
        calls.append((part, dsp))
        need = {"lut4": lut4, "dsp": multipliers if dsp else 0, "bram": 1}
        have = get_device(part).resources
        over = {k: [n, have[k]] for k, n in need.items() if n > have.get(k, 0)}
        return {"ecp5": {"device": part, "resources": need, "fits": not over, "over": over,
                         "notes": [], "dsp": dsp}}

    monkeypatch.setattr(harness, "cost_records", fake)
    cost = harness.cost_smallest(object(), ("ecp5",), progress=False)
    assert calls == tried and cost["ecp5"]["fits"] is fits
    if not fits:
        assert "fits no ECP5 part: the largest, ecp5-85f, is short of lut4" in cost["ecp5"]["notes"][0]


def test_paired_margin_is_the_mean_difference_plus_the_std_of_the_pairs():
    from edgeforge.bench.harness import paired_margin
    ref = {0: 0.99, 1: 0.98, 2: 0.985}
    var = {2: 0.98, 0: 0.985, 1: 0.97}                   # pairs by seed, not by order
    m = paired_margin(ref, var, 0.01)
    diffs = [0.005, 0.01, 0.005]
    assert m["seeds"] == [0, 1, 2]
    assert m["difference"] == pytest.approx(sum(diffs) / 3, abs=1e-6)
    sd = math.sqrt(sum((d - sum(diffs) / 3) ** 2 for d in diffs) / 2)
    assert m["std"] == pytest.approx(sd, abs=1e-6)
    assert m["bound"] == pytest.approx(m["difference"] + m["std"], abs=1e-6)
    assert m["met"] is True and m["margin"] == 0.01
    assert not paired_margin(ref, var, 0.009)["met"]
    # A variant ahead of the reference: a negative difference, met at any margin >= bound.
    ahead = paired_margin(var, ref, 0.0)
    assert ahead["difference"] < 0 and ahead["met"]
    # One seed: no spread to add.
    assert paired_margin({3: 0.9}, {3: 0.88}, 0.01) == {
        "seeds": [3], "margin": 0.01, "difference": 0.02, "std": 0.0, "bound": 0.02,
        "met": False, "std_unpaired": 0.0}


def test_paired_margin_refuses_unpaired_seeds():
    from edgeforge.bench.harness import paired_margin
    with pytest.raises(ValueError, match=r"^paired_margin needs the same seeds on both sides, "
                                         r"got \[0, 1\] and \[0\]$"):
        paired_margin({0: 1.0, 1: 1.0}, {0: 1.0}, 0.01)
    with pytest.raises(ValueError, match="same seeds"):
        paired_margin({}, {}, 0.01)


@pytest.mark.parametrize("text", ["0", "-3", "2.5", "x"])
def test_positive_int_names_the_text(text):
    import argparse
    from edgeforge.bench.harness import positive_int
    assert positive_int("12") == 12
    with pytest.raises(argparse.ArgumentTypeError, match=rf"^must be a positive integer, got "
                                                          rf"'{text}'$"):
        positive_int(text)


@pytest.mark.parametrize("text", ["0", "-0.5", "x", "nan"])
def test_positive_float_names_the_text(text):
    import argparse
    from edgeforge.bench.harness import positive_float
    assert positive_float("0.05") == 0.05
    with pytest.raises(argparse.ArgumentTypeError, match=rf"^must be a positive number, got "
                                                          rf"'{text}'$"):
        positive_float(text)


def test_check_variants_keeps_the_table_order_and_names_an_unknown_one():
    from edgeforge.bench.harness import check_variants
    table = {"a": 1, "b": 2, "c": 3}
    assert check_variants(["c", "dense", "a"], table) == ["a", "c"]
    assert check_variants(["ref"], table, always="ref") == []
    with pytest.raises(ValueError, match=r"^variant must be one of \['dense', 'a', 'b', 'c'\], "
                                         r"got 'd'$"):
        check_variants(["a", "d"], table)


def test_margin_text_states_the_bound_and_the_verdict():
    from edgeforge.bench.harness import margin_text, paired_margin
    met = margin_text(paired_margin({0: 0.99, 1: 0.98}, {0: 0.985, 1: 0.975}, 0.015))
    assert met.startswith("0.50 below, paired std 0.00: 0.50 <= 1.5: **met**")
    missed = margin_text(paired_margin({0: 0.99, 1: 0.98}, {0: 0.96, 1: 0.97}, 0.015))
    assert missed.startswith("2.00 below, paired std 1.41: 3.41 > 1.5: **not met**")
