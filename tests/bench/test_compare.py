"""edgeforge compare: spec parsing, rows measured through the harness, failures kept, cache,
renderers and the Pareto front."""

import csv
import io

import pytest

from edgeforge.artifact import save
from edgeforge.bench import compare
from edgeforge.bench.compare import SpecError, parse_spec, pareto
from edgeforge.schemes.network import random_artifact

from network_helpers import SMALL_REF


@pytest.mark.parametrize("text, message", [
    ("row = 1", r"row: expected at least one \[\[row\]\], got 1"),
    ("title = 'x'", r"row: expected at least one \[\[row\]\], got None"),
    ("targets = ['vivado']\n[[row]]\nlabel='a'\nartifact='b'",
     r"targets: expected a list of distinct targets from \['generic', 'ice40', 'ecp5'\], "
     r"got \['vivado'\]"),
    ("[[row]]\nlabel=''\nartifact='b'", r"row\[0\]\.label: expected a non-empty string"),
    ("[[row]]\nlabel='a'\nartifact='b'\n[[row]]\nlabel='a'\nartifact='c'",
     r"row\[1\]\.label: 'a' is already a row's label"),
    ("[[row]]\nlabel='a'\nartifact='b'\noptions=3", r"row\[0\]\.options: expected a table"),
    ("[[row]]\nlabel='a'\nartifact='b'\nspeed=3", r"row\[0\]: unknown field 'speed'"),
    ("[[row", r"not TOML"),
    ("[[row]]\nlabel='a'\nartifact='b'\nhardware='no'",
     r"row\[0\]\.hardware: expected true or false, got 'no'"),
    ("[[row]]\nlabel='a'\nartifact='b'\nhardware=false\noptions={folding='folded'}",
     r"row\[0\]: a row with hardware = false has no design"),
])
def test_bad_specs_are_refused_naming_the_field(text, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(text, "s.toml")


def test_the_default_spec_parses_and_names_shipped_artifacts():
    spec = compare.load_spec(None)
    shipped = [r for r in spec.rows if r.artifact.startswith("shipped:")]
    assert shipped and all(compare.resolve_artifact(r.artifact).is_file() for r in shipped)
    # Only a row without hardware may name a user's import (the authors' MuLUT tables).
    assert all(not r.hardware for r in spec.rows if r not in shipped)
    with pytest.raises(SpecError, match=r"unknown shipped artifact 'nope'; known: .*digits-ref"):
        compare.resolve_artifact("shipped:nope")


def test_pareto_front():
    # (cost, quality): (2, 0.9) is beaten by (1, 0.95); equal points both stay.
    pts = [(1, 0.95), (2, 0.9), (3, 0.99), (3, 0.99), (4, 0.5)]
    assert pareto(pts) == [0, 2, 3]


def _small_spec(tmp_path, rows) -> str:
    """A spec of generic rows ``(label, folding as TOML)`` of one small random network."""
    path = save(random_artifact(SMALL_REF, seed=3), tmp_path / "small.npz")
    return 'title = "small"\ntargets = ["generic"]\n' + "".join(
        f'[[row]]\nlabel = "{label}"\nartifact = "{path}"\noptions = {{ folding = {folding} }}\n'
        for label, folding in rows)


def test_rows_measured_failures_kept_and_a_rerun_is_cached(tmp_path, monkeypatch):
    spec = parse_spec(_small_spec(tmp_path, [("small folded", '"folded"'),
                                             ("small bad", "[[3, 1]]")]))
    cache, designs = tmp_path / "cache", tmp_path / "designs"
    report = compare.run(spec, progress=False, cache=cache, design_dir=lambda d: designs)
    good, bad = report["records"]
    assert (designs / good["design"] / "reports" / "generic.json").is_file()
    assert good["verify"]["cycles_measured"] == good["verify"]["cycles_predicted"]
    assert good["cost"]["generic"]["resources"]["gates"] > 0
    assert good["metric"] is None                      # random integers: no accuracy
    assert bad["error"].startswith("ValueError: folding must list one folding")
    rows = compare.table_rows(report)
    assert rows[0]["multiplies per output"] == sum(
        o["count"] for o in good["performance"]["operations"] if o["op"] == "mul")
    assert rows[0]["est. pJ per output"] == good["energy"]["pj"]["total"]
    table = list(csv.DictReader(io.StringIO(compare.render_csv(report))))
    assert [r["label"] for r in table] == ["small folded", "small bad"]
    md = compare.render_markdown(report)
    assert "| small bad |" in md and "folding must list one folding" in md
    written = compare.publish(report, tmp_path / "out")
    assert all(p.is_file() for p in written)
    # The second run reads the cached record: nothing is measured again.
    monkeypatch.setattr(compare, "measure", lambda *a, **k: pytest.fail("measured again"))
    again = compare.run(spec, progress=False, cache=cache)
    assert again["records"][0]["design_hash"] == good["design_hash"]
    monkeypatch.undo()
    # A new cache over the same design folder (the demo's reuse of its steps' designs):
    # verified again, but the synthesis results are read back, no tool runs.
    from edgeforge.bench import synth
    monkeypatch.setattr(synth, "_run_tool", lambda *a, **k: pytest.fail("synthesised again"))
    fresh = compare.run(spec, progress=False, cache=tmp_path / "cache2", design_dir=designs)
    assert fresh["records"][0]["cost"] == good["cost"]


def test_group_ratios_are_to_the_first_row():
    rows = [{"label": "a", "group": "g", "ice40 LUT4": 100, "est. pJ per output": 10.0},
            {"label": "b", "group": "g", "ice40 LUT4": 50, "est. pJ per output": 20.0},
            {"label": "c", "group": "h", "ice40 LUT4": 5},
            {"label": "d", "group": "g", "error": "x"}]
    ratios = compare.group_ratios(rows)
    assert list(ratios) == ["g"]                       # h has one row; d failed
    a, b = ratios["g"]
    assert (a["ice40 LUT4"], b["ice40 LUT4"], b["est. pJ per output"]) == (1.0, 0.5, 2.0)
    assert b["ecp5 DSP"] is None


def test_only_measures_the_matching_rows_and_cached_measures_none(tmp_path, capsys):
    spec = tmp_path / "two.toml"
    spec.write_text(_small_spec(tmp_path, [("Small folded", '"folded"'),
                                           ("small balanced", '"balanced"')]))
    out = tmp_path / "out"
    args = ["--out", str(out), str(spec)]
    assert compare.main(["--only", "nothing*", *args]) == 2
    assert "--only: no row's label matches ['nothing*']" in capsys.readouterr().out
    assert not out.exists()
    cache = tmp_path / "cache"
    report = compare.run(compare.load_spec(spec), progress=False, cache=cache,
                         measured=compare.row_filter(["small f*"]))
    folded, balanced = report["records"]
    assert "error" not in folded and folded["verify"]["cycles_measured"] > 0
    assert balanced["error"] == compare.NOT_MEASURED
    # Nothing is measured with --cached: the folded row comes from the cache.
    cached = compare.run(compare.load_spec(spec), progress=False, cache=cache,
                         measured=lambda row: False)
    assert cached["records"][0] == folded and cached["records"][1]["error"] == compare.NOT_MEASURED
    assert "not measured yet" in compare.render_markdown(cached)


def test_a_row_without_hardware_has_its_metric_and_storage_only(tmp_path):
    spec = parse_spec('[[row]]\nlabel = "golden"\nartifact = "shipped:digits-mlp"\n'
                      'hardware = false\n')
    cache = tmp_path / "cache"
    (record,) = compare.run(spec, progress=False, cache=cache)["records"]
    assert record["metric"]["name"] == "accuracy" and 0 <= record["metric"]["value"] <= 1
    assert record["storage_bytes"] > 0 and "performance" not in record and "cost" not in record
    (row,) = compare.table_rows({"records": [record]})
    assert row["metric value"] == record["metric"]["value"] and "cycles per output" not in row
    assert "| golden | - | network | accuracy |" in "\n".join(compare.markdown_table([row]))
    # Cached by the artifact's hash: --cached finds it.
    again = compare.run(spec, progress=False, cache=cache, measured=lambda r: False)
    assert again["records"] == [record]


def test_quick_measures_every_row_on_generic_synthesis_only(monkeypatch):
    spec = compare.load_spec(None)
    assert any(t != "generic" for r in spec.rows for t in r.targets)
    seen = []
    monkeypatch.setattr(compare, "measure_row",
                        lambda row, **k: seen.append(row.targets) or {"label": row.label})
    compare.run(spec, quick=True, progress=False, cache=None)
    assert seen and all(t == ("generic",) for t in seen)
