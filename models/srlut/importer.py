"""Import the SR-LUT and MuLUT authors' released tables as an edgeforge ``srlut`` artifact.

Layouts (``shared/notes/srlut.md``):

- SR-LUT (``yhjo09/SR-LUT``, ``3_Test_using_LUT/``): one file per model,
  ``Model_{S|F|V}_x{r}_{b}bit_int8.npy`` of shape ``(L**n, 1, r, r)``, with
  ``b`` the log2 of the sampling interval (``L = 2**(8-b) + 1`` nodes) and n
  the pattern's pixels (S 4, F 3, V 2). Import the file itself.
- MuLUT (``ddlee-cn/MuLUT``, ``models/<name>/``): one file per stage and
  kernel, ``LUT[_ft]_x{R}_{b}bit_int8_s{stage}_{kernel}.npy`` of shape
  ``(L**4, r*r)``, R the overall scale; every stage but the last has r = 1,
  the last r = R. Import the folder (``_ft`` = the LUT-fine-tuned release;
  a folder holding both kinds must say which through ``fine_tuned``).

The config is read from the names, every table checked against it, and the
artifact validated. Only NumPy is needed.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ...artifact import Artifact, check
from ...schemes.srlut import KERNEL_SETS, SRLUTConfig, table_name

__all__ = ["SRLUT_FILE", "MULUT_FILE", "import_srlut"]

SRLUT_FILE = re.compile(r"Model_(?P<kernel>[SFV])_x(?P<factor>\d+)_(?P<bits>\d+)bit_int8\.npy")
MULUT_FILE = re.compile(r"LUT(?P<ft>_ft)?_x(?P<scale>\d+)_(?P<bits>\d+)bit_int8_s(?P<stage>\d+)"
                        r"_(?P<kernel>[a-z])\.npy")


def _config(fields: dict, source: str) -> SRLUTConfig:
    try:
        return SRLUTConfig.from_dict(fields)
    except ValueError as e:
        raise ValueError(f"LUT file name {source!r} gives an unusable config: {e}") from None


def _read(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A table as int8 of ``shape``, or ValueError naming the file."""
    try:
        table = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"LUT file {path.name!r} is not a readable .npy array ({e})") from None
    if not np.issubdtype(table.dtype, np.integer):
        raise ValueError(f"LUT file {path.name!r} must hold int8 integers, got {table.dtype!r}")
    if table.size != int(np.prod(shape)):
        raise ValueError(f"LUT file {path.name!r} must hold {shape[0]:,} rows of "
                         f"{shape[1] * shape[2]} values, got shape {table.shape!r}")
    lo, hi = int(table.min()), int(table.max())
    if lo < -128 or hi > 127:
        raise ValueError(f"LUT file {path.name!r} has values outside int8 [-128, 127], "
                         f"got span {(lo, hi)!r}")
    return np.ascontiguousarray(table.reshape(shape).astype(np.int8))


def _srlut(path: Path) -> Artifact:
    m = SRLUT_FILE.fullmatch(path.name)
    kernels = m["kernel"].lower()
    config = _config({"kernels": kernels, "stages": [int(m["factor"])],
                      "interval_bits": int(m["bits"])}, path.name)
    spec = config.array_specs()[table_name(0, kernels)]
    arrays = {table_name(0, kernels): _read(path, spec.shape)}
    return check(Artifact(scheme="srlut", config=config.to_dict(), arrays=arrays,
                          provenance={"source": "imported", "layout": "SR-LUT",
                                      "files": [path.name]}))


