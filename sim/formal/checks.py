"""The catalogue of formal checks: which property of which block, by which method, to what depth.

Each :class:`Check` builds its harness on demand (:mod:`.streams`, :mod:`.equivalence`)
and runs through :func:`~.sby.run_sby`. The tests, ``edgeforge formal`` and the README's
table all read :func:`all_checks`, so that what is claimed is what is run.

The engines are checked on tiny configs (:func:`tiny_network`: a 2x2 image of 4-bit
pixels, flatten, one linear layer of the transform kind, argmax; the HKLUT-S, SR-LUT-F x2
and bicubic x2 engines on a 3x3 frame, their smallest, :data:`ENGINES`). Their tables,
codebooks and weights are free inputs
(every ROM read returns a free value), so the stream rules and the beat counts hold for
any artifact of that shape; the equivalence of a CAM core uses the artifact's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .sby import FormalResult, run_sby

__all__ = ["Check", "KINDS", "ENGINES", "all_checks", "tiny_network", "network_bounds",
           "network_frame", "engine_frame", "check_depth", "find_checks", "run_check"]

#: The transform kinds whose tiny networks are checked.
KINDS = ("dense", "pecan-d", "pecan-a", "debut")


@dataclass(frozen=True)
class Check:
    """One formal check.

    Members
    -------
    name : str
    block : str
        What is checked.
    prop : str
        The property: ``stream rules``, ``beat conservation``, ``progress`` or
        ``equivalence``.
    mode : str
        ``prove`` (k-induction) or ``bmc``.
    depth : int or callable
        k, or the BMC's cycles; a callable derives it (:func:`check_depth`).
    build : callable
        ``() -> harness`` (with a ``ports`` list).
    slow : bool
        Longer than a few seconds here: only under ``--slow``.
    free_tables : bool
        The ROMs' contents are free inputs (:class:`~.sby.FormalPlatform`): the property
        is proved for every table, codebook and weight content.
    solver : str
        smtbmc's solver (:data:`~.sby.SOLVERS`): Yices for the engines' conservation and
        frame checks, where z3 took minutes or did not finish.
    """
    name: str
    block: str
    prop: str
    mode: str
    depth: int | Callable[[], int]
    build: Callable
    slow: bool = False
    free_tables: bool = False
    solver: str = "z3"


def tiny_network(kind: str, seed: int = 1):
    """A NetworkDesign of a 2x2 image of 4-bit pixels -> flatten -> linear (4 -> 3, or
    4 -> 4 for a DeBut chain) of transform ``kind`` -> argmax, random weights (PECAN:
    2 groups of 2, 2 prototypes, 4-bit tables; PECAN-A: 4-bit codebooks, an 8-entry
    4-bit exp table, a 6-bit reciprocal)."""
    from edgeforge.hw.network.design import NetworkDesign
    from edgeforge.schemes.network import random_artifact, with_transform
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    layer = {"kind": "linear", "transform": "dense", "in_features": 4, "out_features": 3,
             "weight_bits": 4, "bias_bits": 8, "shift": 0, "out_bits": 4}
    if kind in ("pecan-d", "pecan-a"):
        layer = {**with_transform(layer, kind), "groups": 2, "group_size": 2,
                 "prototypes": 2, "table_bits": 4}
    if kind == "pecan-a":
        layer.update(codebook_bits=4, exp_bits=4, exp_entries=8, recip_bits=6)
    elif kind == "debut":
        from edgeforge.models.debut.chain import search_chain
        factors = [list(f.as_tuple()) for f in search_chain(4, 4, 1).factors]
        layer = {**layer, "out_features": 4, "transform": "debut", "factors": factors,
                 "shifts": [0] * (len(factors) - 1), "mid_bits": 6}
    config = {"input": {"channels": 1, "height": 2, "width": 2, "bits": 4},
              "layers": [{"kind": "flatten"}, layer, {"kind": "argmax"}]}
    return NetworkDesign(random_artifact(config, seed=seed))


def network_bounds(design) -> tuple[int, int, int]:
    """``(input beats an image, response bound, BMC depth)`` of a network design's progress
    check, from its cycle model: an image's output comes ``latency - beats`` cycles after
    its last beat, and the next one an interval later; the depth reaches past the first
    output's deadline, so a lost beat shows."""
    perf = design.cycle_model()
    beats = perf.detail["input_beats_per_image"]
    response = max(perf.latency_cycles - beats, int(perf.cycles_per_input)) + 1
    return beats, response, beats + response + 2


