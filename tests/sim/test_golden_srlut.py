"""SR-LUT / MuLUT golden model on generated tables: hand-checkable cases, properties, and a
per-pixel loop model written from the readout's definition.

:func:`slow_upscale` shares no code with the golden model: it works in the
original frame (each rotation's taps turned, out-of-range indices mirrored or
clamped there, as ``shared/notes/srlut.md`` derives), sorts with Python's
``sorted`` and rounds with :class:`fractions.Fraction`. The comparison with the
authors' own outputs is in ``test_golden_srlut_authors.py``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from edgeforge.artifact import Artifact, ArtifactError
from edgeforge.schemes.srlut import SRLUTConfig
from edgeforge.sim.golden import srlut as golden

from srlut_helpers import node_tables, random_tables

CONFIGS = [SRLUTConfig("s", (4,), 4), SRLUTConfig("s", (2,), 5), SRLUTConfig("f", (4,), 4),
           SRLUTConfig("f", (3,), 6), SRLUTConfig("v", (2,), 0), SRLUTConfig("sdy", (1, 2), 4),
           SRLUTConfig("sdy", (2, 1, 2), 6)]
IDS = [f"{c.kernels}-{'x'.join(map(str, c.stages))}-{c.interval_bits}b" for c in CONFIGS]


def _index(i: int, n: int, mode: str) -> int:
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    return -i if i < 0 else (2 * (n - 1) - i if i >= n else i)


def slow_upscale(tables, config: SRLUTConfig, plane: np.ndarray, simplex: str) -> np.ndarray:
    q, nodes = config.interval, config.nodes
    x = plane.astype(int)
    for stage, r in enumerate(config.stages):
        h, w = x.shape
        total = np.zeros((h * r, w * r), dtype=object)
        for kernel in config.kernel_list:
            table = tables[f"s{stage}_{kernel.name}"].astype(int)
            for k in range(4):
                taps = []
                for dy, dx in kernel.taps:
                    for _ in range(k):
                        dy, dx = dx, -dy
                    taps.append((dy, dx))
                for y in range(h):
                    for xx in range(w):
                        v = [x[_index(y + dy, h, config.padding), _index(xx + dx, w, config.padding)]
                             for dy, dx in taps]
                        msb = [a // q for a in v]
                        f = [a % q for a in v]
                        order = sorted(range(len(v)), key=lambda i: (-f[i], i))
                        if (simplex == "authors" and config.kernels == "s"
                                and f[2] > f[3] > f[0] > f[1]):
                            order = [2, 0, 3, 1]
                        fs = [f[i] for i in order]
                        weights = [q - fs[0]] + [fs[j] - fs[j + 1] for j in range(len(v) - 1)] \
                            + [fs[-1]]
                        block = np.zeros((r, r), dtype=object)
                        bits = list(msb)
                        for j, wt in enumerate(weights):
                            if j:
                                bits[order[j - 1]] += 1
                            row = 0
                            for b in bits:
                                row = row * nodes + b
                            block = block + wt * table[row]
                        for u in range(r):
                            for vv in range(r):
                                uu, vvv = u, vv
                                for _ in range(k):
                                    uu, vvv = vvv, r - 1 - uu
                                total[r * y + uu, r * xx + vvv] += block[u, vv]
        last = stage == len(config.stages) - 1
        kq = q * len(config.kernel_list)
        x = np.vectorize(lambda t: min(max(round(Fraction(t, kq) if last
                                                   else Fraction(t, 4 * kq) + 127), 0), 255))(total)
    return x.astype(np.uint8)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
@pytest.mark.parametrize("simplex", golden.SIMPLEX)
def test_golden_equals_loop_model_on_random_tables(config, simplex):
    rng = np.random.default_rng(7)
    tables = random_tables(config, seed=3)
    plane = rng.integers(0, 256, (5, 6), dtype=np.uint8)
    np.testing.assert_array_equal(golden.upscale((tables, config), plane, simplex=simplex),
                                  slow_upscale(tables, config, plane, simplex))


def test_constant_table_gives_constant_image():
    config = SRLUTConfig("s", (4,), 4)
    plane = np.random.default_rng(0).integers(0, 256, (9, 8), dtype=np.uint8)
    for value, expected in ((20, 80), (-3, 0), (100, 255)):   # T = 4 * 16 * value, out = 4 value
        tables = node_tables(config, lambda n, v=value: np.full(n.shape[1], v))
        out = golden.upscale((tables, config), plane)
        assert out.shape == (36, 32) and (out == expected).all()


def test_affine_table_reads_the_pixel_and_rounds_half_to_even():
    # Entry = node index of input a: the simplex reproduces a affine table exactly, so every
    # rotation reads S = a = the anchor pixel itself, T = 4 I and out = RHE(I / 4).
    config = SRLUTConfig("s", (2,), 4)
    plane = np.array([[2, 6, 10, 14], [1, 3, 5, 7], [255, 254, 128, 0]], np.uint8)
    tables = node_tables(config, lambda n: n[0])
    out = golden.upscale((tables, config), plane)
    expected = np.array([[0, 2, 2, 4], [0, 1, 1, 2], [64, 64, 32, 0]])   # 0.5->0, 1.5->2, 2.5->2
    np.testing.assert_array_equal(out, np.kron(expected, np.ones((2, 2), int)))


def test_affine_table_of_tap_b_sums_the_four_neighbours_with_reflect_padding():
    # Entry = node of input b: rotation k reads b at (0,1), (1,0), (0,-1), (-1,0), reflected
    # at the border (-1 -> 1, n -> n-2); T/16 is the sum of the four neighbours / 4 ... times 4.
    config = SRLUTConfig("s", (1,), 4)
    plane = np.random.default_rng(1).integers(0, 64, (4, 5), dtype=np.uint8)
    tables = node_tables(config, lambda n: n[1])
    totals = golden.stage_sums((tables, config), plane)[0][0]
    p = np.pad(plane.astype(int), 1, mode="reflect")
    neighbours = p[1:-1, 2:] + p[2:, 1:-1] + p[1:-1, :-2] + p[:-2, 1:-1]
    np.testing.assert_array_equal(totals, neighbours)     # S in 1/16 units: T = sum of values


def test_block_elements_turn_with_the_rotation():
    # Only block element (0, 0) is 1: the four rotations put it at the four block corners.
    config = SRLUTConfig("f", (4,), 4)
    tables = {"s0_f": np.zeros((config.entries, 4, 4), np.int8)}
    tables["s0_f"][:, 0, 0] = 1
    out = golden.upscale((tables, config), np.full((3, 3), 77, np.uint8))
    block = np.zeros((4, 4), int)
    block[0, 0] = block[0, 3] = block[3, 0] = block[3, 3] = 1
    np.testing.assert_array_equal(out, np.tile(block, (3, 3)))


def test_mulut_reindexes_stage_one_and_divides_stage_two_by_three_kernels():
    config = SRLUTConfig("sdy", (1, 4), 4)
    plane = np.random.default_rng(2).integers(0, 256, (6, 6), dtype=np.uint8)
    for value in (-127, -40, 0, 9, 127):
        t1 = node_tables(SRLUTConfig("sdy", (1,), 4), lambda n, v=value: np.full(n.shape[1], v))
        t2 = node_tables(SRLUTConfig("sdy", (4,), 4), lambda n: n[0])       # reads the anchor
        tables = {"s0_" + k: t1["s0_" + k] for k in "sdy"} | {"s1_" + k: t2["s0_" + k]
                                                             for k in "sdy"}
        (t_1, x1), (t_2, out) = golden.stage_sums((tables, config), plane)
        assert (t_1 == 12 * 16 * value).all() and (x1 == value + 127).all()
        # Stage 2: 3 kernels x 4 rotations read x1 (in 1/16), T2 / 48 = x1 / 4.
        assert (t_2 == 12 * (value + 127)).all()
        expected = round(Fraction(value + 127, 4))
        assert (out == expected).all()


def test_mulut_replicates_the_border():
    # Stage factor 1, entry = node of input b of kernel D (tap (0, 2) turned by the rotation):
    # at the right border replicate reads the last column where reflect would mirror.
    config = SRLUTConfig("sdy", (1,), 4)
    plane = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
    tables = {name: np.zeros(spec.shape, np.int8) for name, spec in config.array_specs().items()}
    tables["s0_d"] = node_tables(config, lambda n: n[1])["s0_d"]
    total = golden.stage_sums((tables, config), plane)[0][0]
    p = np.pad(plane.astype(int), 2, mode="edge")
    expected = p[2:-2, 4:] + p[4:, 2:-2] + p[2:-2, :-4] + p[:-4, 2:-2]
    np.testing.assert_array_equal(total, expected)


def test_simplex_weights_and_the_authors_branch():
    q = 16
    grid = np.stack(np.meshgrid(*[np.arange(q)] * 4, indexing="ij")).reshape(4, -1)
    order, fixed = golden.simplex(grid, q)
    assert (fixed >= 0).all() and (fixed.sum(0) == q).all()
    # Vertex j's bits are the j largest LSBs: weights are the sorted LSBs' gaps.
    np.testing.assert_array_equal(np.sort(grid, axis=0)[::-1], np.take_along_axis(grid, order, 0))
    _, authors = golden.simplex(grid, q, authors=True)
    differ = (authors != fixed).any(0)
    assert differ.sum() == 1820                   # C(16, 4): fc > fd > fa > fb strictly
    assert (authors.sum(0) == q).all() and (authors < 0).any()
    at = np.flatnonzero((grid.T == (1, 0, 15, 14)).all(1))[0]
    assert authors[:, at].tolist() == [1, 14, -13, 14, 0]   # 16-fc, fc-fa, fa-fd, fd-fb, fb


def test_authors_rule_equals_fixed_on_affine_tables():
    # The misordered branch still reproduces the point: equal wherever the table is affine.
    config = SRLUTConfig("s", (2,), 4)
    tables = node_tables(config, lambda n: n[0] - n[1] + 2 * n[2] - n[3])
    plane = np.random.default_rng(5).integers(0, 256, (12, 10), dtype=np.uint8)
    np.testing.assert_array_equal(golden.upscale((tables, config), plane, "authors"),
                                  golden.upscale((tables, config), plane, "fixed"))
    random = random_tables(config, seed=1)
    assert (golden.upscale((random, config), plane, "authors")
            != golden.upscale((random, config), plane, "fixed")).any()


def test_rgb_channels_read_independently():
    config = SRLUTConfig("f", (2,), 4)
    tables = random_tables(config, seed=4)
    rgb = np.random.default_rng(3).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    out = golden.upscale((tables, config), rgb)
    assert out.shape == (10, 14, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c],
                                      golden.upscale((tables, config), rgb[..., c].copy()))


def test_bad_inputs_name_the_field():
    config = SRLUTConfig("f", (4,), 4)
    tables = random_tables(config, seed=0)
    with pytest.raises(ValueError, match="simplex must be one of"):
        golden.upscale((tables, config), np.zeros((4, 4), np.uint8), simplex="sorted")
    with pytest.raises(ValueError, match="at least 3x3 pixels for kernel set 'f'"):
        golden.upscale((tables, config), np.zeros((2, 5), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        golden.upscale((tables, config), np.zeros((4, 4), np.int16))
    with pytest.raises(ArtifactError, match="s0_f: expected shape"):
        golden.upscale(({"s0_f": tables["s0_f"][:10]}, config), np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="lack 1 table"):
        golden.upscale(({}, config), np.zeros((4, 4), np.uint8))
    art = Artifact(scheme="hklut", config={}, arrays={})
    with pytest.raises(ValueError, match="scheme 'srlut'"):
        golden.upscale(art, np.zeros((4, 4), np.uint8))


@pytest.mark.parametrize("config, field", [
    ({"kernels": "x"}, "config.kernels"), ({"stages": [5]}, "config.stages"),
    ({"stages": []}, "config.stages"), ({"interval_bits": 9}, "config.interval_bits"),
    ({"kernels": "s", "interval_bits": 1}, "config.interval_bits"),    # 129^4 rows: refused
    ({"bias": 1}, "config.bias")])
def test_config_errors_name_the_field(config, field):
    with pytest.raises(ArtifactError, match=field):
        SRLUTConfig.from_dict(config)


def test_table_bytes_are_the_papers():
    sizes = {k: sum(s.shape[0] * s.shape[1] * s.shape[2] for s in
                    SRLUTConfig.from_dict(c).array_specs().values())
             for k, c in {"s": {"kernels": "s"}, "f": {"kernels": "f"}, "v": {"kernels": "v"},
                          "mulut": {"kernels": "sdy", "stages": [1, 4]}}.items()}
    assert sizes == {"s": 1_336_336, "f": 78_608, "v": 1_056_784, "mulut": 4_259_571}
