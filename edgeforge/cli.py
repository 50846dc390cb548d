"""The ``edgeforge`` command: a thin layer over the Python API.

Every subcommand parses its arguments, calls the API, and prints a table. Bad
input ends with one line ``error: <field>: <problem>`` and exit status 2, never
a traceback (``EDGEFORGE_DEBUG=1`` shows it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console

from .paths import check_output_dir, check_output_file

console = Console(stderr=False)
err_console = Console(stderr=True, soft_wrap=True)

__all__ = ["main", "build_parser"]


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status given."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


# -- argument types ---------------------------------------------------------

def int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def add_design_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("design options (HKLUT; the smoke scheme takes none)")
    g.add_argument("--width", type=int, help="LR image width in pixels")
    g.add_argument("--height", type=int, help="LR image height in pixels")
    g.add_argument("--reads-per-table", type=int_list, metavar="R1,R2",
                   help="table reads per cycle for each stage (1, 2 or 4; later stages also 8 "
                        "or 16 = 2 or 4 pixels a cycle; default 1 per stage; 4,16 with "
                        "--out-pixels 16 is full rate)")
    g.add_argument("--out-pixels", type=int, metavar="P", help="HR pixels per output beat")
    g.add_argument("--channels", type=int, choices=(1, 3),
                   help="1 (grey/luma) or 3 (RGB planes one after another)")
    g.add_argument("--rgb-lanes", action="store_const", const=True,
                   help="with --channels 3: R, G and B of a pixel in one beat, through three "
                        "engines at once (3x area, 1/3 of the cycles per image)")
    # The design refuses an unknown kind (hw.logic.BUFFER_RAM), naming the field.
    g.add_argument("--buffer-ram", metavar="KIND",
                   help="memory of the line and re-order buffers: auto (up to 512 words deep "
                        "in LUT RAM, deeper in block RAM; default), block or lut (all in one "
                        "kind; block suits a part with block RAM to spare)")


def design_config(args) -> dict:
    config = {}
    for key in ("width", "height", "reads_per_table", "out_pixels", "channels", "rgb_lanes",
                "buffer_ram"):
        value = getattr(args, key, None)
        if value is not None:
            config[key] = tuple(value) if isinstance(value, list) else value
    return config


def load_artifact(path):
    from .artifact import load
    return load(path)


# -- subcommands ------------------------------------------------------------

def cmd_demo(args) -> int:
    from .demo import run_demo
    check_output_dir(args.out, "--out")
    return run_demo(Path(args.out), quick=args.quick, simulator=args.simulator)


def cmd_train(args) -> int:
    from .artifact import save
    from .models.hklut.train import TrainConfig, train
    from .models.hklut.transfer import transfer
    from .schemes.hklut import HKLUTConfig
    check_output_file(args.output, "-o/--output")   # now, not after the training
    model_config = HKLUTConfig.from_dict({"stages": args.stages, "msb_kernels": args.msb_kernels,
                                          "lsb_kernels": args.lsb_kernels})
    fields = ("iterations", "batch", "patch", "lr", "seed", "eval_every", "checkpoint_dir", "nf",
              "activation", "threads")
    config = TrainConfig(**{k: getattr(args, k) for k in fields if getattr(args, k) is not None})
    result = train(config, model_config, resume=args.resume, train_dir=args.train_dir,
                   test_dir=args.test_dir, progress=not args.no_progress,
                   stop_after=args.stop_after)
    console.print(f"best Y-PSNR {result.best_psnr:.3f} dB at iteration {result.best_iteration} "
                  f"(bicubic {result.bicubic_psnr:.3f} dB) on {result.eval_data}; "
                  f"{result.seconds:.0f} s")
    command = "edgeforge " + " ".join(args.argv)
    out = save(transfer(result.net, result=result, command=command, seed=config.seed),
               args.output)
    console.print(f"wrote [bold]{out}[/]")
    return 0


def cmd_export(args) -> int:
    from .artifact import save
    from .models.hklut.train import load_checkpoint
    from .models.hklut.transfer import transfer
    check_output_file(args.output, "-o/--output")
    net, payload = load_checkpoint(args.checkpoint)
    artifact = transfer(net, command=f"edgeforge export {args.checkpoint}",
                        seed=payload["train_config"]["seed"],
                        train_data=payload.get("train_data"))
    out = save(artifact, args.output)
    console.print(f"wrote [bold]{out}[/] ({artifact.short_hash})")
    return 0


def cmd_import_hklut(args) -> int:
    from .artifact import save
    from .models.hklut.importer import import_lut_dir
    check_output_file(args.output, "-o/--output")
    artifact = import_lut_dir(args.directory)
    out = save(artifact, args.output)
    console.print(f"imported {len(artifact.arrays)} tables, config {artifact.config}; "
                  f"wrote [bold]{out}[/] ({artifact.short_hash})")
    return 0


def cmd_inspect(args) -> int:
    from rich.table import Table
    art = load_artifact(args.artifact)
    table = Table(title=f"{args.artifact}: {art.scheme} artifact, valid")
    table.add_column("array")
    table.add_column("dtype")
    table.add_column("shape")
    table.add_column("bits", justify="right")
    table.add_column("range", justify="right")
    for name, spec in art.specs().items():
        a = art.arrays[name]
        table.add_row(name, spec.dtype, str(spec.shape), f"{spec.bits}{'s' if spec.signed else 'u'}",
                      f"[{int(a.min())}, {int(a.max())}]")
    console.print(table)
    console.print(f"config: {art.config}\nprovenance: {art.provenance}\nhash: {art.content_hash}")
    return 0


def cmd_generate(args) -> int:
    from . import generate
    if args.output:
        check_output_dir(args.output, "-o/--output")
    config = design_config(args)
    if args.axis:
        config["axis"] = True
    design = generate(load_artifact(args.artifact), **config)
    console.print(f"design [bold]{design.name}[/]")
    if hasattr(design, "memory_bits"):
        # Said before the build, which takes seconds to minutes as the frame widens.
        bits = design.memory_bits()
        console.print(f"  memories: {bits['tables']:,} table bits, {bits['buffers']:,} buffer "
                      f"bits")
    with console.status(f"generating Verilog for {design.name}"):
        files = design.write_verilog(args.output or Path("rtl_out") / design.name)
    for f in (files.verilog, files.manifest, files.filelist, files.core):
        console.print(f"  wrote {f}")
    return 0


def cmd_verify(args) -> int:
    from . import generate
    from .sim.runner import check_verify_options
    # Every option checked, and the seed drawn and printed, before anything is built.
    seed = check_verify_options(args.simulator, args.seed, args.pauses)
    design = generate(load_artifact(args.artifact), **design_config(args))
    console.print(f"seed {seed} (--seed {seed} repeats this run)")
    with console.status(f"verifying {design.name} on {args.simulator} (first build compiles C++)"):
        result = design.verify(simulator=args.simulator, waves=args.waves, seed=seed,
                               pauses=args.pauses)
    console.print(result.summary())
    for failure in result.failures:
        err_console.print(f"[red]{failure}[/]")
    if result.waves:
        console.print(f"waves: {result.waves}")
    return 0 if result.passed else 1


def cmd_cost(args) -> int:
    from .bench.devices import get_device
    if args.output:
        check_output_dir(args.output, "-o/--output")
    targets = tuple(args.target or ("generic", "ice40", "ecp5"))
    devices = {}
    for name in args.device or []:
        family = get_device(name).family
        if family not in targets:
            raise CommandError(f"--device: {name} is an {family} part, but the targets are "
                               f"{', '.join(targets)}; add --target {family}")
        devices[family] = name
    art = load_artifact(args.artifact)
    if art.scheme == "hklut":
        from .models.hklut.storage import render_storage_table
        console.print(render_storage_table(art))
    config = design_config(args)
    if not config and art.scheme != "smoke" and not args.target:
        console.print("storage only: give design options (e.g. --width/--height) for area and Fmax")
        return 0
    from . import generate
    from .bench.report import render_cost_table
    design = generate(art, **config)
    results = design.cost(targets, devices=devices, out_dir=args.output,
                          place_route=not args.no_pnr)
    console.print(render_cost_table(results))
    return 0


def cmd_evaluate(args) -> int:
    from .models.hklut.evaluate import evaluate, render_eval_table
    pairs = None
    if args.output:
        check_output_dir(args.output, "-o/--output")
    art = load_artifact(args.artifact)
    if args.test_dir:
        from .models.data import load_benchmark_dir
        pairs = load_benchmark_dir(args.test_dir, art_scale(art))
    report = evaluate(art, pairs, arithmetic=args.arithmetic, out_dir=args.output)
    console.print(render_eval_table(report))
    for picture in report.pictures:
        console.print(f"  wrote {picture}")
    return 0


def art_scale(art) -> int:
    from math import prod
    return prod(art.config["stages"])


def cmd_upscale(args) -> int:
    from .models.hklut.evaluate import upscale_files
    for out in upscale_files(load_artifact(args.artifact), args.input, args.output,
                             arithmetic=args.arithmetic, progress=True,
                             inputs_field="input", out_field="-o/--output"):
        console.print(f"wrote [bold]{out}[/]")
    return 0


def cmd_compare(args) -> int:
    raise CommandError("compare: the cross-scheme comparison arrives with the PECAN and DeBut "
                       "schemes (a later issue); nothing to compare yet", status=3)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgeforge",
        description="Compile hardware-friendly neural networks into verified, costed Verilog.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="run the whole flow on built-in defaults")
    p.add_argument("--out", default="rtl_out/demo", help="output folder (default rtl_out/demo)")
    p.add_argument("--quick", action="store_true", help="skip place and route and the large designs")
    p.add_argument("--simulator", default="verilator", choices=("verilator", "icarus"))
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train an HKLUT network on CPU and export its LUT artifact")
    p.add_argument("-o", "--output", required=True, help="artifact to write (.npz)")
    p.add_argument("--stages", type=int_list, default=[2, 2], metavar="R1,R2",
                   help="stage factors (default 2,2 = x4)")
    p.add_argument("--msb-kernels", default="hdb", choices=("hdb", "hd"))
    p.add_argument("--lsb-kernels", default="hd", choices=("hdb", "hd"))
    p.add_argument("--iterations", type=int, help="training iterations (default: a short schedule)")
    p.add_argument("--batch", type=int, help="patches per iteration")
    p.add_argument("--patch", type=int, help="LR patch side in pixels")
    p.add_argument("--lr", type=float, help="Adam learning rate")
    p.add_argument("--seed", type=int)
    p.add_argument("--eval-every", type=int, help="iterations between validations/checkpoints")
    p.add_argument("--nf", type=int, help="channels of each unit's hidden layers")
    p.add_argument("--activation", choices=("relu", "gelu", "leakyrelu"), help="unit activation")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--checkpoint-dir", help="where last.pt and best.pt go")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument("--stop-after", type=int, metavar="N",
                   help="stop after N iterations of this session (resume later with --resume)")
    p.add_argument("--no-progress", action="store_true", help="log lines instead of a progress bar")
    p.add_argument("--train-dir", help="DIV2K-style folder (HR/*.png) instead of built-in photos")
    p.add_argument("--test-dir", help="benchmark folder (HR/, LR_bicubic/X{r}/) for validation")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("export", help="transfer a training checkpoint to an HKLUT artifact")
    p.add_argument("checkpoint")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import-hklut", help="import LUT files in the HKLUT authors' layout")
    p.add_argument("directory")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_import_hklut)

    p = sub.add_parser("inspect", help="validate an artifact and list its arrays")
    p.add_argument("artifact")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("generate", help="generate Verilog, manifest, filelist and .core")
    p.add_argument("artifact")
    p.add_argument("-o", "--output", help="output folder (default rtl_out/<design>)")
    add_design_options(p)
    p.add_argument("--axis", action="store_true",
                   help="AXI4-Stream video ports (s_axis_video_*/m_axis_video_*, tuser = start "
                        "of frame, tlast = end of line) instead of i/o (HKLUT)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("verify", help="check the RTL bit-exact against the golden model in cocotb")
    p.add_argument("artifact")
    add_design_options(p)
    p.add_argument("--simulator", default="verilator", choices=("verilator", "icarus"))
    p.add_argument("--waves", action="store_true", help="dump waveforms (FST on Verilator)")
    p.add_argument("--seed", type=int, help="random seed of data and backpressure, 0 to 2**32-1 "
                                            "(default: drawn, and printed)")
    p.add_argument("--pauses", help="src:sink pause modes, e.g. none:none,random:random")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("cost", help="storage of an artifact; area, memory and Fmax of a design")
    p.add_argument("artifact")
    add_design_options(p)
    p.add_argument("--target", action="append", choices=("generic", "ice40", "ecp5"),
                   help="synthesis target (repeatable; default all three)")
    p.add_argument("--device", action="append",
                   help="part, e.g. up5k-sg48, hx8k-ct256, ecp5-25f, ecp5-45f, ecp5-85f (repeatable)")
    p.add_argument("--no-pnr", action="store_true", help="synthesis only, no place and route")
    p.add_argument("-o", "--output", help="design folder for the reports (default rtl_out/<design>)")
    p.set_defaults(func=cmd_cost)

    p = sub.add_parser("evaluate", help="PSNR/SSIM of an HKLUT artifact vs bicubic")
    p.add_argument("artifact")
    p.add_argument("--test-dir", help="benchmark folder with HR/ and LR_bicubic/X{r}/")
    p.add_argument("--arithmetic", default="exact", choices=("exact", "float32"))
    p.add_argument("-o", "--output", help="folder for side-by-side PNGs and eval.json")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("upscale", help="super-resolve images with an HKLUT artifact")
    p.add_argument("artifact")
    p.add_argument("input", nargs="+", help="image files and folders of them")
    p.add_argument("-o", "--output", required=True,
                   help="output image (one input; its suffix names the format: .png, .jpg, "
                        ".bmp, .tif, .webp) or folder (<stem>.png per input)")
    p.add_argument("--arithmetic", default="exact", choices=("exact", "float32"))
    p.set_defaults(func=cmd_upscale)

    p = sub.add_parser("compare", help="cross-scheme hardware comparison (not yet: later issue)")
    p.set_defaults(func=cmd_compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .artifact import ArtifactError
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except CommandError as e:
        err_console.print(f"[red]error:[/] {e}", highlight=False)
        return e.status
    except (ArtifactError, ValueError, TypeError, OSError) as e:
        if os.environ.get("EDGEFORGE_DEBUG"):
            raise
        err_console.print(f"[red]error:[/] {e}", highlight=False)
        return 2
    except _tool_errors() as e:
        # A simulator or synthesis tool failed: its message names the log to read.
        if os.environ.get("EDGEFORGE_DEBUG"):
            raise
        err_console.print(f"[red]error:[/] {e}", highlight=False)
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130


def _tool_errors() -> tuple[type[Exception], ...]:
    # Imported only when an exception is being matched: these modules are not needed to start.
    from .bench.synth import SynthError
    from .sim.runner import SimBuildError, SimulatorNotFoundError
    return SynthError, SimBuildError, SimulatorNotFoundError


if __name__ == "__main__":
    sys.exit(main())
