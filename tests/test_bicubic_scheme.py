"""The bicubic scheme: config checks naming the field, the artifact round trip, the CLI."""

import pytest

import edgeforge
from edgeforge.artifact import ArtifactError, load, save
from edgeforge.cli import main
from edgeforge.schemes.bicubic import BicubicConfig, default_artifact


@pytest.mark.parametrize("config, message", [
    ({"scale": 5}, r"^config\.scale: expected one of \(2, 3, 4\), got 5$"),
    ({"scale": True}, r"^config\.scale: expected one of \(2, 3, 4\), got True$"),
    ({"coef_bits": 13}, r"^config\.coef_bits: expected an integer in 6\.\.12, got 13$"),
    ({"taps": 6}, r"^config\.taps: unknown bicubic config field; known: \['scale', 'coef_bits'\]$"),
])
def test_bad_config_names_the_field(config, message):
    with pytest.raises(ArtifactError, match=message):
        BicubicConfig.from_dict(config)


def test_widths_hold_every_tap_sum():
    w = BicubicConfig(4, 8).widths()
    assert (w.shift, w.coef_bits, w.column_bits) == (16, 9, 18)
    # A column sum spans 255 times a phase's negative and positive taps (-19 - 11, 186 + 100).
    assert w.column_range == (-255 * 30, 255 * 286)
    lo, hi = w.sum_range
    assert -(1 << (w.sum_bits - 1)) <= lo and hi + (1 << 15) < 1 << (w.sum_bits - 1)
    # One bit less would not hold the largest rounded sum.
    assert hi + (1 << 15) >= 1 << (w.sum_bits - 2)
    # x3's zero phase has a coefficient of 1.0 = 256: one bit more than F + 1.
    assert BicubicConfig(3, 8).widths().coef_bits == 10


def test_artifact_round_trip(tmp_path):
    art = default_artifact(4, 10)
    loaded = load(save(art, tmp_path / "b.npz"))
    assert loaded.config == {"scale": 4, "coef_bits": 10} and loaded.arrays == {}
    assert loaded.content_hash == art.content_hash
    assert loaded.content_hash != default_artifact(4, 8).content_hash


def test_generate_refuses_bad_options():
    art = default_artifact()
    with pytest.raises(ValueError, match=r"^width: the bicubic design needs a value"):
        edgeforge.generate(art, height=4)
    with pytest.raises(ValueError, match=r"^reads_per_table: not an option of the bicubic design"):
        edgeforge.generate(art, width=4, height=4, reads_per_table=(1, 1))


def test_cli_artifact_generate_and_foreign_option(tmp_path, capsys):
    path = tmp_path / "bicubic.npz"
    assert main(["bicubic-artifact", "-o", str(path), "--coef-bits", "9"]) == 0
    assert load(path).config == {"scale": 4, "coef_bits": 9}
    out = tmp_path / "rtl"
    assert main(["generate", str(path), "--width", "6", "--height", "4", "-o", str(out)]) == 0
    manifest = (next(out.glob("manifest.json"))).read_text()
    assert '"border": "replicate"' in manifest and '"multipliers": 12' in manifest
    capsys.readouterr()
    assert main(["generate", str(path), "--width", "6", "--height", "4",
                 "--reads-per-table", "1,1"]) == 2
    err = capsys.readouterr().err
    assert "--reads-per-table: a HKLUT option; the bicubic scheme takes" in err


def test_shipped_artifact_is_the_default_and_has_a_task_metric():
    from edgeforge.bench.compare import resolve_artifact
    from edgeforge.models.bicubic import SHIPPED
    from edgeforge.schemes.bicubic_flows import task_metric
    art = load(resolve_artifact("shipped:bicubic-x4"))
    assert resolve_artifact("shipped:bicubic-x4") == SHIPPED
    assert art.content_hash == default_artifact(4, 8).content_hash
    metric = task_metric(art)
    assert metric["name"] == "psnr_db"
    # The integer bicubic and Pillow's are within a tenth of a dB on the photos.
    assert 20 < metric["value"] < 40 and abs(metric["value"] - metric["bicubic"]) < 0.1


def test_cli_evaluate_writes_its_scores(tmp_path, capsys):
    from edgeforge.models.bicubic import SHIPPED
    assert main(["evaluate", str(SHIPPED), "-o", str(tmp_path / "eval")]) == 0
    import json
    scores = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert scores[-1]["name"] == "mean" and scores[-1]["max_diff_vs_float"] == 1
