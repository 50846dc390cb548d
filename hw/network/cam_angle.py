"""The PECAN-A transform's core: dot-product match units, a max tree, a fixed-point softmax by
table and the weighted sum of the table columns, normalised by a reciprocal table.

Per input vector and group (the spec: :class:`~edgeforge.schemes.network.PecanATransform`):
``p`` dot products against the group's prototypes (each plus its constant offset, with the
layer's ``prototype_offsets``: constants of the netlist, or a ROM read beside the codebook's),
their maximum, an exp table read at
``min((max - s_q) >> exp_shift, entries - 1)`` for each, ``Z`` and ``u = sum_q e_q
Y_j[:, q]`` summed over the prototypes, ``R`` read from the reciprocal table at ``Z >>
recip_shift`` and ``(u R) >> (recip_bits - 1)`` accumulated over the groups from the bias.

Folding as PECAN-D's :class:`~.cam.CamCore` (the front is the same :class:`~.cam.PQCore`):
``G`` groups and ``P`` prototypes a cycle, ``F = (D / G)(p / P)`` cycles a vector, one beat
of ``c_out`` accumulators a vector. The softmax needs every dot product of a group before
its first exp, so each group lane has two halves that overlap: the match half computes a
group fold's dot products over its ``PF`` prototype folds (storing them and the running
maximum) and hands them over; the weigh half walks the same ``PF`` folds over them while
the match half goes on with the next group fold: ``P`` exp lookups, ``P`` table columns
(one ROM word) and ``P c_out`` multiplications a cycle. Vectors still follow every ``F``
cycles; a vector's beat comes ``PF`` cycles later than it would without the split.

Pipeline (``depth`` cycles from a vector's last fold in stage A to its beat in the output
register): A, B and (with a codebook ROM) R (:meth:`~.cam.PQCore.walk_folds`); M
registers the dot products; H holds a group fold's ``p`` dot products and maximum (the
handover), and the weigh walker reads them ``P`` at a time for ``PF`` cycles, looking up
the exps (a balanced multiplexer tree of the constant table) and issuing the table read;
W registers the exps and receives the columns; X registers them; V sums ``Z`` and ``u``
over the prototype folds, at the last registering ``u`` and issuing the reciprocal read; N
registers ``u`` and ``R`` (the ROM's clock-to-out does not feed the multipliers); the
products ``u R`` are shifted, summed over the lanes and accumulated over the group folds,
the last loading the output register. ``depth = 7 + PF (+ 1 with a codebook ROM)``.
Backpressure on ``o`` freezes the whole core.
"""

from __future__ import annotations

import numpy as np
from amaranth import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..logic import equals, pick, refuse_quietly
from ..rom import RomBank
from .cam import PQCore, register, rom_words
from .mac import adder_tree, weight_rom
from .vectors import index_signal, vector_signature, view

__all__ = ["dot_product", "max_tree", "exp_lookup", "ExpLookup", "AngleCore"]


def dot_product(xs, cs):
    """``sum_i x_i c_i`` as a balanced adder tree; ``cs`` may be integers (a constant
    codebook: a zero drops its term)."""
    return adder_tree([x * c for x, c in zip(xs, cs) if not isinstance(c, int) or c])


def max_tree(values):
    """The largest of ``values``, a balanced tree of compares."""
    values = list(values)
    while len(values) > 1:
        values = [Mux(values[i + 1] > values[i], values[i + 1], values[i])
                  if i + 1 < len(values) else values[i] for i in range(0, len(values), 2)]
    return values[0]


def exp_lookup(diff, exp, exp_shift: int, bits: int):
    """``EXP[min(diff >> exp_shift, len(EXP) - 1)]`` for an unsigned ``diff`` signal, as
    ``bits``-bit constants: the shift is wiring, the saturation one compare, the table a
    balanced multiplexer tree of constants (small tables become logic, no memory)."""
    n = len(exp)
    width = len(diff)
    if n == 1 or exp_shift >= width:
        return Const(int(exp[0]), bits)
    shifted = diff[exp_shift:]
    if (1 << len(shifted)) - 1 > n - 1:
        index = Mux(shifted > n - 1, n - 1, shifted)
    else:
        # The saturation is never reached: the entries past 2**len(shifted) neither.
        index, exp = shifted, exp[:1 << len(shifted)]
    return pick(index, [Const(int(v), bits) for v in exp])


