"""The separable tap multiply-add: one window in, its ``r x r`` block of output pixels out.

A window (the 5 x 5 pixels around anchor ``i, j``, replicate-mapped at the borders)
stays at the input for ``r^2`` cycles, one per output phase ``(p_y, p_x)`` in raster
order. The arithmetic is the separable one of ``edgeforge.schemes.bicubic`` at full
precision, vertical pass first, so that a row of phases shares its column sums:

- vertical: while the ``r`` phases of row ``p_y`` are at the input, the column sums
  ``V[dx] = sum_ky c_y[p_y][ky] x[o_y + ky][dx]`` of the 5 window columns
  ``dx = -2..2`` are formed, :func:`column_groups` of them a cycle (5 columns over ``r``
  cycles: at most 2 at x4), by ``4 G`` multipliers (``G`` = the largest group), then
  held for the row's horizontal pass;
- horizontal: ``r`` cycles later each phase ``(p_y, p_x)`` takes
  ``S = sum_kx c_x[p_x][kx] V[o_x + kx]`` with 4 multipliers, rounds half up by
  ``2^(2F)`` and clamps to 8 bits.

Pipeline (one register level each, all advancing together while the output can move)::

    window, phase -> column taps -> products -> column sums V -> V of the row
       -> (r - 1 moves: the row's last column is in) -> V taps -> products
       -> rounded sum -> pixel -> block element (p_y r + p_x)

The block leaves when its last phase's pixel is in.
"""

from __future__ import annotations

from amaranth import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.bicubic import PIXEL_BITS, RADIUS, TAPS, BicubicConfig

from ..block_reorder import block_layout
from ..line_window import tap_index, window_layout
from ..logic import beat_phase, equals, refuse_quietly, select

__all__ = ["PIXEL", "column_groups", "pipeline_depth", "multipliers", "taps_layout",
           "BicubicTaps"]

def column_groups(scale: int) -> tuple[tuple[int, ...], ...]:
    """Window columns (-2..2) whose vertical sums phase ``p_x`` forms, for each ``p_x``:
    the 5 columns in order, split as evenly as the ``scale`` phases of a row allow."""
    cols, out, start = list(range(-RADIUS, RADIUS + 1)), [], 0
    for p in range(scale):
        n = len(cols) // scale + (p < len(cols) % scale)
        out.append(tuple(cols[start:start + n]))
        start += n
    return tuple(out)


def pipeline_depth(scale: int) -> int:
    """Register levels from a window's last phase at the input to its block at the output:
    column taps, products, column sums, the row's V, ``r - 1`` moves, V taps, products,
    rounded sum, pixel, block."""
    return 4 + (scale - 1) + 5


def multipliers(scale: int) -> tuple[int, int]:
    """``(vertical, horizontal)`` multipliers of the engine at ``scale``."""
    return TAPS * max(len(g) for g in column_groups(scale)), TAPS


#: The window's pixel: 8-bit ``q`` (the line buffer stores only it; ``rem`` is HKLUT's).
PIXEL = data.StructLayout({"q": unsigned(PIXEL_BITS), "rem": unsigned(1)})


def taps_layout() -> data.StructLayout:
    return window_layout(PIXEL)


