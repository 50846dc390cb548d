"""Train a classifier network on digits on CPU: float first, then quantisation-aware, seeded and repeatable.

Recipe: AdamW (betas 0.9/0.999, weight decay ``TrainConfig.weight_decay``),
cross-entropy on the logits, batches drawn as shuffled epochs of the training
split (random shifts of the 8x8 images by one pixel lowered test accuracy by
about 1.5 points in a 5-seed trial, so there is no augmentation). The first ``1 - qat_fraction`` of the
iterations train the float network (cosine learning rate from ``lr`` to 0);
then :meth:`~edgeforge.models.network.net.QNet.calibrate` fixes every
power-of-two exponent from the training set, and the rest train the
fixed-point network (straight-through rounding) with a cosine from
``lr * qat_lr`` to 0. The network after the last iteration is the result: no
checkpoint is picked on the test split, which only measures.

PECAN-D layers (:mod:`edgeforge.models.pecan.layers`) train in the same loop: before the
first step their codebooks are initialised from the training images (k-medians of each
layer's inputs, first layer first), their surrogate gradient sharpens with the step
(``exp(4 step / iterations)``), and the codebooks take no weight decay. With ``frozen``
(the paper's prototypes-only mode) the weights and biases come from a trained network
artifact of the same shapes and stay fixed: only the codebooks train. Two optional
schedules (``TrainConfig.soft_match``, ``TrainConfig.progressive``) make the PECAN-D forward
soft for a first share of the steps, or convert the layers from dense one at a time.

Repeatability: :func:`train_network` seeds torch (weights, codebook init) and a NumPy PCG64
generator (batches) from ``TrainConfig.seed``, turns on
``torch.use_deterministic_algorithms`` and runs ``TrainConfig.threads``
threads, so the same seed and thread count give the same weights, exponents
and artifact, byte for byte.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from ..image_sets import DIGITS, ImageSet
from ..pecan.pq import soft_temperature
from ..train_checks import check_positive_ints
from .net import QNet
from .zoo import preset as named_preset

__all__ = ["TrainConfig", "TrainResult", "train_network", "accuracy"]


@dataclass(frozen=True)
class TrainConfig:
    """Schedule of one training run.

    The defaults train digits-ref to about 98 % test accuracy in well under
    a minute on one CPU thread (weight decay 0.05 was the best of 0.0001,
    0.01, 0.05 and 0.2 over 5 seeds: the network reaches 100 % on the
    training split, so regularisation is what moves the test accuracy).

    Attributes
    ----------
    iterations : int
        Optimiser steps in all, float and QAT together.
    qat_fraction : float
        Share of ``iterations`` trained quantisation-aware, at the end (0 < f <= 1).
    batch : int
        Images per step.
    lr : float
        Peak AdamW learning rate of the float phase.
    qat_lr : float
        Peak learning rate of the QAT phase as a fraction of ``lr``.
    weight_decay : float
        AdamW's decoupled weight decay.
    seed : int
        Seeds the weights (torch) and the batches (NumPy).
    threads : int
        ``torch.set_num_threads`` during training (part of what makes a run
        repeatable: a different count may sum in a different order).
    warmup : float
        Share of ``iterations`` (within the float phase) at the start in which PECAN-D
        layers run dense; their codebooks are initialised from the data when it ends.
        No effect on a dense network.
    distill : float
        Weight ``alpha`` in [0, 1] of knowledge distillation from a teacher network's
        logits (``train_network(..., teacher=...)``): the loss is ``(1 - alpha) CE +
        alpha T**2 KL(softmax(teacher / T) || softmax(student / T))`` (Hinton et al.,
        2015). 0: cross-entropy only.
    distill_temperature : float
        ``T`` of the distillation term.
    codebook_lr : float
        The PECAN-D codebooks' learning rate as a share of the weights' (both phases);
        0 keeps them as initialised from the data.
    soft_match : float
        Share of ``iterations`` in [0, 1) at the start (within the float phase) in which
        the PECAN-D layers' forward is the soft match, the prototypes mixed by
        ``softmax(-L1 / tau)``, ``tau`` annealed geometrically from ``soft_tau`` to
        :data:`~edgeforge.models.pecan.pq.SOFT_TAU_END` of it; then the hard match (the
        paper's straight-through training). Evaluation is always hard. 0: hard throughout.
    soft_tau : float
        The soft forward's starting temperature (the paper's backward one, 0.5, by default).
    progressive : float
        Share of ``iterations`` in [0, 1) (within the float phase) over which the PECAN-D
        layers leave dense one at a time, first to last: of ``n`` such layers, the ``k``-th
        (from 0) at iteration ``round(k progressive iterations / n)``, its codebook then
        initialised on the inputs the layers before it (already converted) give; the
        network fine-tunes between conversions. Meant for a start from dense weights
        (``init``); not with ``warmup``. 0: all at once.
    """
    iterations: int = 4000
    qat_fraction: float = 0.4
    batch: int = 64
    lr: float = 1e-2
    qat_lr: float = 0.3
    weight_decay: float = 5e-2
    seed: int = 0
    threads: int = 1
    warmup: float = 0.0
    distill: float = 0.0
    distill_temperature: float = 4.0
    codebook_lr: float = 1.0
    soft_match: float = 0.0
    soft_tau: float = 0.5
    progressive: float = 0.0

    def __post_init__(self):
        check_positive_ints(self, ("iterations", "batch", "threads"))
        for name in ("lr", "qat_lr", "distill_temperature", "soft_tau"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"TrainConfig.{name} must be a positive number, got {value!r}")
        f = self.qat_fraction
        if not isinstance(f, (int, float)) or isinstance(f, bool) or not 0 < f <= 1:
            raise ValueError(f"TrainConfig.qat_fraction must be in (0, 1], got {f!r}")
        wd = self.weight_decay
        if not isinstance(wd, (int, float)) or isinstance(wd, bool) or not wd >= 0:
            raise ValueError(f"TrainConfig.weight_decay must be a number >= 0, got {wd!r}")
        for name in ("warmup", "soft_match", "progressive"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
                raise ValueError(f"TrainConfig.{name} must be in [0, 1), got {value!r}")
        if self.progressive and self.warmup:
            raise ValueError(f"TrainConfig.progressive: not with warmup (progressive "
                             f"{self.progressive!r}, warmup {self.warmup!r}): a progressive "
                             f"schedule keeps the layers dense until their turn")
        c = self.codebook_lr
        if not isinstance(c, (int, float)) or isinstance(c, bool) or not c >= 0:
            raise ValueError(f"TrainConfig.codebook_lr must be a number >= 0, got {c!r}")
        a = self.distill
        if not isinstance(a, (int, float)) or isinstance(a, bool) or not 0 <= a <= 1:
            raise ValueError(f"TrainConfig.distill must be in [0, 1], got {a!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"TrainConfig.seed must be an integer, got {self.seed!r}")

    @property
    def float_iterations(self) -> int:
        """Iterations before calibration (the rest are QAT; at least one QAT step)."""
        return min(self.iterations - 1, round(self.iterations * (1 - self.qat_fraction)))

    @property
    def warmup_iterations(self) -> int:
        """Iterations at the start with PECAN-D layers dense (within the float phase)."""
        return min(self.float_iterations, round(self.iterations * self.warmup))

    @property
    def soft_iterations(self) -> int:
        """Iterations at the start with the soft forward (within the float phase)."""
        return min(self.float_iterations, round(self.iterations * self.soft_match))

    def conversion_steps(self, layers: int) -> list[int]:
        """The iteration at which each of ``layers`` PECAN-D layers leaves dense, first to
        last (all 0 without ``progressive``)."""
        span = min(self.float_iterations, round(self.iterations * self.progressive))
        return [round(k * span / layers) for k in range(layers)]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """What :func:`train_network` returns.

    Attributes
    ----------
    net : QNet
        The calibrated fixed-point network after the last iteration.
    preset : str
        The preset's name, or ``"custom"`` for a network passed as a dict.
    config : TrainConfig
    float_accuracy : float
        Test accuracy of ``net`` (the fixed-point arithmetic, run in float by torch).
    unquantised_accuracy : float
        Test accuracy of the float network just before calibration.
    train_accuracy : float
        Training-set accuracy of ``net``.
    frozen : str or None
        Content hash of the artifact whose weights were frozen (prototypes-only training).
    provenance : dict
        Entries for the artifact's provenance from whoever built the starting network
        (DeBut: the conversion, :func:`edgeforge.models.debut.convert.convert`).
    history : list of dict
        ``{"iteration", "phase", "loss", "lr"}`` every ``iterations // 20`` iterations
        (``loss``: the mean since the previous row).
    seconds : float
        Wall time of the run.
    data : ImageSet
        What it was trained and scored on.
    """
    net: QNet
    preset: str
    config: TrainConfig
    float_accuracy: float
    unquantised_accuracy: float
    train_accuracy: float
    frozen: str | None = None
    provenance: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    data: ImageSet = DIGITS


#: Images an evaluation runs at once (MNIST's 60,000 at once would hold gigabytes of
#: activations; digits' 1,257 are one chunk).
CHUNK = 4096

#: Training images that calibrate the exponents and initialise codebooks: all of digits'
#: 1,257; the first 10,000 of a larger set (a range, not a model: the extremes of 10,000
#: images).
CALIBRATION_IMAGES = 10_000


def accuracy(net: QNet, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``images`` whose predicted class is the label."""
    hits = sum(int(np.sum(net.predict(images[i:i + CHUNK]) == labels[i:i + CHUNK]))
               for i in range(0, len(images), CHUNK))
    return hits / len(images)


