"""Shared by the PECAN-D and PECAN-A tests: a transform's golden accumulation held to a loop
reading of its spec on random networks, and a core run on vectors in Amaranth's simulator."""

from __future__ import annotations

import numpy as np

from edgeforge.schemes.network import derive_widths, parse_network, random_artifact, random_config
from edgeforge.sim.amaranth_stream import run_stream
from edgeforge.sim.golden.network import forward, requantise

from network_helpers import edge_images, pack, unpack


def check_golden_equals_loop(kind: str, seed: int, transforms, images: int, accumulate,
                             loop_accumulate) -> None:
    """On a random network of ``transforms`` (tied prototypes, values at the extremes), every
    ``kind`` layer's batched ``accumulate(layer, arrays, x)`` equals ``loop_accumulate`` (the
    spec read step by step), the walker requantises it to the layer's output, and the derived
    widths bound it; at least one layer is checked. ``images``: random images beside the
    edge images."""
    art = random_artifact(random_config(seed, transforms=transforms), seed=seed, extremes=0.5)
    net = parse_network(art.config)
    xs = np.stack(edge_images(net.input_shape, images, seed=seed))
    outs = forward(art, xs)
    x = xs.astype(np.int64)
    widths = derive_widths(net, art.arrays)
    checked = 0
    for layer, lw, y in zip(net.layers, widths.layers, outs):
        if layer.transform is not None and layer.fields["transform"] == kind:
            acc = loop_accumulate(layer, art.arrays, x)
            np.testing.assert_array_equal(accumulate(layer, art.arrays, x), acc)
            bits = layer.fields["out_bits"]
            lo, hi = (0, (1 << bits) - 1) if layer.relu else (-(1 << (bits - 1)),
                                                              (1 << (bits - 1)) - 1)
            np.testing.assert_array_equal(y, requantise(acc, layer.fields["shift"], lo, hi))
            # The derived widths bound the accumulators.
            assert lw.acc_range[0] <= acc.min() and acc.max() <= lw.acc_range[1]
            checked += 1
        x = y
    assert checked


def check_core_stream(dut, xs, acc_bits: int, expected, *, seed=0, p_valid=1.0, p_ready=1.0):
    """Stream the vectors ``xs`` (8-bit elements) through a PECAN core ``dut`` in Amaranth's
    simulator: its beats, as ``c_out`` signed ``acc_bits`` accumulators, equal ``expected``
    (a list per vector). Returns the run."""
    run = run_stream(dut, [pack(x, 8) for x in xs], len(xs), seed=seed, p_valid=p_valid,
                     p_ready=p_ready)
    assert [unpack(w, acc_bits, dut.outputs) for w in run.outputs] == expected
    return run
