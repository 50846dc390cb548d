"""``NetworkDesign``: a network artifact plus a hardware config, as one
:class:`~edgeforge.design.Design`.

Hardware config:

- ``folding``: ``"folded"`` (PE = SIMD = 1 everywhere), ``"parallel"`` (every
  conv2d / linear fully parallel), ``"balanced"`` (the fewest MACs a cycle at the
  fully parallel interval, :func:`~.plan.balanced_folding`) or a list of
  ``(PE, SIMD)``, one per conv2d / linear layer in order
  (:func:`~.plan.resolve_folding`);
- ``pixels_per_beat``: input pixels a beat (a divisor of the image's pixels,
  up to the whole image). A network whose first layer is a linear (after
  flatten) takes a beat a cycle, so 8 pixels a beat make an 8x8 image 8 cycles;
  a first conv2d or maxpool takes a pixel a cycle whatever the beat holds (a
  serialiser splits the beat);
- ``logits``: the output beat carries the logits above the class;
- ``layer``: generate one conv2d, linear or maxpool layer alone (its input and
  output streams as the pipeline carries them), for per-layer benchmarks;
- ``buffer_ram``: memory kind of the window generators' row memories (and the narrow
  pools' column memories);
- ``datapath``: ``"wide"`` (whole pixels and vectors between blocks) or ``"narrow"``
  (FINN-style: each dense layer fed ``SIMD`` inputs a beat, its window as beats of taps read
  from one row memory, its ``PE`` outputs a beat passed on channel by channel, pools and
  arg-max on those narrow streams with memories for their state:
  :func:`~.plan.plan_pipeline`); other transform kinds keep whole-vector inputs. By default
  narrow for folding ``"folded"`` (the fully folded digits-ref: 780 instead of 7,592 iCE40
  LUT4, the same cycles), else wide;
- ``axis``: AXI4-Stream packet ports (``s_axis_*`` / ``m_axis_*``,
  :class:`~edgeforge.hw.axis_video.AXISVideo` with :data:`~edgeforge.hw.axis_video.AXIS_PACKETS`)
  instead of ``i``/``o``: ``tlast`` expected on the last beat of each image in, given on
  each result out (and on the last beat of each layer output for a single layer);
- ``target_cycles``: instead of a folding, the most cycles an image may take; the design
  takes the cheapest folding that meets it (:func:`~.plan.target_folding`: per layer, the
  ``(PE, SIMD)`` of least estimated LUT4 within the target) and refuses a target below
  the fastest the pipeline goes, naming that figure.
"""

from __future__ import annotations

from functools import cached_property
from typing import Sequence

import numpy as np

from edgeforge.design import Design
from edgeforge.schemes.network import derive_widths, parse_network
from edgeforge.sim.cycles.network import NetworkCycles, performance, predict
from edgeforge.sim.cycles.record import Performance
from edgeforge.sim.golden.network import forward, run_layer

from ..axis_video import AXIS_PACKETS, AXISVideo
from ..logic import check_buffer_ram
from ..stream_beats import pack_beats
from .argmax import class_bits
from .pipeline import NetworkPipeline
from .plan import check_pixels_per_beat, input_order, plan_pipeline, target_folding

__all__ = ["LAYER_KINDS", "pack_vectors", "NetworkDesign"]

#: Layer kinds that can be generated alone.
LAYER_KINDS = ("conv2d", "linear", "maxpool")


def pack_vectors(values: np.ndarray, bits: int) -> np.ndarray:
    """uint8 ``(beats, bytes)`` little-endian payloads of integer ``values`` ``(beats, lanes)``:
    element ``k`` (two's complement, ``bits`` wide) at bits ``[bits k + bits - 1 : bits k]``."""
    values = np.asarray(values, np.int64)
    mask = (1 << bits) - 1
    words = [sum((int(v) & mask) << (bits * k) for k, v in enumerate(row)) for row in values]
    # As Python integers: a list of them above 2**63 would become float64 in NumPy.
    return pack_beats(np.array(words, dtype=object), bits * values.shape[1])


