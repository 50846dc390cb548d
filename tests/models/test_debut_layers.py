"""DeBut on the model side: torch factors and chains against the contract's dense matrices, the
fixed point against the golden model, ALS, the All-DeBut converter and the CLI's options."""

import numpy as np
import pytest
import torch

from edgeforge.models.data_digits import load_digits
from edgeforge.models.debut.als import als_fit, chain_dense, relative_error
from edgeforge.models.debut.chain import chain_from_blocks, search_chain
from edgeforge.models.debut.convert import convert, dense_matrix, layer_indices, plan_chains
from edgeforge.models.debut.layers import DebutChain, DebutConv2d, factor_apply, windows
from edgeforge.models.network.export import export_network, network_from_artifact
from edgeforge.models.network.net import QNet
from edgeforge.models.network.train import TrainConfig, train_network
from edgeforge.models.network.zoo import layer_macs, params, preset
from edgeforge.schemes.network_debut import Factor
from edgeforge.sim.golden.debut import im2col_tap_major
from edgeforge.sim.golden.network import classify, forward

pytestmark = pytest.mark.usefixtures("torch_one_thread")

FACTORS = [(12, 9, 4, 3, 1), (8, 12, 2, 3, 4), (16, 32, 1, 2, 1), (10, 16, 5, 8, 2),
           (64, 64, 8, 8, 8), (6, 9, 2, 3, 1)]


@pytest.mark.parametrize("shape", FACTORS)
def test_factor_is_the_contracts_dense_matrix(shape):
    f = Factor(*shape)
    g = torch.Generator().manual_seed(sum(shape))
    theta = torch.randn(f.theta_shape, generator=g, dtype=torch.float64)
    x = torch.randn(5, f.q, generator=g, dtype=torch.float64)
    dense = torch.from_numpy(f.dense(theta.numpy()))
    torch.testing.assert_close(factor_apply(f, theta, x), x @ dense.T, rtol=0, atol=1e-12)


def test_chain_is_the_product_of_its_factors_with_the_padding_cut():
    # 9 taps x 1 channel padded to 12 inputs, 3 outputs of 4.
    chain = DebutChain(chain_from_blocks([(2, 3), (2, 4)]), inputs=9, outputs=3).double()
    x = torch.randn(7, 9, dtype=torch.float64)
    torch.testing.assert_close(chain(x), x @ torch.from_numpy(chain.dense()).T)
    # (8, 12; 2, 3, 1) then (4, 8; 2, 4, 2): p s nonzeros each.
    assert chain.dense().shape == (3, 9) and chain.params == 8 * 3 + 4 * 4


def test_windows_are_tap_major_as_the_golden_model():
    x = np.random.default_rng(0).integers(-50, 50, size=(2, 3, 5, 4))
    cols, shape = windows(torch.from_numpy(x).double(), 3, 1)
    gold, gold_shape = im2col_tap_major(x, 3, 1)
    assert shape == gold_shape and np.array_equal(cols.numpy().astype(np.int64), gold)


def test_a_bad_chain_is_refused_naming_the_factor():
    with pytest.raises(ValueError, match=r"^factor 3 \(16, 16, 2, 2, 4\): breaks the stride rule"):
        DebutChain([(48, 72, 2, 3, 1), (16, 48, 1, 3, 2), (16, 16, 2, 2, 4), (16, 16, 2, 2, 8)],
                   72, 16)


def test_als_fits_an_exact_chain_and_never_increases_the_error():
    chain = search_chain(10, 32, factors=3).factors
    rng = np.random.default_rng(1)
    truth = [rng.standard_normal(f.theta_shape) for f in chain]
    target = chain_dense(chain, truth)[:10, :32]
    fit = als_fit(chain, target, sweeps=8, seed=2)
    assert fit.errors[0] > 0.5 and fit.error < 1e-6
    assert relative_error(chain, fit.thetas, target) == pytest.approx(fit.error, abs=1e-9)
    # A dense target the chain cannot hold: the error falls and then only settles.
    dense = rng.standard_normal((10, 32))
    errors = als_fit(chain, dense, sweeps=4).errors
    assert all(b <= a + 1e-9 for a, b in zip(errors, errors[1:])) and errors[-1] < errors[0]


