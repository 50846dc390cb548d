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
  next stage floors it.

Borders are those of the authors' test code: each rotation pads its rotated
plane on the right and bottom only, by the reach of the kernel set, with the
set's mode (``hdb`` reflect by 2, ``hd`` replicate by 1). Padding the unrotated
plane on all four sides once gives the same pixels, so each rotation is only a
different set of slices of one padded plane.
"""

from __future__ import annotations

import numpy as np

from edgeforge.artifact import Artifact, check_array
from edgeforge.schemes.hklut import (LEVELS, PLANE_BITS, ROTATIONS, HKLUTConfig, Kernel,
                                     table_name)

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
    if isinstance(artifact_or_tables, Artifact):
        if artifact_or_tables.scheme != "hklut":
            raise ValueError(f"artifact_or_tables must be an artifact of scheme 'hklut', "
                             f"got scheme {artifact_or_tables.scheme!r}")
        tables = artifact_or_tables.arrays
        config = HKLUTConfig.from_dict(artifact_or_tables.config)
    elif (isinstance(artifact_or_tables, tuple) and len(artifact_or_tables) == 2
          and isinstance(artifact_or_tables[0], dict)):
        tables, config = artifact_or_tables
    else:
        raise TypeError(f"artifact_or_tables must be an Artifact or a (tables, HKLUTConfig) "
                        f"pair, got {type(artifact_or_tables).__name__!r}")
    _check_tables(tables, config)
    return tables, config


def _check_tables(tables: dict, config) -> None:
    if not isinstance(config, HKLUTConfig):
        raise TypeError(f"config must be an HKLUTConfig, got {type(config).__name__!r}")
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


def _check_plane_size(shape: tuple[int, int], config: HKLUTConfig, field: str) -> None:
    least = min_size(config)
    if shape[0] < least or shape[1] < least:
        raise ValueError(f"{field} must be at least {least}x{least} pixels for kernel sets "
                         f"msb={config.msb_kernels!r}, lsb={config.lsb_kernels!r} "
                         f"(their padding needs it), got size {tuple(shape)!r}")


class _Readout:
    """One config's tables, turned per rotation and viewed as whole r x r blocks.

    Each rotation's blocks are pre-turned back to the image frame, so a block
    gathered at an anchor of the unrotated plane lands in place; viewing one
    block as one ``void`` item makes the gather a single ``np.take`` of bytes.
    """

    def __init__(self, tables: dict[str, np.ndarray], config: HKLUTConfig):
        self.config = config
        self.blocks = {}
        for name, _, _, _, r in config.tables():
            item = np.dtype((np.void, r * r))
            self.blocks[name] = [
                np.ascontiguousarray(np.rot90(tables[name], -rot, axes=(1, 2)))
                .reshape(-1, r * r).view(item).reshape(-1)
                for rot in range(ROTATIONS)]

    def branch_sum(self, stage: int, branch: str, plane: np.ndarray) -> np.ndarray:
        """Integer sum over kernels and rotations: int16 blocks ``(C, H, W, r, r)``.

        ``plane`` holds 4-bit values ``(C, H, W)``. Rotating by ``rot`` quarter
        turns, padding right/bottom and reading taps ``(dy, dx)`` at anchor
        ``(i, j)`` reads, in the unrotated frame, the all-sides-padded plane
        at the anchor's image plus the tap turned back by ``rot``.
        """
        config = self.config
        r = config.stages[stage]
        kernels = config.kernels(branch)
        pad = _reach(kernels)
        c, h, w = plane.shape
        padded = np.pad(plane, ((0, 0), (pad, pad), (pad, pad)),
                        mode=_NP_PAD_MODE[config.padding(branch)])
        acc = np.zeros((c, h, w, r * r), np.int16)
        for rot in range(ROTATIONS):
            turned = np.rot90(padded, rot, axes=(1, 2))
            th, tw = (h, w) if rot % 2 == 0 else (w, h)
            for kernel in kernels:
                index = None
                for dy, dx in kernel.taps:
                    # The tap's window in the rotated, right/bottom-padded frame, turned
                    # back: a plain strided slice of `padded`, in image order.
                    tap = np.rot90(turned[:, pad + dy:pad + dy + th, pad + dx:pad + dx + tw],
                                   -rot, axes=(1, 2))
                    if index is None:
                        index = tap.astype(np.intp)
                    else:
                        index <<= PLANE_BITS
                        index += tap
                blocks = self.blocks[table_name(stage, branch, kernel.name)][rot]
                acc += np.take(blocks, index).view(np.int8).reshape(c, h, w, r * r)
        return acc.reshape(c, h, w, r, r)


def _to_image_layout(blocks: np.ndarray) -> np.ndarray:
    """``(C, H, W, r, r)`` blocks to ``(C, H r, W r)`` pixels."""
    c, h, w, r, _ = blocks.shape
    return blocks.transpose(0, 1, 3, 2, 4).reshape(c, h * r, w * r)


def _check_q(q, field: str) -> np.ndarray:
    if not isinstance(q, np.ndarray):
        raise TypeError(f"{field} must be a numpy array, got {type(q).__name__!r}")
    if q.ndim != 2:
        raise ValueError(f"{field} must be one 2-D plane (H, W), got shape {q.shape!r}")
    if q.dtype != np.uint8:
        raise ValueError(f"{field} must have dtype uint8, got {q.dtype!r}")
    return q


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
    ValueError
        On bad tables, a stage out of range, or a plane that is not ``uint8``
        2-D of at least :func:`min_size` pixels a side.
    """
    _check_tables(tables, config)
    if not isinstance(stage, int) or not 0 <= stage < len(config.stages):
        raise ValueError(f"stage must be an integer in 0..{len(config.stages) - 1}, "
                         f"got {stage!r}")
    q = _check_q(q, "q")
    _check_plane_size(q.shape, config, "q")
    readout = _Readout(tables, config)
    planes = q[None]
    s_msb = readout.branch_sum(stage, "msb", planes >> PLANE_BITS)
    s_lsb = readout.branch_sum(stage, "lsb", planes & _LSB_MASK)
    return (_to_image_layout(s_msb)[0].astype(np.int32),
            _to_image_layout(s_lsb)[0].astype(np.int32))


