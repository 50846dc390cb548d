"""The bicubic engine: HKLUT's line window (replicate border), the tap multiply-add, the re-order.

::

    i (8-bit pixel) -> LineWindow -> BicubicTaps -> BlockReorder -> o (P pixels a beat)

One window a pixel, ``r^2`` cycles each (one output pixel a cycle); the re-order turns
the ``r x r`` blocks of a row into ``r`` raster output rows, as in the HKLUT engine.
"""

from __future__ import annotations

from amaranth import Module, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.bicubic import PIXEL_BITS, RADIUS, BicubicConfig

from ..block_reorder import BlockReorder, check_out_pixels
from ..line_window import SLOTS, LineWindow, stored_layout
from ..logic import MAX_SIDE, check_buffer_ram, check_side, refuse_quietly
from .taps import PIXEL, BicubicTaps

__all__ = ["OUT_PIXELS", "MAX_SIDE", "BORDER", "buffer_bits", "BicubicEngine"]

OUT_PIXELS = (1, 2, 4)
BORDER = "replicate"


def buffer_bits(config: BicubicConfig, width: int) -> int:
    """Bits held by the line buffer (``SLOTS`` rows of 8-bit pixels) and the re-order (two
    block rows: ``2 r`` output rows of ``w r`` 8-bit pixels)."""
    r = config.scale
    return SLOTS * width * stored_layout(PIXEL, False).size + 2 * r * width * r * PIXEL_BITS


class BicubicEngine(wiring.Component):
    """Streams one channel's frames in and their bicubic x``scale`` frames out.

    Parameters
    ----------
    config : BicubicConfig
    width, height : int
        Input frame size, each ``RADIUS + 1`` (3) .. :data:`MAX_SIDE`.
    out_pixels : int
        Output pixels per beat ``P``, one of :data:`OUT_PIXELS`; must divide the output
        row (``width * scale``).
    buffer_ram : str
        Memory kind of the line and re-order buffers (:data:`~edgeforge.hw.logic.BUFFER_RAM`).

    Members
    -------
    i : In(stream.Signature(8))
        Input pixels in raster order, frames (and channel planes) back to back.
    o : Out(stream.Signature(8 * out_pixels))
        Output pixels in raster order, pixel ``k`` of a beat in bits ``[8k+7:8k]``.

    Throughput and latency: ``edgeforge.sim.cycles.bicubic``. Backpressure on ``o`` or
    gaps on ``i`` never lose, repeat or reorder a pixel.

    Raises
    ------
    ValueError
        For a size below 3 or above :data:`MAX_SIDE`, an ``out_pixels`` not in
        :data:`OUT_PIXELS` or not dividing the output row, or an unknown buffer_ram.
    """

    @refuse_quietly
    def __init__(self, config: BicubicConfig, *, width: int, height: int, out_pixels: int = 1,
                 buffer_ram: str = "auto"):
        self.check_config(config, width=width, height=height, out_pixels=out_pixels,
                          buffer_ram=buffer_ram)
        self.config, self.width, self.height = config, width, height
        self.out_pixels, self.buffer_ram = out_pixels, buffer_ram
        super().__init__({"i": In(stream.Signature(PIXEL_BITS)),
                          "o": Out(stream.Signature(PIXEL_BITS * out_pixels))})

    @staticmethod
    def check_config(config: BicubicConfig, *, width: int, height: int, out_pixels: int = 1,
                     buffer_ram: str = "auto") -> None:
        """Validate an engine config (see the class's Raises)."""
        if not isinstance(config, BicubicConfig):
            raise TypeError(f"config must be a BicubicConfig, got {type(config).__name__!r}")
        check_side("width", width, RADIUS + 1)
        check_side("height", height, RADIUS + 1)
        check_out_pixels(out_pixels, OUT_PIXELS, width * config.scale)
        check_buffer_ram(buffer_ram)

    def elaborate(self, platform):
        m = Module()
        r = self.config.scale
        window = LineWindow(PIXEL, self.width, self.height, 1, buffer_ram=self.buffer_ram,
                            carries_rem=False, border=BORDER)
        taps = BicubicTaps(self.config)
        reorder = BlockReorder(unsigned(PIXEL_BITS), r, self.width, self.out_pixels, 1,
                               buffer_ram=self.buffer_ram)
        # Submodule names as the HKLUT engine's first stage (its traffic lines use them).
        m.submodules.s0_window = window
        m.submodules.s0_taps = taps
        m.submodules.s0_reorder = reorder
        m.d.comb += [window.i.payload[0].q.eq(self.i.payload),
                     window.i.valid.eq(self.i.valid), self.i.ready.eq(window.i.ready)]
        wiring.connect(m, window=window.o, taps=taps.i)
        wiring.connect(m, taps=taps.o, reorder=reorder.i)
        m.d.comb += [self.o.payload.eq(reorder.o.payload),
                     self.o.valid.eq(reorder.o.valid), reorder.o.ready.eq(self.o.ready)]
        return m
