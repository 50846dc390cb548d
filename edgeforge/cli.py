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


# -- what the schemes declare ------------------------------------------------

def _schemes():
    """(scheme, its flows module) for every registered scheme, in registry order."""
    from .schemes import SCHEMES, get_scheme
    out = []
    for name in SCHEMES:
        scheme = get_scheme(name)
        out.append((scheme, scheme.flows_module()))
    return out


def _declared(attr: str):
    """(scheme, option) for every option the schemes declare under ``attr``."""
    return [(scheme, option) for scheme, flows in _schemes()
            for option in getattr(flows, attr, ())]


def add_scheme_options(p: argparse.ArgumentParser, attr: str, what: str) -> None:
    """One argument group per scheme with its ``attr`` options. Two schemes may declare the
    same flag (the first declaration defines it; both read its value)."""
    seen = set()
    for scheme, flows in _schemes():
        options = [o for o in getattr(flows, attr, ()) if o.flags[0] not in seen]
        if not options:
            continue
        g = p.add_argument_group(f"{scheme.title} {what}")
        for option in options:
            g.add_argument(*option.flags, dest=option.key, default=None, **option.kwargs)
            seen.add(option.flags[0])


def scheme_values(args, scheme, attr: str) -> dict:
    """The values of ``scheme``'s ``attr`` options that were given; raise naming any option
    that was given but belongs to other schemes only."""
    mine = {o.key for o in getattr(scheme.flows_module(), attr, ())}
    given = {}
    for other, option in _declared(attr):
        value = getattr(args, option.key, None)
        if value is None or option.key in given:
            continue
        if option.key not in mine:
            owners = sorted({s.title for s, o in _declared(attr) if o.key == option.key})
            takes = sorted(o.flags[0] for o in getattr(scheme.flows_module(), attr, ()))
            raise CommandError(f"{option.flags[0]}: a {' or '.join(owners)} option; the "
                               f"{scheme.name} scheme takes {takes or 'none'} here")
        given[option.key] = tuple(value) if isinstance(value, list) else value
    return given


def load_artifact(path):
    from .artifact import load
    return load(path)


def _scheme_of(art):
    from .schemes import get_scheme
    return get_scheme(art.scheme)


# -- subcommands ------------------------------------------------------------

def cmd_demo(args) -> int:
    from .demo import run_demo
    check_output_dir(args.out, "--out")
    return run_demo(Path(args.out), quick=args.quick, simulator=args.simulator)


def cmd_train(args) -> int:
    from .schemes import SCHEMES, get_scheme
    if args.scheme not in SCHEMES:
        raise CommandError(f"--scheme: unknown scheme {args.scheme!r}; known: {sorted(SCHEMES)}")
    scheme = get_scheme(args.scheme)
    flows = scheme.flows_module()
    if not hasattr(flows, "train"):
        raise CommandError(f"--scheme: {args.scheme!r} has no training; schemes that train: "
                           f"{sorted(s.name for s, f in _schemes() if hasattr(f, 'train'))}")
    scheme_values(args, scheme, "TRAIN_OPTIONS")
    check_output_file(args.output, "-o/--output")   # now, not after the training
    return flows.train(args)


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


def _design(args):
    """The artifact, its design options as given, and the design they build."""
    from . import generate
    art = load_artifact(args.artifact)
    config = scheme_values(args, _scheme_of(art), "DESIGN_OPTIONS")
    return art, config, generate(art, **config)


def cmd_generate(args) -> int:
    if args.output:
        check_output_dir(args.output, "-o/--output")
    _, _, design = _design(args)
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


def cmd_verify_design(args) -> int:
    """``verify --design DIR``: regenerate a written design and compare its files."""
    from .recheck import recheck_design
    given = [o.flags[0] for _, o in _declared("DESIGN_OPTIONS")
             if getattr(args, o.key, None) is not None]
    if given:
        raise CommandError(f"{given[0]}: --design re-checks the config its manifest records; "
                           f"give no design options with it")
    result = recheck_design(args.design, args.artifact)
    for note in result.notes:
        console.print(f"note: {note}")
    for mismatch in result.mismatches:
        err_console.print(f"[red]{mismatch}[/]", highlight=False)
    state = "PASS" if result.passed else "FAIL"
    console.print(f"{state}: {args.design} holds {result.design} "
                  + ("exactly as its artifact and config generate it" if result.passed else
                     f"with {len(result.mismatches)} difference(s) from what they generate"))
    return 0 if result.passed else 1


