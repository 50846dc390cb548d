"""Cycle model of the network pipeline (``edgeforge.hw.network``), from its plan and folding.

Per stage, the cycles an image costs it (FINN's ``get_exp_cycles``, exact here):

- a transform core: ``vectors x F``, ``F`` its kind's cycle formula (named by its
  registry entry): dense ``F = (N / SIMD)(M / PE)`` (:func:`dense_cycles`), PECAN-D
  ``F = (D / groups per cycle)(p / prototypes per cycle)`` (:func:`pecan_d_cycles`; PECAN-A
  the same), DeBut
  its slowest factor's folds (:mod:`edgeforge.sim.cycles.debut`);
- a window generator: ``max(input beats, output beats)`` (one write and one window a
  cycle; the narrow one's beats are ``C / lanes`` a pixel in, ``k k C / lanes`` a window
  out);
- a narrow core (fed ``SIMD`` inputs a beat, ``in_beats`` beats a vector): the same
  ``vectors x F``, its neuron fold 0 a fold a transfer (:func:`narrow_core_block`);
- every other block: its input beats (one a cycle); the source: the image's beats.

The pipeline's interval (cycles per image in steady state) is the slowest
stage's cost, and its latency the sum of the stages' fills. Both, and the
cycle of every image's output beat, come from :func:`predict`'s timeline: a
cycle-by-cycle run of each block's control (its counters and valid flags,
no data), read from the same plan as the generator, with the pipeline depths
the generator modules export (:data:`~edgeforge.hw.network.window.READ_DEPTH`,
each core's ``depth``,
:func:`~edgeforge.hw.network.argmax.argmax_depth`). The timeline repeats once the
pipeline is periodic, so a long run costs a few images' worth of steps.
Cycles count from the first input transfer (cycle 0), inputs back to back,
output always ready.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgeforge.sim.cycles.record import OperationLine, Performance, RunCycles, TrafficLine

__all__ = ["dense_cycles", "pecan_d_cycles", "dense_traffic", "pecan_d_traffic",
           "pecan_a_traffic", "dense_operations", "pecan_d_operations", "pecan_a_operations",
           "operations", "core_block", "narrow_core_block", "core_vectors",
           "stage_cycles", "StageCycles", "NetworkCycles", "predict", "traffic", "performance"]


def dense_cycles(params) -> int:
    """Cycles of one input vector through a dense core (its plan stage's ``params``):
    ``SF NF = (inputs / SIMD) (outputs / PE)``."""
    return params["sf"] * params["nf"]


def pecan_d_cycles(params) -> int:
    """Cycles of one input vector through a PECAN-D CAM core or a PECAN-A one: ``(D / groups
    per cycle) (p / prototypes per cycle)``, one match of a cycle's groups against a cycle's
    prototypes each (PECAN-A's weigh half overlaps the next group fold's match)."""
    return params["gf"] * params["pf"]


def _transform(st):
    from edgeforge.schemes.network import TRANSFORMS
    return TRANSFORMS[st.params["transform"]]


def core_block(st):
    """The timeline control of a fold-and-emit core stage (dense, PECAN-D): ``folds`` a
    vector, an output beat every ``emit`` folds, ``depth`` (its core's) cycles behind."""
    from edgeforge.schemes.network import resolve
    p = st.params
    return _Core(p["folds"], p["emit"], resolve(_transform(st).core).depth(p))


def narrow_core_block(st):
    """The timeline control of a narrow core stage (its kind's ``narrow_core``, fed ``SIMD``
    inputs a beat): neuron fold 0 a fold a transfer, the others a fold a cycle."""
    from edgeforge.schemes.network import resolve
    p = st.params
    return _NarrowCore(p["sf"], p["nf"], resolve(_transform(st).narrow_core).depth(p))


def core_vectors(st) -> int:
    """Input vectors an image of a core stage (a narrow core's input takes ``in_beats``
    beats a vector)."""
    return st.inp.beats // st.params.get("in_beats", 1)


# -- the blocks' control, cycle by cycle -------------------------------------------------
# Each block: `ready(out_ready)` is its i.ready (it may depend on o.ready, never on
# i.valid), `valid` its registered o.valid, `tick(fire_in, out_ready)` one clock edge.

class _Register:
    """A block with one output register and ``i.ready = ~o.valid | o.ready`` that emits on
    the input beats where ``emits[count]`` (count runs modulo ``len(emits)``): requant
    (every beat), gather (the last of ``B``), max-pool (the window's last pixel)."""

    def __init__(self, emits):
        self.emits, self.count, self.valid = tuple(emits), 0, False

    def ready(self, out_ready):
        return not self.valid or out_ready

    def tick(self, fire, out_ready):
        if fire:
            self.valid = self.emits[self.count]
            self.count = (self.count + 1) % len(self.emits)
        elif out_ready:
            self.valid = False

    def state(self):
        return (self.count, self.valid)


class _Pipe:
    """``depth`` register stages that move together (``i.ready = ~o.valid | o.ready``) and
    freeze while the output is blocked: a pipelined arg-max."""

    def __init__(self, depth):
        self.pipe = [False] * depth

    @property
    def valid(self):
        return self.pipe[-1]

    def ready(self, out_ready):
        return not self.valid or out_ready

    def tick(self, fire, out_ready):
        if not self.valid or out_ready:
            self.pipe = [fire] + self.pipe[:-1]

    def state(self):
        return tuple(self.pipe)


class _Skid:
    """Two entries; ``i.ready`` and ``o.valid`` from the fill count."""

    def __init__(self):
        self.count = 0

    @property
    def valid(self):
        return self.count > 0

    def ready(self, out_ready):
        return self.count < 2

    def tick(self, fire, out_ready):
        self.count += fire - (self.valid and out_ready)

    def state(self):
        return self.count


class _Serialise:
    def __init__(self, count):
        self.count, self.part, self.valid = count, 0, False

    def ready(self, out_ready):
        return not self.valid or (out_ready and self.part == self.count - 1)

    def tick(self, fire, out_ready):
        if fire:
            self.valid, self.part = True, 0
        elif self.valid and out_ready:
            if self.part == self.count - 1:
                self.valid, self.part = False, 0
            else:
                self.part += 1

    def state(self):
        return (self.part, self.valid)


class _Core:
    """Stage A walks ``folds`` folds; a fold whose synapse index is the last emits a beat
    ``depth`` enabled cycles later; everything freezes while the output is blocked."""

    def __init__(self, folds, sf, depth):
        self.folds, self.sf = folds, sf
        self.busy, self.t = False, 0
        self.pipe = [False] * depth            # pipe[-1] is o.valid

    @property
    def valid(self):
        return self.pipe[-1]

    def ready(self, out_ready):
        en = not self.valid or out_ready
        return en and (not self.busy or self.t == self.folds - 1)

    def tick(self, fire, out_ready):
        if self.valid and not out_ready:
            return
        emits = self.busy and self.t % self.sf == self.sf - 1
        self.pipe = [emits] + self.pipe[:-1]
        if fire:
            self.busy, self.t = True, 0
        elif self.busy:
            if self.t == self.folds - 1:
                self.busy = False
            else:
                self.t += 1

    def state(self):
        return (self.busy, self.t, tuple(self.pipe))


class _NarrowCore:
    """``sf`` folds a neuron fold, ``nf`` neuron folds a vector; in neuron fold 0 a fold is an
    input transfer (``i.ready`` high only then), later folds step every enabled cycle; a
    neuron fold's last synapse fold emits a beat ``depth`` enabled cycles later."""

    def __init__(self, sf, nf, depth):
        self.sf, self.nf = sf, nf
        self.s = self.n = 0
        self.pipe = [False] * depth

    @property
    def valid(self):
        return self.pipe[-1]

    def ready(self, out_ready):
        return (not self.valid or out_ready) and self.n == 0

    def tick(self, fire, out_ready):
        if self.valid and not out_ready:
            return
        step = fire if self.n == 0 else True
        self.pipe = [step and self.s == self.sf - 1] + self.pipe[:-1]
        if step:
            if self.s == self.sf - 1:
                self.s, self.n = 0, (self.n + 1) % self.nf
            else:
                self.s += 1

    def state(self):
        return (self.s, self.n, tuple(self.pipe))


class _Window:
    """Writer: a beat a cycle while a slot is free (``groups`` beats a pixel); reader: a beat a
    cycle while the rows of its output row are held (``taps`` beats a window: 1 for
    :class:`~edgeforge.hw.network.window.Window`, ``k k groups`` for the narrow one); a
    step reaches the output ``depth`` advancing cycles later."""

    def __init__(self, height, width, kernel, padding, depth, groups=1, taps=1):
        from edgeforge.hw.network.window import row_plans, slots
        self.plans = row_plans(height, kernel, padding)
        self.slots, self.width, self.taps = slots(kernel, padding), width * groups, taps
        self.out_width = width + 2 * padding - kernel + 1
        self.wcol = self.occupied = self.ox = self.oy = self.tap = 0
        self.pipe = [False] * depth

    @property
    def valid(self):
        return self.pipe[-1]

    def ready(self, out_ready):
        return self.occupied != self.slots

    def tick(self, fire, out_ready):
        advance = not self.valid or out_ready
        row_written = fire and self.wcol == self.width - 1
        plan = self.plans[self.oy]
        step = advance and self.occupied >= plan.need
        release = 0
        window_end = step and self.tap == self.taps - 1
        if step:
            self.tap = 0 if window_end else self.tap + 1
        if window_end:
            if self.ox == self.out_width - 1:
                release, self.ox = plan.release, 0
                self.oy = (self.oy + 1) % len(self.plans)
            else:
                self.ox += 1
        if advance:
            self.pipe = [step] + self.pipe[:-1]
        if fire:
            self.wcol = 0 if row_written else self.wcol + 1
        self.occupied += row_written - release

    def state(self):
        return (self.wcol, self.occupied, self.ox, self.oy, self.tap, tuple(self.pipe))


def _pool_emits(width: int, size: int, groups: int = 1) -> list[bool]:
    """Which beats of ``size`` rows end a window (its last column of its last row), a pixel
    ``groups`` beats."""
    return [y == size - 1 and x % size == size - 1 for y in range(size) for x in range(width)
            for _ in range(groups)]


def _blocks(plan):
    from edgeforge.hw.network.argmax import argmax_depth
    from edgeforge.hw.network.window import READ_DEPTH
    blocks = []
    for st in plan.stages:
        p = st.params
        if st.kind == "serialise":
            blocks.append(_Serialise(p["count"]))
        elif st.kind == "window":
            blocks.append(_Window(p["height"], p["width"], p["kernel"], p["padding"], READ_DEPTH))
        elif st.kind == "narrow_window":
            groups = p["channels"] // p["lanes"]
            blocks.append(_Window(p["height"], p["width"], p["kernel"], p["padding"], READ_DEPTH,
                                  groups, p["kernel"] ** 2 * groups))
        elif st.kind == "core" and p.get("datapath") == "narrow":
            blocks.append(narrow_core_block(st))
        elif st.kind == "core":
            from edgeforge.schemes.network import resolve
            blocks.append(resolve(_transform(st).timeline)(st))
        elif st.kind == "gather":
            blocks.append(_Register([False] * (p["beats"] - 1) + [True]))
        elif st.kind == "pool":
            blocks.append(_Register(_pool_emits(p["width"], p["size"])))
        elif st.kind == "narrow_pool":
            blocks.append(_Register(_pool_emits(p["width"], p["size"], p["channels"] // p["lanes"])))
        elif st.kind == "narrow_argmax":
            beats = p["n"] // p["lanes"]
            blocks.append(_Register([False] * (beats - 1) + [True]))
        elif st.kind == "argmax":
            blocks.append(_Pipe(argmax_depth(p["n"])))
        elif st.kind == "skid":
            blocks.append(_Skid())
        else:                                              # requant
            blocks.append(_Register([True]))
    return blocks


def _timeline(plan):
    """Yield ``(cycle, stage)`` of every output beat of every stage (stage ``len - 1`` is the
    pipeline's output), for an endless run of images; and, once the whole state repeats
    at an output of the last stage, stop with the repeat's period."""
    blocks = _blocks(plan)
    n = len(blocks)
    beats = plan.inp.beats
    src_phase, t = 0, 0
    while True:
        ready = [False] * (n + 1)
        ready[n] = True
        for k in reversed(range(n)):
            ready[k] = blocks[k].ready(ready[k + 1])
        fires = [ready[0]] + [blocks[k - 1].valid and ready[k] for k in range(1, n)]
        outs = [k for k in range(n) if blocks[k].valid and ready[k + 1]]
        for k in range(n):
            blocks[k].tick(fires[k], ready[k + 1])
        if fires[0]:
            src_phase = (src_phase + 1) % beats
        for k in outs:
            yield t, k, (src_phase, *(b.state() for b in blocks)) if k == n - 1 else None
        t += 1


@dataclass(frozen=True)
class StageCycles:
    """One block of the plan: its cycles per image and its fill (first output of the
    block minus the first output of the block before it, the source's first beat for the
    first block)."""
    name: str
    kind: str
    layer: int
    cycles_per_image: int
    fill: int


@dataclass
class NetworkCycles:
    """Predicted timing of one pipeline config (see :func:`predict`)."""
    stages: tuple[StageCycles, ...]
    layer_cycles: dict
    input_beats_per_image: int
    output_beats_per_image: int
    interval: int
    bottleneck: str
    latency_cycles: int
    _starts: list = field(default_factory=list, repr=False)
    _period: tuple | None = field(default=None, repr=False)

    def beat_cycle(self, k: int) -> int:
        """The cycle of output beat ``k`` (images back to back from cycle 0)."""
        if k < len(self._starts):
            return self._starts[k]
        if self._period is None:
            raise ValueError(f"the timeline ran {len(self._starts)} output beats without "
                             f"repeating; beat {k!r} is beyond it (predict max_images)")
        first, beats, cycles = self._period
        back = first + (k - first) % beats
        return self._starts[back] + (k - back) // beats * cycles

    def output_start(self, k: int) -> int:
        """The cycle of image ``k``'s first output beat."""
        return self.beat_cycle(k * self.output_beats_per_image)

    def schedule(self, n_images: int) -> tuple[list[int], int]:
        """``(first output cycle of each image, last output cycle)`` for ``n_images`` back to
        back."""
        starts = [self.output_start(k) for k in range(n_images)]
        return starts, self.beat_cycle(n_images * self.output_beats_per_image - 1)

    def total_cycles(self, n_images: int) -> int:
        """Cycles from the first input transfer to the last output transfer, inclusive."""
        return self.schedule(n_images)[1] + 1

    def to_dict(self) -> dict:
        return {"interval_cycles_per_image": self.interval,
                "bottleneck": self.bottleneck,
                "latency_cycles": self.latency_cycles,
                "input_beats_per_image": self.input_beats_per_image,
                "layer_cycles_per_image": {str(k): v for k, v in self.layer_cycles.items()},
                "stages": [vars(s) for s in self.stages],
                "schedule_first_outputs": self.schedule(4)[0]}


def stage_cycles(st) -> int:
    """Cycles an image costs one plan stage (see the module docstring)."""
    if st.kind == "core":
        from edgeforge.schemes.network import resolve
        return core_vectors(st) * resolve(_transform(st).cycles)(st.params)
    if st.kind in ("window", "narrow_window"):
        return max(st.inp.beats, st.out.beats)
    if st.kind == "serialise":
        return st.out.beats
    return st.inp.beats


def predict(plan, max_images: int = 64) -> NetworkCycles:
    """The cycle model of a :class:`~edgeforge.hw.network.plan.Plan` (no backpressure).

    The timeline runs until its state repeats at an output beat (or for ``max_images``
    images' beats, beyond which :meth:`NetworkCycles.beat_cycle` is not defined).
    """
    costs = [stage_cycles(st) for st in plan.stages]
    source = plan.inp.beats
    layer_cycles: dict[int, int] = {}
    for st, c in zip(plan.stages, costs):
        layer_cycles[st.layer] = max(layer_cycles.get(st.layer, 0), c, 0)
    interval = max([source] + costs)
    bottleneck = "input" if interval == source else plan.stages[costs.index(interval)].name
    n = len(plan.stages)
    first_out = [None] * n
    starts, seen, period = [], {}, None
    for t, k, state in _timeline(plan):
        if first_out[k] is None:
            first_out[k] = t
        if k == n - 1:
            starts.append(t)           # every output beat
            if state in seen:
                k0 = seen[state]
                period = (k0 + 1, len(starts) - 1 - k0, t - starts[k0])
                break
            seen[state] = len(starts) - 1
            if len(starts) >= max_images * plan.out.beats:
                break
    fills = [first_out[0]] + [first_out[k] - first_out[k - 1] for k in range(1, n)]
    stages = tuple(StageCycles(st.name, st.kind, st.layer, c, f)
                   for st, c, f in zip(plan.stages, costs, fills))
    return NetworkCycles(stages=stages, layer_cycles=layer_cycles, input_beats_per_image=source,
                         output_beats_per_image=plan.out.beats, interval=interval,
                         bottleneck=bottleneck, latency_cycles=starts[0],
                         _starts=starts, _period=period)


def traffic(plan) -> tuple[TrafficLine, ...]:
    """On-chip memory accesses per image, one line per memory group (named as
    :func:`edgeforge.hw.network.pipeline.traffic_line` names the RTL's):

    - a window generator's rows: a write per input beat; per window, a read of one
      pixel word for every tap row inside the image times every tap column inside it (the
      narrow one: of each of the pixel's ``C / lanes`` words);
    - a narrow pool's column memory: a read per beat but a window's first, a write per beat
      but its last;
    - a narrow core's input buffer (``NF > 1``, ``SF > 1``): a write per beat, a read per
      beat in each later neuron fold;
    - a core's weight ROM (when not fully parallel): a word of ``PE x SIMD`` weights a
      fold; its bias ROM (with several neuron folds): a word of ``PE`` biases a neuron
      fold.
    """
    from edgeforge.hw.network.window import slots
    lines = []
    for st in plan.stages:
        p = st.params
        if st.kind == "window":
            k, pad = p["kernel"], p["padding"]
            word = st.inp.bits * st.inp.lanes
            lines.append(TrafficLine(f"{st.name}.rows", word, reads=_taps_inside(p),
                                     writes=st.inp.beats,
                                     # A word is an input beat: a row holds a row's beats.
                                     array_bits=slots(k, pad) * (st.inp.beats // p["height"])
                                     * word))
        elif st.kind == "narrow_window":
            k, pad = p["kernel"], p["padding"]
            word = st.inp.bits * st.inp.lanes
            # One memory of slots rows, each a row's input beats (the memory puts the rows at
            # a power-of-two stride; this is what they hold).
            row_beats = st.inp.beats // p["height"]
            lines.append(TrafficLine(f"{st.name}.rows", word,
                                     reads=_taps_inside(p) * p["channels"] // p["lanes"],
                                     writes=st.inp.beats,
                                     array_bits=slots(k, pad) * row_beats * word))
        elif st.kind == "narrow_pool":
            # Every beat but a window's first reads its word, every beat but its last writes.
            starts = st.inp.beats // p["size"] ** 2
            word = st.inp.bits * st.inp.lanes
            lines.append(TrafficLine(f"{st.name}.cols", word,
                                     reads=st.inp.beats - starts, writes=st.inp.beats - starts,
                                     array_bits=p["width"] // p["size"]
                                     * (p["channels"] // p["lanes"]) * word))
        elif st.kind == "core":
            from edgeforge.schemes.network import resolve
            lines += resolve(_transform(st).traffic)(st)
    return tuple(lines)


def _taps_inside(p) -> int:
    """Window taps of an image that fall inside it (the padding reads nothing): every
    tap row inside the image times every tap column inside it, per window."""
    from edgeforge.hw.network.window import row_plans
    k, pad, w = p["kernel"], p["padding"], p["width"]
    cols = sum(0 <= ox - pad + dx < w for ox in range(w + 2 * pad - k + 1) for dx in range(k))
    rows = sum(sum(o is not None for o in q.offsets) for q in row_plans(p["height"], k, pad))
    return rows * cols


def dense_traffic(st) -> list[TrafficLine]:
    """A dense core's ROM lines: its weight ROM (when not fully parallel), a word of ``PE x
    SIMD`` weights a fold; its bias ROM (with several neuron folds), a word of ``PE``
    biases a neuron fold."""
    p, vectors, lines = st.params, core_vectors(st), []
    if p.get("datapath") == "narrow" and p["nf"] > 1 and p["sf"] > 1:
        # The input buffer: each beat written in neuron fold 0, read in each later one.
        word = st.inp.bits * st.inp.lanes
        lines.append(TrafficLine(f"{st.name}.inbuf", word,
                                 reads=vectors * p["sf"] * (p["nf"] - 1),
                                 writes=vectors * p["sf"], array_bits=word * p["sf"]))
    if p["folds"] > 1:
        word = p["pe"] * p["simd"] * p["weight_bits"]
        lines.append(TrafficLine(f"{st.name}.weights", word, reads=vectors * p["folds"],
                                 writes=0, array_bits=word * p["folds"]))
    if p["nf"] > 1:
        word = p["pe"] * st.out.bits
        lines.append(TrafficLine(f"{st.name}.biases", word, reads=vectors * p["nf"], writes=0,
                                 array_bits=word * p["nf"]))
    return lines


def dense_operations(st) -> list[OperationLine]:
    """A dense core's arithmetic per image: every MAC of every vector (zero weights
    included: only a fully parallel layer drops them), a ``weight_bits x input bits``
    multiply and an add at the accumulator's width each."""
    p = st.params
    macs = core_vectors(st) * p["folds"] * p["pe"] * p["simd"]
    return [OperationLine(f"{st.name} products", "mul", (p["weight_bits"], st.inp.bits), macs),
            OperationLine(f"{st.name} accumulation", "add", (st.out.bits,), macs)]


def pecan_d_traffic(st) -> list[TrafficLine]:
    """A PECAN-D core's ROM lines: its codebook ROM (when not fully parallel), a word of
    the fold's ``groups per cycle x prototypes per cycle`` prototypes a fold; each
    group lane's table ROM, a column of ``c_out`` entries per group fold."""
    p, vectors, lines = st.params, st.inp.beats, []
    if p["folds"] > 1:
        word = p["gpc"] * p["ppc"] * p["group_size"] * p["codebook_bits"]
        lines.append(TrafficLine(f"{st.name}.codebook", word, reads=vectors * p["folds"],
                                 writes=0, array_bits=word * p["folds"]))
    for lane in range(p["gpc"]):
        word = p["lanes"] * p["table_bits"]
        lines.append(TrafficLine(f"{st.name}.table{lane}", word, reads=vectors * p["gf"],
                                 writes=0, array_bits=word * p["gf"] * p["prototypes"]))
    return lines


def pecan_a_traffic(st) -> list[TrafficLine]:
    """A PECAN-A core's ROM lines: its codebook ROM as PECAN-D's; each group lane's table
    ROM, a word of ``prototypes per cycle`` columns a fold; the reciprocal ROM (one lane
    per group lane), a read per group lane and group fold. Its exp table is logic, no
    memory. With ``prototype_offsets`` (``offset_bits`` among the widths) the offsets' ROM
    beside the codebook's, a word of the fold's offsets a fold (constants when fully
    parallel)."""
    p, vectors, lines = st.params, st.inp.beats, []
    if p["folds"] > 1:
        word = p["gpc"] * p["ppc"] * p["group_size"] * p["codebook_bits"]
        lines.append(TrafficLine(f"{st.name}.codebook", word, reads=vectors * p["folds"],
                                 writes=0, array_bits=word * p["folds"]))
        if "offset_bits" in p:
            word = p["gpc"] * p["ppc"] * p["offset_bits"]
            lines.append(TrafficLine(f"{st.name}.offset", word, reads=vectors * p["folds"],
                                     writes=0, array_bits=word * p["folds"]))
    for lane in range(p["gpc"]):
        word = p["ppc"] * p["lanes"] * p["table_bits"]
        lines.append(TrafficLine(f"{st.name}.table{lane}", word, reads=vectors * p["folds"],
                                 writes=0, array_bits=word * p["folds"]))
    lines.append(TrafficLine(f"{st.name}.recip", p["recip_word_bits"],
                             reads=vectors * p["gf"] * p["gpc"], writes=0,
                             array_bits=p["recip_word_bits"] * p["recip_entries"]))
    return lines


def pecan_a_operations(st) -> list[OperationLine]:
    """A PECAN-A core's arithmetic per image. The paper's count (its Table 1: ``p D (d +
    c_out)`` multiplications and as many additions) is the dot products' and the weighted
    column sums' lines; the softmax's own lines are apart (named ``softmax``): per group
    ``p - 1`` compares of the maximum, ``p`` differences to it and ``p`` saturation
    compares before the exp table (a lookup, no arithmetic), ``p - 1`` adds of ``Z`` and
    ``c_out`` normalisation multiplies ``u R`` (the division moved after the sum); then
    ``c_out`` accumulator adds a group. With ``prototype_offsets``, ``p`` offset adds a
    group more (a line of their own)."""
    p, vectors = st.params, st.inp.beats
    d_, d, q, outputs = p["groups"], p["group_size"], p["prototypes"], p["lanes"]
    groups = vectors * d_
    offsets = ([OperationLine(f"{st.name} prototype offset adds", "add", (p["dot_bits"],),
                              groups * q)] if "offset_bits" in p else [])
    return offsets + [OperationLine(f"{st.name} dot products", "mul", (st.inp.bits, p["codebook_bits"]),
                          groups * q * d),
            OperationLine(f"{st.name} dot-product sums", "add", (p["dot_bits"],),
                          groups * q * d),
            OperationLine(f"{st.name} weighted column products", "mul",
                          (p["exp_word_bits"], p["table_bits"]), groups * q * outputs),
            OperationLine(f"{st.name} weighted column sums", "add", (p["u_bits"],),
                          groups * q * outputs),
            OperationLine(f"{st.name} softmax maximum compares", "add", (p["dot_bits"],),
                          groups * (q - 1)),
            OperationLine(f"{st.name} softmax differences and saturation compares", "add",
                          (p["dot_bits"],), groups * q * 2),
            OperationLine(f"{st.name} softmax Z sums", "add", (p["z_bits"],), groups * (q - 1)),
            OperationLine(f"{st.name} softmax normalisation products", "mul",
                          (p["u_bits"], p["recip_word_bits"]), groups * outputs),
            OperationLine(f"{st.name} group accumulation", "add", (st.out.bits,),
                          groups * outputs)]


def pecan_d_operations(st) -> list[OperationLine]:
    """A PECAN-D core's arithmetic per image, all adds: per group and prototype, ``d``
    subtractions and absolute values at the codebook's width and the ``d - 1`` adds of
    the distance; per group ``p - 1`` compares of the arg-min; per group a column of
    ``c_out`` table entries into the accumulators."""
    p, vectors = st.params, st.inp.beats
    d_, d, q, outputs = p["groups"], p["group_size"], p["prototypes"], p["lanes"]
    cb = p["codebook_bits"] + 1
    return [OperationLine(f"{st.name} L1 differences and absolute values", "add", (cb,),
                          vectors * d_ * q * d * 2),
            OperationLine(f"{st.name} distance sums", "add", (p["dist_bits"],),
                          vectors * d_ * q * (d - 1)),
            OperationLine(f"{st.name} arg-min compares", "add", (p["dist_bits"],),
                          vectors * d_ * (q - 1)),
            OperationLine(f"{st.name} table accumulation", "add", (st.out.bits,),
                          vectors * d_ * outputs)]


def operations(plan) -> tuple[OperationLine, ...]:
    """Arithmetic per image: each core's as its transform kind counts it (none where the kind
    names no ``operations``), the requantisation's rounding add per output, a pool's
    compares (``size^2 - 1`` per output), the arg-max's ``classes - 1`` compares."""
    from edgeforge.schemes.network import resolve
    lines = []
    for st in plan.stages:
        p = st.params
        if st.kind == "core":
            counter = _transform(st).operations
            if counter:
                lines += resolve(counter)(st)
        elif st.kind == "requant":
            lines.append(OperationLine(f"{st.name} rounding", "add", (st.inp.bits,),
                                       st.inp.beats * st.inp.lanes))
        elif st.kind in ("pool", "narrow_pool"):
            lines.append(OperationLine(f"{st.name} compares", "add", (st.inp.bits,),
                                       st.out.beats * st.out.lanes * (p["size"] ** 2 - 1)))
        elif st.kind in ("argmax", "narrow_argmax"):
            lines.append(OperationLine(f"{st.name} compares", "add", (st.inp.bits,),
                                       p["n"] - 1))
    return tuple(lines)


def performance(plan, unit: str = "image", model: NetworkCycles | None = None) -> Performance:
    """The typed performance record of a pipeline plan (``model``, :func:`predict`'s, in
    ``detail``).

    Its schedule takes images of the plan's input beats each (a pipeline has one image
    size).
    """
    from edgeforge.hw.stream_beats import payload_bytes
    model = model or predict(plan)
    beats = plan.inp.beats

    def schedule(counts):
        if any(c != beats for c in counts):
            raise ValueError(f"every input of this pipeline is {beats} beats, got {list(counts)!r}")
        starts, last = model.schedule(len(counts))
        return RunCycles(tuple(starts), last)

    return Performance(
        input_unit=unit, output_unit="beat", outputs_per_input=plan.out.beats,
        cycles_per_input=float(model.interval), latency_cycles=model.latency_cycles,
        traffic=traffic(plan),
        offchip_bytes_in=float(beats * payload_bytes(plan.inp.bits * plan.inp.lanes)),
        offchip_bytes_out=float(plan.out.beats * payload_bytes(plan.out.bits * plan.out.lanes)),
        schedule=schedule, detail=model.to_dict(), operations=operations(plan))
