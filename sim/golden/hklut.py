"""HKLUT golden model: the LUT readout in vectorised NumPy, exact or as the authors' float32.

Two arithmetic modes share one table readout (:func:`stage_sums`):

- ``"exact"`` (the default) is the specification of the hardware. With
  ``D = lcm(K_msb, K_lsb)`` every stage output is the integer
  ``N = clamp(w_msb S_msb + w_lsb S_lsb + up(N_prev), 0, 255 D)`` (widths and
  weights from :class:`~edgeforge.schemes.hklut.HKLUTWidths`), ``N_prev = D q``
  for the first stage, ``floor(N / D)`` indexes the next stage and the image is
  ``round-half-to-even(N / D)``.
- ``"float32"`` follows the order of operations of the authors' test code
  (``jasonli0707/hklut``: ``test.py``, ``models/hklut.py``, ``models/luts.py``)
  in float32 and reproduces their output bit for bit; it is a software
  reference, not the hardware's answer. The two differ on a few percent of
  pixels because float32 sometimes lands just below an exact integer before the
  next stage floors it: with the released HKLUT-S x4 tables on bicubic x4 LR of
  scikit-image's astronaut, coffee and chelsea, on 3.85%, 2.73% and 2.56% of
  output values (at most 15 levels), with Y-PSNR within 0.001 dB.

Borders are those of the authors' test code: each rotation pads its rotated
plane on the right and bottom only, by the reach of the kernel set, with the
set's mode (``hdb`` reflect by 2, ``hd`` replicate by 1). Padding the unrotated
plane on all four sides once gives the same pixels, so each rotation is only a
different set of slices of one padded plane.
"""

from __future__ import annotations

import numpy as np

from edgeforge.images import check_uint8_image
from edgeforge.schemes.hklut import (LEVELS, PLANE_BITS, ROTATIONS, HKLUTConfig, Kernel,
                                     table_name)

from .planes import blocks_to_planes, check_size, image_planes, planes_image
from .rounding import round_half_even
from .tables import check_tables, resolve_tables

__all__ = ["ARITHMETIC", "resolve", "min_size", "upscale", "stage_sums", "exact_stages"]

ARITHMETIC = ("exact", "float32")
_LSB_MASK = LEVELS - 1
_NP_PAD_MODE = {"reflect": "reflect", "replicate": "edge"}


def resolve(artifact_or_tables) -> tuple[dict[str, np.ndarray], HKLUTConfig]:
    """Split an HKLUT artifact, or a ``(tables, config)`` pair, into checked tables and config.

    Parameters
    ----------
    artifact_or_tables : Artifact or tuple of (dict, HKLUTConfig)
        An artifact of scheme ``"hklut"``, or tables by name (int8, shape
        ``(16**pixels, r, r)``) with their :class:`HKLUTConfig`.

    Returns
    -------
    tuple of (dict[str, numpy.ndarray], HKLUTConfig)

    Raises
    ------
    ValueError
        If the artifact is of another scheme, or a table is missing, extra, or
        of the wrong dtype, shape or range.
    TypeError
        If the argument is neither an artifact nor a ``(tables, config)`` pair.
    """
    return resolve_tables(artifact_or_tables, "hklut", HKLUTConfig)


def _reach(kernels: tuple[Kernel, ...]) -> int:
    """How far the kernel set reads beyond the anchor: the padding width of the authors' code."""
    return max(max(dy, dx) for k in kernels for dy, dx in k.taps)


def min_size(config: HKLUTConfig) -> int:
    """Smallest image side the config can read: the kernel footprint, ``reach + 1``.

    Reflect padding by ``reach`` (``hdb``: 2) also needs a side of at least
    ``reach + 1`` (mirroring without repeating the edge); replicate padding
    needs nothing more. Hence 3 for any config with an ``hdb`` branch and 2 for
    ``hd``/``hd``. Later stages read larger planes, so the input decides.
    """
    return max(_reach(config.kernels(b)) + 1 for b in ("msb", "lsb"))


def _size_reason(config: HKLUTConfig) -> str:
    return (f"kernel sets msb={config.msb_kernels!r}, lsb={config.lsb_kernels!r} "
            f"(their padding needs it)")


def _check_plane_size(shape: tuple[int, int], config: HKLUTConfig, field: str) -> None:
    check_size(shape, min_size(config), field, _size_reason(config))