def network_frame(design, images: int = 3):
    """``(input beats, beats an image, deadlines, BMC depth)`` of a network design's frame
    check: ``images`` images back to back from reset, a sink always ready; output ``k``
    transfers in the cycle model's ``output_starts[k]`` (``Performance.schedule``), so
    ``k + 1`` outputs by the cycle after it."""
    perf = design.cycle_model()
    beats = perf.detail["input_beats_per_image"]
    run = perf.schedule([beats] * images)
    outs = int(perf.outputs_per_input)
    deadlines = tuple(((k + 1) * outs, start + 1) for k, start in enumerate(run.output_starts))
    return beats * images, beats, deadlines, run.last_output + 3


def _network_frame(kind: str):
    def build():
        from .streams import StreamHarness
        design = tiny_network(kind)
        total, beats, deadlines, _ = network_frame(design)
        outs = int(design.cycle_model().outputs_per_input)
        return StreamHarness(design.build(), ratio=(beats, outs), frame=total,
                             deadlines=deadlines, payloads=False)
    return build


def _stream(dut_fn, **kw):
    from .streams import StreamHarness

    def build():
        dut = dut_fn()
        return StreamHarness(dut, **kw)
    return build


def _skid_invariant(dut):
    return [(dut.fill <= 2, "skid fill above 2")]


def _network_rules(kind):
    return _stream(lambda: tiny_network(kind).build())


def _network_conservation(kind, response: bool):
    def build():
        from .streams import StreamHarness
        design = tiny_network(kind)
        beats, bound, _ = network_bounds(design)
        outs = int(design.cycle_model().outputs_per_input)
        return StreamHarness(design.build(), ratio=(beats, outs),
                             response=bound if response else None)
    return build


def _tiny_config(kind: str):
    """The config of the tiny engine of ``kind`` (``srlut``: SR-LUT-F x2; ``bicubic``: x2;
    ``hklut``: HKLUT-S, x2 x2), each on a 3x3 frame, one HR pixel a beat."""
    if kind == "srlut":
        from edgeforge.schemes.srlut import SRLUTConfig
        return SRLUTConfig(kernels="f", stages=(2,))
    if kind == "bicubic":
        from edgeforge.schemes.bicubic import BicubicConfig
        return BicubicConfig(scale=2)
    from edgeforge.schemes.hklut import HKLUTConfig
    return HKLUTConfig()


def _hklut_engine():
    import numpy as np
    from edgeforge.hw.hklut.engine import HKLUTEngine
    config = _tiny_config("hklut")
    rng = np.random.default_rng(0)
    tables = {name: rng.integers(-128, 128, size=(k.entries, r, r)).astype(np.int8)
              for name, _, _, k, r in config.tables()}
    return HKLUTEngine(tables, config, width=3, height=3)


def _srlut_engine(table: str = "onchip"):
    """SR-LUT's engine on its smallest frame, 3x3, with the table on chip (a ROM: free
    under ``free_tables``) or outside (its read port), one HR pixel a beat."""
    import numpy as np
    from edgeforge.hw.srlut.engine import SRLUTEngine
    from edgeforge.schemes.srlut import table_name
    config = _tiny_config("srlut")
    r = config.stages[0]
    words = np.random.default_rng(0).integers(-128, 128, size=(config.entries, r, r))
    return SRLUTEngine({table_name(0, config.kernels): words.astype(np.int8)}, config,
                       width=3, height=3, table=table)


def _srlut_external():
    """The SR-LUT engine with its table outside, behind :class:`~.memory.FreeMemory` (any
    latency, any stall), under the in-flight invariant; the readout's request counters
    tied to the memory's outstanding count."""
    from amaranth import Mux
    from .inflight import Blocks, Held, engine_in_flight
    from .memory import FreeMemory
    from .streams import StreamHarness
    engine = _srlut_engine("external")
    reads = engine.reads_per_anchor

    def in_flight(fragment, wrapper):
        eng = Blocks(fragment).sub("engine")
        held, units = engine_in_flight("srlut")(eng.fragment, wrapper.engine)
        issued, got, busy = eng.reg("issued"), eng.reg("got"), eng.reg("busy")
        facts = [(issued <= reads, f"readout: issued <= {reads}"),
                 (got <= issued, "readout: got <= issued"),
                 (wrapper.outstanding == Mux(busy, issued - got, 0),
                  "memory outstanding == the readout's requests less its answers")]
        return held + Held(0, facts), units

    return StreamHarness(FreeMemory(engine, reads), in_flight=in_flight)


