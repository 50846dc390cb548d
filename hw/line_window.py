"""Line buffer and 5x5 windows of an image plane: raster pixels in, ``lanes`` windows a beat out.

Shared by the image engines (HKLUT's stages, the SR-LUT readout, bicubic). Rows are
written into ``SLOTS`` row memories (one per slot, so that all rows
of a window column are read in one cycle), one word of ``lanes`` adjacent
pixels per address. A reader walks each row of the frame once the rows it
reaches are in, reading its words left to right; rows above and below the
image are read from buffered rows through the border map (reflect, ``-y`` /
``2 (h - 1) - y``, HKLUT's; or replicate, ``0`` / ``h - 1``, the bicubic
engine's), so the bottom rows are produced after the frame's input ends,
without new input. Frames follow one another without a gap: the next
frame's rows fill free slots meanwhile.

The words read go through a shift register ``2 K + 1`` words long
(``K = ceil(RADIUS / lanes)`` words each side of the anchor word in the
middle). Columns left of the row or right of it are taken, through the
border map, from the words of the same row already in the register, so a
row costs exactly its ``width / lanes`` read steps: the next row's reads start
while the last anchors of this one are still in the register.
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from .logic import buffer_attrs, check_buffer_ram, check_count, equals, refuse_quietly, select
from .row_slots import RowSlots

__all__ = ["RADIUS", "SIDE", "SLOTS", "LANES", "BORDERS", "tap_index", "lookahead_words",
           "window_moves", "window_layout", "stored_layout", "rows_read", "LineWindow", "reflect"]

RADIUS = 2                # reach from the anchor in every direction (HKLUT's hdb kernels turned)
SIDE = 2 * RADIUS + 1     # the window is SIDE x SIDE, anchor in the middle

# Row slots: the 2*RADIUS + 1 rows a window reaches, plus rows the writer may
# fill ahead; a power of two keeps slot arithmetic a plain wrap-around.
SLOTS = 8
# Windows per beat. Up to 4 the reflected border columns always lie in the register.
LANES = (1, 2, 4)
# How window taps outside the plane are mapped into it: mirror without repeating the edge
# (HKLUT's hdb padding), or the edge pixel repeated (clamp the coordinate).
BORDERS = ("reflect", "replicate")


def tap_index(dy: int, dx: int) -> int:
    """Flat position of window offset ``(dy, dx)`` (row-major, anchor in the middle)."""
    return (dy + RADIUS) * SIDE + (dx + RADIUS)


def lookahead_words(lanes: int) -> int:
    """Words the register holds on each side of the anchor word: enough for RADIUS columns."""
    return -(-RADIUS // lanes)


def window_moves(lanes: int) -> int:
    """Moves of the window pipeline from a word's read to its windows at the output:
    into the port-data stage, into the read-data register, into the shift register,
    ``K`` shifts to the middle, out."""
    return lookahead_words(lanes) + 3


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


def stored_layout(pixel: data.StructLayout, carries_rem: bool) -> data.StructLayout:
    """What the row memories hold of a pixel: all of it, or ``q`` alone."""
    return pixel if carries_rem else data.StructLayout({"q": pixel["q"].shape})


def _python_mux(cond, a, b):
    return a if cond else b


def _row_plan(row, h: int, mux, border: str = "reflect"):
    """For anchor row ``row`` of a plane ``h`` high: how many rows must be held (counted
    from the first row not yet let go) and, for each window row ``dy``, its border-mapped
    row counted from that same first row. ``mux`` is Amaranth's ``Mux`` for an expression
    ``row``, :func:`_python_mux` for an integer."""
    replicate = border == "replicate"
    released = mux(row >= RADIUS, row - RADIUS, 0)
    need = mux(row + RADIUS < h, row + RADIUS, h - 1) + 1 - released
    offsets = []
    for dy in range(-RADIUS, RADIUS + 1):
        # Only the side the offset can leave is checked (no always-false compare).
        if dy < 0:
            mapped = mux(row < -dy, 0 if replicate else -dy - row, row + dy)
        elif dy > 0:
            mapped = mux(row + dy > h - 1, h - 1 if replicate else 2 * (h - 1) - dy - row,
                         row + dy)
        else:
            mapped = row
        offsets.append(mapped - released)
    return need, offsets


def rows_read(row: int, h: int, border: str = "reflect") -> int:
    """Row memories a read step of anchor row ``row`` enables in a plane ``h`` high: the
    distinct rows its window reaches (at the borders the border map sends window rows onto
    rows already read). From the plan the reader's slots come from."""
    return len(set(_row_plan(row, h, _python_mux, border)[1]))


