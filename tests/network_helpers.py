"""Shared helpers of the network tests: the digits-ref / digits-mlp shapes, test images, and
running a NetworkDesign's pipeline in Amaranth's simulator."""

from __future__ import annotations

import copy

import numpy as np

from edgeforge.sim.amaranth_stream import run_stream

DIGITS_INPUT = {"channels": 1, "height": 8, "width": 8, "bits": 8}


def conv(cin, cout, k=3, p=1, **kw):
    return {"kind": "conv2d", "transform": "dense", "in_channels": cin, "out_channels": cout,
            "kernel": k, "padding": p, "weight_bits": 8, "bias_bits": 16, "shift": 6,
            "out_bits": 8, **kw}


def linear(fin, fout, **kw):
    return {"kind": "linear", "transform": "dense", "in_features": fin, "out_features": fout,
            "weight_bits": 8, "bias_bits": 16, "shift": 6, "out_bits": 8, **kw}


RELU, FLATTEN, ARGMAX = {"kind": "relu"}, {"kind": "flatten"}, {"kind": "argmax"}
POOL2 = {"kind": "maxpool", "size": 2}

#: The reference network's shape (shifts are placeholders; random_artifact picks them).
DIGITS_REF = {"input": DIGITS_INPUT, "layers": [
    conv(1, 8), RELU, POOL2, conv(8, 8), RELU, POOL2, FLATTEN, linear(32, 32), RELU,
    linear(32, 10), ARGMAX]}
DIGITS_MLP = {"input": DIGITS_INPUT, "layers": [FLATTEN, linear(64, 32), RELU, linear(32, 10),
                                                ARGMAX]}
#: Foldings of digits-ref: a middle one between "folded" and "parallel".
DIGITS_REF_MIDDLE = [(2, 3), (4, 8), (4, 8), (5, 4)]


def with_layer(config: dict, index: int, **fields) -> dict:
    """A copy of network ``config`` with ``fields`` set in layer ``index`` (a bad-field case)."""
    changed = copy.deepcopy(config)
    changed["layers"][index].update(fields)
    return changed


def edge_images(shape, n_random: int, seed: int = 0) -> list[np.ndarray]:
    """All 0, all 255, then ``n_random`` seeded random uint8 images."""
    rng = np.random.default_rng(seed)
    return ([np.zeros(shape, np.uint8), np.full(shape, 255, np.uint8)]
            + [rng.integers(0, 256, size=shape, dtype=np.uint8) for _ in range(n_random)])


def beat_ints(beats: np.ndarray) -> list[int]:
    """Little-endian beat bytes as integers (what a stream driver sets)."""
    return [int.from_bytes(bytes(row), "little") for row in np.asarray(beats, np.uint8)]


def run_design(design, xs, **kwargs) -> tuple[list[int], list[int], int]:
    """Stream ``xs`` through ``design``'s pipeline in Amaranth's simulator.

    Returns ``(output payloads, expected payloads, cycle of the last output)``,
    the cycle counted from the first input transfer (cycle 0).
    """
    expected = beat_ints(design.encode_outputs([design.golden(x) for x in xs]))
    run = run_stream(kwargs.pop("dut", None) or design.build(),
                     beat_ints(design.encode_inputs(xs)), len(expected),
                     max_cycles=kwargs.pop("max_cycles", 2_000_000), **kwargs)
    # run_stream counts the edge of a transfer; the first input moves at edge 1 (cycle 0).
    return run.outputs, expected, run.last - 1


def check_against_model(design, xs, *, pauses: tuple[int, float, float] | None = None):
    """Stream ``xs`` through ``design``'s pipeline (:func:`run_design`): the outputs equal
    the golden model's and the last leaves at the cycle the cycle model schedules. With
    ``pauses = (seed, p_valid, p_ready)``, again under random valid gaps and backpressure:
    the same beats, never sooner. Returns the cycle model."""
    model = design.cycles()
    got, expected, last = run_design(design, xs)
    assert got == expected
    assert last == model.schedule(len(xs))[1]
    if pauses is not None:
        seed, p_valid, p_ready = pauses
        got, _, slow = run_design(design, xs, seed=seed, p_valid=p_valid, p_ready=p_ready)
        assert got == expected and slow >= last
    return model


def digits_test_images() -> np.ndarray:
    """The 540 digits test images of the spec's split, uint8 (N, 1, 8, 8)."""
    from edgeforge.models.data_digits import load_digits
    return load_digits("test")[0]


def random_folding(network, rng) -> list[tuple[int, int]]:
    """A random pair of divisors for every conv2d / linear layer (its kind's two knobs:
    dense (PE, SIMD), PECAN-D (groups, prototypes) a cycle)."""
    out = []
    for layer in network.layers:
        if layer.transform is not None:
            (m, _), (n, _) = layer.transform.fold_sizes(layer)
            out.append((int(rng.choice([d for d in range(1, m + 1) if m % d == 0])),
                        int(rng.choice([d for d in range(1, n + 1) if n % d == 0]))))
    return out


