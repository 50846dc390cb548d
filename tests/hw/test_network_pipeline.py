"""The whole network pipeline in Amaranth's simulator: RTL == golden (class and logits) on
digits-ref at three foldings and on random small networks (random shapes, foldings and pixels
per beat, weights at the int extremes), and the cycle model's output cycles == the RTL's; the
narrow datapath (folded's default) on digits images, random narrow networks, single layers,
its memory traffic == the model's, and the --datapath option."""

import pytest

from edgeforge.hw.network.design import NetworkDesign
from edgeforge.schemes.network import random_artifact

from network_helpers import (DIGITS_MLP, DIGITS_REF, DIGITS_REF_MIDDLE, check_against_model,
                             check_traffic, digits_test_images, edge_images,
                             random_network_design, run_design)


@pytest.fixture(scope="module")
def digits_ref():
    return random_artifact(DIGITS_REF, seed=5)


@pytest.mark.parametrize("folding, images, datapath", [
    ("parallel", 3, None), (DIGITS_REF_MIDDLE, 3, None), ("folded", 2, "wide"),
    (DIGITS_REF_MIDDLE, 2, "narrow")])
def test_digits_ref_output_cycles_equal_the_model(digits_ref, folding, images, datapath):
    # datapath None: the default, wide for these foldings (folded's narrow default is
    # test_narrow_folded_digits_ref_equals_golden_and_the_model's).
    design = NetworkDesign(digits_ref, folding=folding, logits=True, datapath=datapath)
    xs = edge_images((1, 8, 8), images - 2, seed=1)[:images]
    model = design.cycles()
    for n in range(1, images + 1):
        got, expected, last = run_design(design, xs[:n])
        assert got == expected
        assert last == model.schedule(n)[1] == model.output_start(n - 1)
    # The steady spacing is the slowest stage's cost.
    assert model.output_start(images) - model.output_start(images - 1) == model.interval


def test_digits_ref_intervals_follow_the_folding(digits_ref):
    intervals = {name: NetworkDesign(digits_ref, folding=f).cycles().interval
                 for name, f in (("folded", "folded"), ("middle", DIGITS_REF_MIDDLE),
                                 ("parallel", "parallel"))}
    # Folded: conv2 is 16 windows x 72 x 8 folds; parallel: input-bound at a pixel a beat.
    assert intervals == {"folded": 16 * 72 * 8, "middle": 64 * 3 * 4, "parallel": 64}


def test_balanced_folding_is_input_bound_with_the_fewest_macs(digits_ref):
    design = NetworkDesign(digits_ref, folding="balanced", logits=True)
    # conv1 fully parallel (64 windows in 64 cycles), conv2 4 folds a window, linears 64.
    assert design.folding == [[8, 9], [2, 72], [1, 16], [5, 1]]
    assert sum(pe * simd for pe, simd in design.folding) == 237
    model = design.cycles()
    assert model.interval == 64 and model.bottleneck == "input"
    check_against_model(design, edge_images((1, 8, 8), 2, seed=4))
    assert model.output_start(3) - model.output_start(2) == 64


def test_digits_mlp_eight_pixels_a_beat_takes_eight_cycles_an_image():
    design = NetworkDesign(random_artifact(DIGITS_MLP, seed=2), folding="parallel",
                           pixels_per_beat=8, logits=True)
    model = design.cycles()
    assert model.interval == 8
    check_against_model(design, edge_images((1, 8, 8), 4, seed=3))


@pytest.mark.parametrize("seed, transforms", [(s, ("dense",)) for s in range(10)]
                         + [(s, ("pecan-d",)) for s in range(3)] + [(20, ("pecan-d", "dense"))]
                         + [(s, ("pecan-a",)) for s in range(3)]
                         + [(30, ("pecan-a", "pecan-d", "dense"))]
                         + [pytest.param(s, t, marks=pytest.mark.slow) for s, t in
                            [(s, ("pecan-d",)) for s in range(3, 12)]
                            + [(s, ("pecan-d", "dense")) for s in range(21, 27)]
                            + [(s, ("pecan-a",)) for s in range(3, 12)]
                            + [(s, ("pecan-a", "pecan-d", "dense")) for s in range(31, 37)]])
