"""SR-LUT and MuLUT golden model: the interpolated LUT readout in vectorised integer NumPy.

The readout is the one :mod:`edgeforge.schemes.srlut` describes: per kernel
and rotation, the simplex of the pattern's LSBs picks ``n + 1`` table rows
and integer weights summing to q; ``S = sum_j w_j T[vertex_j]`` is exact, the
stage sum T adds every kernel and rotation, and a stage ends in a round half
to even of ``T / (q K)`` (last stage) or MuLUT's re-indexing
``T / (4 q K) + 127`` (earlier stages). Everything is integer, so the float
paths of the authors' scripts (exact for every reachable T, see
``shared/notes/srlut.md``) are reproduced without floats.

Two simplex rules (``simplex=``):

- ``"fixed"``: the sorted rule. Sort the LSBs descending (ties in input
  order, which any order consistent with >= matches, since tied inputs get
  weight 0), vertex j sets the MSB + 1 bit of the first j inputs. This is the
  hardware's specification (MuLUT's corrected code).
- ``"authors"``: SR-LUT's test code (``yhjo09/SR-LUT``,
  ``3_Test_using_LUT/Test_Model_S.py``) as it runs: for a 2x2 ``s`` kernel
  with LSBs ``fc > fd > fa > fb`` its if-cascade takes the c > a > d > b
  simplex (weights ``16-fc, fc-fa, fa-fd, fd-fb, fb``, one of them negative).
  The other kernel sets' code has no such branch, so there ``"authors"`` is
  ``"fixed"``.

Borders as in the authors' scripts: each rotation pads its rotated plane at
the bottom and right by the kernel's reach, with the set's mode (SR-LUT
reflect, MuLUT replicate); each rotation's r x r blocks are laid out in the
rotated frame and turned back.
"""

from __future__ import annotations

import numpy as np

from edgeforge.images import check_uint8_image
from edgeforge.schemes.hklut import ROTATIONS, Kernel
from edgeforge.schemes.srlut import REINDEX_BIAS, SRLUTConfig, table_name

from .planes import blocks_to_planes, image_planes, planes_image
from .rounding import round_half_even
from .tables import resolve_tables

__all__ = ["SIMPLEX", "resolve", "min_size", "simplex", "vertices", "stage_sums", "upscale"]

SIMPLEX = ("fixed", "authors")
_NP_PAD_MODE = {"reflect": "reflect", "replicate": "edge"}
# SR-LUT's branch for fc > fd > fa > fb reads the c > a > d > b simplex (inputs a, b, c, d = 0..3).
_AUTHORS_ORDER = np.array([2, 0, 3, 1])


def resolve(artifact_or_tables) -> tuple[dict[str, np.ndarray], SRLUTConfig]:
    """Split an SR-LUT artifact, or a ``(tables, config)`` pair, into checked tables and config.

    Raises
    ------
    ValueError
        If the artifact is of another scheme, or a table is missing, extra, or
        of the wrong dtype, shape or range.
    TypeError
        If the argument is neither an artifact nor a ``(tables, SRLUTConfig)`` pair.
    """
    return resolve_tables(artifact_or_tables, "srlut", SRLUTConfig)


def _reach(kernel: Kernel) -> int:
    return max(max(dy, dx) for dy, dx in kernel.taps)


def min_size(config: SRLUTConfig) -> int:
    """Smallest image side: reflect padding by the reach needs ``reach + 1`` pixels, replicate 1."""
    if config.padding != "reflect":
        return 1
    return max(_reach(k) for k in config.kernel_list) + 1


def _check_simplex(simplex_rule: str) -> None:
    if simplex_rule not in SIMPLEX:
        raise ValueError(f"simplex must be one of {SIMPLEX}, got {simplex_rule!r}")


def simplex(lsb: np.ndarray, interval: int, authors: bool = False
            ) -> tuple[np.ndarray, np.ndarray]:
    """Simplex order and weights of LSB tuples.

    Parameters
    ----------
    lsb : numpy.ndarray
        Integer LSBs ``(n, ...)``, ``0 <= lsb < interval``, input i along axis 0.
    interval : int
        q, the table's sampling interval.
    authors : bool
        With ``n == 4``: SR-LUT's test-code branch for ``fc > fd > fa > fb``.

    Returns
    -------
    tuple of numpy.ndarray
        ``order`` ``(n, ...)``: the inputs by descending LSB (ties in input
        order), vertex j sets the MSB + 1 bit of ``order[:j]``; ``weights``
        ``(n + 1, ...)`` int32, ``q - f[order[0]], f[order[0]] - f[order[1]],
        ..., f[order[n-1]]``, summing to q.
    """
    f = lsb.astype(np.int32)
    n = f.shape[0]
    order = np.argsort(-f, axis=0, kind="stable")
    if authors and n == 4:
        fa, fb, fc, fd = f
        bug = (fc > fd) & (fd > fa) & (fa > fb)
        order[:, bug] = _AUTHORS_ORDER[:, None]
    fs = np.take_along_axis(f, order, axis=0)
    weights = np.empty((n + 1,) + f.shape[1:], np.int32)
    weights[0] = interval - fs[0]
    weights[1:n] = fs[:-1] - fs[1:]
    weights[n] = fs[-1]
    return order, weights


