"""The pecan-a transform kind of the network scheme: fields checked with the layer and value
named, array specs (signed codebooks, uint16 exp and reciprocal tables), the exporter's
softmax tables, derived widths that bound every intermediate of the golden arithmetic,
random artifacts with ties in the max, random configs."""

import re

import numpy as np
import pytest

from edgeforge.artifact import ArtifactError
from edgeforge.schemes.network import (derive_widths, parse_network, random_artifact,
                                       random_config, recip_entries, softmax_tables)
from edgeforge.sim.golden.pecan_a import exp_terms, scores
from edgeforge.sim.golden.pecan_d import vectors
from edgeforge.sim.golden.network import forward

from network_helpers import DIGITS_INPUT, PECAN_A_REF, edge_images, with_layer




def test_pecan_a_ref_parses_with_its_arrays():
    specs = parse_network(PECAN_A_REF).array_specs()
    assert specs["l3_codebook"].shape == (9, 8, 8)
    assert (specs["l0_codebook"].dtype, specs["l0_codebook"].bits,
            specs["l0_codebook"].signed) == ("int8", 8, True)
    assert specs["l3_table"].shape == (9, 8, 8) and specs["l3_table"].dtype == "int16"
    assert (specs["l0_exp"].dtype, specs["l0_exp"].shape, specs["l0_exp"].signed) == (
        "uint16", (32,), False)
    # Z up to 8 x 255: one reciprocal entry per Z (recip_shift 0), 12 bits.
    assert specs["l9_recip"].shape == (8 * 255 + 1,) and specs["l9_recip"].bits == 12


@pytest.mark.parametrize("config, field, message", [
    (with_layer(PECAN_A_REF, 0, groups=3), "config.layers[0].groups",
     r"groups x group_size must be the 9 inputs of the layer, got 3 x 1$"),
    (with_layer(PECAN_A_REF, 0, codebook_bits=9), "config.layers[0].codebook_bits",
     r"expected an integer 2..8, got 9$"),
    (with_layer(PECAN_A_REF, 3, exp_bits=17), "config.layers[3].exp_bits",
     r"expected an integer 2..16, got 17$"),
    (with_layer(PECAN_A_REF, 3, exp_entries=0), "config.layers[3].exp_entries",
     r"expected an integer 1..4096, got 0$"),
    (with_layer(PECAN_A_REF, 7, exp_shift=63), "config.layers[7].exp_shift",
     r"expected an integer 0..62, got 63$"),
    (with_layer(PECAN_A_REF, 7, recip_bits=1), "config.layers[7].recip_bits",
     r"expected an integer 2..16, got 1$"),
    (with_layer(PECAN_A_REF, 9, recip_shift=33), "config.layers[9].recip_shift",
     r"expected an integer 0..32, got 33$"),
    (with_layer(PECAN_A_REF, 9, exp_bits=12), "config.layers[9].recip_shift",
     r"the reciprocal table of Z >> recip_shift \(Z up to prototypes x \(2\*\*exp_bits - 1\)\) "
     r"would hold 32761 entries, more than 4096, got 0$"),
    (with_layer(PECAN_A_REF, 3, prototype_offsets=1), "config.layers[3].prototype_offsets",
     r"expected true or false \(a constant per prototype added to its dot product\), got 1$"),
    (with_layer(PECAN_A_REF, 0, weight_bits=8), "config.layers[0].weight_bits",
     r"unknown conv2d field; known: "),
    ({"input": DIGITS_INPUT, "layers": [
        {k: v for k, v in PECAN_A_REF["layers"][0].items() if k != "recip_bits"},
        *PECAN_A_REF["layers"][1:]]}, "config.layers[0].recip_bits", r"missing from the conv2d"),
])
def test_bad_fields_are_named(config, field, message):
    with pytest.raises(ArtifactError, match=rf"^{re.escape(field)}: {message}"):
        parse_network(config)