def test_random_networks_rtl_equals_golden(seed, transforms):
    # PECAN layers come with tied prototypes (random_artifact copies some): ties in
    # PECAN-D's arg-min and in PECAN-A's max.
    design = random_network_design(seed, transforms)
    # With valid gaps and backpressure too: the same beats, never sooner than the model.
    check_against_model(design, edge_images(design.network.input_shape, 3, seed=seed),
                        pauses=(seed, 0.6, 0.5))


@pytest.mark.parametrize("layer", [0, 2, 3, 7, 9])
def test_one_layer_alone_equals_its_golden(digits_ref, layer):
    design = NetworkDesign(digits_ref, folding=DIGITS_REF_MIDDLE, layer=layer)
    xs = design.test_inputs(seed=layer)[:4]
    got, expected, last = run_design(design, xs, p_valid=0.8, p_ready=0.8)
    assert got == expected
    got, _, last = run_design(design, xs)
    assert last == design.cycles().schedule(len(xs))[1]


@pytest.mark.parametrize("folding", [DIGITS_REF_MIDDLE, "parallel"])
def test_memory_traffic_equals_the_model(digits_ref, folding):
    check_traffic(NetworkDesign(digits_ref, folding=folding), edge_images((1, 8, 8), 0))


# -- the narrow datapath: SIMD inputs a beat, activations in memories --------------------------

@pytest.fixture(scope="module")
def narrow_folded(digits_ref):
    return NetworkDesign(digits_ref, folding="folded", datapath="narrow")


def test_narrow_is_the_default_of_folded_alone(digits_ref):
    assert NetworkDesign(digits_ref).datapath == "narrow"
    assert NetworkDesign(digits_ref, folding=DIGITS_REF_MIDDLE).datapath == "wide"
    assert NetworkDesign(digits_ref, folding=[(1, 1)] * 4).datapath == "wide"
    wide = NetworkDesign(digits_ref, datapath="wide")
    assert "datapath" not in wide.config and wide.design_hash != NetworkDesign(
        digits_ref).design_hash


def test_narrow_folded_digits_ref_streams_an_element_a_beat(narrow_folded):
    kinds = [st.kind for st in narrow_folded.plan.stages]
    assert kinds.count("narrow_window") == 2 and kinds.count("narrow_pool") == 2
    assert "window" not in kinds and "gather" not in kinds and kinds[-1] == "narrow_argmax"
    # Every stream between blocks is one element wide.
    assert {st.out.lanes for st in narrow_folded.plan.stages} == {1}
    assert all(st.params["datapath"] == "narrow" for st in narrow_folded.plan.stages
               if st.kind == "core")
    # The same interval as the wide folded pipeline: conv2's 16 x 72 x 8 folds.
    assert narrow_folded.cycles().interval == 16 * 72 * 8


def test_narrow_folded_digits_ref_equals_golden_and_the_model(narrow_folded):
    xs = list(digits_test_images()[:2])
    model = narrow_folded.cycles()
    got, expected, last = run_design(narrow_folded, xs)
    assert got == expected
    assert last == model.schedule(len(xs))[1] == model.output_start(len(xs) - 1)
    # Under random valid gaps and backpressure (one image: Design.verify runs five so).
    got, _, slow = run_design(narrow_folded, xs[:1], seed=7, p_valid=0.6, p_ready=0.5)
    assert got == expected[:1] and slow >= model.schedule(1)[1]


def test_narrow_memory_traffic_equals_the_model(narrow_folded):
    check_traffic(narrow_folded, [digits_test_images()[2]])
    lines = {t.memory for t in narrow_folded.cycle_model().traffic}
    assert {"l2_pool.cols", "l3_core.inbuf", "l3_window.rows"} <= lines


@pytest.mark.parametrize("seed", [30 + s for s in range(8)]
                         + [pytest.param(40 + s, marks=pytest.mark.slow) for s in range(12)])
