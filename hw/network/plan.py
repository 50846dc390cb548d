"""The stage list of a network pipeline: which engine blocks, in which order, with which streams.

Plain data (nothing is built here), so that the generator (:mod:`.pipeline`) and the
cycle model (:mod:`edgeforge.sim.cycles.network`) read the same plan.

Each conv2d / linear layer becomes, in order: what shapes its input (a
:class:`~.reshape.Serialise` if its beats carry several pixels, a
:class:`~.window.Window` for a conv, a :class:`~.reshape.Gather` when a
linear's input vector arrives in several beats), the transform's core
(:class:`~.mac.DenseCore`), a :class:`~.requant.Requant` and, when the core
emits several neuron folds, a :class:`~.reshape.Gather` of them. A maxpool is
a :class:`~.pool.MaxPool`, argmax an :class:`~.argmax.ArgMax`. Each layer
but the first starts with a :class:`~.reshape.Skid` unless a window generator
starts it (both have a registered ``i.ready``). Relu (fused
into the requantisation) and flatten (the stream order already is the
flattened order, up to the permutation the linear's weights absorb) add no
block.

Streams between blocks carry pixels in raster order, one a beat with their
channels together, or whole vectors; the network input carries
``pixels_per_beat`` pixels a beat.

That is the wide datapath. The narrow one (``datapath="narrow"``, FINN's streams) feeds
each dense conv2d / linear ``SIMD`` inputs a beat: a
:class:`~.window.NarrowWindow` (a window as beats of ``SIMD`` taps, read from one row
memory) or the stream as it is, into a :class:`~.mac.NarrowDenseCore` (its input buffer
re-read for each neuron fold), whose ``PE`` lanes a beat go on unmerged: into the next
window's rows, a :class:`~.pool.NarrowPool` (window-row maxima in a memory) or a
:class:`~.argmax.NarrowArgMax`. The element order is the same in both datapaths (a beat
of ``L`` lanes holds the next ``L`` elements of the flat order), so a
:class:`~.reshape.Serialise` or :class:`~.reshape.Gather` converts between them where a
layer stays wide (another transform kind, a SIMD that does not divide a conv's channels).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

from edgeforge.schemes.network import Layer, Network, NetworkWidths, range_bits

from .argmax import class_bits

__all__ = ["FOLDINGS", "DATAPATHS", "LANE_LUT4", "ACC_LUT4", "Stream", "Stage", "Plan", "transform_size",
           "resolve_folding", "balanced_folding", "target_folding", "fastest_interval",
           "layer_lut4",
           "check_pixels_per_beat", "plan_pipeline", "input_order"]

#: Folding shorthands: PE = SIMD = 1 everywhere; every layer fully parallel; or each layer
#: with the fewest MACs a cycle that keeps it within the fully parallel pipeline's interval
#: (FINN's folding for a target cycles per frame, the target being the fastest the stream
#: allows: at a pixel a beat, digits-ref's 64 cycles an image with 237 MACs a cycle).
FOLDINGS = ("folded", "parallel", "balanced")
#: Datapaths of :func:`plan_pipeline`: whole pixels and vectors a beat, or SIMD inputs a beat.
DATAPATHS = ("wide", "narrow")


@dataclass(frozen=True)
class Stream:
    """A stream between blocks: ``lanes`` elements of ``bits`` (``signed``) a beat, ``beats``
    beats an image."""
    bits: int
    signed: bool
    lanes: int
    beats: int


@dataclass(frozen=True)
class Stage:
    """One block of the pipeline. ``params`` are the block's constructor counts (see the
    module docstring of each block)."""
    kind: str
    layer: int
    name: str
    inp: Stream
    out: Stream
    params: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """The blocks of a pipeline over layers ``first .. last`` and its outer streams."""
    stages: tuple[Stage, ...]
    first: int
    last: int
    folding: Mapping[int, tuple[int, int]]

    @property
    def inp(self) -> Stream:
        return self.stages[0].inp

    @property
    def out(self) -> Stream:
        return self.stages[-1].out


def transform_size(layer: Layer) -> tuple[int, int]:
    """``(outputs M, inputs N)`` of a conv2d / linear layer's transform (its kind says)."""
    return layer.transform.size(layer)


