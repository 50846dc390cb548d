"""The dense transform's core: a PE x SIMD MAC array folded over an ``M x N`` weight matrix.

FINN's names: ``PE`` output channels and ``SIMD`` inputs a cycle, so that one
input vector takes ``SF = N / SIMD`` synapse folds times ``NF = M / PE``
neuron folds, ``F = SF NF`` cycles, and the core emits ``NF`` beats of ``PE``
accumulators. ``(1, 1)`` is fully folded, ``(M, N)`` fully parallel.

Weights are constants when the layer is fully parallel, and otherwise one ROM
word per fold (``amaranth.lib.memory``, synchronous read, ``rom_style =
"block"``), read one fold ahead (:func:`weight_rom`, the one place that builds
it). The accumulators start at the bias, so ``acc = bias + sum(w x)`` exactly,
in the derived accumulator width.

Pipeline: stage A holds the vector and walks the folds (issuing the ROM read
and latching the fold's ``SIMD`` inputs), stage B receives the ROM words (with
ROMs, a register stage follows it), the MAC multiplies and accumulates, and
the last synapse fold of a neuron fold loads the output register. A vector
accepted in cycle ``a`` gives its last beat in cycle ``a + F + core_depth(F)``,
and the next vector is taken in the cycle of the last fold, so vectors follow
every ``F`` cycles. Backpressure on ``o`` freezes the whole core.

:class:`NarrowDenseCore` is the same core fed ``SIMD`` inputs a beat (the narrow
datapath): its vector goes into a small input buffer as it arrives and is re-read for
each later neuron fold, never held whole.
"""

from __future__ import annotations

import numpy as np
from amaranth import Const, Module, Mux, Shape, Signal, Value, signed
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.network import check_divisors

from ..logic import buffer_attrs, equals, refuse_quietly
from ..rom import RomBank
from .vectors import index_signal, vector_signature, view

__all__ = ["core_depth", "TREE_LEVELS", "mac_stages", "check_folding", "weight_rom",
           "adder_tree", "pipelined_sums", "accumulate_folds",
           "DenseCore", "NarrowDenseCore"]


def core_depth(folds: int, simd: int = 1) -> int:
    """Cycles from a vector's last fold in stage A to its last beat in the output register:
    stage B and the output register, with ROM weights (``folds > 1``) the register stage
    after the ROM, and the MAC's :func:`mac_stages`."""
    return 2 + (folds > 1) + mac_stages(simd)


#: Adder-tree levels between two pipeline registers of a MAC (with the accumulator's add
#: after the last register: at most three adds in a row).
TREE_LEVELS = 2


def mac_stages(simd: int) -> int:
    """Pipeline registers of a ``SIMD``-wide MAC: none with one product a lane (its path is
    one multiply and the accumulator's add); otherwise the products, and then every
    :data:`TREE_LEVELS` levels of the adder tree but the last ones (a wide parallel layer's
    72-input tree in one cycle kept a balanced digits-ref far below 100 MHz)."""
    if simd == 1:
        return 0
    levels = (simd - 1).bit_length()
    return 1 + (levels - 1) // TREE_LEVELS


def check_folding(where: str, pe, simd, outputs: int, inputs: int) -> None:
    """Refuse a PE or SIMD that is not a positive divisor of the layer's outputs / inputs.

    Raises
    ------
    ValueError
        Naming ``where`` (the layer) and the value.
    """
    check_divisors(where, (("PE", pe, outputs, "output channels"),
                           ("SIMD", simd, inputs, "inputs")))


def weight_rom(m: Module, name: str, words: list[int], width: int, addr, en):
    """A one-lane :class:`~edgeforge.hw.rom.RomBank` of ``words`` (``width`` bits) read at
    ``addr`` when ``en``; returns its data (the word at the last enabled cycle's address)."""
    m.submodules[name] = rom = RomBank(words, width, reads=1)
    m.d.comb += [rom.addr[0].eq(addr), rom.en.eq(en)]
    return rom.data[0]