def test_random_networks_narrow_rtl_equals_golden(seed):
    # Random foldings: layers where SIMD does not divide a conv's channels, or the lanes do
    # not convert, keep the wide datapath beside the narrow ones.
    design = random_network_design(seed, ("dense", "pecan-d") if seed % 4 == 3 else ("dense",),
                                   datapath="narrow", logits=bool(seed % 2))
    check_against_model(design, edge_images(design.network.input_shape, 2, seed=seed),
                        pauses=(seed, 0.6, 0.5))


def test_narrow_one_layer_alone_equals_its_golden(digits_ref):
    for layer in (3, 5, 7):
        design = NetworkDesign(digits_ref, folding=[(2, 1), (2, 2), (4, 2), (5, 1)], layer=layer,
                               datapath="narrow")
        xs = design.test_inputs(seed=layer)[:3]
        got, expected, _ = run_design(design, xs, p_valid=0.8, p_ready=0.8)
        assert got == expected
        got, _, last = run_design(design, xs)
        assert last == design.cycles().schedule(len(xs))[1]


def test_datapath_is_refused_by_name(digits_ref):
    with pytest.raises(ValueError, match=r"^datapath must be one of \('wide', 'narrow'\), "
                                         r"got 'thin'$"):
        NetworkDesign(digits_ref, datapath="thin")


# -- DeBut networks: the butterfly core in the same pipeline ---------------------------------

def _debut_design(name, folding, seed=1):
    from debut_helpers import debut_networks
    art = random_artifact(debut_networks()[name], seed=seed, extremes=0.5)
    return NetworkDesign(art, folding=folding, logits=True)


@pytest.mark.parametrize("name, folding", [("square", "folded"), ("shrinking", "parallel"),
                                           ("bulging", "balanced"), ("padded", "folded"),
                                           ("all-debut", "balanced")])
def test_debut_networks_rtl_equals_golden_and_the_cycle_model(name, folding):
    design = _debut_design(name, folding)
    check_against_model(design, edge_images(design.network.input_shape, 1, seed=2),
                        pauses=(3, 0.7, 0.6))


def test_debut_interval_is_the_slowest_factor():
    design = _debut_design("shrinking", [(2, 2, 4, 8)])
    # Factor folds: 64/2, 32/2, 64/4, 80/8 -> the slowest is 32 a vector (one vector an image).
    assert design.cycles().interval == 64 and design.cycles().bottleneck == "input"
    folded = _debut_design("shrinking", "folded")
    assert folded.cycles().interval == max(32 * 2, 16 * 2, 16 * 4, 10 * 8)
    model = check_against_model(folded, edge_images((1, 8, 8), 2, seed=4))
    assert model.output_start(3) - model.output_start(2) == model.interval


def test_debut_folding_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^folding of layer 1 \(linear\), factor 2: MAC lanes "
                                         r"must be one of \[1, 2, 4, 8, 16, 32\] for factor "
                                         r"\(16, 32, 1, 2, 1\), got 3$"):
        _debut_design("shrinking", [(1, 3, 1, 1)])
    with pytest.raises(ValueError, match=r"^folding of layer 1 \(linear\) must list the MAC "
                                         r"lanes of each of its 4 factors, got \(1, 1\)$"):
        _debut_design("shrinking", [(1, 1)])


@pytest.mark.parametrize("folding", ["balanced", "folded"])
def test_debut_memory_traffic_equals_the_model(folding):
    design = _debut_design("bulging", folding)
    check_traffic(design, edge_images(design.network.input_shape, 0))
    # The factor ROMs are counted.
    assert any(".f" in t.memory for t in design.cycle_model().traffic)


def test_generate_datapath_through_the_cli(tmp_path, capsys):
    import json
    from edgeforge.artifact import save
    from edgeforge.cli import main
    from network_helpers import SMALL_REF
    art = save(random_artifact(SMALL_REF, seed=2), tmp_path / "small.npz")
    for datapath in ("wide", "narrow"):
        out = tmp_path / datapath
        assert main(["generate", str(art), "--datapath", datapath, "-o", str(out)]) == 0
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["config"].get("datapath", "wide") == datapath
    with pytest.raises(SystemExit):
        main(["generate", str(art), "--datapath", "thin"])
    assert "invalid choice: 'thin'" in capsys.readouterr().err
