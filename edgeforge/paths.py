"""Output paths checked before the work: one clear line instead of a traceback after it.

A command that trains for minutes or builds a design and then cannot write its
result has wasted the time, and the ``OSError`` it ends with says nothing of
which option was wrong. Every writer of the API checks its output path with
these helpers, and the CLI checks each ``-o`` (naming the flag) before it
starts. A check writes nothing: it creates no folder, and its probe file is
gone when it returns.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["check_output_file", "check_output_dir"]


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")   # a relative path whose first part does not exist yet


def _check_can_create(folder: Path, field: str, target: Path) -> None:
    """Refuse unless ``folder`` is writable, or can be made below a writable one, for ``target``."""
    base = _nearest_existing(folder.absolute())
    if not base.is_dir():
        raise ValueError(f"{field}: cannot write {str(target)!r}: {str(base)!r} is a file, "
                         f"not a folder")
    try:
        # os.access misjudges root, ACLs and read-only mounts; creating a file does not.
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as e:
        raise ValueError(f"{field}: cannot write {str(target)!r}: folder {str(base)!r} is "
                         f"not writable ({e.strerror})") from None


def check_output_file(path, field: str) -> Path:
    """Check that a file can be written at ``path``; return it as a Path.

    The file may exist (it is replaced) and its folder may not yet (it is made).

    Parameters
    ----------
    path : str or pathlib.Path
    field : str
        The argument or flag that gave the path; it starts every error message.

    Raises
    ------
    ValueError
        If ``path`` is an existing folder, an existing file that cannot be
        written, or in a folder that cannot be made or written.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{field}: {str(path)!r} is a folder; name a file (one in it, for "
                         f"instance)")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{field}: {str(path)!r} exists and is not writable")
    _check_can_create(path.parent, field, path)
    return path


def check_output_dir(path, field: str) -> Path:
    """Check that files can be written into the folder ``path`` (made if missing); return it.

    Raises
    ------
    ValueError
        If ``path`` is an existing file, or below a file, or in a folder that
        cannot be written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{field}: {str(path)!r} is a file; give a folder (it is made if "
                         f"missing)")
    _check_can_create(path, field, path)
    return path
