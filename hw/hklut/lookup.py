"""One stage's table readout: index generators, table banks, rotation adder trees, combiner.

Each window (one stage pixel) is read over ``T = 4 / R`` phases; phase ``p``
looks up rotations ``p R .. p R + R - 1`` of every kernel, lane ``u`` of every
table bank serving rotation ``p R + u``. Pipeline (one register level each, all
advancing together while the output can move)::

    window -> indices -> ROM read -> ROM data register -> rotate back, weight, accumulate
           -> add branches, clamp (N) -> floor by D -> remainder (block out)

The centre residual ``N_prev = D q + rem`` is computed beside the ROM data
register and seeds the msb accumulator, and each branch accumulates its weighted
sum ``w S``: the combine step is then one add and the clamp (ECP5 timing).

The block out holds the ``r x r`` sub-pixels of the anchor as ``(q, rem)``,
element ``ey r + ex`` for output pixel ``(r i + ey, r j + ex)``.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.hklut import BRANCHES, ROTATIONS, TABLE_BITS, HKLUTConfig, table_name

from .combine import FloorDiv, centre, clamp_n, floor_div, times
from .index import kernel_index, tap_index, turn_block
from .linebuffer import window_layout
from .logic import equals, refuse_quietly, select
from .tables import READS_PER_TABLE, TableBank

__all__ = ["block_layout", "LookupCombine"]

# Register levels from the read issued in a window's last phase to its block out.
PIPELINE_DEPTH = 6


def block_layout(pixel: data.StructLayout, r: int) -> data.ArrayLayout:
    """The ``r x r`` sub-pixels of one anchor, row-major."""
    return data.ArrayLayout(pixel, r * r)


def _signed_range(lo: int, hi: int) -> range:
    return range(lo, hi + 1)


class LookupCombine(wiring.Component):
    """Windows in, the stage's ``r x r`` output blocks out.

    Parameters
    ----------
    tables : dict[str, numpy.ndarray]
        The artifact's tables (this stage's are used).
    config : HKLUTConfig
    stage : int
    reads : int
        Reads per table per cycle, one of :data:`~.tables.READS_PER_TABLE`.
    pixel : data.StructLayout
        Pixel layout ``(q, rem)``.

    Members
    -------
    i : In(stream.Signature(window_layout(pixel)))
    o : Out(stream.Signature(block_layout(pixel, r)))

    Throughput: one window per ``4 / reads`` cycles. Latency: ``PIPELINE_DEPTH``
    cycles after a window's last phase. Backpressure on ``o`` stalls the whole
    pipeline (no beat is dropped or repeated).
    """

    @refuse_quietly
    def __init__(self, tables, config: HKLUTConfig, stage: int, reads: int,
                 pixel: data.StructLayout):
        if reads not in READS_PER_TABLE:
            raise ValueError(f"reads must be one of {READS_PER_TABLE}, got {reads!r}")
        self.config, self.stage, self.reads, self.pixel = config, stage, reads, pixel
        self.r = config.stages[stage]
        self.widths = config.widths()
        self.floor = FloorDiv.derive(self.widths.denom, self.widths.n_max)
        self._tables = {name: tables[name] for name, s, *_ in config.tables() if s == stage}
        super().__init__({"i": In(stream.Signature(window_layout(pixel))),
                          "o": Out(stream.Signature(block_layout(pixel, self.r)))})

    def elaborate(self, platform):
        m = Module()
        r, reads, widths = self.r, self.reads, self.widths
        phases = ROTATIONS // reads
        win = self.i.payload
        advance = ~self.o.valid | self.o.ready

        phase = Signal(range(max(phases, 2)))      # stays 0 with a single phase
        m.d.comb += self.i.ready.eq(advance & equals(phase, phases - 1))
        with m.If(advance & self.i.valid):
            with m.If(equals(phase, phases - 1)):
                m.d.sync += phase.eq(0)
            with m.Else():
                m.d.sync += phase.eq(phase + 1)

        # -- indices and table reads -----------------------------------------------
        banks = {}
        for branch in BRANCHES:
            padding = self.config.padding(branch)
            for kernel in self.config.kernels(branch):
                name = table_name(self.stage, branch, kernel.name)
                bank = TableBank(self._tables[name], reads)
                m.submodules[name] = bank
                banks[(branch, kernel.name)] = bank
                m.d.comb += bank.en.eq(advance & self.i.valid)   # idle tables hold
                for lane in range(reads):
                    by_phase = [kernel_index(win, kernel, p * reads + lane, branch, padding)
                                for p in range(phases)]
                    m.d.comb += bank.addr[lane].eq(select(phase, by_phase))

        # Window metadata that travels with the reads.
        meta = data.StructLayout({"valid": 1, "first": 1, "last": 1, "phase": range(max(phases, 2)),
                                  "q": 8, "rem": self.pixel["rem"].shape})
        meta1, meta2 = Signal(meta), Signal(meta)
        with m.If(advance):
            m.d.sync += [meta1.valid.eq(self.i.valid), meta1.first.eq(equals(phase, 0)),
                         meta1.last.eq(equals(phase, phases - 1)), meta1.phase.eq(phase),
                         meta1.q.eq(win.q[tap_index(0, 0)]), meta1.rem.eq(win.rem),
                         meta2.eq(meta1)]
        # N_prev of the centre pixel, aligned with meta2 (the window holds over its phases).
        centre2 = Signal(range(widths.n_max + 1))
        with m.If(advance):
            m.d.sync += centre2.eq(centre(widths, meta1.q, meta1.rem))

        # -- a register after each table read (ECP5 timing) -------------------------
        held = {}
        for key, bank in banks.items():
            for lane in range(reads):
                reg = Signal(bank.block_bits, name=f"rd_{key[0]}_{key[1]}_{lane}")
                with m.If(advance):
                    m.d.sync += reg.eq(bank.data[lane])
                held[(*key, lane)] = reg

        # -- rotate back, add, weight, accumulate over phases ----------------------------
        # acc msb = w_msb S_msb + N_prev, acc lsb = w_lsb S_lsb (partial sums stay in range:
        # every table term lies between the per-term extremes that make up S's range).
        acc = {}
        for branch in BRANCHES:
            lo, hi = (widths.s_msb_range if branch == "msb" else widths.s_lsb_range)
            weight = widths.w_msb if branch == "msb" else widths.w_lsb
            seed, top = (centre2, widths.n_max) if branch == "msb" else (0, 0)
            acc[branch] = [Signal(_signed_range(weight * lo, weight * hi + top),
                                  name=f"ws_{branch}_{a}") for a in range(r * r)]
            for ay in range(r):
                for ax in range(r):
                    terms = []
                    for kernel in self.config.kernels(branch):
                        for lane in range(reads):
                            word = held[(branch, kernel.name, lane)]
                            # Element of this lane's block that lands at (ay, ax), per phase.
                            by_phase = []
                            for p in range(phases):
                                rot = p * reads + lane
                                src = next((ey, ex) for ey in range(r) for ex in range(r)
                                           if turn_block(rot, ey, ex, r) == (ay, ax))
                                e = src[0] * r + src[1]
                                by_phase.append(word[TABLE_BITS * e:TABLE_BITS * (e + 1)].as_signed())
                            terms.append(select(meta2.phase, by_phase))
                    total = times(sum(terms[1:], terms[0]), weight)
                    target = acc[branch][ay * r + ax]
                    with m.If(advance & meta2.valid):
                        m.d.sync += target.eq(Mux(meta2.first, seed, target) + total)
        done3 = Signal()
        with m.If(advance):
            m.d.sync += done3.eq(meta2.valid & meta2.last)

        # -- combine: N = clamp(w_msb S_msb + N_prev + w_lsb S_lsb, 0, n_max) ---------------
        n4 = [Signal(widths.n_bits, name=f"n_{a}") for a in range(r * r)]
        valid4 = Signal()
        with m.If(advance):
            m.d.sync += valid4.eq(done3)
            for a in range(r * r):
                m.d.sync += n4[a].eq(clamp_n(widths, acc["msb"][a] + acc["lsb"][a]))

        # -- floor by D: q = N // D (a multiply), then rem = N - D q (shifted adds) ---------
        # One register level each: the two in series limited ECP5 Fmax to ~53 MHz.
        q5 = [Signal(8, name=f"q_{a}") for a in range(r * r)]
        n5 = [Signal(widths.n_bits, name=f"n5_{a}") for a in range(r * r)]
        valid5 = Signal()
        with m.If(advance):
            m.d.sync += valid5.eq(valid4)
            for a in range(r * r):
                m.d.sync += [q5[a].eq(floor_div(n4[a], self.floor)), n5[a].eq(n4[a])]
        with m.If(advance):
            m.d.sync += self.o.valid.eq(valid5)
            for a in range(r * r):
                below = Signal(widths.n_bits, name=f"dq_{a}")    # D q <= N: same width as N
                m.d.comb += below.eq(times(q5[a], widths.denom))
                m.d.sync += [self.o.payload[a].q.eq(q5[a]),
                             self.o.payload[a].rem.eq(n5[a] - below)]
        return m
