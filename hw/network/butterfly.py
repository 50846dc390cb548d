"""The DeBut transform's core: a butterfly datapath, one pipeline stage per factor.

Factor ``k`` (``R(p, q; r, s, t)``, :mod:`edgeforge.schemes.network_debut`) is a
:class:`FactorStage` with its own number of MAC lanes ``L = po so``
(:func:`~edgeforge.schemes.network_debut.lane_split`): ``po`` outputs a cycle, ``so``
of each output's ``s`` products, so a vector takes ``F = (p / po)(s / so)`` folds,
``(1, 1)`` fully folded, ``L = p s`` fully parallel. The stride-``t`` interleave is
addressing: each lane picks its input at fold ``f`` from the held vector by a
constant address table (a multiplexer over the folds, plain wiring when ``F = 1``);
there is no shuffle network. Nonzeros are constants when ``F = 1`` and otherwise a
ROM word of ``L`` of them per fold (:func:`~.mac.weight_rom`, read one fold ahead,
with a register stage after it, as the dense core). Between factors the sum is
shifted, rounded half up and saturated to ``mid_bits``
(:func:`~.requant.requantise`, the network's rule); the last factor's sum starts at
the bias and goes out as it is, the first ``outputs`` rows, one beat a vector.

Each stage has the dense core's control (:class:`~.mac.DenseCore`): it takes a vector
on its last fold, its result is in the output register ``core_depth(F)`` cycles after
the last fold, and a blocked output freezes the stage. Stages follow each other
directly, so the core's interval is its slowest factor's ``F`` a vector.
"""

from __future__ import annotations

import numpy as np
from amaranth import Const, Module, Mux, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.network_debut import Factor, lane_split, mid_clip

from ..logic import equals, pick, refuse_quietly
from .mac import adder_tree, weight_rom
from .requant import requantise
from .vectors import index_signal, vector_signature, view

__all__ = ["FactorStage", "DebutCore"]


