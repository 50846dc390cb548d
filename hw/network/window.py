"""Sliding-window generator of a stride-1 conv: pixels in raster order in, k x k windows out.

Input rows are written into :func:`slots` row memories, one pixel (all its
channels) a word. A reader walks the output rows; it starts an output row once
every input row that row reaches is complete, and reads, for each window, the
``k`` columns of each of those rows in one cycle (``k`` read ports per row
memory). Taps outside the image (the zero padding) read as 0, exactly as the
golden model pads. Images follow one another without a gap: the next image's
rows fill free slots while the last rows of this one are read.

Timing (no backpressure): a window leaves ``READ_DEPTH`` cycles after the
reader steps on it; the reader steps once a cycle while the rows it needs are
held, and the rows of output row ``oy`` are held once input row
``min(oy - p + k - 1, H - 1)`` is complete (the cycle after its last pixel).

:class:`NarrowWindow` walks the same rows for the narrow datapath: a window as beats of a
few taps, read from one row memory with one read port (a block RAM).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from ..logic import buffer_attrs, equals, refuse_quietly, select
from ..row_slots import RowSlots
from .vectors import index_signal, vector_signature, view

__all__ = ["READ_DEPTH", "slots", "RowPlan", "row_plans", "Window", "NarrowWindow"]

#: Cycles from a reader step to its window at the output: the memory read, then the
#: output register.
READ_DEPTH = 2


def slots(kernel: int, padding: int) -> int:
    """Row memories of a window generator: a power of two (plain wrap-around slot arithmetic)
    holding the ``k`` rows of a window plus the row being written, and, at an image
    boundary, the last image's ``k - p`` rows plus the next image's first ``k - p``."""
    need = max(kernel + 1, 2 * (kernel - padding))
    return 1 << (need - 1).bit_length()


@dataclass(frozen=True)
class RowPlan:
    """What the reader needs of output row ``oy``: rows held (counted from the oldest row
    held), per kernel row ``dy`` its slot offset from that row or None (padding), and
    the rows let go after the row."""
    need: int
    offsets: tuple[int | None, ...]
    release: int


def row_plans(height: int, kernel: int, padding: int) -> list[RowPlan]:
    """The :class:`RowPlan` of every output row of a ``height``-row image."""
    k, p = kernel, padding
    rows_out = height + 2 * p - k + 1
    released = [max(0, oy - p) for oy in range(rows_out)] + [height]
    plans = []
    for oy in range(rows_out):
        last = min(oy - p + k - 1, height - 1)
        offsets = tuple(oy - p + dy - released[oy] if 0 <= oy - p + dy < height else None
                        for dy in range(k))
        plans.append(RowPlan(need=last + 1 - released[oy], offsets=offsets,
                             release=released[oy + 1] - released[oy]))
    return plans


def _check_geometry(height: int, width: int, kernel: int, padding: int) -> tuple[int, int]:
    """The output height and width of a stride-1 conv; refuse a kernel and padding that do not
    fit."""
    out_height, out_width = height + 2 * padding - kernel + 1, width + 2 * padding - kernel + 1
    if kernel % 2 == 0 or not 0 <= padding <= kernel // 2 or min(out_height, out_width) < 1:
        raise ValueError(f"kernel must be odd with padding 0..kernel//2 and fit the "
                         f"{height}x{width} image, got kernel {kernel!r} padding {padding!r}")
    return out_height, out_width


class _RowPlanRegisters:
    """The reader's registered plan of its current output row (:class:`RowPlan`: rows
    needed, rows let go after it, and per kernel row the slot offset and whether it is in
    the image), loaded at the row's end with the next row's from tables of constants
    indexed by the row: one place for :class:`Window` and :class:`NarrowWindow`."""

    def __init__(self, plans: list[RowPlan], n_slots: int, height: int, kernel: int):
        self.need_w, self.release_w = range(n_slots + 1), range(height + 1)
        self.offset_w = range(max(2, kernel))
        self.need = Signal(self.need_w, init=plans[0].need, name="need")
        self.release_now = Signal(self.release_w, init=plans[0].release, name="release_now")
        self.offsets = [Signal(self.offset_w, init=plans[0].offsets[r] or 0, name=f"offset{r}")
                        for r in range(kernel)]
        self.present = [Signal(init=plans[0].offsets[r] is not None, name=f"present{r}")
                        for r in range(kernel)]
        self.next = plans[1:] + plans[:1]       # next[r]: the plan of the row after row r

    def next_window(self, m: Module, ox, oy, out_width: int, out_height: int, release) -> None:
        """Step the reader from window ``ox`` of its row onto the next one, or after the row's
        last onto the next row (:meth:`end_row`)."""
        with m.If(equals(ox, out_width - 1)):
            m.d.sync += ox.eq(0)
            self.end_row(m, oy, out_height, release)
        with m.Else():
            m.d.sync += ox.eq(ox + 1)

    def end_row(self, m: Module, oy, out_height: int, release) -> None:
        """At the end of output row ``oy``: let its rows go (``release``, comb) and step
        ``oy`` onto the next row and its plan."""
        def table(values, shape):
            return select(oy, [Const(v, shape) for v in values])
        nxt = self.next
        m.d.comb += release.eq(self.release_now)
        m.d.sync += [
            oy.eq(Mux(equals(oy, out_height - 1), 0, oy + 1)),
            self.need.eq(table([q.need for q in nxt], self.need_w)),
            self.release_now.eq(table([q.release for q in nxt], self.release_w)),
            *(o.eq(table([q.offsets[r] or 0 for q in nxt], self.offset_w))
              for r, o in enumerate(self.offsets)),
            *(v.eq(table([q.offsets[r] is not None for q in nxt], 1))
              for r, v in enumerate(self.present)),
        ]


class Window(wiring.Component):
    """Windows of a stride-1, zero-padded ``kernel`` x ``kernel`` conv over ``height`` x ``width``
    images of ``channels`` channels, in output raster order, images back to back.

    Parameters
    ----------
    shape : Shape
        Element shape of the input activations.
    channels, height, width : int
    kernel, padding : int
        Odd kernel size; zero padding ``0 .. kernel // 2`` on each side.
    buffer_ram : str
        Memory kind of the row memories (:func:`~edgeforge.hw.logic.buffer_attrs`).

    Members
    -------
    i : In(vector_signature(shape, channels))
        One pixel a beat, raster order, channel ``c`` as element ``c``.
    o : Out(vector_signature(shape, kernel * kernel * channels))
        One window a beat: tap ``(dy, dx)`` channel ``c`` as element
        ``(dy kernel + dx) channels + c``; padding taps are 0.

    Throughput: one window a cycle. The writer takes a pixel a cycle until every
    slot holds a row still needed; backpressure on ``o`` stalls the reader.
    """

    @refuse_quietly
    def __init__(self, shape, channels: int, height: int, width: int, kernel: int, padding: int,
                 buffer_ram: str = "auto"):
        self.shape = Shape.cast(shape)
        self.channels, self.height, self.width = channels, height, width
        self.kernel, self.padding, self.buffer_ram = kernel, padding, buffer_ram
        self.out_height, self.out_width = _check_geometry(height, width, kernel, padding)
        self.slots = slots(kernel, padding)
        super().__init__({"i": In(vector_signature(self.shape, channels)),
                          "o": Out(vector_signature(self.shape, kernel * kernel * channels))})

    def elaborate(self, platform):
        m = Module()
        k, p, w = self.kernel, self.padding, self.width
        n_slots = self.slots
        slot_bits = (n_slots - 1).bit_length()
        pixel = Shape.cast(self.i.payload.shape())
        plans = row_plans(self.height, k, p)
        rows = []
        for s in range(n_slots):
            mem = memory.Memory(shape=pixel, depth=w, init=[],
                                attrs=buffer_attrs(w, self.buffer_ram))
            m.submodules[f"row{s}"] = mem
            rows.append(mem)

        # -- writer: fill slot `head` pixel by pixel ------------------------------------
        wcol = index_signal(w, "wcol")
        writer = RowSlots(m, self.i, n_slots)
        writer.write_rows(m, rows, wcol, self.i.payload)
        writer.count(m, wcol, w)
        occupied, tail = writer.occupied, writer.tail

        # -- reader: the plan of the current output row is registered, loaded with the
        # next row's (a table of constants indexed by the row) --------------------------
        advance = ~self.o.valid | self.o.ready
        oy = index_signal(self.out_height, "oy")
        ox = index_signal(self.out_width, "ox")
        plan = _RowPlanRegisters(plans, n_slots, self.height, k)
        offsets, present = plan.offsets, plan.present

        step = advance & (occupied >= plan.need)
        release = Signal(range(self.height + 1))
        with m.If(step):
            plan.next_window(m, ox, oy, self.out_width, self.out_height, release)
        writer.release(m, release)

        # Column dx of a window is input column ox + dx - p; only the sides it can leave
        # are compared (no constant compare).
        col_ok = []
        for dx in range(k):
            ok = Const(1, 1)
            if p - dx > 0:
                ok = ok & (ox >= p - dx)
            if self.out_width - 1 + dx - p > w - 1:
                ok = ok & (ox < w + p - dx)
            col_ok.append(ok)

        ports = [[mem.read_port(domain="sync", transparent_for=()) for _ in range(k)]
                 for mem in rows]
        # Only the ports a window reads are enabled: slots of rows in the image, columns in
        # the image (a read is then one tap's word; a disabled port holds its data, which
        # is then never selected).
        slot_of = [Signal(slot_bits, name=f"slot{dy}") for dy in range(k)]
        m.d.comb += [slot_of[dy].eq(tail + offsets[dy]) for dy in range(k)]
        for s in range(n_slots):
            used = Cat(present[dy] & equals(slot_of[dy], s) for dy in range(k)).any()
            for dx in range(k):
                m.d.comb += [ports[s][dx].addr.eq(ox + (dx - p)),
                             ports[s][dx].en.eq(step & used & col_ok[dx])]

        # -- stage D: the read data arrives with what the reader knew of it -------------
        d_valid = Signal()
        d_slot = [Signal(slot_bits, name=f"d_slot{dy}") for dy in range(k)]
        d_row = [Signal(name=f"d_row{dy}") for dy in range(k)]
        d_col = [Signal(name=f"d_col{dx}") for dx in range(k)]
        with m.If(advance):
            m.d.sync += d_valid.eq(step)
            m.d.sync += [d_slot[dy].eq(slot_of[dy]) for dy in range(k)]
            m.d.sync += [d_row[dy].eq(present[dy]) for dy in range(k)]
            m.d.sync += [d_col[dx].eq(col_ok[dx]) for dx in range(k)]

        # -- output register: select each row's slot, zero the padding -------------------
        out = view(self.o.payload, pixel, k * k)
        with m.If(advance):
            m.d.sync += self.o.valid.eq(d_valid)
            for dy in range(k):
                for dx in range(k):
                    tap = select(d_slot[dy], [ports[s][dx].data for s in range(n_slots)])
                    m.d.sync += out[dy * k + dx].eq(Mux(d_row[dy] & d_col[dx], tap, 0))
        return m


class NarrowWindow(wiring.Component):
    """:class:`Window`'s windows, a window as ``k k C / lanes`` beats of ``lanes`` taps.

    The same row walk (:func:`row_plans`, :func:`slots`), but the input comes ``lanes``
    channels a beat (``C / lanes`` beats a pixel, in channel order) and the rows live in
    one memory of ``slots x W C / lanes`` words with one write and one read port (a block
    RAM), since a beat reads one word. Beat ``t`` of a window is tap ``(dy, dx)``, channels
    ``g lanes ..`` for ``t = (dy k + dx) (C / lanes) + g``: the window's elements in
    :class:`Window`'s order ``(dy k + dx) C + c``, ``lanes`` at a time. A beat outside the
    image (the padding) reads nothing and leaves as 0.

    Parameters
    ----------
    shape : Shape
    channels, height, width, kernel, padding : int
        As :class:`Window`'s.
    lanes : int
        Elements a beat in and out, a divisor of ``channels``.
    buffer_ram : str

    Members
    -------
    i : In(vector_signature(shape, lanes))
    o : Out(vector_signature(shape, lanes))

    Timing (no backpressure): a beat leaves :data:`READ_DEPTH` cycles after the reader steps
    on it; the reader steps a beat a cycle while the rows of its output row are held (as
    :class:`Window`'s, counted in complete rows of ``W C / lanes`` input beats).
    """

    @refuse_quietly
    def __init__(self, shape, channels: int, height: int, width: int, kernel: int, padding: int,
                 lanes: int, buffer_ram: str = "auto"):
        if not isinstance(lanes, int) or lanes < 1 or channels % lanes:
            raise ValueError(f"lanes must divide the {channels} channels, got {lanes!r}")
        self.out_height, self.out_width = _check_geometry(height, width, kernel, padding)
        self.shape = Shape.cast(shape)
        self.channels, self.height, self.width, self.lanes = channels, height, width, lanes
        self.kernel, self.padding, self.buffer_ram = kernel, padding, buffer_ram
        self.groups = channels // lanes
        self.row_beats = width * self.groups
        self.slots = slots(kernel, padding)
        super().__init__({"i": In(vector_signature(self.shape, lanes)),
                          "o": Out(vector_signature(self.shape, lanes))})

    @property
    def taps(self) -> int:
        """Beats a window."""
        return self.kernel ** 2 * self.groups

    def elaborate(self, platform):
        m = Module()
        k, p, w, g_n = self.kernel, self.padding, self.width, self.groups
        n_slots = self.slots
        slot_bits = (n_slots - 1).bit_length()
        row_bits = max(1, (self.row_beats - 1).bit_length())
        word = Shape.cast(self.i.payload.shape())
        plans = row_plans(self.height, k, p)
        depth = n_slots << row_bits
        m.submodules.rows = mem = memory.Memory(shape=word, depth=depth, init=[],
                                                attrs=buffer_attrs(depth, self.buffer_ram))

        # -- writer: fill slot `head` beat by beat (the slots share one memory) -----------
        wpos = index_signal(self.row_beats, "wpos")
        writer = RowSlots(m, self.i, n_slots)
        wr = mem.write_port()
        m.d.comb += [wr.addr.eq(Cat(wpos[:row_bits], writer.head)),
                     wr.data.eq(self.i.payload), wr.en.eq(writer.write)]
        writer.count(m, wpos, self.row_beats)
        occupied, tail = writer.occupied, writer.tail

        # -- reader: per output row its plan (as Window's), per beat (dy, dx, g) ---------------
        advance = ~self.o.valid | self.o.ready
        oy = index_signal(self.out_height, "oy")
        ox = index_signal(self.out_width, "ox")
        dy, dx, g = index_signal(k, "dy"), index_signal(k, "dx"), index_signal(g_n, "g")
        plan = _RowPlanRegisters(plans, n_slots, self.height, k)
        offsets, present = plan.offsets, plan.present

        step = advance & (occupied >= plan.need)
        release = Signal(range(self.height + 1))
        # Whether the beat on offer is its window's last: a register (loaded as the walk steps
        # onto it), so that the row's end follows a step by one gate (the UP5K's critical
        # path ran from the row compare through the step to the row plan's enables).
        window_end = Signal(init=self.taps == 1, name="window_end")
        t = self.taps - 2                  # the beat before the last, as (dy, dx, g)
        before_last = (equals(dy, t // (k * g_n)) & equals(dx, t // g_n % k)
                       & equals(g, t % g_n)) if self.taps > 1 else Const(1, 1)
        with m.If(step):
            m.d.sync += window_end.eq(Mux(window_end, self.taps == 1, before_last))
        with m.If(step):
            m.d.sync += g.eq(Mux(equals(g, g_n - 1), 0, g + 1))
            with m.If(equals(g, g_n - 1)):
                m.d.sync += dx.eq(Mux(equals(dx, k - 1), 0, dx + 1))
                with m.If(equals(dx, k - 1)):
                    m.d.sync += dy.eq(Mux(equals(dy, k - 1), 0, dy + 1))
            with m.If(window_end):
                plan.next_window(m, ox, oy, self.out_width, self.out_height, release)
        writer.release(m, release)

        # The beat's input column ox + dx - p: inside the image unless it leaves a side the
        # walk can leave (no constant compare).
        col = Signal(range(self.out_width + k), name="col")
        m.d.comb += col.eq(ox + dx)
        col_ok = Const(1, 1)
        if p > 0:
            col_ok = col_ok & (col >= p)
        if self.out_width - 1 + k - 1 - p > w - 1:
            col_ok = col_ok & (col < w + p)
        inside = Signal()
        m.d.comb += inside.eq(select(dy, present) & col_ok)
        slot = Signal(slot_bits)
        m.d.comb += slot.eq(tail + select(dy, offsets))
        col_addr = Signal(row_bits)
        m.d.comb += col_addr.eq((col - p) * g_n + g)
        rd = mem.read_port(domain="sync", transparent_for=())
        # Only the beats inside the image read (a read is one beat's word).
        m.d.comb += [rd.addr.eq(Cat(col_addr, slot)), rd.en.eq(step & inside)]

        # -- stage D, then the output register (padding as 0) -------------------------------
        d_valid, d_inside = Signal(), Signal()
        with m.If(advance):
            m.d.sync += [d_valid.eq(step), d_inside.eq(inside),
                         self.o.valid.eq(d_valid),
                         self.o.payload.eq(Mux(d_inside, rd.data, 0))]
        return m