def adder_tree(terms):
    """The sum of ``terms`` as a balanced tree (log depth, not a chain)."""
    terms = list(terms)
    if not terms:
        return Const(0, 1)
    while len(terms) > 1:
        terms = _tree_level(terms)
    return terms[0]


def _tree_level(terms):
    return [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i]
            for i in range(0, len(terms), 2)]


def pipelined_sums(m: Module, en, lanes, simd: int, flags, name: str = "mac"):
    """Each lane's ``terms`` (a list per lane, at most ``simd`` products) summed by a tree
    with :func:`mac_stages` register stages (products first, then every
    :data:`TREE_LEVELS` levels), the values ``flags`` (the fold's flags, and its biases
    where a ROM word holds them: they change every neuron fold) delayed alike; everything
    moves while ``en``. Returns ``(sums, flags)`` at the tree's last level."""
    stages = mac_stages(simd)
    if stages == 0:
        return [adder_tree(t) for t in lanes], list(flags)
    levels = (simd - 1).bit_length()
    cut = [0] + [TREE_LEVELS * k for k in range(1, stages)]
    lanes = [list(t) or [Const(0, 1)] for t in lanes]
    for level in range(levels + 1):
        if level in cut:
            stage = cut.index(level)
            regs = []
            for j, terms in enumerate(lanes):
                held = [Signal(Value.cast(v).shape(), name=f"{name}{stage}_{j}_{k}")
                        for k, v in enumerate(terms)]
                with m.If(en):
                    m.d.sync += [h.eq(v) for h, v in zip(held, terms)]
                regs.append(held)
            lanes = regs
            # Constants (a layer's biases with one neuron fold) need no delay.
            delayed = [f if isinstance(f, Const) else
                       Signal(Value.cast(f).shape(), name=f"{name}{stage}_carry{k}")
                       for k, f in enumerate(flags)]
            with m.If(en):
                m.d.sync += [d.eq(f) for d, f in zip(delayed, flags) if d is not f]
            flags = delayed
        if level < levels:
            lanes = [_tree_level(t) for t in lanes]
    return [t[0] if len(t) == 1 else adder_tree(t) for t in lanes], flags


def accumulate_folds(m, en, o, acc_shape, biases, sums, *, folds: int, valid, first, last):
    """The accumulator every transform core ends in.

    For output ``j``: ``total = (biases[j] on the ``first`` fold of a vector, else the running
    sum) + sums[j]``; the ``last`` fold loads ``total`` into element ``j`` of ``o.payload``
    (``acc_shape`` each) and raises ``o.valid``. With one fold there is no running sum.
    Everything moves only while ``en``; ``valid`` marks the cycles that carry a fold.
    """
    out = view(o.payload, acc_shape, len(sums))
    acc = [Signal(acc_shape, name=f"acc{j}") for j in range(len(sums))]
    with m.If(en):
        m.d.sync += o.valid.eq(valid & last)
        for j, (bias, part) in enumerate(zip(biases, sums)):
            base = bias if folds == 1 else Mux(first, bias, acc[j])
            total = Signal(acc_shape, name=f"total{j}")
            m.d.comb += total.eq(base + part)
            with m.If(valid & last):
                m.d.sync += out[j].eq(total)
            if folds > 1:
                with m.If(valid):
                    m.d.sync += acc[j].eq(total)


