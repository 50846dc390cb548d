"""The PECAN-D transform's core: a CAM array of L1 match units, arg-min trees and result tables.

Per input vector (``D`` groups of ``d`` values, :class:`~edgeforge.schemes.network.
PecanDTransform`), each group is a CAM of ``p`` entries of ``d`` values: an L1 match unit
per entry (subtract, absolute value, adder tree: no multiplier) gives its distance, an
arg-min tree the matched entry ``k_j`` (the lowest index on a tie), and ``k_j`` reads
column ``k_j`` of the group's result table ``Y_j`` (``c_out`` entries) from a ROM
(:class:`~edgeforge.hw.rom.RomBank`); the columns are accumulated over the groups,
starting at the bias.

Folding: ``G`` groups matched a cycle (lanes) and ``P`` prototypes compared a cycle
(``G P`` match units), divisors of ``D`` and ``p``. One vector takes ``GF = D / G``
group folds of ``PF = p / P`` prototype folds, ``F = GF PF`` cycles, and the core emits
one beat of ``c_out`` accumulators a vector. ``(1, 1)`` is one match unit, ``(D, p)``
all of them. A prototype fold's arg-min is folded into a running minimum that only a
strictly smaller distance replaces: earlier folds hold lower indices, so the lowest
index still wins a tie.

Codebooks are constants when ``F = 1``, else one ROM word per fold (the fold's ``G P``
prototypes); each group lane has a table ROM of ``GF p`` columns. Indices and ROM
addresses come from counters that add ``P`` and ``p`` (never a product).

Pipeline (``depth`` cycles from a vector's last fold in stage A to its beat in the
output register): A holds the vector and walks the folds (codebook ROM read), B
latches the fold's inputs, R (with a codebook ROM) registers the ROM word, M registers
the distances, S updates the running minimum and, at a group fold's last prototype
fold, issues the table reads, T receives the columns, U registers them, and the
accumulator sums them; the last group fold loads the output register. Vectors follow
every ``F`` cycles; backpressure on ``o`` freezes the whole core.
"""

from __future__ import annotations

import numpy as np
from amaranth import Cat, Const, Module, Mux, Shape, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.network import check_divisors, codebook_type, range_bits

from ..logic import equals, refuse_quietly
from .mac import accumulate_folds, adder_tree, weight_rom
from .vectors import elem_shape, index_signal, vector_signature, view

__all__ = ["l1_distance", "argmin_tree", "MatchUnit", "ArgMin", "FoldWalk", "PQCore",
           "CamCore", "register", "rom_words"]


def l1_distance(xs, cs):
    """``sum_i |x_i - c_i|``: subtract, absolute value and a balanced adder tree (the
    caller's derived ``dist_bits`` register holds the largest distance exactly). ``cs``
    may be integers (a constant codebook)."""
    return adder_tree([abs(x - c) for x, c in zip(xs, cs)])


def argmin_tree(values):
    """``(minimum, index)`` of ``values`` as a balanced tree of compares; the left (lower
    index) operand wins unless the right one is strictly smaller, so a tie goes to the
    lowest index. The index is a constant-width signal of ``range(len(values))``."""
    n = len(values)
    nodes = [(v, Const(i, range(max(2, n)))) for i, v in enumerate(values)]
    while len(nodes) > 1:
        nxt = []
        for i in range(0, len(nodes), 2):
            if i + 1 == len(nodes):
                nxt.append(nodes[i])
                continue
            (va, ia), (vb, ib) = nodes[i], nodes[i + 1]
            right = vb < va
            nxt.append((Mux(right, vb, va), Mux(right, ib, ia)))
        nodes = nxt
    return nodes[0]