class BicubicTaps(wiring.Component):
    """Windows in, ``r x r`` blocks of 8-bit output pixels out (one window per ``r^2`` cycles).

    Parameters
    ----------
    config : BicubicConfig

    Members
    -------
    i : In(stream.Signature(data.ArrayLayout(window_layout(PIXEL), 1)))
    o : Out(stream.Signature(data.ArrayLayout(block_layout(unsigned(8), r), 1)))

    Throughput: one window per ``r^2`` cycles, one output pixel a cycle. Latency:
    :func:`pipeline_depth` cycles after a window's last phase. Backpressure on ``o``
    stalls the whole pipeline (no window is dropped or repeated).
    """

    @refuse_quietly
    def __init__(self, config: BicubicConfig):
        if not isinstance(config, BicubicConfig):
            raise TypeError(f"config must be a BicubicConfig, got {type(config).__name__!r}")
        self.config, self.widths = config, config.widths()
        r = config.scale
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(taps_layout(), 1))),
            "o": Out(stream.Signature(data.ArrayLayout(block_layout(unsigned(PIXEL_BITS), r), 1))),
        })

    def elaborate(self, platform):
        m = Module()
        cfg, widths = self.config, self.widths
        r, phases = cfg.scale, cfg.scale ** 2
        coefs, offsets = cfg.coefficients(), cfg.offsets()
        groups = column_groups(r)
        units = max(len(g) for g in groups)
        window = self.i.payload[0]
        advance = ~self.o.valid | self.o.ready

        phase = beat_phase(m, phases, advance, self.i)
        py = [p // r for p in range(phases)]
        px = [p % r for p in range(phases)]

        # Metadata moving with the pipeline: stage k holds the phase the input had k moves ago.
        meta = data.StructLayout({"valid": 1, "last": 1, "phase": range(phases)})
        depth = pipeline_depth(r) - 1
        metas = [Signal(meta, name=f"meta{k}") for k in range(1, depth + 1)]
        with m.If(advance):
            m.d.sync += [metas[0].valid.eq(self.i.valid),
                         metas[0].last.eq(equals(phase, phases - 1)),
                         metas[0].phase.eq(phase)]
            m.d.sync += [b.eq(a) for a, b in zip(metas, metas[1:])]

        # -- vertical: the column taps of this cycle's group ---------------------------------
        # A row's first tap lies 2 or 1 pixels above the anchor.
        near_y = Signal()
        m.d.comb += near_y.eq(select(phase, [int(offsets[py[p]] == -1) for p in range(phases)]))
        coef_bits = widths.coef_bits
        vtap = [[Signal(PIXEL_BITS, name=f"vtap_{u}_{k}") for k in range(TAPS)]
                for u in range(units)]
        vcoef = [Signal(signed(coef_bits), name=f"vcoef_{k}") for k in range(TAPS)]
        with m.If(advance):
            for u in range(units):
                # Column of unit u in each phase (a unit without a column this phase repeats
                # the group's last: its sum is not kept).
                col = [groups[px[p]][min(u, len(groups[px[p]]) - 1)] for p in range(phases)]
                for k in range(TAPS):
                    by_phase = [window.q[tap_index(-2 + k + ny, dx)] for dx in
                                range(-RADIUS, RADIUS + 1) for ny in (0, 1)]
                    options = [Mux(near_y, by_phase[2 * (c + RADIUS) + 1],
                                   by_phase[2 * (c + RADIUS)]) for c in col]
                    m.d.sync += vtap[u][k].eq(select(phase, options))
            for k in range(TAPS):
                m.d.sync += vcoef[k].eq(select(phase, [Const(coefs[py[p]][k], signed(coef_bits))
                                                       for p in range(phases)]))
        vprod = [[Signal(signed(coef_bits + PIXEL_BITS), name=f"vprod_{u}_{k}")
                  for k in range(TAPS)] for u in range(units)]
        with m.If(advance):
            for u in range(units):
                m.d.sync += [p.eq(t * c) for p, t, c in zip(vprod[u], vtap[u], vcoef)]

        # -- column sums of the row (V_next), then the row's V once its last column is in -----
        column = signed(widths.column_bits)
        v_next = {dx: Signal(column, name=f"v_next_{dx + RADIUS}")
                  for dx in range(-RADIUS, RADIUS + 1)}
        v_row = {dx: Signal(column, name=f"v_row_{dx + RADIUS}")
                 for dx in range(-RADIUS, RADIUS + 1)}
        at_sums, at_row = metas[1], metas[2]      # the phase whose products / sums are in
        with m.If(advance & at_sums.valid):
            for p_x, group in enumerate(groups):
                with m.If(select(at_sums.phase, [int(px[p] == p_x) for p in range(phases)])):
                    for u, dx in enumerate(group):
                        m.d.sync += v_next[dx].eq(sum(vprod[u][1:], vprod[u][0]))
        row_done = select(at_row.phase, [int(px[p] == r - 1) for p in range(phases)])
        with m.If(advance & at_row.valid & row_done):
            m.d.sync += [v_row[dx].eq(v_next[dx]) for dx in v_row]

        # -- horizontal: r - 1 moves later every phase of the row finds its V in v_row --------
        # A phase's V taps are taken r + 3 cycles after it was at the input (its row's last
        # column is in v_row from r - 1 - p_x + 4 cycles after): stage r + 2.
        at_h = metas[r + 2]
        near_x = Signal()
        m.d.comb += near_x.eq(select(at_h.phase,
                                     [int(offsets[px[p]] == -1) for p in range(phases)]))
        htap = [Signal(column, name=f"htap_{k}") for k in range(TAPS)]
        hcoef = [Signal(signed(coef_bits), name=f"hcoef_{k}") for k in range(TAPS)]
        with m.If(advance):
            for k in range(TAPS):
                m.d.sync += htap[k].eq(Mux(near_x, v_row[-1 + k], v_row[-2 + k]))
                m.d.sync += hcoef[k].eq(select(at_h.phase, [
                    Const(coefs[px[p]][k], signed(coef_bits)) for p in range(phases)]))
        sum_shape = signed(widths.sum_bits)
        hprod = [Signal(sum_shape, name=f"hprod_{k}") for k in range(TAPS)]
        with m.If(advance):
            m.d.sync += [p.eq(t * c) for p, t, c in zip(hprod, htap, hcoef)]

        # -- S + 2^(2F-1), then shifted by 2F and clamped to 0..255 --------------------------
        rounded = Signal(sum_shape)
        with m.If(advance):
            m.d.sync += rounded.eq(sum(hprod[1:], hprod[0]) + (1 << (widths.shift - 1)))
        level = rounded[widths.shift:]          # floor((S + half) / 2^(2F)), signed
        top = (1 << PIXEL_BITS) - 1
        pixel = Signal(PIXEL_BITS)
        with m.If(advance):
            m.d.sync += pixel.eq(Mux(rounded < 0, 0, Mux(level.as_signed() > top, top, level)))

        # -- into the block; out when its last phase is in -----------------------------------
        at_pixel = metas[-1]
        block = self.o.payload[0]
        with m.If(advance):
            m.d.sync += self.o.valid.eq(at_pixel.valid & at_pixel.last)
            with m.If(at_pixel.valid):
                for a in range(phases):
                    with m.If(equals(at_pixel.phase, a)):
                        m.d.sync += block[a].eq(pixel)
        return m