class _Batches:
    """Shuffled epochs of the training split, ``batch`` images at a time."""

    def __init__(self, n: int, batch: int, rng: np.random.Generator):
        self.n, self.batch, self.rng = n, min(batch, n), rng
        self.order, self.pos = rng.permutation(n), 0

    def next(self) -> np.ndarray:
        if self.pos + self.batch > self.n:
            self.order, self.pos = self.rng.permutation(self.n), 0
        idx = self.order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx


def _cosine(step: int, steps: int) -> float:
    return 0.5 * (1 + math.cos(math.pi * step / max(1, steps)))


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("[bold]{task.fields[phase]}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console)


def _artifact(source):
    from ...artifact import Artifact, load
    return source if isinstance(source, Artifact) else load(source)


def _load_weights(net: QNet, source, *, freeze: bool, what: str = "frozen") -> str:
    """Copy the weights and biases of a trained network artifact into ``net`` (conv2d /
    linear layers in order, the same shapes; any transform kind on either side), frozen
    if ``freeze``; return the artifact's content hash. Errors start with ``what`` (the
    parameter's name)."""
    from .export import network_from_artifact
    art = _artifact(source)
    source = network_from_artifact(art)
    ours, theirs = net.quant_layers(), source.quant_layers()
    if len(ours) != len(theirs):
        raise ValueError(f"{what} must have the network's {len(ours)} conv2d/linear layers, "
                         f"got {len(theirs)}")
    for (i, m), (_, s) in zip(ours, theirs):
        if getattr(s, "table_int", None) is not None:
            raise ValueError(f"{what} layers[{i}] must hold weights (a dense layer), got "
                             f"{s.transform!r}")
        if m.weight.shape != s.weight.shape:
            raise ValueError(f"{what} layers[{i}] weights must be of shape "
                             f"{tuple(m.weight.shape)}, got {tuple(s.weight.shape)}")
        with torch.no_grad():
            m.weight.copy_(s.weight)
            m.bias.copy_(s.bias)
        m.weight.requires_grad_(not freeze)
        m.bias.requires_grad_(not freeze)
    return art.content_hash


def _teacher_logits(teacher, images: np.ndarray) -> torch.Tensor:
    """The teacher artifact's logits (its fixed-point network, exact) on ``images``."""
    from .export import network_from_artifact
    net = network_from_artifact(_artifact(teacher))
    with torch.no_grad():
        return torch.cat([net.logits(images[i:i + CHUNK]) for i in range(0, len(images), CHUNK)])


def _distillation(logits: torch.Tensor, teacher: torch.Tensor, t: float) -> torch.Tensor:
    """``T**2 KL(softmax(teacher / T) || softmax(logits / T))``, batch mean (the ``T**2``
    keeps its gradient on the cross-entropy's scale)."""
    return t * t * F.kl_div(F.log_softmax(logits / t, dim=1), F.log_softmax(teacher / t, dim=1),
                            log_target=True, reduction="batchmean")


#: Parameters without weight decay: codebooks (prototypes, on the activations' scale) and
#: PECAN-A's softmax sharpness (a log: decay would pull it to the paper's 1, not to 0).
NO_DECAY = ("codebook", "log_sharpness")


def _param_groups(net: QNet, codebook_lr: float = 1.0) -> list[dict]:
    """The trainable parameters; those of :data:`NO_DECAY` in groups of their own without
    weight decay, the codebooks at ``codebook_lr`` times the learning rate (``lr_scale``)."""
    params = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    groups = [{"params": [p for n, p in params if not n.endswith(NO_DECAY)], "lr_scale": 1.0},
              {"params": [p for n, p in params if n.endswith("codebook")], "weight_decay": 0.0,
               "lr_scale": codebook_lr},
              {"params": [p for n, p in params if n.endswith(NO_DECAY) and
                          not n.endswith("codebook")], "weight_decay": 0.0, "lr_scale": 1.0}]
    return [g for g in groups if g["params"]]


def _conversions(net: QNet, config: TrainConfig) -> dict[int, list[int]]:
    """Iteration -> the layer-list indices of the PECAN-D layers that leave dense then
    (:meth:`TrainConfig.conversion_steps`); every one of them dense until its turn."""
    from ..pecan.layers import PecanDLayer
    layers = [i for i, m in net.quant_layers() if isinstance(m, PecanDLayer)]
    out: dict[int, list[int]] = {}
    for i, step in zip(layers, config.conversion_steps(len(layers))):
        net.layers[i].set_warmup(True)
        out.setdefault(step, []).append(i)
    return out


def _convert(net: QNet, layers, images: np.ndarray, generator: torch.Generator) -> None:
    """``layers`` (indices) leave dense, their codebooks from the inputs the network gives."""
    for i in layers:
        net.layers[i].set_warmup(False)
    if layers:
        net.init_from_data(images, generator, only=set(layers))


def _end_warmup(net: QNet, images: np.ndarray, generator: torch.Generator) -> bool:
    """PECAN-D layers leave the dense warm-up: codebooks from the inputs the weights now give."""
    net.set_warmup(False)
    net.init_from_data(images, generator)
    return False


def train_network(preset, config: TrainConfig = TrainConfig(), *, progress: bool = True,
                  frozen=None, init=None, teacher=None, penalty=None, name: str | None = None,
                  data: ImageSet = DIGITS) -> TrainResult:
    """Train a network on a training split (digits unless ``data`` says otherwise): float,
    then calibrated and quantisation-aware.

    Parameters
    ----------
    preset : str, dict or QNet
        A name in :data:`~edgeforge.models.network.zoo.PRESETS` (``"digits-ref"``,
        ``"digits-mlp"``, ``"digits-wide"``, ``"mnist-ref"``, ``"cifar10-ref"``), a network
        dict whose input is ``data``'s images, or an uncalibrated :class:`QNet` to start from (its weights: a
        fine-tune, e.g. of a network converted to DeBut chains and initialised by ALS, or
        pruned or factorised by :mod:`edgeforge.models.compress`; trained in place).
    config : TrainConfig
        Schedule and seed.
    progress : bool
        Show a rich progress bar (phase, loss, time); one summary line per
        phase goes to stderr either way.
    frozen : Artifact or str or pathlib.Path, optional
        A trained network artifact of the same conv2d / linear shapes whose weights
        and biases are copied in and frozen: only the PECAN-D codebooks train.
    init : Artifact or str or pathlib.Path, optional
        As ``frozen``, but the weights and biases copied in keep training (with the
        codebooks, initialised on the inputs these weights give): a PECAN-D network
        fine-tuned from its trained dense version. Not with ``frozen``.
    teacher : Artifact or str or pathlib.Path, optional
        A trained network artifact on the same images whose logits the loss distils
        (weight ``config.distill``, which must then be > 0), e.g. the dense network.
    penalty : callable, optional
        ``penalty(net) -> scalar tensor`` added to the loss at every step (a
        regulariser, e.g. NRMF's nuclear norm; its value is part of the logged loss).
    name : str, optional
        What :attr:`TrainResult.preset` records (default the preset's name, or
        ``"custom"`` for a dict).
    data : ImageSet
        The images to train on and score (:mod:`edgeforge.models.image_sets`; default
        digits).

    Returns
    -------
    TrainResult
        The fixed-point network and its accuracies.

    Raises
    ------
    TypeError
        If ``config`` is not a :class:`TrainConfig`.
    ValueError
        For an unknown preset or a malformed network, or a ``frozen`` artifact that does
        not match it.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {config!r}")
    start = preset if isinstance(preset, QNet) else None
    if start is not None:
        if start.quantized:
            raise ValueError("the network to start from must be uncalibrated (float): "
                             "train_network calibrates it before QAT")
        network = start.network
        name = name or "custom"
    else:
        label, network = ((preset, named_preset(preset)) if isinstance(preset, str)
                          else ("custom", preset))
        name = name or label
    if not isinstance(data, ImageSet):
        raise TypeError(f"data must be an ImageSet, got {data!r}")
    if frozen is not None and init is not None:
        raise ValueError("init: not with frozen (frozen weights already start the network)")
    if (teacher is None) != (config.distill == 0):
        raise ValueError(f"teacher: give one exactly when config.distill > 0 (distill is "
                         f"{config.distill!r}, teacher {'absent' if teacher is None else 'given'})")
    if not isinstance(network, dict):
        raise ValueError(f"the network must be a dict, got {network!r}")
    data.check_input(network.get("input"))
    x_train, y_train = data.load("train")
    x_test, y_test = data.load("test")
    x_cal = x_train[:CALIBRATION_IMAGES]
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    console = Console(stderr=True)
    bar = _progress(console) if progress else None
    t0 = time.monotonic()
    try:
        torch.manual_seed(config.seed)
        net = QNet(network) if start is None else start
        frozen_hash = (_load_weights(net, frozen, freeze=True) if frozen is not None
                       else None)
        # The artifacts that started and taught the network, for its provenance.
        sources = {}
        if init is not None:
            sources["init_weights"] = _load_weights(net, init, freeze=False, what="init")
        soft = None
        if teacher is not None:
            sources["distill_teacher"] = _artifact(teacher).content_hash
            soft = _teacher_logits(teacher, x_train).to(next(net.parameters()).dtype)
        # A generator of its own: a dense network draws nothing from it.
        init = torch.Generator().manual_seed(config.seed)
        warmup = config.warmup_iterations
        warming = warmup > 0
        net.set_warmup(warming)
        # A progressive schedule: the PECAN-D layers leave dense one at a time.
        conversions = _conversions(net, config) if config.progressive else {}
        if not warming:
            if conversions:
                _convert(net, conversions.pop(0, ()), x_cal, init)
            else:
                net.init_from_data(x_cal, init)
        n_soft = config.soft_iterations
        params = _param_groups(net, config.codebook_lr)
        if not params:
            raise ValueError("nothing to train: the weights are frozen and the network has no "
                             "PECAN-D layer")
        rng = np.random.Generator(np.random.PCG64(config.seed))
        batches = _Batches(len(y_train), config.batch, rng)
        labels = torch.from_numpy(y_train)
        opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        n_float = config.float_iterations
        phases = (("float", 0, n_float, config.lr), ("qat", n_float, config.iterations,
                                                      config.lr * config.qat_lr))
        history, unquantised = [], float("nan")
        if bar is not None:
            bar.start()
            task = bar.add_task("train", total=config.iterations, phase="float", loss="--")
        every = max(1, config.iterations // 20)
        for phase, start, stop, peak in phases:
            if phase == "qat":
                net.set_soft(None)
                if warming:
                    warming = _end_warmup(net, x_cal, init)
                net.calibrate(x_cal)
            loss_sum, loss_n = 0.0, 0
            for it in range(start, stop):
                lr = peak * _cosine(it - start, stop - start)
                for group in opt.param_groups:
                    group["lr"] = lr * group["lr_scale"]
                net.set_schedule(it, config.iterations)
                if warming and it == warmup:
                    warming = _end_warmup(net, x_cal, init)
                if it in conversions:
                    net.set_soft(None)            # the codebook init sees the hard match
                    _convert(net, conversions.pop(it), x_cal, init)
                net.set_soft(soft_temperature(it, n_soft, config.soft_tau) if it < n_soft
                             else None)
                idx = batches.next()
                logits = net(net.inputs(x_train[idx]))
                loss = F.cross_entropy(logits, labels[idx])
                if soft is not None:
                    loss = ((1 - config.distill) * loss + config.distill * _distillation(
                        logits, soft[idx], config.distill_temperature))
                if penalty is not None:
                    loss = loss + penalty(net)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
                if (it + 1) % every == 0:
                    history.append({"iteration": it + 1, "phase": phase, "loss": loss_sum / loss_n,
                                    "lr": lr})
                    loss_sum, loss_n = 0.0, 0
                if bar is not None:
                    bar.update(task, completed=it + 1, phase=phase, loss=f"{loss.item():.4f}")
            if phase == "float":
                unquantised = accuracy(net, x_test, y_test)
                console.print(f"float: {stop} iterations, test accuracy {unquantised:.4f}",
                              soft_wrap=True)
        result = TrainResult(net=net, preset=name, config=config,
                             float_accuracy=accuracy(net, x_test, y_test),
                             unquantised_accuracy=unquantised,
                             train_accuracy=accuracy(net, x_train, y_train), frozen=frozen_hash,
                             provenance=sources, history=history,
                             seconds=time.monotonic() - t0, data=data)
        console.print(f"qat: {config.iterations - n_float} iterations, test accuracy "
                      f"{result.float_accuracy:.4f} (train {result.train_accuracy:.4f}), "
                      f"{result.seconds:.1f} s", soft_wrap=True)
        return result
    finally:
        if bar is not None:
            bar.stop()
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