class _Readout:
    """One config's tables, turned per rotation and viewed as whole r x r blocks.

    Each rotation's blocks are pre-turned back to the image frame, so a block
    gathered at an anchor of the unrotated plane lands in place; viewing one
    int16 block as one ``void`` item makes the gather a single ``np.take``.
    With ``weighted`` the entries are pre-multiplied by the branch weight
    (``w_msb``, ``w_lsb``), so both branches add into one accumulator of ``N``.
    """

    def __init__(self, tables: dict[str, np.ndarray], config: HKLUTConfig,
                 weighted: bool = False):
        self.config = config
        widths = config.widths()
        # int16 holds every partial sum of the readout: N before the clamp needs at
        # most 14 signed bits (HKLUTWidths.n_sum_bits of hdb/hd and hd/hdb).
        self.blocks = {}
        for name, _, branch, _, r in config.tables():
            weight = (widths.w_msb if branch == "msb" else widths.w_lsb) if weighted else 1
            table = tables[name].astype(np.int16) * np.int16(weight)
            item = np.dtype((np.void, r * r * table.itemsize))
            self.blocks[name] = [
                np.ascontiguousarray(np.rot90(table, -rot, axes=(1, 2)))
                .reshape(-1, r * r).view(item).reshape(-1)
                for rot in range(ROTATIONS)]

    def add_branch(self, acc: np.ndarray, stage: int, branch: str, plane: np.ndarray) -> None:
        """Add the branch's lookups over kernels and rotations to int16 ``acc`` ``(C, H, W, r*r)``.

        ``plane`` holds 4-bit values ``(C, H, W)``. Rotating by ``rot`` quarter
        turns, padding right/bottom and reading tap ``(dy, dx)`` at an anchor
        reads, in the unrotated frame, the all-sides-padded plane at the
        anchor plus the tap turned back by ``rot``: a strided slice of it.
        """
        config = self.config
        kernels = config.kernels(branch)
        pad = _reach(kernels)
        c, h, w, rr = acc.shape
        padded = np.pad(plane, ((0, 0), (pad, pad), (pad, pad)),
                        mode=_NP_PAD_MODE[config.padding(branch)])
        # Tap t of a p-pixel kernel contributes value << 4 (p - 1 - t) to the index;
        # shifting the whole padded plane once per place saves a shift per lookup.
        pixels = kernels[0].pixels
        shifted = [padded.astype(np.intp) << (PLANE_BITS * (pixels - 1 - t))
                   for t in range(pixels)]
        for rot in range(ROTATIONS):
            turned = [np.rot90(p, rot, axes=(1, 2)) for p in shifted]
            th, tw = (h, w) if rot % 2 == 0 else (w, h)
            for kernel in kernels:
                # Each tap's window in the rotated, right/bottom-padded frame, turned
                # back: a plain strided slice of the padded plane, in image order.
                taps = [np.rot90(turned[t][:, pad + dy:pad + dy + th, pad + dx:pad + dx + tw],
                                 -rot, axes=(1, 2)) for t, (dy, dx) in enumerate(kernel.taps)]
                index = taps[0] + taps[1]          # every kernel set reads >= 2 pixels
                for tap in taps[2:]:
                    index += tap
                blocks = self.blocks[table_name(stage, branch, kernel.name)][rot]
                acc += np.take(blocks, index).view(np.int16).reshape(c, h, w, rr)

    def branch_sum(self, stage: int, branch: str, plane: np.ndarray) -> np.ndarray:
        """The branch's integer sum alone: int16 blocks ``(C, H, W, r*r)``."""
        r = self.config.stages[stage]
        acc = np.zeros(plane.shape + (r * r,), np.int16)
        self.add_branch(acc, stage, branch, plane)
        return acc