class MatchUnit(wiring.Component):
    """One L1 match unit with a registered output: the distance of ``x`` to ``c``.

    Parameters
    ----------
    x_shape, c_shape : Shape
        Element shapes of the input and the prototype.
    d : int
        Values per group.
    dist_bits : int

    Members
    -------
    i : In(stream.Signature(x, then c, packed))
        ``d`` elements of ``x_shape`` then ``d`` of ``c_shape``.
    o : Out(stream.Signature(unsigned(dist_bits)))
    """

    @refuse_quietly
    def __init__(self, x_shape, c_shape, d: int, dist_bits: int):
        self.x_shape, self.c_shape = Shape.cast(x_shape), Shape.cast(c_shape)
        self.d, self.dist_bits = d, dist_bits
        width = (self.x_shape.width + self.c_shape.width) * d
        super().__init__({"i": In(vector_signature(unsigned(width), 1)),
                          "o": Out(vector_signature(unsigned(dist_bits), 1))})

    def elaborate(self, platform):
        m = Module()
        xw = self.x_shape.width * self.d
        xs = view(self.i.payload[:xw], self.x_shape, self.d)
        cs = view(self.i.payload[xw:], self.c_shape, self.d)
        dist = Signal(self.dist_bits)
        m.d.comb += dist.eq(l1_distance([xs[i] for i in range(self.d)],
                                        [cs[i] for i in range(self.d)]))
        register(m, self, dist)
        return m


class ArgMin(wiring.Component):
    """An arg-min tree with a registered output: ``(index, minimum)`` of ``n`` values.

    Members
    -------
    i : In(stream.Signature(n values of unsigned(bits), packed))
    o : Out(stream.Signature(index in the low ``index_bits``, then the minimum))
    """

    @refuse_quietly
    def __init__(self, bits: int, n: int):
        self.bits, self.n = bits, n
        self.index_bits = range_bits(0, max(1, n - 1))[0]
        super().__init__({"i": In(vector_signature(unsigned(bits), n)),
                          "o": Out(vector_signature(unsigned(self.index_bits + bits), 1))})

    def elaborate(self, platform):
        m = Module()
        vals = view(self.i.payload, unsigned(self.bits), self.n)
        value, index = argmin_tree([vals[k] for k in range(self.n)])
        word = Signal(self.index_bits + self.bits)
        m.d.comb += word.eq(index[:self.index_bits] | (value << self.index_bits))
        register(m, self, word)
        return m


def register(m, block, value):
    """A one-register stream stage: ``o.payload`` latches ``value`` on each input transfer."""
    m.d.comb += block.i.ready.eq(~block.o.valid | block.o.ready)
    with m.If(block.i.ready):
        m.d.sync += block.o.valid.eq(block.i.valid)
        with m.If(block.i.valid):
            m.d.sync += block.o.payload.eq(value)


class FoldWalk:
    """What :meth:`PQCore.walk_folds` hands the match stage: the fold's ``flags`` (``valid``,
    ``first_t`` / ``last_t`` of the group fold's prototype folds, ``first_g`` / ``last_g``
    of the vector's group folds, ``pbase = t P``, ``gbase``: the group fold's table base),
    its inputs ``x`` (``G d`` elements, lane ``l``'s at ``l d + i``), ``proto(l, u, i)``:
    value ``i`` of the fold's prototype ``u`` of lane ``l`` (an int with a constant codebook)
    and ``offset(l, u)``: that prototype's constant (an int or a signal), or ``None`` when
    the core has none.
    """

    def __init__(self, flags, x, proto, offset=None):
        self.flags, self.x, self.proto, self.offset = flags, x, proto, offset


