"""The SR-LUT tables that ship (models/srlut/pretrained): valid artifacts of the config their
README states, trained here (no authors' tables), and better than bicubic on the test photos
by the margin the README's measured figures leave."""

import pytest

from edgeforge import load
from edgeforge.bench.compare import SHIPPED, resolve_artifact
from edgeforge.models.srlut.evaluate import evaluate

SHIPPED_SRLUT = {"srlut-f-x4": "f", "srlut-s-x4": "s"}


@pytest.mark.parametrize("name", sorted(SHIPPED_SRLUT))
def test_shipped_srlut_tables_beat_bicubic(name):
    assert name in SHIPPED
    art = load(resolve_artifact(f"shipped:{name}"))
    assert art.config == {"kernels": SHIPPED_SRLUT[name], "stages": [4], "interval_bits": 4}
    assert art.provenance["source"] == "edgeforge-train"
    m = evaluate(art).mean
    assert m.psnr > m.bicubic_psnr + 0.5 and m.ssim > m.bicubic_ssim