class NetworkDesign(Design):
    """The dataflow pipeline of a network artifact (or of one of its layers).

    Parameters
    ----------
    artifact : Artifact
        Scheme ``"network"``; a whole-network design needs it to end in argmax.
    folding : str or list of (int, int)
    pixels_per_beat : int
    logits : bool
    layer : int or None
        Index of a conv2d, linear or maxpool layer to generate alone.
    buffer_ram : str
    datapath : {"wide", "narrow"} or None
        None: narrow for folding ``"folded"``, else wide.
    axis : bool
        AXI4-Stream packet ports around the pipeline (``verify`` needs it False).
    target_cycles : int or None
        Cycles an image at most; the folding is chosen to meet it (give it or
        ``folding``, not both).

    Streams (see :meth:`describe`): ``i`` takes ``pixels_per_beat`` uint8 pixels a
    beat in raster order, channel ``c`` of pixel ``k`` at bits ``8 (k C + c)``;
    ``o`` gives one beat per image, the class index in the low bits and, with
    ``logits``, logit ``j`` (signed ``out_bits``) above it.

    Raises
    ------
    ValueError
        For a folding that does not divide a layer (naming the layer and value), a
        ``pixels_per_beat`` that does not divide the image, a ``layer`` that is not a
        conv2d / linear / maxpool index, a whole network that does not end in argmax.
    TypeError
        For a ``logits`` that is not a bool.
    """

    scheme = "network"

    def __init__(self, artifact, *, folding=None, pixels_per_beat: int = 1,
                 logits: bool = False, layer: int | None = None, buffer_ram: str = "auto",
                 target_cycles: int | None = None, axis: bool = False,
                 datapath: str | None = None):
        artifact = self.own(artifact)
        network = parse_network(artifact.config)
        if not isinstance(axis, bool):
            raise TypeError(f"axis must be a bool, got {axis!r}")
        if target_cycles is not None and folding is not None:
            raise ValueError(f"give folding or target_cycles, not both; got folding {folding!r} "
                             f"and target_cycles {target_cycles!r}")
        if not isinstance(logits, bool):
            raise TypeError(f"logits must be a bool, got {logits!r}")
        check_buffer_ram(buffer_ram)
        if layer is not None:
            kinds = {l.index: l.kind for l in network.layers if l.kind in LAYER_KINDS}
            if not isinstance(layer, int) or isinstance(layer, bool) or layer not in kinds:
                raise ValueError(f"layer must be the index of a conv2d, linear or maxpool layer "
                                 f"({sorted(kinds)}), got {layer!r}")
            if logits:
                raise ValueError("logits needs the whole network (layer=None), got layer "
                                 f"{layer!r}")
        elif network.layers[-1].kind != "argmax":
            raise ValueError(f"a whole-network design needs the network to end in argmax, got "
                             f"{network.layers[-1].kind!r}")
        if layer not in (None, 0) and pixels_per_beat != 1:
            raise ValueError(f"pixels_per_beat applies to the image input (layer None or 0), "
                             f"got {pixels_per_beat!r} for layer {layer!r}")
        self.network = network
        self.widths = derive_widths(network, artifact.arrays)
        span = (layer, layer) if layer is not None else None
        if target_cycles is not None:
            if layer is not None:
                raise ValueError(f"target_cycles needs the whole network (layer=None), got "
                                 f"layer {layer!r}")
            folding = target_folding(network, self.widths, target_cycles,
                                     check_pixels_per_beat(network, pixels_per_beat))
        elif folding is None:
            folding = "folded"
        if datapath is None:
            datapath = "narrow" if isinstance(folding, str) and folding == "folded" else "wide"
        self.plan = plan_pipeline(network, self.widths, folding, pixels_per_beat=pixels_per_beat,
                                  layers=span, logits=logits, datapath=datapath)
        self.folding = [list(self.plan.folding[i]) for i in sorted(self.plan.folding)]
        config = {"folding": self.folding, "pixels_per_beat": pixels_per_beat,
                  "logits": logits, "layer": layer, "buffer_ram": buffer_ram}
        if target_cycles is not None:
            interval = self._model.interval
            # Per-layer core cycles are what target_folding bounds; another stage (a window
            # generator's row pass) could still be slower.
            if interval > target_cycles:
                raise ValueError(f"target_cycles {target_cycles!r} is not met by any folding: "
                                 f"stage {self._model.bottleneck} takes {interval}")
            config["target_cycles"] = target_cycles
        if axis:
            # Only when set: the hashes of i/o designs stay as they were.
            config["axis"] = True
        if datapath != "wide":
            config["datapath"] = datapath
        super().__init__(artifact, config)
        self.target_cycles, self.axis = target_cycles, axis
        self.pixels_per_beat, self.logits, self.layer = pixels_per_beat, logits, layer
        self.buffer_ram, self.datapath = buffer_ram, datapath

    @property
    def slug(self) -> str:
        fold = "-".join("x".join(str(v) for v in f) for f in self.folding)
        extra = ("_logits" if self.logits else "") + (f"_layer{self.layer}"
                                                      if self.layer is not None else "")
        ram = "" if self.buffer_ram == "auto" else f"_{self.buffer_ram}ram"
        narrow = "" if self.datapath == "wide" else f"_{self.datapath}"
        return (f"f{fold}_p{self.pixels_per_beat}{extra}{ram}{narrow}"
                f"{'_axis' if self.axis else ''}")

    def axis_geometry(self) -> dict:
        """:class:`~edgeforge.hw.axis_video.AXISVideo` counts: an image (or layer input) is one
        packet in, its result one packet out."""
        return {"in_beats_per_line": self.plan.inp.beats, "in_lines": 1,
                "out_beats_per_line": self.plan.out.beats, "out_lines": 1}

    def build(self) -> NetworkPipeline | AXISVideo:
        pipeline = NetworkPipeline(self.network, self.artifact.arrays, self.widths, self.plan,
                                   self.buffer_ram)
        if self.axis:
            return AXISVideo(pipeline, **self.axis_geometry(), prefixes=AXIS_PACKETS)
        return pipeline

    def verify(self, inputs=None, **kwargs):
        if self.axis:
            raise ValueError("verify drives the i/o stream ports, so it needs axis=False, got True")
        return super().verify(inputs, **kwargs)

    # -- data ----------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.network.layers[self.plan.first].in_shape

    def _check_input(self, x) -> np.ndarray:
        shape = self.input_shape
        if self.plan.first == 0:
            ok = isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.shape == shape
            want = f"a uint8 array of shape {shape!r}"
        else:
            lo, hi = self.widths.layers[self.plan.first].in_range
            ok = (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.integer)
                  and x.shape == shape and (x.size == 0 or lo <= x.min() and x.max() <= hi))
            want = f"an integer array of shape {shape!r} in {lo}..{hi}"
        if not ok:
            got = (x.dtype, x.shape) if isinstance(x, np.ndarray) else type(x).__name__
            raise ValueError(f"input must be {want}, got {got!r}")
        return x

    def _stream_order(self, x: np.ndarray, index: int) -> np.ndarray:
        """``x`` (the input of layer ``index``, network layout) as the stream carries it: maps
        as pixels in raster order with channels together, vectors after flatten likewise."""
        if x.ndim == 3:
            return x.transpose(1, 2, 0).reshape(-1)
        order = input_order(self.network, self.network.layers[index])
        return x if order is None else x[order]

    def golden(self, x: np.ndarray) -> np.ndarray:
        """Whole network: ``[class, *logits]``; one layer: that layer's output."""
        x = self._check_input(x)
        if self.layer is None:
            outs = forward(self.artifact, x[None])
            return np.concatenate([outs[-1], outs[-2][0]]).astype(np.int64)
        return run_layer(self.network, self.artifact.arrays, self.layer,
                         np.asarray(x, np.int64)[None])[0]

    def encode_inputs(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        s = self.plan.inp
        flat = np.concatenate([self._stream_order(np.asarray(self._check_input(x), np.int64),
                                                  self.plan.first) for x in xs])
        return pack_vectors(flat.reshape(-1, s.lanes), s.bits)

    def encode_outputs(self, ys: Sequence[np.ndarray]) -> np.ndarray:
        s = self.plan.out
        if self.layer is None:
            # Class in the low bits, then the logits (ArgMax's output_layout).
            cb = class_bits(self.network.layers[-1].in_shape[0])
            logit_bits = self.plan.stages[-1].params.get("logit_bits")
            words = []
            for y in ys:
                word = int(y[0])
                if logit_bits is not None:
                    mask = (1 << logit_bits) - 1
                    word |= sum((int(v) & mask) << (cb + logit_bits * j)
                                for j, v in enumerate(y[1:]))
                words.append(word)
            return pack_beats(np.array(words, dtype=object), s.bits)
        out = self.network.layers[self.layer].out_shape
        index = self.layer + 1
        flat = np.concatenate([self._stream_order(np.asarray(y, np.int64), index) if len(out) == 3
                               else np.asarray(y, np.int64) for y in ys])
        return pack_vectors(flat.reshape(-1, s.lanes), s.bits)

    def decode_outputs(self, beats: np.ndarray) -> dict[str, np.ndarray]:
        """Whole-network output beats back into ``classes`` (and ``logits`` with logits)."""
        if self.layer is not None:
            raise ValueError(f"decode_outputs reads whole-network beats, got layer {self.layer!r}")
        n = self.network.layers[-1].in_shape[0]
        cb = class_bits(n)
        words = [int.from_bytes(bytes(row), "little") for row in np.asarray(beats, np.uint8)]
        out = {"classes": np.array([w & ((1 << cb) - 1) for w in words], np.int64)}
        if self.logits:
            lb = self.plan.stages[-1].params["logit_bits"]
            out["logits"] = np.array([[((w >> (cb + lb * j)) & ((1 << lb) - 1))
                                       - (((w >> (cb + lb * j + lb - 1)) & 1) << lb)
                                       for j in range(n)] for w in words], np.int64)
        return out

    def test_inputs(self, seed: int = 0) -> list[np.ndarray]:
        """All-low and all-high inputs (0 and 255 for images), a checkerboard of the two,
        and seeded random ones."""
        shape = self.input_shape
        rng = np.random.default_rng(seed)
        if self.plan.first == 0:
            lo, hi, dtype = 0, (1 << self.network.bits) - 1, np.uint8
        else:
            (lo, hi), dtype = self.widths.layers[self.plan.first].in_range, np.int64
        checker = np.where(np.indices(shape).sum(axis=0) % 2, hi, lo).astype(dtype)
        return ([np.full(shape, lo, dtype), np.full(shape, hi, dtype), checker]
                + [rng.integers(lo, hi + 1, size=shape).astype(dtype) for _ in range(4)])

    # -- manifest --------------------------------------------------------------
    def describe(self) -> dict:
        s_in, s_out = self.plan.inp, self.plan.out
        if self.plan.first == 0:
            c = self.network.channels
            layout_in = (f"{self.pixels_per_beat} pixel(s) a beat, raster order; channel c of "
                         f"pixel k in bits [8(k*{c}+c)+7 : 8(k*{c}+c)]")
        else:
            layout_in = (f"{s_in.lanes} element(s) of {s_in.bits} bits "
                         f"({'signed' if s_in.signed else 'unsigned'}) a beat, element k at "
                         f"bits [{s_in.bits}k+{s_in.bits - 1} : {s_in.bits}k]; maps as pixels "
                         f"in raster order with their channels together")
        if self.layer is None:
            n = self.network.layers[-1].in_shape[0]
            cb = class_bits(n)
            layout_out = f"one beat per image: class index in bits [{cb - 1}:0]"
            if self.logits:
                lb = self.plan.stages[-1].params["logit_bits"]
                layout_out += (f"; logit j (signed {lb} bits) in bits "
                               f"[{cb}+{lb}j+{lb - 1} : {cb}+{lb}j]")
        else:
            layout_out = (f"{s_out.lanes} element(s) of {s_out.bits} bits "
                          f"({'signed' if s_out.signed else 'unsigned'}) a beat")
        streams = {"i": {"payload_bits": s_in.bits * s_in.lanes, "layout": layout_in},
                   "o": {"payload_bits": s_out.bits * s_out.lanes, "layout": layout_out}}
        if self.axis:
            g = self.axis_geometry()
            streams = {"s_axis": {**streams["i"], "beats_per_packet": g["in_beats_per_line"],
                                  "tlast": "expected on the last beat of each image",
                                  "frame_error": "sticky: set when an input beat's tlast differs "
                                                 "from the count; cleared by rst"},
                       "m_axis": {**streams["o"], "beats_per_packet": g["out_beats_per_line"],
                                  "tlast": "on the last beat of each result"}}
        return {"streams": streams,
                "widths": self.widths.to_dict(),
                "structure": {"stages": [{"name": st.name, "kind": st.kind, "layer": st.layer,
                                          "out_bits": st.out.bits, "out_lanes": st.out.lanes,
                                          "out_beats_per_image": st.out.beats}
                                         for st in self.plan.stages],
                              "folding": self.folding}}

    def cycles(self) -> NetworkCycles:
        """The cycle model of this config (``edgeforge.sim.cycles.network``)."""
        return self._model

    @cached_property
    def _model(self) -> NetworkCycles:
        return predict(self.plan)

    @cached_property
    def _performance(self) -> Performance:
        return performance(self.plan, "image" if self.plan.first == 0 else "layer input",
                           self._model)

    def cycle_model(self) -> Performance:
        """Cycles, latency, schedule and memory traffic per input (an image, or for a single
        layer its input map or vector)."""
        return self._performance
