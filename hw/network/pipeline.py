"""The network pipeline: the blocks of a :class:`~.plan.Plan`, joined by streams.

``elaborate`` builds one block per plan stage, named as the plan names it
(``l3_window``, ``l3_core``, ...), and connects each block's ``o`` to the
next one's ``i``. A conv2d / linear layer's core is the one its transform
kind names (:data:`edgeforge.schemes.network.TRANSFORMS`), built by the core's
``for_layer``.
"""

from __future__ import annotations

from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from edgeforge.schemes.network import resolve

from ..logic import refuse_quietly
from .argmax import ArgMax, NarrowArgMax
from .plan import Plan, Stream
from .pool import MaxPool, NarrowPool
from .requant import Requant
from .reshape import Gather, Serialise, Skid
from .vectors import elem_shape, vector_signature
from .window import NarrowWindow, Window

__all__ = ["stream_shape", "traffic_line", "NetworkPipeline"]


def stream_shape(s: Stream):
    """The element shape of a plan stream."""
    return elem_shape(s.bits, s.signed)


def traffic_line(path: tuple[str, ...]) -> str:
    """The traffic line of a memory at submodule ``path``: ``<stage>.rows`` for a window
    generator's row memories, ``<stage>.<memory>`` for a core's ROMs (``weights`` /
    ``biases``, ``codebook`` / ``table<lane>``) and a narrow core's input buffer
    (``inbuf``) or a narrow pool's column memory (``cols``): what
    :func:`edgeforge.sim.cycles.network.traffic` names."""
    stage, part = path[0], path[1]
    return f"{stage}.rows" if part.startswith("row") else f"{stage}.{part}"


def _core_class(layer, stage):
    narrow = stage.params.get("datapath") == "narrow"
    return resolve(layer.transform.narrow_core if narrow else layer.transform.core)


class NetworkPipeline(wiring.Component):
    """The dataflow pipeline of ``plan`` over a network's layers.

    Parameters
    ----------
    network : Network
    arrays : mapping of str to numpy.ndarray
        The artifact's weights and biases.
    widths : NetworkWidths
    plan : Plan
    buffer_ram : str
        Memory kind of the window generators' row memories (and the narrow pools' column
        memories).

    Members
    -------
    i : In(vector_signature(plan.inp))
        The first block's input (the image pixels for layer 0).
    o : Out(vector_signature(plan.out))
        The last block's output (the class beat after argmax).
    """

    @refuse_quietly
    def __init__(self, network, arrays, widths, plan: Plan, buffer_ram: str = "auto"):
        self.network, self.arrays, self.widths, self.plan = network, arrays, widths, plan
        self.buffer_ram = buffer_ram
        super().__init__({"i": In(vector_signature(stream_shape(plan.inp), plan.inp.lanes)),
                          "o": Out(vector_signature(stream_shape(plan.out), plan.out.lanes))})

    def block(self, stage):
        """The component of one plan stage."""
        p, shape_in = stage.params, stream_shape(stage.inp)
        if stage.kind == "serialise":
            return Serialise(shape_in, stage.out.lanes, p["count"])
        if stage.kind == "window":
            return Window(shape_in, p["channels"], p["height"], p["width"], p["kernel"],
                          p["padding"], self.buffer_ram)
        if stage.kind == "narrow_window":
            return NarrowWindow(shape_in, p["channels"], p["height"], p["width"], p["kernel"],
                                p["padding"], p["lanes"], self.buffer_ram)
        if stage.kind == "narrow_pool":
            return NarrowPool(shape_in, p["channels"], p["width"], p["size"], p["lanes"],
                              self.buffer_ram)
        if stage.kind == "narrow_argmax":
            return NarrowArgMax(shape_in, p["n"], p["lanes"])
        if stage.kind == "skid":
            return Skid(stage.inp.bits * stage.inp.lanes)
        if stage.kind == "gather":
            return Gather(shape_in, stage.inp.lanes, p["beats"])
        if stage.kind == "core":
            layer = self.network.layers[stage.layer]
            return _core_class(layer, stage).for_layer(self.network, self.arrays, layer, self.widths,
                                                shape_in, *self.plan.folding[stage.layer])
        if stage.kind == "requant":
            return Requant(stage.inp.bits, p["lanes"], p["shift"], p["clip"],
                           stream_shape(stage.out))
        if stage.kind == "pool":
            return MaxPool(shape_in, p["channels"], p["width"], p["size"])
        if stage.kind == "argmax":
            return ArgMax(shape_in, p["n"], p["logit_bits"])
        raise ValueError(f"stage kind must be a known block, got {stage.kind!r}")

    def elaborate(self, platform):
        m = Module()
        blocks = []
        for stage in self.plan.stages:
            block = self.block(stage)
            m.submodules[stage.name] = block
            blocks.append(block)
        wiring.connect(m, source=wiring.flipped(self.i), sink=blocks[0].i)
        for up, down in zip(blocks, blocks[1:]):
            wiring.connect(m, source=up.o, sink=down.i)
        wiring.connect(m, source=blocks[-1].o, sink=wiring.flipped(self.o))
        return m
