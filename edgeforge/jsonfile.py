"""Strict JSON: what edgeforge writes parses anywhere, so it never holds NaN or Infinity.

Python's :func:`json.dumps` writes ``float("nan")`` and ``float("inf")`` as
``NaN`` and ``Infinity``, which are not JSON: strict parsers (browsers' and
Rust's, ``jq``) refuse the whole file. Every manifest, report and result goes
through :func:`dumps`, which refuses such a value and names where it sits, so
a bad number stops the writer instead of every reader downstream.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

__all__ = ["dumps", "write"]


def _non_finite(obj, where: str = "", seen: frozenset = frozenset()) -> tuple[str, float] | None:
    """Path (``a.b[2]``) and value of the first NaN or infinity inside ``obj``, or None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return where or "value", obj
    if id(obj) in seen:   # a circular reference, which json reports itself
        return None
    seen = seen | {id(obj)}
    if isinstance(obj, dict):
        items = ((f"{where}.{k}" if where else str(k), v) for k, v in obj.items())
    elif isinstance(obj, (list, tuple)):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(obj))
    else:
        return None
    for path, value in items:
        found = _non_finite(value, path, seen)
        if found is not None:
            return found
    return None


def dumps(obj, *, what: str, **kwargs) -> str:
    """``json.dumps(obj, allow_nan=False, **kwargs)``, with an error that names the value.

    Parameters
    ----------
    obj : object
        JSON-ready data.
    what : str
        What is being written (a file or field name); it starts the error message.
    **kwargs
        Passed to :func:`json.dumps` (``indent``, ``sort_keys``, ...).

    Raises
    ------
    ValueError
        ``"<what>: <path> is nan, which JSON cannot hold ..."`` for a NaN or an
        infinity anywhere in ``obj``.
    """
    try:
        return json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError:
        found = _non_finite(obj)
        if found is None:   # another ValueError (a circular reference): json's own words
            raise
        path, value = found
        raise ValueError(f"{what}: {path} is {value!r}, which JSON cannot hold (NaN and "
                         f"Infinity are not JSON); refusing to write it") from None


def write(path, obj, *, what: str | None = None, **kwargs) -> Path:
    """Write :func:`dumps` of ``obj`` and a final newline to ``path``; return the path.

    ``what`` defaults to the path. Nothing is written when ``obj`` is refused.
    """
    path = Path(path)
    path.write_text(dumps(obj, what=what or str(path), **kwargs) + "\n")
    return path