def test_plan_meets_the_budget_or_says_what_it_found():
    network = preset("digits-ref")
    full = plan_chains(network)
    assert [c.index for c in full.choices] == [0, 3, 7, 9] and full.dense_params == 1992
    quarter = plan_chains(network, budget=0.25)
    assert quarter.params <= 0.25 * 1992 < full.params
    assert params(quarter.network) == quarter.params
    assert quarter.network["layers"][7]["transform"] == "debut"
    some = plan_chains(network, [3, 7])
    assert [layer.get("transform") for layer in some.network["layers"]
            if layer["kind"] in ("conv2d", "linear")] == ["dense", "debut", "debut", "dense"]
    with pytest.raises(ValueError, match=r"^budget 0.25: the fewest parameters found are \d+ of "
                                         r"the dense 1992"):
        plan_chains(network, [3], budget=0.25)
    with pytest.raises(ValueError, match=r"^layers must be 'all' or conv2d / linear layer "
                                         r"indices \[0, 3, 7, 9\], got \[1\]$"):
        layer_indices(network, [1])
    with pytest.raises(ValueError, match=r"^mid_bits must be an integer 2..16, got 17$"):
        plan_chains(network, mid_bits=17)


def test_widths_fix_a_layers_chain_and_the_budget_falls_on_the_others():
    network = preset("digits-ref")
    picked = plan_chains(network, budget=0.25)
    fixed = plan_chains(network, budget=0.25, widths={0: 8})
    by_layer = {c.index: c for c in fixed.choices}
    # The first conv at full width (8 channels, no bottleneck): its chain is the widest
    # search's, and the budget still holds, met by narrowing another layer.
    assert by_layer[0].min_width == 8
    assert by_layer[0].factors == search_chain(8, 1, 3, max_factors=4).factors
    assert fixed.params <= 0.25 * 1992
    assert {c.index: c.min_width for c in picked.choices} != {
        i: c.min_width for i, c in by_layer.items()}
    with pytest.raises(ValueError, match=r"^widths: layer 0's width must be an integer 1..8, "
                                         r"got 9$"):
        plan_chains(network, widths={0: 9})
    with pytest.raises(ValueError, match=r"^widths: layer 0 is not one to convert \[3, 7\]$"):
        plan_chains(network, [3, 7], widths={0: 8})
    with pytest.raises(ValueError, match=r"^widths must be a dict"):
        plan_chains(network, widths=[8])


def test_macs_count_the_chains_nonzeros():
    net = plan_chains(preset("digits-ref"), [3]).network
    chain = net["layers"][3]["factors"]
    assert layer_macs(net)[3] == 16 * sum(p * s for p, q, r, s, t in chain)
    assert layer_macs(net)[0] == layer_macs(preset("digits-ref"))[0]


