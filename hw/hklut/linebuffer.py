"""Line buffer and 5x5 window of one stage: raster pixels in, one window per pixel out.

Rows are written into ``SLOTS`` row memories (one per slot, so that all rows
of a window column are read in one cycle). A reader walks each row of the
frame once the rows it reaches are in, reading columns ``-2 .. w+1`` through the
reflect map (``-x`` / ``2 (n - 1) - x``), shifting them into the window and
emitting a window once its anchor column is complete. Rows above and below the
image are read from buffered rows through the same map, so the bottom rows
are produced after the frame's input ends, without new input. Frames follow
one another without a gap: the next frame's rows fill free slots meanwhile.
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from .index import RADIUS, SIDE
from .logic import buffer_attrs, equals, refuse_quietly, select

__all__ = ["SLOTS", "window_layout", "LineWindow", "reflect"]

# Row slots: the 2*RADIUS + 1 rows a window reaches, plus rows the writer may
# fill ahead; a power of two keeps slot arithmetic a plain wrap-around.
SLOTS = 8
# Columns read per row beyond its width: RADIUS on each side.
EXTRA_COLUMNS = 2 * RADIUS


def reflect(x: int, n: int) -> int:
    """The reflect border map (mirror without repeating the edge) of coordinate ``x`` in ``0..n-1``."""
    return -x if x < 0 else 2 * (n - 1) - x if x > n - 1 else x


def window_layout(pixel: data.StructLayout) -> data.StructLayout:
    """A window: ``q`` of the SIDE x SIDE pixels around the anchor (reflect-mapped), the
    anchor's ``rem``, and flags telling on which image borders the anchor lies."""
    return data.StructLayout({
        "q": data.ArrayLayout(pixel["q"].shape, SIDE * SIDE),
        "rem": pixel["rem"].shape,
        "top": 1, "bottom": 1, "left": 1, "right": 1,
    })


