"""Import LUTs saved in the HKLUT authors' layout (``jasonli0707/hklut``) as an edgeforge artifact.

The authors' ``transfer.py`` writes one ``.npy`` file per table,
``S{stage}_{MSB|LSB}_{HDB|HD}_LUT_{H|D|B}_x{r}_4bit_int8.npy``, of shape
``(16**pixels, 1, r, r)`` and dtype int8. The file names carry the whole
readout structure (stage factors and each branch's kernel set), so the config
is read from them and every table is checked against it before an
:class:`~edgeforge.artifact.Artifact` is built. Only NumPy is needed.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ...artifact import Artifact, check
from ...schemes.hklut import BRANCHES, KERNEL_SETS, MAX_FACTOR, HKLUTConfig

__all__ = ["FILE_PATTERN", "file_name", "import_lut_dir"]

FILE_PATTERN = re.compile(r"S(?P<stage>\d+)_(?P<branch>MSB|LSB)_(?P<set>[A-Z]+)_LUT_"
                          r"(?P<kernel>[A-Z])_x(?P<factor>\d+)_4bit_int8\.npy")


def file_name(stage: int, branch: str, kernel_set: str, kernel: str, factor: int) -> str:
    """The authors' file name of one table, e.g. ``S0_MSB_HDB_LUT_H_x2_4bit_int8.npy``."""
    return (f"S{stage}_{branch.upper()}_{kernel_set.upper()}_LUT_{kernel.upper()}_x{factor}"
            f"_4bit_int8.npy")


def _parse(files: list[Path]) -> tuple[HKLUTConfig, dict[str, Path]]:
    """Config and table-name -> file from the file names, or ValueError naming the file."""
    factors: dict[int, tuple[int, str]] = {}
    sets: dict[str, tuple[str, str]] = {}
    found: dict[tuple[int, str, str], Path] = {}
    for f in files:
        m = FILE_PATTERN.fullmatch(f.name)
        if m is None:
            raise ValueError(f"LUT file name does not follow the authors' layout "
                             f"S{{stage}}_{{MSB|LSB}}_{{HDB|HD}}_LUT_{{kernel}}_x{{r}}"
                             f"_4bit_int8.npy, got {f.name!r}")
        stage, factor = int(m["stage"]), int(m["factor"])
        branch, kset, kernel = m["branch"].lower(), m["set"].lower(), m["kernel"].lower()
        if kset not in KERNEL_SETS:
            raise ValueError(f"LUT file {f.name!r} names kernel set {m['set']!r}; "
                             f"known: {sorted(s.upper() for s in KERNEL_SETS)!r}")
        if kernel not in {k.name for k in KERNEL_SETS[kset]}:
            raise ValueError(f"LUT file {f.name!r} names kernel {m['kernel']!r}, which kernel set "
                             f"{m['set']!r} does not have")
        if not 1 <= factor <= MAX_FACTOR:
            raise ValueError(f"LUT file {f.name!r} names factor x{factor}; stage factors must be "
                             f"1..{MAX_FACTOR}, got {factor!r}")
        if (stage, branch, kernel) in found:
            raise ValueError(f"two LUT files hold one table: "
                             f"{found[(stage, branch, kernel)].name!r} and {f.name!r}")
        if stage in factors and factors[stage][0] != factor:
            raise ValueError(f"LUT files mix factors within stage {stage}: {factors[stage][1]!r} "
                             f"is x{factors[stage][0]}, got {f.name!r}")
        factors.setdefault(stage, (factor, f.name))
        if branch in sets and sets[branch][0] != kset:
            raise ValueError(f"LUT files mix kernel sets in the {branch.upper()} branch: "
                             f"{sets[branch][1]!r} is {sets[branch][0].upper()}, got {f.name!r}")
        sets.setdefault(branch, (kset, f.name))
        found[(stage, branch, kernel)] = f
    for branch in BRANCHES:
        if branch not in sets:
            raise ValueError(f"no LUT file for the {branch.upper()} branch among "
                             f"{sorted(f.name for f in files)!r}")
    stages = sorted(factors)
    if stages != list(range(len(stages))):
        missing = min(set(range(stages[-1] + 1)) - set(stages))
        raise ValueError(f"LUT files skip stage {missing}: stages present are {stages!r}")
    config = HKLUTConfig(stages=tuple(factors[s][0] for s in stages),
                         msb_kernels=sets["msb"][0], lsb_kernels=sets["lsb"][0])
    paths = {}
    for name, stage, branch, kernel, r in config.tables():
        if (stage, branch, kernel.name) not in found:
            expected = file_name(stage, branch, sets[branch][0], kernel.name, r)
            raise ValueError(f"LUT file missing: the config read from the names needs {expected!r}")
        paths[name] = found[(stage, branch, kernel.name)]
    return config, paths


def _read_table(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """One table as int8 ``(entries, r, r)``, or ValueError naming the file."""
    try:
        table = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"LUT file {path.name!r} is not a readable .npy array ({e})") from None
    expected = (shape[0], 1) + shape[1:]
    if table.shape != expected:
        raise ValueError(f"LUT file {path.name!r} must have shape {expected!r}, "
                         f"got {table.shape!r}")
    if not np.issubdtype(table.dtype, np.integer):
        raise ValueError(f"LUT file {path.name!r} must hold int8 integers, "
                         f"got {table.dtype!r}")
    info = np.iinfo(np.int8)
    lo, hi = int(table.min()), int(table.max())
    if lo < info.min or hi > info.max:
        raise ValueError(f"LUT file {path.name!r} has values outside int8 "
                         f"[{info.min}, {info.max}], got span {(lo, hi)!r}")
    return np.ascontiguousarray(table[:, 0].astype(np.int8))


def import_lut_dir(path) -> Artifact:
    """Read a folder of LUTs in the authors' layout into a validated HKLUT artifact.

    Parameters
    ----------
    path : str or pathlib.Path
        Folder holding the ``S*_LUT_*.npy`` files (other files, such as a
        readme, are ignored; every ``.npy`` file must be a table).

    Returns
    -------
    Artifact
        Scheme ``"hklut"``, config read from the file names, tables
        ``s{stage}_{msb|lsb}_{h|d|b}`` of shape ``(entries, r, r)`` int8, and
        provenance ``{"source": "imported", "from": <folder name>, "files": [...]}``.
        An integer dtype wider than int8 is accepted when every value fits int8.

    Raises
    ------
    ValueError
        Naming the file: a name outside the layout, mixed factors within a
        stage or mixed kernel sets within a branch, a missing stage or kernel,
        a wrong shape, a non-integer dtype or values outside int8. Also when
        the folder does not exist or holds no ``.npy`` file.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"LUT folder does not exist or is not a folder, got {str(folder)!r}")
    files = sorted(p for p in folder.iterdir() if p.suffix == ".npy")
    if not files:
        raise ValueError(f"LUT folder holds no .npy files, got {str(folder)!r}")
    config, paths = _parse(files)
    specs = config.array_specs()
    arrays = {name: _read_table(paths[name], specs[name].shape) for name in specs}
    artifact = Artifact(scheme="hklut", config=config.to_dict(), arrays=arrays,
                        provenance={"source": "imported", "from": folder.resolve().name,
                                    "files": [f.name for f in files]})
    return check(artifact)