class FactorStage(wiring.Component):
    """One factor: ``y = R x`` with ``lanes`` MACs, then requantised (or, last, plus bias).

    Parameters
    ----------
    factor : Factor
    theta : numpy.ndarray
        Integer nonzeros ``(a, t, r, s)``, signed ``weight_bits``.
    x_shape : Shape
        Element shape of the input vector (``q`` elements).
    lanes : int
        MACs a cycle (:func:`~edgeforge.schemes.network_debut.lane_split`).
    weight_bits, acc_bits : int
        Signed widths of a nonzero and of the sum (derived: it holds every partial sum).
    out_shape : Shape
        Element shape of the output vector (``p`` elements).
    shift : int or None
        Shift, round half up and saturate to ``clip`` (a factor before the last); None: the
        last factor, whose sums start at ``bias`` and go out unchanged.
    clip : tuple of int or None
    bias : numpy.ndarray or None
        ``(p,)`` for the last factor (0 on padded rows).

    Members
    -------
    i : In(vector_signature(x_shape, q))
    o : Out(vector_signature(out_shape, p))
        One beat a vector, element ``j`` at bits ``[w j + w - 1 : w j]``.
    """

    @refuse_quietly
    def __init__(self, factor: Factor, theta, x_shape, lanes: int, weight_bits: int,
                 acc_bits: int, out_shape, shift=None, clip=None, bias=None):
        self.factor = factor
        self.po, self.so = lane_split(factor, lanes, "FactorStage")
        self.lanes = lanes
        self.values = factor.row_values(np.asarray(theta, np.int64)).astype(np.int64)  # (p, s)
        self.cols = factor.rows()
        self.x_shape, self.out_shape = Shape.cast(x_shape), Shape.cast(out_shape)
        self.weight_bits, self.acc_bits = weight_bits, acc_bits
        self.shift, self.clip = shift, clip
        self.bias = None if bias is None else np.asarray(bias, np.int64)
        self.nf, self.sf = factor.p // self.po, factor.s // self.so
        super().__init__({"i": In(vector_signature(self.x_shape, factor.q)),
                          "o": Out(vector_signature(self.out_shape, factor.p))})

    @property
    def folds(self) -> int:
        return self.nf * self.sf

    def lane_of(self, fold: int, lane: int) -> tuple[int, int]:
        """``(output j, nonzero c)`` of ``lane`` at ``fold = nf SF + sf``."""
        nf, sf = divmod(fold, self.sf)
        pl, sl = divmod(lane, self.so)
        return nf * self.po + pl, sf * self.so + sl

    def rom_words(self) -> list[int]:
        """One word per fold: lane ``l``'s nonzero at element ``l``."""
        mask = (1 << self.weight_bits) - 1
        return [sum((int(self.values[self.lane_of(f, l)]) & mask) << (self.weight_bits * l)
                    for l in range(self.lanes)) for f in range(self.folds)]

    def elaborate(self, platform):
        m = Module()
        f, lanes, folds = self.factor, self.lanes, self.folds
        acc_shape = signed(self.acc_bits)
        en = ~self.o.valid | self.o.ready

        # -- stage A: hold the vector, walk the folds -------------------------------------
        x = view(Signal(self.i.payload.shape(), name="x"), self.x_shape, f.q)
        busy = Signal()
        sf = index_signal(self.sf, "sf")
        nf = index_signal(self.nf, "nf")
        fold = index_signal(folds, "fold")
        last = busy & equals(fold, folds - 1)
        m.d.comb += self.i.ready.eq(en & (~busy | last))
        with m.If(en):
            with m.If(self.i.valid & self.i.ready):
                m.d.sync += [x.as_value().eq(self.i.payload), busy.eq(1), sf.eq(0), nf.eq(0),
                             fold.eq(0)]
            with m.Elif(busy):
                with m.If(last):
                    m.d.sync += busy.eq(0)
                with m.Elif(equals(sf, self.sf - 1)):
                    m.d.sync += [sf.eq(0), nf.eq(nf + 1), fold.eq(fold + 1)]
                with m.Else():
                    m.d.sync += [sf.eq(sf + 1), fold.eq(fold + 1)]

        # -- stage B: each lane's input by its address table (the stride-t interleave) ----
        b_x = [Signal(self.x_shape, name=f"b_x{l}") for l in range(lanes)]
        b_valid, b_first, b_last, b_end = Signal(), Signal(), Signal(), Signal()
        b_nf = index_signal(self.nf, "b_nf")
        with m.If(en):
            m.d.sync += [b_valid.eq(busy), b_first.eq(equals(sf, 0)),
                         b_last.eq(equals(sf, self.sf - 1)), b_end.eq(last), b_nf.eq(nf)]
            for l in range(lanes):
                picks = [x[int(self.cols[self.lane_of(k, l)])] for k in range(folds)]
                m.d.sync += b_x[l].eq(pick(fold, picks))

        if folds == 1:
            def weight(l):
                return int(self.values[self.lane_of(0, l)])
            mac_x, mac_valid, mac_first, mac_last, mac_end, mac_nf = (
                b_x, b_valid, b_first, b_last, b_end, b_nf)
        else:
            # As in the dense core: a register stage after the ROM, so that its clock-to-out
            # does not run into the multipliers.
            words = weight_rom(m, "weights", self.rom_words(), self.weight_bits * lanes, fold,
                               en & busy)
            r_words = Signal.like(words, name="r_words")
            mac_x = [Signal(self.x_shape, name=f"r_x{l}") for l in range(lanes)]
            mac_valid, mac_first, mac_last, mac_end = Signal(), Signal(), Signal(), Signal()
            mac_nf = index_signal(self.nf, "r_nf")
            with m.If(en):
                m.d.sync += [r_words.eq(words), mac_valid.eq(b_valid), mac_first.eq(b_first),
                             mac_last.eq(b_last), mac_end.eq(b_end), mac_nf.eq(b_nf)]
                m.d.sync += [mac_x[l].eq(b_x[l]) for l in range(lanes)]
            w_view = view(r_words, signed(self.weight_bits), lanes)

            def weight(l):
                return w_view[l]

        # -- MAC: po outputs of so products each; a neuron fold's last writes its slots ----
        out = view(self.o.payload, self.out_shape, f.p)
        acc = [Signal(acc_shape, name=f"acc{pl}") for pl in range(self.po)]
        with m.If(en):
            m.d.sync += self.o.valid.eq(mac_valid & mac_end)
        for pl in range(self.po):
            terms = []
            for sl in range(self.so):
                l = pl * self.so + sl
                w = weight(l)
                if not isinstance(w, int) or w:
                    terms.append(mac_x[l] * w)
            if self.bias is None:
                start = Const(0, acc_shape)
            else:
                start = pick(mac_nf, [Const(int(self.bias[n * self.po + pl]), acc_shape)
                                       for n in range(self.nf)])
            base = start if self.sf == 1 else Mux(mac_first, start, acc[pl])
            total = Signal(acc_shape, name=f"total{pl}")
            m.d.comb += total.eq(base + adder_tree(terms))
            y = Signal(self.out_shape, name=f"y{pl}")
            m.d.comb += y.eq(total if self.shift is None
                             else requantise(total, self.shift, *self.clip))
            with m.If(en & mac_valid):
                if self.sf > 1:
                    m.d.sync += acc[pl].eq(total)
                with m.If(mac_last):
                    for n in range(self.nf):
                        with m.If(equals(mac_nf, n) if self.nf > 1 else Const(1)):
                            m.d.sync += out[n * self.po + pl].eq(y)
        return m