class DenseCore(wiring.Component):
    """``acc[o] = bias[o] + sum_j weights[o, j] x[j]`` for each input vector ``x``, folded.

    Parameters
    ----------
    weights : numpy.ndarray
        Integer ``(M, N)``, signed ``weight_bits`` (in the order of the input vector).
    bias : numpy.ndarray
        Integer ``(M,)``.
    x_shape : Shape
        Element shape of the input vector.
    weight_bits, acc_bits : int
        Signed widths of a weight and of the accumulator (derived: it holds every
        partial sum).
    pe, simd : int
        Output channels and inputs a cycle; divisors of ``M`` and ``N``.

    Members
    -------
    i : In(vector_signature(x_shape, N))
        One input vector a beat.
    o : Out(vector_signature(signed(acc_bits), pe))
        ``NF`` beats a vector: beat ``nf`` holds the accumulators of outputs
        ``nf PE .. nf PE + PE - 1``.
    """

    @refuse_quietly
    def __init__(self, weights, bias, x_shape, weight_bits: int, acc_bits: int, pe: int,
                 simd: int):
        weights = np.asarray(weights, np.int64)
        outputs, inputs = weights.shape
        check_folding("DenseCore", pe, simd, outputs, inputs)
        self.weights, self.bias = weights, np.asarray(bias, np.int64)
        self.x_shape = Shape.cast(x_shape)
        self.weight_bits, self.acc_bits, self.pe, self.simd = weight_bits, acc_bits, pe, simd
        self.outputs, self.inputs = outputs, inputs
        self.sf, self.nf = inputs // simd, outputs // pe
        super().__init__({"i": In(vector_signature(self.x_shape, self.in_lanes)),
                          "o": Out(vector_signature(signed(acc_bits), pe))})

    @property
    def in_lanes(self) -> int:
        """Elements an input beat: the whole vector."""
        return self.inputs

    @classmethod
    def for_layer(cls, network, arrays, layer, widths, x_shape, pe: int, simd: int) -> "DenseCore":
        """The core of a dense conv2d / linear ``layer``: the weights in the order of the
        input vector the pipeline streams (a conv's window ``(dy k + dx) C + c``; after
        flatten, pixels with their channels together), permuted here, at generation."""
        from .plan import input_order
        weight = np.asarray(arrays[f"l{layer.index}_weight"], np.int64)
        if layer.kind == "conv2d":
            matrix = weight.transpose(0, 2, 3, 1).reshape(len(weight), -1)
        else:
            order = input_order(network, layer)
            matrix = weight if order is None else weight[:, order]
        lw = widths.layers[layer.index]
        return cls(matrix, arrays[f"l{layer.index}_bias"], x_shape,
                   layer.fields["weight_bits"], lw.acc_bits, pe, simd)

    @staticmethod
    def depth(params) -> int:
        """:func:`core_depth` of a plan stage's ``params`` (what the cycle model asks)."""
        return core_depth(params["folds"], params["simd"])

    @property
    def folds(self) -> int:
        return self.sf * self.nf

    def fold_weights(self, nf: int, sf: int) -> np.ndarray:
        """The ``(PE, SIMD)`` weights of fold ``(nf, sf)``."""
        return self.weights[nf * self.pe:(nf + 1) * self.pe, sf * self.simd:(sf + 1) * self.simd]

    def rom_words(self) -> list[int]:
        """One word per fold ``nf SF + sf``: weight ``(pe, s)`` at element ``pe SIMD + s``."""
        mask = (1 << self.weight_bits) - 1
        words = []
        for nf in range(self.nf):
            for sf in range(self.sf):
                flat = self.fold_weights(nf, sf).ravel()
                words.append(sum((int(v) & mask) << (self.weight_bits * e)
                                 for e, v in enumerate(flat)))
        return words

    def elaborate(self, platform):
        m = Module()
        en = ~self.o.valid | self.o.ready
        self._fold_and_accumulate(m, en, *self._walk(m, en))
        return m

    def _walk(self, m, en):
        """Stage A and the register after it: the fold walk over a held vector. Returns
        ``(b_x, b_valid, b_first, b_last, fold, nf, step, sf0)``: stage B's inputs and flags,
        the fold and neuron-fold counters and the condition of a fold read (``step``) and of
        its first synapse fold (``sf0``)."""
        sf_n, nf_n, simd = self.sf, self.nf, self.simd
        # The vector rotates by one fold's SIMD elements a fold, so the fold's inputs are
        # always its lowest elements (no SF-way multiplexer) and SF rotations bring it back
        # for the next neuron fold.
        chunk_bits = self.x_shape.width * simd
        x = Signal(self.i.payload.shape())
        busy = Signal()
        sf = index_signal(sf_n, "sf")
        nf = index_signal(nf_n, "nf")
        fold = index_signal(self.folds, "fold")
        last = busy & equals(sf, sf_n - 1) & equals(nf, nf_n - 1)
        m.d.comb += self.i.ready.eq(en & (~busy | last))
        with m.If(en):
            with m.If(self.i.valid & self.i.ready):
                m.d.sync += [x.eq(self.i.payload), busy.eq(1), sf.eq(0), nf.eq(0), fold.eq(0)]
            with m.Elif(busy):
                if sf_n > 1:
                    m.d.sync += x.eq(x.rotate_right(chunk_bits))
                with m.If(last):
                    m.d.sync += busy.eq(0)
                with m.Elif(equals(sf, sf_n - 1)):
                    m.d.sync += [sf.eq(0), nf.eq(nf + 1), fold.eq(fold + 1)]
                with m.Else():
                    m.d.sync += [sf.eq(sf + 1), fold.eq(fold + 1)]

        b_x = view(Signal(chunk_bits, name="b_x"), self.x_shape, simd)
        b_valid, b_first, b_last = Signal(), Signal(), Signal()
        with m.If(en):
            m.d.sync += [b_valid.eq(busy), b_first.eq(equals(sf, 0)),
                         b_last.eq(equals(sf, sf_n - 1)), b_x.as_value().eq(x[:chunk_bits])]
        return b_x, b_valid, b_first, b_last, fold, nf, en & busy, en & busy & equals(sf, 0)

    def _fold_and_accumulate(self, m, en, b_x, b_valid, b_first, b_last, fold, nf, step, sf0):
        """Stage B on: the ROM words of the fold (read at ``fold`` while ``step``, biases at
        ``nf`` while ``sf0``), the MAC and the accumulator."""
        sf_n, nf_n, pe, simd = self.sf, self.nf, self.pe, self.simd
        acc_shape = signed(self.acc_bits)
        chunk_bits = self.x_shape.width * simd
        # -- stage B: the ROM words arrive. A ROM's clock-to-out (5.6 ns on ECP5) straight into
        # the multiplier and adder was a folded digits-ref's critical path (62 MHz), so with
        # ROMs a register stage (R) holds the words, the inputs and the flags before the MAC.
        if self.folds == 1:
            def weight(p_, s_):
                return int(self.weights[p_, s_])
            mac_x, mac_valid, mac_first, mac_last = b_x, b_valid, b_first, b_last
        else:
            # Read once a fold: only while stage A walks one (traffic = F words a vector).
            words = weight_rom(m, "weights", self.rom_words(), self.weight_bits * pe * simd,
                               fold, step)
            r_words = Signal.like(words, name="r_words")
            mac_x = view(Signal(chunk_bits, name="r_x"), self.x_shape, simd)
            mac_valid, mac_first, mac_last = Signal(), Signal(), Signal()
            with m.If(en):
                m.d.sync += [r_words.eq(words), mac_x.as_value().eq(b_x.as_value()),
                             mac_valid.eq(b_valid), mac_first.eq(b_first), mac_last.eq(b_last)]
            w_view = view(r_words, signed(self.weight_bits), pe * simd)

            def weight(p_, s_):
                return w_view[p_ * simd + s_]
        # Biases: constants with one neuron fold, else a ROM word of PE biases per neuron fold,
        # read at its first synapse fold (NF words a vector) and registered with the weights.
        if nf_n == 1:
            def bias(p_):
                return Const(int(self.bias[p_]), acc_shape)
        else:
            words = [sum((int(self.bias[n * pe + p_]) & ((1 << self.acc_bits) - 1))
                         << (self.acc_bits * p_) for p_ in range(pe)) for n in range(nf_n)]
            data = weight_rom(m, "biases", words, self.acc_bits * pe, nf, sf0)
            r_bias = Signal.like(data, name="r_bias")
            with m.If(en & b_valid & b_first):
                m.d.sync += r_bias.eq(data)
            bias_view = view(r_bias, acc_shape, pe)

            def bias(p_):
                return bias_view[p_]

        # -- MAC: multiply, add, accumulate; the last synapse fold loads the output --------
        lanes = []
        for p_ in range(pe):
            terms = []
            for s_ in range(simd):
                w = weight(p_, s_)
                if not isinstance(w, int) or w:
                    terms.append(mac_x[s_] * w)
            lanes.append(terms)
        biases = [bias(p_) for p_ in range(pe)]
        sums, (valid, first, last, *biases) = pipelined_sums(
            m, en, lanes, simd, (mac_valid, mac_first, mac_last, *biases))
        accumulate_folds(m, en, self.o, acc_shape, biases, sums,
                         folds=sf_n, valid=valid, first=first, last=last)