def stage_sums(tables: dict[str, np.ndarray], config: HKLUTConfig, stage: int,
               q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer table sums ``S_msb``, ``S_lsb`` of one stage on one 8-bit plane.

    Parameters
    ----------
    tables : dict[str, numpy.ndarray]
        Tables by name, as in an artifact.
    config : HKLUTConfig
    stage : int
        Stage number, 0-based.
    q : numpy.ndarray
        ``uint8`` plane ``(H, W)``: the stage's 8-bit input.

    Returns
    -------
    tuple of numpy.ndarray
        ``S_msb`` and ``S_lsb``, each ``int32`` ``(H r, W r)``: the sums over
        kernels and rotations of the looked-up entries, output pixel
        ``(r i + dy, r j + dx)`` holding block element ``[dy][dx]`` of anchor ``(i, j)``.

    Raises
    ------
    TypeError
        If ``q`` is not a ``uint8`` numpy array.
    ValueError
        On bad tables, a stage out of range, or a plane that is not 2-D of at
        least :func:`min_size` pixels a side.
    """
    check_tables(tables, config, HKLUTConfig)
    if not isinstance(stage, int) or not 0 <= stage < len(config.stages):
        raise ValueError(f"stage must be an integer in 0..{len(config.stages) - 1}, "
                         f"got {stage!r}")
    q = check_uint8_image("q", q, channels=(1,))
    _check_plane_size(q.shape, config, "q")
    readout = _Readout(tables, config)
    planes = q[None]
    return tuple(blocks_to_planes(readout.branch_sum(stage, branch, plane))[0].astype(np.int32)
                 for branch, plane in (("msb", planes >> PLANE_BITS),
                                       ("lsb", planes & _LSB_MASK)))


def _exact(tables: dict[str, np.ndarray], config: HKLUTConfig,
           q: np.ndarray) -> list[np.ndarray]:
    """N after every stage (int16, ``(C, H R_s, W R_s)``) for 8-bit planes ``(C, H, W)``."""
    widths = config.widths()
    readout = _Readout(tables, config, weighted=True)
    # floor(N / D) for every N the clamp lets through: one gather instead of a division.
    next_q = (np.arange(widths.n_max + 1) // widths.denom).astype(np.uint8)
    n = q.astype(np.int16) * np.int16(widths.denom)
    out = []
    for stage, r in enumerate(config.stages):
        q = np.take(next_q, n)
        acc = np.repeat(n[..., None], r * r, axis=-1)           # up(N_prev), block layout
        readout.add_branch(acc, stage, "msb", q >> PLANE_BITS)   # + w_msb S_msb
        readout.add_branch(acc, stage, "lsb", q & _LSB_MASK)     # + w_lsb S_lsb
        np.clip(acc, 0, widths.n_max, out=acc)
        n = blocks_to_planes(acc)
        out.append(n)
    return out


def _float32(tables: dict[str, np.ndarray], config: HKLUTConfig, image: np.ndarray) -> np.ndarray:
    """The authors' float32 readout of planes ``(C, H, W)``; returns uint8 planes."""
    widths = config.widths()
    readout = _Readout(tables, config)
    f255 = np.float32(255)
    k_msb, k_lsb = np.float32(widths.k_msb), np.float32(widths.k_lsb)
    x = image.astype(np.float32) / f255          # test.py: input_im.astype(float32) / 255.0
    for stage, _ in enumerate(config.stages):
        q = np.floor(x * f255).astype(np.uint8)   # HKLUT.forward: floor(img_lr * 255)
        # luts.py returns out / avg_factor, hklut.py divides that by 255. and adds
        # MSB + LSB first, then the nearest-upsampled input: float32 at every step
        # (in-place operations round exactly as the authors' out-of-place ones).
        y = readout.branch_sum(stage, "msb", q >> PLANE_BITS).astype(np.float32)
        y /= k_msb
        y /= f255
        lsb = readout.branch_sum(stage, "lsb", q & _LSB_MASK).astype(np.float32)
        lsb /= k_lsb
        lsb /= f255
        y += lsb
        y += x[..., None]
        np.clip(y, np.float32(0), np.float32(1), out=y)
        x = blocks_to_planes(y)
    return np.clip(np.round(x * f255), 0, 255).astype(np.uint8)   # test.py: np.round(out * 255)


def _planes(image, config: HKLUTConfig) -> np.ndarray:
    """Check an image and return it as channel planes ``(C, H, W)``."""
    return image_planes(image, min_size(config), _size_reason(config))


def upscale(artifact_or_tables, image: np.ndarray, arithmetic: str = "exact") -> np.ndarray:
    """Super-resolve an image with HKLUT tables.

    Parameters
    ----------
    artifact_or_tables : Artifact or tuple of (dict, HKLUTConfig)
        An artifact of scheme ``"hklut"``, or tables by name with their config.
    image : numpy.ndarray
        ``uint8`` image, grey ``(H, W)`` or RGB ``(H, W, 3)``; channels are read
        independently with the same tables.
    arithmetic : {"exact", "float32"}
        ``"exact"``: integer arithmetic, the hardware's specification.
        ``"float32"``: the authors' float32 test code, bit for bit.

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
        For a wrong channel count, an image smaller than :func:`min_size` a side,
        an unknown arithmetic mode, an artifact of another scheme or malformed tables.
    """
    if arithmetic not in ARITHMETIC:
        raise ValueError(f"arithmetic must be one of {ARITHMETIC}, got {arithmetic!r}")
    tables, config = resolve(artifact_or_tables)
    planes = _planes(image, config)
    if arithmetic == "exact":
        widths = config.widths()
        final = round_half_even(np.arange(widths.n_max + 1), widths.denom).astype(np.uint8)
        out = np.take(final, _exact(tables, config, planes)[-1])
    else:
        out = _float32(tables, config, planes)
    return planes_image(out, image)


def exact_stages(tables: dict[str, np.ndarray], config: HKLUTConfig,
                 plane: np.ndarray) -> list[np.ndarray]:
    """Exact ``N`` after every stage for one 8-bit channel.

    Parameters
    ----------
    tables : dict[str, numpy.ndarray]
    config : HKLUTConfig
    plane : numpy.ndarray
        ``uint8`` channel ``(H, W)``.

    Returns
    -------
    list of numpy.ndarray
        One ``int32`` array per stage, ``(H R_s, W R_s)`` with ``R_s`` the
        product of the factors up to that stage, clamped to ``0..255 D``;
        ``N // D`` is the next stage's 8-bit input.

    Raises
    ------
    TypeError
        If ``plane`` is not a ``uint8`` numpy array.
    ValueError
        On bad tables or a plane that is not 2-D of at least :func:`min_size`
        pixels a side.
    """
    check_tables(tables, config, HKLUTConfig)
    plane = check_uint8_image("plane", plane, channels=(1,))
    _check_plane_size(plane.shape, config, "plane")
    return [n[0].astype(np.int32) for n in _exact(tables, config, plane[None])]
