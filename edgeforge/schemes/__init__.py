"""Scheme registry: what each trained scheme's artifact must hold, and where its design lives.

A scheme is a small class (see :class:`Scheme`) that validates its artifact
configuration, lists the arrays it expects, and builds a :class:`~edgeforge.design.Design`
for a hardware config. Its user-facing parts (design options of ``generate``, ``verify``
and ``cost``, its ``train`` and ``evaluate``, commands of its own, demo flows) live in a
flows module that :attr:`Scheme.flows` names, imported only by the CLI and the demo.
Adding a scheme means adding its modules here and a line to :data:`SCHEMES`; nothing
else in the core or the CLI changes.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..artifact import Artifact, ArraySpec
    from ..design import Design

__all__ = ["SCHEMES", "Command", "ConfigScheme", "Option", "Scheme", "get_scheme",
           "check_design_options"]

# name -> "module:class", imported on first use so that loading an artifact
# never imports torch or Amaranth.
SCHEMES = {
    "smoke": "edgeforge.schemes.smoke:SmokeScheme",
    "hklut": "edgeforge.schemes.hklut:HKLUTScheme",
    "network": "edgeforge.schemes.network:NetworkScheme",
    "srlut": "edgeforge.schemes.srlut:SRLUTScheme",
    "bicubic": "edgeforge.schemes.bicubic:BicubicScheme",
}


@dataclass(frozen=True)
class Option:
    """One command-line option of a scheme: argparse flags and keywords, and the key its
    value goes under (a design config key, or a training field). Its default is None (not
    given); the scheme applies its own defaults."""
    flags: tuple[str, ...]
    key: str
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Command:
    """A command of the scheme's own (e.g. HKLUT's ``upscale``): ``run(args) -> status``."""
    name: str
    help: str
    add_arguments: Callable[[Any], None]
    run: Callable[[Any], int]


class Scheme:
    """What the core needs to know of a scheme.

    ``flows`` names the module with the scheme's user-facing parts; the CLI reads from it
    (all optional): ``DESIGN_OPTIONS``, ``TRAIN_OPTIONS`` and ``train(args)``,
    ``EVALUATE_OPTIONS`` and ``evaluate(args, artifact)``, ``COMMANDS``,
    ``storage_table(artifact)`` (shown by ``cost``), and ``DEMO_FLOWS`` (functions
    ``flow(demo, out, quick=, simulator=)`` that ``edgeforge demo`` runs in registry order).
    """

    name: str
    version: int
    flows: str | None = None
    title: str = ""

    def flows_module(self):
        """The scheme's flows module, or None."""
        return importlib.import_module(self.flows) if self.flows else None

    def check_config(self, config: dict) -> dict:
        """Return the normalised config, or raise ArtifactError naming ``config.<field>``."""
        raise NotImplementedError

    def array_specs(self, config: dict) -> dict[str, "ArraySpec"]:
        """The arrays an artifact with this (checked) config must hold."""
        raise NotImplementedError

    def design(self, artifact: "Artifact", **hw_config) -> "Design":
        """Build the design for ``artifact`` under a hardware config."""
        raise NotImplementedError

    def design_options(self, config: dict) -> dict:
        """The keyword options of :meth:`design` that rebuild a design from the ``config`` its
        manifest records (by default the config itself)."""
        return dict(config)


class ConfigScheme(Scheme):
    """A scheme whose whole config is one validated dataclass (``config_class``: ``from_dict``,
    ``to_dict``, ``array_specs()``) and whose design class takes the hardware options as
    keyword-only parameters, checked by :func:`check_design_options`. ``design_class`` is
    ``"module:Class"``, imported on first use so that loading an artifact never imports
    Amaranth."""

    config_class: type
    design_class: str

    def check_config(self, config: dict) -> dict:
        return self.config_class.from_dict(config).to_dict()

    def array_specs(self, config: dict) -> dict[str, "ArraySpec"]:
        return self.config_class.from_dict(config).array_specs()

    def design(self, artifact, **hw_config):
        module, cls = self.design_class.split(":")
        design_cls = getattr(importlib.import_module(module), cls)
        return design_cls(artifact, **check_design_options(self.name, design_cls, hw_config))


def check_design_options(scheme: str, design_cls: type, options: dict) -> dict:
    """Refuse hardware options a design class does not take, or lacks, naming them; return them.

    The options are the keyword-only parameters of ``design_cls.__init__``.
    Without this check Python's own words reach the user ("missing 2 required
    keyword-only arguments"), which name neither the scheme nor the flags.

    Raises
    ------
    ValueError
        ``"<option>: ..."`` for an unknown option, or one without a default
        that is missing (with its command-line flag).
    """
    params = inspect.signature(design_cls.__init__).parameters
    known = [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"{unknown[0]}: not an option of the {scheme} design, whose options are "
                         f"{', '.join(known)}; got {options[unknown[0]]!r}")
    missing = [n for n in known if params[n].default is inspect.Parameter.empty
               and n not in options]
    if missing:
        flags = ", ".join("--" + n.replace("_", "-") for n in missing)
        raise ValueError(f"{', '.join(missing)}: the {scheme} design needs a value for each "
                         f"({flags} on the command line), got none")
    return options


def get_scheme(name: str) -> Scheme:
    try:
        target = SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown scheme {name!r}; known: {sorted(SCHEMES)}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)()
