"""The network scheme: config checks (one ArtifactError naming field and value), chained shapes,
array specs, the transform registry, derived widths, save/load round trip."""

import copy

import numpy as np
import pytest

from edgeforge.artifact import ArtifactError, load, save
from edgeforge.schemes import get_scheme
from edgeforge.schemes.network import (TRANSFORMS, derive_widths, parse_network, random_artifact,
                                       random_config, range_bits, requant_range)

from network_helpers import DIGITS_REF, with_layer




def test_digits_ref_shapes_and_arrays():
    net = parse_network(DIGITS_REF)
    assert [l.out_shape for l in net.layers] == [
        (8, 8, 8), (8, 8, 8), (8, 4, 4), (8, 4, 4), (8, 4, 4), (8, 2, 2), (32,), (32,), (32,),
        (10,), (10,)]
    assert [l.relu for l in net.layers if l.transform] == [True, True, True, False]
    specs = get_scheme("network").array_specs(DIGITS_REF)
    assert sorted(specs) == ["l0_bias", "l0_weight", "l3_bias", "l3_weight", "l7_bias",
                             "l7_weight", "l9_bias", "l9_weight"]
    assert specs["l3_weight"].shape == (8, 8, 3, 3) and specs["l3_weight"].bits == 8
    assert specs["l9_bias"].dtype == "int32" and specs["l9_bias"].shape == (10,)


@pytest.mark.parametrize("config, field, message", [
    (with_layer(DIGITS_REF, 0, kernel=2), "config.layers[0].kernel", r"expected an odd kernel size, got 2$"),
    (with_layer(DIGITS_REF, 0, padding=2), "config.layers[0].padding", r"expected an integer 0..1, got 2$"),
    (with_layer(DIGITS_REF, 0, weight_bits=9), "config.layers[0].weight_bits",
     r"expected an integer 2..8, got 9$"),
    (with_layer(DIGITS_REF, 0, bias_bits=33), "config.layers[0].bias_bits",
     r"expected an integer 2..32, got 33$"),
    (with_layer(DIGITS_REF, 0, out_bits=1), "config.layers[0].out_bits", r"expected an integer 2..8, got 1$"),
    (with_layer(DIGITS_REF, 0, shift=-1), "config.layers[0].shift", r"expected an integer 0..62, got -1$"),
    (with_layer(DIGITS_REF, 0, shift=True), "config.layers[0].shift", r"expected an integer 0..62, got True$"),
    (with_layer(DIGITS_REF, 0, transform="pecan"), "config.layers[0].transform",
     r"expected one of \['debut', 'dense', 'pecan-a', 'pecan-d'\], got 'pecan'$"),
    (with_layer(DIGITS_REF, 0, stride=2), "config.layers[0].stride", r"unknown conv2d field; known: "),
    (with_layer(DIGITS_REF, 3, in_channels=4), "config.layers[3].in_channels",
     r"expected 8 \(the input's channels\), got 4$"),
    (with_layer(DIGITS_REF, 7, in_features=16), "config.layers[7].in_features",
     r"expected 32 \(the input's features\), got 16$"),
    (with_layer(DIGITS_REF, 2, size=3), "config.layers[2].size", r"must divide the 8x8 map, got 3$"),
    (with_layer(DIGITS_REF, 2, size=1), "config.layers[2].size", r"expected an integer >= 2, got 1$"),
    (with_layer(DIGITS_REF, 1, kind="softmax"), "config.layers[1].kind", r"expected one of \["),
    (with_layer(DIGITS_REF, 0, kernel=11, padding=0), "config.layers[0].kernel",
     r"a 11x11 kernel with padding 0 does not fit the 8x8 input, got kernel 11$"),
])
def test_bad_fields_are_named(config, field, message):
    with pytest.raises(ArtifactError, match=rf"^{__import__('re').escape(field)}: {message}"):
        parse_network(config)


def test_missing_and_misplaced_layers_are_named():
    config = copy.deepcopy(DIGITS_REF)
    del config["layers"][0]["shift"]
    with pytest.raises(ArtifactError, match=r"^config\.layers\[0\]\.shift: missing from the "
                                            r"conv2d layer$"):
        parse_network(config)
    config = copy.deepcopy(DIGITS_REF)
    config["layers"].insert(3, {"kind": "relu"})          # relu after maxpool
    with pytest.raises(ArtifactError, match=r"^config\.layers\[3\]\.kind: relu must directly "
                                            r"follow a conv2d or linear, got it after 'maxpool'$"):
        parse_network(config)
    config = copy.deepcopy(DIGITS_REF)
    del config["layers"][6]                               # no flatten before the linear
    with pytest.raises(ArtifactError, match=r"^config\.layers\[6\]: linear needs a vector input "
                                            r"\(flatten first\), got shape \(8, 2, 2\)$"):
        parse_network(config)
    config = copy.deepcopy(DIGITS_REF)
    config["layers"].insert(10, {"kind": "relu"})         # relu between the logits and argmax
    with pytest.raises(ArtifactError, match=r"^config\.layers\[11\]\.kind: argmax must directly "
                                            r"follow a linear, got it after 'relu'$"):
        parse_network(config)
    config = copy.deepcopy(DIGITS_REF)
    config["layers"].append({"kind": "argmax"})
    with pytest.raises(ArtifactError, match=r"^config\.layers\[10\]\.kind: argmax must be the last "
                                            r"layer, got it at index 10 of 12$"):
        parse_network(config)
    config = copy.deepcopy(DIGITS_REF)
    config["input"]["bits"] = 9
    with pytest.raises(ArtifactError, match=r"^config\.input\.bits: expected an integer 1\.\.8, "
                                            r"got 9$"):
        parse_network(config)
    with pytest.raises(ArtifactError, match=r"^config\.extra: unknown network config field"):
        parse_network({**DIGITS_REF, "extra": 1})


