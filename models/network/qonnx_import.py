"""QONNX models (as Brevitas exports them) -> network artifacts (scheme ``"network"``).

FINN and hls4ml users train quantised classifiers with Brevitas and export QONNX:
ONNX with ``Quant`` nodes that quantise weights, biases and activations. This
module walks such a graph along its one data path and writes the layer list of
:mod:`edgeforge.schemes.network`:

=======================  =====================================================
QONNX node(s)            becomes
=======================  =====================================================
``Quant`` on the input   ``input.bits`` (unsigned, zero point 0); the stream
                         carries ``round(x / scale)``
``Conv`` / ``Gemm`` /    ``conv2d`` / ``linear``: int weights from the weight
``MatMul`` (+ ``Add``)   ``Quant`` (``weight_bits`` its bit width, +1 if
                         unsigned), int bias on the accumulator's scale
``BatchNormalization``   folded into the preceding conv / linear (see below)
``Relu``                 ``relu``
``Quant`` after a layer  its ``shift = log2(out_scale / (in_scale w_scale))``,
                         ``out_bits`` (a signed ``b``-bit quant after a relu
                         is the unsigned ``b - 1``-bit one; an unsigned quant
                         with no ``Relu`` clips at 0 and is a relu)
``MaxPool``              ``maxpool`` (kernel = stride, no padding)
``Flatten`` / ``Reshape``  ``flatten`` (to ``(N, -1)``)
``Identity``/``Dropout``  nothing
``ArgMax`` at the end    ``argmax`` (added after the last linear anyway)
=======================  =====================================================

Exact and approximate imports. With power-of-two scales (or scales exactly
representable as one) and a bias quantised on the accumulator's scale (Brevitas'
``Int32Bias``), the artifact computes what QONNX computes, integer for integer,
except on exact rounding ties: QONNX's ``ROUND`` is half to even, the artifact's
requantisation half up (``HALF_UP`` is half away from zero; on negative ties it
differs too). Two things are approximated, and :func:`import_qonnx` records them
in ``provenance["approximations"]``:

- A ``BatchNormalization`` ``y = A acc + B`` (per channel) times the accumulator's
  scale over the output's is no power of two in general, so it is folded into
  the weights: ``w' = round(w m 2^S)``, ``b' = round((b m + B / out_scale) 2^S)``
  with ``m = A acc_scale / out_scale`` and ``S`` the largest shift whose
  ``w'`` fits ``fold_bits`` (8 by default, the widest the MAC array takes);
- float logits (no ``Quant`` after the last linear) become 8-bit logits with the
  smallest shift that holds the accumulator's range (arg-max may then differ from
  QONNX's on near ties).

Anything else is refused with a :class:`QONNXImportError` naming the node: other
node types, a ``Quant`` with a scale that is no power of two, a non-zero zero
point, a per-channel scale that differs between channels, a narrow-range
activation quantiser (its clip is not the artifact's), a float bias off the
accumulator's grid, strides, dilations, groups or shapes the scheme has not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeforge.artifact import Artifact, ArtifactError
from edgeforge.schemes.network import (BIAS_BITS, MAX_SHIFT, OUT_BITS, WEIGHT_BITS, NetworkScheme,
                                       range_bits, requant_range)

__all__ = ["QONNXImportError", "import_qonnx", "load_qonnx"]

PASS_THROUGH = ("Identity", "Dropout")


class QONNXImportError(ValueError):
    """A QONNX model the network scheme cannot take; the message names the node."""


def load_qonnx(model):
    """A ``qonnx`` ``ModelWrapper`` of a path, an ``onnx.ModelProto`` or a wrapper."""
    try:
        from qonnx.core.modelwrapper import ModelWrapper
    except ImportError as e:                                   # pragma: no cover - a dependency
        raise QONNXImportError(f"importing QONNX needs the qonnx package ({e})") from None
    if isinstance(model, ModelWrapper):
        return model
    if isinstance(model, (str, Path)):
        if not Path(model).is_file():
            raise QONNXImportError(f"QONNX model {str(model)!r} is not a file")
        try:
            return ModelWrapper(str(model))
        except Exception as e:                                 # protobuf's DecodeError and kin
            raise QONNXImportError(f"{model}: not an ONNX model ({type(e).__name__}: {e})") from None
    return ModelWrapper(model)


def _node_name(node) -> str:
    return f"{node.op_type} node {node.name or node.output[0]!r}"


def _attrs(node) -> dict:
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _power_of_two(node, what: str, scale: np.ndarray) -> int:
    """``k`` with ``scale == 2**k`` for every element (one value per tensor or channel)."""
    s = np.unique(np.asarray(scale, np.float64).ravel())
    if len(s) != 1:
        raise QONNXImportError(f"{_node_name(node)}: {what} scale must be one value (per tensor "
                               f"or equal per channel), got {len(s)} different values")
    value = float(s[0])
    if not value > 0:
        raise QONNXImportError(f"{_node_name(node)}: {what} scale must be positive, got {value!r}")
    mant, exp = np.frexp(value)
    if mant != 0.5:
        raise QONNXImportError(f"{_node_name(node)}: {what} scale must be a power of two, got "
                               f"{value!r}")
    return int(exp) - 1


@dataclass
class _Quant:
    """A ``Quant`` node's parameters (and, on a constant, its integers)."""
    node: object
    exp: int                         # scale = 2**exp
    bits: int
    signed: bool
    narrow: bool
    values: np.ndarray | None = None  # the integers, for a constant input


