"""The pecan-d transform kind of the network scheme: fields checked with the layer and value
named, array specs (codebooks on the layer input's scale), exact derived widths."""

import numpy as np
import pytest

from edgeforge.artifact import ArtifactError
from edgeforge.schemes.network import (derive_widths, parse_network, random_artifact,
                                       with_transform)

from network_helpers import ARGMAX, DIGITS_INPUT, FLATTEN, PECAN_REF, linear, with_layer




def test_pecan_ref_parses_with_its_arrays():
    net = parse_network(PECAN_REF)
    specs = net.array_specs()
    assert specs["l0_codebook"].shape == (9, 8, 1)            # a group per tap, d = C = 1
    assert specs["l3_codebook"].shape == (9, 8, 8)
    assert specs["l3_table"].shape == (9, 8, 8) and specs["l3_table"].dtype == "int16"
    assert specs["l7_codebook"].shape == (8, 8, 4) and specs["l9_bias"].shape == (10,)
    # Codebooks on the input's scale: the image's uint8, then the relu'd out_bits.
    assert (specs["l0_codebook"].dtype, specs["l0_codebook"].bits,
            specs["l0_codebook"].signed) == ("uint8", 8, False)
    assert (specs["l9_codebook"].dtype, specs["l9_codebook"].signed) == ("uint8", False)
    signed_in = {"input": DIGITS_INPUT, "layers": [
        FLATTEN, with_transform(linear(64, 8, out_bits=5), "pecan-d"),
        with_transform(linear(8, 4), "pecan-d"), ARGMAX]}
    spec = parse_network(signed_in).array_specs()["l2_codebook"]
    assert (spec.dtype, spec.bits, spec.signed) == ("int8", 5, True)


@pytest.mark.parametrize("config, field, message", [
    (with_layer(PECAN_REF, 0, groups=3), "config.layers[0].groups",
     r"groups x group_size must be the 9 inputs of the layer, got 3 x 1$"),
    (with_layer(PECAN_REF, 7, group_size=5), "config.layers[7].groups",
     r"groups x group_size must be the 32 inputs of the layer, got 8 x 5$"),
    (with_layer(PECAN_REF, 3, prototypes=0), "config.layers[3].prototypes",
     r"expected an integer >= 1, got 0$"),
    (with_layer(PECAN_REF, 9, table_bits=17), "config.layers[9].table_bits",
     r"expected an integer 2..16, got 17$"),
    (with_layer(PECAN_REF, 0, weight_bits=8), "config.layers[0].weight_bits",
     r"unknown conv2d field; known: "),
    ({"input": DIGITS_INPUT, "layers": [
        {k: v for k, v in PECAN_REF["layers"][0].items() if k != "table_bits"},
        *PECAN_REF["layers"][1:]]}, "config.layers[0].table_bits", r"missing from the conv2d"),
])
def test_bad_fields_are_named(config, field, message):
    with pytest.raises(ArtifactError, match=rf"^{__import__('re').escape(field)}: {message}"):
        parse_network(config)


def test_derived_widths_are_exact():
    art = random_artifact(PECAN_REF, seed=3)
    net = parse_network(art.config)
    widths = derive_widths(net, art.arrays)
    lw = widths.layers[0]
    table = art.arrays["l0_table"].astype(np.int64)
    bias = art.arrays["l0_bias"].astype(np.int64)
    # Every output's extremes: the bias plus each group's smallest (largest) entry or 0.
    assert lw.acc_range == (int((bias + np.minimum(table.min(axis=2), 0).sum(0)).min()),
                            int((bias + np.maximum(table.max(axis=2), 0).sum(0)).max()))
    cb = art.arrays["l0_codebook"].astype(np.int64)
    worst = int(np.maximum(cb, 255 - cb).sum(axis=2).max())
    assert lw.transform["dist_bits"] == worst.bit_length()
    assert widths.to_dict()[0]["dist_bits"] == lw.transform["dist_bits"]


def test_random_pecan_artifacts_tie_prototypes():
    # Random codebooks copy a prototype onto a later one in about half the groups.
    art = random_artifact(PECAN_REF, seed=1)
    cb = art.arrays["l3_codebook"]
    copies = sum(len({row.tobytes() for row in cb[j]}) < cb.shape[1] for j in range(len(cb)))
    assert copies > 0