def pack(values, bits: int) -> int:
    """Integers as one payload, element ``k`` (two's complement) at ``bits k``."""
    return sum((int(v) & ((1 << bits) - 1)) << (bits * k) for k, v in enumerate(values))


def unpack(word: int, bits: int, n: int, is_signed: bool = True) -> list[int]:
    """The ``n`` elements of a payload (the inverse of :func:`pack`)."""
    vals = [(word >> (bits * k)) & ((1 << bits) - 1) for k in range(n)]
    return [v - (1 << bits) if is_signed and v >> (bits - 1) else v for v in vals]


def random_network_design(seed: int, transforms=("dense",), *, datapath: str = "wide",
                          logits: bool = True, extremes: float = 0.5):
    """A NetworkDesign of a random small network (weights ``extremes`` at the int extremes; layers
    of the kinds in ``transforms``, PECAN-D ones with tied prototypes), with a random
    folding and a random pixels per beat."""
    from edgeforge.hw.network.design import NetworkDesign
    from edgeforge.schemes.network import parse_network, random_artifact, random_config
    art = random_artifact(random_config(seed, transforms=transforms), seed=seed,
                          extremes=extremes)
    net = parse_network(art.config)
    rng = np.random.default_rng(seed)
    pixels = net.height * net.width
    ppb = int(rng.choice([d for d in range(1, pixels + 1) if pixels % d == 0]))
    return NetworkDesign(art, folding=random_folding(net, rng), pixels_per_beat=ppb,
                         logits=logits, datapath=datapath)


def pecan(config: dict, kind: str = "pecan-d") -> dict:
    """``config`` with every conv2d / linear a PECAN-D (or ``kind``) layer (one group per tap
    of a conv, groups of 4 of a linear, 8 prototypes:
    :func:`~edgeforge.schemes.network.with_transform`)."""
    from edgeforge.schemes.network import with_transform
    return {"input": config["input"], "layers": [
        with_transform(layer, kind) if layer.get("transform") else layer
        for layer in config["layers"]]}


#: digits-ref's layer list with two channels a conv and a 4-wide hidden layer: small enough
#: to build and synthesise in seconds.
SMALL_REF = {"input": DIGITS_INPUT, "layers": [
    conv(1, 2), RELU, POOL2, conv(2, 2), RELU, POOL2, FLATTEN, linear(8, 4), RELU,
    linear(4, 3), ARGMAX]}
PECAN_REF, PECAN_MLP, SMALL_PECAN = pecan(DIGITS_REF), pecan(DIGITS_MLP), pecan(SMALL_REF)
PECAN_A_REF, SMALL_PECAN_A = pecan(DIGITS_REF, "pecan-a"), pecan(SMALL_REF, "pecan-a")


def _pecan_a(layer: dict, groups: int, prototypes: int) -> dict:
    from edgeforge.schemes.network import with_transform
    return {**with_transform(layer, "pecan-a"), "groups": groups,
            "group_size": layer["in_features"] // groups, "prototypes": prototypes}


#: Three small PECAN-A linears on a 4x4 image: one build covers a fully folded, a middle and
#: a fully parallel core at TINY_PECAN_A_FOLDINGS (Verilator builds are the slow part).
TINY_PECAN_A = {"input": {"channels": 1, "height": 4, "width": 4, "bits": 8}, "layers": [
    FLATTEN, _pecan_a(linear(16, 4), 4, 4), RELU, _pecan_a(linear(4, 4), 2, 4), RELU,
    _pecan_a(linear(4, 3), 2, 2), ARGMAX]}
TINY_PECAN_A_FOLDINGS = [(1, 1), (1, 2), (2, 2)]
#: (groups, prototypes) a cycle per layer of PECAN_REF: between folded and parallel.
PECAN_REF_MIDDLE = [(3, 4), (9, 2), (4, 8), (2, 8)]


def check_traffic(design, xs) -> None:
    """The memory accesses of ``design``'s pipeline on ``xs`` (under random valid gaps and
    backpressure) equal its cycle model's traffic lines, memory by memory."""
    from edgeforge.hw.network.pipeline import traffic_line
    from edgeforge.sim.memory_probe import MemoryProbe
    dut = design.build()
    probe = MemoryProbe(dut)
    got, expected, _ = run_design(design, xs, dut=dut, probe=probe, p_valid=0.7, p_ready=0.6)
    assert got == expected
    measured = {t.memory: t for t in probe.lines(traffic_line)}
    model = {t.memory: t for t in design.cycle_model().traffic}
    assert sorted(measured) == sorted(model)
    for name, line in model.items():
        assert (measured[name].reads, measured[name].writes, measured[name].word_bits) == (
            line.reads * len(xs), line.writes * len(xs), line.word_bits), name
