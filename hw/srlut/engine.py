"""The SR-LUT engine: raster LR pixels in, raster HR pixels out, one channel, one stage.

::

    i -> LineWindow -> readout (rank sorter, 4 x (n+1) table reads, weighted sum) -> round
      -> BlockReorder -> o

The line window and the block re-order are the ones HKLUT's stages use
(:mod:`edgeforge.hw.line_window`, :mod:`edgeforge.hw.block_reorder`): the window
is reflect-mapped at the borders, which is SR-LUT's padding seen in the original
frame, and the rotations are fixed window taps and block permutations
(``hw.hklut.index``). Per anchor the readout
computes, for all four rotations at once, the MSB/LSB split, the ranks of the
LSBs, the ``n + 1`` vertex rows and weights, then issues the ``4 (n + 1)`` row
reads (20 for S, 16 for F) one a cycle and adds ``w * entry`` into ``r * r``
accumulators (``r * r`` multipliers of a ``(b+1)``-bit weight by an int8) as the
rows come back. T is then rounded half to even by ``q`` and clipped.

The table is either on chip (``table="onchip"``: a ROM, data one cycle after
its address) or outside (``table="external"``): the engine then has a read port
as a memory controller presents one, ``mem_addr`` (a stream of row numbers) and
``mem_data`` (the ``r * r`` int8 entries of each row, element ``e`` in bits
``8e+7..8e``, in request order, after any latency; the engine always takes them).
One anchor's reads are in flight at a time: an anchor costs
``4 (n + 1) + latency + 1`` cycles (:mod:`edgeforge.sim.cycles.srlut`).
"""

from __future__ import annotations

from amaranth import Module, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.hklut import PIXEL_BITS, ROTATIONS, TABLE_BITS
from edgeforge.schemes.srlut import SRLUTConfig, table_name

from ..block_reorder import BlockReorder, check_out_pixels
from ..hklut.index import tap_value, turn_block, window_taps
from ..line_window import LineWindow
from ..logic import check_buffer_ram, check_side, equals, refuse_quietly
from ..rom import RomBank
from .simplex import ranks, vertex_rows, weights

__all__ = ["TABLE_PLACES", "KERNELS", "OUT_PIXELS", "SRLUTEngine", "table_words"]

TABLE_PLACES = ("onchip", "external")
KERNELS = ("s", "f")
OUT_PIXELS = (1, 2, 4, 8, 16)
# The HKLUT line window carries a rem field; SR-LUT pixels are plain 8-bit values.
_PIXEL = data.StructLayout({"q": unsigned(PIXEL_BITS), "rem": unsigned(1)})


def table_words(table) -> list[int]:
    """One unsigned word per table row: its ``r * r`` int8 entries, element ``e`` at bits 8e."""
    flat = table.reshape(table.shape[0], -1).astype(int) & 0xFF
    words = []
    for row in flat:
        w = 0
        for e, v in enumerate(row):
            w |= int(v) << (TABLE_BITS * e)
        words.append(w)
    return words