def _bicubic_engine():
    """The bicubic engine on its smallest frame, 3x3, one HR pixel a beat."""
    from edgeforge.hw.bicubic.engine import BicubicEngine
    return BicubicEngine(_tiny_config("bicubic"), width=3, height=3)


#: The engines checked on one frame, by kind: their builders.
ENGINES = {"srlut": _srlut_engine, "bicubic": _bicubic_engine, "hklut": _hklut_engine}


def engine_frame(kind: str, stall: int = 0) -> tuple[int, int, tuple[tuple[int, int], ...],
                                                    int]:
    """``(input beats, output beats per input beat, deadlines, BMC depth)`` of the frame
    check of the tiny engine of ``kind``, from its cycle model (``edgeforge.sim.cycles``):
    a 3x3 frame's first output comes in cycle ``first`` and its last in ``last``, counted
    from the first input transfer, which is cycle 0 out of reset with a source that offers
    every cycle; so 1 output by ``first + 1`` and all ``N = 9 r^2`` by ``last + 1``. A sink
    that stalls up to ``stall`` cycles running may hold each output back that long, and
    the rest with it: 1 output by ``first + 1 + stall``, all by ``last + 1 + N stall``."""
    from edgeforge.sim.cycles import hklut as hklut_cycles
    if kind not in ENGINES:
        raise ValueError(f"kind must be one of {tuple(ENGINES)}, got {kind!r}")
    config = _tiny_config(kind)
    if kind == "srlut":
        from edgeforge.sim.cycles.srlut import predict
        model = predict(config, width=3, height=3, latency=1, offchip_table=False)
        first, last = model.output_start(0), model.last_output(1)
    elif kind == "bicubic":
        from edgeforge.sim.cycles.bicubic import predict
        model = predict(config, width=3, height=3)
        times = hklut_cycles.timeline((model.stage,), 1, pipeline_depth=model.pipeline_depth)
        first, last = times["first_output"], times["last_output"]
    else:
        model = hklut_cycles.predict(config, width=3, height=3,
                                     reads_per_table=(1,) * len(config.stages))
        times = hklut_cycles.timeline(model.stages, 1)
        first, last = times["first_output"], times["last_output"]
    per_beat = config.scale ** 2          # one HR pixel a beat
    total = 9 * per_beat
    return (9, per_beat, ((1, first + 1 + stall), (total, last + 1 + total * stall)),
            last + 3 + total * stall)


def _engine_frame(kind: str, stall: int = 0):
    """One frame through the tiny engine's control (payloads out of the assertions, so the
    datapath is dropped): outputs never outnumber the inputs' entitlement and come by the
    cycle model's deadlines (:func:`engine_frame`)."""
    def harness():
        from .streams import StreamHarness
        beats, per_beat, deadlines, _ = engine_frame(kind, stall)
        return StreamHarness(ENGINES[kind](), ratio=(1, per_beat), frame=beats,
                             deadlines=deadlines, payloads=False, stall=stall)
    return harness


def _engine_rules(build):
    def harness():
        from .streams import StreamHarness
        return StreamHarness(build())
    return harness


def _engine_in_flight(kind: str, build):
    """The engine under the in-flight invariant (:mod:`.inflight`): beat conservation by
    k-induction, for ever, any valid/ready."""
    def harness():
        from .inflight import engine_in_flight
        from .streams import StreamHarness
        return StreamHarness(build(), in_flight=engine_in_flight(kind))
    return harness


def _argmin(n: int, bits: int):
    def build():
        from amaranth import unsigned
        from edgeforge.hw.network.cam import argmin_tree
        from .equivalence import Equivalence, argmin_scan
        return Equivalence([unsigned(bits)] * n, lambda *v: argmin_tree(list(v))[::-1],
                           lambda *v: argmin_scan(list(v))[::-1],
                           message="arg-min tree != first minimum")
    return build


def _requant(acc_bits: int, shift: int, clip):
    def build():
        from amaranth import signed
        from edgeforge.hw.network.requant import requantise
        from .equivalence import Equivalence, requantise_ref
        return Equivalence([signed(acc_bits)], lambda a: requantise(a, shift, *clip),
                           lambda a: requantise_ref(a, shift, *clip),
                           message="requantise != golden requantise")
    return build


