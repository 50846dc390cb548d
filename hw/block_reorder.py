"""Block-to-raster re-order: ``r x r`` blocks of one stage row in, output rows out, ``P`` pixels a beat.

Shared by the image engines (after each HKLUT stage, the SR-LUT readout, bicubic). A
stage row of ``w`` blocks becomes ``r`` output rows of ``w r`` pixels; blocks arrive
``B`` adjacent ones a beat. The buffer holds two such block rows (double
buffered: one filling, one draining). It is split into ``r x L`` memories,
``L = lcm(P, B r)``: memory ``(dy, c)`` holds output pixels ``x`` of row ``dy``
with ``x mod L = c``. A beat of blocks writes its ``B r`` pixels of each row
into ``B r`` different memories, and an output beat's ``P`` adjacent pixels
come from ``P`` different memories, so every memory has one write and one read
port.
"""

from __future__ import annotations

import math

from amaranth import Module, Mux, Signal, Value
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from .logic import buffer_attrs, check_buffer_ram, check_count, equals, refuse_quietly, select

__all__ = ["OUTPUT_DELAY", "block_layout", "lanes_layout", "check_out_pixels", "BlockReorder"]

# Cycles from a block row's last block in to its first beat out: the buffer is marked
# full, its first read is issued, each memory's read data is registered, the selected
# data is registered.
OUTPUT_DELAY = 4


def block_layout(pixel, r: int) -> data.ArrayLayout:
    """The ``r x r`` sub-pixels of one anchor, row-major."""
    return data.ArrayLayout(pixel, r * r)


def check_out_pixels(out_pixels, allowed: tuple[int, ...], row: int) -> None:
    """Refuse an engine's output pixels a beat (its last re-order's ``lanes``) that are not
    one of ``allowed`` or do not divide its output row of ``row`` pixels."""
    if out_pixels not in allowed:
        raise ValueError(f"out_pixels must be one of {allowed}, got {out_pixels!r}")
    if row % out_pixels:
        raise ValueError(f"out_pixels must divide the output row of {row} pixels, "
                         f"got {out_pixels!r}")


def lanes_layout(pixel: data.StructLayout, lanes: int) -> data.ArrayLayout:
    """``lanes`` adjacent pixels of one output row, leftmost first."""
    return data.ArrayLayout(pixel, lanes)