class SRLUTEngine(wiring.Component):
    """Streams one channel's LR frames in and their SR-LUT-S/F frames out.

    Parameters
    ----------
    tables : dict[str, numpy.ndarray]
        The artifact's table (``s0_s`` or ``s0_f``), int8 ``(L**n, r, r)``.
    config : SRLUTConfig
        One stage, kernel set ``s`` or ``f``, any interval of 2 or more levels.
    width, height : int
        LR frame size, 3 (the HKLUT line window's reflect reach) .. ``hw.logic.MAX_SIDE``
        each.
    out_pixels : int
        HR pixels per output beat, one of :data:`OUT_PIXELS`, dividing ``width * r``.
    table : {"onchip", "external"}
        Where the table lives (see the module's description).
    buffer_ram : str
        Memory kind of the line and re-order buffers (``hw.logic.buffer_attrs``).

    Members
    -------
    i : In(stream.Signature(8)), o : Out(stream.Signature(8 * out_pixels))
        As the HKLUT engine's.
    mem_addr : Out(stream.Signature(range(L**n))), mem_data : In(stream.Signature(8 r r))
        Only with ``table="external"``.
    """

    @refuse_quietly
    def __init__(self, tables, config: SRLUTConfig, *, width: int, height: int,
                 out_pixels: int = 1, table: str = "external", buffer_ram: str = "auto"):
        self.check_config(config, width=width, height=height, out_pixels=out_pixels, table=table,
                          buffer_ram=buffer_ram)
        r = config.stages[0]
        self.table = tables[table_name(0, config.kernels)]
        self.config, self.width, self.height = config, width, height
        self.out_pixels, self.place, self.buffer_ram = out_pixels, table, buffer_ram
        self.r = r
        self.word_bits = TABLE_BITS * r * r
        members = {"i": In(stream.Signature(PIXEL_BITS)),
                   "o": Out(stream.Signature(PIXEL_BITS * out_pixels))}
        if table == "external":
            members |= {"mem_addr": Out(stream.Signature(range(config.entries))),
                        "mem_data": In(stream.Signature(self.word_bits))}
        super().__init__(members)

    @staticmethod
    def check_config(config: SRLUTConfig, *, width: int, height: int, out_pixels: int = 1,
                     table: str = "external", buffer_ram: str = "auto") -> None:
        """Validate an engine config (see the class's parameters); raise ValueError naming it."""
        if not isinstance(config, SRLUTConfig):
            raise TypeError(f"config must be an SRLUTConfig, got {type(config).__name__!r}")
        if config.kernels not in KERNELS or len(config.stages) != 1:
            raise ValueError(f"config: the engine reads one stage of kernel set "
                             f"{' or '.join(KERNELS)}, got kernels {config.kernels!r}, stages "
                             f"{list(config.stages)!r}")
        if config.interval_bits < 1:
            raise ValueError(f"config.interval_bits must be at least 1 for the engine (it "
                             f"interpolates), got {config.interval_bits!r}")
        check_side("width", width, 3)
        check_side("height", height, 3)
        r = config.stages[0]
        check_out_pixels(out_pixels, OUT_PIXELS, width * r)
        if table not in TABLE_PLACES:
            raise ValueError(f"table must be one of {TABLE_PLACES}, got {table!r}")
        check_buffer_ram(buffer_ram)

    @property
    def reads_per_anchor(self) -> int:
        return ROTATIONS * (self.config.pixels + 1)

    @property
    def multipliers(self) -> int:
        """Weight x entry multipliers of the weighted sum: one per block element."""
        return self.r * self.r

    def elaborate(self, platform):
        m = Module()
        c, r = self.config, self.r
        n, bits, q = c.pixels, c.interval_bits, c.interval
        kernel = c.kernel_list[0]
        reads = self.reads_per_anchor
        window = LineWindow(_PIXEL, self.width, self.height, 1, buffer_ram=self.buffer_ram,
                            carries_rem=False)
        reorder = BlockReorder(unsigned(PIXEL_BITS), r, self.width, self.out_pixels, 1,
                               buffer_ram=self.buffer_ram)
        m.submodules.window, m.submodules.reorder = window, reorder
        m.d.comb += [window.i.payload[0].q.eq(self.i.payload), window.i.valid.eq(self.i.valid),
                     self.i.ready.eq(window.i.ready)]

        # -- the memory port: the engine's own, or a ROM answering one cycle later ------
        if self.place == "external":
            addr_port, data_port = self.mem_addr, self.mem_data
        else:
            rom = RomBank(table_words(self.table), self.word_bits)
            m.submodules.rom = rom
            addr_port = stream.Signature(range(c.entries)).create()
            data_port = stream.Signature(self.word_bits).flip().create()
            m.d.comb += [addr_port.ready.eq(1), rom.addr[0].eq(addr_port.payload),
                         rom.en.eq(addr_port.valid), data_port.payload.eq(rom.data[0])]
            m.d.sync += data_port.valid.eq(addr_port.valid)
        m.d.comb += data_port.ready.eq(1)

        # -- per anchor: rows and weights of all rotations, registered at the window's take --
        row_shape, weight_shape = range(c.entries), unsigned(bits + 1)
        rows = [Signal(row_shape, name=f"row{k}") for k in range(reads)]
        wts = [Signal(weight_shape, name=f"w{k}") for k in range(reads)]
        busy = Signal()
        issued = Signal(range(reads + 1))
        got = Signal(range(reads + 1))
        got_rot = Signal(range(ROTATIONS))
        got_vertex = Signal(range(n + 1))
        acc_shape = signed(c.sum_bits)
        acc = [Signal(acc_shape, name=f"acc{e}") for e in range(r * r)]
        done = busy & equals(got, reads)
        handed = done & reorder.i.ready
        take = window.o.valid & window.o.ready
        m.d.comb += window.o.ready.eq(~busy | handed)

        win = window.o.payload[0]
        new_rows, new_wts = [], []
        for rot in range(ROTATIONS):
            values = [tap_value(win, dy, dx, "reflect") for dy, dx in window_taps(kernel, rot)]
            msbs = [v[bits:] for v in values]
            lsbs = [v[:bits] for v in values]
            rank = ranks(lsbs)
            new_rows += vertex_rows(msbs, rank, c.nodes)
            new_wts += weights(lsbs, rank, q)
        with m.If(take):
            m.d.sync += [busy.eq(1), issued.eq(0), got.eq(0), got_rot.eq(0), got_vertex.eq(0)]
            m.d.sync += [a.eq(0) for a in acc]
            m.d.sync += [s.eq(v) for s, v in zip(rows, new_rows)]
            m.d.sync += [s.eq(v) for s, v in zip(wts, new_wts)]
        with m.Elif(handed):
            m.d.sync += busy.eq(0)

        # -- issue: rows[0] out, shifted along on each accepted request -----------------
        m.d.comb += [addr_port.valid.eq(busy & (issued != reads)),
                     addr_port.payload.eq(rows[0])]
        with m.If(addr_port.valid & addr_port.ready & ~take):
            m.d.sync += issued.eq(issued + 1)
            m.d.sync += [a.eq(b) for a, b in zip(rows, rows[1:])]

        # -- accumulate: w * entry into the element the rotation turns it to ------------
        entries = data.ArrayLayout(signed(TABLE_BITS), r * r)(data_port.payload)
        with m.If(data_port.valid & busy & ~take):
            m.d.sync += got.eq(got + 1)
            m.d.sync += [a.eq(b) for a, b in zip(wts, wts[1:])]
            with m.If(equals(got_vertex, n)):
                m.d.sync += [got_vertex.eq(0), got_rot.eq(got_rot + 1)]
            with m.Else():
                m.d.sync += got_vertex.eq(got_vertex + 1)
            with m.Switch(got_rot):
                for rot in range(ROTATIONS):
                    with m.Case(rot):
                        for ey in range(r):
                            for ex in range(r):
                                ty, tx = turn_block(rot, ey, ex, r)
                                dst = acc[ty * r + tx]
                                m.d.sync += dst.eq(dst + wts[0] * entries[ey * r + ex])

        # -- round half to even by q, clip to 8 bits, into the re-order ---------------------
        m.d.comb += reorder.i.valid.eq(done)
        for e, total in enumerate(acc):
            floor = total >> bits
            rem = total[:bits]
            half = 1 << (bits - 1)
            up = (rem > half) | ((rem == half) & floor[0])
            value = Signal(signed(len(total) + 1), name=f"rounded{e}")
            m.d.comb += value.eq(floor + up)
            out = reorder.i.payload[0][e]
            with m.If(value < 0):
                m.d.comb += out.eq(0)
            with m.Elif(value > 255):
                m.d.comb += out.eq(255)
            with m.Else():
                m.d.comb += out.eq(value[:PIXEL_BITS])
        m.d.comb += [self.o.payload.eq(reorder.o.payload), self.o.valid.eq(reorder.o.valid),
                     reorder.o.ready.eq(self.o.ready)]
        return m
