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


TRAIN_OPTIONS = (
    Option(("--preset",), "preset", {"choices": ("digits-ref", "digits-mlp"),
                                     "help": "networks: the network to train (default "
                                             "digits-ref)"}),
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
                                   "help": "networks: which digits images (default test)"}),
    Option(("--rtl",), "rtl", {"action": "store_const", "const": True,
                               "help": "networks: also run the RTL (cocotb on Verilator) on every "
                                       "image, checked bit-exact against the golden model"}),
    Option(("--folding",), "folding", {**DESIGN_OPTIONS[0].kwargs,
                                       "help": f"networks, with --rtl: the folding to run "
                                               f"(default {RTL_FOLDING})"}),
)


def train(args) -> int:
    """``edgeforge train --scheme network``: QAT on digits, export, accuracies."""
    from ..artifact import save
    from ..models.network import TrainConfig, export_network, train_network
    from ..paths import check_output_file
    check_output_file(args.output, "-o/--output")
    fields = {"iterations": args.iterations, "batch": args.batch, "lr": args.lr,
              "seed": args.seed, "threads": args.threads}
    try:
        config = TrainConfig(**{k: v for k, v in fields.items() if v is not None})
    except ValueError as e:
        # TrainConfig names its attribute; on the command line it is the flag.
        raise ValueError(str(e).replace("TrainConfig.", "--")) from None
    from ..models.network.zoo import preset, with_widths
    name = args.preset or "digits-ref"
    network = name
    if args.weight_bits is not None or args.out_bits is not None:
        try:
            network = with_widths(preset(name), weight_bits=args.weight_bits,
                                  out_bits=args.out_bits)
        except ValueError as e:
            raise ValueError("--" + str(e).replace("_", "-", 1)) from None
    result = train_network(network, config, progress=not args.no_progress)
    art = save(export_network(result, command="edgeforge " + " ".join(args.argv)), args.output)
    console.print(f"{result.preset}: test accuracy {100 * result.float_accuracy:.2f} % "
                  f"(fixed point), {100 * result.unquantised_accuracy:.2f} % before QAT; "
                  f"{result.seconds:.0f} s")
    console.print(f"wrote [bold]{art}[/]")
    return 0


def accuracy_report(art, split: str = "test", *, rtl: bool = False, folding=RTL_FOLDING,
                    simulator: str = "verilator") -> dict:
    """Accuracy of the fixed-point torch model, the golden model and (``rtl``) the RTL.

    The RTL's figure is the golden's when every image's class and logits came out of the
    RTL bit-exact; otherwise ``rtl_failures`` holds what differed and there is no figure.
    """
    import numpy as np

    from ..models.data_digits import load_digits
    from ..models.network import evaluate_network
    from ..sim.golden.network import classify
    images, labels = load_digits(split)
    golden = classify(art, images).classes
    out = {"split": split, "images": len(images),
           "float": evaluate_network(art, split),
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
    """``edgeforge evaluate net.npz [--rtl]``: accuracy of float, golden and RTL on digits."""
    from rich.table import Table
    if args.output:
        from ..paths import check_output_dir
        check_output_dir(args.output, "-o/--output")
    report = accuracy_report(art, args.split or "test", rtl=bool(args.rtl),
                             folding=args.folding or RTL_FOLDING)
    table = Table(title=f"{art.provenance.get('preset', 'network')} on digits "
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
    if args.output:
        from ..jsonfile import write
        Path(args.output).mkdir(parents=True, exist_ok=True)
        out = write(Path(args.output) / "eval.json", report)
        console.print(f"  wrote {out}")
    for failure in report.get("rtl_failures", []):
        console.print(f"[red]{failure}[/]")
    return 0 if report.get("rtl", 0) is not None else 1


# -- demo ---------------------------------------------------------------------------

#: Digits test images the demo streams through the RTL (beside the design's edge cases).
DEMO_IMAGES = 64


def demo_flow(flow, out: Path, *, quick: bool, simulator: str) -> None:
    import edgeforge
    from ..models.data_digits import load_digits
    from ..models.network import PRETRAINED

    flow.console.rule("edgeforge demo: digits-ref (int8 CNN) as a dataflow pipeline")
    state = {}

    def artifact(step):
        state["art"] = art = edgeforge.load(PRETRAINED["digits-ref"])
        report = accuracy_report(art)
        step.ok = report["golden"] == report["float"]
        step.result = (f"{PRETRAINED['digits-ref'].name}: test accuracy {100 * report['golden']:.2f} "
                       f"% golden = {100 * report['float']:.2f} % fixed-point torch "
                       f"({report['images']} images)")
        step.paths.append(PRETRAINED["digits-ref"])

    def generate(step):
        state["design"] = design = edgeforge.generate(state["art"], folding=RTL_FOLDING)
        perf = design.cycle_model()
        step.result = (f"{design.name}: folding {design.folding}, {perf.cycles_per_input:g} "
                       f"cycles per image (model), latency {perf.latency_cycles}")

    flow.run("network: shipped digits-ref artifact, accuracy", artifact)
    flow.run("network: generate pipeline", generate)
    images = list(load_digits("test")[0][:DEMO_IMAGES])
    flow.check_design("network", lambda: state["design"], out / "network", quick=quick,
                      simulator=simulator, targets=("generic",) if quick else ("generic", "ice40"),
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


COMMANDS = (
    Command("import-qonnx", "import a QONNX model (Brevitas export) as a network artifact",
            _import_qonnx_arguments, _import_qonnx),
)

DEMO_FLOWS = (demo_flow,)
