"""Classifier networks (scheme ``"network"``, version 1): layer list, array layout and exact widths.

This module is the one place where a network artifact's structure and its
integer widths are defined: the contract between the model side and the hardware side. The
golden model (``edgeforge.sim.golden.network``), the cycle model
(``edgeforge.sim.cycles.network``), the hardware compiler
(``edgeforge.hw.network``) and the manifests all read them from here.

Config::

    {"input":  {"channels": C, "height": H, "width": W, "bits": 8},
     "layers": [layer, ...]}

Every layer dict has a ``kind`` and exactly the fields of :data:`LAYER_FIELDS`
(plus those its transform kind adds); unknown fields are refused.

============  ==============================================================
kind          fields
============  ==============================================================
``conv2d``    transform, in_channels, out_channels, kernel (odd), padding
              (0..kernel//2), bias_bits (2..32), shift (>= 0), out_bits (2..8);
              stride 1, zero padding; plus the transform's own fields (dense:
              weight_bits (2..8); pecan-d: groups, group_size, prototypes,
              table_bits (2..16); pecan-a: those and codebook_bits, exp_bits,
              exp_entries, exp_shift, recip_bits, recip_shift; debut:
              weight_bits, factors, shifts, mid_bits)
``linear``    transform, in_features, out_features, bias_bits, shift, out_bits,
              plus the transform's own fields
``relu``      none; only directly after a conv2d or linear
``maxpool``   size (>= 2; stride = size, H and W must divide)
``flatten``   none; (C, H, W) -> C*H*W in torch's order c*H*W + h*W + w
``argmax``    none; the last layer, directly after a linear
============  ==============================================================

Arithmetic (golden = RTL): ``acc = bias + sum(w * x)`` exactly (dense; PECAN-D:
``acc = bias + sum_j Y_j[:, k_j]``, :class:`PecanDTransform`; PECAN-A: a fixed-point
softmax over dot products weighting the table columns, :class:`PecanATransform`; DeBut: the factor chain
with a shift, round and saturation between factors, :class:`DebutTransform`), then
``y = (acc + (1 << (shift - 1))) >> shift`` (flooring shift; ``y = acc`` for
shift 0), clipped to ``[0, 2**out_bits - 1]`` when a relu follows, else to the
signed ``out_bits`` range. Max-pool takes the max of each window; arg-max the
lowest index of the largest logit.

A conv2d or linear layer's ``transform`` names how it turns its input vector
into output channels. :data:`TRANSFORMS` maps each kind to what the compiler
needs of it (its own fields, its arrays, and where its golden function, cycle
formula and hardware core live), so that a new kind (PECAN-D, DeBut) is one
entry here plus those three modules and a torch layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..artifact import ArraySpec, ArtifactError
from . import Scheme
from . import network_debut as debut

__all__ = ["LAYER_FIELDS", "TRANSFORMS", "Transform", "DenseTransform", "ProductQuantised",
           "PecanDTransform", "PecanATransform", "DebutTransform", "recip_entries",
           "softmax_tables",
           "check_divisors", "codebook_type", "resolve", "with_transform", "Layer", "Network",
           "LayerWidths", "NetworkWidths", "NetworkScheme", "parse_network", "derive_widths",
           "range_bits", "requant_range", "clip_range", "random_artifact", "random_config"]

MAX_INPUT_BITS = 8
WEIGHT_BITS = (2, 8)
BIAS_BITS = (2, 32)
OUT_BITS = (2, 8)
# A PECAN-D result table entry: signed, int16 in the artifact.
TABLE_BITS = (2, 16)
# PECAN-A's exp and reciprocal table entries (unsigned, uint16) and table lengths.
SOFTMAX_BITS = (2, 16)
MAX_SOFTMAX_ENTRIES = 4096
# A shift beyond the accumulator's width only ever yields 0 or -1; 62 keeps int64 golden exact.
MAX_SHIFT = 62

#: Fields of each layer kind besides ``kind`` (a transform kind may add its own).
LAYER_FIELDS: dict[str, tuple[str, ...]] = {
    "conv2d": ("transform", "in_channels", "out_channels", "kernel", "padding", "bias_bits",
               "shift", "out_bits"),
    "linear": ("transform", "in_features", "out_features", "bias_bits", "shift", "out_bits"),
    "relu": (),
    "maxpool": ("size",),
    "flatten": (),
    "argmax": (),
}
#: Layer kinds that carry a transform (and arrays).
TRANSFORM_LAYERS = ("conv2d", "linear")


def _where(index: int, field: str | None = None) -> str:
    return f"config.layers[{index}]" + (f".{field}" if field else "")


def _int_field(layer: dict, index: int, field: str, lo: int, hi: int | None = None) -> int:
    value = layer[field]
    if (not isinstance(value, int) or isinstance(value, bool) or value < lo
            or (hi is not None and value > hi)):
        span = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ArtifactError(_where(index, field), f"expected an integer {span}, got {value!r}")
    return value


def check_divisors(where: str, knobs) -> None:
    """Refuse a folding knob that is not a positive divisor of what it folds.

    ``knobs`` lists ``(name, value, size, what)``: e.g. ``("PE", 3, 4, "output channels")``.

    Raises
    ------
    ValueError
        ``"<where>: <name> must divide its <size> <what>, got <value>"``.
    """
    for name, value, size, what in knobs:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1 or size % value:
            raise ValueError(f"{where}: {name} must divide its {size} {what}, got {value!r}")


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def resolve(target: str):
    """The object a registry string ``"module:attribute"`` names (imported on use)."""
    import importlib
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


class Transform:
    """What the network compiler needs of one transform kind.

    Members
    -------
    name : str
        The ``transform`` value in a layer dict.
    extra_fields : tuple of str
        Layer fields this kind adds to :data:`LAYER_FIELDS`.
    optional_fields : tuple of str
        Layer fields this kind accepts but does not require (an option whose absence is
        its default, so that artifacts made before it read as they did).
    knobs : tuple of (str, str)
        Names of the two folding knobs of its core (the pair a folding gives per layer;
        a kind whose folding is not a pair overrides the folding methods).
    golden, cycles, traffic, timeline, core : str
        ``"module:attribute"`` of its golden function (the layer's accumulators), cycle
        formula (cycles per input vector from the core stage's params), memory-traffic
        lines, the core's control in the cycle model's timeline (a block from the core
        stage; by default the one-accumulator control every fold-and-emit core has) and
        hardware core (imported on use, so that loading an artifact imports neither
        NumPy-heavy models nor Amaranth).
    narrow_core : str or None
        ``"module:attribute"`` of its core fed ``SIMD`` inputs a beat (the narrow datapath
        of :func:`~edgeforge.hw.network.plan.plan_pipeline`), or None: its layers keep
        whole-vector inputs there.
    """

    name: str
    extra_fields: tuple[str, ...] = ()
    optional_fields: tuple[str, ...] = ()
    knobs: tuple[str, str]
    golden: str
    cycles: str
    traffic: str
    timeline: str = "edgeforge.sim.cycles.network:core_block"
    #: Its arithmetic per image from the core stage (``OperationLine`` s, for the energy
    #: estimate); None: not counted.
    operations: str | None = None
    core: str
    narrow_core: str | None = None

    def check_fields(self, layer: dict, index: int) -> dict:
        """Return this kind's own fields, checked; raise ArtifactError naming a bad one."""
        return {}

    def size(self, layer: "Layer") -> tuple[int, int]:
        """``(outputs, inputs)`` of the layer's transform: the output channels and the length
        of the input vector (a conv's ``k k C`` window, tap-major: ``(dy k + dx) C + c``)."""
        f = layer.fields
        if layer.kind == "conv2d":
            return f["out_channels"], f["kernel"] ** 2 * f["in_channels"]
        return f["out_features"], f["in_features"]

    def array_specs(self, layer: "Layer", network: "Network") -> dict[str, ArraySpec]:
        """The arrays a layer of this kind holds, keyed by artifact array name."""
        raise NotImplementedError

    def acc_range(self, layer: "Layer", arrays, lo: int, hi: int) -> tuple[tuple[int, int], dict]:
        """The exact range of the layer's accumulator (and of every partial sum its core
        forms) for inputs in ``lo..hi`` and 0, and the kind's own derived widths."""
        raise NotImplementedError

    # -- folding -----------------------------------------------------------------------
    def fold_sizes(self, layer: "Layer") -> tuple[tuple[int, str], tuple[int, str]]:
        """What each knob divides: ``((size, what), (size, what))``."""
        raise NotImplementedError

    def check_folding(self, where: str, value, layer: "Layer") -> tuple[int, ...]:
        """The layer's folding ``value`` as a tuple; refuse one that is not a pair of knobs
        dividing the layer (naming ``where`` and the value)."""
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ValueError(f"{where} must be a ({self.knobs[0]}, {self.knobs[1]}) pair, "
                             f"got {value!r}")
        (n0, w0), (n1, w1) = self.fold_sizes(layer)
        check_divisors(where, ((self.knobs[0], value[0], n0, w0),
                               (self.knobs[1], value[1], n1, w1)))
        return (value[0], value[1])

    def folded(self, layer: "Layer") -> tuple[int, ...]:
        """The fully folded folding: one of everything."""
        return (1, 1)

    def parallel(self, layer: "Layer") -> tuple[int, ...]:
        """The fully parallel folding."""
        (n0, _), (n1, _) = self.fold_sizes(layer)
        return (n0, n1)

    def candidates(self, layer: "Layer") -> list[tuple[int, ...]]:
        """Every valid folding of the layer."""
        (n0, _), (n1, _) = self.fold_sizes(layer)
        return [(a, b) for a in _divisors(n0) for b in _divisors(n1)]

    def fold_cost(self, layer: "Layer", fold) -> tuple:
        """FINN's rule for ranking foldings of equal speed: the fewest units a cycle (the
        knobs' product); on a tie the wider second knob (FINN widens SIMD first)."""
        return (fold[0] * fold[1], -fold[1])

    def core_params(self, layer: "Layer", fold) -> dict:
        """The core stage's params: ``folds`` (cycles an input vector), ``emit`` (folds per
        output beat), ``lanes`` (accumulators a beat), ``beats`` (beats a vector), and
        whatever the kind's core, cycle formula and traffic lines read."""
        raise NotImplementedError

    # -- random artifacts ---------------------------------------------------------------
    def bias_span(self, layer: "Layer") -> int:
        """Random biases lie within +-this: the scale of a few terms of the sum."""
        raise NotImplementedError

    def calibrate(self, layer: "Layer", arrays: Mapping[str, np.ndarray], lo: int,
                  hi: int) -> dict:
        """Fields of this kind that :func:`random_artifact` sets from the random arrays
        (before it picks the layer's shift); none by default."""
        return {}

    def random_arrays(self, layer: "Layer", network: "Network", rng,
                      extremes: float) -> dict[str, np.ndarray]:
        """Seeded random arrays: uniform over each spec's range, a fraction ``extremes`` at
        its ends; biases within :meth:`bias_span`."""
        arrays = {}
        for name, spec in self.array_specs(layer, network).items():
            values = rng.integers(spec.min, spec.max + 1, size=spec.shape)
            if name.endswith("_bias"):
                span = min(spec.max, self.bias_span(layer))
                values = rng.integers(-span, span + 1, size=spec.shape)
            ends = rng.random(spec.shape) < extremes
            values = np.where(ends, rng.choice([spec.min, spec.max], size=spec.shape), values)
            arrays[name] = values.astype(spec.dtype)
        return arrays


class DenseTransform(Transform):
    """Dense int weights, conv2d ``(out, in, k, k)`` or linear ``(out, in)``; int32 bias
    ``(out,)``. Its own field: ``weight_bits`` (2..8)."""

    name = "dense"
    extra_fields = ("weight_bits",)
    knobs = ("PE", "SIMD")
    golden = "edgeforge.sim.golden.dense:accumulate"
    cycles = "edgeforge.sim.cycles.network:dense_cycles"
    traffic = "edgeforge.sim.cycles.network:dense_traffic"
    operations = "edgeforge.sim.cycles.network:dense_operations"
    core = "edgeforge.hw.network.mac:DenseCore"
    narrow_core = "edgeforge.hw.network.mac:NarrowDenseCore"

    def check_fields(self, layer: dict, index: int) -> dict:
        return {"weight_bits": _int_field(layer, index, "weight_bits", *WEIGHT_BITS)}

    def array_specs(self, layer: "Layer", network: "Network") -> dict[str, ArraySpec]:
        f = layer.fields
        if layer.kind == "conv2d":
            shape = (f["out_channels"], f["in_channels"], f["kernel"], f["kernel"])
        else:
            shape = (f["out_features"], f["in_features"])
        return {f"l{layer.index}_weight": ArraySpec("int8", shape, f["weight_bits"], True),
                f"l{layer.index}_bias": ArraySpec("int32", (shape[0],), f["bias_bits"], True)}

    def acc_range(self, layer, arrays, lo, hi):
        i = layer.index
        return _acc_range(arrays[f"l{i}_weight"], arrays[f"l{i}_bias"], lo, hi), {}

    def fold_sizes(self, layer):
        outputs, inputs = self.size(layer)
        return (outputs, "output channels"), (inputs, "inputs")

    def core_params(self, layer, pair):
        outputs, inputs = self.size(layer)
        pe, simd = pair
        sf, nf = inputs // simd, outputs // pe
        return {"pe": pe, "simd": simd, "sf": sf, "nf": nf, "folds": sf * nf, "emit": sf,
                "lanes": pe, "beats": nf, "weight_bits": layer.fields["weight_bits"]}

    def bias_span(self, layer):
        return 1 << (layer.fields["weight_bits"] + 6)


class ProductQuantised(Transform):
    """What the two PECAN kinds share: the layer's input vector (a conv's window tap-major,
    ``(dy k + dx) C + c``, as the window generator streams it; a linear's input in torch's
    order) splits into ``groups`` (D) consecutive groups of ``group_size`` (d) values,
    ``D d`` = the vector's length; group ``j`` has a codebook of ``prototypes`` (p)
    prototypes of d values and a result table ``Y_j = W_j C_j`` (``c_out x p``, signed
    ``table_bits``). Arrays ``l{i}_codebook`` ``(D, p, d)``, ``l{i}_table`` ``(D, c_out,
    p)`` int16, ``l{i}_bias`` ``(c_out,)`` int32. Folding knobs: groups matched a cycle and
    prototypes compared a cycle (divisors of D and p)."""

    extra_fields = ("groups", "group_size", "prototypes", "table_bits")
    knobs = ("groups per cycle", "prototypes per cycle")

    def check_fields(self, layer: dict, index: int) -> dict:
        fields = {key: _int_field(layer, index, key, 1)
                  for key in ("groups", "group_size", "prototypes")}
        fields["table_bits"] = _int_field(layer, index, "table_bits", *TABLE_BITS)
        # The layer's own fields are checked already (integers).
        inputs = (layer["kernel"] ** 2 * layer["in_channels"] if layer["kind"] == "conv2d"
                  else layer["in_features"])
        if fields["groups"] * fields["group_size"] != inputs:
            raise ArtifactError(_where(index, "groups"), f"groups x group_size must be the "
                                f"{inputs} inputs of the layer, got {fields['groups']!r} x "
                                f"{fields['group_size']!r}")
        return fields

    def codebook_spec(self, layer: "Layer", network: "Network") -> ArraySpec:
        raise NotImplementedError

    def array_specs(self, layer: "Layer", network: "Network") -> dict[str, ArraySpec]:
        f, i = layer.fields, layer.index
        outputs, _ = self.size(layer)
        return {f"l{i}_codebook": self.codebook_spec(layer, network),
                f"l{i}_table": ArraySpec("int16", (f["groups"], outputs, f["prototypes"]),
                                         f["table_bits"], True),
                f"l{i}_bias": ArraySpec("int32", (outputs,), f["bias_bits"], True)}

    def fold_sizes(self, layer):
        f = layer.fields
        return (f["groups"], "groups"), (f["prototypes"], "prototypes")

    def core_params(self, layer, pair):
        f = layer.fields
        outputs, _ = self.size(layer)
        gpc, ppc = pair
        gf, pf = f["groups"] // gpc, f["prototypes"] // ppc
        return {"groups": f["groups"], "group_size": f["group_size"],
                "prototypes": f["prototypes"], "table_bits": f["table_bits"],
                "gpc": gpc, "ppc": ppc, "gf": gf, "pf": pf, "folds": gf * pf,
                "emit": gf * pf, "lanes": outputs, "beats": 1}

    def bias_span(self, layer):
        return 1 << (layer.fields["table_bits"] + 1)

    def random_arrays(self, layer, network, rng, extremes):
        arrays = super().random_arrays(layer, network, rng, extremes)
        # Copies of a prototype tie with it on every input (PECAN-D: in the arg-min, the
        # lower index must win; PECAN-A: in the max), and the copies' table columns
        # differ, so a wrong tie-break or a dropped copy shows in the sums.
        cb = arrays[f"l{layer.index}_codebook"]
        d_, p, _ = cb.shape
        if p > 1:
            for j in range(d_):
                if rng.random() < 0.5:
                    a, b = sorted(rng.choice(p, size=2, replace=False))
                    cb[j, b] = cb[j, a]
        return arrays


class PecanDTransform(ProductQuantised):
    """PECAN-D (Ran et al., DATE 2023, distance variant): product quantisation, no multiplier.

    Groups, codebooks and tables as :class:`ProductQuantised`; the codebooks are on the
    layer input's own integer scale (its activation bits and signedness), so that the L1
    distances are exact integers. The matched prototype ``k_j = argmin_q
    sum_i |x_ji - C[j, q, i]|`` (ties to the lowest index) selects column ``k_j`` of
    group j's result table: ``acc = bias + sum_j Y_j[:, k_j]``, then the same shift
    requantisation as dense.
    """

    name = "pecan-d"
    golden = "edgeforge.sim.golden.pecan_d:accumulate"
    cycles = "edgeforge.sim.cycles.network:pecan_d_cycles"
    traffic = "edgeforge.sim.cycles.network:pecan_d_traffic"
    operations = "edgeforge.sim.cycles.network:pecan_d_operations"
    core = "edgeforge.hw.network.cam:CamCore"

    def codebook_spec(self, layer, network):
        bits, signed = network.input_type(layer.index)
        f = layer.fields
        return ArraySpec("int8" if signed else "uint8",
                         (f["groups"], f["prototypes"], f["group_size"]), bits, signed)

    def acc_range(self, layer, arrays, lo, hi):
        i = layer.index
        table = np.asarray(arrays[f"l{i}_table"], np.int64)            # (D, O, p)
        bias = np.asarray(arrays[f"l{i}_bias"], np.int64)
        # A partial sum (the first groups' columns) is a full sum with the rest 0: each
        # group adds between min(0, its smallest entry) and max(0, its largest), per output.
        low = bias + np.minimum(table.min(axis=2), 0).sum(axis=0)
        high = bias + np.maximum(table.max(axis=2), 0).sum(axis=0)
        # The L1 distance of an input (its values in lo..hi, or 0 for a padded tap) to a
        # prototype is at most sum_i max(c_i - lo, hi - c_i).
        lo, hi = min(lo, 0), max(hi, 0)
        cb = np.asarray(arrays[f"l{i}_codebook"], np.int64)
        dist = np.maximum(cb - lo, hi - cb).sum(axis=2).max()
        return (int(low.min()), int(high.max())), {"dist_bits": range_bits(0, int(dist))[0],
                                                   "codebook_bits": codebook_type(cb)[0]}


class PecanATransform(ProductQuantised):
    """PECAN-A (Ran et al., DATE 2023, angle variant): dot-product match and a fixed-point
    softmax over the prototypes; the spec of its integer arithmetic.

    Groups, codebooks and tables as :class:`ProductQuantised`; the codebooks are signed
    ``codebook_bits`` integers (a weight's scale ``s_c``, the input's ``s_x``). Per input
    vector and group ``j`` (every step exact integers; golden = RTL):

    1. dot products ``s_q = sum_i x_ji C[j, q, i]`` for the p prototypes, plus, with the
       option ``prototype_offsets`` (default false), a constant per prototype ``s_q +=
       OFFSET[j, q]`` from ``l{i}_offset`` (``(D, p)`` int32, on the dot products' grid).
       The exporter fills it with ``-|C[j, q]|**2 / 2`` (rounded half up), which makes
       ``s_q`` the negative squared distance ``-|x_j - C[j, q]|**2 / 2`` up to a constant
       of the input (``|x_j|**2 / 2``, the same for every prototype, which the softmax
       ignores): without it, on non-negative inputs (pixels, activations after a relu)
       the largest dot product is mostly the largest-norm prototype's whatever the input;
    2. the maximum ``m = max_q s_q`` (a tie changes nothing: tied prototypes both take
       ``EXP[0]``);
    3. ``e_q = EXP[min((m - s_q) >> exp_shift, exp_entries - 1)]`` from the exp table
       ``l{i}_exp`` (``exp_entries`` unsigned ``exp_bits`` values): its input is the
       difference to the row's maximum, floored by ``exp_shift``, saturating at the last
       entry. The exporter fills it with ``round((2**exp_bits - 1) exp(-k step))``,
       ``step = s_x s_c 2**exp_shift`` (:func:`softmax_tables`): the softmax at
       temperature 1 and without a ``1/sqrt(d)`` scaling, as the paper has it;
    4. ``Z = sum_q e_q`` and the unnormalised weighted sum of the table's columns
       ``u[o] = sum_q e_q Y_j[o, q]``;
    5. normalisation by a reciprocal table (no divider): ``R = RECIP[Z >> recip_shift]``
       from ``l{i}_recip`` (unsigned ``recip_bits`` values, one per ``Z >> recip_shift``
       up to ``p (2**exp_bits - 1) >> recip_shift``), and the group's contribution
       ``(u[o] R) >> (recip_bits - 1)`` (flooring). The exporter's ``RECIP[z] =
       round(2**(recip_bits - 1 + exp_bits) / Z_z)`` (``Z_z`` the middle of the ``Z``
       it stands for), saturated at ``2**recip_bits - 1``, so the softmax weights sum to
       about ``2**exp_bits``: the layer's shift divides that out. Its precision: the
       relative error of ``R`` is at most ``2**recip_shift / (2 Z)`` (the grouping of
       ``Z``) plus ``1 / (2 R)`` (the rounding, ``R >= 2**(recip_bits - 1) / p``);
    6. ``acc = bias + sum_j contribution_j``, then the shift requantisation of every layer.

    This is ``sum_j Y_j softmax(C_j^T x_j)`` with the division moved after the weighted
    sum (``c_out`` multiplications a group instead of ``p``, the same value in exact
    arithmetic). Its own fields besides: ``codebook_bits`` (2..8), ``exp_bits`` (2..16),
    ``exp_entries`` (1..4096), ``exp_shift`` (0..62), ``recip_bits`` (2..16),
    ``recip_shift`` (0..32; the reciprocal table at most 4096 entries) and, optional,
    ``prototype_offsets`` (a bool; absent: false). Arrays besides: ``l{i}_exp``
    ``(exp_entries,)`` and ``l{i}_recip`` ``(recip_entries,)``, uint16, and with
    ``prototype_offsets`` ``l{i}_offset`` ``(D, p)`` int32.
    Every width the core uses (:meth:`acc_range`: ``dot_bits`` (the scores', offsets
    included), ``diff_bits``, ``z_bits``, ``u_bits``, ``prod_bits``, the tables'
    ``exp_word_bits`` and ``recip_word_bits``, with offsets ``offset_bits``) is derived
    here from the actual integers.
    """

    name = "pecan-a"
    extra_fields = ProductQuantised.extra_fields + (
        "codebook_bits", "exp_bits", "exp_entries", "exp_shift", "recip_bits", "recip_shift")
    optional_fields = ("prototype_offsets",)
    golden = "edgeforge.sim.golden.pecan_a:accumulate"
    cycles = "edgeforge.sim.cycles.network:pecan_d_cycles"
    traffic = "edgeforge.sim.cycles.network:pecan_a_traffic"
    operations = "edgeforge.sim.cycles.network:pecan_a_operations"
    core = "edgeforge.hw.network.cam_angle:AngleCore"

    def check_fields(self, layer, index):
        fields = super().check_fields(layer, index)
        for key, span in (("codebook_bits", WEIGHT_BITS), ("exp_bits", SOFTMAX_BITS),
                          ("exp_entries", (1, MAX_SOFTMAX_ENTRIES)), ("exp_shift", (0, MAX_SHIFT)),
                          ("recip_bits", SOFTMAX_BITS), ("recip_shift", (0, 32))):
            fields[key] = _int_field(layer, index, key, *span)
        offsets = layer.get("prototype_offsets", False)
        if not isinstance(offsets, bool):
            raise ArtifactError(_where(index, "prototype_offsets"), f"expected true or false "
                                f"(a constant per prototype added to its dot product), got "
                                f"{offsets!r}")
        fields["prototype_offsets"] = offsets
        entries = recip_entries(fields)
        if entries > MAX_SOFTMAX_ENTRIES:
            raise ArtifactError(_where(index, "recip_shift"), f"the reciprocal table of Z >> "
                                f"recip_shift (Z up to prototypes x (2**exp_bits - 1)) would "
                                f"hold {entries} entries, more than {MAX_SOFTMAX_ENTRIES}, got "
                                f"{fields['recip_shift']!r}")
        return fields

    def codebook_spec(self, layer, network):
        f = layer.fields
        return ArraySpec("int8", (f["groups"], f["prototypes"], f["group_size"]),
                         f["codebook_bits"], True)

    def array_specs(self, layer, network):
        f, i = layer.fields, layer.index
        specs = {**super().array_specs(layer, network),
                 f"l{i}_exp": ArraySpec("uint16", (f["exp_entries"],), f["exp_bits"], False),
                 f"l{i}_recip": ArraySpec("uint16", (recip_entries(f),), f["recip_bits"], False)}
        if f.get("prototype_offsets"):
            specs[f"l{i}_offset"] = ArraySpec("int32", (f["groups"], f["prototypes"]), 32, True)
        return specs

    def acc_range(self, layer, arrays, lo, hi):
        i, f = layer.index, layer.fields
        p = f["prototypes"]
        lo, hi = min(lo, 0), max(hi, 0)
        dot_lo, dot_hi = score_range(layer, arrays, lo, hi)              # (D, p)
        diff = int((dot_hi.max(axis=1) - dot_lo.min(axis=1)).max())
        exp = np.asarray(arrays[f"l{i}_exp"], np.int64)
        recip = np.asarray(arrays[f"l{i}_recip"], np.int64)
        # The maximum's own term is EXP[0]; the other p - 1 any entry.
        z_lo, z_hi = int(exp[0] + (p - 1) * exp.min()), int(exp[0] + (p - 1) * exp.max())
        z = np.arange(z_lo, z_hi + 1)
        zr = int((z * recip[z >> f["recip_shift"]]).max())              # max of Z R
        table = np.asarray(arrays[f"l{i}_table"], np.int64)              # (D, O, p)
        y_lo = np.minimum(table.min(axis=2), 0)
        y_hi = np.maximum(table.max(axis=2), 0)
        # u = sum_q e_q Y[o, q] (and a fold's partial sum) lies in Z_max [y_lo, y_hi]; the
        # contribution (u R) >> n in [y_lo, y_hi] max(Z R) >> n, since Z R bounds u R / Y.
        u = (z_hi * int(y_lo.min()), z_hi * int(y_hi.max()))
        prod = (u[0] * int(recip.max()), u[1] * int(recip.max()))
        n = f["recip_bits"] - 1
        bias = np.asarray(arrays[f"l{i}_bias"], np.int64)
        low = bias + ((y_lo * zr) >> n).sum(axis=0)
        high = bias + ((y_hi * zr) >> n).sum(axis=0)
        def signed_bits(lo_, hi_):                  # the core's registers are signed
            return range_bits(min(lo_, -1), hi_)[0]
        widths = {"dot_bits": signed_bits(int(dot_lo.min()), int(dot_hi.max())),
                  "diff_bits": range_bits(0, diff)[0], "z_bits": range_bits(0, z_hi)[0],
                  "u_bits": signed_bits(*u), "prod_bits": signed_bits(*prod),
                  # The tables' words: the narrowest that hold their actual entries.
                  "exp_word_bits": range_bits(0, int(exp.max()))[0],
                  "recip_word_bits": range_bits(0, int(recip.max()))[0]}
        if f.get("prototype_offsets"):
            offset = np.asarray(arrays[f"l{i}_offset"], np.int64)
            widths["offset_bits"] = signed_bits(int(offset.min()), int(offset.max()))
        if widths["prod_bits"] > MAX_SHIFT:
            raise ArtifactError(_where(i), f"the normalisation's product u R needs "
                                f"{widths['prod_bits']} bits, more than {MAX_SHIFT}, got "
                                f"table_bits {f['table_bits']!r}")
        return (int(low.min()), int(high.max())), widths

    def core_params(self, layer, pair):
        f = layer.fields
        return {**super().core_params(layer, pair),
                **{key: f[key] for key in ("codebook_bits", "exp_bits", "recip_bits")},
                "recip_entries": recip_entries(f)}

    def random_arrays(self, layer, network, rng, extremes):
        arrays = super().random_arrays(layer, network, rng, extremes)
        f, i = layer.fields, layer.index
        # The exporter's tables at a random step: the exp reaching about 0 within the table
        # (or not: the step also lands short of it), so that saturation is exercised.
        step = float(rng.uniform(2.0, 12.0)) / f["exp_entries"]
        arrays[f"l{i}_exp"], arrays[f"l{i}_recip"] = softmax_tables(f, step)
        if f.get("prototype_offsets"):
            # The exporter's -|C|**2 / 2, on a random grid relative to the inputs' (a shift
            # of -2..2), so that the offsets are as large as the dot products or smaller.
            cb = arrays[f"l{i}_codebook"].astype(np.int64)
            shift = int(rng.integers(-2, 3))
            norms = (cb * cb).sum(axis=2)
            arrays[f"l{i}_offset"] = (-((norms << max(shift, 0)) >> (max(-shift, 0) + 1))
                                      ).astype(np.int32)
        return arrays

    def calibrate(self, layer, arrays, lo, hi):
        """``exp_shift`` mapping the largest difference to the maximum onto twice the exp
        table's length, so that random inputs reach every part of the table."""
        dots = score_range(layer, arrays, min(lo, 0), max(hi, 0))
        diff = int((dots[1].max(axis=1) - dots[0].min(axis=1)).max())
        entries = layer.fields["exp_entries"]
        return {"exp_shift": min(MAX_SHIFT, max(0, diff.bit_length()
                                                 - (2 * entries).bit_length()))}


def score_range(layer, arrays, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """The least and largest score ``s_q`` (the dot product plus its offset, if the layer
    has offsets) ``(D, p)`` of a PECAN-A ``layer`` over inputs in ``lo..hi`` (0 in it)."""
    i = layer.index
    cb = np.asarray(arrays[f"l{i}_codebook"], np.int64)                 # (D, p, d)
    offset = (np.asarray(arrays[f"l{i}_offset"], np.int64)
              if layer.fields.get("prototype_offsets") else 0)
    return (np.minimum(cb * lo, cb * hi).sum(axis=2) + offset,
            np.maximum(cb * lo, cb * hi).sum(axis=2) + offset)


def recip_entries(fields: Mapping) -> int:
    """Entries of a PECAN-A layer's reciprocal table: one per ``Z >> recip_shift``, ``Z`` up
    to ``prototypes (2**exp_bits - 1)``."""
    return ((fields["prototypes"] * ((1 << fields["exp_bits"]) - 1)) >> fields["recip_shift"]) + 1


def softmax_tables(fields: Mapping, step: float) -> tuple[np.ndarray, np.ndarray]:
    """The exporter's exp and reciprocal tables of a PECAN-A layer (``fields``: its
    ``exp_bits``, ``exp_entries``, ``prototypes``, ``recip_bits``, ``recip_shift``) for an
    exp step ``step`` (the real difference one table entry stands for: ``s_x s_c
    2**exp_shift``); see :class:`PecanATransform`."""
    eb, rb, rs = fields["exp_bits"], fields["recip_bits"], fields["recip_shift"]
    k = np.arange(fields["exp_entries"])
    exp = np.rint(((1 << eb) - 1) * np.exp(-k * step))
    z = np.arange(recip_entries(fields))
    middle = np.maximum((z << rs) + ((1 << rs) >> 1), 1).astype(np.float64)
    recip = np.minimum(np.rint(2.0 ** (rb - 1 + eb) / middle), (1 << rb) - 1)
    return exp.astype(np.uint16), recip.astype(np.uint16)


class DebutTransform(Transform):
    """A chain of DeBut factors (:mod:`edgeforge.schemes.network_debut`: the fields
    ``factors``, ``shifts``, ``mid_bits``, the arrays ``l<i>_f<k>`` and ``l<i>_bias``, the
    arithmetic). Its own fields besides: ``weight_bits`` (2..8) of the factors' nonzeros.

    Folding: the MAC lanes of each factor, one per factor (each a count
    :func:`~edgeforge.schemes.network_debut.lane_split` accepts); the factor stages
    overlap, so a vector takes the slowest factor's folds.
    """

    name = "debut"
    extra_fields = ("weight_bits", "factors", "shifts", "mid_bits")
    knobs = ("MAC lanes of each factor",)
    golden = "edgeforge.sim.golden.debut:accumulate"
    cycles = "edgeforge.sim.cycles.debut:debut_cycles"
    traffic = "edgeforge.sim.cycles.debut:debut_traffic"
    operations = "edgeforge.sim.cycles.debut:debut_operations"
    timeline = "edgeforge.sim.cycles.debut:chain_block"
    core = "edgeforge.hw.network.butterfly:DebutCore"

    def check_fields(self, layer, index):
        raw = layer["factors"]
        where = _where(index, "factors")
        if not isinstance(raw, list) or not raw or not all(isinstance(f, list) for f in raw):
            raise ArtifactError(where, f"expected a non-empty list of [p, q, r, s, t], "
                                f"got {raw!r}")
        if layer["kind"] == "conv2d":
            outputs, inputs = layer["out_channels"], layer["kernel"] ** 2 * layer["in_channels"]
        else:
            outputs, inputs = layer["out_features"], layer["in_features"]
        try:
            factors = debut.check_chain(raw, inputs, outputs)
        except ValueError as err:
            raise ArtifactError(where, f"{err}, got {raw!r}") from None
        mid = _int_field(layer, index, "mid_bits", *debut.MID_BITS)
        shifts = layer["shifts"]
        if (not isinstance(shifts, list) or len(shifts) != len(factors) - 1
                or any(not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_SHIFT
                       for v in shifts)):
            raise ArtifactError(_where(index, "shifts"), f"expected {len(factors) - 1} "
                                f"integer(s) 0..{MAX_SHIFT}, one after each factor but the "
                                f"last, got {shifts!r}")
        return {"weight_bits": _int_field(layer, index, "weight_bits", *WEIGHT_BITS),
                "factors": [list(f.as_tuple()) for f in factors], "shifts": list(shifts),
                "mid_bits": mid}

    @staticmethod
    def chain(layer: "Layer") -> list:
        """The checked layer's :class:`~edgeforge.schemes.network_debut.Factor` list."""
        return [debut.Factor(*f) for f in layer.fields["factors"]]

    def array_specs(self, layer, network):
        bits = layer.fields["weight_bits"]
        specs = {f"l{layer.index}_f{k}": ArraySpec("int8", f.theta_shape, bits, True)
                 for k, f in enumerate(self.chain(layer))}
        specs[f"l{layer.index}_bias"] = ArraySpec("int32", (self.size(layer)[0],),
                                                  layer.fields["bias_bits"], True)
        return specs

    def ranges(self, layer, arrays, lo: int, hi: int) -> tuple:
        """Each factor's :class:`~edgeforge.schemes.network_debut.FactorRange` for inputs in
        ``lo..hi`` (:func:`~edgeforge.schemes.network_debut.chain_ranges`)."""
        f = layer.fields
        thetas = [arrays[f"l{layer.index}_f{k}"] for k in range(len(f["factors"]))]
        return debut.chain_ranges(self.chain(layer), thetas, arrays[f"l{layer.index}_bias"],
                                  f["shifts"], f["mid_bits"], self.size(layer)[1], lo, hi,
                                  f["shift"])

    def acc_range(self, layer, arrays, lo, hi):
        return self.ranges(layer, arrays, lo, hi)[-1].acc_range, {}

    # -- folding: one lane count per factor ------------------------------------------------
    def check_folding(self, where, value, layer):
        chain = self.chain(layer)
        if not isinstance(value, (list, tuple)) or len(value) != len(chain):
            raise ValueError(f"{where} must list the MAC lanes of each of its {len(chain)} "
                             f"factors, got {value!r}")
        for k, (f, lanes) in enumerate(zip(chain, value)):
            debut.lane_split(f, lanes, f"{where}, factor {k + 1}")
        return tuple(value)

    def folded(self, layer):
        return tuple(1 for _ in self.chain(layer))

    def parallel(self, layer):
        return tuple(f.params for f in self.chain(layer))

    def candidates(self, layer):
        from itertools import product
        return [tuple(c) for c in product(*(debut.lane_counts(f) for f in self.chain(layer)))]

    def fold_cost(self, layer, fold):
        # The fewest MAC lanes in all.
        return (sum(fold),)

    def core_params(self, layer, fold):
        folds = [debut.fold_count(f, lanes) for f, lanes in zip(self.chain(layer), fold)]
        return {"factors": layer.fields["factors"], "factor_lanes": list(fold),
                "factor_folds": folds, "folds": max(folds), "emit": max(folds),
                "lanes": self.size(layer)[0], "beats": 1,
                "weight_bits": layer.fields["weight_bits"], "mid_bits": layer.fields["mid_bits"]}

    def bias_span(self, layer):
        return 1 << (layer.fields["weight_bits"] + 6)

    def calibrate(self, layer, arrays, lo, hi):
        """Shifts between factors aimed, as :func:`random_artifact` aims a layer's shift, at
        a quarter of each factor's worst case mapped onto the ``mid_bits`` range."""
        n = len(layer.fields["factors"])
        target = (1 << (layer.fields["mid_bits"] - 1)) - 1
        shifts: list[int] = []
        for k in range(n - 1):
            # Factor k's range depends on the shifts before it only.
            fields = {**layer.fields, "shifts": shifts + [0] * (n - 1 - len(shifts))}
            probe = Layer(layer.index, layer.kind, fields, layer.in_shape, layer.out_shape,
                          layer.relu)
            acc_lo, acc_hi = self.ranges(probe, arrays, lo, hi)[k].acc_range
            shifts.append(min(MAX_SHIFT, max(0, (max(abs(acc_lo), acc_hi) // 4).bit_length()
                                             - target.bit_length())))
        return {"shifts": shifts}


#: Transform kinds: name -> :class:`Transform`.
TRANSFORMS: dict[str, Transform] = {"dense": DenseTransform(), "pecan-d": PecanDTransform(),
                                    "pecan-a": PecanATransform(), "debut": DebutTransform()}


@dataclass(frozen=True)
class Layer:
    """One checked layer: its position, kind, fields and the shapes it maps between.

    Shapes are ``(C, H, W)`` for maps and ``(F,)`` for vectors.
    """
    index: int
    kind: str
    fields: Mapping
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    relu: bool = False          # conv2d / linear: a relu layer follows (unsigned clip)

    @property
    def transform(self) -> Transform | None:
        return TRANSFORMS[self.fields["transform"]] if self.kind in TRANSFORM_LAYERS else None


@dataclass(frozen=True)
class Network:
    """A checked network config: the input and the layers with their shapes."""
    channels: int
    height: int
    width: int
    bits: int
    layers: tuple[Layer, ...]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.height, self.width)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].out_shape

    def input_type(self, index: int) -> tuple[int, bool]:
        """``(bits, signed)`` of layer ``index``'s input activations: the clip type of the
        last conv2d / linear before it (unsigned with a relu), else the image's."""
        for layer in reversed(self.layers[:index]):
            if layer.transform is not None:
                return layer.fields["out_bits"], not layer.relu
        return self.bits, False

    def array_specs(self) -> dict[str, ArraySpec]:
        specs = {}
        for layer in self.layers:
            if layer.transform is not None:
                specs.update(layer.transform.array_specs(layer, self))
        return specs


def _check_input(config: dict) -> dict:
    inp = config["input"]
    if not isinstance(inp, dict):
        raise ArtifactError("config.input", f"expected a dict, got {inp!r}")
    known = ("channels", "height", "width", "bits")
    for key in inp:
        if key not in known:
            raise ArtifactError(f"config.input.{key}", f"unknown input field; known: {list(known)}")
    out = {}
    for key in known:
        if key not in inp:
            raise ArtifactError(f"config.input.{key}", "missing")
        value = inp[key]
        hi = MAX_INPUT_BITS if key == "bits" else None
        if (not isinstance(value, int) or isinstance(value, bool) or value < 1
                or (hi is not None and value > hi)):
            span = f"1..{hi}" if hi else ">= 1"
            raise ArtifactError(f"config.input.{key}", f"expected an integer {span}, got {value!r}")
        out[key] = value
    return out


def _check_fields(layer, index: int) -> dict:
    """The layer's kind and fields, each type- and range-checked (shapes are chained later)."""
    if not isinstance(layer, dict):
        raise ArtifactError(_where(index), f"expected a layer dict, got {layer!r}")
    kind = layer.get("kind")
    if kind not in LAYER_FIELDS:
        raise ArtifactError(_where(index, "kind"), f"expected one of {sorted(LAYER_FIELDS)}, "
                            f"got {kind!r}")
    expected = list(LAYER_FIELDS[kind])
    transform = None
    if kind in TRANSFORM_LAYERS:
        name = layer.get("transform")
        if name not in TRANSFORMS:
            raise ArtifactError(_where(index, "transform"), f"expected one of "
                                f"{sorted(TRANSFORMS)}, got {name!r}")
        transform = TRANSFORMS[name]
        expected += transform.extra_fields
    known = expected + list(transform.optional_fields if transform is not None else ())
    for key in layer:
        if key != "kind" and key not in known:
            raise ArtifactError(_where(index, key), f"unknown {kind} field; known: {known}")
    for key in expected:
        if key not in layer:
            raise ArtifactError(_where(index, key), f"missing from the {kind} layer")
    fields = {}
    positive = ("in_channels", "out_channels", "in_features", "out_features")
    for key in LAYER_FIELDS[kind]:
        if key == "transform":
            fields[key] = layer[key]
        elif key in positive:
            fields[key] = _int_field(layer, index, key, 1)
        elif key == "kernel":
            fields[key] = _int_field(layer, index, key, 1)
            if fields[key] % 2 == 0:
                raise ArtifactError(_where(index, key), f"expected an odd kernel size, "
                                    f"got {fields[key]!r}")
        elif key == "padding":
            fields[key] = _int_field(layer, index, key, 0, fields["kernel"] // 2)
        elif key == "bias_bits":
            fields[key] = _int_field(layer, index, key, *BIAS_BITS)
        elif key == "out_bits":
            fields[key] = _int_field(layer, index, key, *OUT_BITS)
        elif key == "shift":
            fields[key] = _int_field(layer, index, key, 0, MAX_SHIFT)
        elif key == "size":
            fields[key] = _int_field(layer, index, key, 2)
    if transform is not None:
        fields.update(transform.check_fields(layer, index))
    return {"kind": kind, **fields}


def _chain(kind: str, fields: dict, index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The output shape of a layer given its input ``shape``; refuses a mismatch."""
    def need_map():
        if len(shape) != 3:
            raise ArtifactError(_where(index), f"{kind} needs a (C, H, W) map as input, got "
                                f"shape {shape!r}")
    if kind == "conv2d":
        need_map()
        c, h, w = shape
        if fields["in_channels"] != c:
            raise ArtifactError(_where(index, "in_channels"), f"expected {c} (the input's "
                                f"channels), got {fields['in_channels']!r}")
        k, p = fields["kernel"], fields["padding"]
        ho, wo = h + 2 * p - k + 1, w + 2 * p - k + 1
        if ho < 1 or wo < 1:
            raise ArtifactError(_where(index, "kernel"), f"a {k}x{k} kernel with padding {p} "
                                f"does not fit the {h}x{w} input, got kernel {k!r}")
        return (fields["out_channels"], ho, wo)
    if kind == "linear":
        if len(shape) != 1:
            raise ArtifactError(_where(index), f"linear needs a vector input (flatten first), "
                                f"got shape {shape!r}")
        if fields["in_features"] != shape[0]:
            raise ArtifactError(_where(index, "in_features"), f"expected {shape[0]} (the "
                                f"input's features), got {fields['in_features']!r}")
        return (fields["out_features"],)
    if kind == "maxpool":
        need_map()
        c, h, w = shape
        s = fields["size"]
        if h % s or w % s:
            raise ArtifactError(_where(index, "size"), f"must divide the {h}x{w} map, got {s!r}")
        return (c, h // s, w // s)
    if kind == "flatten":
        need_map()
        return (shape[0] * shape[1] * shape[2],)
    return shape                                    # relu, argmax


def parse_network(config: dict) -> Network:
    """Check a network config and chain its shapes.

    Raises
    ------
    ArtifactError
        Naming ``config.input.<field>``, ``config.layers[i]`` or
        ``config.layers[i].<field>`` and the bad value.
    """
    if not isinstance(config, dict):
        raise ArtifactError("config", f"expected a dict, got {config!r}")
    for key in config:
        if key not in ("input", "layers"):
            raise ArtifactError(f"config.{key}", "unknown network config field; known: "
                                "['input', 'layers']")
    for key in ("input", "layers"):
        if key not in config:
            raise ArtifactError(f"config.{key}", "missing")
    inp = _check_input(config)
    raw = config["layers"]
    if not isinstance(raw, list) or not raw:
        raise ArtifactError("config.layers", f"expected a non-empty list, got {raw!r}")
    checked = [_check_fields(layer, i) for i, layer in enumerate(raw)]
    kinds = [fields.pop("kind") for fields in checked]
    layers, shape = [], (inp["channels"], inp["height"], inp["width"])
    for i, fields in enumerate(checked):
        kind = kinds[i]
        prev = kinds[i - 1] if i else None
        if kind == "relu" and prev not in TRANSFORM_LAYERS:
            raise ArtifactError(_where(i, "kind"), f"relu must directly follow a conv2d or "
                                f"linear, got it after {prev!r}")
        if kind == "argmax":
            if i != len(checked) - 1:
                raise ArtifactError(_where(i, "kind"), f"argmax must be the last layer, got it "
                                    f"at index {i!r} of {len(checked)}")
            if prev != "linear":
                raise ArtifactError(_where(i, "kind"), f"argmax must directly follow a linear, "
                                    f"got it after {prev!r}")
        out = _chain(kind, fields, i, shape)
        relu = kind in TRANSFORM_LAYERS and i + 1 < len(kinds) and kinds[i + 1] == "relu"
        layers.append(Layer(index=i, kind=kind, fields=fields, in_shape=shape, out_shape=out,
                            relu=relu))
        shape = out
    return Network(channels=inp["channels"], height=inp["height"], width=inp["width"],
                   bits=inp["bits"], layers=tuple(layers))


# -- integer ranges ----------------------------------------------------------------------

def range_bits(lo: int, hi: int) -> tuple[int, bool]:
    """``(bits, signed)`` of the narrowest two's-complement or unsigned type holding ``lo..hi``."""
    if lo >= 0:
        return max(1, int(hi).bit_length()), False
    return max(int(-lo - 1).bit_length(), int(max(hi, 0)).bit_length()) + 1, True


def clip_range(layer: Layer) -> tuple[int, int]:
    """The saturation bounds of a conv2d / linear layer's output."""
    bits = layer.fields["out_bits"]
    return (0, (1 << bits) - 1) if layer.relu else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)


def requant_range(lo: int, hi: int, shift: int) -> tuple[int, int]:
    """What round-half-up shifting maps ``lo..hi`` to (it is monotonic)."""
    if shift == 0:
        return lo, hi
    half = 1 << (shift - 1)
    return (lo + half) >> shift, (hi + half) >> shift


@dataclass(frozen=True)
class LayerWidths:
    """Exact integer ranges of one layer, derived from its weights and its input range.

    ``acc_range`` bounds every partial sum too: it is taken over inputs in ``in_range``
    and 0, and a partial sum is a full sum with some inputs 0. ``out_range`` is what the
    layer can actually emit, within ``clip``; the stream after the layer carries
    ``out_bits``/``out_signed`` (the narrowest type of ``out_range``).
    """
    index: int
    kind: str
    in_range: tuple[int, int]
    out_range: tuple[int, int]
    acc_range: tuple[int, int] | None = None
    acc_bits: int | None = None          # signed width holding acc_range (and acc + rounding half)
    clip: tuple[int, int] | None = None
    transform: Mapping | None = None     # the transform kind's own widths (PECAN-D: dist_bits)

    @property
    def in_bits(self) -> tuple[int, bool]:
        return range_bits(*self.in_range)

    @property
    def out_bits(self) -> tuple[int, bool]:
        return range_bits(*self.out_range)


@dataclass(frozen=True)
class NetworkWidths:
    """Every layer's :class:`LayerWidths`, in layer order; relu layers pass their input on."""
    layers: tuple[LayerWidths, ...]

    def to_dict(self) -> list[dict]:
        out = []
        for lw in self.layers:
            bits, signed = lw.out_bits
            entry = {"index": lw.index, "kind": lw.kind, "in_range": list(lw.in_range),
                     "out_range": list(lw.out_range), "out_bits": bits, "out_signed": signed}
            if lw.acc_range is not None:
                entry.update(acc_range=list(lw.acc_range), acc_bits=lw.acc_bits,
                             clip=list(lw.clip), **dict(lw.transform or {}))
            out.append(entry)
        return out


def codebook_type(codebook) -> tuple[int, bool]:
    """``(bits, signed)`` of a PECAN-D codebook's values in hardware: the narrowest type of
    its actual values (the ROM word and the subtractors' width)."""
    cb = np.asarray(codebook, np.int64)
    return range_bits(int(cb.min()), int(cb.max()))


def _acc_range(weight: np.ndarray, bias: np.ndarray, lo: int, hi: int) -> tuple[int, int]:
    """Extremes over output channels of ``bias + sum(w x)`` for x in ``lo..hi`` and 0.

    0 joins the range because zero padding feeds it and because a partial sum
    (a fold of the sum) is a full sum with some x set to 0.
    """
    lo, hi = min(lo, 0), max(hi, 0)
    w = weight.reshape(len(weight), -1).astype(np.int64)
    b = bias.astype(np.int64)
    low = b + np.minimum(w * lo, w * hi).sum(axis=1)
    high = b + np.maximum(w * lo, w * hi).sum(axis=1)
    return int(low.min()), int(high.max())


def derive_widths(network: Network, arrays: Mapping[str, np.ndarray],
                  upto: int | None = None) -> NetworkWidths:
    """Each layer's input, accumulator and output range from the actual integers (exact worst case).

    ``upto`` stops after that many layers (whose arrays are all that is needed).
    """
    rng = (0, (1 << network.bits) - 1)
    out = []
    for layer in network.layers[:upto]:
        if layer.kind in TRANSFORM_LAYERS:
            i = layer.index
            acc, own = layer.transform.acc_range(layer, arrays, *rng)
            clip = clip_range(layer)
            shift = layer.fields["shift"]
            r_lo, r_hi = requant_range(*acc, shift)
            result = (min(max(r_lo, clip[0]), clip[1]), min(max(r_hi, clip[0]), clip[1]))
            # acc + (1 << (shift - 1)) must fit as well as acc itself.
            half = (1 << (shift - 1)) if shift else 0
            acc_bits = range_bits(min(acc[0], -1), acc[1] + half)[0]
            out.append(LayerWidths(i, layer.kind, rng, result, acc, acc_bits, clip, own))
        else:
            out.append(LayerWidths(layer.index, layer.kind, rng, rng))
            result = rng
        rng = result
    return NetworkWidths(tuple(out))


class NetworkScheme(Scheme):
    name = "network"
    version = 1
    flows = "edgeforge.schemes.network_flows"
    title = "classifier networks"

    def check_config(self, config: dict) -> dict:
        parse_network(config)
        return {"input": dict(config["input"]),
                "layers": [dict(layer) for layer in config["layers"]]}

    def array_specs(self, config: dict) -> dict[str, ArraySpec]:
        return parse_network(config).array_specs()

    def design(self, artifact, **hw_config):
        from ..hw.network.design import NetworkDesign
        return NetworkDesign(artifact, **hw_config)

    def design_options(self, config: dict) -> dict:
        # A design made for target_cycles records the folding it chose as well; it is
        # rebuilt from the target alone, as it was made (the two together are refused).
        options = dict(config)
        if "target_cycles" in options:
            options.pop("folding", None)
        return options


def random_artifact(config: dict, seed: int = 0, extremes: float = 0.25,
                    shifts: bool = True) -> "Artifact":
    """A built-in network artifact with seeded random weights and biases (no training needed).

    Parameters
    ----------
    config : dict
        A network config; each conv2d / linear ``shift`` is replaced (when
        ``shifts``) by one that maps the layer's accumulator range onto about
        its output range, so that activations neither vanish nor all saturate.
    seed : int
    extremes : float
        Fraction of weights and biases set to the ends of their signed range
        (the int8 extremes at 8 bits), the rest uniform over it.
    """
    from ..artifact import Artifact
    rng = np.random.default_rng(seed)
    config = {"input": dict(config["input"]), "layers": [dict(l) for l in config["layers"]]}
    arrays: dict[str, np.ndarray] = {}
    for index in range(len(config["layers"])):
        # Shapes and input ranges of the layers so far decide this layer's shift.
        network = parse_network(config)
        layer = network.layers[index]
        if layer.transform is None:
            continue
        arrays.update(layer.transform.random_arrays(layer, network, rng, extremes))
        if shifts:
            in_range = derive_widths(network, arrays, upto=index + 1).layers[index].in_range
            config["layers"][index].update(layer.transform.calibrate(layer, arrays, *in_range))
            network = parse_network(config)
            widths = derive_widths(network, arrays, upto=index + 1).layers[index]
            lo, hi = widths.acc_range
            target = (1 << layer.fields["out_bits"]) - 1
            # The typical magnitude is far below the worst case: aim at a quarter of it.
            shift = max(0, (max(abs(lo), hi) // 4).bit_length() - target.bit_length())
            config["layers"][index]["shift"] = min(shift, MAX_SHIFT)
    return Artifact(scheme="network", config=NetworkScheme().check_config(config),
                    arrays=arrays, provenance={"source": "edgeforge built-in random", "seed": seed})


def random_config(seed: int = 0, *, max_side: int = 6, max_channels: int = 4,
                  transforms: tuple[str, ...] = ("dense",)) -> dict:
    """A seeded random small network config: convs (with or without relu and pooling), flatten,
    linears, argmax; random kernels, paddings and bit-widths (shifts are placeholders that
    :func:`random_artifact` replaces). Each conv2d / linear takes a transform kind drawn
    from ``transforms`` (:func:`with_transform`)."""
    rng = np.random.default_rng(seed)
    c = int(rng.integers(1, 3))
    h, w = (int(v) for v in rng.integers(3, max_side + 1, size=2))
    config = {"input": {"channels": c, "height": h, "width": w, "bits": 8}, "layers": []}
    layers = config["layers"]

    def bits():
        return {"weight_bits": int(rng.integers(2, 9)), "bias_bits": int(rng.integers(8, 17)),
                "shift": 0, "out_bits": int(rng.integers(2, 9))}

    for _ in range(int(rng.integers(0, 3))):
        k = int(rng.choice([1, 3])) if min(h, w) >= 3 else 1
        p = int(rng.integers(0, k // 2 + 1))
        out = int(rng.integers(1, max_channels + 1))
        layers.append({"kind": "conv2d", "transform": "dense", "in_channels": c,
                       "out_channels": out, "kernel": k, "padding": p, **bits()})
        c, h, w = out, h + 2 * p - k + 1, w + 2 * p - k + 1
        if rng.random() < 0.6:
            layers.append({"kind": "relu"})
        if h % 2 == 0 and w % 2 == 0 and rng.random() < 0.6:
            layers.append({"kind": "maxpool", "size": 2})
            h, w = h // 2, w // 2
    layers.append({"kind": "flatten"})
    features = c * h * w
    for _ in range(int(rng.integers(0, 2))):
        out = int(rng.integers(2, 9))
        layers += [{"kind": "linear", "transform": "dense", "in_features": features,
                    "out_features": out, **bits()}, {"kind": "relu"}]
        features = out
    layers.append({"kind": "linear", "transform": "dense", "in_features": features,
                   "out_features": int(rng.integers(2, 7)), **bits()})
    layers.append({"kind": "argmax"})
    if tuple(transforms) == ("dense",):
        return config
    # A second generator, so that the dense draws above stay those of a dense-only config.
    rng = np.random.default_rng([seed, 1])
    for index, layer in enumerate(layers):
        if layer["kind"] in TRANSFORM_LAYERS:
            layers[index] = with_transform(layer, str(rng.choice(list(transforms))), rng)
    return config


def with_transform(layer: dict, name: str, rng=None) -> dict:
    """A dense conv2d / linear layer dict recast as transform kind ``name``; for
    ``"pecan-d"`` / ``"pecan-a"`` with seeded random groups (a divisor of the inputs),
    prototypes (1..6) and table bits (3..12) (PECAN-A: codebook bits 2..8, exp table of
    2..8 bits and 1..40 entries, reciprocal of 2..12 bits), or, without ``rng``, one group
    per tap (``d`` = the input channels; a linear: groups of 4 where they divide) of 8
    prototypes and 8-bit tables (PECAN-A: 8-bit codebooks, a 32-entry 8-bit exp table, a
    12-bit reciprocal). PECAN-A's ``exp_shift`` is a placeholder that
    :func:`random_artifact` replaces (:meth:`PecanATransform.calibrate`)."""
    layer = {key: value for key, value in layer.items() if key != "weight_bits"}
    if name == "dense":
        return {**layer, "transform": "dense", "weight_bits": 8}
    if name not in ("pecan-d", "pecan-a"):
        raise ValueError(f"name must be one of {sorted(TRANSFORMS)}, got {name!r}")
    inputs = (layer["kernel"] ** 2 * layer["in_channels"] if layer["kind"] == "conv2d"
              else layer["in_features"])
    if rng is None:
        d = layer["in_channels"] if layer["kind"] == "conv2d" else (4 if inputs % 4 == 0 else 1)
        p, table_bits = 8, 8
    else:
        d = int(rng.choice(_divisors(inputs)))
        p, table_bits = int(rng.integers(1, 7)), int(rng.integers(3, 13))
    out = {**layer, "transform": name, "groups": inputs // d, "group_size": d,
           "prototypes": p, "table_bits": table_bits}
    if name == "pecan-a":
        if rng is None:
            out.update(codebook_bits=8, exp_bits=8, exp_entries=32, exp_shift=0, recip_bits=12,
                       recip_shift=0)
        else:
            eb = int(rng.integers(2, 9))
            out.update(codebook_bits=int(rng.integers(2, 9)), exp_bits=eb,
                       exp_entries=int(rng.integers(1, 41)), exp_shift=0,
                       recip_bits=int(rng.integers(2, 13)),
                       recip_shift=int(rng.integers(0, max(1, eb - 1))))
    return out