def resolve_folding(network: Network, folding) -> dict[int, tuple[int, ...]]:
    """``{layer index: folding}`` for every conv2d / linear layer, each in its transform
    kind's terms: ``(PE, SIMD)`` for dense, ``(groups, prototypes)`` a cycle for PECAN-D,
    the MAC lanes of each factor for DeBut.

    ``folding`` is ``"folded"``, ``"parallel"`` or a list of foldings, one per conv2d /
    linear layer in order.

    Raises
    ------
    ValueError
        Naming the layer and the value: a knob that does not divide what it folds (a PE
        that does not divide the layer's output channels, a SIMD its inputs), a wrong
        list length.
    """
    dense = [layer for layer in network.layers if layer.transform is not None]
    if isinstance(folding, str):
        if folding not in FOLDINGS:
            raise ValueError(f"folding must be one of {FOLDINGS} or a list of (PE, SIMD), "
                             f"got {folding!r}")
        if folding == "balanced":
            raise ValueError("folding 'balanced' depends on the pipeline's streams: "
                             "plan_pipeline resolves it, got it in resolve_folding")
        pick = "folded" if folding == "folded" else "parallel"
        return {layer.index: getattr(layer.transform, pick)(layer) for layer in dense}
    if not isinstance(folding, (list, tuple)) or len(folding) != len(dense):
        raise ValueError(f"folding must list one folding per conv2d/linear layer "
                         f"({len(dense)}; dense: (PE, SIMD)), got {folding!r}")
    return {layer.index: layer.transform.check_folding(
        f"folding of layer {layer.index} ({layer.kind})", value, layer)
        for layer, value in zip(dense, folding)}


#: iCE40 LUT4 of one MAC lane, ``LANE_LUT4[0] + LANE_LUT4[1] w a + LANE_LUT4[2] (w + a)`` for
#: ``w``-bit weights and ``a``-bit inputs (the product, its share of the adder tree and of the
#: weight reads): the least-squares fit of the 64-lane layers of bench/network_widths.py that
#: yosys maps to LUT4 alone (w x a = 2x2, 3x3, 4x4, 2x8: 32.0, 44.9, 63.5, 61.4 LUT4 a lane;
#: the fit is within 0.1 of each, bench/results/network_widths.md). Wider products go to
#: SB_MAC16 there; the estimate prices them as LUT4 all the same, as a part without DSPs would.
LANE_LUT4 = (24.43, 2.986, -1.080)
#: LUT4 per accumulator bit of each PE (one adder bit with its carry): an assumption, not a fit
#: (the bench keeps PE fixed at 4).
ACC_LUT4 = 1.0


def layer_lut4(layer: Layer, widths: NetworkWidths, pe: int, simd: int) -> float:
    """Estimated iCE40 LUT4 of a conv2d / linear layer's core at folding ``(pe, simd)``:
    ``pe simd`` MAC lanes at :data:`LANE_LUT4` for its weight and input widths, plus ``pe``
    accumulators at :data:`ACC_LUT4` a bit (the model :func:`target_folding` minimises)."""
    lw = widths.layers[layer.index]
    w, a = layer.fields["weight_bits"], range_bits(*lw.in_range)[0]
    c0, c1, c2 = LANE_LUT4
    return pe * simd * (c0 + c1 * w * a + c2 * (w + a)) + pe * ACC_LUT4 * lw.acc_bits


def fastest_interval(network: Network, widths: NetworkWidths, pixels_per_beat: int = 1) -> int:
    """Cycles an image of the fully parallel pipeline: the fewest any folding reaches."""
    from edgeforge.sim.cycles.network import stage_cycles
    fastest = plan_pipeline(network, widths, "parallel", pixels_per_beat=pixels_per_beat)
    return max([fastest.inp.beats] + [stage_cycles(st) for st in fastest.stages])


