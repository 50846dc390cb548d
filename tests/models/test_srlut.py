"""SR-LUT model side: the network and its transfer, a short training run, the importer, the CLI.

Tables in the authors' layouts are generated here (never theirs, which carry
no licence to copy); the released files themselves are imported in
:func:`test_released_tables_import` when the mirror is present.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeforge.artifact import load
from edgeforge.cli import main
from edgeforge.models.srlut.importer import import_srlut
from edgeforge.models.srlut.net import SRLUTNet
from edgeforge.models.srlut.train import TrainConfig, train
from edgeforge.models.srlut.transfer import transfer
from edgeforge.schemes.srlut import SRLUTConfig
from edgeforge.sim.golden import srlut as golden

from srlut_helpers import MULUT_MIRROR, SRLUT_MIRROR, extract


def test_network_has_the_papers_parameter_count():
    assert sum(p.numel() for p in SRLUTNet(SRLUTConfig("s", (4,))).parameters()) == 18_000


@pytest.mark.parametrize("kernels", ["s", "f"])
def test_transferred_table_reads_back_the_network_on_node_images(kernels):
    # Pixel values on the node grid (multiples of 16 below 255) need no interpolation: the
    # readout adds the four rotations' rounded entries, the network the unrounded ones.
    torch.manual_seed(0)
    config = SRLUTConfig(kernels, (2,), 4)
    net = SRLUTNet(config, nf=16)
    art = transfer(net)
    assert art.arrays[f"s0_{kernels}"].shape == (config.entries, 2, 2)
    img = (np.random.default_rng(1).integers(0, 16, (6, 7)) * 16).astype(np.uint8)
    with torch.no_grad():
        ref = net(torch.from_numpy(img).float()[None, None] / 255.0)[0, 0].numpy() * 255
    out = golden.upscale(art, img).astype(float)
    assert np.abs(out - np.clip(ref, 0, 255)).max() <= 2.5


def test_short_training_is_seeded_and_lowers_the_loss():
    pairs = [("flat", np.full((12, 12, 3), 90, np.uint8), np.full((24, 24, 3), 100, np.uint8))]
    config = TrainConfig(iterations=30, batch=2, patch=6, nf=8, lr=1e-2)
    model = SRLUTConfig("f", (2,))
    a, info = train(config, model, pairs=pairs, progress=False)
    b, _ = train(config, model, pairs=pairs, progress=False)
    np.testing.assert_array_equal(transfer(a).arrays["s0_f"], transfer(b).arrays["s0_f"])
    torch.manual_seed(config.seed)          # the weights the run started from
    start = SRLUTNet(model, nf=8)
    x = torch.full((1, 1, 6, 6), 90 / 255.0)
    with torch.no_grad():
        before = float(((start(x) - 100 / 255.0) ** 2).mean())
        after = float(((a(x) - 100 / 255.0) ** 2).mean())
    assert after < before and np.isfinite(info["final_loss"])


@pytest.mark.parametrize("field, value", [("iterations", 0), ("patch", 2), ("lr", 2.0)])
def test_train_config_refuses_bad_values(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig.{field}"):
        TrainConfig(**{field: value})


def _srlut_file(folder, kernels="f", r=2, bits=4, seed=0):
    config = SRLUTConfig(kernels, (r,), bits)
    table = np.random.default_rng(seed).integers(-128, 128, (config.entries, 1, r, r), np.int8)
    path = folder / f"Model_{kernels.upper()}_x{r}_{bits}bit_int8.npy"
    np.save(path, table)
    return path, table


def _mulut_folder(folder, scale=2, ft=True, stages=2):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    tables = {}
    for s in range(1, stages + 1):
        r = scale if s == stages else 1
        for k in "sdy":
            t = rng.integers(-127, 128, (17 ** 4, r * r), np.int8)
            np.save(folder / f"LUT{'_ft' if ft else ''}_x{scale}_4bit_int8_s{s}_{k}.npy", t)
            tables[f"s{s - 1}_{k}"] = t
    return tables


def test_srlut_file_imports_with_its_config(tmp_path):
    path, table = _srlut_file(tmp_path, "f", 2, 5)
    art = import_srlut(path)
    assert art.config == {"kernels": "f", "stages": [2], "interval_bits": 5}
    np.testing.assert_array_equal(art.arrays["s0_f"], table[:, 0])
    assert art.provenance == {"source": "imported", "layout": "SR-LUT", "files": [path.name]}
    assert import_srlut(tmp_path).content_hash == art.content_hash     # folder of one model


def test_mulut_folder_imports_stage_factors_from_the_scale(tmp_path):
    tables = _mulut_folder(tmp_path / "m")
    art = import_srlut(tmp_path / "m")
    assert art.config == {"kernels": "sdy", "stages": [1, 2], "interval_bits": 4}
    np.testing.assert_array_equal(art.arrays["s1_y"].reshape(-1, 4), tables["s1_y"])
    assert art.arrays["s0_s"].shape == (83521, 1, 1)


def test_importer_errors_name_the_file(tmp_path):
    with pytest.raises(ValueError, match="does not follow SR-LUT's layout"):
        np.save(tmp_path / "table.npy", np.zeros(3, np.int8))
        import_srlut(tmp_path / "table.npy")
    bad = tmp_path / "Model_S_x4_4bit_int8.npy"
    np.save(bad, np.zeros((10, 1, 4, 4), np.int8))
    with pytest.raises(ValueError, match="Model_S_x4_4bit_int8.npy' must hold 83,521 rows"):
        import_srlut(bad)
    np.save(bad, np.zeros((83521, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="must hold int8 integers"):
        import_srlut(bad)
    _srlut_file(tmp_path, "f")
    with pytest.raises(ValueError, match="holds 2 SR-LUT models"):
        import_srlut(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        import_srlut(tmp_path / "nope")
    m = tmp_path / "m"
    _mulut_folder(m)
    (m / "LUT_ft_x2_4bit_int8_s2_y.npy").unlink()
    with pytest.raises(ValueError, match="missing for stage 2, kernel 'y'"):
        import_srlut(m)
    _mulut_folder(m, ft=False)
    with pytest.raises(ValueError, match="both fine-tuned"):
        import_srlut(m)
    assert import_srlut(m, fine_tuned=False).config["stages"] == [1, 2]


def test_cli_import_evaluate_and_cost(tmp_path, capsys):
    path, _ = _srlut_file(tmp_path, "f", 4, 4)
    out = tmp_path / "f.npz"
    assert main(["import-srlut", str(path), "-o", str(out)]) == 0
    assert load(out).scheme == "srlut"
    assert main(["evaluate", str(out), "--simplex", "authors"]) == 0
    text = capsys.readouterr().out
    assert "SR-LUT-F x4 vs bicubic (authors simplex readout)" in text and "mean" in text
    assert main(["evaluate", str(out), "--arithmetic", "float32"]) == 2
    assert "--arithmetic: a HKLUT option" in capsys.readouterr().err


def test_released_tables_import(tmp_path):
    folder = extract(SRLUT_MIRROR, ["3_Test_using_LUT/Model_S_x4_4bit_int8.npy",
                                    "3_Test_using_LUT/Model_F_x4_4bit_int8.npy",
                                    "3_Test_using_LUT/Model_V_x4_0bit_int8.npy"], tmp_path / "sr")
    sizes = {k: sum(import_srlut(folder / f"Model_{k}_x4_{b}bit_int8.npy").storage_bytes()
                    .values()) for k, b in (("S", 4), ("F", 4), ("V", 0))}
    assert sizes == {"S": 1_336_336, "F": 78_608, "V": 1_056_784}
    names = [f"models/sr_x2sdy/LUT_ft_x4_4bit_int8_s{s}_{k}.npy" for s in (1, 2) for k in "sdy"]
    art = import_srlut(extract(MULUT_MIRROR, names, tmp_path / "sr_x2sdy"))
    assert art.config["stages"] == [1, 4] and sum(art.storage_bytes().values()) == 4_259_571


def test_cli_train_writes_a_validated_artifact(tmp_path, capsys):
    out = tmp_path / "f.npz"
    assert main(["train", "--scheme", "srlut", "--kernels", "f", "--stages", "2",
                 "--iterations", "3", "--batch", "2", "--patch", "6", "--nf", "8",
                 "--no-progress", "-o", str(out)]) == 0
    art = load(out)
    assert art.config == {"kernels": "f", "stages": [2], "interval_bits": 4}
    assert art.provenance["iterations"] == 3 and "--kernels f" in art.provenance["command"]
    assert main(["train", "--scheme", "srlut", "--msb-kernels", "hd", "-o", str(out)]) == 2
    assert "--msb-kernels: a HKLUT option" in capsys.readouterr().err


def test_task_metric_is_the_golden_psnr(tmp_path):
    from edgeforge.models.srlut.evaluate import evaluate
    from edgeforge.schemes.srlut_flows import task_metric
    path, _ = _srlut_file(tmp_path, "f", 4, 4)
    art = import_srlut(path)
    metric = task_metric(art)
    assert metric["name"] == "psnr_db" and metric["value"] == evaluate(art).mean.psnr
    assert metric["bicubic"] > metric["value"]          # random tables lose to bicubic
