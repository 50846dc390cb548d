"""Issue 19.2-19.4: randomized equivalence of every engine, overflow at the extremes, and the
two simulators agreeing.

- **Random builds.** For each engine (smoke, HKLUT, SR-LUT, bicubic, the network engine with
  dense, PECAN-D, PECAN-A and DeBut layers) a seeded random artifact and hardware config
  (``robust_helpers.ENGINES``) and :data:`INPUTS` seeded input sets, streamed back to back
  through the RTL in cocotb without pauses and under random valid gaps and ready
  backpressure (and, with ``--slow``, heavy pauses); every output beat must equal the golden
  model's, in order, none lost and none extra. The default suite runs one build per engine
  (``robust_helpers.default_seed``), ``--slow`` :data:`SLOW_BUILDS` more. A failure names
  the build seed and the run's seed that reproduce it.
- **Overflow.** Hypothesis properties draw network and SR-LUT artifacts whose weights,
  biases, tables and codebooks all sit at the ends of their declared ranges (and bicubic
  configs at every scale and precision) with inputs at 0 and 255, and check that the
  golden model's exact accumulators never leave the widths the design derived; per engine,
  one build of such an all-extremes artifact (the values fixed per build) takes inputs
  hypothesis draws, golden == RTL.
- **Two simulators.** The same build and inputs on Icarus and Verilator: both pass, and
  every measured cycle figure is the same.

The default simulator of the random builds is Icarus (a build takes seconds, Verilator's a
minute here); ``--simulator verilator`` runs them on Verilator.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from robust_helpers import ENGINE_NAMES, cached_design, default_seed, extreme_design, input_sets
from simulators import rtl_simulator

#: Input sets streamed through each build.
INPUTS = 100
#: Build seeds that --slow adds, per engine.
SLOW_BUILDS = tuple(range(1000, 1030))


def _equivalence(engine: str, seed: int, pauses: str | None = None):
    design = cached_design(engine, seed)
    xs = input_sets(design, INPUTS, seed)
    result = design.verify(xs, simulator=rtl_simulator("icarus"), seed=seed, pauses=pauses)
    again = (f"engine {engine!r}, build seed {seed} (robust_helpers.ENGINES[{engine!r}]({seed}),"
             f" {design.name}), run seed {result.seed}")
    assert result.passed, f"{again}: " + "; ".join(result.failures[:5])
    assert result.inputs == INPUTS
    for name, run in result.measurements.items():
        # Nothing lost and nothing duplicated: the testbench counts every transfer.
        assert (run["in_transfers"], run["out_transfers"]) == (
            result.input_beats, result.output_beats), f"{again}: {name}"
    return result


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_random_build_equals_golden(engine):
    _equivalence(engine, default_seed(engine, INPUTS))


def test_a_one_column_conv_output_runs_on_icarus():
    # Dense build 1029 (a 3x3 conv without padding over 3 columns, then a 1x1 conv over the
    # one left) gave no output under cocotb's `iverilog -g2012`: its counters never change,
    # so yosys's time-0 start of their `always @*` blocks, an event only in Verilog-2005,
    # never came, and X reached every valid (sim/runner.py now builds with -g2005).
    _equivalence("dense", 1029, pauses="none:none")


def _sweep_params():
    for engine in ENGINE_NAMES:
        for seed in SLOW_BUILDS:
            yield pytest.param(engine, seed, id=f"{engine}-{seed}")


@pytest.mark.slow
@pytest.mark.parametrize("engine, seed", list(_sweep_params()))
def test_random_build_equals_golden_sweep(engine, seed):
    _equivalence(engine, seed, pauses="none:none,random:random,heavy:heavy")


# -- overflow: artifacts at the extremes of their ranges -----------------------------------

def _exact_accumulators(art, images) -> list[tuple[int, int, int]]:
    """(layer index, min, max) of every conv2d / linear layer's exact (int64) accumulator."""
    from edgeforge.schemes.network import parse_network, resolve
    from edgeforge.sim.golden.network import run_layer
    net = parse_network(art.config)
    x, out = np.asarray(images, np.int64), []
    for index, layer in enumerate(net.layers):
        if layer.transform is not None:
            acc = resolve(layer.transform.golden)(layer, art.arrays, x)
            out.append((index, int(acc.min()), int(acc.max())))
        x = run_layer(net, art.arrays, index, x)
    return out


