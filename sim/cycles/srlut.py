"""Cycle and traffic model of the SR-LUT engine (``edgeforge.hw.srlut``).

The readout handles one anchor at a time: it takes the window, issues its
``R = 4 (n + 1)`` row reads one a cycle, and hands the block on the cycle after
the last row is back, taking the next window in that same cycle. With a memory
that takes every request and answers ``L`` cycles after it, an anchor costs

    T = R + L + 1 cycles      (S: 21 + L, F: 17 + L; the on-chip ROM has L = 1)

and the readout is the bottleneck of the frame (the line window takes a pixel a
cycle, the re-order emits a block row's ``r r W / P`` beats while the next
block row is read, fewer cycles than its ``W T``). Cycles from the first input
transfer (cycle 0), frames back to back:

- first output of frame k: ``FILL + 3 W + W T + k H W T``;
- last output: ``FILL - 1 + 3 W + frames H W T + r r W / P``;

``3 W`` is the three rows the first window reaches; ``FILL = 10`` is the
window pipeline and the readout's registers, measured on the RTL and checked
by ``tests/hw/test_srlut_cycles.py`` over sizes, kernels, factors, beats and
latencies. Traffic: every anchor reads R rows of ``r r`` bytes, so the table
port moves ``R r r / (r r) = R`` bytes per output pixel (20 for S, 16 for F).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeforge.schemes.hklut import ROTATIONS, TABLE_BITS
from edgeforge.schemes.srlut import SRLUTConfig

from .record import OperationLine, Performance, RunCycles, TrafficLine

__all__ = ["FILL", "SRLUTCycles", "predict"]

FILL = 10
_WINDOW_ROWS = 3            # rows the first window reaches (the line window's RADIUS + 1)


@dataclass(frozen=True)
class SRLUTCycles:
    """Predicted timing and table traffic of one engine config, one channel plane a frame."""
    width: int
    height: int
    r: int
    out_pixels: int
    latency: int
    reads_per_anchor: int
    row_bytes: int
    weight_bits: int
    multipliers: int
    table_bits: int
    offchip_table: bool

    @property
    def anchor_cycles(self) -> int:
        return self.reads_per_anchor + self.latency + 1

    @property
    def frame_cycles(self) -> int:
        return self.width * self.height * self.anchor_cycles

    @property
    def cycles_per_output(self) -> float:
        return self.anchor_cycles / (self.r * self.r)

    @property
    def table_bytes_per_output(self) -> float:
        """Bytes the table port reads per HR pixel."""
        return self.reads_per_anchor * self.row_bytes / (self.r * self.r)

    def output_start(self, frame: int) -> int:
        w = self.width
        return FILL + _WINDOW_ROWS * w + w * self.anchor_cycles + frame * self.frame_cycles

    def last_output(self, frames: int) -> int:
        w = self.width
        return (FILL - 1 + _WINDOW_ROWS * w + frames * self.frame_cycles
                + self.r * self.r * w // self.out_pixels)

    def run(self, frames: int) -> RunCycles:
        return RunCycles(tuple(self.output_start(k) for k in range(frames)),
                         self.last_output(frames))

    def performance(self) -> Performance:
        pixels = self.width * self.height
        reads = pixels * self.reads_per_anchor
        traffic = () if self.offchip_table else (
            TrafficLine("table ROM", self.row_bytes * 8, reads, 0, self.table_bits),)
        offchip_table_bytes = reads * self.row_bytes if self.offchip_table else 0
        return Performance(
            input_unit="channel plane", output_unit="HR pixel",
            outputs_per_input=pixels * self.r * self.r, cycles_per_input=self.frame_cycles,
            latency_cycles=self.output_start(0), traffic=traffic,
            offchip_bytes_in=pixels + offchip_table_bytes, offchip_bytes_out=pixels * self.r ** 2,
            schedule=lambda beats: self.run(len(beats)),
            detail={"anchor_cycles": self.anchor_cycles, "latency": self.latency,
                    "reads_per_anchor": self.reads_per_anchor,
                    "table_bytes_per_output": self.table_bytes_per_output,
                    "offchip_table": self.offchip_table},
            operations=(OperationLine("weighted sum", "mul", (self.weight_bits, TABLE_BITS),
                                      reads * self.r * self.r),))


def predict(config: SRLUTConfig, *, width: int, height: int, out_pixels: int = 1,
            latency: int = 1, offchip_table: bool = True) -> SRLUTCycles:
    """The model of an engine of ``config`` on ``width`` x ``height`` frames whose table
    answers ``latency`` cycles after each request (1 for the on-chip ROM)."""
    if not isinstance(latency, int) or isinstance(latency, bool) or latency < 1:
        raise ValueError(f"latency must be an integer of at least 1 cycle, got {latency!r}")
    r = config.stages[0]
    return SRLUTCycles(width=width, height=height, r=r, out_pixels=out_pixels, latency=latency,
                       reads_per_anchor=ROTATIONS * (config.pixels + 1), row_bytes=r * r,
                       weight_bits=config.interval_bits + 1, multipliers=r * r,
                       table_bits=config.entries * r * r * TABLE_BITS,
                       offchip_table=offchip_table)
