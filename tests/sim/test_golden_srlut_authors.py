"""The golden model against the PNGs the authors' repositories ship, pixel for pixel.

Skips unless the repositories are mirrored locally (``tests/srlut_helpers.py``):
their tables and images are read from the mirror at test time, never copied
here. SR-LUT's outputs need ``simplex="authors"`` (its test code's misordered
branch); ``"fixed"`` differs on a few percent of samples by a few levels.
MuLUT's own code is the fixed rule, so both modes reproduce it.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgeforge.schemes.srlut import SRLUTConfig
from edgeforge.sim.golden import srlut as golden

from srlut_helpers import MULUT_MIRROR, SET5, SRLUT_MIRROR, mirror_npy, mirror_png


def _same_region(out: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # The test scripts crop or zero-pad the output to the ground truth's size.
    h, w = min(out.shape[0], ref.shape[0]), min(out.shape[1], ref.shape[1])
    return out[:h, :w], ref[:h, :w]


@pytest.fixture(scope="module")
def srlut_s():
    table = mirror_npy(SRLUT_MIRROR, "3_Test_using_LUT/Model_S_x4_4bit_int8.npy")
    return {"s0_s": np.ascontiguousarray(table[:, 0])}, SRLUTConfig("s", (4,), 4)


@pytest.mark.parametrize("name", SET5)
def test_srlut_s_authors_mode_equals_the_shipped_png(srlut_s, name):
    lr = mirror_png(SRLUT_MIRROR, f"3_Test_using_LUT/test/LR_x4/{name}.png")
    ref = mirror_png(SRLUT_MIRROR, f"3_Test_using_LUT/output_S_x4_4bit/{name}_GT_LUT_interp_4bit.png")
    out, ref = _same_region(golden.upscale(srlut_s, lr, simplex="authors"), ref)
    np.testing.assert_array_equal(out, ref)
    fixed, _ = _same_region(golden.upscale(srlut_s, lr, simplex="fixed"), ref)
    changed = np.abs(fixed.astype(int) - ref)
    assert 0.005 < (changed > 0).mean() < 0.05 and changed.max() <= 8


def test_mulut_sdy_equals_the_shipped_pngs():
    config = SRLUTConfig("sdy", (1, 4), 4)
    tables = {}
    for stage, r in enumerate(config.stages):
        for k in "sdy":
            t = mirror_npy(MULUT_MIRROR, f"models/sr_x2sdy/LUT_ft_x4_4bit_int8_s{stage + 1}_{k}.npy")
            tables[f"s{stage}_{k}"] = t.reshape(config.entries, r, r)
    for name in SET5:
        lr = mirror_png(MULUT_MIRROR, f"data/SRBenchmark/Set5/LR_bicubic/X4/{name}.png")
        ref = mirror_png(MULUT_MIRROR, f"results/sr_x2sdy/Set5/X4/{name}_LUT_ft_4bit.png")
        for simplex in golden.SIMPLEX:
            out, ref_ = _same_region(golden.upscale((tables, config), lr, simplex=simplex), ref)
            np.testing.assert_array_equal(out, ref_, err_msg=f"{name} {simplex}")
