"""Max-pool over ``size`` x ``size`` windows (stride ``size``) of a pixel stream.

Pixels arrive in raster order, one a beat with its channels together. A
running register holds the max of the current window's part of this row; at
the window's last column it is merged into the column register of that window
(the first window row loads it), and on the window's last row the merged max
leaves as one output pixel. Rows count modulo ``size``, so images follow one
another with no state to reset (``size`` divides the height).
"""

from __future__ import annotations

from amaranth import Module, Mux, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..logic import equals, refuse_quietly, select
from .vectors import index_signal, vector_signature, view

__all__ = ["MaxPool"]


def _max(a, b):
    return Mux(b > a, b, a)


class MaxPool(wiring.Component):
    """Max over each ``size`` x ``size`` window of ``channels``-channel pixels, ``width`` wide.

    Parameters
    ----------
    shape : Shape
        Element shape (signed or unsigned: the compare follows it).
    channels, width, size : int
        ``size`` divides ``width`` (and the image height, which the block needs not know).

    Members
    -------
    i : In(vector_signature(shape, channels))
        One pixel a beat, raster order.
    o : Out(vector_signature(shape, channels))
        One pooled pixel a beat, raster order.

    Takes a pixel a cycle while its output register is free or leaving; a
    pooled pixel is valid the cycle after the window's last pixel.
    """

    @refuse_quietly
    def __init__(self, shape, channels: int, width: int, size: int):
        if size < 2 or width % size:
            raise ValueError(f"size must be at least 2 and divide the width of {width}, "
                             f"got {size!r}")
        self.shape, self.channels, self.width, self.size = Shape.cast(shape), channels, width, size
        super().__init__({"i": In(vector_signature(self.shape, channels)),
                          "o": Out(vector_signature(self.shape, channels))})

    def elaborate(self, platform):
        m = Module()
        s, c = self.size, self.channels
        cols = self.width // s
        xi = index_signal(s, "xi")          # column within the window
        yi = index_signal(s, "yi")          # row within the window
        j = index_signal(cols, "j")         # window column
        v = view(self.i.payload, self.shape, c)
        run = view(Signal(self.shape.width * c, name="run"), self.shape, c)
        col = [view(Signal(self.shape.width * c, name=f"col{n}"), self.shape, c)
               for n in range(cols)]
        out = view(self.o.payload, self.shape, c)
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        take = self.i.valid & self.i.ready
        row_end, win_end = equals(xi, s - 1), equals(yi, s - 1)
        with m.If(take):
            m.d.sync += self.o.valid.eq(row_end & win_end)
            for ch in range(c):
                h = Signal(self.shape, name=f"h{ch}")
                merged = Signal(self.shape, name=f"merged{ch}")
                m.d.comb += [h.eq(Mux(equals(xi, 0), v[ch], _max(run[ch], v[ch]))),
                             merged.eq(Mux(equals(yi, 0), h,
                                           _max(select(j, [q[ch] for q in col]), h)))]
                m.d.sync += [run[ch].eq(h), out[ch].eq(merged)]
                for n in range(cols):
                    with m.If(row_end & equals(j, n)):
                        m.d.sync += col[n][ch].eq(merged)
            with m.If(row_end):
                m.d.sync += xi.eq(0)
                with m.If(equals(j, cols - 1)):
                    m.d.sync += [j.eq(0), yi.eq(Mux(win_end, 0, yi + 1))]
                with m.Else():
                    m.d.sync += j.eq(j + 1)
            with m.Else():
                m.d.sync += xi.eq(xi + 1)
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m