def test_softmax_tables_are_the_exporters_recipe():
    fields = {"exp_bits": 8, "exp_entries": 16, "prototypes": 4, "recip_bits": 12,
              "recip_shift": 2}
    exp, recip = softmax_tables(fields, 0.5)
    assert exp[0] == 255 and exp.tolist() == sorted(exp.tolist(), reverse=True)
    assert exp[2] == round(255 * np.exp(-1.0))
    assert len(recip) == recip_entries(fields) == (4 * 255 >> 2) + 1
    # R ~ 2**(11 + 8) / Z at the middle of each group of 4 Z values, saturated at 12 bits.
    assert recip[100] == round(2 ** 19 / (400 + 2)) and recip.max() == 4095
    z = np.arange(255, 4 * 255 + 1)
    weights = z * recip[z >> 2] / 2 ** 11
    # The weights of a row sum to 2**exp_bits within the reciprocal's precision.
    assert np.abs(weights / 256 - 1).max() < 2 ** 2 / (2 * 255) + 4 / 4095 + 1e-9


def with_offsets(config: dict) -> dict:
    return {**config, "layers": [{**layer, "prototype_offsets": True}
                                 if layer.get("transform") == "pecan-a" else layer
                                 for layer in config["layers"]]}


def test_prototype_offsets_are_an_option_with_an_array():
    # Off (absent): the arrays of before; on: an int32 offset per prototype.
    assert not any(k.endswith("_offset") for k in parse_network(PECAN_A_REF).array_specs())
    specs = parse_network(with_offsets(PECAN_A_REF)).array_specs()
    assert (specs["l3_offset"].dtype, specs["l3_offset"].shape, specs["l3_offset"].signed) == (
        "int32", (9, 8), True)
    assert parse_network(with_layer(PECAN_A_REF, 3, prototype_offsets=False)).layers[3].fields[
        "prototype_offsets"] is False


@pytest.mark.parametrize("offsets", [False, True])
def test_widths_bound_every_intermediate(offsets):
    art = random_artifact(with_offsets(PECAN_A_REF) if offsets else PECAN_A_REF, seed=3)
    net = parse_network(art.config)
    widths = derive_widths(net, art.arrays)
    images = np.stack(edge_images((1, 8, 8), 6, seed=3))
    x = images.astype(np.int64)
    for layer, lw, y in zip(net.layers, widths.layers, forward(art, images)):
        if layer.transform is not None:
            i, f, w = layer.index, layer.fields, lw.transform
            assert (f"l{i}_offset" in art.arrays) == offsets == ("offset_bits" in w)
            s = scores(vectors(layer, x), art.arrays[f"l{i}_codebook"],
                       art.arrays.get(f"l{i}_offset"))
            e = exp_terms(s, art.arrays[f"l{i}_exp"], f["exp_shift"])
            u = np.einsum("...jq,joq->...jo", e, art.arrays[f"l{i}_table"].astype(np.int64))
            r = art.arrays[f"l{i}_recip"].astype(np.int64)[e.sum(-1) >> f["recip_shift"]]
            for value, bits in ((s, w["dot_bits"]), (u, w["u_bits"]),
                                (u * r[..., None], w["prod_bits"])):
                assert -(1 << (bits - 1)) <= value.min() and value.max() < 1 << (bits - 1)
            assert (s.max(-1, keepdims=True) - s).max() < 1 << w["diff_bits"]
            assert e.sum(-1).max() < 1 << w["z_bits"]
            # Every tie in the max takes EXP[0].
            assert (e == art.arrays[f"l{i}_exp"][0]).sum() >= (s == s.max(-1, keepdims=True)).sum()
        x = y


def test_random_artifacts_tie_prototypes_and_calibrate_the_exp_shift():
    art = random_artifact(PECAN_A_REF, seed=1)
    cb = art.arrays["l3_codebook"]
    assert sum(len({row.tobytes() for row in cb[j]}) < cb.shape[1] for j in range(len(cb)))
    net = parse_network(art.config)
    # The largest difference to the maximum maps onto about twice the table's length.
    diff = (1 << derive_widths(net, art.arrays).layers[3].transform["diff_bits"]) - 1
    assert 32 <= diff >> art.config["layers"][3]["exp_shift"] < 4 * 64


def test_random_configs_draw_pecan_a_layers():
    kinds = {layer.get("transform") for seed in range(6)
             for layer in random_config(seed, transforms=("pecan-a", "dense"))["layers"]}
    assert {"pecan-a", "dense"} <= kinds
    for seed in range(6):
        parse_network(random_artifact(random_config(seed, transforms=("pecan-a",)),
                                      seed=seed).config)
