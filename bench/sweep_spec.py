"""The spec of a design-space sweep (``edgeforge sweep SPEC.toml``): what varies, what is
measured, what is sought.

Spec::

    title = "digits-ref: folding against cost"
    mode = "optuna"                  # or "grid" (every combination of the parameters)
    targets = ["generic", "ecp5"]    # synthesis per trial; [] or "none": the cycle model only
    verify = false                   # the RTL run on a sample per trial (default true)
    trials = 24                      # optuna: trials in the study in all (a resumed one counts)
    seed = 0                         # optuna: the sampler's seed
    population = 8                   # optuna: NSGA-II's population (default 8)
    trial_timeout_s = 1800           # optional: a trial that takes longer fails with that reason

    [base]                           # the design every trial starts from
    artifact = "shipped:digits-ref"  # or a path; a parameter "artifact" varies it
    options = { datapath = "wide" }  # what ``edgeforge.generate`` takes

    [parameters]                     # each a design option, "artifact" or "device"
    target_cycles = { low = 32, high = 2048, log = true }   # integers (grid: doubling)
    pixels_per_beat = [1, 2, 4]      # a list of values (optuna: categorical)
    device = ["ecp5-25f", "ecp5-45f"]  # the part its family is costed on (no smallest search)

    [[objective]]                    # optuna searches these; both modes mark the Pareto front
    name = "area"                    # see OBJECTIVES; direction defaults to the natural one
    [[objective]]
    name = "cycles"

Keys of the top level come before the first table (TOML puts a key after ``[[objective]]``
into that objective), so ``constraints = ["fits ecp5-25f", "cycles <= 512"]`` goes beside
``title``. A ``fits PART`` constraint (which needs the part's family among the targets)
holds where the trial's design fits that part (an ``ecp5`` design on the smallest part it
fits fits every larger one); ``NAME <= X`` and ``NAME >= X`` bound an objective's figure. A bad spec is refused naming the field and the value.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .compare import TARGETS, RowSpec, SpecError, resolve_artifact
from .harness import REPO

__all__ = ["OBJECTIVES", "Objective", "Constraint", "Parameter", "SweepSpec", "parse_sweep",
           "load_sweep", "parse_constraint", "value_label", "row_of"]

#: Objective name -> (the compare table's column, natural direction, the target it needs).
OBJECTIVES = {
    "area": ("generic cells", "minimize", "generic"),
    "transistors": ("transistors", "minimize", "generic"),
    "ice40_lut4": ("ice40 LUT4", "minimize", "ice40"),
    "ecp5_lut4": ("ecp5 LUT4", "minimize", "ecp5"),
    "ice40_fmax": ("ice40 Fmax MHz", "maximize", "ice40"),
    "ecp5_fmax": ("ecp5 Fmax MHz", "maximize", "ecp5"),
    "throughput": ("outputs per s at ECP5 Fmax", "maximize", "ecp5"),
    "cycles": ("cycles per output", "minimize", None),
    "latency": ("latency cycles", "minimize", None),
    "energy": ("est. pJ per output", "minimize", None),
    "storage": ("storage bytes", "minimize", None),
    "metric": ("metric value", "maximize", None),
}
DIRECTIONS = ("minimize", "maximize")
SPECIAL = ("artifact", "device")
MAX_GRID = 10_000


@dataclass(frozen=True)
class Objective:
    name: str
    direction: str

    @property
    def column(self) -> str:
        return OBJECTIVES[self.name][0]


@dataclass(frozen=True)
class Constraint:
    """``fits PART`` (``part``) or an objective's bound (``name``, ``op``, ``bound``)."""
    text: str
    part: str | None = None
    name: str | None = None
    op: str | None = None
    bound: float | None = None


