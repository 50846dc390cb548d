"""Stream payloads of the network pipeline: vectors of integers packed into one flat word.

Element ``k`` of a ``n``-element vector of ``shape`` sits at bits
``[w k + w - 1 : w k]`` (``w = shape.width``); its signedness is the shape's.
Payloads are flat ``unsigned`` words so that any stream driver can set and read
them as integers; engines view them through :func:`view`.
"""

from __future__ import annotations

from amaranth import Shape, Signal, signed, unsigned
from amaranth.lib import data, stream

__all__ = ["elem_shape", "vector_signature", "view", "index_signal"]


def elem_shape(bits: int, is_signed: bool) -> Shape:
    """The Amaranth shape of an element of ``bits`` bits, signed or not."""
    return signed(bits) if is_signed else unsigned(bits)


def vector_signature(shape: Shape, n: int) -> stream.Signature:
    """A stream of ``n``-element vectors of ``shape``, packed flat."""
    return stream.Signature(unsigned(Shape.cast(shape).width * n))


def view(value, shape: Shape, n: int) -> data.View:
    """``value`` (a flat payload) seen as an array of ``n`` elements of ``shape``."""
    return data.View(data.ArrayLayout(shape, n), value)


def index_signal(n: int, name: str | None = None) -> Signal:
    """A counter over ``0 .. n - 1``, at least one bit wide: a zero-width signal comes out
    of Amaranth as ``wire [-1:0]``, which Verilator refuses (ASCRANGE). With ``n = 1`` the
    logic around it keeps it at 0."""
    return Signal(range(max(2, n)), name=name)
