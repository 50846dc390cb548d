"""Row slots of a line buffer: the writer's side, shared by the image window
(:mod:`edgeforge.hw.line_window`) and the conv windows (:mod:`edgeforge.hw.network.window`).

Input rows are written in turn into ``n`` slots (a power of two, so that slot arithmetic is a
plain wrap-around). The writer fills slot ``head`` beat by beat and takes a beat while some
slot is free; the reader lets rows go from ``tail`` (the oldest row still held) as it is done
with them. ``occupied`` counts the complete rows held from ``tail``.
"""

from __future__ import annotations

from amaranth import Module, Signal

from .logic import equals

__all__ = ["RowSlots"]


class RowSlots:
    """The writer's bookkeeping of ``n_slots`` row slots fed by stream ``i`` (built in ``m``).

    Members
    -------
    head, tail : Signal(range(n_slots))
        The slot being written; the oldest slot still held.
    occupied : Signal(range(n_slots + 1))
        Complete rows held, counted from ``tail``.
    write : Value
        ``i`` transfers a beat this cycle.
    row_written : Signal
        The beat written completes a row (comb).
    """

    def __init__(self, m: Module, i, n_slots: int):
        slot_bits = (n_slots - 1).bit_length()
        self.head = Signal(slot_bits, name="head")
        self.tail = Signal(slot_bits, name="tail")
        self.occupied = Signal(range(n_slots + 1), name="occupied")
        m.d.comb += i.ready.eq(self.occupied != n_slots)
        self.write = i.valid & i.ready
        self.row_written = Signal(name="row_written")

    def write_rows(self, m: Module, rows, addr, payload) -> None:
        """Write ``payload`` at ``addr`` of slot ``head``'s memory, one memory a slot."""
        for s, mem in enumerate(rows):
            port = mem.write_port()
            m.d.comb += [port.addr.eq(addr), port.data.eq(payload),
                         port.en.eq(self.write & equals(self.head, s))]

    def count(self, m: Module, position, row_beats: int) -> None:
        """Step the writer's ``position`` in its row (``row_beats`` beats) on each beat
        written, and onto the next slot after the row's last."""
        with m.If(self.write):
            with m.If(equals(position, row_beats - 1)):
                m.d.sync += [position.eq(0), self.head.eq(self.head + 1)]
                m.d.comb += self.row_written.eq(1)
            with m.Else():
                m.d.sync += position.eq(position + 1)

    def release(self, m: Module, release) -> None:
        """Let ``release`` rows go from ``tail`` this cycle (a row written meanwhile is counted)."""
        m.d.sync += [self.tail.eq(self.tail + release),
                     self.occupied.eq(self.occupied + self.row_written - release)]