@dataclass(frozen=True)
class Parameter:
    """A list of values, or the integers ``low..high`` (``step``, or doubling with ``log``)."""
    name: str
    values: tuple | None = None
    low: int | None = None
    high: int | None = None
    step: int = 1
    log: bool = False

    def grid(self) -> tuple:
        if self.values is not None:
            return self.values
        if self.log:
            out, v = [], self.low
            while v <= self.high:
                out.append(v)
                v *= 2
            return tuple(out)
        return tuple(range(self.low, self.high + 1, self.step))


@dataclass(frozen=True)
class SweepSpec:
    title: str
    source: str
    mode: str
    artifact: str
    options: dict
    parameters: tuple[Parameter, ...]
    targets: tuple[str, ...]
    verify: bool
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    trials: int | None = None
    seed: int = 0
    population: int = 8
    trial_timeout_s: float | None = None
    text: str = field(default="", repr=False)

    @property
    def stem(self) -> str:
        """The name of the sweep's results and of its Optuna study: the spec file's stem."""
        return Path(self.source).stem

    def grid(self) -> list[dict]:
        """Every combination of the parameters' values (the grid mode's trials)."""
        names = [p.name for p in self.parameters]
        return [dict(zip(names, combo))
                for combo in itertools.product(*(p.grid() for p in self.parameters))]


def value_label(value) -> str | int | float | bool:
    """A parameter value as a table cell and an Optuna choice: scalars as they are, a list
    (a folding's PE x SIMD pairs) as compact JSON."""
    if isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value, separators=(",", ":"))


def row_of(spec: SweepSpec, params: dict, label: str) -> RowSpec:
    """The compare row of one trial: the base design with ``params`` applied."""
    options = dict(spec.options)
    artifact, devices = spec.artifact, {}
    for name, value in params.items():
        if name == "artifact":
            artifact = value
        elif name == "device":
            from .devices import get_device
            devices[get_device(value).family] = value
        else:
            options[name] = value
    return RowSpec(label, artifact, options, spec.targets, None, spec.verify, devices or None)


# -- parsing --------------------------------------------------------------------------------

_KNOWN = ("title", "mode", "targets", "verify", "trials", "seed", "population",
          "trial_timeout_s", "base", "parameters", "objective", "constraints")


def _int(data: dict, key: str, where: str, *, low: int, default=None):
    value = data.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise SpecError(f"{where}{key}: expected an integer of at least {low}, got {value!r}")
    return value


def _design_options(artifacts: list[str], where: str) -> set[str]:
    """The option names ``generate`` takes for the schemes of ``artifacts``."""
    from ..artifact import load
    from ..schemes import get_scheme
    keys = set()
    for name in artifacts:
        try:
            scheme = get_scheme(load(resolve_artifact(name)).scheme)
        except SpecError as err:
            raise SpecError(f"{where}{err}") from None
        keys |= {o.key for o in getattr(scheme.flows_module(), "DESIGN_OPTIONS", ())}
    return keys


def _parameter(name: str, value, where: str) -> Parameter:
    if isinstance(value, list):
        if not value:
            raise SpecError(f"{where}: expected at least one value, got []")
        if len({json.dumps(v, sort_keys=True) for v in value}) != len(value):
            raise SpecError(f"{where}: the values repeat one: {value!r}")
        return Parameter(name, values=tuple(value))
    if isinstance(value, dict) and set(value) == {"choices"}:
        return _parameter(name, value["choices"], f"{where}.choices")
    if isinstance(value, dict) and {"low", "high"} <= set(value):
        unknown = sorted(set(value) - {"low", "high", "step", "log"})
        if unknown:
            raise SpecError(f"{where}: unknown field {unknown[0]!r}; known: low, high, step, log")
        low = _int(value, "low", f"{where}.", low=1)
        high = _int(value, "high", f"{where}.", low=low)
        step = _int(value, "step", f"{where}.", low=1, default=1)
        log = value.get("log", False)
        if not isinstance(log, bool):
            raise SpecError(f"{where}.log: expected true or false, got {log!r}")
        if log and step != 1:
            raise SpecError(f"{where}: step {step} with log = true; give one of them")
        return Parameter(name, low=low, high=high, step=step, log=log)
    raise SpecError(f"{where}: expected a list of values, {{ choices = [...] }} or "
                    f"{{ low = L, high = H }}, got {value!r}")


