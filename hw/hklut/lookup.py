"""One stage's table readout: index generators, table banks, rotation adder trees, combiner.

A beat carries ``V = max(1, R / 4)`` windows (``lanes``, adjacent stage pixels),
each read with ``Q = R / V`` lanes of every table bank over ``T = 4 / Q``
phases: phase ``p`` looks up rotations ``p Q .. p Q + Q - 1`` of every kernel,
bank lane ``v Q + u`` serving rotation ``p Q + u`` of window ``v``. Pipeline (one
register level each, all advancing together while the output can move)::

    window -> indices -> ROM read -> ROM data register -> rotate back, add -> weight,
           accumulate -> add branches, clamp (N) -> floor by D -> remainder (block out)

The centre residual ``N_prev = D q + rem`` is computed beside the phase sums and
seeds the msb accumulator, and each branch accumulates its weighted sum ``w S``:
the combine step is then one add and the clamp (ECP5 timing).

A block out holds the ``r x r`` sub-pixels of one anchor as ``(q, rem)``,
element ``ey r + ex`` for output pixel ``(r i + ey, r j + ex)``; a beat holds
the ``V`` blocks of its windows.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.hklut import BRANCHES, ROTATIONS, TABLE_BITS, HKLUTConfig, table_name

from ..block_reorder import block_layout
from ..line_window import tap_index, window_layout
from ..logic import beat_phase, equals, refuse_quietly, select
from .combine import FloorDiv, centre, clamp_n, floor_div, times
from .index import kernel_index, turn_block
from .tables import READS_PER_TABLE, table_bank

__all__ = ["window_lanes", "window_phases", "LookupCombine"]

# Register levels from the read issued in a window's last phase to its block out.
PIPELINE_DEPTH = 7


def window_lanes(reads: int) -> int:
    """Windows a stage looks up per beat with ``reads`` reads per table per cycle."""
    return max(1, reads // ROTATIONS)


def window_phases(reads: int) -> int:
    """Cycles a beat spends in the lookup: its windows' 4 rotations, ``reads / lanes`` a cycle."""
    return ROTATIONS // (reads // window_lanes(reads))


def _signed_range(lo: int, hi: int) -> range:
    return range(lo, hi + 1)


