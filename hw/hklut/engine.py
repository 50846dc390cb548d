"""The HKLUT engine: every stage chained on chip, with only line buffers between stages.

::

    i (8-bit pixel) -> [LineWindow -> LookupCombine -> BlockReorder] per stage -> round -> o

Stage ``s`` reads a ``width * prod(r_<s)`` x ``height * prod(r_<s)`` plane,
``V_s = max(1, R_s / 4)`` adjacent pixels a beat (:func:`~.lookup.window_lanes`):
each re-order emits what the next stage's line buffer takes a beat, the last
one ``out_pixels``.
"""

from __future__ import annotations

from amaranth import Module, Shape, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.hklut import PIXEL_BITS, HKLUTConfig

from ..block_reorder import BlockReorder, check_out_pixels
from ..line_window import SLOTS, LineWindow, stored_layout
from ..logic import check_buffer_ram, check_count, refuse_quietly
from .combine import pixel_layout, round_half_even
from .lookup import LookupCombine, window_lanes
from .tables import READS_PER_TABLE

# The first stage takes the engine's input, one pixel a beat: one window a cycle is its
# ceiling (4 reads per table per cycle).
FIRST_STAGE_READS = tuple(r for r in READS_PER_TABLE if window_lanes(r) == 1)

__all__ = ["OUT_PIXELS", "FIRST_STAGE_READS", "MAX_SIDE", "buffer_pixels", "buffer_bits",
           "HKLUTEngine"]

OUT_PIXELS = (1, 2, 4, 8, 16)

#: Largest LR frame side, width and height, an engine is built for: 4096 x 4096 LR is
#: 16384 x 16384 out at x4, twice 8K UHD's width. The buffers grow with the width: at
#: 4096 those of HKLUT-S x4 hold 1.87 Mbit (:func:`buffer_bits`), half the block RAM of
#: the largest ECP5 (the 85F's 3.8 Mbit), and generating its Verilog took 4 s and wrote
#: 10 MB (100,000 took 112 s and 203 MB). The height costs no memory, but the cycle model
#: walks every row, and 2^32 rows took all of 24 GiB.
MAX_SIDE = 4096


def buffer_pixels(pixel: data.StructLayout, stages: int) -> list[tuple[bool, object]]:
    """What each stage's buffers store of a pixel: whether its line buffer keeps ``rem``
    (not the first, whose 8-bit input pixels have ``rem = 0``), and the shape its re-order
    holds (the last holds output pixels, rounded to 8 bits before re-ordering)."""
    return [(s > 0, unsigned(PIXEL_BITS) if s == stages - 1 else pixel) for s in range(stages)]


def buffer_bits(config: HKLUTConfig, width: int) -> int:
    """Bits held by the line and re-order buffers of one engine for LR frames ``width`` wide:
    each stage keeps ``SLOTS`` input rows and two output block rows (``2 r`` rows of ``w r``
    pixels), at the widths :func:`buffer_pixels` gives. The tables come on top."""
    pixel = pixel_layout(config.widths())
    total, w = 0, width
    for (carries_rem, reordered), r in zip(buffer_pixels(pixel, len(config.stages)),
                                           config.stages):
        total += SLOTS * w * stored_layout(pixel, carries_rem).size
        total += 2 * r * w * r * Shape.cast(reordered).width
        w *= r
    return total