@dataclass
class _Pending:
    """A conv / linear layer whose output quantiser has not come yet."""
    node: object
    fields: dict
    weight: np.ndarray
    bias: np.ndarray                 # on the accumulator's scale (may be float after a BN)
    acc_exp: int
    bn: tuple | None = None          # (A, B) per channel, in float64
    relu: bool = False
    notes: list = field(default_factory=list)


class _Walker:
    def __init__(self, model, fold_bits: int):
        self.model = model
        self.graph = model.graph
        self.fold_bits = fold_bits
        self.consts: dict[str, np.ndarray] = {i.name: model.get_initializer(i.name)
                                              for i in self.graph.initializer}
        self.quants: dict[str, _Quant] = {}
        self.layers: list[dict] = []
        self.arrays: dict[str, np.ndarray] = {}
        self.approximations: list[str] = []
        self.pending: _Pending | None = None

    # -- constants ---------------------------------------------------------
    def const(self, name: str, node, what: str) -> np.ndarray:
        if name not in self.consts:
            raise QONNXImportError(f"{_node_name(node)}: {what} must be a constant, got tensor "
                                   f"{name!r} computed from the input")
        return self.consts[name]

    def quant_params(self, node, what: str) -> _Quant:
        a = _attrs(node)
        scale = self.const(node.input[1], node, "the scale")
        zero = self.const(node.input[2], node, "the zero point")
        bits = self.const(node.input[3], node, "the bit width")
        if np.any(np.asarray(zero) != 0):
            raise QONNXImportError(f"{_node_name(node)}: {what} zero point must be 0, got "
                                   f"{np.asarray(zero).ravel()[:4].tolist()!r}")
        b = float(np.asarray(bits).ravel()[0])
        if b != int(b) or np.unique(bits).size != 1:
            raise QONNXImportError(f"{_node_name(node)}: {what} bit width must be one integer, "
                                   f"got {np.asarray(bits).ravel().tolist()!r}")
        return _Quant(node, _power_of_two(node, what, scale), int(b), bool(a.get("signed", 1)),
                      bool(a.get("narrow", 0)))

    def const_quant(self, node) -> None:
        """A Quant of a constant (weights, biases): evaluate it as QONNX does, keep the ints."""
        from qonnx.custom_op.general.quant import quant
        q = self.quant_params(node, "a parameter's")
        a = _attrs(node)
        x = self.const(node.input[0], node, "the quantised tensor")
        mode = a.get("rounding_mode", b"ROUND")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        y = quant(np.asarray(x, np.float64), np.array(2.0 ** q.exp), np.array(0.0),
                  np.array(float(q.bits)), int(q.signed), int(q.narrow), mode)
        q.values = np.asarray(np.round(y / 2.0 ** q.exp), np.int64)
        self.quants[node.output[0]] = q
        self.consts[node.output[0]] = np.asarray(y)

    # -- the walk ------------------------------------------------------------
    def run(self) -> Artifact:
        graph = self.graph
        if len(graph.input) - sum(i.name in self.consts for i in graph.input) != 1:
            raise QONNXImportError(f"the model must have one data input, got "
                                   f"{[i.name for i in graph.input]!r}")
        inp = next(i for i in graph.input if i.name not in self.consts)
        dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
        if len(dims) != 4 or min(dims[1:]) < 1:
            raise QONNXImportError(f"the model's input {inp.name!r} must be (N, C, H, W), got "
                                   f"shape {dims!r}")
        self.shape = tuple(dims[1:])
        self.cur, self.exp, self.input = inp.name, None, None
        self.out_signed = False
        for node in graph.node:
            self.visit(node)
        if self.pending is not None:
            self.close_float_logits()
        outs = [o.name for o in graph.output]
        if outs != [self.cur]:
            raise QONNXImportError(f"the model's output {outs!r} must be the end of its data "
                                   f"path, {self.cur!r}")
        if not self.layers or self.layers[-1]["kind"] not in ("linear", "argmax"):
            raise QONNXImportError(f"the model must end in a linear layer (Gemm / MatMul), got "
                                   f"{self.layers[-1]['kind'] if self.layers else None!r}")
        if self.layers[-1]["kind"] == "linear":
            self.layers.append({"kind": "argmax"})
        config = {"input": self.input, "layers": self.layers}
        try:
            return NetworkScheme().check_config(config)
        except ArtifactError as e:
            raise QONNXImportError(f"the imported network is not one the scheme takes: {e}") from None

    def data_inputs(self, node) -> list[str]:
        return [n for n in node.input if n and n not in self.consts]

    def visit(self, node) -> None:
        data = self.data_inputs(node)
        if not data:                                 # a parameter-side node: fold it now
            self.visit_const(node)
            return
        if data != [self.cur] or node.input[0] != self.cur:
            raise QONNXImportError(f"{_node_name(node)}: the network must be one chain of "
                                   f"layers; this node's data inputs are {data!r}, the chain is "
                                   f"at {self.cur!r}")
        op = node.op_type
        handler = getattr(self, f"on_{op}", None)
        if handler is None:
            raise QONNXImportError(f"{_node_name(node)}: unsupported node type {op!r} (supported: "
                                   f"Quant, Conv, Gemm, MatMul, Add, BatchNormalization, Relu, "
                                   f"MaxPool, Flatten, Reshape, ArgMax, Identity, Dropout)")
        if self.input is None and op != "Quant":
            raise QONNXImportError(f"{_node_name(node)}: the input must first go through a Quant "
                                   f"node (the image's integer pixels), got {op!r}")
        handler(node)
        self.cur = node.output[0]

    def visit_const(self, node) -> None:
        op = node.op_type
        if op == "Quant":
            self.const_quant(node)
        elif op == "Constant":
            from onnx import numpy_helper
            self.consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif op in ("Transpose", "Identity", "Reshape", "Cast", "Unsqueeze", "Squeeze"):
            x = self.consts[node.input[0]]
            a = _attrs(node)
            if op == "Transpose":
                y = np.transpose(x, a.get("perm"))
            elif op == "Reshape":
                y = np.reshape(x, self.consts[node.input[1]])
            else:
                y = x
            self.consts[node.output[0]] = y
            if node.input[0] in self.quants and op in ("Transpose", "Identity"):
                q = self.quants[node.input[0]]
                self.quants[node.output[0]] = _Quant(q.node, q.exp, q.bits, q.signed, q.narrow,
                                                     y if op == "Identity" else
                                                     np.transpose(q.values, a.get("perm")))
        else:
            raise QONNXImportError(f"{_node_name(node)}: unsupported node type {op!r} on "
                                   f"constants")

    # -- data-path nodes -------------------------------------------------------
    def on_Quant(self, node) -> None:
        q = self.quant_params(node, "an activation's")
        a = _attrs(node)
        mode = a.get("rounding_mode", b"ROUND")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode.upper() not in ("ROUND", "HALF_EVEN", "HALF_UP"):
            raise QONNXImportError(f"{_node_name(node)}: an activation's rounding mode must be "
                                   f"ROUND, HALF_EVEN or HALF_UP (the artifact rounds half up), "
                                   f"got {mode!r}")
        if q.narrow:
            raise QONNXImportError(f"{_node_name(node)}: an activation's quantiser must not be "
                                   f"narrow-range (the artifact clips to the full range), got "
                                   f"narrow=1")
        if self.input is None:
            if q.signed or not 1 <= q.bits <= 8:
                raise QONNXImportError(f"{_node_name(node)}: the input's quantiser must be "
                                       f"unsigned of 1..8 bits, got signed={int(q.signed)}, "
                                       f"{q.bits} bits")
            c, h, w = self.shape
            self.input = {"channels": c, "height": h, "width": w, "bits": q.bits}
            self.exp, self.out_signed, self.bits = q.exp, False, q.bits
            self.input_exp = q.exp
            return
        if self.pending is None:
            # Requantising an activation that is already on a grid: only the identity is taken.
            if (q.exp, q.signed, q.bits) != (self.exp, self.out_signed, self.bits) and not (
                    not self.out_signed and q.exp == self.exp and q.bits >= self.bits):
                raise QONNXImportError(f"{_node_name(node)}: a Quant between layers must keep "
                                       f"the scale 2**{self.exp} and {self.bits} bits of its "
                                       f"input, got 2**{q.exp}, {q.bits} bits")
            return
        self.close(q)

    def close(self, q: _Quant) -> None:
        """Finish the pending conv / linear with output quantiser ``q``."""
        p, self.pending = self.pending, None
        relu = p.relu or not q.signed
        out_bits = q.bits - 1 if (p.relu and q.signed) else q.bits
        if not OUT_BITS[0] <= out_bits <= OUT_BITS[1]:
            raise QONNXImportError(f"{_node_name(q.node)}: an activation's width must be "
                                   f"{OUT_BITS[0]}..{OUT_BITS[1]} bits"
                                   f"{' (a signed quant after a relu loses one)' if p.relu and q.signed else ''}"
                                   f", got {q.bits}")
        if p.bn is None:
            shift = q.exp - p.acc_exp
            if shift < 0 or shift > MAX_SHIFT:
                raise QONNXImportError(f"{_node_name(q.node)}: output scale 2**{q.exp} over the "
                                       f"accumulator's 2**{p.acc_exp} must be a shift of "
                                       f"0..{MAX_SHIFT}, got {shift}")
            weight, bias = p.weight, p.bias
        else:
            weight, bias, shift = self.fold_bn(p, q)
        self.emit(p, weight, bias, shift, out_bits, relu)
        self.exp, self.out_signed, self.bits = q.exp, not relu, out_bits
        self.logit_exp = q.exp

    def fold_bn(self, p: _Pending, q: _Quant):
        a, b = p.bn
        m = a * 2.0 ** (p.acc_exp - q.exp)                     # per output channel
        w = p.weight.reshape(len(p.weight), -1).astype(np.float64)
        bias_f = p.bias.astype(np.float64) * m + b * 2.0 ** -q.exp
        hi_w = (1 << (self.fold_bits - 1)) - 1
        hi_b = (1 << (BIAS_BITS[1] - 1)) - 1
        best = None
        for shift in range(MAX_SHIFT + 1):
            scale = m[:, None] * 2.0 ** shift
            wq = np.round(w * scale)
            bq = np.round(bias_f * 2.0 ** shift)
            if np.abs(wq).max() > hi_w or np.abs(bq).max() > hi_b:
                break
            best = (wq, bq, shift)
        if best is None or not np.any(best[0]):
            raise QONNXImportError(f"{_node_name(p.node)}: its BatchNormalization cannot be "
                                   f"folded into {self.fold_bits}-bit weights (scale "
                                   f"{float(np.abs(m).max())!r})")
        wq, bq, shift = best
        self.approximations.append(
            f"{_node_name(p.node)}: BatchNormalization folded into {self.fold_bits}-bit weights "
            f"with shift {shift}")
        return (wq.astype(np.int64).reshape(p.weight.shape), bq.astype(np.int64), shift)

    def emit(self, p: _Pending, weight, bias, shift: int, out_bits: int, relu: bool) -> None:
        i = len(self.layers)
        bias = np.asarray(bias)
        if bias.dtype.kind == "f":
            if not np.array_equal(bias, np.round(bias)):
                raise QONNXImportError(f"{_node_name(p.node)}: a float bias must lie on the "
                                       f"accumulator's grid 2**{p.acc_exp} (quantise it with "
                                       f"Brevitas' Int32Bias), got {bias.ravel()[:4].tolist()!r}")
            bias = bias.astype(np.int64)
        bias_bits = max(2, range_bits(min(int(bias.min()), -1), int(bias.max()))[0])
        if bias_bits > BIAS_BITS[1]:
            raise QONNXImportError(f"{_node_name(p.node)}: its bias needs {bias_bits} bits, more "
                                   f"than {BIAS_BITS[1]}")
        wb = p.fields["weight_bits"] if p.bn is None else self.fold_bits
        self.layers.append({**p.fields, "weight_bits": wb, "bias_bits": bias_bits,
                            "shift": int(shift), "out_bits": int(out_bits)})
        self.arrays[f"l{i}_weight"] = np.asarray(weight, np.int8)
        self.arrays[f"l{i}_bias"] = np.asarray(bias, np.int32)
        if relu:
            self.layers.append({"kind": "relu"})

    def close_float_logits(self) -> None:
        """The last linear without an output Quant: 8-bit logits, the smallest shift that
        holds its accumulator's range."""
        p = self.pending
        if p.fields["kind"] != "linear":
            raise QONNXImportError(f"{_node_name(p.node)}: a conv's output must be quantised "
                                   f"(a Quant node after it)")
        if p.bn is not None:
            raise QONNXImportError(f"{_node_name(p.node)}: a BatchNormalization on the logits "
                                   f"needs a Quant after it")
        bias = np.asarray(np.round(p.bias), np.int64)
        w = p.weight.astype(np.int64)
        lo, hi = ((-(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1) if self.out_signed
                  else (0, (1 << self.bits) - 1))
        acc_lo = int((bias + np.minimum(w * lo, w * hi).sum(1)).min())
        acc_hi = int((bias + np.maximum(w * lo, w * hi).sum(1)).max())
        shift = 0
        while (requant_range(acc_lo, acc_hi, shift)[1] > 127
               or requant_range(acc_lo, acc_hi, shift)[0] < -128):
            shift += 1
        self.pending = None
        self.approximations.append(f"{_node_name(p.node)}: float logits as 8-bit logits with "
                                   f"shift {shift} (the range of its accumulator)")
        self.emit(p, w, bias, shift, 8, False)
        self.logit_exp = p.acc_exp + shift

    def start_layer(self, node, kind: str, weight_name: str, bias_name: str | None,
                    weight_t: bool = False) -> None:
        if self.pending is not None:
            raise QONNXImportError(f"{_node_name(node)}: the previous {self.pending.fields['kind']}"
                                   f" ({_node_name(self.pending.node)}) needs a Quant on its "
                                   f"output first")
        if weight_name not in self.quants:
            raise QONNXImportError(f"{_node_name(node)}: its weights must come from a Quant node "
                                   f"(a quantised weight), got {weight_name!r}")
        wq = self.quants[weight_name]
        weight = wq.values.T if weight_t else wq.values
        wb = wq.bits + (0 if wq.signed else 1)
        if not WEIGHT_BITS[0] <= wb <= WEIGHT_BITS[1]:
            raise QONNXImportError(f"{_node_name(wq.node)}: weight width must be "
                                   f"{WEIGHT_BITS[0]}..{WEIGHT_BITS[1]} bits (signed), got "
                                   f"{wq.bits} ({'signed' if wq.signed else 'unsigned'})")
        acc_exp = self.exp + wq.exp
        bias = np.zeros(len(weight), np.int64)
        if bias_name:
            bias = self.bias_values(node, bias_name, acc_exp, len(weight))
        if kind == "conv2d":
            c, h, w = self.shape
            fields = {"kind": "conv2d", "transform": "dense", "in_channels": int(weight.shape[1]),
                      "out_channels": int(weight.shape[0]), "kernel": int(weight.shape[2]),
                      "padding": self.conv_padding, "weight_bits": wb}
            k, pad = weight.shape[2], self.conv_padding
            self.shape = (int(weight.shape[0]), h + 2 * pad - k + 1, w + 2 * pad - k + 1)
        else:
            if len(self.shape) != 1 or self.shape[0] != weight.shape[1]:
                raise QONNXImportError(f"{_node_name(node)}: a linear layer needs a vector of "
                                       f"{weight.shape[1]} features, got shape {self.shape!r}")
            fields = {"kind": "linear", "transform": "dense", "in_features": int(weight.shape[1]),
                      "out_features": int(weight.shape[0]), "weight_bits": wb}
            self.shape = (int(weight.shape[0]),)
        self.pending = _Pending(node, fields, weight, bias, acc_exp)

    def bias_values(self, node, name: str, acc_exp: int, n: int) -> np.ndarray:
        if name in self.quants:
            bq = self.quants[name]
            # Brevitas' Int32Bias quantises on the accumulator's scale; another scale would
            # need a shift of the bias the MAC does not have.
            if bq.exp != acc_exp:
                raise QONNXImportError(f"{_node_name(bq.node)}: the bias scale must be the "
                                       f"accumulator's 2**{acc_exp}, got 2**{bq.exp}")
            values = bq.values
        else:
            values = np.asarray(self.consts[name], np.float64) * 2.0 ** -acc_exp
        values = np.asarray(values).ravel()
        if values.size != n:
            raise QONNXImportError(f"{_node_name(node)}: bias must have {n} values, got "
                                   f"{values.size}")
        return values

    def on_Conv(self, node) -> None:
        a = _attrs(node)
        wname = node.input[1]
        k = a.get("kernel_shape")
        pads = list(a.get("pads", [0, 0, 0, 0]))
        bad = [(key, val) for key, val, ok in (
            ("group", a.get("group", 1), a.get("group", 1) == 1),
            ("strides", a.get("strides", [1, 1]), list(a.get("strides", [1, 1])) == [1, 1]),
            ("dilations", a.get("dilations", [1, 1]), list(a.get("dilations", [1, 1])) == [1, 1]),
            ("auto_pad", a.get("auto_pad", b"NOTSET"), a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")),
            ("kernel_shape", k, k is None or (len(k) == 2 and k[0] == k[1] and k[0] % 2 == 1)),
            ("pads", pads, len(set(pads)) == 1 and (k is None or pads[0] <= k[0] // 2)),
        ) if not ok]
        if bad:
            key, val = bad[0]
            raise QONNXImportError(f"{_node_name(node)}: the scheme's conv2d has group 1, stride "
                                   f"1, dilation 1, an odd square kernel and equal padding up to "
                                   f"kernel // 2; got {key}={val!r}")
        if len(self.shape) != 3:
            raise QONNXImportError(f"{_node_name(node)}: a conv needs a (C, H, W) map, got shape "
                                   f"{self.shape!r}")
        self.conv_padding = int(pads[0])
        wq = self.quants.get(wname)
        if wq is not None and wq.values.shape[1] != self.shape[0]:
            raise QONNXImportError(f"{_node_name(node)}: its weights take {wq.values.shape[1]} "
                                   f"input channels, the map has {self.shape[0]}")
        self.start_layer(node, "conv2d", wname, node.input[2] if len(node.input) > 2 else None)

    def on_Gemm(self, node) -> None:
        a = _attrs(node)
        if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
            raise QONNXImportError(f"{_node_name(node)}: Gemm must have transA 0, alpha 1 and "
                                   f"beta 1, got {a!r}")
        self.start_layer(node, "linear", node.input[1],
                         node.input[2] if len(node.input) > 2 and node.input[2] else None,
                         weight_t=not a.get("transB", 0))

    def on_MatMul(self, node) -> None:
        self.start_layer(node, "linear", node.input[1], None, weight_t=True)

    def on_Add(self, node) -> None:
        p = self.pending
        if p is None or p.fields["kind"] != "linear" or p.node.op_type != "MatMul" or p.bn:
            raise QONNXImportError(f"{_node_name(node)}: an Add is taken only as the bias of a "
                                   f"MatMul")
        p.bias = p.bias + self.bias_values(node, node.input[1], p.acc_exp, len(p.weight))

    def on_BatchNormalization(self, node) -> None:
        p = self.pending
        if p is None or p.bn is not None or p.relu:
            raise QONNXImportError(f"{_node_name(node)}: a BatchNormalization must directly "
                                   f"follow a conv or linear (to fold into it)")
        gamma, beta, mean, var = (np.asarray(self.const(n, node, "a BN parameter"), np.float64)
                                  for n in node.input[1:5])
        eps = float(_attrs(node).get("epsilon", 1e-5))
        a = gamma / np.sqrt(var + eps)
        # y = A (acc_scale acc) + B: B in the output's units is added in fold_bn.
        p.bn = (a, beta - a * mean)

    def on_Relu(self, node) -> None:
        if self.pending is None:
            if self.out_signed:
                raise QONNXImportError(f"{_node_name(node)}: a Relu must follow a conv or "
                                       f"linear (before its output Quant)")
            return                                  # already unsigned: a no-op
        self.pending.relu = True

    def on_MaxPool(self, node) -> None:
        a = _attrs(node)
        k = list(a.get("kernel_shape", []))
        s = list(a.get("strides", k))
        ok = (len(k) == 2 and k[0] == k[1] and s == k and not any(a.get("pads", [0]))
              and not a.get("ceil_mode", 0) and list(a.get("dilations", [1, 1])) == [1, 1])
        if not ok:
            raise QONNXImportError(f"{_node_name(node)}: max-pool must have a square kernel equal "
                                   f"to its stride and no padding, got kernel_shape {k!r}, "
                                   f"strides {s!r}")
        if self.pending is not None:
            raise QONNXImportError(f"{_node_name(node)}: a MaxPool must follow a quantised "
                                   f"activation (put the Quant before it)")
        c, h, w = self.shape
        if h % k[0] or w % k[0]:
            raise QONNXImportError(f"{_node_name(node)}: max-pool size {k[0]} must divide the "
                                   f"{h}x{w} map")
        self.layers.append({"kind": "maxpool", "size": int(k[0])})
        self.shape = (c, h // k[0], w // k[0])

    def on_Flatten(self, node) -> None:
        if _attrs(node).get("axis", 1) != 1:
            raise QONNXImportError(f"{_node_name(node)}: Flatten must have axis 1")
        self.flatten(node)

    def on_Reshape(self, node) -> None:
        target = [int(v) for v in self.const(node.input[1], node, "the shape")]
        n = int(np.prod(self.shape))
        if len(target) != 2 or target[1] not in (-1, n):
            raise QONNXImportError(f"{_node_name(node)}: a Reshape is taken only as a flatten to "
                                   f"(N, {n}), got shape {target!r}")
        self.flatten(node)

    def flatten(self, node) -> None:
        if self.pending is not None:
            raise QONNXImportError(f"{_node_name(node)}: a flatten must follow a quantised "
                                   f"activation")
        if len(self.shape) == 3:
            self.layers.append({"kind": "flatten"})
            self.shape = (int(np.prod(self.shape)),)

    def on_ArgMax(self, node) -> None:
        a = _attrs(node)
        if a.get("axis", 0) not in (1, -1):
            raise QONNXImportError(f"{_node_name(node)}: ArgMax must be over the classes (axis "
                                   f"1), got axis {a.get('axis', 0)!r}")
        if self.pending is not None:
            self.close_float_logits()
        self.layers.append({"kind": "argmax"})

    def on_Identity(self, node) -> None:
        pass

    on_Dropout = on_Identity


def import_qonnx(model, *, fold_bits: int = 8, name: str | None = None) -> Artifact:
    """A network artifact from a QONNX model (see the module docstring for what is taken).

    Parameters
    ----------
    model : str, Path, onnx.ModelProto or qonnx ModelWrapper
    fold_bits : int
        Weight width of a layer with a BatchNormalization folded into it (2..8).
    name : str, optional
        Where the model came from, for the provenance (default: the file name).

    Returns
    -------
    Artifact
        Scheme ``"network"``, ending in argmax; ``provenance["exact"]`` is True when
        nothing was approximated (``provenance["approximations"]`` lists what was);
        ``provenance["input_scale"]`` is the input quantiser's scale (the image's
        integers are ``round(x / input_scale)``) and ``provenance["logit_scale"]`` the
        logits' (QONNX's float logits are the artifact's times it).

    Raises
    ------
    QONNXImportError
        Naming the node (op type and name) and what about it the scheme cannot take.
    """
    if (not isinstance(fold_bits, int) or isinstance(fold_bits, bool)
            or not WEIGHT_BITS[0] <= fold_bits <= WEIGHT_BITS[1]):
        raise ValueError(f"fold_bits must be an integer {WEIGHT_BITS[0]}..{WEIGHT_BITS[1]}, got "
                         f"{fold_bits!r}")
    wrapper = load_qonnx(model)
    walker = _Walker(wrapper, fold_bits)
    config = walker.run()
    if name is None:
        name = Path(model).name if isinstance(model, (str, Path)) else "onnx model"
    return Artifact(scheme="network", config=config, arrays=walker.arrays,
                    provenance={"source": "qonnx import", "model": name,
                                "exact": not walker.approximations,
                                "approximations": walker.approximations,
                                # Pixels stream as round(x / input_scale); a logit is
                                # logit_scale times what QONNX computes.
                                "input_scale": 2.0 ** walker.input_exp,
                                "logit_scale": 2.0 ** walker.logit_exp,
                                "rounding": "half up (QONNX ROUND: half to even; they differ "
                                            "only on exact ties)"})