class LookupCombine(wiring.Component):
    """Windows in, the stage's ``r x r`` output blocks out, ``window_lanes(reads)`` a beat.

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
    i : In(stream.Signature(data.ArrayLayout(window_layout(pixel), lanes)))
    o : Out(stream.Signature(data.ArrayLayout(block_layout(pixel, r), lanes)))

    Throughput: one beat per ``max(1, 4 / reads)`` cycles. Latency: ``PIPELINE_DEPTH``
    cycles after a beat's last phase. Backpressure on ``o`` stalls the whole
    pipeline (no beat is dropped or repeated).
    """

    @refuse_quietly
    def __init__(self, tables, config: HKLUTConfig, stage: int, reads: int,
                 pixel: data.StructLayout):
        if reads not in READS_PER_TABLE:
            raise ValueError(f"reads must be one of {READS_PER_TABLE}, got {reads!r}")
        self.config, self.stage, self.reads, self.pixel = config, stage, reads, pixel
        self.lanes = window_lanes(reads)
        self.r = config.stages[stage]
        self.widths = config.widths()
        self.floor = FloorDiv.derive(self.widths.denom, self.widths.n_max)
        self._tables = {name: tables[name] for name, s, *_ in config.tables() if s == stage}
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(window_layout(pixel), self.lanes))),
            "o": Out(stream.Signature(data.ArrayLayout(block_layout(pixel, self.r), self.lanes))),
        })

    def elaborate(self, platform):
        m = Module()
        r, reads, lanes, widths = self.r, self.reads, self.lanes, self.widths
        per_window = reads // lanes
        phases = window_phases(reads)
        wins = self.i.payload
        advance = ~self.o.valid | self.o.ready

        phase = beat_phase(m, phases, advance, self.i)

        # -- indices and table reads -----------------------------------------------
        banks = {}
        for branch in BRANCHES:
            padding = self.config.padding(branch)
            for kernel in self.config.kernels(branch):
                name = table_name(self.stage, branch, kernel.name)
                bank = table_bank(self._tables[name], reads)
                m.submodules[name] = bank
                banks[(branch, kernel.name)] = bank
                m.d.comb += bank.en.eq(advance & self.i.valid)   # idle tables hold
                for v in range(lanes):
                    for u in range(per_window):
                        by_phase = [kernel_index(wins[v], kernel, p * per_window + u, branch,
                                                 padding) for p in range(phases)]
                        m.d.comb += bank.addr[v * per_window + u].eq(select(phase, by_phase))

        # Window metadata that travels with the reads.
        meta = data.StructLayout({"valid": 1, "first": 1, "last": 1, "phase": range(max(phases, 2)),
                                  "q": data.ArrayLayout(8, lanes),
                                  "rem": data.ArrayLayout(self.pixel["rem"].shape, lanes)})
        meta1, meta2, meta3 = Signal(meta), Signal(meta), Signal(meta)
        with m.If(advance):
            m.d.sync += [meta1.valid.eq(self.i.valid), meta1.first.eq(equals(phase, 0)),
                         meta1.last.eq(equals(phase, phases - 1)), meta1.phase.eq(phase),
                         meta2.eq(meta1), meta3.eq(meta2)]
            for v in range(lanes):
                m.d.sync += [meta1.q[v].eq(wins[v].q[tap_index(0, 0)]), meta1.rem[v].eq(wins[v].rem)]
        # N_prev of each centre pixel, aligned with meta3 (the windows hold over their phases).
        centre3 = [Signal(range(widths.n_max + 1), name=f"centre_{v}") for v in range(lanes)]
        with m.If(advance):
            for v in range(lanes):
                m.d.sync += centre3[v].eq(centre(widths, meta2.q[v], meta2.rem[v]))

        # -- a register after each table read (ECP5 timing) -------------------------
        held = {}
        for key, bank in banks.items():
            for lane in range(reads):
                reg = Signal(bank.word_bits, name=f"rd_{key[0]}_{key[1]}_{lane}")
                with m.If(advance):
                    m.d.sync += reg.eq(bank.data[lane])
                held[(*key, lane)] = reg

        # -- rotate back and add a phase's terms; then weight and accumulate over phases -----
        # acc msb = w_msb S_msb + N_prev, acc lsb = w_lsb S_lsb (partial sums stay in range:
        # every table term lies between the per-term extremes that make up S's range).
        acc = {}
        for branch in BRANCHES:
            lo, hi = (widths.s_msb_range if branch == "msb" else widths.s_lsb_range)
            weight = widths.w_msb if branch == "msb" else widths.w_lsb
            top = widths.n_max if branch == "msb" else 0
            for v in range(lanes):
                seed = centre3[v] if branch == "msb" else 0
                for ay in range(r):
                    for ax in range(r):
                        terms = []
                        for kernel in self.config.kernels(branch):
                            for u in range(per_window):
                                word = held[(branch, kernel.name, v * per_window + u)]
                                # Element of this lane's block that lands at (ay, ax), per phase.
                                by_phase = []
                                for p in range(phases):
                                    rot = p * per_window + u
                                    src = next((ey, ex) for ey in range(r) for ex in range(r)
                                               if turn_block(rot, ey, ex, r) == (ay, ax))
                                    e = src[0] * r + src[1]
                                    by_phase.append(
                                        word[TABLE_BITS * e:TABLE_BITS * (e + 1)].as_signed())
                                terms.append(select(meta2.phase, by_phase))
                        a = ay * r + ax
                        bound = len(terms) << (TABLE_BITS - 1)
                        phase_sum = Signal(_signed_range(-bound, bound - len(terms)),
                                           name=f"s_{branch}_{v}_{a}")
                        with m.If(advance):
                            m.d.sync += phase_sum.eq(sum(terms[1:], terms[0]))
                        target = Signal(_signed_range(weight * lo, weight * hi + top),
                                        name=f"ws_{branch}_{v}_{a}")
                        acc[(branch, v, a)] = target
                        with m.If(advance & meta3.valid):
                            m.d.sync += target.eq(Mux(meta3.first, seed, target)
                                                  + times(phase_sum, weight))
        done3 = Signal()
        with m.If(advance):
            m.d.sync += done3.eq(meta3.valid & meta3.last)

        # Per sub-pixel from here on: index k = v r^2 + a (window v, block element a).
        subpixels = lanes * r * r

        # -- combine: N = clamp(w_msb S_msb + N_prev + w_lsb S_lsb, 0, n_max) ---------------
        n4 = [Signal(widths.n_bits, name=f"n_{k}") for k in range(subpixels)]
        valid4 = Signal()
        with m.If(advance):
            m.d.sync += valid4.eq(done3)
            for k in range(subpixels):
                v, a = divmod(k, r * r)
                m.d.sync += n4[k].eq(clamp_n(widths, acc[("msb", v, a)] + acc[("lsb", v, a)]))

        # -- floor by D: q = N // D (a multiply), then rem = N - D q (shifted adds) ---------
        # One register level each: the two in series limited ECP5 Fmax to ~53 MHz.
        q5 = [Signal(8, name=f"q_{k}") for k in range(subpixels)]
        n5 = [Signal(widths.n_bits, name=f"n5_{k}") for k in range(subpixels)]
        valid5 = Signal()
        with m.If(advance):
            m.d.sync += valid5.eq(valid4)
            for k in range(subpixels):
                m.d.sync += [q5[k].eq(floor_div(n4[k], self.floor)), n5[k].eq(n4[k])]
        with m.If(advance):
            m.d.sync += self.o.valid.eq(valid5)
            for k in range(subpixels):
                v, a = divmod(k, r * r)
                below = Signal(widths.n_bits, name=f"dq_{k}")    # D q <= N: same width as N
                m.d.comb += below.eq(times(q5[k], widths.denom))
                m.d.sync += [self.o.payload[v][a].q.eq(q5[k]),
                             self.o.payload[v][a].rem.eq(n5[k] - below)]
        return m
