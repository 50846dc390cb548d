"""The 4 x 4 tap multiply-add: one window in, its ``r x r`` block of output pixels out.

A window (the 5 x 5 pixels around anchor ``i, j``, replicate-mapped at the borders)
stays at the input for ``r^2`` cycles, one per output phase ``(p_y, p_x)`` in
raster order. Each cycle, 16 multipliers form ``x c_y c_x`` for the phase's 4 x 4
taps, with ``c_y c_x`` the 2-D coefficient (``edgeforge.schemes.bicubic``: the
product of two 1-D coefficients, ``2F`` fractional bits, selected by the phase
from constants). Pipeline (one register level each, all advancing together
while the output can move)::

    window, phase -> taps and coefficients -> 16 products -> 4 row sums
                  -> sum, round half up, clamp (8-bit pixel) -> block element (p_y r + p_x)

The block leaves when its last phase's pixel is in. Taps ``(dy, dx)`` of phase
``(p_y, p_x)`` are ``o_{p_y} + k_y`` and ``o_{p_x} + k_x``, ``k = 0..3``, with
``o_p`` (-2 or -1) from :meth:`~edgeforge.schemes.bicubic.BicubicConfig.offsets`.
"""

from __future__ import annotations

from amaranth import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.bicubic import PIXEL_BITS, TAPS, BicubicConfig

from ..hklut.index import tap_index
from ..hklut.linebuffer import window_layout
from ..hklut.lookup import block_layout
from ..logic import equals, refuse_quietly, select

__all__ = ["PIPELINE_DEPTH", "PIXEL", "taps_layout", "BicubicTaps"]

# Register levels from a window's last phase at the input to its block at the output:
# taps, products, row sums, pixel, block.
PIPELINE_DEPTH = 5

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
    :data:`PIPELINE_DEPTH` cycles after a window's last phase. Backpressure on ``o``
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
        window = self.i.payload[0]
        advance = ~self.o.valid | self.o.ready

        phase = Signal(range(phases))
        m.d.comb += self.i.ready.eq(advance & equals(phase, phases - 1))
        with m.If(advance & self.i.valid):
            with m.If(equals(phase, phases - 1)):
                m.d.sync += phase.eq(0)
            with m.Else():
                m.d.sync += phase.eq(phase + 1)

        meta = data.StructLayout({"valid": 1, "last": 1, "phase": range(phases)})
        metas = [Signal(meta, name=f"meta{s}") for s in range(1, 5)]
        with m.If(advance):
            m.d.sync += [metas[0].valid.eq(self.i.valid),
                         metas[0].last.eq(equals(phase, phases - 1)),
                         metas[0].phase.eq(phase)]
            m.d.sync += [b.eq(a) for a, b in zip(metas, metas[1:])]

        # -- stage 1: the phase's 16 taps and 2-D coefficients --------------------------
        # A phase's first tap lies 2 or 1 pixels before the anchor, in each direction.
        near_y = Signal()     # o_{p_y} == -1
        near_x = Signal()
        m.d.comb += [near_y.eq(select(phase, [int(offsets[p // r] == -1) for p in range(phases)])),
                     near_x.eq(select(phase, [int(offsets[p % r] == -1) for p in range(phases)]))]
        coef_shape = signed(widths.product_coef_bits)
        tap1 = [Signal(PIXEL_BITS, name=f"tap_{k}") for k in range(TAPS * TAPS)]
        coef1 = [Signal(coef_shape, name=f"coef_{k}") for k in range(TAPS * TAPS)]
        with m.If(advance):
            for ky in range(TAPS):
                for kx in range(TAPS):
                    k = ky * TAPS + kx
                    far = [window.q[tap_index(-2 + ky + ny, -2 + kx + nx)]
                           for ny in (0, 1) for nx in (0, 1)]
                    m.d.sync += tap1[k].eq(Mux(near_y, Mux(near_x, far[3], far[2]),
                                               Mux(near_x, far[1], far[0])))
                    m.d.sync += coef1[k].eq(select(phase, [
                        Const(coefs[p // r][ky] * coefs[p % r][kx], coef_shape)
                        for p in range(phases)]))

        # -- stage 2: the 16 products -----------------------------------------------------
        product_shape = signed(widths.product_coef_bits + PIXEL_BITS)
        products = [Signal(product_shape, name=f"product_{k}") for k in range(TAPS * TAPS)]
        with m.If(advance):
            m.d.sync += [p.eq(t * c) for p, t, c in zip(products, tap1, coef1)]

        # -- stage 3: one sum per tap row ---------------------------------------------------
        sum_shape = signed(widths.sum_bits)
        rows = [Signal(sum_shape, name=f"row_sum_{ky}") for ky in range(TAPS)]
        with m.If(advance):
            for ky, row in enumerate(rows):
                terms = products[ky * TAPS:(ky + 1) * TAPS]
                m.d.sync += row.eq(sum(terms[1:], terms[0]))

        # -- stage 4: S + 2^(2F-1), shifted by 2F, clamped to 0..255 ------------------------
        rounded = Signal(sum_shape)
        m.d.comb += rounded.eq(sum(rows[1:], rows[0]) + (1 << (widths.shift - 1)))
        level = rounded[widths.shift:]          # floor((S + half) / 2^(2F)), signed
        top = (1 << PIXEL_BITS) - 1
        pixel = Signal(PIXEL_BITS)
        with m.If(advance):
            m.d.sync += pixel.eq(Mux(rounded < 0, 0, Mux(level.as_signed() > top, top, level)))

        # -- stage 5: into the block; out when its last phase is in -------------------------
        block = self.o.payload[0]
        with m.If(advance):
            m.d.sync += self.o.valid.eq(metas[3].valid & metas[3].last)
            with m.If(metas[3].valid):
                for a in range(phases):
                    with m.If(equals(metas[3].phase, a)):
                        m.d.sync += block[a].eq(pixel)
        return m