def test_every_transform_kind_names_its_parts():
    # A transform kind is an entry with array specs and the three modules that implement it.
    import importlib
    for kind, transform in TRANSFORMS.items():
        assert transform.name == kind
        for target in (transform.golden, transform.cycles, transform.traffic,
                       transform.timeline, transform.core, transform.operations):
            if target is None:            # operations: optional
                continue
            module, attr = target.split(":")
            assert hasattr(importlib.import_module(module), attr), target


@pytest.mark.parametrize("lo, hi, expected", [
    (0, 255, (8, False)), (0, 0, (1, False)), (-128, 127, (8, True)), (-1, 0, (1, True)),
    (-129, 0, (9, True)), (-3, 128, (9, True)), (5, 7, (3, False))])
def test_range_bits(lo, hi, expected):
    assert range_bits(lo, hi) == expected


def test_requant_range_rounds_half_up():
    assert requant_range(-3, 3, 1) == (-1, 2)       # (-3 + 1) >> 1 = -1, (3 + 1) >> 1 = 2
    assert requant_range(-5, 9, 0) == (-5, 9)


def test_widths_are_the_exact_worst_case():
    art = random_artifact(DIGITS_REF, seed=3)
    net = parse_network(art.config)
    widths = derive_widths(net, art.arrays)
    first = widths.layers[0]
    w = art.arrays["l0_weight"].reshape(8, -1).astype(np.int64)
    b = art.arrays["l0_bias"].astype(np.int64)
    # Input 0..255: the worst sums take x = 255 where w > 0 (high) or w < 0 (low), else 0.
    assert first.acc_range == (int((b + 255 * np.minimum(w, 0).sum(1)).min()),
                               int((b + 255 * np.maximum(w, 0).sum(1)).max()))
    half = 1 << (net.layers[0].fields["shift"] - 1)
    assert first.acc_bits == range_bits(min(first.acc_range[0], -1), first.acc_range[1] + half)[0]
    assert first.clip == (0, 255)                    # relu follows
    assert widths.layers[9].clip == (-128, 127)      # the logits: signed
    assert widths.layers[3].in_range == widths.layers[2].out_range == first.out_range


def test_random_artifacts_round_trip(tmp_path):
    for seed in range(6):
        art = random_artifact(random_config(seed), seed=seed)
        back = load(save(art, tmp_path / f"net{seed}.npz"))
        assert back.config == art.config and back.content_hash == art.content_hash


def test_array_values_are_checked_against_their_bits(tmp_path):
    art = random_artifact(with_layer(DIGITS_REF, 0, weight_bits=4), seed=1)
    art.arrays["l0_weight"][0, 0, 0, 0] = 8
    with pytest.raises(ArtifactError,
                       match=r"^l0_weight: values span \[-8, 8\], outside \[-8, 7\]"):
        save(art, tmp_path / "bad.npz")


@pytest.mark.parametrize("seed", range(8))
def test_every_value_lies_in_its_derived_range(seed):
    # The derivation bounds what the golden model computes: accumulators (full sums) and
    # every layer's output, on images at the extremes and random ones.
    from edgeforge.sim.golden.dense import accumulate
    from edgeforge.sim.golden.network import forward
    art = random_artifact(random_config(seed), seed=seed, extremes=0.5)
    net = parse_network(art.config)
    widths = derive_widths(net, art.arrays)
    rng = np.random.default_rng(seed)
    images = np.concatenate([np.zeros((1, *net.input_shape), np.uint8),
                             np.full((1, *net.input_shape), 255, np.uint8),
                             rng.integers(0, 256, size=(30, *net.input_shape), dtype=np.uint8)])
    outs = forward(art, images)
    x = images.astype(np.int64)
    for layer, lw, y in zip(net.layers, widths.layers, outs):
        assert lw.in_range[0] <= x.min() and x.max() <= lw.in_range[1]
        if layer.transform is not None:
            acc = accumulate(layer, art.arrays, x)
            assert lw.acc_range[0] <= acc.min() and acc.max() <= lw.acc_range[1]
        if layer.kind != "argmax":
            assert lw.out_range[0] <= y.min() and y.max() <= lw.out_range[1]
        x = y