class HKLUTEngine(wiring.Component):
    """Streams one channel's low-resolution frames in and their super-resolved frames out.

    Parameters
    ----------
    tables : dict[str, numpy.ndarray]
        int8 tables by name (``edgeforge.schemes.hklut.table_name``), as in an artifact.
    config : HKLUTConfig
    width, height : int
        Input frame size (each at least 3, the reflect padding's reach + 1, and at most
        :data:`MAX_SIDE`).
    reads_per_table : tuple of int
        Reads per table per cycle for each stage: the first one of
        :data:`FIRST_STAGE_READS` (1, 2, 4), later ones also 8 or 16 (2 or 4
        adjacent pixels a cycle, which must divide that stage's width).
    out_pixels : int
        Output pixels per beat ``P``, one of :data:`OUT_PIXELS`; must divide the
        output row (``width * scale``).
    buffer_ram : str
        Memory kind of the line and re-order buffers, one of
        :data:`~edgeforge.hw.logic.BUFFER_RAM` (:func:`~edgeforge.hw.logic.buffer_attrs`).

    Members
    -------
    i : In(stream.Signature(8))
        Input pixels in raster order, frames (and channels) back to back.
    o : Out(stream.Signature(8 * out_pixels))
        Output pixels in raster order, pixel ``k`` of a beat in bits ``[8k+7:8k]``.

    Throughput and latency are given by ``edgeforge.sim.cycles.hklut``.
    Backpressure on ``o`` (ready low) or gaps on ``i`` never lose, repeat or
    reorder a pixel.

    Raises
    ------
    ValueError
        For a size below 3 or above :data:`MAX_SIDE`, a reads count not allowed for its stage or whose pixels
        a cycle do not divide the stage's width, one reads count per stage missing,
        an out_pixels not in :data:`OUT_PIXELS` or not dividing the output row, or an
        unknown buffer_ram.
    """

    @refuse_quietly
    def __init__(self, tables, config: HKLUTConfig, *, width: int, height: int,
                 reads_per_table=None, out_pixels: int = 1, buffer_ram: str = "auto"):
        reads_per_table = self.check_config(config, width=width, height=height,
                                            reads_per_table=reads_per_table,
                                            out_pixels=out_pixels, buffer_ram=buffer_ram)
        self.tables, self.config = tables, config
        self.width, self.height = width, height
        self.reads_per_table, self.out_pixels = reads_per_table, out_pixels
        self.buffer_ram = buffer_ram
        self.widths = config.widths()
        self.pixel = pixel_layout(self.widths)
        super().__init__({"i": In(self.i_signature()),
                          "o": Out(self.o_signature(out_pixels))})

    @staticmethod
    def check_config(config: HKLUTConfig, *, width: int, height: int, reads_per_table=None,
                     out_pixels: int = 1, buffer_ram: str = "auto") -> tuple[int, ...]:
        """Validate an engine config (see the class's Raises); return ``reads_per_table`` as a tuple."""
        if not isinstance(config, HKLUTConfig):
            raise TypeError(f"config must be an HKLUTConfig, got {type(config).__name__!r}")
        check_count("width", width, 3)
        check_count("height", height, 3)
        for name, value in (("width", width), ("height", height)):
            if value > MAX_SIDE:
                raise ValueError(f"{name} must be at most {MAX_SIDE}, the side of the largest "
                                 f"supported LR frame ({MAX_SIDE} x {MAX_SIDE}; at {MAX_SIDE} "
                                 f"pixels a row the buffers of this config hold "
                                 f"{buffer_bits(config, MAX_SIDE) / 1e6:.2f} Mbit), "
                                 f"got {value!r}")
        if reads_per_table is None:
            reads_per_table = (1,) * len(config.stages)
        if not isinstance(reads_per_table, (tuple, list)):
            raise ValueError(f"reads_per_table must be a sequence of one count per stage, "
                             f"got {reads_per_table!r}")
        reads_per_table = tuple(reads_per_table)
        if len(reads_per_table) != len(config.stages):
            raise ValueError(f"reads_per_table must give one count per stage "
                             f"({len(config.stages)}), got {reads_per_table!r}")
        for reads in reads_per_table:
            if reads not in READS_PER_TABLE:
                raise ValueError(f"reads_per_table entries must be one of {READS_PER_TABLE}, "
                                 f"got {reads_per_table!r}")
        if reads_per_table[0] not in FIRST_STAGE_READS:
            raise ValueError(f"reads_per_table[0] must be one of {FIRST_STAGE_READS} (the input "
                             f"is one pixel a beat), got {reads_per_table!r}")
        stage_width = width
        for s, (reads, r) in enumerate(zip(reads_per_table, config.stages)):
            if stage_width % window_lanes(reads):
                raise ValueError(f"reads_per_table[{s}] = {reads} looks up "
                                 f"{window_lanes(reads)} pixels a cycle, which must divide that "
                                 f"stage's width of {stage_width} pixels, got {reads_per_table!r}")
            stage_width *= r
        check_out_pixels(out_pixels, OUT_PIXELS, width * config.scale)
        check_buffer_ram(buffer_ram)
        return reads_per_table

    @staticmethod
    def i_signature() -> stream.Signature:
        return stream.Signature(PIXEL_BITS)

    @staticmethod
    def o_signature(out_pixels: int) -> stream.Signature:
        return stream.Signature(PIXEL_BITS * out_pixels)

    def stage_sizes(self) -> list[tuple[int, int]]:
        """Input plane ``(width, height)`` of each stage."""
        sizes, w, h = [], self.width, self.height
        for r in self.config.stages:
            sizes.append((w, h))
            w, h = w * r, h * r
        return sizes

    def elaborate(self, platform):
        m = Module()
        stages = self.config.stages
        lanes = [window_lanes(reads) for reads in self.reads_per_table]
        denom = self.widths.denom
        stored = buffer_pixels(self.pixel, len(stages))
        previous = None
        for s, ((w, h), r) in enumerate(zip(self.stage_sizes(), stages)):
            last = s == len(stages) - 1
            carries_rem, reordered = stored[s]
            window = LineWindow(self.pixel, w, h, lanes[s], buffer_ram=self.buffer_ram,
                                carries_rem=carries_rem)
            lookup = LookupCombine(self.tables, self.config, s, self.reads_per_table[s],
                                   self.pixel)
            reorder = BlockReorder(reordered, r, w, self.out_pixels if last else lanes[s + 1],
                                   lanes[s], buffer_ram=self.buffer_ram)
            m.submodules[f"s{s}_window"] = window
            m.submodules[f"s{s}_lookup"] = lookup
            m.submodules[f"s{s}_reorder"] = reorder
            if previous is None:
                # An 8-bit input pixel q is N = D q: (q, rem = 0); its line buffer keeps q.
                m.d.comb += [window.i.payload[0].q.eq(self.i.payload),
                             window.i.valid.eq(self.i.valid), self.i.ready.eq(window.i.ready)]
            else:
                m.d.comb += [window.i.payload.eq(previous.o.payload),
                             window.i.valid.eq(previous.o.valid),
                             previous.o.ready.eq(window.i.ready)]
            wiring.connect(m, window=window.o, lookup=lookup.i)
            if last:
                # Rounded to output pixels before the re-order, which then holds 8 bits a pixel.
                m.d.comb += [reorder.i.valid.eq(lookup.o.valid),
                             lookup.o.ready.eq(reorder.i.ready)]
                for b in range(lanes[s]):
                    for k in range(r * r):
                        px = lookup.o.payload[b][k]
                        m.d.comb += reorder.i.payload[b][k].eq(
                            round_half_even(px.q, px.rem, denom))
            else:
                wiring.connect(m, lookup=lookup.o, reorder=reorder.i)
            previous = reorder

        m.d.comb += [self.o.payload.eq(previous.o.payload),
                     self.o.valid.eq(previous.o.valid), previous.o.ready.eq(self.o.ready)]
        return m