def _mulut(folder: Path, files: list[Path], fine_tuned: bool | None) -> Artifact:
    matches = [(f, MULUT_FILE.fullmatch(f.name)) for f in files]
    kinds = {bool(m["ft"]) for _, m in matches}
    if fine_tuned is None and len(kinds) > 1:
        raise ValueError(f"MuLUT folder {str(folder)!r} holds both fine-tuned (LUT_ft_*) and "
                         f"transferred (LUT_*) tables; pass fine_tuned=True or False")
    want = kinds.pop() if fine_tuned is None else fine_tuned
    matches = [(f, m) for f, m in matches if bool(m["ft"]) == want]
    if not matches:
        raise ValueError(f"MuLUT folder {str(folder)!r} holds no "
                         f"{'LUT_ft_*' if want else 'LUT_*'} tables")
    for field in ("scale", "bits"):
        values = sorted({m[field] for _, m in matches})
        if len(values) > 1:
            raise ValueError(f"MuLUT files mix {field} values {values!r} in {str(folder)!r}")
    stages = sorted({int(m["stage"]) for _, m in matches})
    if stages != list(range(1, len(stages) + 1)):
        raise ValueError(f"MuLUT files must number stages 1..n, got stages {stages!r}")
    kernels = "".join(sorted({m["kernel"] for _, m in matches}, key="sdy".find))
    if kernels not in KERNEL_SETS or len(kernels) < 2:
        raise ValueError(f"MuLUT files name kernels {kernels!r}; known set: 'sdy'")
    scale = int(matches[0][1]["scale"])
    config = _config({"kernels": kernels, "stages": [1] * (len(stages) - 1) + [scale],
                      "interval_bits": int(matches[0][1]["bits"])}, matches[0][0].name)
    found = {(int(m["stage"]) - 1, m["kernel"]): f for f, m in matches}
    specs = config.array_specs()
    arrays = {}
    for name, stage, kernel, _ in config.tables():
        path = found.get((stage, kernel.name))
        if path is None:
            raise ValueError(f"MuLUT file missing for stage {stage + 1}, kernel {kernel.name!r} "
                             f"in {str(folder)!r}")
        arrays[name] = _read(path, specs[name].shape)
    return check(Artifact(scheme="srlut", config=config.to_dict(), arrays=arrays,
                          provenance={"source": "imported", "layout": "MuLUT",
                                      "from": folder.resolve().name,
                                      "files": sorted(f.name for f, _ in matches)}))


def import_srlut(path, *, fine_tuned: bool | None = None) -> Artifact:
    """Read the authors' released tables into a validated ``srlut`` artifact.

    Parameters
    ----------
    path : str or pathlib.Path
        An SR-LUT ``Model_*_int8.npy`` file, a folder holding exactly one of
        them, or a MuLUT model folder (``LUT*_s{stage}_{kernel}.npy``).
    fine_tuned : bool, optional
        MuLUT only: which tables of a folder that holds both kinds.

    Returns
    -------
    Artifact
        Scheme ``"srlut"``, config from the names, provenance
        ``{"source": "imported", "layout": ..., "files": [...]}``.

    Raises
    ------
    ValueError
        Naming the file or folder: no table of either layout, several SR-LUT
        models in one folder, mixed or missing MuLUT stages and kernels, a
        wrong size, a non-integer dtype or values outside int8.
    """
    p = Path(path)
    if p.is_file():
        if not SRLUT_FILE.fullmatch(p.name):
            raise ValueError(f"LUT file name does not follow SR-LUT's layout "
                             f"Model_{{S|F|V}}_x{{r}}_{{b}}bit_int8.npy, got {p.name!r}")
        return _srlut(p)
    if not p.is_dir():
        raise ValueError(f"path must be an SR-LUT table file or a folder of tables, got "
                         f"{str(p)!r}, which does not exist")
    srlut = sorted(f for f in p.iterdir() if SRLUT_FILE.fullmatch(f.name))
    mulut = sorted(f for f in p.iterdir() if MULUT_FILE.fullmatch(f.name))
    if mulut and srlut:
        raise ValueError(f"folder {str(p)!r} holds tables of both layouts (SR-LUT "
                         f"{srlut[0].name!r}, MuLUT {mulut[0].name!r}); name an SR-LUT file or "
                         f"give a folder of one MuLUT model")
    if mulut:
        return _mulut(p, mulut, fine_tuned)
    if len(srlut) == 1:
        return _srlut(srlut[0])
    if srlut:
        raise ValueError(f"folder {str(p)!r} holds {len(srlut)} SR-LUT models "
                         f"({', '.join(f.name for f in srlut)}); name the file to import")
    raise ValueError(f"folder {str(p)!r} holds no table of SR-LUT's (Model_*_int8.npy) or "
                     f"MuLUT's (LUT*_s{{stage}}_{{kernel}}.npy) layout")