def _foldings_within(network: Network, widths: NetworkWidths, target: int, pixels_per_beat: int,
                     key) -> list[tuple[int, ...]]:
    """Per conv2d / linear layer, the folding (its kind's candidates) whose cycles an image
    stay within ``target``, least by ``key(layer, fold)``."""
    from edgeforge.sim.cycles.network import stage_cycles
    parallel = plan_pipeline(network, widths, "parallel", pixels_per_beat=pixels_per_beat)
    cores = {st.layer: st for st in parallel.stages if st.kind == "core"}
    out = []
    for layer in network.layers:
        if layer.transform is None:
            continue
        # The layer's own kind says which foldings it has and what each costs in cycles.
        t, st = layer.transform, cores[layer.index]
        fits = [fold for fold in t.candidates(layer)
                if stage_cycles(replace(st, params={**st.params, **t.core_params(layer, fold)}))
                <= target]
        out.append(min(fits, key=lambda fold: key(layer, fold)))
    return out


def _finn_key(layer, fold):
    return layer.transform.fold_cost(layer, fold)


def balanced_folding(network: Network, widths: NetworkWidths,
                     pixels_per_beat: int = 1) -> list[tuple[int, ...]]:
    """Per conv2d / linear layer, the folding of least cost by its kind's rule (dense: the
    fewest MACs a cycle ``PE x SIMD``, on a tie the wider SIMD, as FINN widens SIMD first;
    DeBut: the fewest MAC lanes) whose cycles an image stay within the interval of the
    fully parallel pipeline."""
    return _foldings_within(network, widths, fastest_interval(network, widths, pixels_per_beat),
                            pixels_per_beat, _finn_key)


def target_folding(network: Network, widths: NetworkWidths, target_cycles: int,
                   pixels_per_beat: int = 1, *, estimate: str = "lut4") -> list[tuple[int, ...]]:
    """The cheapest folding whose pipeline takes at most ``target_cycles`` cycles an image.

    Every layer's core is folded on its own (the interval is the slowest stage's, so a
    layer faster than the target buys nothing): among the ``(PE, SIMD)`` that divide it
    and keep its cycles within the target, the one of least estimated cost.

    Parameters
    ----------
    estimate : {"lut4", "macs"}
        ``"lut4"``: :func:`layer_lut4`, LUT4 per MAC lane by weight and input bits plus
        the accumulators, calibrated by bench/network_widths.py; FINN's rule (fewest
        ``PE x SIMD``, then the wider SIMD) breaks ties. ``"macs"``: FINN's rule alone.

    Raises
    ------
    ValueError
        For a ``target_cycles`` that is not a positive integer, or one below the fastest
        the pipeline can go (naming that figure), or an unknown ``estimate``.
    """
    if (not isinstance(target_cycles, int) or isinstance(target_cycles, bool)
            or target_cycles < 1):
        raise ValueError(f"target_cycles must be a positive integer, got {target_cycles!r}")
    if estimate not in ("lut4", "macs"):
        raise ValueError(f"estimate must be 'lut4' or 'macs', got {estimate!r}")
    fastest = fastest_interval(network, widths, pixels_per_beat)
    if target_cycles < fastest:
        raise ValueError(f"target_cycles must be at least {fastest}, the fastest this network "
                         f"goes (folding 'parallel' at {pixels_per_beat} pixel(s) a beat), got "
                         f"{target_cycles!r}")
    if estimate == "macs":
        key = _finn_key
    else:
        def key(layer, fold):
            # The LUT4 model is of dense MAC lanes: another kind (PECAN-D, DeBut) goes by
            # its own rule.
            if layer.fields["transform"] != "dense":
                return (0.0, *_finn_key(layer, fold))
            return (layer_lut4(layer, widths, *fold), *_finn_key(layer, fold))
    return _foldings_within(network, widths, target_cycles, pixels_per_beat, key)


def check_pixels_per_beat(network: Network, pixels_per_beat) -> int:
    """Refuse a ``pixels_per_beat`` that is not a positive divisor of an image's pixels."""
    pixels = network.height * network.width
    if (not isinstance(pixels_per_beat, int) or isinstance(pixels_per_beat, bool)
            or pixels_per_beat < 1 or pixels % pixels_per_beat):
        raise ValueError(f"pixels_per_beat must divide the {pixels} pixels of an image, "
                         f"got {pixels_per_beat!r}")
    return pixels_per_beat


