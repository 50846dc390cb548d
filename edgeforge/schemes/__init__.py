"""Scheme registry: what each trained scheme's artifact must hold, and where its design lives.

A scheme is a small class (see :class:`Scheme`) that validates its artifact
configuration, lists the arrays it expects, and builds a :class:`~edgeforge.design.Design`
for a hardware config. Adding a scheme means adding a module here and a line to
:data:`SCHEMES`; nothing else in the core changes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..artifact import Artifact, ArraySpec
    from ..design import Design

__all__ = ["SCHEMES", "Scheme", "get_scheme"]

# name -> "module:class", imported on first use so that loading an artifact
# never imports torch or Amaranth.
SCHEMES = {
    "smoke": "edgeforge.schemes.smoke:SmokeScheme",
    "hklut": "edgeforge.schemes.hklut:HKLUTScheme",
    "network": "edgeforge.schemes.network:NetworkScheme",
}


class Scheme:
    """What the core needs to know of a scheme."""

    name: str
    version: int

    def check_config(self, config: dict) -> dict:
        """Return the normalised config, or raise ArtifactError naming ``config.<field>``."""
        raise NotImplementedError

    def array_specs(self, config: dict) -> dict[str, "ArraySpec"]:
        """The arrays an artifact with this (checked) config must hold."""
        raise NotImplementedError

    def design(self, artifact: "Artifact", **hw_config) -> "Design":
        """Build the design for ``artifact`` under a hardware config."""
        raise NotImplementedError


def get_scheme(name: str) -> Scheme:
    try:
        target = SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown scheme {name!r}; known: {sorted(SCHEMES)}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)()