def _hklut_clamp():
    from amaranth import signed
    from edgeforge.hw.hklut.combine import clamp_n
    from edgeforge.schemes.hklut import HKLUTConfig
    from .equivalence import Equivalence, clamp_ref
    w = HKLUTConfig().widths()
    return Equivalence([signed(w.n_sum_bits)], lambda t: clamp_n(w, t),
                       lambda t: clamp_ref(t, w.n_max), message="clamp_n != clip(N, 0, n_max)")


def _hklut_round():
    from amaranth import unsigned
    from edgeforge.hw.hklut.combine import pixel_layout, round_half_even
    from edgeforge.schemes.hklut import HKLUTConfig
    from .equivalence import Equivalence, round_half_even_ref
    w = HKLUTConfig().widths()
    layout = pixel_layout(w)
    q_bits, rem_bits = (layout.members["q"].width, layout.members["rem"].width)
    return Equivalence([unsigned(q_bits), unsigned(rem_bits)],
                       lambda q, r: round_half_even(q, r, w.denom),
                       lambda q, r: round_half_even_ref(q, r, w.denom),
                       assume=lambda q, r: (r < w.denom) & (q * w.denom + r <= w.n_max),
                       message="round_half_even != round-half-to-even(N / D)")


def _skid_fifo():
    from amaranth.lib.fifo import SyncFIFO
    from amaranth.lib import stream, wiring
    from amaranth.lib.wiring import In, Out
    from edgeforge.hw.network.reshape import Skid
    from .equivalence import Lockstep

    class FifoStream(wiring.Component):
        """Amaranth's SyncFIFO (proved by Amaranth's own model check) behind stream ports."""
        def __init__(self, width, depth):
            self.width, self.depth = width, depth
            super().__init__({"i": In(stream.Signature(width)), "o": Out(stream.Signature(width))})

        def elaborate(self, platform):
            from amaranth import Module
            m = Module()
            m.submodules.fifo = fifo = SyncFIFO(width=self.width, depth=self.depth)
            m.d.comb += [fifo.w_data.eq(self.i.payload), fifo.w_en.eq(self.i.valid),
                         self.i.ready.eq(fifo.w_rdy), self.o.payload.eq(fifo.r_data),
                         self.o.valid.eq(fifo.r_rdy), fifo.r_en.eq(self.o.ready)]
            return m

    return Lockstep(Skid(4), FifoStream(4, 2))