class ExpLookup(wiring.Component):
    """:func:`exp_lookup` with a registered output: the softmax numerator of a difference.

    Members
    -------
    i : In(stream.Signature(unsigned(diff_bits)))
        ``max - s_q``.
    o : Out(stream.Signature(unsigned(bits)))
        ``EXP[min(i >> exp_shift, len(EXP) - 1)]``.
    """

    @refuse_quietly
    def __init__(self, exp, exp_shift: int, diff_bits: int):
        self.exp, self.exp_shift = [int(v) for v in exp], exp_shift
        self.bits = max(1, max(self.exp).bit_length())
        super().__init__({"i": In(vector_signature(unsigned(diff_bits), 1)),
                          "o": Out(vector_signature(unsigned(self.bits), 1))})

    def elaborate(self, platform):
        m = Module()
        register(m, self, exp_lookup(self.i.payload, self.exp, self.exp_shift, self.bits))
        return m


class AngleCore(PQCore):
    """``acc = bias + sum_j (u_j R_j) >> (recip_bits - 1)``, the PECAN-A softmax per group.

    Parameters
    ----------
    codebook : numpy.ndarray
        Integer ``(D, p, d)``, signed ``codebook_bits``.
    table, bias, order, x_shape, acc_bits, gpc, ppc
        As :class:`~.cam.PQCore`'s (as are the members and what it raises).
    exp, recip : numpy.ndarray
        The exp table (unsigned ``exp_bits``) and the reciprocal table (``recip_bits``).
    widths : mapping
        The transform's derived widths: ``dot_bits``, ``diff_bits``, ``z_bits``,
        ``u_bits``, ``prod_bits``, ``exp_word_bits``, ``recip_word_bits``
        (:meth:`~edgeforge.schemes.network.PecanATransform.acc_range`).
    codebook_bits, table_bits, exp_shift, recip_bits, recip_shift : int
        The layer's fields.
    offsets : numpy.ndarray, optional
        Integer ``(D, p)``: a constant added to each prototype's dot product (the layer's
        ``l{i}_offset``); ``widths`` then holds ``offset_bits``, their signed width.
    """

    @refuse_quietly
    def __init__(self, codebook, table, bias, exp, recip, order, x_shape, acc_bits: int,
                 widths, gpc: int, ppc: int, *, codebook_bits: int, table_bits: int,
                 exp_shift: int, recip_bits: int, recip_shift: int, offsets=None):
        self.offsets = None if offsets is None else np.asarray(offsets, np.int64)
        self.exp = [int(v) for v in exp]
        self.recip = [int(v) for v in recip]
        self.widths, self.exp_shift = dict(widths), exp_shift
        self.recip_bits, self.recip_shift = recip_bits, recip_shift
        super().__init__(codebook, signed(codebook_bits), order, x_shape, gpc, ppc, table, bias,
                         table_bits, acc_bits)

    @classmethod
    def for_layer(cls, network, arrays, layer, widths, x_shape, gpc: int,
                  ppc: int) -> "AngleCore":
        """The core of a PECAN-A conv2d / linear ``layer`` (:meth:`~.cam.PQCore.layer_order`)."""
        i, f = layer.index, layer.fields
        lw = widths.layers[i]
        return cls(arrays[f"l{i}_codebook"], arrays[f"l{i}_table"], arrays[f"l{i}_bias"],
                   arrays[f"l{i}_exp"], arrays[f"l{i}_recip"], cls.layer_order(network, layer),
                   x_shape, lw.acc_bits, lw.transform, gpc, ppc,
                   **{k: f[k] for k in ("codebook_bits", "table_bits", "exp_shift", "recip_bits",
                                        "recip_shift")},
                   offsets=arrays[f"l{i}_offset"] if f.get("prototype_offsets") else None)

    @staticmethod
    def depth(params) -> int:
        """Cycles from a vector's last fold to its beat: B, M, H (the weigh walker's first
        fold) and its ``PF - 1`` more folds, W, X, V, N and the output register, and with a
        codebook ROM (``folds > 1``) the register R."""
        return 7 + params["pf"] + (params["folds"] > 1)

    def table_words(self, lane: int) -> list[int]:
        """Lane ``l``'s table ROM: at ``g PF + t``, columns ``t P .. t P + P - 1`` of group
        ``g G + l``'s table, column ``t P + u``'s entry ``o`` at element ``u c_out + o``."""
        tb, mask = self.table_bits, (1 << self.table_bits) - 1
        words = []
        for g in range(self.gf):
            for t in range(self.pf):
                cols = self.table[g * self.gpc + lane, :, t * self.ppc:(t + 1) * self.ppc]
                words.append(sum((int(v) & mask) << (tb * e) for e, v in enumerate(cols.T.ravel())))
        return rom_words(words)

    def elaborate(self, platform):
        m = Module()
        gpc, ppc, gf, pf, p = self.gpc, self.ppc, self.gf, self.pf, self.protos
        w, outs = self.widths, self.outputs
        dot_shape = signed(w["dot_bits"])
        en = ~self.o.valid | self.o.ready
        walk = self.walk_folds(m, en, pf, self.offsets, w.get("offset_bits", 0))

        # -- stage M: G P dot-product units, registered.
        mm, dots = self.match_stage(m, en, walk, dot_shape, "dot", dot_product)

        # -- stage H: each lane stores the group fold's dot products (a shift register of
        # the earlier prototype folds') and its running maximum; the last prototype fold
        # hands all p and the maximum to the weigh half.
        handover = en & mm["valid"] & mm["last_t"]
        h_busy, h_first_g, h_last_g = Signal(), Signal(), Signal()
        h_t = index_signal(pf, "h_t")
        h_addr = Signal(range(max(2, gf * pf)), name="h_addr")
        h_dots = [[Signal(dot_shape, name=f"h_dot{l_}_{q}") for q in range(p)]
                  for l_ in range(gpc)]
        h_max = [Signal(dot_shape, name=f"h_max{l_}") for l_ in range(gpc)]
        for l_ in range(gpc):
            fold_max = max_tree(dots[l_])
            if pf == 1:
                full, top = dots[l_], fold_max
            else:
                stored = [Signal(dot_shape, name=f"s_dot{l_}_{q}") for q in range(p - ppc)]
                best = Signal(dot_shape, name=f"s_max{l_}")
                full = stored + dots[l_]
                top = Signal(dot_shape, name=f"s_top{l_}")
                m.d.comb += top.eq(Mux(mm["first_t"] | (fold_max > best), fold_max, best))
                with m.If(en & mm["valid"]):
                    m.d.sync += [best.eq(top)] + [s.eq(v) for s, v in zip(stored, full[ppc:])]
            with m.If(handover):
                m.d.sync += [h_max[l_].eq(top)] + [h.eq(v) for h, v in zip(h_dots[l_], full)]
            if pf > 1:
                # The walker's prototypes are always the lowest P: rotate after each fold.
                with m.Elif(en & h_busy):
                    m.d.sync += [h.eq(v) for h, v in zip(h_dots[l_], h_dots[l_][ppc:]
                                                          + h_dots[l_][:ppc])]

        # The weigh walker: PF folds over the handed-over group fold.
        with m.If(handover):
            m.d.sync += [h_busy.eq(1), h_t.eq(0), h_addr.eq(mm["gbase"]),
                         h_first_g.eq(mm["first_g"]), h_last_g.eq(mm["last_g"])]
        with m.Elif(en & h_busy):
            with m.If(equals(h_t, pf - 1)):
                m.d.sync += h_busy.eq(0)
            with m.Else():
                m.d.sync += [h_t.eq(h_t + 1), h_addr.eq(h_addr + 1)]

        def stage(prefix, src, valid=None):
            """The next stage's flag registers, loaded from ``src`` while ``en``."""
            dst = self.flags(prefix)
            with m.If(en):
                m.d.sync += [dst[k].eq(src[k] if k != "valid" or valid is None else valid)
                             for k in dst]
            return dst

        # -- stage W: the exps (from the constant table) registered; the columns arrive.
        wf = stage("w", {"valid": h_busy, "first_t": equals(h_t, 0),
                         "last_t": equals(h_t, pf - 1), "first_g": h_first_g,
                         "last_g": h_last_g})
        eb = w["exp_word_bits"]
        w_exp = [[Signal(eb, name=f"w_exp{l_}_{u_}") for u_ in range(ppc)] for l_ in range(gpc)]
        for l_ in range(gpc):
            for u_ in range(ppc):
                diff = Signal(w["diff_bits"], name=f"diff{l_}_{u_}")
                m.d.comb += diff.eq(h_max[l_] - h_dots[l_][u_])
                with m.If(en):
                    m.d.sync += w_exp[l_][u_].eq(exp_lookup(diff, self.exp, self.exp_shift, eb))
        tb = self.table_bits
        tables = [weight_rom(m, f"table{l_}", self.table_words(l_), tb * ppc * outs, h_addr,
                             en & h_busy) for l_ in range(gpc)]

        # -- stage X: the columns and exps registered (the ROM's clock-to-out).
        xf = stage("x", wf)
        x_exp = [[Signal(eb, name=f"x_exp{l_}_{u_}") for u_ in range(ppc)] for l_ in range(gpc)]
        x_tab = [Signal.like(tab, name=f"x_tab{l_}") for l_, tab in enumerate(tables)]
        with m.If(en):
            m.d.sync += [x.eq(v) for xl, wl in zip(x_exp, w_exp) for x, v in zip(xl, wl)]
            m.d.sync += [x.eq(tab) for x, tab in zip(x_tab, tables)]

        # -- stage V: Z and u summed over the prototype folds; the last reads R at Z >> shift.
        vf = stage("v", xf, valid=xf["valid"] & xf["last_t"])
        z_shape, u_shape = unsigned(w["z_bits"]), signed(w["u_bits"])
        v_u = [[Signal(u_shape, name=f"v_u{l_}_{o}") for o in range(outs)] for l_ in range(gpc)]
        z_tot = []
        for l_ in range(gpc):
            cols = view(x_tab[l_], signed(tb), ppc * outs)
            z_part = adder_tree(x_exp[l_])
            u_part = [adder_tree([x_exp[l_][u_] * cols[u_ * outs + o] for u_ in range(ppc)])
                      for o in range(outs)]
            z = Signal(z_shape, name=f"z{l_}")
            u = [Signal(u_shape, name=f"u{l_}_{o}") for o in range(outs)]
            if pf == 1:
                m.d.comb += [z.eq(z_part)] + [a.eq(b) for a, b in zip(u, u_part)]
            else:
                z_acc = Signal(z_shape, name=f"z_acc{l_}")
                u_acc = [Signal(u_shape, name=f"u_acc{l_}_{o}") for o in range(outs)]
                first = xf["first_t"]
                m.d.comb += [z.eq(Mux(first, 0, z_acc) + z_part)]
                m.d.comb += [a.eq(Mux(first, 0, acc) + b) for a, acc, b in zip(u, u_acc, u_part)]
                with m.If(en & xf["valid"]):
                    m.d.sync += [z_acc.eq(z)] + [acc.eq(a) for acc, a in zip(u_acc, u)]
            with m.If(en & xf["valid"] & xf["last_t"]):
                m.d.sync += [a.eq(b) for a, b in zip(v_u[l_], u)]
            z_tot.append(z >> self.recip_shift)
        m.submodules.recip = recip = RomBank(self.recip, w["recip_word_bits"], reads=gpc)
        m.d.comb += recip.en.eq(en & xf["valid"] & xf["last_t"])
        m.d.comb += [recip.addr[l_].eq(z) for l_, z in enumerate(z_tot)]

        # -- R arrives beside V's u; stage N registers both (the ROM's clock-to-out does not
        # feed the multipliers).
        nf = stage("n", vf)
        n_u = [[Signal(u_shape, name=f"n_u{l_}_{o}") for o in range(outs)] for l_ in range(gpc)]
        n_r = [Signal(len(recip.data[l_]), name=f"n_r{l_}") for l_ in range(gpc)]
        with m.If(en):
            m.d.sync += [a.eq(b) for al, bl in zip(n_u, v_u) for a, b in zip(al, bl)]
            m.d.sync += [r.eq(recip.data[l_]) for l_, r in enumerate(n_r)]

        # -- (u R) >> (recip_bits - 1), summed over the lanes, accumulated over the group
        # folds from the bias; the last loads the output.
        prod_shape = signed(w["prod_bits"])
        parts = []
        for o in range(outs):
            terms = []
            for l_ in range(gpc):
                prod = Signal(prod_shape, name=f"prod{l_}_{o}")
                m.d.comb += prod.eq(n_u[l_][o] * n_r[l_])
                terms.append(prod >> (self.recip_bits - 1))
            parts.append(adder_tree(terms))
        self.accumulate(m, en, parts, valid=nf["valid"], first=nf["first_g"], last=nf["last_g"])
        return m