def _extreme_images(shape, seed: int, ends: bool) -> list[np.ndarray]:
    """All 255, all 0, then six seeded images of 0s and 255s (``ends``) or of any values."""
    rng = np.random.default_rng(seed)
    images = [np.full(shape, 255, np.uint8), np.zeros(shape, np.uint8)]
    return images + [(rng.random(shape) < 0.5).astype(np.uint8) * 255 if ends else
                     rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(6)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["dense", "pecan-d", "pecan-a", "debut"]),
       seed=st.integers(0, 10_000), ends=st.booleans())
def test_derived_widths_hold_every_accumulator_at_the_extremes(kind, seed, ends):
    """Every value at an end of its range, inputs at 0 and 255: the golden model's exact
    accumulators stay inside the range the widths were derived for (so the RTL's registers,
    which have exactly those widths, cannot wrap)."""
    from edgeforge.schemes.network import derive_widths, parse_network, range_bits
    design = extreme_design(kind, seed, extremes=1.0)
    art = design.artifact
    widths = derive_widths(parse_network(art.config), art.arrays)
    for x in _extreme_images(parse_network(art.config).input_shape, seed, ends):
        for index, lo, hi in _exact_accumulators(art, x[None]):
            lw = widths.layers[index]
            assert lw.acc_range[0] <= lo and hi <= lw.acc_range[1], (kind, seed, index)
            assert range_bits(min(lo, -1), hi)[0] <= lw.acc_bits


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), tables=st.sampled_from(["ends", "top", "bottom"]),
       ends=st.booleans())
def test_srlut_sums_stay_within_the_derived_width(seed, tables, ends):
    """Every table entry at -128 or 127 (``top`` / ``bottom``: all at one end), inputs at 0 and
    255: the golden model's exact sum T stays in ``SRLUTConfig.sum_range()``, which the
    engine's accumulators (``sum_bits`` wide) hold; a flat table at an end reaches it."""
    from edgeforge.schemes.network import range_bits
    from edgeforge.sim.golden.srlut import stage_sums
    design = extreme_design("srlut", seed)
    config, arrays = design.sr_config, dict(design.artifact.arrays)
    lo, hi = config.sum_range()
    assert range_bits(lo, hi) == (config.sum_bits, True)
    if tables != "ends":
        spec = next(iter(config.array_specs().values()))
        arrays = {name: np.full_like(a, spec.max if tables == "top" else spec.min)
                  for name, a in arrays.items()}
    for x in _extreme_images((design.height, design.width), seed, ends):
        (total, _), = stage_sums((arrays, config), x)
        assert lo <= total.min() and total.max() <= hi, (seed, design.name)
        if tables != "ends":
            assert (total == (hi if tables == "top" else lo)).all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scale=st.sampled_from([2, 3, 4]), coef_bits=st.integers(6, 12),
       seed=st.integers(0, 10_000), ends=st.booleans())
def test_bicubic_sums_stay_within_the_derived_widths(scale, coef_bits, seed, ends):
    """Inputs at 0 and 255 (or any): the exact column sums V and tap sums S of the golden
    model stay in the ranges ``BicubicWidths`` derived from the coefficients, and so in the
    engine's ``column_bits`` / ``sum_bits`` registers (``sum_bits`` with the rounding half)."""
    from edgeforge.schemes.bicubic import BicubicConfig
    from edgeforge.schemes.network import range_bits
    from edgeforge.sim.golden.bicubic import tap_sums
    config = BicubicConfig(scale, coef_bits)
    w = config.widths()
    assert range_bits(*w.column_range)[0] <= w.column_bits
    assert range_bits(w.sum_range[0], w.sum_range[1] + (1 << (w.shift - 1)))[0] <= w.sum_bits
    for x in _extreme_images((5, 6), seed, ends):
        column, total = tap_sums(config, x)
        assert w.column_range[0] <= column.min() and column.max() <= w.column_range[1]
        assert w.sum_range[0] <= total.min() and total.max() <= w.sum_range[1]


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_ranges_are_reached(scale):
    """The derived ranges are exact, not loose: for every precision an image of 0s and 255s
    (255 where a tap's coefficient product has the sign sought) reaches each end."""
    from edgeforge.schemes.bicubic import COEF_BITS, TAPS, BicubicConfig
    from edgeforge.sim.golden.bicubic import tap_sums
    i = j = 5                                   # an anchor clear of the border
    for coef_bits in COEF_BITS:
        config = BicubicConfig(scale, coef_bits)
        c, o, w = config.coefficients(), config.offsets(), config.widths()
        reached = {"column": set(), "sum": set()}
        for py in range(scale):
            for px in range(scale):
                for sign in (1, -1):
                    x = np.zeros((12, 12), np.uint8)
                    for ky in range(TAPS):
                        for kx in range(TAPS):
                            if sign * c[py][ky] * c[px][kx] > 0:
                                x[i + o[py] + ky, j + o[px] + kx] = 255
                    reached["sum"].add(int(tap_sums(config, x)[1][scale * i + py,
                                                                  scale * j + px]))
                    x = np.zeros((12, 12), np.uint8)
                    x[[i + o[py] + k for k in range(TAPS) if sign * c[py][k] > 0], j] = 255
                    reached["column"].add(int(tap_sums(config, x)[0][scale * i + py, j]))
        assert (min(reached["column"]), max(reached["column"])) == w.column_range, coef_bits
        assert (min(reached["sum"]), max(reached["sum"])) == w.sum_range, coef_bits