def _checks() -> list[Check]:
    from amaranth import signed, unsigned
    from edgeforge.hw.network.cam import ArgMin
    from edgeforge.hw.network.requant import Requant
    from edgeforge.hw.network.reshape import Gather, Serialise, Skid
    checks = [
        Check("skid.rules", "Skid (2-entry buffer)", "stream rules", "prove", 2,
              _stream(lambda: Skid(4), invariants=_skid_invariant)),
        Check("gather.rules", "Gather (3 beats -> 1)", "stream rules", "prove", 2,
              _stream(lambda: Gather(unsigned(2), 1, 3))),
        Check("serialise.rules", "Serialise (1 beat -> 3)", "stream rules", "prove", 2,
              _stream(lambda: Serialise(unsigned(2), 1, 3))),
        Check("requant.rules", "Requant (2 lanes)", "stream rules", "prove", 2,
              _stream(lambda: Requant(8, 2, 2, (0, 15), unsigned(4)))),
        Check("argmin.rules", "CAM ArgMin (5 values)", "stream rules", "prove", 2,
              _stream(lambda: ArgMin(3, 5))),
        Check("skid.count", "Skid", "beat conservation + progress", "bmc", 12,
              _stream(lambda: Skid(4), ratio=(1, 1), response=2, stall=2)),
        Check("gather.count", "Gather (3 beats -> 1)", "beat conservation + progress", "bmc", 12,
              _stream(lambda: Gather(unsigned(2), 1, 3), ratio=(3, 1), response=2, stall=1)),
        Check("serialise.count", "Serialise (1 beat -> 3)", "beat conservation + progress",
              "bmc", 12, _stream(lambda: Serialise(unsigned(2), 1, 3), ratio=(1, 3), response=2,
                                 stall=1)),
        Check("argmin.tree", "CAM arg-min tree (5 x 4-bit)", "equivalence", "prove", 1,
              _argmin(5, 4)),
        Check("argmin.tree8", "CAM arg-min tree (8 x 6-bit)", "equivalence", "prove", 1,
              _argmin(8, 6)),
        Check("requant.relu", "requantise (16-bit acc, shift 5, relu clip 0..255)", "equivalence",
              "prove", 1, _requant(16, 5, (0, 255))),
        Check("requant.signed", "requantise (12-bit acc, shift 1, clip -8..7)", "equivalence",
              "prove", 1, _requant(12, 1, (-8, 7))),
        Check("requant.shift0", "requantise (10-bit acc, shift 0, clip -128..127)", "equivalence",
              "prove", 1, _requant(10, 0, (-128, 127))),
        *(Check(f"cam.core{g}{p}", f"CAM core (tiny pecan-d, {g} group(s) x {p} "
                f"prototype(s) a cycle) vs first-minimum match + table sum, every input vector",
                "equivalence (stream)", "bmc", lambda g=g, p=p: cam_deadline((g, p)) + 1,
                lambda g=g, p=p: cam_core((g, p)),
                slow=(g, p) != (1, 1)) for g, p in ((1, 1), (1, 2), (2, 2))),
        Check("hklut.clamp", "HKLUT-S stage clamp (clamp_n)", "equivalence", "prove", 1,
              _hklut_clamp),
        Check("hklut.round", "HKLUT-S final rounding (round_half_even)", "equivalence", "prove",
              1, _hklut_round),
        # Lockstep by BMC: k-induction would need the Skid's spare register tied to the
        # FIFO's second entry, which neither exposes.
        Check("skid.fifo", "Skid vs Amaranth SyncFIFO(depth=2)", "equivalence (lockstep)", "bmc",
              12, _skid_fifo, slow=True),
    ]
    for kind in KINDS:
        checks.append(Check(f"network.{kind}.rules", f"network engine, tiny {kind}",
                            "stream rules", "prove", 2, _network_rules(kind),
                            free_tables=True))
    checks.append(Check("network.pecan-d.count", "network engine, tiny pecan-d",
                        "beat conservation", "bmc", 24,
                        _network_conservation("pecan-d", response=False), free_tables=True))
    for kind in KINDS:
        checks.append(Check(f"network.{kind}.progress", f"network engine, tiny {kind}",
                            "beat conservation + progress", "bmc",
                            lambda kind=kind: network_bounds(tiny_network(kind))[2],
                            _network_conservation(kind, response=True),
                            slow=kind != "pecan-d", free_tables=True))
    for kind in KINDS:
        checks.append(Check(f"network.{kind}.frame", f"network engine, tiny {kind}, 3 images "
                            "from reset, control only", "frame on time", "bmc",
                            lambda kind=kind: network_frame(tiny_network(kind))[3],
                            _network_frame(kind), free_tables=True, solver="yices"))
    for kind in ("dense", "pecan-a", "debut"):
        checks.append(Check(f"network.{kind}.count", f"network engine, tiny {kind}",
                            "beat conservation", "bmc", 24,
                            _network_conservation(kind, response=False), slow=True,
                            free_tables=True))
    checks.append(Check("hklut.rules", "HKLUT-S engine, 3x3 frame", "stream rules", "prove", 2,
                        _engine_rules(_hklut_engine), free_tables=True))
    checks += [
        Check("srlut.rules", "SR-LUT-F x2 engine, 3x3 frame, on-chip table free",
              "stream rules", "prove", 2, _engine_rules(_srlut_engine), free_tables=True),
        Check("bicubic.rules", "bicubic x2 engine, 3x3 frame", "stream rules", "prove", 2,
              _engine_rules(_bicubic_engine)),
        Check("srlut.count", "SR-LUT-F x2 engine, 3x3 frame, on-chip table free",
              "beat conservation (in flight)", "prove", 2,
              _engine_in_flight("srlut", _srlut_engine), free_tables=True, solver="yices"),
        Check("bicubic.count", "bicubic x2 engine, 3x3 frame", "beat conservation (in flight)",
              "prove", 2, _engine_in_flight("bicubic", _bicubic_engine), slow=True,
              solver="yices"),
        Check("srlut.external", "SR-LUT-F x2 engine, 3x3 frame, table outside behind a memory "
              "of any latency and stall, its words free", "stream rules + beat conservation "
              "(in flight)", "prove", 2, _srlut_external, slow=True, solver="yices"),
        Check("hklut.count", "HKLUT-S engine, 3x3 frame, its 10 tables free",
              "beat conservation (in flight)", "prove", 2,
              _engine_in_flight("hklut", _hklut_engine), slow=True, free_tables=True,
              solver="yices"),
    ]
    for kind, block in (("srlut", "SR-LUT-F x2 engine"), ("bicubic", "bicubic x2 engine"),
                        ("hklut", "HKLUT-S engine")):
        checks.append(Check(f"{kind}.frame", f"{block}, one 3x3 frame, control only",
                            "frame on time", "bmc", lambda kind=kind: engine_frame(kind)[3],
                            _engine_frame(kind), slow=True, free_tables=kind != "bicubic",
                            solver="yices"))
    for kind, block in (("srlut", "SR-LUT-F x2 engine"), ("bicubic", "bicubic x2 engine")):
        checks.append(Check(f"{kind}.stall", f"{block}, one 3x3 frame, a sink stalled up to "
                            "1 cycle running, control only", "frame on time", "bmc",
                            lambda kind=kind: engine_frame(kind, 1)[3], _engine_frame(kind, 1),
                            slow=True, free_tables=kind != "bicubic", solver="yices"))
    return checks