class NarrowDenseCore(DenseCore):
    """A :class:`DenseCore` fed ``SIMD`` inputs a beat (FINN's MVAU stream): ``SF`` beats a
    vector, in vector order.

    Neuron fold 0 multiplies each beat as it arrives (a fold a transfer) and, with ``NF > 1``,
    writes it into an input buffer of ``SF`` words (``inbuf``, synchronous read); neuron
    folds ``1 .. NF - 1`` re-read it, a fold a cycle. So the vector is never held whole:
    with ``SIMD = 1`` the core's datapath is one element wide. ``i.ready`` is high during
    neuron fold 0 only; a vector still takes ``F = SF NF`` cycles when its beats come
    back to back, and the core's output is :class:`DenseCore`'s (``NF`` beats of ``PE``
    accumulators), :func:`core_depth` cycles after the fold.

    Members
    -------
    i : In(vector_signature(x_shape, simd))
        Beat ``sf`` of a vector: its inputs ``sf SIMD .. sf SIMD + SIMD - 1``.
    o : Out(vector_signature(signed(acc_bits), pe))
    """

    @property
    def in_lanes(self) -> int:
        return self.simd

    def _walk(self, m, en):
        sf_n, nf_n = self.sf, self.nf
        chunk = Shape.cast(self.i.payload.shape())
        sf = index_signal(sf_n, "sf")
        nf = index_signal(nf_n, "nf")
        fold = index_signal(self.folds, "fold")
        taking = equals(nf, 0)                  # neuron fold 0: the beats arrive
        step = Signal()                         # a fold this cycle
        m.d.comb += [self.i.ready.eq(en & taking),
                     step.eq(en & Mux(taking, self.i.valid, 1))]
        with m.If(step):
            with m.If(equals(sf, sf_n - 1)):
                m.d.sync += sf.eq(0)
                with m.If(equals(nf, nf_n - 1)):
                    m.d.sync += [nf.eq(0), fold.eq(0)]
                with m.Else():
                    m.d.sync += [nf.eq(nf + 1), fold.eq(fold + 1)]
            with m.Else():
                m.d.sync += [sf.eq(sf + 1), fold.eq(fold + 1)]

        b_in = Signal(chunk, name="b_in")
        b_taken = Signal()
        b_valid, b_first, b_last = Signal(), Signal(), Signal()
        with m.If(en):
            m.d.sync += [b_valid.eq(step), b_first.eq(equals(sf, 0)),
                         b_last.eq(equals(sf, sf_n - 1)), b_taken.eq(taking)]
        with m.If(step & taking):
            m.d.sync += b_in.eq(self.i.payload)
        if nf_n == 1:
            x = b_in
        elif sf_n == 1:
            # One beat a vector: the buffer is that beat, b_in, held over the neuron folds.
            x = b_in
        else:
            m.submodules.inbuf = buf = memory.Memory(
                shape=chunk, depth=sf_n, init=[], attrs=buffer_attrs(sf_n, "auto"))
            wr = buf.write_port()
            rd = buf.read_port(domain="sync", transparent_for=())
            m.d.comb += [wr.addr.eq(sf), wr.data.eq(self.i.payload), wr.en.eq(step & taking),
                         rd.addr.eq(sf), rd.en.eq(step & ~taking)]
            x = Mux(b_taken, b_in, rd.data)
        b_x = view(Signal(chunk, name="b_x"), self.x_shape, self.simd)
        m.d.comb += b_x.as_value().eq(x)
        return b_x, b_valid, b_first, b_last, fold, nf, step, step & equals(sf, 0)
