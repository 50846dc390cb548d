"""SR-LUT / MuLUT user-facing parts: train and evaluate options, ``import-srlut``, and the
storage table ``cost`` shows.

The CLI (``edgeforge.cli``) assembles these; nothing here parses ``sys.argv``.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from . import Command, Option
from .hklut_flows import int_list

__all__ = ["DESIGN_OPTIONS", "TRAIN_OPTIONS", "EVALUATE_OPTIONS", "COMMANDS", "train", "evaluate", "storage_table",
           "task_metric"]

console = Console()

DESIGN_OPTIONS = (
    Option(("--width",), "width", {"type": int, "help": "LR image width in pixels"}),
    Option(("--height",), "height", {"type": int, "help": "LR image height in pixels"}),
    Option(("--out-pixels",), "out_pixels", {"type": int, "metavar": "P",
                                             "help": "HR pixels per output beat"}),
    Option(("--table",), "table", {"choices": ("onchip", "external"),
                                   "help": "SR-LUT: table in an on-chip ROM or behind an "
                                           "external read port (default external)"}),
    Option(("--memory-latency",), "memory_latency", {
        "type": int, "metavar": "CYCLES",
        "help": "SR-LUT: cycles the external memory takes to answer (default 4)"}),
    Option(("--buffer-ram",), "buffer_ram", {"metavar": "KIND",
                                             "help": "memory of the line and re-order buffers"}),
)

TRAIN_OPTIONS = (
    Option(("--kernels",), "kernels", {"choices": ("s", "f", "v", "sdy"),
                                       "help": "SR-LUT: pattern s (2x2), f (1x3) or v (1x2), or "
                                               "MuLUT's sdy (S, D, Y kernels); default s"}),
    Option(("--stages",), "stages", {"type": int_list, "metavar": "R1,R2",
                                     "help": "SR-LUT: stage factors (default 4; MuLUT x4: 1,4)"}),
    Option(("--interval-bits",), "interval_bits", {
        "type": int, "metavar": "B",
        "help": "SR-LUT: log2 of the table's sampling interval (default 4: 17 nodes)"}),
    Option(("--patch",), "patch", {"type": int, "help": "LR patch side in pixels"}),
    Option(("--nf",), "nf", {"type": int, "help": "channels of each unit's hidden layers"}),
)

EVALUATE_OPTIONS = (
    Option(("--test-dir",), "test_dir", {"help": "benchmark folder with HR/ and "
                                                 "LR_bicubic/X{r}/"}),
    Option(("--simplex",), "simplex", {"choices": ("fixed", "authors"),
                                       "help": "SR-LUT: fixed (sorted, the hardware's) or "
                                               "authors (SR-LUT's test code); default fixed"}),
)


def train(args) -> int:
    """``edgeforge train --scheme srlut``: a short CPU run, transferred to the table."""
    from ..artifact import save
    from ..models.srlut.train import TrainConfig, train as run_training
    from ..models.srlut.transfer import transfer
    model_config = _model_config(args)
    fields = ("iterations", "batch", "patch", "lr", "seed", "nf", "threads")
    config = TrainConfig(**{k: getattr(args, k) for k in fields if getattr(args, k) is not None})
    net, info = run_training(config, model_config, progress=not args.no_progress)
    art = transfer(net, provenance=info | {"command": "edgeforge " + " ".join(args.argv)})
    out = save(art, args.output)
    console.print(f"trained {info['iterations']} iterations in {info['train_seconds']} s, "
                  f"final loss {info['final_loss']}; wrote [bold]{out}[/]")
    return 0


# The config fields the training options set, by the flag that sets them.
_CONFIG_FLAGS = {"kernels": "--kernels", "stages": "--stages", "interval_bits": "--interval-bits"}


def _model_config(args):
    """The SRLUTConfig the training options give; a bad value raises naming its flag."""
    from ..artifact import ArtifactError
    from .srlut import SRLUTConfig
    given = {k: getattr(args, k) for k in _CONFIG_FLAGS if getattr(args, k) is not None}
    try:
        return SRLUTConfig.from_dict(given)
    except ArtifactError as e:
        field = e.field.removeprefix("config.")
        message = str(e).removeprefix(f"{e.field}: ")
        raise ValueError(f"{_CONFIG_FLAGS.get(field, field)}: {message}") from None


def evaluate(args, art) -> int:
    """``edgeforge evaluate A.npz``: PSNR/SSIM of the golden readout against bicubic."""
    from ..models.hklut.evaluate import render_eval_table
    from ..models.srlut.evaluate import evaluate as run_evaluation
    pairs = None
    if args.test_dir:
        from math import prod

        from ..models.data import load_benchmark_dir
        pairs = load_benchmark_dir(args.test_dir, prod(art.config["stages"]))
    report = run_evaluation(art, pairs, simplex=args.simplex or "fixed")
    console.print(render_eval_table(report, scheme=_title(art.config)))
    return 0


def task_metric(art) -> dict:
    """The comparison's task figure: the golden ``fixed`` readout's mean Y-PSNR on the built-in
    photos (the engine is bit-exact with it), bicubic beside it."""
    from ..models.srlut.evaluate import evaluate as run_evaluation
    m = run_evaluation(art).mean
    return {"name": "psnr_db", "what": "Y-PSNR dB, scikit-image photos (golden = RTL)",
            "value": m.psnr, "bicubic": m.bicubic_psnr}


def _title(config: dict) -> str:
    from .srlut import SRLUTConfig
    return SRLUTConfig.from_dict(config).title


def storage_table(art) -> Table:
    """Bytes per table and in total (entries x r x r x 8 bits)."""
    from .srlut import SRLUTConfig
    config = SRLUTConfig.from_dict(art.config)
    nbytes = art.storage_bytes()
    table = Table(title=f"{_title(art.config)} LUT storage (x{config.scale}, {config.nodes} nodes "
                        f"per input, interval {config.interval})",
                  caption="bytes = entries x r x r x bits / 8 (not the file size)")
    for header in ("table", "entries", "r x r", "bytes", "KiB"):
        table.add_column(header, justify="left" if header == "table" else "right")
    for name, _, _, r in config.tables():
        table.add_row(name, f"{config.entries:,}", f"{r}x{r}", f"{nbytes[name]:,}",
                      f"{nbytes[name] / 1024:.1f}")
    total = sum(nbytes.values())
    table.add_row("total", "", "", f"{total:,}", f"{total / 1024:.1f}", style="bold")
    return table


def _import_arguments(p) -> None:
    p.add_argument("path", help="an SR-LUT Model_*_int8.npy file, or a MuLUT model folder")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--transferred", action="store_true",
                   help="MuLUT: the LUT_* tables, not the fine-tuned LUT_ft_* ones")


def _import(args) -> int:
    from ..artifact import save
    from ..models.srlut.importer import import_srlut
    from ..paths import check_output_file
    check_output_file(args.output, "-o/--output")
    artifact = import_srlut(args.path, fine_tuned=False if args.transferred else None)
    out = save(artifact, args.output)
    console.print(f"imported {len(artifact.arrays)} table(s), config {artifact.config}; "
                  f"wrote [bold]{out}[/] ({artifact.short_hash})")
    return 0


COMMANDS = (
    Command("import-srlut", "import tables in the SR-LUT or MuLUT authors' layout",
            _import_arguments, _import),
)
