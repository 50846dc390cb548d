"""Max-pool over ``size`` x ``size`` windows (stride ``size``) of a pixel stream.

Pixels arrive in raster order, one a beat with its channels together. A
running register holds the max of the current window's part of this row; at
the window's last column it is merged into the column register of that window
(the first window row loads it), and on the window's last row the merged max
leaves as one output pixel. Rows count modulo ``size``, so images follow one
another with no state to reset (``size`` divides the height).

:class:`NarrowPool` is the same pool on a stream of a few channels a beat (the narrow
datapath), its column maxima in a memory instead of registers.
"""

from __future__ import annotations

from amaranth import Module, Mux, Shape, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..logic import buffer_attrs, equals, refuse_quietly, select
from .vectors import index_signal, vector_signature, view

__all__ = ["MaxPool", "NarrowPool"]


def _max(a, b):
    return Mux(b > a, b, a)


def _check_size(width: int, size: int) -> None:
    if size < 2 or width % size:
        raise ValueError(f"size must be at least 2 and divide the width of {width}, "
                         f"got {size!r}")


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
        _check_size(width, size)
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


class NarrowPool(wiring.Component):
    """:class:`MaxPool` on a stream of ``lanes`` channels a beat (``C / lanes`` beats a pixel).

    The running maxima of a window row live in one memory of ``(W / size) (C / lanes)`` words
    (``cols``: window column, channel group), not in registers: a beat reads its word
    (except on a window's first pixel, which starts it), takes the max with its own channels
    and writes it back (except on the window's last pixel, which leaves as the output
    instead). The read port is transparent for the write, so a word written in the cycle
    of the next beat's read is seen by it.

    Parameters
    ----------
    shape : Shape
    channels, width, size : int
        As :class:`MaxPool`'s.
    lanes : int
        Elements a beat, a divisor of ``channels``.
    buffer_ram : str

    Members
    -------
    i : In(vector_signature(shape, lanes))
    o : Out(vector_signature(shape, lanes))
        The pooled pixels, ``C / lanes`` beats each, raster order.

    Takes a beat a cycle while its output is free or leaving (``i.ready = ~o.valid |
    o.ready``); an output beat is valid the cycle after its window's last beat.
    """

    @refuse_quietly
    def __init__(self, shape, channels: int, width: int, size: int, lanes: int,
                 buffer_ram: str = "auto"):
        _check_size(width, size)
        if not isinstance(lanes, int) or lanes < 1 or channels % lanes:
            raise ValueError(f"lanes must divide the {channels} channels, got {lanes!r}")
        self.shape, self.channels, self.width, self.size = Shape.cast(shape), channels, width, size
        self.lanes, self.buffer_ram = lanes, buffer_ram
        self.groups = channels // lanes
        super().__init__({"i": In(vector_signature(self.shape, lanes)),
                          "o": Out(vector_signature(self.shape, lanes))})

    def elaborate(self, platform):
        m = Module()
        s, g_n, lanes = self.size, self.groups, self.lanes
        cols = self.width // s
        depth = cols * g_n
        word = Shape.cast(self.i.payload.shape())
        m.submodules.cols = mem = memory.Memory(shape=word, depth=depth, init=[],
                                                attrs=buffer_attrs(depth, self.buffer_ram))
        wr = mem.write_port()
        rd = mem.read_port(domain="sync", transparent_for=(wr,))
        g = index_signal(g_n, "g")          # channel group within the pixel
        xi = index_signal(s, "xi")          # column within the window
        yi = index_signal(s, "yi")          # row within the window
        addr = index_signal(depth, "addr")  # word of (window column, group): j G + g
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        take = self.i.valid & self.i.ready
        first = equals(xi, 0) & equals(yi, 0)
        last = equals(xi, s - 1) & equals(yi, s - 1)
        m.d.comb += [rd.addr.eq(addr), rd.en.eq(take & ~first)]

        # The beat taken last cycle, merged with its word now.
        b_valid, b_first, b_last = Signal(), Signal(), Signal()
        b_addr = Signal.like(addr)
        b_v = view(Signal(word, name="b_v"), self.shape, lanes)
        with m.If(self.i.ready):
            m.d.sync += b_valid.eq(take)
        with m.If(take):
            m.d.sync += [b_first.eq(first), b_last.eq(last), b_addr.eq(addr),
                         b_v.as_value().eq(self.i.payload)]
        held = view(rd.data, self.shape, lanes)
        merged = view(Signal(word, name="merged"), self.shape, lanes)
        for lane in range(lanes):
            m.d.comb += merged[lane].eq(Mux(b_first, b_v[lane], _max(held[lane], b_v[lane])))
        m.d.comb += [wr.addr.eq(b_addr), wr.data.eq(merged.as_value()),
                     wr.en.eq(b_valid & ~b_last), self.o.payload.eq(merged.as_value())]
        with m.If(take):
            m.d.sync += self.o.valid.eq(last)
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        # -- counters: group, column in window, window column (addr), row in window ------------
        with m.If(take):
            with m.If(equals(g, g_n - 1)):
                m.d.sync += g.eq(0)
                with m.If(equals(xi, s - 1)):
                    m.d.sync += xi.eq(0)
                    with m.If(equals(addr, depth - 1)):
                        m.d.sync += [addr.eq(0), yi.eq(Mux(equals(yi, s - 1), 0, yi + 1))]
                    with m.Else():
                        m.d.sync += addr.eq(addr + 1)
                with m.Else():
                    m.d.sync += [xi.eq(xi + 1), addr.eq(addr - (g_n - 1))]
            with m.Else():
                m.d.sync += [g.eq(g + 1), addr.eq(addr + 1)]
        return m