def _divides_either(a: int, b: int) -> bool:
    return a % b == 0 or b % a == 0


def _narrow(layer: Layer, fold, lanes: int) -> bool:
    """Whether a conv2d / linear layer takes the narrow datapath: its kind has a narrow core,
    a conv's SIMD divides its channels (a beat is one tap's channels) and the stream's
    ``lanes`` convert to SIMD a beat by a serialiser or a gather."""
    if layer.transform.narrow_core is None:
        return False
    simd = fold[1]
    if layer.kind == "conv2d" and layer.in_shape[0] % simd:
        return False
    return _divides_either(lanes, simd)


def plan_pipeline(network: Network, widths: NetworkWidths, folding, *, pixels_per_beat: int = 1,
                  layers: tuple[int, int] | None = None, logits: bool = False,
                  datapath: str = "wide") -> Plan:
    """The blocks of the pipeline over layers ``layers = (first, last)`` (all by default).

    The input of layer 0 is the image, ``pixels_per_beat`` pixels a beat; a later
    first layer takes the stream the whole pipeline would carry into it.

    ``datapath``: ``"wide"`` (streams of whole pixels and vectors, see the module docstring)
    or ``"narrow"``: every conv2d / linear layer whose kind has a narrow core (dense) and
    whose shape allows (:func:`_narrow`) takes ``SIMD`` inputs a beat: a conv's window as
    beats of ``SIMD`` taps (:class:`~.window.NarrowWindow`), a linear's vector as it streams
    in, into a :class:`~.mac.NarrowDenseCore` whose ``PE`` lanes a beat go on as they are
    (no gather of its neuron folds); a maxpool fed fewer lanes than its channels is a
    :class:`~.pool.NarrowPool`, an argmax (without logits) a :class:`~.argmax.NarrowArgMax`.
    Serialisers and gathers convert the lanes between blocks where they differ (element
    order is the same flat order in both datapaths).
    """
    if datapath not in DATAPATHS:
        raise ValueError(f"datapath must be one of {DATAPATHS}, got {datapath!r}")
    first, last = layers if layers is not None else (0, len(network.layers) - 1)
    ppb = check_pixels_per_beat(network, pixels_per_beat) if first == 0 else 1
    if isinstance(folding, str) and folding == "balanced":
        folding = balanced_folding(network, widths, ppb)
    fold = resolve_folding(network, folding)
    stages: list[Stage] = []

    def add(kind, layer, name, out, **params):
        stages.append(Stage(kind, layer.index, f"l{layer.index}_{name}", cur[0], out, params))
        cur[0] = out

    def lanes_to(layer, lanes):
        """Serialise or gather the stream to ``lanes`` elements a beat (one divides the
        other)."""
        s = cur[0]
        out = Stream(s.bits, s.signed, lanes, s.beats * s.lanes // lanes)
        if s.lanes > lanes:
            add("serialise", layer, "serialise", out, count=s.lanes // lanes)
        elif s.lanes < lanes:
            add("gather", layer, "gather", out, beats=lanes // s.lanes)

    lw0 = widths.layers[first]
    bits, signed = range_bits(*lw0.in_range)
    shape0 = network.layers[first].in_shape
    if first == 0:
        cur = [Stream(bits, signed, network.channels * ppb, network.height * network.width // ppb)]
    elif len(shape0) == 3:
        cur = [Stream(bits, signed, shape0[0], shape0[1] * shape0[2])]
    else:
        # A vector as the pipeline carries it: the pixels of the map flatten took, or one beat.
        prev = network.layers[first - 1]
        src = prev.in_shape if prev.kind == "flatten" else None
        cur = [Stream(bits, signed, src[0], src[1] * src[2]) if src
               else Stream(bits, signed, shape0[0], 1)]

    for layer in network.layers[first:last + 1]:
        lw = widths.layers[layer.index]
        out_bits, out_signed = range_bits(*lw.out_range)
        narrow = (datapath == "narrow" and layer.transform is not None
                  and _narrow(layer, fold[layer.index], cur[0].lanes))
        # Between layers, a skid buffer cuts the ready path, except before a window generator
        # that takes the stream as it is, whose ready is a register already (and not at the
        # pipeline's input).
        if layer.kind == "conv2d":
            window_lanes = fold[layer.index][1] if narrow else layer.in_shape[0]
        if stages and layer.kind in ("conv2d", "linear", "maxpool", "argmax") and not (
                layer.kind == "conv2d" and cur[0].lanes == window_lanes):
            add("skid", layer, "skid", cur[0])
        s = cur[0]
        if layer.kind in ("conv2d", "linear"):
            outputs, inputs = transform_size(layer)
            c_fold = fold[layer.index]
            if layer.kind == "conv2d":
                c, h, w = layer.in_shape
                _, ho, wo = layer.out_shape
                lanes_to(layer, window_lanes)
                s = cur[0]
                geometry = dict(channels=c, height=h, width=w, kernel=layer.fields["kernel"],
                                padding=layer.fields["padding"])
                if narrow:
                    add("narrow_window", layer, "window",
                        Stream(s.bits, s.signed, window_lanes, ho * wo * inputs // window_lanes),
                        lanes=window_lanes, **geometry)
                else:
                    add("window", layer, "window", Stream(s.bits, s.signed, inputs, ho * wo),
                        **geometry)
            else:
                lanes_to(layer, c_fold[1] if narrow else inputs)
            s = cur[0]
            vectors = s.beats * s.lanes // inputs
            core = layer.transform.core_params(layer, c_fold)
            lanes, beats = core["lanes"], core["beats"]
            extra = {"datapath": "narrow", "in_beats": inputs // s.lanes} if narrow else {}
            add("core", layer, "core", Stream(lw.acc_bits, True, lanes, vectors * beats),
                transform=layer.fields["transform"], **core, **extra, **dict(lw.transform or {}))
            add("requant", layer, "requant", Stream(out_bits, out_signed, lanes, vectors * beats),
                lanes=lanes, shift=layer.fields["shift"], clip=lw.clip)
            if beats > 1 and not narrow:
                add("gather", layer, "folds", Stream(out_bits, out_signed, outputs, vectors),
                    beats=beats)
        elif layer.kind == "maxpool":
            c, h, w = layer.in_shape
            size = layer.fields["size"]
            if s.lanes < c and c % s.lanes == 0:
                add("narrow_pool", layer, "pool",
                    Stream(out_bits, out_signed, s.lanes, s.beats // size ** 2),
                    channels=c, width=w, size=size, lanes=s.lanes)
            else:
                lanes_to(layer, c)
                add("pool", layer, "pool", Stream(out_bits, out_signed, c, h * w // size ** 2),
                    channels=c, width=w, size=size)
        elif layer.kind == "argmax":
            n = layer.in_shape[0]
            logit_bits = network.layers[layer.index - 1].fields["out_bits"] if logits else None
            if s.lanes < n and logit_bits is None:
                add("narrow_argmax", layer, "argmax", Stream(class_bits(n), False, 1, 1),
                    n=n, lanes=s.lanes)
            else:
                lanes_to(layer, n)
                out_width = class_bits(n) + (n * logit_bits if logit_bits else 0)
                add("argmax", layer, "argmax", Stream(out_width, False, 1, 1),
                    n=n, logit_bits=logit_bits)
    return Plan(stages=tuple(stages), first=first, last=last, folding=fold)


def input_order(network: Network, layer: Layer):
    """For a linear layer right after flatten: ``order[j]``, the torch index (``c H W + h W +
    w``) of element ``j`` of the vector as the stream carries it (pixel ``h W + w``'s
    channels together: ``j = (h W + w) C + c``); None when the orders agree."""
    import numpy as np
    prev = network.layers[layer.index - 1] if layer.index else None
    if layer.kind != "linear" or prev is None or prev.kind != "flatten":
        return None
    c, h, w = prev.in_shape
    return np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()