def parse_constraint(text, where: str, targets: tuple[str, ...]) -> Constraint:
    from .devices import get_device
    if not isinstance(text, str):
        raise SpecError(f"{where}: expected a string such as 'fits ecp5-25f' or 'cycles <= 512', "
                        f"got {text!r}")
    m = re.fullmatch(r"\s*fits\s+(\S+)\s*", text)
    if m:
        try:
            family = get_device(m.group(1)).family
        except ValueError as err:
            raise SpecError(f"{where}: {err}") from None
        if family not in targets:
            raise SpecError(f"{where}: {text!r} needs the {family} target; targets are "
                            f"{list(targets)}")
        return Constraint(text, part=m.group(1))
    m = re.fullmatch(r"\s*(\w+)\s*(<=|>=)\s*([-+0-9.eE]+)\s*", text)
    if not m or m.group(1) not in OBJECTIVES:
        raise SpecError(f"{where}: expected 'fits PART' or 'NAME <= X' / 'NAME >= X' with NAME "
                        f"one of {sorted(OBJECTIVES)}, got {text!r}")
    _needs_target(m.group(1), targets, where)
    try:
        bound = float(m.group(3))
    except ValueError:
        raise SpecError(f"{where}: {m.group(3)!r} is not a number") from None
    return Constraint(text, name=m.group(1), op=m.group(2), bound=bound)


def _needs_target(name: str, targets: tuple[str, ...], where: str) -> None:
    target = OBJECTIVES[name][2]
    if target is not None and target not in targets:
        raise SpecError(f"{where}: {name!r} needs the {target} target; targets are "
                        f"{list(targets)}")


