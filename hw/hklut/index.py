"""Rotations and index generation: which window pixels each kernel reads, per rotation.

The authors' readout turns the plane ``rot`` quarter turns counter-clockwise
(``numpy.rot90``), reads kernel taps ``(dy, dx)`` at every anchor, and turns the
looked-up ``r x r`` block back. In the unrotated frame that is a fixed
permutation per rotation: tap ``(dy, dx)`` becomes ``(dx, -dy)`` per quarter
turn, and block element ``(ey, ex)`` lands at ``(ex, r - 1 - ey)``. The
hardware never rotates anything; it reads the turned taps from a 5x5 window.

The window (:class:`~edgeforge.hw.line_window.LineWindow`) holds the 8-bit inputs
around the anchor with reflect-mapped borders (``-x`` / ``2 (n - 1) - x``), which
is the padding of ``hdb`` kernels. Replicate padding (``hd`` kernels, reach 1)
maps an outside tap to the anchor's own row or column instead; the index
generator picks that position from the border flags (:func:`tap_value`).
"""

from __future__ import annotations

from amaranth import Cat, Mux

from edgeforge.schemes.hklut import PLANE_BITS, ROTATIONS, Kernel

from ..line_window import RADIUS, SIDE, tap_index

__all__ = ["turn_tap", "turn_block", "window_taps", "tap_value", "kernel_index"]


def turn_tap(rot: int, dy: int, dx: int) -> tuple[int, int]:
    """Offset, in the unrotated frame, of tap ``(dy, dx)`` read after ``rot`` quarter turns."""
    for _ in range(rot % ROTATIONS):
        dy, dx = dx, -dy
    return dy, dx


def turn_block(rot: int, ey: int, ex: int, r: int) -> tuple[int, int]:
    """Where block element ``(ey, ex)`` of a rotation-``rot`` lookup lands in the output block."""
    for _ in range(rot % ROTATIONS):
        ey, ex = ex, r - 1 - ey
    return ey, ex


def window_taps(kernel: Kernel, rot: int) -> tuple[tuple[int, int], ...]:
    """The kernel's taps turned by ``rot``, as window offsets ``(dy, dx)`` in ``-RADIUS..RADIUS``."""
    taps = tuple(turn_tap(rot, dy, dx) for dy, dx in kernel.taps)
    for dy, dx in taps:
        if max(abs(dy), abs(dx)) > RADIUS:
            raise ValueError(f"kernel {kernel.name!r} reaches beyond the {SIDE}x{SIDE} window, "
                             f"got tap {(dy, dx)!r}")
    return taps


def _outside(flags, dy: int, dx: int):
    """Amaranth conditions: the tap's row / column leaves the image (anchor on that border)."""
    row = flags.top if dy < 0 else flags.bottom if dy > 0 else None
    col = flags.left if dx < 0 else flags.right if dx > 0 else None
    return row, col


def tap_value(window, dy: int, dx: int, padding: str):
    """Amaranth expression: the 8-bit input a tap at offset ``(dy, dx)`` reads under ``padding``.

    Reflect padding reads the window as is. Replicate padding (reach 1) reads
    the anchor's row or column instead where the tap leaves the image.
    """
    if padding == "reflect":
        return window.q[tap_index(dy, dx)]
    if padding != "replicate":
        raise ValueError(f"padding must be 'reflect' or 'replicate', got {padding!r}")
    if max(abs(dy), abs(dx)) > 1:
        raise ValueError(f"replicate padding reaches 1 pixel, got tap {(dy, dx)!r}")
    row_out, col_out = _outside(window, dy, dx)
    value = window.q[tap_index(dy, dx)]
    if col_out is not None:
        value = Mux(col_out, window.q[tap_index(dy, 0)], value)
    if row_out is not None:
        inner = window.q[tap_index(0, dx)]
        if col_out is not None:
            inner = Mux(col_out, window.q[tap_index(0, 0)], inner)
        value = Mux(row_out, inner, value)
    return value


def _plane(q, branch: str):
    return q[PLANE_BITS:] if branch == "msb" else q[:PLANE_BITS]


def kernel_index(window, kernel: Kernel, rot: int, branch: str, padding: str):
    """Amaranth expression: the table index of ``kernel`` at rotation ``rot``.

    ``window`` is a :func:`~edgeforge.hw.line_window.window_layout` view: ``q``
    (SIDE*SIDE 8-bit pixels) and the border flags. Index = p1 * 16**(n-1) + ... + pn, with pk the
    branch's 4-bit plane of tap k (first tap most significant).
    """
    parts = [_plane(tap_value(window, dy, dx, padding), branch)
             for dy, dx in window_taps(kernel, rot)]
    return Cat(*reversed(parts))      # Cat is LSB first: the last tap is the lowest digit