class BlockReorder(wiring.Component):
    """Re-orders a stage's blocks into raster order.

    Parameters
    ----------
    pixel : shape-castable
        A pixel: a stage pixel ``(q, rem)`` between stages, an 8-bit output pixel after the last.
    r : int
        Block side (the stage factor).
    width : int
        Blocks per stage row (the stage's input width).
    lanes : int
        Pixels per output beat; must divide ``width * r``.
    blocks : int
        Adjacent blocks per input beat; must divide ``width``.
    buffer_ram : str
        Memory kind of the buffer (:func:`~edgeforge.hw.logic.buffer_attrs`).

    Members
    -------
    i : In(stream.Signature(data.ArrayLayout(block_layout(pixel, r), blocks)))
    o : Out(stream.Signature(lanes_layout(pixel, lanes)))

    Throughput: one beat per cycle in, one beat per cycle out, as long as the
    other block row is ready. Output of a block row starts :data:`OUTPUT_DELAY`
    cycles after its last block is written.
    """

    @refuse_quietly
    def __init__(self, pixel, r: int, width: int, lanes: int, blocks: int = 1,
                 buffer_ram: str = "auto"):
        for name, value in (("r", r), ("width", width), ("lanes", lanes), ("blocks", blocks)):
            check_count(name, value)
        if (width * r) % lanes:
            raise ValueError(f"lanes must divide the output row of {width * r} pixels, "
                             f"got {lanes!r}")
        if width % blocks:
            raise ValueError(f"blocks must divide the width of {width} blocks, got {blocks!r}")
        check_buffer_ram(buffer_ram)
        self.pixel, self.r, self.width, self.lanes, self.blocks = pixel, r, width, lanes, blocks
        self.buffer_ram = buffer_ram
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(block_layout(pixel, r), blocks))),
            "o": Out(stream.Signature(lanes_layout(pixel, lanes))),
        })

    def elaborate(self, platform):
        m = Module()
        r, w, lanes = self.r, self.width, self.lanes
        beat = self.blocks * r            # pixels of one output row written a beat
        banks = math.lcm(lanes, beat)
        words = w * r // banks            # words per output row in each memory

        # -- writer: block j of the filling buffer ----------------------------------
        full = [Signal(name=f"full{b}") for b in range(2)]
        wbuf = Signal()
        wword = Signal(range(max(words, 2)))
        # At least one bit each: a zero-width counter (one bank, factor 1) is written as
        # `wire [-1:0]`, which Verilator refuses (ASCRANGE) and Icarus accepts.
        woff = Signal(range(max(banks, 2)))   # (j r) mod L, a multiple of B r
        full_w = Mux(wbuf, full[1], full[0])
        m.d.comb += self.i.ready.eq(~full_w)
        write = self.i.valid & self.i.ready
        beat_blocks = self.i.payload
        mems = {}
        for dy in range(r):
            for c in range(banks):
                mem = memory.Memory(shape=self.pixel, depth=2 * words, init=[],
                                    attrs=buffer_attrs(2 * words, self.buffer_ram))
                m.submodules[f"row{dy}_bank{c}"] = mem
                mems[(dy, c)] = mem
                port = mem.write_port()
                m.d.comb += [port.addr.eq(Mux(wbuf, words, 0) + wword),
                             port.data.eq(beat_blocks[c % beat // r][dy * r + c % r]),
                             port.en.eq(write & equals(woff, c - c % beat))]
        set_full = Signal()
        with m.If(write):
            with m.If(equals(woff, banks - beat)):
                m.d.sync += woff.eq(0)
                with m.If(equals(wword, words - 1)):
                    m.d.sync += [wword.eq(0), wbuf.eq(~wbuf)]
                    m.d.comb += set_full.eq(1)
                with m.Else():
                    m.d.sync += wword.eq(wword + 1)
            with m.Else():
                m.d.sync += woff.eq(woff + beat)

        # -- reader: rows dy of the draining buffer, `lanes` pixels a beat -------------
        advance = ~self.o.valid | self.o.ready
        rbuf = Signal()
        rdy = Signal(range(max(r, 2)))
        rword = Signal(range(max(words, 2)))
        roff = Signal(range(max(banks, 2)))   # x mod L, a multiple of lanes
        step = advance & Mux(rbuf, full[1], full[0])
        clear_full = Signal()
        with m.If(step):
            with m.If(equals(roff, banks - lanes)):
                m.d.sync += roff.eq(0)
                with m.If(equals(rword, words - 1)):
                    m.d.sync += rword.eq(0)
                    with m.If(equals(rdy, r - 1)):
                        m.d.sync += [rdy.eq(0), rbuf.eq(~rbuf)]
                        m.d.comb += clear_full.eq(1)
                    with m.Else():
                        m.d.sync += rdy.eq(rdy + 1)
                with m.Else():
                    m.d.sync += rword.eq(rword + 1)
            with m.Else():
                m.d.sync += roff.eq(roff + lanes)
        for b in range(2):
            with m.If(set_full & (wbuf == b)):
                m.d.sync += full[b].eq(1)
            with m.If(clear_full & (rbuf == b)):
                m.d.sync += full[b].eq(0)

        reads = {}
        for key, mem in mems.items():
            port = mem.read_port(domain="sync", transparent_for=())
            # Only the memories of the beat's row and lanes read (the others hold).
            dy, c = key
            m.d.comb += [port.addr.eq(Mux(rbuf, words, 0) + rword),
                         port.en.eq(step & equals(rdy, dy) & equals(roff, c - c % lanes))]
            reads[key] = Value.cast(port.data)
        # Two registers: one after each memory's read, placed beside it (ECP5 block RAM's
        # clock-to-out is ~6 ns, and at 1080p widths the selected memory may lie across the
        # die), then one after the selection.
        valid_r, valid_q = Signal(), Signal()
        sel_dy, sel_dy_q = Signal.like(rdy), Signal.like(rdy)
        sel_off, sel_off_q = Signal.like(roff), Signal.like(roff)
        held = {key: Signal.like(read, name=f"held_row{key[0]}_bank{key[1]}")
                for key, read in reads.items()}
        with m.If(advance):
            m.d.sync += [valid_r.eq(step), sel_dy.eq(rdy), sel_off.eq(roff),
                         valid_q.eq(valid_r), sel_dy_q.eq(sel_dy), sel_off_q.eq(sel_off),
                         self.o.valid.eq(valid_q)]
            m.d.sync += [held[key].eq(read) for key, read in reads.items()]
            for k in range(lanes):
                by_row = [select(sel_off_q // lanes, [held[(dy, off + k)]
                                                      for off in range(0, banks, lanes)])
                          for dy in range(r)]
                m.d.sync += self.o.payload[k].eq(select(sel_dy_q, by_row))
        return m