def check_depth(check: Check) -> int:
    """The check's depth: given, or derived (a network progress check's from the design's
    cycle model, a CAM core's from its folds and pipeline depth)."""
    return check.depth() if callable(check.depth) else check.depth


def find_checks(names=None, slow: bool = True) -> list[Check]:
    """The checks named (or matching a ``prefix.``), or all of them (without the slow ones
    unless ``slow``)."""
    checks = all_checks()
    if not names:
        return [c for c in checks if slow or not c.slow]
    out = []
    for name in names:
        found = [c for c in checks if c.name == name or c.name.startswith(name + ".")]
        if not found:
            raise ValueError(f"check must be one of {[c.name for c in checks]}, got {name!r}")
        out += [c for c in found if c not in out]
    return out


def all_checks() -> list[Check]:
    """Every check, in the README table's order (harnesses are built only when run: the
    engines' imports are heavy)."""
    return _checks()


def run_check(check: Check, workdir, timeout: int | None = None) -> FormalResult:
    """Build ``check``'s harness and run it in ``workdir``."""
    harness = check.build()
    return run_sby(harness, harness.ports, check.name, Path(workdir), mode=check.mode,
                   depth=check_depth(check), timeout=timeout, free_tables=check.free_tables,
                   solver=check.solver)


def cam_core(folding: tuple[int, int], ties: str = "lowest"):
    """The CAM core of the tiny PECAN-D network at ``(groups, prototypes)`` a cycle in its
    :class:`~.equivalence.StreamFunction` harness against :func:`~.equivalence.cam_ref`
    (codebook, tables and bias the artifact's, group 0's two prototypes tied; the input
    vector free). ``ties="highest"`` makes the reference take the last minimum: a check
    that must fail."""
    from amaranth import signed
    from edgeforge.hw.network.cam import CamCore
    from edgeforge.hw.network.pipeline import stream_shape
    from edgeforge.hw.network.vectors import view
    from .equivalence import StreamFunction, cam_ref
    design = tiny_network("pecan-d")
    stage = next(s for s in design.plan.stages if s.kind == "core")
    layer = design.network.layers[stage.layer]
    x_shape = stream_shape(stage.inp)
    core = CamCore.for_layer(design.network, design.artifact.arrays, layer, design.widths,
                             x_shape, *folding)
    n = core.groups * core.d

    def reference(payload):
        elems = view(payload, x_shape, n)
        return cam_ref([elems[k] for k in core.order], core.codebook, core.table, core.bias,
                       ties)

    def elements(payload):
        acc = view(payload, signed(core.acc_bits), core.outputs)
        return [acc[o] for o in range(core.outputs)]

    return StreamFunction(core, reference, elements, cam_deadline(folding))


def cam_deadline(folding: tuple[int, int]) -> int:
    """The cycle by which the tiny PECAN-D CAM core at ``folding`` gives its first beat: the
    vector is taken in cycle 0, walks its folds, then the core's pipeline depth."""
    from edgeforge.hw.network.cam import CamCore
    design = tiny_network("pecan-d")
    stage = next(s for s in design.plan.stages if s.kind == "core")
    fields = design.network.layers[stage.layer].fields
    folds = (fields["groups"] // folding[0]) * (fields["prototypes"] // folding[1])
    return folds + CamCore.depth({"folds": folds}) + 1