def _exact(readout: _Readout, q: np.ndarray) -> list[np.ndarray]:
    """N after every stage (int32, ``(C, H R_s, W R_s)``) for 8-bit planes ``(C, H, W)``."""
    widths = readout.config.widths()
    n = q.astype(np.int32) * widths.denom
    out = []
    for stage, _ in enumerate(readout.config.stages):
        q = (n // widths.denom).astype(np.uint8)
        s_msb = readout.branch_sum(stage, "msb", q >> PLANE_BITS)
        s_lsb = readout.branch_sum(stage, "lsb", q & _LSB_MASK)
        blocks = (widths.w_msb * s_msb.astype(np.int32) + widths.w_lsb * s_lsb.astype(np.int32)
                  + n[..., None, None])
        np.clip(blocks, 0, widths.n_max, out=blocks)
        n = _to_image_layout(blocks)
        out.append(n)
    return out


def _round_half_even(n: np.ndarray, denom: int) -> np.ndarray:
    """round-half-to-even(n / denom) for non-negative integers, in integers."""
    q, rem = np.divmod(n, denom)
    up = (2 * rem > denom) | ((2 * rem == denom) & (q % 2 == 1))
    return q + up


def _float32(readout: _Readout, image: np.ndarray) -> np.ndarray:
    """The authors' float32 readout of planes ``(C, H, W)``; returns uint8 planes."""
    widths = readout.config.widths()
    f255 = np.float32(255)
    k_msb, k_lsb = np.float32(widths.k_msb), np.float32(widths.k_lsb)
    x = image.astype(np.float32) / f255          # test.py: input_im.astype(float32) / 255.0
    for stage, _ in enumerate(readout.config.stages):
        q = np.floor(x * f255).astype(np.uint8)   # HKLUT.forward: floor(img_lr * 255)
        s_msb = readout.branch_sum(stage, "msb", q >> PLANE_BITS)
        s_lsb = readout.branch_sum(stage, "lsb", q & _LSB_MASK)
        # luts.py returns out / avg_factor, hklut.py divides that by 255. and adds
        # MSB + LSB first, then the nearest-upsampled input: float32 at every step.
        msb = s_msb.astype(np.float32) / k_msb / f255
        lsb = s_lsb.astype(np.float32) / k_lsb / f255
        y = (msb + lsb) + x[..., None, None]
        np.clip(y, np.float32(0), np.float32(1), out=y)
        x = _to_image_layout(y)
    return np.clip(np.round(x * f255), 0, 255).astype(np.uint8)   # test.py: np.round(out * 255)


def _planes(image, config: HKLUTConfig) -> np.ndarray:
    """Check an image and return it as channel planes ``(C, H, W)``."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy uint8 array, got {type(image).__name__!r}")
    if image.dtype != np.uint8:
        raise ValueError(f"image must have dtype uint8, got {image.dtype!r}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"image must be grey (H, W) or RGB (H, W, 3), got shape {image.shape!r}")
    _check_plane_size(image.shape[:2], config, "image")
    return image[None] if image.ndim == 2 else np.moveaxis(image, 2, 0)


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
    ValueError
        For a non-uint8 image, a wrong channel count, an image smaller than
        :func:`min_size` a side, an unknown arithmetic mode, an artifact of another
        scheme or malformed tables.
    """
    if arithmetic not in ARITHMETIC:
        raise ValueError(f"arithmetic must be one of {ARITHMETIC}, got {arithmetic!r}")
    tables, config = resolve(artifact_or_tables)
    planes = _planes(image, config)
    readout = _Readout(tables, config)
    if arithmetic == "exact":
        n = _exact(readout, planes)[-1]
        out = _round_half_even(n, config.widths().denom).astype(np.uint8)
    else:
        out = _float32(readout, planes)
    return out[0] if image.ndim == 2 else np.ascontiguousarray(np.moveaxis(out, 0, 2))


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
    ValueError
        On bad tables or a plane that is not ``uint8`` 2-D of at least
        :func:`min_size` pixels a side.
    """
    _check_tables(tables, config)
    plane = _check_q(plane, "plane")
    _check_plane_size(plane.shape, config, "plane")
    return [n[0] for n in _exact(_Readout(tables, config), plane[None])]