def parse_sweep(text: str, source: str = "<spec>") -> SweepSpec:
    """The sweep a TOML spec describes (see the module docstring); refuse a bad one naming
    the field and the value."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{source}: not TOML: {err}") from None
    at = f"{source}: "
    unknown = sorted(set(data) - set(_KNOWN))
    if unknown:
        raise SpecError(f"{at}unknown field {unknown[0]!r}; known: {', '.join(_KNOWN)}")
    mode = data.get("mode", "grid")
    if mode not in ("grid", "optuna"):
        raise SpecError(f"{at}mode: expected 'grid' or 'optuna', got {mode!r}")
    targets = data.get("targets", ["generic"])
    if targets == "none":
        targets = []
    if (not isinstance(targets, list) or any(t not in TARGETS for t in targets)
            or len(set(targets)) != len(targets)):
        raise SpecError(f"{at}targets: expected \"none\" or a list of distinct targets from "
                        f"{list(TARGETS)}, got {targets!r}")
    targets = tuple(targets)
    verify = data.get("verify", True)
    if not isinstance(verify, bool):
        raise SpecError(f"{at}verify: expected true or false, got {verify!r}")

    base = data.get("base")
    if not isinstance(base, dict):
        raise SpecError(f"{at}base: expected a table with artifact and options, got {base!r}")
    unknown = sorted(set(base) - {"artifact", "options"})
    if unknown:
        raise SpecError(f"{at}base: unknown field {unknown[0]!r}; known: artifact, options")
    artifact = base.get("artifact")
    if not isinstance(artifact, str) or not artifact:
        raise SpecError(f"{at}base.artifact: expected a non-empty string, got {artifact!r}")
    options = base.get("options", {})
    if not isinstance(options, dict):
        raise SpecError(f"{at}base.options: expected a table, got {options!r}")

    raw = data.get("parameters")
    if not isinstance(raw, dict) or not raw:
        raise SpecError(f"{at}parameters: expected a table of at least one parameter, got {raw!r}")
    parameters = tuple(_parameter(k, v, f"{at}parameters.{k}") for k, v in raw.items())
    artifacts = [artifact]
    for p in parameters:
        where = f"{at}parameters.{p.name}"
        if p.name in SPECIAL and p.values is None:
            raise SpecError(f"{where}: expected a list of names, got a range")
        if p.name == "artifact":
            if any(not isinstance(v, str) for v in p.values):
                raise SpecError(f"{where}: expected artifact names, got {list(p.values)!r}")
            artifacts = list(p.values)
        if p.name == "device":
            for v in p.values:
                parse_constraint(f"fits {v}", where, targets)     # a part of a family costed
    known = _design_options(artifacts, f"{at}parameters.artifact: " if len(artifacts) > 1
                            else f"{at}base.")
    for name in [*options, *(p.name for p in parameters if p.name not in SPECIAL)]:
        if name not in known:
            where = "base.options" if name in options else "parameters"
            raise SpecError(f"{at}{where}.{name}: not a design option of this artifact's "
                            f"scheme; known: {', '.join(sorted(known))}, and the parameters "
                            f"artifact and device")

    raw = data.get("objective", [])
    if not isinstance(raw, list):
        raise SpecError(f"{at}objective: expected [[objective]] tables, got {raw!r}")
    objectives = []
    for i, o in enumerate(raw):
        where = f"{at}objective[{i}]"
        if not isinstance(o, dict) or o.get("name") not in OBJECTIVES:
            got = o.get("name") if isinstance(o, dict) else o
            raise SpecError(f"{where}.name: expected one of {sorted(OBJECTIVES)}, got {got!r}")
        unknown = sorted(set(o) - {"name", "direction"})
        if unknown:
            raise SpecError(f"{where}: unknown field {unknown[0]!r}; known: name, direction")
        direction = o.get("direction", OBJECTIVES[o["name"]][1])
        if direction not in DIRECTIONS:
            raise SpecError(f"{where}.direction: expected 'minimize' or 'maximize', got "
                            f"{direction!r}")
        _needs_target(o["name"], targets, f"{where}.name")
        if any(x.name == o["name"] for x in objectives):
            raise SpecError(f"{where}.name: {o['name']!r} is already an objective")
        objectives.append(Objective(o["name"], direction))
    raw = data.get("constraints", [])
    if not isinstance(raw, list):
        raise SpecError(f"{at}constraints: expected a list of strings, got {raw!r}")
    constraints = tuple(parse_constraint(c, f"{at}constraints[{i}]", targets)
                        for i, c in enumerate(raw))

    trials = _int(data, "trials", at, low=1)
    if mode == "optuna":
        if trials is None:
            raise SpecError(f"{at}trials: mode 'optuna' needs a number of trials")
        if not objectives:
            raise SpecError(f"{at}objective: mode 'optuna' needs at least one [[objective]]")
    elif trials is not None:
        raise SpecError(f"{at}trials: a grid runs every combination; trials is for mode "
                        f"'optuna', got {trials!r}")
    spec = SweepSpec(
        title=str(data.get("title", Path(source).stem)), source=source, mode=mode,
        artifact=artifact, options=options, parameters=parameters, targets=targets,
        verify=verify, objectives=tuple(objectives), constraints=constraints, trials=trials,
        seed=_int(data, "seed", at, low=0, default=0),
        population=_int(data, "population", at, low=2, default=8),
        trial_timeout_s=_int(data, "trial_timeout_s", at, low=1), text=text)
    if mode == "grid":
        size = 1
        for p in parameters:
            size *= len(p.grid())
        if size > MAX_GRID:
            raise SpecError(f"{at}parameters: the grid has {size} points, more than "
                            f"{MAX_GRID}; use mode = 'optuna' or fewer values")
    return spec


def load_sweep(path) -> SweepSpec:
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec: no such file {str(path)!r}")
    path = path.resolve()
    return parse_sweep(path.read_text(), str(path.relative_to(REPO) if path.is_relative_to(REPO)
                                             else path))