class PQCore(wiring.Component):
    """What the two PECAN cores share: the groups, codebook and result tables, the folding
    over them, the front of the pipeline (:meth:`walk_folds`: stage A walks the folds, B
    latches the fold's inputs, R registers the codebook ROM's word), the match stage
    (:meth:`match_stage`) and the accumulation over the group folds (:meth:`accumulate`).

    Parameters
    ----------
    codebook : numpy.ndarray
        Integer ``(D, p, d)``.
    cb_shape : Shape
        Element shape of a prototype value (the codebook ROM's).
    order : numpy.ndarray
        ``order[e]``: the stream position of group element ``e`` (``j d + i``).
    x_shape : Shape
        Element shape of the input vector.
    gpc, ppc : int
        Groups matched and prototypes compared a cycle; divisors of ``D`` and ``p``.
    table : numpy.ndarray
        Integer ``(D, c_out, p)``, signed ``table_bits``.
    bias : numpy.ndarray
        Integer ``(c_out,)``.
    table_bits, acc_bits : int
        Signed table entry and signed accumulator widths (derived).

    Members
    -------
    i : In(vector_signature(x_shape, D d))
    o : Out(vector_signature(signed(acc_bits), c_out))
        One beat a vector.

    Raises
    ------
    ValueError
        For a ``gpc`` / ``ppc`` that does not divide ``D`` / ``p``.
    """

    def __init__(self, codebook, cb_shape, order, x_shape, gpc: int, ppc: int, table, bias,
                 table_bits: int, acc_bits: int):
        codebook = np.asarray(codebook, np.int64)
        self.table = np.asarray(table, np.int64)
        self.bias = np.asarray(bias, np.int64)
        self.outputs = self.table.shape[1]
        self.table_bits, self.acc_bits = table_bits, acc_bits
        groups, protos, d = codebook.shape
        check_divisors(type(self).__name__, (("groups per cycle", gpc, groups, "groups"),
                                             ("prototypes per cycle", ppc, protos, "prototypes")))
        self.codebook, self.cb_shape = codebook, Shape.cast(cb_shape)
        self.order = [int(v) for v in order]
        self.x_shape = Shape.cast(x_shape)
        self.groups, self.protos, self.d = groups, protos, d
        self.gpc, self.ppc = gpc, ppc
        self.gf, self.pf = groups // gpc, protos // ppc
        super().__init__({"i": In(vector_signature(self.x_shape, groups * d)),
                          "o": Out(vector_signature(signed(acc_bits), self.outputs))})

    @staticmethod
    def layer_order(network, layer) -> np.ndarray:
        """A conv's window arrives tap-major, the groups' own order; after flatten the stream
        carries pixels with their channels together, and the order maps torch's onto it."""
        from .plan import input_order
        n = layer.fields["groups"] * layer.fields["group_size"]
        stream = input_order(network, layer) if layer.kind == "linear" else None
        return np.arange(n) if stream is None else np.argsort(stream)

    @property
    def folds(self) -> int:
        return self.gf * self.pf

    def codebook_words(self) -> list[int]:
        """One word per fold ``g PF + t``: value ``i`` of prototype ``t P + u`` of group
        ``g G + l`` at element ``(l P + u) d + i``."""
        return self.fold_words(self.codebook, self.cb_shape.width)

    def fold_words(self, values: np.ndarray, width: int) -> list[int]:
        """One word per fold ``g PF + t`` of per-prototype ``values`` ``(D, p, k)`` of
        ``width`` bits: value ``i`` of prototype ``t P + u`` of group ``g G + l`` at element
        ``(l P + u) k + i``."""
        words = []
        for g in range(self.gf):
            for t in range(self.pf):
                vals = values[g * self.gpc:(g + 1) * self.gpc,
                              t * self.ppc:(t + 1) * self.ppc].ravel()
                words.append(sum((int(v) & ((1 << width) - 1)) << (width * e)
                                 for e, v in enumerate(vals)))
        return words

    @staticmethod
    def flags(prefix: str, like=None) -> dict:
        """A fold's flag registers, named ``<prefix>_<flag>`` (the widths of ``like``'s
        ``pbase`` / ``gbase``)."""
        shapes = (("valid", 1), ("first_t", 1), ("last_t", 1), ("first_g", 1), ("last_g", 1))
        if like is not None:
            shapes += (("pbase", like["pbase"].shape()), ("gbase", like["gbase"].shape()))
        return {name: Signal(shape, name=f"{prefix}_{name}") for name, shape in shapes}

    def walk_folds(self, m, en, gbase_step: int, offsets=None, offset_bits: int = 0) -> FoldWalk:
        """Stages A, B and (with a codebook ROM, ``folds > 1``) R; everything moves only while
        ``en``. ``gbase`` counts ``gbase_step`` a group fold (the table's words a group fold).
        ``offsets`` ``(D, p)`` (signed ``offset_bits``), if given, are a constant per
        prototype handed to the match stage beside the codebook (a ROM of their own, read
        at the same address, when the codebook is one)."""
        gpc, d, gf, pf = self.gpc, self.d, self.gf, self.pf
        xw = self.x_shape.width
        # -- stage A: hold the vector in group order (a wiring permutation of the payload),
        # walk the folds. A group fold rotates the vector by its G groups, so the fold's
        # groups are always the lowest elements (no GF-way multiplexer).
        payload = view(self.i.payload, self.x_shape, self.groups * d)
        x = Signal(self.groups * d * xw)
        chunk = gpc * d * xw
        busy = Signal()
        g, t = index_signal(gf, "g"), index_signal(pf, "t")
        fold = index_signal(self.folds, "fold")
        # t P and g p as counters (adders), so that no product reaches the netlist.
        a = {"pbase": Signal(range(max(2, self.protos)), name="pbase"),
             "gbase": Signal(range(max(2, gf * gbase_step)), name="gbase")}
        pbase, gbase = a["pbase"], a["gbase"]
        last_t, last_g = equals(t, pf - 1), equals(g, gf - 1)
        m.d.comb += self.i.ready.eq(en & (~busy | (busy & last_t & last_g)))
        with m.If(en):
            with m.If(self.i.valid & self.i.ready):
                m.d.sync += [x.eq(Cat(*(payload[k] for k in self.order))), busy.eq(1), g.eq(0),
                             t.eq(0), fold.eq(0), pbase.eq(0), gbase.eq(0)]
            with m.Elif(busy):
                m.d.sync += fold.eq(fold + 1)
                with m.If(last_t):
                    if gf > 1:
                        m.d.sync += x.eq(x.rotate_right(chunk))
                    m.d.sync += [t.eq(0), pbase.eq(0), g.eq(g + 1), gbase.eq(gbase + gbase_step)]
                    with m.If(last_g):
                        m.d.sync += busy.eq(0)
                with m.Else():
                    m.d.sync += [t.eq(t + 1), pbase.eq(pbase + self.ppc)]

        # -- stage B: the fold's inputs and flags.
        b = self.flags("b", a)
        b_x = Signal(chunk, name="b_x")
        with m.If(en):
            m.d.sync += [b["valid"].eq(busy), b["first_t"].eq(equals(t, 0)),
                         b["last_t"].eq(last_t), b["first_g"].eq(equals(g, 0)),
                         b["last_g"].eq(last_g), b["pbase"].eq(pbase), b["gbase"].eq(gbase),
                         b_x.eq(x[:chunk])]

        # -- stage R (with a codebook ROM): its clock-to-out does not feed the match units.
        cw = self.cb_shape.width
        if self.folds == 1:
            def proto(l_, u_, i_):
                return int(self.codebook[l_, u_, i_])
            def offset(l_, u_):
                return int(offsets[l_, u_])
            return FoldWalk(b, view(b_x, self.x_shape, gpc * d), proto,
                            None if offsets is None else offset)
        words = weight_rom(m, "codebook", self.codebook_words(), cw * gpc * self.ppc * d, fold,
                           en & busy)
        r_cb = Signal.like(words, name="r_cb")
        r, r_x = self.flags("r", a), Signal(chunk, name="r_x")
        with m.If(en):
            m.d.sync += [r_cb.eq(words), r_x.eq(b_x)] + [r[k].eq(b[k]) for k in b]
        cb_view = view(r_cb, self.cb_shape, gpc * self.ppc * d)

        def proto(l_, u_, i_):
            return cb_view[(l_ * self.ppc + u_) * d + i_]
        offset = None
        if offsets is not None:
            o_words = weight_rom(m, "offset", self.fold_words(np.asarray(offsets)[..., None],
                                                              offset_bits),
                                 offset_bits * gpc * self.ppc, fold, en & busy)
            r_off = Signal.like(o_words, name="r_off")
            with m.If(en):
                m.d.sync += r_off.eq(o_words)
            off_view = view(r_off, signed(offset_bits), gpc * self.ppc)

            def offset(l_, u_):
                return off_view[l_ * self.ppc + u_]
        return FoldWalk(r, view(r_x, self.x_shape, gpc * d), proto, offset)

    def match_stage(self, m, en, walk: FoldWalk, shape, name: str, unit):
        """Stage M: the ``G P`` match units ``unit(x, prototype)`` of the fold, registered as
        ``<name><l>_<u>`` with the fold's flags (``m_*``); returns the flags and the values
        by lane and prototype."""
        gpc, ppc, d = self.gpc, self.ppc, self.d
        mf, xs, proto = walk.flags, walk.x, walk.proto
        mm = self.flags("m", mf)
        values = [[Signal(shape, name=f"{name}{l_}_{u_}") for u_ in range(ppc)]
                  for l_ in range(gpc)]
        with m.If(en):
            m.d.sync += [mm[k].eq(mf[k]) for k in mf]
            for l_ in range(gpc):
                for u_ in range(ppc):
                    value = unit([xs[l_ * d + i_] for i_ in range(d)],
                                 [proto(l_, u_, i_) for i_ in range(d)])
                    if walk.offset is not None:
                        value = value + walk.offset(l_, u_)
                    m.d.sync += values[l_][u_].eq(value)
        return mm, values

    def accumulate(self, m, en, parts, *, valid, first, last) -> None:
        """Accumulate ``parts`` (one per output) over the group folds from the bias; the last
        group fold loads the output register."""
        acc_shape = signed(self.acc_bits)
        accumulate_folds(m, en, self.o, acc_shape,
                         [Const(int(self.bias[o]), acc_shape) for o in range(self.outputs)],
                         parts, folds=self.gf, valid=valid, first=first, last=last)