class LineWindow(wiring.Component):
    """Windows of a ``width`` x ``height`` stage plane, in raster order, frames back to back.

    Parameters
    ----------
    pixel : data.StructLayout
        Stage pixel layout ``(q, rem)`` (:func:`~.combine.pixel_layout`).
    width, height : int
        Plane size, at least ``RADIUS + 1`` (reflect needs it).

    Members
    -------
    i : In(stream.Signature(pixel))
        Pixels in raster order.
    o : Out(stream.Signature(window_layout(pixel)))
        One window per pixel, in raster order.

    Each row costs ``width + 4`` read steps (two columns of border on each side).
    Backpressure on ``o`` stalls the reader; the writer stops only when every slot
    holds a row still needed.
    """

    @refuse_quietly
    def __init__(self, pixel: data.StructLayout, width: int, height: int):
        for name, value in (("width", width), ("height", height)):
            if not isinstance(value, int) or isinstance(value, bool) or value < RADIUS + 1:
                raise ValueError(f"{name} must be an integer of at least {RADIUS + 1}, "
                                 f"got {value!r}")
        self.pixel, self.width, self.height = pixel, width, height
        super().__init__({"i": In(stream.Signature(pixel)),
                          "o": Out(stream.Signature(window_layout(pixel)))})

    def elaborate(self, platform):
        m = Module()
        w, h = self.width, self.height
        slot_bits = (SLOTS - 1).bit_length()

        rows = []
        for s in range(SLOTS):
            mem = memory.Memory(shape=self.pixel, depth=w, init=[], attrs=buffer_attrs(w))
            m.submodules[f"row{s}"] = mem
            rows.append(mem)

        # -- writer: fill slot `head`, column by column -------------------------
        wcol = Signal(range(w))
        head = Signal(slot_bits)
        occupied = Signal(range(SLOTS + 1))    # complete rows held (from `tail`)
        tail = Signal(slot_bits)
        m.d.comb += self.i.ready.eq(occupied != SLOTS)
        write = self.i.valid & self.i.ready
        row_written = Signal()
        for s, mem in enumerate(rows):
            port = mem.write_port()
            m.d.comb += [port.addr.eq(wcol), port.data.eq(self.i.payload),
                         port.en.eq(write & equals(head, s))]
        with m.If(write):
            with m.If(equals(wcol, w - 1)):
                m.d.sync += [wcol.eq(0), head.eq(head + 1)]
                m.d.comb += row_written.eq(1)
            with m.Else():
                m.d.sync += wcol.eq(wcol + 1)

        # -- reader stage R: issue column reads for anchor row `row` -----------------
        advance = ~self.o.valid | self.o.ready
        row = Signal(range(h))
        col = Signal(range(w + EXTRA_COLUMNS))      # column c + RADIUS, c = -2 .. w+1
        released = Signal(range(h))                 # rows of this frame already let go
        m.d.comb += released.eq(Mux(row >= RADIUS, row - RADIUS, 0))
        last_needed = Mux(row + RADIUS < h, row + RADIUS, h - 1)
        ready_rows = occupied >= last_needed + 1 - released
        step = advance & ready_rows
        release = Signal(range(RADIUS + 2))
        with m.If(step):
            with m.If(equals(col, w + EXTRA_COLUMNS - 1)):
                m.d.sync += col.eq(0)
                with m.If(equals(row, h - 1)):
                    m.d.sync += row.eq(0)
                    # Frame end: release every row still held for this frame.
                    m.d.comb += release.eq(min(h, RADIUS + 1))
                with m.Else():
                    m.d.sync += row.eq(row + 1)
                    with m.If(row >= RADIUS):
                        m.d.comb += release.eq(1)
            with m.Else():
                m.d.sync += col.eq(col + 1)
        m.d.sync += [tail.eq(tail + release), occupied.eq(occupied + row_written - release)]

        # Column address through the reflect map.
        c = col - RADIUS
        read_col = Signal(range(w))
        with m.If(col < RADIUS):
            m.d.comb += read_col.eq(RADIUS - col)
        with m.Elif(col >= w + RADIUS):
            m.d.comb += read_col.eq(2 * (w - 1) - c)
        with m.Else():
            m.d.comb += read_col.eq(c)
        # Slot of each window row dy: the reflect-mapped row, counted from `tail`.
        slot_of = []
        for dy in range(-RADIUS, RADIUS + 1):
            # Only the side the offset can leave is checked (no always-false compare).
            if dy < 0:
                mapped = Mux(row < -dy, -dy - row, row + dy)
            elif dy > 0:
                mapped = Mux(row + dy > h - 1, 2 * (h - 1) - dy - row, row + dy)
            else:
                mapped = row
            slot = Signal(slot_bits, name=f"slot_{dy + RADIUS}")
            m.d.comb += slot.eq(tail + mapped - released)
            slot_of.append(slot)
        # Only the slots a window column reads are enabled (at most SIDE of SLOTS); a
        # disabled port holds its data, which is then never selected.
        ports = []
        for s, mem in enumerate(rows):
            port = mem.read_port(domain="sync", transparent_for=())
            used = Cat(equals(slot, s) for slot in slot_of).any()
            m.d.comb += [port.addr.eq(read_col), port.en.eq(step & used)]
            ports.append(port)

        # -- stage D: data arrives; shift it into the window (the output payload) --
        valid_d = Signal()
        emit_d = Signal()
        slot_d = [Signal(slot_bits, name=f"slot_d{k}") for k in range(SIDE)]
        flags_d = Signal(data.StructLayout({"top": 1, "bottom": 1, "left": 1, "right": 1}))
        with m.If(advance):
            m.d.sync += [valid_d.eq(step), emit_d.eq(col >= 2 * RADIUS),
                         flags_d.top.eq(equals(row, 0)), flags_d.bottom.eq(equals(row, h - 1)),
                         flags_d.left.eq(equals(col, 2 * RADIUS)),
                         flags_d.right.eq(equals(col, w + EXTRA_COLUMNS - 1))]
            m.d.sync += [a.eq(b) for a, b in zip(slot_d, slot_of)]

        q_by_slot = [port.data.q for port in ports]
        rem_by_slot = [port.data.rem for port in ports]
        win_q = Signal.like(self.o.payload.q)
        win_rem = Signal(data.ArrayLayout(self.pixel["rem"].shape, SIDE))
        win_flags = Signal.like(flags_d)
        with m.If(advance):
            m.d.sync += self.o.valid.eq(valid_d & emit_d)
            with m.If(valid_d):
                for dy in range(SIDE):
                    for dx in range(SIDE - 1):
                        m.d.sync += win_q[dy * SIDE + dx].eq(win_q[dy * SIDE + dx + 1])
                    m.d.sync += win_q[dy * SIDE + SIDE - 1].eq(select(slot_d[dy], q_by_slot))
                for dx in range(SIDE - 1):
                    m.d.sync += win_rem[dx].eq(win_rem[dx + 1])
                m.d.sync += [win_rem[SIDE - 1].eq(select(slot_d[RADIUS], rem_by_slot)),
                             win_flags.eq(flags_d)]
        out = self.o.payload
        m.d.comb += [out.q.eq(win_q), out.top.eq(win_flags.top), out.bottom.eq(win_flags.bottom),
                     out.left.eq(win_flags.left), out.right.eq(win_flags.right),
                     # The anchor's rem sits in the middle column once its window is complete.
                     out.rem.eq(win_rem[RADIUS])]
        return m