def cmd_verify(args) -> int:
    from .sim.runner import check_verify_options
    if args.design is not None:
        return cmd_verify_design(args)
    if args.artifact is None:
        raise CommandError("artifact: give the artifact to verify, or --design DIR to re-check "
                           "a written design")
    # Every option checked, and the seed drawn and printed, before anything is built.
    seed = check_verify_options(args.simulator, args.seed, args.pauses)
    _, _, design = _design(args)
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
    flows = _scheme_of(art).flows_module()
    if hasattr(flows, "storage_table"):
        console.print(flows.storage_table(art))
    config = scheme_values(args, _scheme_of(art), "DESIGN_OPTIONS")
    if not config and getattr(flows, "DESIGN_OPTIONS", ()) and not args.target:
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
    if args.output:
        check_output_dir(args.output, "-o/--output")
    art = load_artifact(args.artifact)
    scheme = _scheme_of(art)
    flows = scheme.flows_module()
    if not hasattr(flows, "evaluate"):
        raise CommandError(f"artifact: a {art.scheme} artifact has nothing to evaluate")
    scheme_values(args, scheme, "EVALUATE_OPTIONS")
    return flows.evaluate(args, art)


def cmd_compare(args) -> int:
    from .bench.compare import SpecError, run_command
    check_output_dir(args.output, "-o/--output")
    try:
        return run_command(args, console)
    except SpecError as err:
        raise CommandError(str(err)) from None


def cmd_formal(args) -> int:
    from rich.table import Column, Table
    from .sim.formal.checks import check_depth, find_checks, run_check
    from .sim.formal.sby import sby_missing_reason
    checks = find_checks(args.check, slow=args.slow)
    if args.list:
        # Names and methods are what one types and greps: never wrapped.
        table = Table(Column("check", no_wrap=True), "block", "property",
                      Column("method", no_wrap=True), "depth", "solver", "slow")
        for c in checks:
            method = "k-induction" if c.mode == "prove" else "BMC"
            table.add_row(c.name, c.block, c.prop, method, str(check_depth(c)), c.solver,
                          "yes" if c.slow else "")
        console.print(table)
        return 0
    reasons = [sby_missing_reason(s) for s in sorted({c.solver for c in checks})]
    reason = next((r for r in reasons if r), None)
    if reason:
        raise CommandError(reason, 1)
    out = Path(args.output)
    check_output_dir(out, "-o/--output")
    table = Table("check", "property", "method", "depth", "result", "seconds")
    failed = []
    for c in checks:
        with console.status(f"{c.name}: {c.prop} ({c.mode}, depth {check_depth(c)})"):
            result = run_check(c, out / c.name, timeout=args.timeout)
        method = "k-induction" if c.mode == "prove" else "BMC"
        colour = "green" if result.passed else "red"
        table.add_row(c.name, c.prop, method, str(result.depth),
                      f"[{colour}]{result.status}[/]", f"{result.seconds:.1f}")
        if not result.passed:
            failed.append(result)
    console.print(table)
    for result in failed:
        console.print(result.summary(), highlight=False)
    return 1 if failed else 0