def vertices(msb: np.ndarray, order: np.ndarray, nodes: int) -> np.ndarray:
    """Table rows of the n + 1 simplex vertices ``(n + 1, ...)`` from MSBs ``(n, ...)``.

    Row = sum_i MSB_i L^(n-1-i) (first input slowest); vertex j adds the
    strides of ``order[:j]`` (their MSB + 1).
    """
    n = msb.shape[0]
    strides = nodes ** np.arange(n - 1, -1, -1, dtype=np.intp)
    base = np.tensordot(strides, msb.astype(np.intp), axes=1)
    steps = np.cumsum(strides[order], axis=0)
    return np.concatenate([base[None], base[None] + steps])


def _rotation_blocks(table: np.ndarray, planes: np.ndarray, kernel: Kernel,
                     config: SRLUTConfig, authors: bool) -> np.ndarray:
    """``S`` of one kernel on already-rotated planes ``(C, h, w)``: int32 ``(C, h, w, r*r)``."""
    reach = _reach(kernel)
    c, h, w = planes.shape
    padded = np.pad(planes, ((0, 0), (0, reach), (0, reach)), mode=_NP_PAD_MODE[config.padding])
    values = np.stack([padded[:, dy:dy + h, dx:dx + w] for dy, dx in kernel.taps])
    bits = config.interval_bits
    order, weights = simplex(values & (config.interval - 1), config.interval, authors)
    rows = vertices(values >> bits, order, config.nodes)
    acc = np.zeros((c, h, w, table.shape[1]), np.int32)
    for row, weight in zip(rows, weights):
        acc += weight[..., None] * np.take(table, row, axis=0)
    return acc


def _stage_sum(tables: dict[str, np.ndarray], config: SRLUTConfig, stage: int,
               planes: np.ndarray, simplex_rule: str) -> np.ndarray:
    """T of one stage on 8-bit planes ``(C, H, W)``: int32 ``(C, H r, W r)``."""
    r = config.stages[stage]
    authors = simplex_rule == "authors" and config.kernels == "s"
    c, h, w = planes.shape
    total = np.zeros((c, h * r, w * r), np.int32)
    for kernel in config.kernel_list:
        table = tables[table_name(stage, kernel.name)].reshape(-1, r * r).astype(np.int32)
        for rot in range(ROTATIONS):
            turned = np.rot90(planes, rot, axes=(1, 2))
            blocks = _rotation_blocks(table, turned, kernel, config, authors)
            total += np.rot90(blocks_to_planes(blocks), -rot, axes=(1, 2))
    return total


def _stage_output(config: SRLUTConfig, stage: int, total: np.ndarray) -> np.ndarray:
    """8-bit plane a stage hands on: the image (last stage) or MuLUT's re-indexed input."""
    denom = config.denominator(stage)
    bias = 0 if stage == len(config.stages) - 1 else REINDEX_BIAS * denom
    return np.clip(round_half_even(total + bias, denom), 0, 255).astype(np.uint8)


def _check_planes(image, config: SRLUTConfig, field: str) -> np.ndarray:
    return image_planes(image, min_size(config),
                        f"kernel set {config.kernels!r} (its {config.padding} padding needs it)",
                        field)


def stage_sums(artifact_or_tables, plane: np.ndarray, simplex: str = "fixed"
               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """T and the 8-bit output of every stage for one channel (what the hardware checks).

    Parameters
    ----------
    artifact_or_tables : Artifact or tuple of (dict, SRLUTConfig)
    plane : numpy.ndarray
        ``uint8`` channel ``(H, W)``.
    simplex : {"fixed", "authors"}

    Returns
    -------
    list of tuple of numpy.ndarray
        Per stage ``(T, out)``: ``T`` int32 ``(H R_s, W R_s)``, the sum over
        kernels and rotations in 1/q units, and ``out`` its uint8 result.
    """
    _check_simplex(simplex)
    tables, config = resolve(artifact_or_tables)
    planes = _check_planes(check_uint8_image("plane", plane, channels=(1,)), config, "plane")
    out = []
    for stage in range(len(config.stages)):
        total = _stage_sum(tables, config, stage, planes, simplex)
        planes = _stage_output(config, stage, total)
        out.append((total[0], planes[0]))
    return out


def upscale(artifact_or_tables, image: np.ndarray, simplex: str = "fixed") -> np.ndarray:
    """Super-resolve an image with SR-LUT or MuLUT tables.

    Parameters
    ----------
    artifact_or_tables : Artifact or tuple of (dict, SRLUTConfig)
        An artifact of scheme ``"srlut"``, or tables by name with their config.
    image : numpy.ndarray
        ``uint8`` image, grey ``(H, W)`` or RGB ``(H, W, 3)``; channels are
        read independently with the same tables.
    simplex : {"fixed", "authors"}
        ``"fixed"``: the sorted simplex rule (the hardware's). ``"authors"``:
        SR-LUT's test code bit for bit, its misordered branch included.

    Returns
    -------
    numpy.ndarray
        ``uint8`` image ``(H s, W s[, 3])`` with ``s`` the product of the stage factors.

    Raises
    ------
    TypeError
        If ``image`` is not a ``uint8`` numpy array, or ``artifact_or_tables`` is
        neither an artifact nor a (tables, config) pair.
    ValueError
        For a wrong channel count, an image below :func:`min_size`, an unknown
        simplex rule, an artifact of another scheme or malformed tables.
    """
    _check_simplex(simplex)
    tables, config = resolve(artifact_or_tables)
    planes = _check_planes(image, config, "image")
    for stage in range(len(config.stages)):
        planes = _stage_output(config, stage, _stage_sum(tables, config, stage, planes, simplex))
    return planes_image(planes, image)