@pytest.fixture(scope="module")
def all_debut():
    """A short-trained dense digits-ref, converted to All-DeBut by ALS and fine-tuned."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        dense = train_network("digits-ref", TrainConfig(iterations=300, seed=4), progress=False)
        conversion = convert(dense.net, "all", budget=0.25, sweeps=3, seed=4)
        result = train_network(conversion.net, TrainConfig(iterations=300, seed=4),
                               progress=False)
        result.provenance = conversion.provenance()
        return dense, conversion, result, export_network(result, command="test")
    finally:
        torch.set_num_threads(threads)


def test_conversion_starts_from_the_dense_layers(all_debut):
    dense, conversion, _, _ = all_debut
    net = convert(dense.net, [7], sweeps=2, seed=0).net
    # Unconverted layers and every bias are the dense network's; the chain holds its ALS fit.
    assert torch.equal(net.layers[3].weight, dense.net.layers[3].weight)
    assert torch.equal(net.layers[7].bias, dense.net.layers[7].bias)
    fit = relative_error(net.layers[7].factors,
                         [t.detach().double().numpy() for t in net.layers[7].chain.thetas],
                         dense_matrix(dense.net.layers[7]))
    assert fit < 1
    errors = conversion.als_errors
    assert sorted(errors) == [0, 3, 7, 9] and all(e[-1] < e[0] for e in errors.values())


def test_exported_all_debut_is_the_golden_model(all_debut):
    _, conversion, result, art = all_debut
    images, labels = load_digits("test")
    golden = classify(art, images)
    torch_classes = result.net.predict(images)
    assert np.mean(golden.classes == torch_classes) >= 0.99
    assert result.float_accuracy > 0.5          # it learned something in 300 steps
    assert art.provenance["debut"]["params"] == conversion.plan.params <= 0.25 * 1992
    layer = art.config["layers"][3]
    assert layer["transform"] == "debut" and len(layer["shifts"]) == len(layer["factors"]) - 1
    # The artifact's model is the trained one: layer by layer, exactly.
    rebuilt = network_from_artifact(art)
    x = rebuilt.inputs(images[:64])
    outs = forward(art, images[:64])
    with torch.no_grad():
        for i, m in enumerate(rebuilt.layers):
            x = m(x)
            if isinstance(m, DebutConv2d):
                assert np.array_equal((x * 2.0 ** m.a_out).numpy().astype(np.int64), outs[i])


def test_a_calibrated_network_is_not_a_start(all_debut):
    _, _, result, _ = all_debut
    with pytest.raises(ValueError, match="must be uncalibrated"):
        train_network(result.net, TrainConfig(iterations=2))


def test_debut_only_converts_dense_layers(all_debut):
    _, _, _, art = all_debut
    with pytest.raises(ValueError, match=r"^layers: layer 3 is 'debut', only dense layers"):
        convert(art, [3])


def test_cli_refuses_bad_debut_options(tmp_path, capsys):
    from edgeforge.cli import main
    out = str(tmp_path / "x.npz")
    cases = [
        (["--debut-budget", "0.25"], "error: --debut-budget: only with --debut (which layers "
                                     "become DeBut chains)"),
        (["--debut", "all", "--dense", "x.npz", "--preset", "digits-mlp"],
         "error: --preset: not with --dense (the dense artifact's network and widths are kept)"),
        # Checked before the dense network trains.
        (["--debut", "1"],
         "error: --debut must be 'all' or conv2d / linear layer indices [0, 3, 7, 9], got [1]"),
        # digits-mlp's linear 64->32 alone is 2048 of its 2368 weights; the 32->10 chain 42.
        (["--debut", "3", "--debut-budget", "0.25", "--preset", "digits-mlp"],
         "error: --debut-budget 0.25: the fewest parameters found are 2090 of the dense 2368 "
         "(0.883); convert more layers or raise the budget"),
        (["--debut", "3", "--debut-budget", "2", "--dense",
          "models/network/pretrained/digits-ref.npz"],
         "error: --debut-budget must be a share of the dense parameters in (0, 1], got 2.0"),
        (["--debut", "all", "--debut-lr", "0", "--dense",
          "models/network/pretrained/digits-ref.npz"],
         "error: --debut-lr must be a positive number, got 0.0"),
    ]
    for extra, message in cases:
        assert main(["train", "--scheme", "network", "-o", out, "--no-progress", *extra]) == 2
        assert capsys.readouterr().err.strip() == message


def test_cli_converts_the_shipped_network(tmp_path, capsys):
    from edgeforge import load
    from edgeforge.cli import main
    out = tmp_path / "debut.npz"
    assert main(["train", "--scheme", "network", "--debut", "3,7", "--dense",
                 "models/network/pretrained/digits-ref.npz", "--iterations", "40",
                 "--als-sweeps", "1", "-o", str(out), "--no-progress"]) == 0
    art = load(out)
    assert [d["layer"] for d in art.provenance["debut"]["layers"]] == [3, 7]
    assert "distill_teacher" not in art.provenance        # FINE_TUNE does not distil
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    text = capsys.readouterr().out
    assert "golden (integer NumPy)" in text and "DeBut: layers [3, 7] are chains" in text


def test_fine_tune_needs_a_teacher_exactly_when_it_distils():
    from edgeforge.models.debut.convert import fine_tune
    conversion = convert(QNet(preset("digits-ref")), [3], sweeps=0)
    with pytest.raises(ValueError, match=r"^teacher: the dense network to distil from is needed "
                                         r"exactly when distill > 0 \(distill 0.5, teacher "
                                         r"absent\)$"):
        fine_tune(conversion, TrainConfig(iterations=2, distill=0.5), progress=False)
    with pytest.raises(ValueError, match=r"\(distill 0.0, teacher given\)$"):
        fine_tune(conversion, TrainConfig(iterations=2), teacher="dense.npz", progress=False)
