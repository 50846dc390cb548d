"""HKLUT's user-facing parts: its design, train and evaluate options, its own commands
(``export``, ``import-hklut``, ``upscale``), the storage table ``cost`` shows, and its demo flow.

The CLI (``edgeforge.cli``) assembles these; nothing here parses ``sys.argv``.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from . import Command, Option

__all__ = ["DESIGN_OPTIONS", "TRAIN_OPTIONS", "EVALUATE_OPTIONS", "COMMANDS", "DEMO_FLOWS",
           "train", "evaluate", "storage_table"]

console = Console()


def int_list(text: str) -> list[int]:
    import argparse
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


DESIGN_OPTIONS = (
    Option(("--width",), "width", {"type": int, "help": "LR image width in pixels"}),
    Option(("--height",), "height", {"type": int, "help": "LR image height in pixels"}),
    Option(("--reads-per-table",), "reads_per_table", {
        "type": int_list, "metavar": "R1,R2",
        "help": "table reads per cycle for each stage (1, 2 or 4; later stages also 8 or 16 = "
                "2 or 4 pixels a cycle; default 1 per stage; 4,16 with --out-pixels 16 is full "
                "rate)"}),
    Option(("--out-pixels",), "out_pixels", {"type": int, "metavar": "P",
                                             "help": "HR pixels per output beat"}),
    Option(("--channels",), "channels", {"type": int, "choices": (1, 3),
                                         "help": "1 (grey/luma) or 3 (RGB planes one after "
                                                 "another)"}),
    Option(("--rgb-lanes",), "rgb_lanes", {
        "action": "store_const", "const": True,
        "help": "with --channels 3: R, G and B of a pixel in one beat, through three engines "
                "at once (3x area, 1/3 of the cycles per image)"}),
    # The design refuses an unknown kind (hw.logic.BUFFER_RAM), naming the field.
    Option(("--buffer-ram",), "buffer_ram", {
        "metavar": "KIND",
        "help": "memory of the line and re-order buffers: auto (up to 512 words deep in LUT "
                "RAM, deeper in block RAM; default), block or lut (all in one kind; block "
                "suits a part with block RAM to spare)"}),
    Option(("--axis",), "axis", {
        "action": "store_const", "const": True,
        "help": "generate: AXI4-Stream video ports (s_axis_video_*/m_axis_video_*, tuser = "
                "start of frame, tlast = end of line) instead of i/o"}),
)

TRAIN_OPTIONS = (
    Option(("--stages",), "stages", {"type": int_list, "metavar": "R1,R2",
                                     "help": "stage factors (HKLUT default 2,2 = x4; SR-LUT "
                                             "default 4, MuLUT x4 1,4)"}),
    Option(("--msb-kernels",), "msb_kernels", {"choices": ("hdb", "hd"),
                                               "help": "MSB kernel set (default hdb)"}),
    Option(("--lsb-kernels",), "lsb_kernels", {"choices": ("hdb", "hd"),
                                               "help": "LSB kernel set (default hd)"}),
    Option(("--patch",), "patch", {"type": int, "help": "LR patch side in pixels"}),
    Option(("--eval-every",), "eval_every", {"type": int,
                                             "help": "iterations between validations/checkpoints"}),
    Option(("--nf",), "nf", {"type": int, "help": "channels of each unit's hidden layers"}),
    Option(("--activation",), "activation", {"choices": ("relu", "gelu", "leakyrelu"),
                                             "help": "unit activation"}),
    Option(("--checkpoint-dir",), "checkpoint_dir", {"help": "where last.pt and best.pt go"}),
    Option(("--resume",), "resume", {"action": "store_const", "const": True,
                                     "help": "continue from the last checkpoint"}),
    Option(("--stop-after",), "stop_after", {
        "type": int, "metavar": "N",
        "help": "stop after N iterations of this session (resume later with --resume)"}),
    Option(("--train-dir",), "train_dir", {"help": "DIV2K-style folder (HR/*.png) instead of "
                                                   "built-in photos"}),
    Option(("--test-dir",), "test_dir", {"help": "benchmark folder (HR/, LR_bicubic/X{r}/) for "
                                                 "validation"}),
)

EVALUATE_OPTIONS = (
    Option(("--test-dir",), "test_dir", {"help": "HKLUT: benchmark folder with HR/ and "
                                                 "LR_bicubic/X{r}/"}),
    Option(("--arithmetic",), "arithmetic", {"choices": ("exact", "float32"),
                                             "help": "HKLUT: exact (the hardware's) or float32 "
                                                     "(the authors' readout); default exact"}),
)


def train(args) -> int:
    """``edgeforge train --scheme hklut``: train on CPU, export the LUT artifact."""
    from ..artifact import save
    from ..models.hklut.train import TrainConfig, train as run_training
    from ..models.hklut.transfer import transfer
    from .hklut import HKLUTConfig
    model_config = HKLUTConfig.from_dict({
        k: v for k, v in (("stages", args.stages), ("msb_kernels", args.msb_kernels),
                          ("lsb_kernels", args.lsb_kernels)) if v is not None})
    fields = ("iterations", "batch", "patch", "lr", "seed", "eval_every", "checkpoint_dir", "nf",
              "activation", "threads")
    config = TrainConfig(**{k: getattr(args, k) for k in fields if getattr(args, k) is not None})
    result = run_training(config, model_config, resume=bool(args.resume),
                          train_dir=args.train_dir, test_dir=args.test_dir,
                          progress=not args.no_progress, stop_after=args.stop_after)
    console.print(f"best Y-PSNR {result.best_psnr:.3f} dB at iteration {result.best_iteration} "
                  f"(bicubic {result.bicubic_psnr:.3f} dB) on {result.eval_data}; "
                  f"{result.seconds:.0f} s")
    command = "edgeforge " + " ".join(args.argv)
    out = save(transfer(result.net, result=result, command=command, seed=config.seed),
               args.output)
    console.print(f"wrote [bold]{out}[/]")
    return 0


def evaluate(args, art) -> int:
    """``edgeforge evaluate A.npz``: PSNR/SSIM of the golden model against bicubic."""
    from math import prod

    from ..models.hklut.evaluate import evaluate as run_evaluation, render_eval_table
    pairs = None
    if args.test_dir:
        from ..models.data import load_benchmark_dir
        pairs = load_benchmark_dir(args.test_dir, prod(art.config["stages"]))
    report = run_evaluation(art, pairs, arithmetic=args.arithmetic or "exact",
                            out_dir=args.output)
    console.print(render_eval_table(report))
    for picture in report.pictures:
        console.print(f"  wrote {picture}")
    return 0


def task_metric(art) -> dict:
    """The comparison's task figure of an HKLUT artifact: the golden model's mean Y-PSNR on
    the built-in scikit-image photos (RTL = golden), bicubic beside it."""
    from ..models.hklut.evaluate import evaluate as run_evaluation
    m = run_evaluation(art, progress=False).mean
    return {"name": "psnr_db", "what": "Y-PSNR dB, scikit-image photos (golden = RTL)",
            "value": m.psnr, "bicubic": m.bicubic_psnr}


def storage_table(art):
    from ..models.hklut.storage import render_storage_table
    return render_storage_table(art)


# -- commands of HKLUT's own ----------------------------------------------------

def _export_arguments(p) -> None:
    p.add_argument("checkpoint")
    p.add_argument("-o", "--output", required=True)


def _export(args) -> int:
    from ..artifact import save
    from ..models.hklut.train import load_checkpoint
    from ..models.hklut.transfer import transfer
    from ..paths import check_output_file
    check_output_file(args.output, "-o/--output")
    net, payload = load_checkpoint(args.checkpoint)
    artifact = transfer(net, command=f"edgeforge export {args.checkpoint}",
                        seed=payload["train_config"]["seed"],
                        train_data=payload.get("train_data"))
    out = save(artifact, args.output)
    console.print(f"wrote [bold]{out}[/] ({artifact.short_hash})")
    return 0


def _import_arguments(p) -> None:
    p.add_argument("directory")
    p.add_argument("-o", "--output", required=True)


def _import(args) -> int:
    from ..artifact import save
    from ..models.hklut.importer import import_lut_dir
    from ..paths import check_output_file
    check_output_file(args.output, "-o/--output")
    artifact = import_lut_dir(args.directory)
    out = save(artifact, args.output)
    console.print(f"imported {len(artifact.arrays)} tables, config {artifact.config}; "
                  f"wrote [bold]{out}[/] ({artifact.short_hash})")
    return 0


def _upscale_arguments(p) -> None:
    p.add_argument("artifact")
    p.add_argument("input", nargs="+", help="image files and folders of them")
    p.add_argument("-o", "--output", required=True,
                   help="output image (one input; its suffix names the format: .png, .jpg, "
                        ".bmp, .tif, .webp) or folder (<stem>.png per input)")
    p.add_argument("--arithmetic", default="exact", choices=("exact", "float32"))


def _upscale(args) -> int:
    from ..artifact import load
    from ..models.hklut.evaluate import upscale_files
    for out in upscale_files(load(args.artifact), args.input, args.output,
                             arithmetic=args.arithmetic, progress=True, inputs_field="input",
                             out_field="-o/--output"):
        console.print(f"wrote [bold]{out}[/]")
    return 0


COMMANDS = (
    Command("export", "transfer a training checkpoint to an HKLUT artifact", _export_arguments,
            _export),
    Command("import-hklut", "import LUT files in the HKLUT authors' layout", _import_arguments,
            _import),
    Command("upscale", "super-resolve images with an HKLUT artifact", _upscale_arguments,
            _upscale),
)


# -- demo ---------------------------------------------------------------------------

def demo_flow(flow, out: Path, *, quick: bool, simulator: str) -> None:
    import edgeforge
    from ..models.hklut import PRETRAINED
    from ..models.hklut.evaluate import evaluate as run_evaluation, render_eval_table
    from ..models.hklut.storage import render_storage_table

    flow.console.rule("edgeforge demo: HKLUT-S x4 (our trained tables) as a streaming LUT engine")
    state = {}
    hk = out / "hklut"

    def artifact(step):
        state["art"] = art = edgeforge.load(PRETRAINED)
        flow.console.print(render_storage_table(art))
        total = sum(art.storage_bytes().values())
        step.result = (f"{PRETRAINED.name}: stages {art.config['stages']}, {total / 1024:.1f} KiB "
                       f"of int8 tables, {art.short_hash}")
        step.paths.append(PRETRAINED)

    def quality(step):
        report = run_evaluation(state["art"], out_dir=hk / "eval", progress=False)
        flow.console.print(render_eval_table(report))
        m = report.mean
        step.ok = m.psnr > m.bicubic_psnr
        step.result = (f"Y-PSNR {m.psnr:.2f} dB vs bicubic {m.bicubic_psnr:.2f} dB, SSIM "
                       f"{m.ssim:.4f} vs {m.bicubic_ssim:.4f} ({len(report.images)} photos, x4)")
        step.paths += list(report.pictures)

    def generate(step):
        state["design"] = design = edgeforge.generate(state["art"], width=32, height=32,
                                                      reads_per_table=(2, 2), out_pixels=2)
        perf = design.cycle_model()
        step.result = (f"{design.name}: 32x32 LR -> 128x128, "
                       f"{perf.cycles_per_output:.3f} cycles per HR pixel (model)")

    flow.run("hklut: trained artifact", artifact)
    flow.run("hklut: quality vs bicubic (golden, exact)", quality)
    flow.run("hklut: generate engine", generate)
    flow.check_design("hklut", lambda: state["design"], hk, quick=quick, simulator=simulator,
                      targets=("generic",) if quick else ("generic", "ecp5"))


DEMO_FLOWS = (demo_flow,)
