"""Seeded random designs of every engine, and many input sets for each (issue 19).

:data:`ENGINES` maps an engine's name (smoke, hklut, srlut, bicubic, and the network
engine's transform kinds dense, pecan-d, pecan-a, debut) to a function ``seed -> Design``:
a random valid artifact with a random valid hardware config, small enough to build in
seconds. The same
seed always gives the same design, so that a seed printed by a failing test rebuilds it.
:func:`input_sets` draws the inputs: the edge cases (all 0, all at the top) and seeded
random ones, part of them at the ends of their range only.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

#: The engines, in the order the README lists them.
ENGINE_NAMES = ("smoke", "hklut", "srlut", "bicubic", "dense", "pecan-d", "pecan-a", "debut")


def _smoke(seed: int):
    from edgeforge import generate
    from edgeforge.schemes.smoke import default_artifact
    rng = np.random.default_rng([seed, 0])
    return generate(default_artifact(addr_bits=int(rng.integers(1, 9)),
                                     data_bits=int(rng.integers(1, 17)), seed=seed))


def random_table_artifact(scheme: str, config, seed: int, extremes: float = 0.25):
    """An artifact of ``scheme`` (a LUT scheme: HKLUT, SR-LUT) whose every array is random
    within the range ``config.array_specs()`` declares, a fraction ``extremes`` of its
    entries at the two ends of that range (-128 and 127 for int8 tables)."""
    from edgeforge.artifact import Artifact
    rng = np.random.default_rng([seed, 2])
    arrays = {}
    for name, spec in config.array_specs().items():
        values = rng.integers(spec.min, spec.max + 1, size=spec.shape)
        ends = rng.random(spec.shape) < extremes
        arrays[name] = np.where(ends, rng.choice([spec.min, spec.max], size=spec.shape),
                                values).astype(spec.dtype)
    return Artifact(scheme, config.to_dict(), arrays, provenance={"source": "random",
                                                                  "seed": seed})


def _draw(rng, make):
    """``make(rng)`` until it returns a design: a draw the design refuses is drawn again."""
    while True:
        try:
            return make(rng)
        except ValueError:
            continue


def _hklut(seed: int, extremes: float = 0.25):
    from edgeforge.hw.hklut.design import HKLUTDesign
    from edgeforge.schemes.hklut import HKLUTConfig
    rng = np.random.default_rng([seed, 1])
    # Factors 1 and 2 and the 2-pixel kernel sets keep the tables (and the build) small.
    stages = tuple(int(r) for r in rng.choice([1, 2], size=int(rng.integers(1, 3))))
    config = HKLUTConfig(stages=stages, msb_kernels="hd", lsb_kernels="hd")
    art = random_table_artifact("hklut", config, seed, extremes)

    def make(rng):
        channels = int(rng.choice([1, 3]))
        return HKLUTDesign(art, width=int(rng.integers(3, 7)), height=int(rng.integers(3, 6)),
                           reads_per_table=[int(rng.choice([1, 2, 4]))]
                           + [int(rng.choice([1, 2, 4, 8, 16])) for _ in stages[1:]],
                           out_pixels=int(rng.choice([1, 2, 4])), channels=channels,
                           rgb_lanes=bool(channels == 3 and rng.random() < 0.5))
    return _draw(rng, make)


def _srlut(seed: int, extremes: float = 0.25):
    """SR-LUT-S or -F (the kernel sets the engine reads), one stage of factor 1..4, the
    interval at 2..256 levels with a table of at most a few thousand rows, a frame of 3..5
    x 3..4 pixels, the table on chip or behind the external read port at a random latency,
    random output pixels a beat and buffer memory kind."""
    from edgeforge.hw.srlut.design import SRLUTDesign
    from edgeforge.hw.srlut.engine import KERNELS, OUT_PIXELS, TABLE_PLACES
    from edgeforge.hw.logic import BUFFER_RAM
    from edgeforge.schemes.srlut import MAX_FACTOR, SRLUTConfig
    rng = np.random.default_rng([seed, 6])
    kernels = str(rng.choice(KERNELS))
    # 9^4 (S) and 17^3 (F) rows at the finest interval: the builds stay seconds.
    bits = int(rng.integers(5 if kernels == "s" else 4, 9))
    config = SRLUTConfig(kernels, (int(rng.integers(1, MAX_FACTOR + 1)),), bits)
    art = random_table_artifact("srlut", config, seed, extremes)

    def make(rng):
        return SRLUTDesign(art, width=int(rng.integers(3, 6)), height=int(rng.integers(3, 5)),
                           out_pixels=int(rng.choice(OUT_PIXELS)),
                           table=str(rng.choice(TABLE_PLACES)),
                           memory_latency=int(rng.integers(1, 7)),
                           buffer_ram=str(rng.choice(BUFFER_RAM)))
    return _draw(rng, make)


def _bicubic(seed: int):
    """A bicubic design: a random scale and coefficient precision, a grey or RGB frame of
    3..5 x 3..4 pixels, random output pixels a beat and buffer memory kind. (Its artifact
    holds no values to push to the ends of their ranges: its extremes are its inputs.)"""
    from edgeforge.hw.bicubic.design import BicubicDesign
    from edgeforge.hw.image_frames import CHANNELS
    from edgeforge.hw.bicubic.engine import OUT_PIXELS
    from edgeforge.hw.logic import BUFFER_RAM
    from edgeforge.schemes.bicubic import COEF_BITS, SCALES, default_artifact
    rng = np.random.default_rng([seed, 7])
    art = default_artifact(int(rng.choice(SCALES)), int(rng.choice(list(COEF_BITS))))

    def make(rng):
        return BicubicDesign(art, width=int(rng.integers(3, 6)), height=int(rng.integers(3, 5)),
                             out_pixels=int(rng.choice(OUT_PIXELS)),
                             channels=int(rng.choice(CHANNELS)),
                             buffer_ram=str(rng.choice(BUFFER_RAM)))
    return _draw(rng, make)


def _network(kind: str):
    def make(seed: int, extremes: float = 0.5):
        from network_helpers import random_network_design
        return random_network_design(seed, transforms=(kind,), extremes=extremes)
    return make


def debut_config(seed: int) -> dict:
    """A random small network config with every conv2d / linear a DeBut chain (the searched
    chain of its size; a layer no chain fits, such as 1 -> 1, stays dense) and random
    ``mid_bits``; at least one layer is a chain (else the next config seed is drawn)."""
    from edgeforge.models.debut.chain import search_chain
    from edgeforge.schemes.network import random_config
    for attempt in range(100):
        config = random_config(seed + 7919 * attempt, max_side=5, max_channels=3)
        rng = np.random.default_rng([seed, 3, attempt])
        chains = 0
        for index, layer in enumerate(config["layers"]):
            if layer.get("transform") != "dense":
                continue
            if layer["kind"] == "conv2d":
                size = (layer["out_channels"], layer["in_channels"], layer["kernel"])
            else:
                size = (layer["out_features"], layer["in_features"], 1)
            try:
                chain = search_chain(*size)
            except ValueError:
                continue
            factors = [list(f.as_tuple()) for f in chain.factors]
            config["layers"][index] = {**layer, "transform": "debut", "factors": factors,
                                       "shifts": [0] * (len(factors) - 1),
                                       "mid_bits": int(rng.integers(4, 9))}
            chains += 1
        if chains:
            return config
    raise AssertionError(f"no DeBut config for seed {seed}")


def _debut(seed: int, extremes: float = 0.5):
    from edgeforge.hw.network.design import NetworkDesign
    from edgeforge.schemes.network import parse_network, random_artifact
    art = random_artifact(debut_config(seed), seed=seed, extremes=extremes)
    net = parse_network(art.config)
    rng = np.random.default_rng([seed, 4])
    folding = [layer.transform.candidates(layer)[int(rng.integers(
        len(layer.transform.candidates(layer))))] for layer in net.layers if layer.transform]
    pixels = net.height * net.width
    ppb = int(rng.choice([d for d in range(1, pixels + 1) if pixels % d == 0]))
    return NetworkDesign(art, folding=folding, pixels_per_beat=ppb, logits=True)


ENGINES = {"smoke": _smoke, "hklut": _hklut, "srlut": _srlut, "bicubic": _bicubic,
           "dense": _network("dense"),
           "pecan-d": _network("pecan-d"), "pecan-a": _network("pecan-a"), "debut": _debut}


def input_sets(design, n: int, seed: int) -> list[np.ndarray]:
    """``n`` inputs for ``design``: its own edge cases first, then seeded random ones, every
    fourth of them with values at the two ends of the range only."""
    rng = np.random.default_rng([seed, 5])
    xs = list(design.test_inputs(seed))[:n]
    like = xs[-1]
    top = int(np.iinfo(like.dtype).max) if like.dtype.kind == "u" else int(like.max())
    if design.scheme == "smoke":
        top = (1 << design.addr_bits) - 1
    while len(xs) < n:
        if design.scheme == "smoke":
            shape = (int(rng.integers(1, 40)),)
        else:
            shape = like.shape
        if len(xs) % 4 == 0:
            x = rng.choice([0, top], size=shape)
        else:
            x = rng.integers(0, top + 1, size=shape)
        xs.append(x.astype(like.dtype))
    return xs


#: A default-suite build streams its input sets in at most this many cycles per pause mode.
DEFAULT_CYCLES = 20_000


@functools.lru_cache(maxsize=None)
def default_seed(engine: str, inputs: int = 100) -> int:
    """The build seed of ``engine`` in the default suite: the first from 1 whose ``inputs``
    input sets the cycle model streams in at most :data:`DEFAULT_CYCLES` cycles. Seed 1 for
    every engine but SR-LUT (20-30 cycles an LR pixel) and bicubic (``r^2`` cycles an LR
    pixel and plane), whose larger and RGB frames the ``--slow`` builds cover."""
    for seed in itertools.count(1):
        design = cached_design(engine, seed)
        beats = [len(design.encode_inputs([x])) for x in input_sets(design, inputs, seed)]
        if design.cycle_model().run(beats).total_cycles <= DEFAULT_CYCLES:
            return seed


@functools.lru_cache(maxsize=None)
def cached_design(engine: str, seed: int):
    """``ENGINES[engine](seed)``, one object per process: tests that write and that verify
    the same random design generate its Verilog once."""
    return ENGINES[engine](seed)


@functools.lru_cache(maxsize=None)
def extreme_design(engine: str, seed: int, extremes: float = 1.0):
    """A random design of ``engine`` (not smoke or bicubic) whose artifact has a fraction ``extremes`` of
    its weights, biases, tables and codebooks at the two ends of their declared ranges (1.0:
    all of them), for the overflow tests."""
    return ENGINES[engine](seed, extremes=extremes)