@pytest.mark.parametrize("engine", ["dense", "pecan-d", "pecan-a", "debut", "hklut", "srlut",
                                    "bicubic"])
def test_extreme_artifact_golden_equals_rtl(engine):
    """One build per engine of an artifact with every value at an end of its range; hypothesis
    draws the inputs (each example a run of the same build: only the first compiles). A
    bicubic artifact holds no values (its coefficients follow from its config), so there
    the inputs are the extremes, on the default suite's build."""
    design = (cached_design(engine, default_seed(engine, INPUTS)) if engine == "bicubic"
              else extreme_design(engine, 5, extremes=1.0))
    simulator = rtl_simulator("icarus")
    shape, top = design.test_inputs(0)[0].shape, 255

    @settings(max_examples=2, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.integers(0, 2 ** 31), st.sampled_from(["ends", "any"])),
                    min_size=8, max_size=12))
    def property_(draws):
        xs = []
        for draw_seed, how in draws:
            rng = np.random.default_rng(draw_seed)
            x = (rng.choice([0, top], size=shape) if how == "ends"
                 else rng.integers(0, top + 1, size=shape))
            xs.append(x.astype(np.uint8))
        # Without pauses: backpressure is the random builds' part, values are this one's.
        result = design.verify(xs, simulator=simulator, seed=draws[0][0] % (2 ** 32),
                               pauses="none:none")
        assert result.passed, (f"{engine} extremes build {design.name}, run seed "
                               f"{result.seed}: {result.failures[:3]}")

    property_()


# -- two simulators ------------------------------------------------------------------------

def _agree(design):
    xs = input_sets(design, 12, 3)
    runs = {}
    for simulator in ("icarus", "verilator"):
        from edgeforge.sim.runner import simulator_missing_reason
        if simulator_missing_reason(simulator):
            pytest.skip(simulator_missing_reason(simulator))
        result = design.verify(xs, simulator=simulator, seed=11)
        assert result.passed, (simulator, result.failures)
        runs[simulator] = result.measurements
    # Same beats, same pauses (one seed), same cycles: the two simulators agree exactly.
    assert runs["icarus"] == runs["verilator"]


def test_simulators_agree_on_smoke():
    # The built-in smoke artifact: test_cli verifies it on Verilator too, one cached build.
    from edgeforge import generate
    from edgeforge.schemes.smoke import default_artifact
    _agree(generate(default_artifact()))


@pytest.mark.slow
@pytest.mark.parametrize("engine", [e for e in ENGINE_NAMES if e != "smoke"])
def test_simulators_agree(engine):
    # A Verilator build per engine: 30-90 s each on the shared machine.
    _agree(cached_design(engine, default_seed(engine, INPUTS)))


def test_one_bit_ports():
    """Found by the --slow smoke builds: a 1-bit output port reads in cocotb as a Logic,
    which the testbench read as a LogicArray (no to_unsigned): every run failed."""
    from edgeforge import generate
    from edgeforge.schemes.smoke import default_artifact
    design = generate(default_artifact(addr_bits=1, data_bits=1, seed=2))
    xs = input_sets(design, 4, 2)
    result = design.verify(xs, simulator=rtl_simulator("icarus"), seed=2)
    assert result.passed, result.failures
