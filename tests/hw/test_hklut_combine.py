"""Stage arithmetic: floor by D exhaustively, the combiner's clamp, rounding half to even."""

import pytest
from amaranth import Module, Signal, signed
from amaranth.sim import Simulator

from edgeforge.hw.hklut.combine import (FloorDiv, centre, clamp_n, floor_div, round_half_even,
                                        times)
from edgeforge.schemes.hklut import HKLUTConfig

CONFIGS = [HKLUTConfig(), HKLUTConfig(msb_kernels="hd"), HKLUTConfig(lsb_kernels="hdb")]


def _run_comb(out, expr, check):
    """Drive ``out`` from ``expr`` combinationally and run the async ``check(ctx)``."""
    m = Module()
    m.d.comb += out.eq(expr)
    sim = Simulator(m)

    async def bench(ctx):
        await check(ctx)

    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("config", CONFIGS, ids=["hdb-hd", "hd-hd", "hdb-hdb"])
def test_floor_div_is_exact_over_every_n(config):
    widths = config.widths()
    fd = FloorDiv.derive(widths.denom, widths.n_max)
    assert all((n * fd.mult) >> fd.shift == n // widths.denom for n in range(widths.n_max + 1))
    # The RTL expression, exhaustively in the simulator.
    n = Signal(widths.n_bits)
    q = Signal(8)

    async def check(ctx):
        for value in range(widths.n_max + 1):
            ctx.set(n, value)
            assert ctx.get(q) == value // widths.denom, value

    _run_comb(q, floor_div(n, fd), check)


def test_floor_div_constants_refuse_bad_input():
    with pytest.raises(ValueError, match=r"^denom must be a positive integer, got 0$"):
        FloorDiv.derive(0, 10)
    with pytest.raises(ValueError, match=r"^n_max must be a non-negative integer, got -1$"):
        FloorDiv.derive(3, -1)


@pytest.mark.parametrize("config", CONFIGS, ids=["hdb-hd", "hd-hd", "hdb-hdb"])
def test_round_half_even_over_every_n(config):
    widths = config.widths()
    q, rem, out = Signal(8), Signal(max(1, (widths.denom - 1).bit_length())), Signal(8)

    async def check(ctx):
        for n in range(widths.n_max + 1):
            ctx.set(q, n // widths.denom)
            ctx.set(rem, n % widths.denom)
            assert ctx.get(out) == round(n / widths.denom), n    # Python rounds half to even

    _run_comb(out, round_half_even(q, rem, widths.denom), check)


def test_combine_clamps_and_weights():
    widths = HKLUTConfig().widths()      # D = 6, w_msb = 2, w_lsb = 3, n_max = 1530
    s_msb = Signal(signed(12))
    s_lsb = Signal(signed(11))
    q, rem, n = Signal(8), Signal(3), Signal(widths.n_bits)
    cases = [(0, 0, 0, 0), (0, 0, 255, 0), (10, -7, 100, 5), (-1536, -1024, 255, 0),
             (1524, 1016, 255, 0), (-300, 0, 100, 0), (250, 100, 0, 3), (1, 1, 254, 5)]

    async def check(ctx):
        for sm, sl, qc, rc in cases:
            ctx.set(s_msb, sm)
            ctx.set(s_lsb, sl)
            ctx.set(q, qc)
            ctx.set(rem, rc)
            expected = min(max(widths.w_msb * sm + widths.w_lsb * sl + widths.denom * qc + rc, 0),
                           widths.n_max)
            assert ctx.get(n) == expected, (sm, sl, qc, rc)

    # The lookup's combine, in one piece (the engine splits it over pipeline registers).
    total = (times(s_msb, widths.w_msb) + times(s_lsb, widths.w_lsb)
             + centre(widths, q, rem)).as_signed()
    _run_comb(n, clamp_n(widths, total), check)