def rom_words(words: list[int]) -> list[int]:
    """A table ROM's words, doubled when there is one: one word would give the ROM a
    zero-width address, which Verilator refuses (ASCRANGE); two make it one bit, always 0."""
    return words * 2 if len(words) == 1 else words


class CamCore(PQCore):
    """``acc = bias + sum_j table[j, :, argmin_q |x_j - codebook[j, q]|_1]`` per input vector.

    Parameters
    ----------
    codebook : numpy.ndarray
        Integer ``(D, p, d)``, on the input's scale.
    table, bias, order, x_shape, table_bits, acc_bits, gpc, ppc
        As :class:`PQCore`'s (as are the members and what it raises).
    dist_bits : int
        Unsigned L1 distance width (derived).
    """

    @refuse_quietly
    def __init__(self, codebook, table, bias, order, x_shape, table_bits: int, acc_bits: int,
                 dist_bits: int, gpc: int, ppc: int):
        codebook = np.asarray(codebook, np.int64)
        self.dist_bits = dist_bits
        super().__init__(codebook, elem_shape(*codebook_type(codebook)), order, x_shape, gpc,
                         ppc, table, bias, table_bits, acc_bits)

    @classmethod
    def for_layer(cls, network, arrays, layer, widths, x_shape, gpc: int, ppc: int) -> "CamCore":
        """The core of a PECAN-D conv2d / linear ``layer`` (:meth:`PQCore.layer_order`)."""
        i = layer.index
        lw = widths.layers[i]
        return cls(arrays[f"l{i}_codebook"], arrays[f"l{i}_table"], arrays[f"l{i}_bias"],
                   cls.layer_order(network, layer), x_shape, layer.fields["table_bits"],
                   lw.acc_bits, lw.transform["dist_bits"], gpc, ppc)

    @staticmethod
    def depth(params) -> int:
        """Cycles from a vector's last fold to its beat: B, M, S, T, U and the output
        register, and with a codebook ROM (``folds > 1``) the register R after it."""
        return 6 + (params["folds"] > 1)

    def table_words(self, lane: int) -> list[int]:
        """Lane ``l``'s table ROM: at ``g p + k``, column ``k`` of group ``g G + l``'s table."""
        tb, mask = self.table_bits, (1 << self.table_bits) - 1
        words = [sum((int(v) & mask) << (tb * o)
                     for o, v in enumerate(self.table[g * self.gpc + lane, :, k]))
                 for g in range(self.gf) for k in range(self.protos)]
        return rom_words(words)           # one column: p = 1, one group fold

    def elaborate(self, platform):
        m = Module()
        gpc, gf = self.gpc, self.gf
        en = ~self.o.valid | self.o.ready
        walk = self.walk_folds(m, en, self.protos)

        # -- stage M: G P match units, their distances registered.
        mm, dist = self.match_stage(m, en, walk, self.dist_bits, "dist", l1_distance)

        # -- stage S: each lane's arg-min tree, folded into its running minimum; the last
        # prototype fold of a group fold reads the matched columns.
        s_valid, s_first_g, s_last_g = Signal(), Signal(), Signal()
        addr = [Signal(range(max(2, gf * self.protos)), name=f"addr{l_}") for l_ in range(gpc)]
        with m.If(en):
            m.d.sync += [s_valid.eq(mm["valid"] & mm["last_t"]), s_first_g.eq(mm["first_g"]),
                         s_last_g.eq(mm["last_g"])]
        for l_ in range(gpc):
            value, index = argmin_tree(dist[l_])
            best_d = Signal(self.dist_bits, name=f"best_d{l_}")
            best_k = Signal(range(max(2, self.protos)), name=f"best_k{l_}")
            take = Signal(name=f"take{l_}")
            k = Signal.like(best_k, name=f"k{l_}")
            m.d.comb += [take.eq(mm["first_t"] | (value < best_d)),
                         k.eq(Mux(take, mm["pbase"] + index, best_k))]
            with m.If(en & mm["valid"]):
                m.d.sync += [best_d.eq(Mux(take, value, best_d)), best_k.eq(k),
                             addr[l_].eq(mm["gbase"] + k)]

        # -- stages T and U: the columns arrive and are registered (ROM clock-to-out).
        tables = [weight_rom(m, f"table{l_}", self.table_words(l_), self.table_bits * self.outputs,
                             addr[l_], en & s_valid) for l_ in range(gpc)]
        t_valid, t_first_g, t_last_g = Signal(), Signal(), Signal()
        u_valid, u_first_g, u_last_g = Signal(), Signal(), Signal()
        u_tab = [Signal.like(tab, name=f"u_tab{l_}") for l_, tab in enumerate(tables)]
        with m.If(en):
            m.d.sync += [t_valid.eq(s_valid), t_first_g.eq(s_first_g), t_last_g.eq(s_last_g),
                         u_valid.eq(t_valid), u_first_g.eq(t_first_g), u_last_g.eq(t_last_g)]
            m.d.sync += [u.eq(tab) for u, tab in zip(u_tab, tables)]

        # -- accumulate over the group folds, from the bias; the last loads the output.
        cols = [view(u, signed(self.table_bits), self.outputs) for u in u_tab]
        self.accumulate(m, en, [adder_tree([c[o] for c in cols]) for o in range(self.outputs)],
                        valid=u_valid, first=u_first_g, last=u_last_g)
        return m
