"""The lookup-table schemes' common front door: an artifact, or a ``(tables, config)`` pair,
split into tables checked against their config's array specs (HKLUT, SR-LUT / MuLUT)."""

from __future__ import annotations

import numpy as np

from edgeforge.artifact import Artifact, check_array

__all__ = ["resolve_tables", "check_tables"]


def resolve_tables(artifact_or_tables, scheme: str,
                   config_type: type) -> tuple[dict[str, np.ndarray], object]:
    """``(tables, config)`` of an artifact of ``scheme`` (its config read by
    ``config_type.from_dict``) or of a ``(tables, config_type)`` pair, checked.

    Raises
    ------
    ValueError
        If the artifact is of another scheme, or a table is missing, extra, or of the
        wrong dtype, shape or range.
    TypeError
        If the argument is neither an artifact nor a ``(tables, config)`` pair.
    """
    if isinstance(artifact_or_tables, Artifact):
        if artifact_or_tables.scheme != scheme:
            raise ValueError(f"artifact_or_tables must be an artifact of scheme {scheme!r}, "
                             f"got scheme {artifact_or_tables.scheme!r}")
        tables = artifact_or_tables.arrays
        config = config_type.from_dict(artifact_or_tables.config)
    elif (isinstance(artifact_or_tables, tuple) and len(artifact_or_tables) == 2
          and isinstance(artifact_or_tables[0], dict)):
        tables, config = artifact_or_tables
    else:
        raise TypeError(f"artifact_or_tables must be an Artifact or a (tables, "
                        f"{config_type.__name__}) pair, got {type(artifact_or_tables).__name__!r}")
    check_tables(tables, config, config_type)
    return tables, config


def check_tables(tables, config, config_type: type) -> None:
    """Refuse a config that is not a ``config_type``, or tables that are not exactly the
    config's (:meth:`array_specs`), each of its dtype, shape and range."""
    if not isinstance(config, config_type):
        raise TypeError(f"config must be an {config_type.__name__}, "
                        f"got {type(config).__name__!r}")
    if not isinstance(tables, dict):
        raise TypeError(f"tables must be a dict of name -> int8 array, "
                        f"got {type(tables).__name__!r}")
    specs = config.array_specs()
    missing = sorted(set(specs) - set(tables))
    if missing:
        raise ValueError(f"tables lack {len(missing)} table(s) this config reads, "
                         f"first {missing[0]!r}")
    extra = sorted(set(tables) - set(specs))
    if extra:
        raise ValueError(f"tables hold table(s) this config does not read, first {extra[0]!r}")
    for name, spec in specs.items():
        check_array(name, tables[name], spec)