class LineWindow(wiring.Component):
    """Windows of a ``width`` x ``height`` stage plane, in raster order, frames back to back.

    Parameters
    ----------
    pixel : data.StructLayout
        Stage pixel layout ``(q, rem)`` (:func:`~edgeforge.hw.hklut.combine.pixel_layout`).
    width, height : int
        Plane size, at least ``RADIUS + 1`` (reflect needs it).
    lanes : int
        Adjacent pixels per input beat and windows per output beat, one of
        :data:`LANES`; must divide ``width``.
    buffer_ram : str
        Memory kind of the row memories (:func:`~edgeforge.hw.logic.buffer_attrs`).
    carries_rem : bool
        Whether input pixels carry ``rem``. False for the first stage, whose 8-bit
        input pixels have ``rem = 0``: then ``i`` takes ``q`` alone, the row memories
        store 8 bits a pixel, and the windows' ``rem`` is 0.
    border : str
        How taps outside the plane map into it, one of :data:`BORDERS`: ``"reflect"``
        (HKLUT) or ``"replicate"`` (the edge pixel).

    Members
    -------
    i : In(stream.Signature(data.ArrayLayout(stored_layout(pixel, carries_rem), lanes)))
        Pixels in raster order, leftmost first.
    o : Out(stream.Signature(data.ArrayLayout(window_layout(pixel), lanes)))
        The windows of those pixels, in raster order.

    A row costs ``width / lanes`` read steps. Backpressure on ``o`` stalls the
    reader; the writer stops only when every slot holds a row still needed.
    """

    @refuse_quietly
    def __init__(self, pixel: data.StructLayout, width: int, height: int, lanes: int = 1,
                 buffer_ram: str = "auto", carries_rem: bool = True, border: str = "reflect"):
        check_count("width", width, RADIUS + 1)
        check_count("height", height, RADIUS + 1)
        if lanes not in LANES:
            raise ValueError(f"lanes must be one of {LANES}, got {lanes!r}")
        if width % lanes:
            raise ValueError(f"lanes must divide the width of {width} pixels, got {lanes!r}")
        check_buffer_ram(buffer_ram)
        if border not in BORDERS:
            raise ValueError(f"border must be one of {BORDERS}, got {border!r}")
        self.border = border
        self.pixel, self.width, self.height, self.lanes = pixel, width, height, lanes
        self.buffer_ram, self.carries_rem = buffer_ram, carries_rem
        self.stored = stored_layout(pixel, carries_rem)
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(self.stored, lanes))),
            "o": Out(stream.Signature(data.ArrayLayout(window_layout(pixel), lanes))),
        })

    def elaborate(self, platform):
        m = Module()
        w, h, lanes = self.width, self.height, self.lanes
        words = w // lanes
        ahead = lookahead_words(lanes)
        span = (2 * ahead + 1) * lanes        # columns the register holds per row
        middle = ahead * lanes                # register column of the anchor word's first pixel
        slot_bits = (SLOTS - 1).bit_length()

        rows = []
        for s in range(SLOTS):
            mem = memory.Memory(shape=data.ArrayLayout(self.stored, lanes), depth=words, init=[],
                                attrs=buffer_attrs(words, self.buffer_ram))
            m.submodules[f"row{s}"] = mem
            rows.append(mem)

        # -- writer: fill slot `head`, word by word -----------------------------------
        wcol = Signal(range(words))
        writer = RowSlots(m, self.i, SLOTS)
        writer.write_rows(m, rows, wcol, self.i.payload)
        writer.count(m, wcol, words)
        occupied, tail = writer.occupied, writer.tail

        # -- reader stage R: read word `col` of the rows anchor row `row` reaches -------
        # What the reader needs of `row` (rows held, slot offsets) is registered, loaded
        # with the next row's: computed from `row` each cycle it was the ECP5 critical path.
        advance = ~self.o.valid | self.o.ready
        row = Signal(range(h))
        col = Signal(range(words))
        first_need, first_offsets = _row_plan(0, h, _python_mux, self.border)
        need = Signal(range(SLOTS + 1), init=first_need)
        offsets = [Signal(range(2 * RADIUS + 1), init=o, name=f"offset_{k}")
                   for k, o in enumerate(first_offsets)]
        step = advance & (occupied >= need)
        release = Signal(range(RADIUS + 2))

        def load_row(value, plan):
            m.d.sync += [row.eq(value), need.eq(plan[0])]
            m.d.sync += [o.eq(v) for o, v in zip(offsets, plan[1])]

        with m.If(step):
            with m.If(equals(col, words - 1)):
                m.d.sync += col.eq(0)
                with m.If(equals(row, h - 1)):
                    load_row(0, (first_need, first_offsets))
                    # Frame end: release every row still held for this frame.
                    m.d.comb += release.eq(min(h, RADIUS + 1))
                with m.Else():
                    load_row(row + 1, _row_plan(row + 1, h, Mux, self.border))
                    with m.If(row >= RADIUS):
                        m.d.comb += release.eq(1)
            with m.Else():
                m.d.sync += col.eq(col + 1)
        writer.release(m, release)

        # Slot of each window row dy: the border-mapped row, counted from `tail`.
        slot_of = []
        for k, offset in enumerate(offsets):
            slot = Signal(slot_bits, name=f"slot_{k}")
            m.d.comb += slot.eq(tail + offset)
            slot_of.append(slot)
        # Only the slots a window column reads are enabled (at most SIDE of SLOTS); a
        # disabled port holds its data, which is then never selected.
        ports = []
        for s, mem in enumerate(rows):
            port = mem.read_port(domain="sync", transparent_for=())
            used = Cat(equals(slot, s) for slot in slot_of).any()
            m.d.comb += [port.addr.eq(col), port.en.eq(step & used)]
            ports.append(port)

        # -- stage D: the word's data arrives with what the reader knew of it -----------
        # lead / trail: words of the same row before / after it, saturated at `ahead`.
        meta = data.StructLayout({"valid": 1, "top": 1, "bottom": 1,
                                  "lead": range(ahead + 1), "trail": range(ahead + 1)})
        meta_d = Signal(meta)
        slot_d = [Signal(slot_bits, name=f"slot_d{k}") for k in range(SIDE)]
        with m.If(advance):
            m.d.sync += [meta_d.valid.eq(step),
                         meta_d.top.eq(equals(row, 0)), meta_d.bottom.eq(equals(row, h - 1)),
                         meta_d.lead.eq(Mux(col < ahead, col, ahead)),
                         meta_d.trail.eq(Mux(col + ahead > words - 1, words - 1 - col, ahead))]
            m.d.sync += [a.eq(b) for a, b in zip(slot_d, slot_of)]

        # -- stage E: a register after each row memory's read (block RAM's clock-to-out is
        # ~6 ns on ECP5, too much to go on through the slot select in the same cycle) ------
        meta_e = Signal(meta)
        slot_e = [Signal(slot_bits, name=f"slot_e{k}") for k in range(SIDE)]
        read_e = [Signal.like(port.data, name=f"read_e{s}") for s, port in enumerate(ports)]
        with m.If(advance):
            m.d.sync += [meta_e.eq(meta_d), *(a.eq(b) for a, b in zip(slot_e, slot_d)),
                         *(a.eq(port.data) for a, port in zip(read_e, ports))]

        # -- stage S: shift the word into the register (a bubble shifts in on an idle step) --
        q_reg = Signal(data.ArrayLayout(data.ArrayLayout(self.pixel["q"].shape, span), SIDE))
        rem_reg = Signal(data.ArrayLayout(self.pixel["rem"].shape, span))
        meta_reg = Signal(data.ArrayLayout(meta, ahead + 1))   # [0]: the anchor word's
        with m.If(advance):
            for dy in range(SIDE):
                word = data.ArrayLayout(self.stored, lanes)(
                    select(slot_e[dy], [read.as_value() for read in read_e]))
                for p in range(span):
                    src = q_reg[dy][p + lanes] if p < span - lanes else word[p - span + lanes].q
                    m.d.sync += q_reg[dy][p].eq(src)
                if dy == RADIUS and self.carries_rem:
                    for p in range(span):
                        src = (rem_reg[p + lanes] if p < span - lanes
                               else word[p - span + lanes].rem)
                        m.d.sync += rem_reg[p].eq(src)
            for k in range(ahead):
                m.d.sync += meta_reg[k].eq(meta_reg[k + 1])
            m.d.sync += meta_reg[ahead].eq(meta_e)

        # -- stage W: the anchor word's windows, borders mapped within the register ------
        anchor = meta_reg[0]
        replicate = self.border == "replicate"

        def column(q_row, rel):
            """Pixel ``rel`` columns right of the anchor word's first one, border-mapped."""
            value = q_row[middle + rel]
            if rel < 0:
                # Out of the row when fewer than `back` words precede the anchor word: the
                # row's first pixel (replicate) or its mirror image (reflect).
                back = -(rel // lanes)
                for lead in reversed(range(back)):
                    source = -lead * lanes if replicate else -2 * lead * lanes - rel
                    value = Mux(equals(anchor.lead, lead), q_row[middle + source], value)
            elif rel >= lanes:
                ahead_words = rel // lanes
                for trail in reversed(range(ahead_words)):
                    last = lanes - 1 + trail * lanes      # the row's last pixel
                    source = last if replicate else 2 * last - rel
                    value = Mux(equals(anchor.trail, trail), q_row[middle + source], value)
            return value

        with m.If(advance):
            m.d.sync += self.o.valid.eq(anchor.valid)
            with m.If(anchor.valid):
                for v in range(lanes):
                    out = self.o.payload[v]
                    for dy in range(-RADIUS, RADIUS + 1):
                        for dx in range(-RADIUS, RADIUS + 1):
                            m.d.sync += out.q[tap_index(dy, dx)].eq(
                                column(q_reg[dy + RADIUS], v + dx))
                    m.d.sync += [out.rem.eq(rem_reg[middle + v] if self.carries_rem else 0),
                                 out.top.eq(anchor.top), out.bottom.eq(anchor.bottom),
                                 out.left.eq(equals(anchor.lead, 0) if v == 0 else 0),
                                 out.right.eq(equals(anchor.trail, 0) if v == lanes - 1 else 0)]
        return m
