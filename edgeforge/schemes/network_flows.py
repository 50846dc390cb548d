"""Classifier networks' user-facing parts: the design options of ``generate``, ``verify`` and
``cost``, ``train --scheme network`` and ``evaluate`` (calling the model side,
``edgeforge.models.network``), and the demo flow.

The CLI (``edgeforge.cli``) assembles these; nothing here parses ``sys.argv``.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from . import Command, Option

__all__ = ["DESIGN_OPTIONS", "TRAIN_OPTIONS", "EVALUATE_OPTIONS", "COMMANDS", "DEMO_FLOWS", "folding_arg",
           "train", "evaluate", "accuracy_report"]

console = Console()


def folding_arg(text: str):
    """``folded``, ``parallel`` or ``PExSIMD`` pairs, one per conv2d/linear layer
    (``2x3,4x8,4x8,5x4``); the design checks that each divides its layer."""
    import argparse
    if text in ("folded", "parallel", "balanced"):
        return text
    try:
        return [tuple(int(v) for v in pair.split("x")) for pair in text.split(",") if pair]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected folded, parallel or PExSIMD pairs such as "
                                         f"2x3,4x8, got {text!r}") from None


DESIGN_OPTIONS = (
    Option(("--folding",), "folding", {
        "type": folding_arg, "metavar": "F",
        "help": "networks: folded (PE = SIMD = 1, the smallest; default), parallel (every layer "
                "at once), balanced (each layer with the fewest MACs that keeps the fastest "
                "interval) or PExSIMD per conv/linear layer, e.g. 2x3,4x8,4x8,5x4"}),
    Option(("--pixels-per-beat",), "pixels_per_beat", {
        "type": int, "metavar": "P",
        "help": "networks: input pixels per beat (a divisor of the image's pixels)"}),
    Option(("--logits",), "logits", {
        "action": "store_const", "const": True,
        "help": "networks: the output beat carries the logits above the class"}),
    Option(("--layer",), "layer", {
        "type": int, "metavar": "I",
        "help": "networks: generate layer I (a conv2d, linear or maxpool) alone"}),
    Option(("--buffer-ram",), "buffer_ram", {
        "metavar": "KIND",
        "help": "memory of the line buffers: auto (default), block or lut"}),
    Option(("--datapath",), "datapath", {
        "choices": ("wide", "narrow"),
        "help": "networks: narrow (SIMD inputs a beat between blocks, activations in memories, "
                "FINN-style; the default with --folding folded) or wide (whole pixels and "
                "vectors a beat; the default otherwise)"}),
    # The flag is HKLUT's too (its help text shows); the network design reads it as packets.
    Option(("--axis",), "axis", {
        "action": "store_const", "const": True,
        "help": "networks: AXI4-Stream packet ports (s_axis_*/m_axis_*, tlast = last beat of "
                "an image in, of a result out) instead of i/o"}),
    Option(("--target-cycles",), "target_cycles", {
        "type": int, "metavar": "N",
        "help": "networks: instead of --folding, the cheapest folding (by estimated LUT4) "
                "that takes at most N cycles an image"}),
)


def widths_arg(text: str):
    """One width (``4``) or one per conv/linear layer (``8,4,4,8``)."""
    import argparse
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a width or comma-separated widths such as "
                                         f"8,4,4,8, got {text!r}") from None
    return values[0] if len(values) == 1 else values


def names_arg(text: str):
    """One name (``pecan-d``) or one per conv/linear layer (``dense,pecan-d,pecan-d``)."""
    values = [v.strip() for v in text.split(",") if v.strip()]
    return values[0] if len(values) == 1 else values


def debut_layers_arg(text: str):
    """``all`` or comma-separated layer indices (``3,7``) of the layers to make DeBut chains."""
    import argparse
    if text == "all":
        return text
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values:
        raise argparse.ArgumentTypeError(f"expected all or layer indices such as 3,7, "
                                         f"got {text!r}")
    return values


def data_arg(text: str):
    """``digits``, ``mnist:PATH`` or ``cifar10:PATH`` (:mod:`edgeforge.models.image_sets`)."""
    import argparse

    from ..models.image_sets import image_set
    try:
        return image_set(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


_DATA_OPTION = Option(("--data",), "data", {
    "type": data_arg, "metavar": "SET",
    "help": "networks: digits (built in; default), mnist:PATH (the four idx files) or "
            "cifar10:PATH (the python batches); nothing is downloaded"})

#: The network ``train`` takes on each image set unless ``--preset`` says otherwise.
DEFAULT_PRESETS = {"digits": "digits-ref", "mnist": "mnist-ref", "cifar10": "cifar10-ref"}

#: The transform kinds the PECAN options (--prototypes, --frozen-weights, ...) apply to.
PECAN_KINDS = frozenset({"pecan-d", "pecan-a"})

TRAIN_OPTIONS = (
    Option(("--preset",), "preset", {"choices": ("digits-ref", "digits-wide", "digits-mlp",
                                                 "mnist-ref", "cifar10-ref"),
                                     "help": "networks: the network to train (default "
                                             "digits-ref, with --data mnist:... mnist-ref, "
                                             "with cifar10:... cifar10-ref)"}),
    _DATA_OPTION,
    Option(("--transform",), "transform", {
        "type": names_arg, "metavar": "T",
        "help": "networks: the conv/linear layers' transform kind, one for all (pecan-d) or one "
                "per layer (dense,pecan-d,pecan-d,pecan-d: a dense first layer); default dense"}),
    *(Option((f"--{flag}",), key, {
        "type": widths_arg, "metavar": "N",
        "help": f"networks, PECAN-D / PECAN-A layers: {noun}, one for all or one per PECAN "
                f"layer; "
                f"default {default}"})
      for flag, key, noun, default in (
          ("prototypes", "prototypes", "prototypes per group (p)", "16"),
          ("group-size", "group_size", "values per group (d, a divisor of the layer's inputs)",
           "a conv's channels (its window with one channel), a linear's 4"),
          ("table-bits", "table_bits", "result table bits (2..16)", "8"))),
    Option(("--frozen-weights",), "frozen_weights", {
        "metavar": "NET.npz",
        "help": "networks, PECAN-D / PECAN-A: train the prototypes only, on this trained network's weights "
                "(frozen; the same layer shapes), e.g. the shipped digits-ref"}),
    Option(("--init-weights",), "init_weights", {
        "metavar": "NET.npz",
        "help": "networks, PECAN-D: start the weights from this trained network's (the same "
                "layer shapes, e.g. the shipped digits-ref) and train them with the prototypes, "
                "whose codebooks start on the inputs these weights give"}),
    Option(("--prototype-offsets",), "prototype_offsets", {
        "action": "store_const", "const": True,
        "help": "networks, PECAN-A: add -|c|^2/2 to each prototype's dot product (the "
                "transform's prototype_offsets option: the score becomes a negative squared "
                "distance, so that on non-negative inputs the largest prototype no longer wins "
                "every match; PECAN-A convs need it)"}),
    Option(("--prune",), "prune", {
        "action": "store_const", "const": True,
        "help": "networks, PECAN-D: drop the prototypes no training image matches at export"}),
    Option(("--warmup",), "warmup", {
        "type": float, "metavar": "F",
        "help": "networks, PECAN layers: the share of the iterations that trains them dense "
                "before their codebooks are drawn from the inputs the weights then give "
                "(0 <= F < 1; default 0: codebooks from the start)"}),
    Option(("--debut",), "debut", {
        "type": debut_layers_arg, "metavar": "LAYERS",
        "help": "networks: make conv/linear layers DeBut chains: all, or indices in the layer "
                "list (3,7); the dense network is trained first (or --dense), the chains "
                "initialised from it by ALS, then fine-tuned with the same schedule"}),
    Option(("--debut-budget",), "debut_budget", {
        "type": float, "metavar": "R",
        "help": "networks, with --debut: conv/linear weights at most R times the dense "
                "network's, e.g. 0.25 (default: the fewest at full width)"}),
    Option(("--mid-bits",), "mid_bits", {
        "type": int, "metavar": "B",
        "help": "networks, with --debut: signed bits of the vectors between factors (2..16; "
                "default 8)"}),
    Option(("--dense",), "dense", {
        "metavar": "ART",
        "help": "networks, with --debut: the trained dense network artifact to convert "
                "instead of training one (e.g. models/network/pretrained/digits-ref.npz)"}),
    Option(("--debut-lr",), "debut_lr", {
        "type": float, "metavar": "LR",
        "help": "networks, with --debut: peak learning rate of the fine-tune (default 0.05; "
                "--lr is the dense network's)"}),
    Option(("--als-sweeps",), "als_sweeps", {
        "type": int, "metavar": "N",
        "help": "networks, with --debut: ALS sweeps per layer (default 5)"}),
    *(Option((f"--{what}-bits",), f"{what}_bits", {
        "type": widths_arg, "metavar": "B",
        "help": f"networks: {noun} bits (2..8) of the conv/linear layers, one width for all or "
                f"one per layer (8,4,4,8); default the preset's 8"})
      for what, noun in (("weight", "weight"), ("out", "activation (output)"))),
)

#: ``evaluate --rtl`` runs the RTL at this folding unless ``--folding`` says otherwise: the
#: fastest interval with the fewest MACs, so 540 images simulate in seconds.
RTL_FOLDING = "balanced"

EVALUATE_OPTIONS = (
    Option(("--split",), "split", {"choices": ("test", "train", "all"),
                                   "help": "networks: which images (default test; all: "
                                           "digits only)"}),
    _DATA_OPTION,
    Option(("--rtl",), "rtl", {"action": "store_const", "const": True,
                               "help": "networks: also run the RTL (cocotb on Verilator) on every "
                                       "image, checked bit-exact against the golden model"}),
    Option(("--folding",), "folding", {**DESIGN_OPTIONS[0].kwargs,
                                       "help": f"networks, with --rtl: the folding to run "
                                               f"(default {RTL_FOLDING})"}),
)


def train(args) -> int:
    """``edgeforge train --scheme network``: QAT on digits (or ``--data``), export, accuracies."""
    from ..artifact import save
    from ..models.network import TrainConfig, export_network, train_network
    from ..paths import check_output_file
    check_output_file(args.output, "-o/--output")
    fields = {"iterations": args.iterations, "batch": args.batch, "lr": args.lr,
              "seed": args.seed, "threads": args.threads, "warmup": args.warmup}
    try:
        config = TrainConfig(**{k: v for k, v in fields.items() if v is not None})
    except ValueError as e:
        # TrainConfig names its attribute; on the command line it is the flag.
        raise ValueError(str(e).replace("TrainConfig.", "--")) from None
    from ..models.image_sets import DIGITS
    from ..models.network.zoo import preset, with_transforms, with_widths
    _check_debut_options(args)
    data = args.data or DIGITS
    name = args.preset or DEFAULT_PRESETS[data.kind]
    network = preset(name)
    try:
        data.check_input(network["input"], f"preset {name}")
    except ValueError as e:
        raise ValueError(f"--preset: {e}") from None
    if args.weight_bits is not None or args.out_bits is not None:
        try:
            network = with_widths(network, weight_bits=args.weight_bits, out_bits=args.out_bits)
        except ValueError as e:
            raise ValueError("--" + str(e).replace("_", "-", 1)) from None
    transform = args.transform or "dense"
    kinds = [transform] if isinstance(transform, str) else list(transform)
    pecan = {"prototypes": args.prototypes, "group_size": args.group_size,
             "table_bits": args.table_bits}
    try:
        if not PECAN_KINDS & set(kinds):
            given = [k for k, v in {**pecan, "frozen_weights": args.frozen_weights,
                                    "init_weights": args.init_weights,
                                    "prune": args.prune}.items() if v is not None]
            if given and all(k == "dense" for k in kinds):
                raise ValueError(f"{given[0]}: a PECAN option; give --transform pecan-d or "
                                 f"pecan-a (for all or some layers) with it")
            pecan = {}
        if args.prototype_offsets and "pecan-a" not in kinds:
            raise ValueError("prototype_offsets: a PECAN-A option; give --transform pecan-a "
                             "(for all or some layers) with it")
        network = with_transforms(network, transform, **pecan,
                                  **({"prototype_offsets": True} if args.prototype_offsets
                                     else {}))
    except ValueError as e:
        # with_transforms names its parameter; on the command line it is the flag.
        text = str(e).replace("transforms", "transform", 1)
        raise ValueError("--" + text.replace("_", "-", 1)) from None
    if PECAN_KINDS & set(kinds):
        name = f"{name}/{','.join(kinds)}"
    from ..artifact import load
    if args.frozen_weights is not None and args.init_weights is not None:
        raise ValueError("--init-weights: not with --frozen-weights (frozen weights already "
                         "start the network)")
    frozen = load(args.frozen_weights) if args.frozen_weights is not None else None
    init = load(args.init_weights) if args.init_weights is not None else None
    if args.debut is not None and PECAN_KINDS & set(kinds):
        raise ValueError("--debut: not with --transform pecan-d / pecan-a (one transform kind "
                         "per layer from one option)")
    try:
        if args.debut is not None:
            result = _train_debut(args, network, config, not args.no_progress, data)
        else:
            result = train_network(network, config, progress=not args.no_progress,
                                   frozen=frozen, init=init, name=name, data=data)
    except ValueError as e:
        for given, param, flag in ((frozen, "frozen", "--frozen-weights"),
                                   (init, "init", "--init-weights")):
            if given is not None and str(e).startswith(param + " "):
                raise ValueError(flag + str(e)[len(param):]) from None
        raise
    art = export_network(result, command="edgeforge " + " ".join(args.argv),
                         prune=bool(args.prune))
    path = save(art, args.output)
    console.print(f"{result.preset} on {data.kind}: test accuracy "
                  f"{100 * result.float_accuracy:.2f} % "
                  f"(fixed point), {100 * result.unquantised_accuracy:.2f} % before QAT; "
                  f"{result.seconds:.0f} s")
    for layer, usage in art.provenance.get("prototype_usage", {}).items():
        console.print(f"  {layer}: {100 * usage['used_share']:.1f} % of its "
                      f"{usage['prototypes']} x {len(usage['used_per_group'])} prototypes "
                      f"matched on the training split")
    if "pruning" in art.provenance:
        pr = art.provenance["pruning"]
        kept = ", ".join(f"{k} {v['prototypes']}->{v['kept']}" for k, v in pr["layers"].items())
        console.print(f"  pruned: {kept}; codebooks + tables {pr['bits']:,} -> "
                      f"{pr['bits_kept']:,} bits")
    console.print(f"wrote [bold]{path}[/]")
    return 0


_DEBUT_ONLY = (("debut_budget", "--debut-budget"), ("mid_bits", "--mid-bits"),
               ("dense", "--dense"), ("als_sweeps", "--als-sweeps"), ("debut_lr", "--debut-lr"))


def _check_debut_options(args) -> None:
    for key, flag in _DEBUT_ONLY:
        if getattr(args, key, None) is not None and args.debut is None:
            raise ValueError(f"{flag}: only with --debut (which layers become DeBut chains)")
    if args.dense is not None:
        for key, flag in (("preset", "--preset"), ("weight_bits", "--weight-bits"),
                          ("out_bits", "--out-bits")):
            if getattr(args, key, None) is not None:
                raise ValueError(f"{flag}: not with --dense (the dense artifact's network and "
                                 f"widths are kept)")


_DEBUT_FLAGS = {"budget": "--debut-budget", "mid_bits": "--mid-bits", "sweeps": "--als-sweeps",
                "layers": "--debut"}


def _flagged(call):
    """``call()``, its ValueError reworded to name the flag instead of the argument."""
    try:
        return call()
    except ValueError as e:
        text = str(e)
        for key, flag in _DEBUT_FLAGS.items():
            if text.startswith(key):
                text = flag + text[len(key):]
                break
        raise ValueError(text) from None


def _train_debut(args, network, config, progress: bool, data):
    """Dense network (trained here, or ``--dense``) -> DeBut chains by ALS -> fine-tune.
    Every option is checked before any training."""
    import dataclasses

    from ..artifact import load
    from ..models.debut.convert import FINE_TUNE, convert, fine_tune, plan_chains
    from ..models.network import export_network, train_network
    from ..models.network.zoo import preset
    lr = FINE_TUNE.lr if args.debut_lr is None else args.debut_lr
    try:
        # The command line's schedule (iterations, batch, seed, ...) with the converted
        # network's own lr, weight decay and distillation (FINE_TUNE; a distilling one
        # learns from the dense network it converts).
        finetune = dataclasses.replace(config, lr=lr, weight_decay=FINE_TUNE.weight_decay,
                                       distill=FINE_TUNE.distill,
                                       distill_temperature=FINE_TUNE.distill_temperature)
    except ValueError as e:
        raise ValueError(str(e).replace("TrainConfig.lr", "--debut-lr")) from None
    sweeps = 5 if args.als_sweeps is None else args.als_sweeps
    if sweeps < 0:
        raise ValueError(f"--als-sweeps must be an integer of at least 0, got {sweeps!r}")
    options = {"budget": args.debut_budget,
               "mid_bits": 8 if args.mid_bits is None else args.mid_bits}
    if args.dense is not None:
        dense = load(args.dense)
        if dense.scheme != "network":
            raise ValueError(f"--dense: expected a network artifact, got scheme "
                             f"{dense.scheme!r}")
        name, config_dict = dense.provenance.get("preset", "custom"), dense.config
    else:
        name = network if isinstance(network, str) else "custom"
        config_dict = preset(network) if isinstance(network, str) else network
    _flagged(lambda: plan_chains(config_dict, args.debut, **options))
    teacher = dense if args.dense is not None else None
    if args.dense is None:
        trained = train_network(network, config, progress=progress, data=data)
        console.print(f"dense: test accuracy {100 * trained.float_accuracy:.2f} % (fixed point)")
        dense = trained.net
        if finetune.distill > 0:
            teacher = export_network(trained)
    conversion = _flagged(lambda: convert(dense, args.debut, seed=config.seed, sweeps=sweeps,
                                          **options))
    plan = conversion.plan
    console.print(f"DeBut: {len(plan.choices)} layer(s) converted, {plan.params} of "
                  f"{plan.dense_params} dense weights ({100 * plan.ratio:.1f} %); ALS relative "
                  f"error " + ", ".join(f"layer {i} {e[-1]:.3f}"
                                        for i, e in conversion.als_errors.items()))
    return fine_tune(conversion, finetune, teacher=teacher if finetune.distill > 0 else None,
                     preset=name, progress=progress, data=data)


def accuracy_report(art, split: str = "test", *, rtl: bool = False, folding=RTL_FOLDING,
                    simulator: str = "verilator", data=None) -> dict:
    """Accuracy of the fixed-point torch model, the golden model and (``rtl``) the RTL, on
    ``data`` (an :class:`~edgeforge.models.image_sets.ImageSet`; default digits).

    The RTL's figure is the golden's when every image's class and logits came out of the
    RTL bit-exact; otherwise ``rtl_failures`` holds what differed and there is no figure.
    """
    import numpy as np

    from ..models.image_sets import DIGITS
    from ..models.network import evaluate_network
    from ..sim.golden.network import classify
    data = data or DIGITS
    data.check_input(art.config["input"], "the artifact")
    images, labels = data.load(split)
    golden = classify(art, images).classes
    out = {"data": str(data), "split": split, "images": len(images),
           "float": evaluate_network(art, split, data),
           "golden": float(np.mean(golden == labels))}
    if rtl:
        from .. import generate
        design = generate(art, folding=folding, logits=True)
        result = design.verify(list(images), simulator=simulator, seed=0,
                               pauses="none:none,random:random")
        out.update(rtl=out["golden"] if result.passed else None, rtl_design=design.name,
                   rtl_failures=result.failures[:3], rtl_seconds=round(result.seconds, 1))
    return out


def task_metric(art) -> dict | None:
    """The comparison's task figure of a network artifact: the golden model's top-1
    accuracy on the digits test set (the RTL's too: they never differ), for an artifact
    trained on digits; None for one of random integers or of other data."""
    source = art.provenance.get("source", "")
    if "random" in source or not str(art.provenance.get("data", "")).startswith("sklearn-digits"):
        return None
    report = accuracy_report(art, "test")
    return {"name": "accuracy", "what": "top-1, digits test (golden = RTL)",
            "value": report["golden"], "float": report["float"]}


def evaluate(args, art) -> int:
    """``edgeforge evaluate net.npz [--data SET] [--rtl]``: accuracy of float, golden and RTL
    on digits (or ``--data``)."""
    from rich.table import Table
    if args.output:
        from ..paths import check_output_dir
        check_output_dir(args.output, "-o/--output")
    report = accuracy_report(art, args.split or "test", rtl=bool(args.rtl),
                             folding=args.folding or RTL_FOLDING, data=args.data)
    kind = args.data.kind if args.data is not None else "digits"
    table = Table(title=f"{art.provenance.get('preset', 'network')} on {kind} "
                        f"({report['split']}, {report['images']} images)")
    for column in ("model", "accuracy"):
        table.add_column(column)
    table.add_row("fixed point, torch", f"{100 * report['float']:.2f} %")
    table.add_row("golden (integer NumPy)", f"{100 * report['golden']:.2f} %")
    if args.rtl:
        rtl = report["rtl"]
        table.add_row(f"RTL ({report['rtl_design']})",
                      "differs from golden" if rtl is None else
                      f"{100 * rtl:.2f} % (bit-exact with golden on every image)")
    console.print(table)
    debut = art.provenance.get("debut")
    if isinstance(debut, dict) and "params" in debut:
        console.print(f"DeBut: layers {[d['layer'] for d in debut.get('layers', [])]} are chains; "
                      f"{debut['params']} of {debut['dense_params']} dense weights "
                      f"({100 * debut['params'] / debut['dense_params']:.1f} %)")
    if args.output:
        from ..jsonfile import write
        Path(args.output).mkdir(parents=True, exist_ok=True)
        out = write(Path(args.output) / "eval.json", report)
        console.print(f"  wrote {out}")
    for failure in report.get("rtl_failures", []):
        console.print(f"[red]{failure}[/]")
    return 0 if report.get("rtl", 0) is not None else 1


# -- demo ---------------------------------------------------------------------------

#: Digits test images the demo streams through the RTL (beside the design's edge cases): a
#: showing within the demo's 10 minutes; the tests stream the whole test set.
DEMO_IMAGES = 32


def demo_flow(flow, out: Path, *, quick: bool, simulator: str) -> None:
    """The shipped digits-ref, fully folded on the narrow datapath: the design that fits the
    UP5K (the demo's iCE40 row shows it), and the cheapest to synthesise."""
    import edgeforge
    from ..models.network import PRETRAINED

    def artifact(step):
        art = edgeforge.load(PRETRAINED["digits-ref"])
        report = accuracy_report(art)
        step.ok = report["golden"] == report["float"]
        step.result = (f"{PRETRAINED['digits-ref'].name}: test accuracy {100 * report['golden']:.2f} "
                       f"% golden = {100 * report['float']:.2f} % fixed-point torch "
                       f"({report['images']} images)")
        step.paths.append(PRETRAINED["digits-ref"])
        return art

    _network_demo(flow, out, "network", "digits-ref (int8 CNN) as a dataflow pipeline",
                  ("shipped digits-ref artifact, accuracy", artifact), {"folding": "folded"},
                  lambda design: f"folding {design.folding}",
                  ("generic",) if quick else ("generic", "ice40"), quick=quick,
                  simulator=simulator)


#: Iterations of the demo's All-DeBut fine-tune (the benchmark's are 4,000): a short run
#: that shows the flow, not the accuracy bench/results/debut_accuracy.md measures.
DEMO_DEBUT_ITERATIONS = 1000


def debut_demo_flow(flow, out: Path, *, quick: bool, simulator: str) -> None:
    """All-DeBut end to end: the shipped digits-ref converted (every layer a chain, at most
    a quarter of its weights), ALS-initialised, fine-tuned briefly, exported, generated at
    the balanced folding and verified (generic synthesis only: the dense flow shows the
    FPGA targets)."""
    from ..artifact import save
    from ..models.debut.convert import FINETUNE_LR, convert
    from ..models.network import PRETRAINED, TrainConfig, export_network, train_network

    def artifact(step):
        conversion = convert(PRETRAINED["digits-ref"], "all", budget=0.25)
        result = train_network(conversion.net, TrainConfig(iterations=DEMO_DEBUT_ITERATIONS,
                                                           lr=FINETUNE_LR), progress=False)
        result.preset, result.provenance = "digits-ref", conversion.provenance()
        art = export_network(result, command="edgeforge demo (All-DeBut)")
        path = flow.artifacts["all-debut"] = save(art, out / "debut" / "all-debut.npz")
        report = accuracy_report(art)
        plan = conversion.plan
        step.ok = report["golden"] == report["float"]
        step.result = (f"{plan.params} of {plan.dense_params} weights; test accuracy "
                       f"{100 * report['golden']:.2f} % golden = {100 * report['float']:.2f} % "
                       f"fixed-point torch after {DEMO_DEBUT_ITERATIONS} fine-tune iterations")
        step.paths.append(path)
        return art

    _network_demo(flow, out, "debut", "All-DeBut digits-ref (butterfly chains)",
                  ("convert digits-ref to All-DeBut, ALS, fine-tune, export", artifact),
                  {"folding": RTL_FOLDING}, lambda design: f"lanes per factor {design.folding}",
                  ("generic",), quick=quick, simulator=simulator)


def _network_demo(flow, out: Path, key: str, title: str, artifact, options: dict, describe,
                  targets, *, quick: bool, simulator: str) -> None:
    """A network demo's steps: ``artifact`` (its step's title and a function of the step that
    returns the artifact), the design generated with ``options`` (``describe(design)`` says
    its folding), then :meth:`flow.check_design` on the design's edge cases and
    :data:`DEMO_IMAGES` digits test images, with ``targets``; files under ``out / key``."""
    import edgeforge
    from ..models.data_digits import load_digits

    flow.console.rule(f"edgeforge demo: {title}")
    state = {}
    what, make = artifact

    def artifact_step(step):
        state["art"] = make(step)

    def generate(step):
        state["design"] = design = edgeforge.generate(state["art"], **options)
        perf = design.cycle_model()
        step.result = (f"{design.name}: {describe(design)}, {perf.cycles_per_input:g} cycles "
                       f"per image (model), latency {perf.latency_cycles}")

    flow.run(f"{key}: {what}", artifact_step)
    flow.run(f"{key}: generate pipeline", generate)
    images = list(load_digits("test")[0][:DEMO_IMAGES])
    flow.check_design(key, lambda: state["design"], out / key, quick=quick,
                      simulator=simulator, targets=targets,
                      inputs=lambda d: d.test_inputs(seed=0) + images)


# -- commands of the networks' own ---------------------------------------------------

def _import_qonnx_arguments(p) -> None:
    p.add_argument("model", help="QONNX model (.onnx), e.g. from brevitas.export.export_qonnx")
    p.add_argument("-o", "--output", required=True, help="network artifact to write (.npz)")
    p.add_argument("--fold-bits", type=int, default=8, metavar="B",
                   help="weight bits of a layer with a BatchNorm folded into it (2..8; default 8)")


def _import_qonnx(args) -> int:
    from ..artifact import save
    from ..models.network.qonnx_import import import_qonnx
    from ..paths import check_output_file
    check_output_file(args.output, "-o/--output")
    art = import_qonnx(args.model, fold_bits=args.fold_bits)
    kinds = [layer["kind"] for layer in art.config["layers"]]
    exact = ("exact" if art.provenance["exact"]
             else "approximated: " + "; ".join(art.provenance["approximations"]))
    out = save(art, args.output)
    console.print(f"imported {len(kinds)} layers ({', '.join(kinds)}); {exact}; input scale "
                  f"{art.provenance['input_scale']!r}; wrote [bold]{out}[/] ({art.short_hash})")
    return 0


def _numbers(text: str) -> list[float]:
    import argparse
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or comma-separated numbers such "
                                         f"as 0.5,0.25, got {text!r}") from None


#: Options of ``compress`` that only some methods take.
_METHOD_OPTIONS = {"rate": ("ezcrop", "hrank"), "rounds": ("ezcrop", "hrank"),
                   "p": ("nrmf",), "alpha": ("nrmf",)}


def _compress_arguments(p) -> None:
    from ..models.compress import FINE_TUNE_FIELDS, METHODS
    p.add_argument("artifact", help="trained network artifact (.npz), e.g. from "
                                    "edgeforge train --scheme network --preset digits-wide")
    p.add_argument("-o", "--output", required=True, help="compressed network artifact (.npz)")
    p.add_argument("--method", required=True, choices=METHODS,
                   help="ezcrop: prune channels by the FFT energy zone; hrank: by feature-map "
                        "rank; nrmf: Tucker-2 ranks by energy threshold after nuclear-norm "
                        "training; vbmf: Tucker-2 at VBMF ranks")
    p.add_argument("--rate", type=_numbers, metavar="R",
                   help="ezcrop/hrank: share of output channels each conv loses, in [0, 1): "
                        "one for all or one per prunable conv (0.5,0.25)")
    p.add_argument("--rounds", type=int, metavar="N",
                   help="ezcrop/hrank: evaluate -> prune -> fine-tune rounds (default 1)")
    p.add_argument("--p", type=float, metavar="P",
                   help="nrmf: energy threshold in (0, 1] (default 0.95)")
    p.add_argument("--alpha", type=float, metavar="A",
                   help="nrmf: weight of the nuclear-norm regulariser (default 0.01)")
    p.add_argument("--iterations", type=int, metavar="N",
                   help=f"fine-tuning steps (default {FINE_TUNE_FIELDS['iterations']}; nrmf trains "
                        f"this many with the regulariser first)")
    p.add_argument("--lr", type=float, help=f"fine-tuning peak learning rate (default "
                                            f"{FINE_TUNE_FIELDS['lr']})")
    p.add_argument("--seed", type=int, help="fine-tuning seed (default 0)")
    p.add_argument(*_DATA_OPTION.flags, **{**_DATA_OPTION.kwargs,
                                           "help": "the images the metric and the fine-tuning "
                                                   "read: digits (default), mnist:PATH or "
                                                   "cifar10:PATH; the artifact's input must be "
                                                   "theirs"})
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _compress(args) -> int:
    """``edgeforge compress net.npz --method ezcrop --rate 0.5 -o small.npz``."""
    from ..artifact import load, save
    from ..models.compress import FINE_TUNE, nrmf_network, prune_network, vbmf_network
    from ..models.compress.ezcrop import prunable_layers
    from ..models.network import TrainConfig, export_network
    from ..paths import check_output_file
    check_output_file(args.output, "-o/--output")
    for key, methods in _METHOD_OPTIONS.items():
        if getattr(args, key) is not None and args.method not in methods:
            raise ValueError(f"--{key} is an option of --method {'/'.join(methods)}, not "
                             f"{args.method}")
    fields = {"iterations": args.iterations, "lr": args.lr, "seed": args.seed}
    try:
        config = TrainConfig(**{**FINE_TUNE.to_dict(),
                                **{k: v for k, v in fields.items() if v is not None}})
    except ValueError as e:
        raise ValueError(str(e).replace("TrainConfig.", "--")) from None
    art = load(args.artifact)
    if art.scheme != "network":
        raise ValueError(f"artifact must be a network artifact, got scheme {art.scheme!r}")
    progress = not args.no_progress
    from ..models.image_sets import DIGITS
    data = args.data or DIGITS
    try:
        data.check_input(art.config["input"], f"artifact {args.artifact!r}")
    except ValueError as e:
        raise ValueError(f"--data: {e}") from None
    if args.method in ("ezcrop", "hrank"):
        if args.rate is None:
            raise ValueError(f"--rate is needed for --method {args.method}")
        for r in args.rate:
            if not 0 <= r < 1:
                raise ValueError(f"--rate must be in [0, 1) (the share of channels removed), "
                                 f"got {r:g}")
        if args.rounds is not None and args.rounds < 1:
            raise ValueError(f"--rounds must be a positive integer, got {args.rounds}")
        layers = sorted(prunable_layers(art.config))
        if len(args.rate) == 1:
            rates = args.rate[0]
        elif len(args.rate) == len(layers):
            rates = dict(zip(layers, args.rate))
        else:
            raise ValueError(f"--rate must be one rate or one per prunable conv ({len(layers)}: "
                             f"layers {layers}), got {len(args.rate)}")
        done = prune_network(art, rates, metric=args.method, rounds=args.rounds or 1,
                             fine_tune=config, progress=progress, data=data)
    elif args.method == "nrmf":
        from ..models.compress.nrmf import ALPHA, check_p, nuclear_penalty
        p, alpha = (0.95 if args.p is None else args.p), (ALPHA if args.alpha is None
                                                          else args.alpha)
        for check, value in ((check_p, p), (nuclear_penalty, alpha)):
            try:
                check(value)
            except ValueError as e:
                raise ValueError("--" + str(e)) from None
        done = nrmf_network(art, p, alpha=alpha, regularise=config, fine_tune=config,
                            progress=progress, data=data)
    else:
        done = vbmf_network(art, fine_tune=config, progress=progress, data=data)
    out = save(export_network(done.result, command="edgeforge " + " ".join(args.argv),
                              provenance=done.provenance()), args.output)
    before, after = done.details["before"], done.details["after"]
    console.print(f"{args.method}: {before['params']:,} -> {after['params']:,} parameters, "
                  f"{before['macs']:,} -> {after['macs']:,} MACs an image "
                  f"({', '.join(after['layers'])}); test accuracy "
                  f"{100 * done.result.float_accuracy:.2f} % (fixed point)")
    console.print(f"wrote [bold]{out}[/]")
    return 0


COMMANDS = (
    Command("import-qonnx", "import a QONNX model (Brevitas export) as a network artifact",
            _import_qonnx_arguments, _import_qonnx),
    Command("compress", "prune (EZCrop, HRank) or rank-factorise (NRMF, VBMF) a trained "
                        "network artifact, fine-tune and export it", _compress_arguments,
            _compress),
)

DEMO_FLOWS = (demo_flow, debut_demo_flow)