class DebutCore(wiring.Component):
    """``acc = bias + R_N q(... q(R_1 pad(x)))`` for each input vector: the factor stages in a row.

    Parameters
    ----------
    factors : list of Factor
    thetas : list of numpy.ndarray
    bias : numpy.ndarray
        ``(outputs,)``.
    x_shape : Shape
        Element shape of the input vector (``inputs`` elements).
    order : numpy.ndarray or None
        ``order[j]``: the chain input fed by stream element ``j`` (None: the same).
    ranges : sequence of FactorRange
        Each factor's derived ranges (:func:`~edgeforge.schemes.network_debut.chain_ranges`).
    weight_bits : int
    shifts : list of int
    mid_bits : int
    lanes : sequence of int
        MAC lanes of each factor.

    Members
    -------
    i : In(vector_signature(x_shape, inputs))
    o : Out(vector_signature(signed(acc_bits), outputs))
        One beat a vector: the last factor's sums of rows ``0 .. outputs - 1``.
    """

    @refuse_quietly
    def __init__(self, factors, thetas, bias, x_shape, inputs: int, order, ranges,
                 weight_bits: int, shifts, mid_bits: int, lanes):
        self.factors = [Factor.of(f) for f in factors]
        if not isinstance(lanes, (list, tuple)) or len(lanes) != len(self.factors):
            raise ValueError(f"lanes must list the MAC lanes of each of the "
                             f"{len(self.factors)} factors, got {lanes!r}")
        for k, (f, l) in enumerate(zip(self.factors, lanes)):
            lane_split(f, l, f"lanes of factor {k + 1}")
        self.thetas, self.bias = thetas, np.asarray(bias, np.int64)
        self.x_shape, self.inputs = Shape.cast(x_shape), inputs
        self.order, self.ranges = order, tuple(ranges)
        self.weight_bits, self.shifts, self.mid_bits = weight_bits, list(shifts), mid_bits
        self.lanes = tuple(lanes)
        self.outputs = len(self.bias)
        self.acc_bits = self.ranges[-1].acc_bits
        super().__init__({"i": In(vector_signature(self.x_shape, inputs)),
                          "o": Out(vector_signature(signed(self.acc_bits), self.outputs))})

    @classmethod
    def for_layer(cls, network, arrays, layer, widths, x_shape, *lanes) -> "DebutCore":
        """The core of a debut conv2d / linear ``layer`` with ``lanes`` MACs per factor."""
        from .plan import input_order
        t = layer.transform
        order = input_order(network, layer)
        lw = widths.layers[layer.index]
        return cls(t.chain(layer), [arrays[f"l{layer.index}_f{k}"]
                                    for k in range(len(layer.fields["factors"]))],
                   arrays[f"l{layer.index}_bias"], x_shape, t.size(layer)[1], order,
                   t.ranges(layer, arrays, *lw.in_range), layer.fields["weight_bits"],
                   layer.fields["shifts"], layer.fields["mid_bits"], list(lanes))

    def elaborate(self, platform):
        m = Module()
        stages = []
        x_shape = self.x_shape
        lo, hi = mid_clip(self.mid_bits)
        for k, (f, theta, rng, lanes) in enumerate(zip(self.factors, self.thetas, self.ranges,
                                                      self.lanes)):
            last = k == len(self.factors) - 1
            out_shape = signed(self.acc_bits if last else rng.out_bits)
            bias = None
            if last:
                bias = np.zeros(f.p, np.int64)
                bias[:self.outputs] = self.bias
            stage = FactorStage(f, theta, x_shape, lanes, self.weight_bits, rng.acc_bits,
                                out_shape, None if last else self.shifts[k],
                                None if last else (lo, hi), bias)
            m.submodules[f"f{k}"] = stage
            stages.append(stage)
            x_shape = out_shape
        # The input: stream element j feeds chain input order[j]; the padding is zeros.
        src = view(self.i.payload, self.x_shape, self.inputs)
        first = stages[0]
        dst = view(first.i.payload, self.x_shape, self.factors[0].q)
        perm = range(self.inputs) if self.order is None else np.argsort(self.order)
        m.d.comb += [dst[k].eq(src[int(j)]) for k, j in enumerate(perm)]
        m.d.comb += [dst[k].eq(0) for k in range(self.inputs, self.factors[0].q)]
        m.d.comb += [first.i.valid.eq(self.i.valid), self.i.ready.eq(first.i.ready)]
        for up, down in zip(stages, stages[1:]):
            wiring.connect(m, source=up.o, sink=down.i)
        final = stages[-1]
        m.d.comb += [self.o.payload.eq(final.o.payload[:self.acc_bits * self.outputs]),
                     self.o.valid.eq(final.o.valid), final.o.ready.eq(self.o.ready)]
        return m