def cmd_sweep(args) -> int:
    from .bench.compare import SpecError
    from .bench.sweep import run_command
    try:
        return run_command(args, console)
    except SpecError as err:
        raise CommandError(str(err)) from None


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

    p = sub.add_parser("train", help="train a scheme's network on CPU and export its artifact")
    p.add_argument("--scheme", default="hklut", help="what to train (default hklut)")
    p.add_argument("-o", "--output", required=True, help="artifact to write (.npz)")
    p.add_argument("--iterations", type=int, help="training iterations (default: the scheme's)")
    p.add_argument("--batch", type=int, help="examples per iteration")
    p.add_argument("--lr", type=float, help="Adam learning rate")
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="log lines instead of a progress bar")
    add_scheme_options(p, "TRAIN_OPTIONS", "training options")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("inspect", help="validate an artifact and list its arrays")
    p.add_argument("artifact")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("generate", help="generate Verilog, manifest, filelist and .core")
    p.add_argument("artifact")
    p.add_argument("-o", "--output", help="output folder (default rtl_out/<design>)")
    add_scheme_options(p, "DESIGN_OPTIONS", "design options")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("verify", help="check the RTL bit-exact against the golden model in cocotb")
    p.add_argument("artifact", nargs="?", help="the artifact (with --design: instead of the "
                                               "one the manifest names)")
    p.add_argument("--design", metavar="DIR", help="re-check a written design instead: "
                   "regenerate it from the artifact and config its manifest names and compare "
                   "every file")
    add_scheme_options(p, "DESIGN_OPTIONS", "design options")
    p.add_argument("--simulator", default="verilator", choices=("verilator", "icarus"))
    p.add_argument("--waves", action="store_true", help="dump waveforms (FST on Verilator)")
    p.add_argument("--seed", type=int, help="random seed of data and backpressure, 0 to 2**32-1 "
                                            "(default: drawn, and printed)")
    p.add_argument("--pauses", help="src:sink pause modes, e.g. none:none,random:random")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("cost", help="storage of an artifact; area, memory and Fmax of a design")
    p.add_argument("artifact")
    add_scheme_options(p, "DESIGN_OPTIONS", "design options")
    p.add_argument("--target", action="append", choices=("generic", "ice40", "ecp5"),
                   help="synthesis target (repeatable; default all three)")
    p.add_argument("--device", action="append",
                   help="part, e.g. up5k-sg48, hx8k-ct256, ecp5-25f, ecp5-45f, ecp5-85f (repeatable)")
    p.add_argument("--no-pnr", action="store_true", help="synthesis only, no place and route")
    p.add_argument("-o", "--output", help="design folder for the reports (default rtl_out/<design>)")
    p.set_defaults(func=cmd_cost)

    p = sub.add_parser("evaluate", help="task metric of an artifact (HKLUT: PSNR/SSIM vs bicubic)")
    p.add_argument("artifact")
    p.add_argument("-o", "--output", help="folder for what the evaluation writes (pictures, "
                                          "eval.json)")
    add_scheme_options(p, "EVALUATE_OPTIONS", "evaluation options")
    p.set_defaults(func=cmd_evaluate)

    for scheme, flows in _schemes():
        for command in getattr(flows, "COMMANDS", ()):
            p = sub.add_parser(command.name, help=command.help)
            command.add_arguments(p)
            p.set_defaults(func=command.run)

    p = sub.add_parser("compare", help="cross-scheme hardware comparison: every row of a TOML "
                                       "spec verified, synthesised and tabled, with plots")
    from .bench.compare import add_arguments as compare_arguments
    compare_arguments(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("formal", help="formal checks (SymbiYosys + z3 or Yices): stream "
                                      "rules, beat conservation, frames on time, equivalence "
                                      "of small blocks")
    p.add_argument("check", nargs="*", help="checks or groups to run (e.g. skid, "
                                            "network.pecan-d.rules; default: all but the slow)")
    p.add_argument("--slow", action="store_true", help="include the checks of tens of seconds")
    p.add_argument("--list", action="store_true", help="list the checks, run nothing")
    p.add_argument("-o", "--output", default="build/formal",
                   help="work folder: each check's RTLIL, .sby and traces (default: build/formal)")
    p.add_argument("--timeout", type=int, help="seconds before a check gives up")
    p.set_defaults(func=cmd_formal)


    from .bench.sweep import add_arguments as add_sweep_arguments
    p = sub.add_parser("sweep", help="design-space sweep: a grid or an Optuna (NSGA-II) search "
                                     "over a TOML spec's parameters, trials run on Dask, "
                                     "tabled with Pareto plots")
    add_sweep_arguments(p)
    p.set_defaults(func=cmd_sweep)
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
