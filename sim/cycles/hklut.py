"""Cycle and traffic model of the HKLUT engine (``edgeforge.hw.hklut``), from its structure.

Each stage is three blocks that overlap in time, each with a fixed cost per
stage row (``w`` stage pixels wide, factor ``r``, ``V = max(1, R / 4)`` pixels
a beat, ``T = max(1, 4 / R)`` lookup phases a beat):

- window + lookup: one beat of ``V`` windows per ``T`` cycles, ``w T / V`` cycles;
- re-order output: ``r^2 w / P_s`` beats (``P_s`` = the next stage's ``V``, or
  ``P`` for the last stage).

A stage-``s`` row is ``prod(r_<s)`` of them per input row, so in steady state the
engine spends ``max`` over blocks of their cost per input row: the spec's
``max(4/R_1, 16/R_2, 16/P)`` cycles per input pixel for x2, x2.

Latency and the cycles of a whole run come from a timeline of the same blocks
(:func:`timeline`). The line window is a pipeline that moves as a whole: a beat
read at one move reaches the lookup ``K + 3`` moves later (``K`` look-ahead
words, :func:`~edgeforge.hw.line_window.window_moves`), and the next
move comes ``T`` cycles after a valid beat reached the lookup, 1 cycle after a
bubble. A row is read once the input rows up to ``i + 2`` are in; its blocks
leave the lookup ``T + PIPELINE_DEPTH`` cycles after they entered it, and a block
row drains from the re-order ``OUTPUT_DELAY`` cycles after its last block, one beat
a cycle.
The timeline assumes no backpressure between stages (their buffers absorb it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from types import SimpleNamespace

from edgeforge.schemes.hklut import ROTATIONS, TABLE_BITS, HKLUTConfig

from .record import Performance, RunCycles, TrafficLine

__all__ = ["StageCycles", "HKLUTCycles", "predict", "timeline", "traffic_line_of"]


@dataclass(frozen=True)
class StageCycles:
    """One stage's geometry and per-row costs."""
    width: int
    height: int
    factor: int
    reads_per_table: int
    window_lanes: int
    lanes: int
    rows_per_input_row: int
    window_cycles_per_row: int
    reorder_cycles_per_row: float

    phases: int


@dataclass(frozen=True)
class HKLUTCycles:
    """Predicted timing and traffic of one HKLUT engine config.

    ``traffic_per_plane``: the memory accesses of one frame of one channel through
    the engine, exact integers (``tests/hw/test_hklut_cycles.py`` measures them with
    :class:`~edgeforge.sim.memory_probe.MemoryProbe` and holds them equal);
    :attr:`traffic_per_input_pixel` divides them by the plane's pixels."""
    stages: tuple[StageCycles, ...]
    bottleneck: str
    cycles_per_input_row: float
    cycles_per_input_pixel: float
    asymptotic_cycles_per_input_pixel: float
    frame_cycles: float
    latency_cycles: int
    channels: int
    scale: int
    traffic_per_plane: tuple[TrafficLine, ...]

    @property
    def traffic_per_input_pixel(self) -> tuple[TrafficLine, ...]:
        """:attr:`traffic_per_plane` per input pixel of the plane."""
        pixels = self.stages[0].width * self.stages[0].height
        return tuple(replace(t, reads=t.reads / pixels, writes=t.writes / pixels)
                     for t in self.traffic_per_plane)

    def total_cycles(self, planes: int) -> int:
        """Cycles from the first input beat to the last output beat of ``planes`` frames."""
        return timeline(self.stages, planes)["last_output"] + 1

    def performance(self, planes_per_image: int) -> Performance:
        """The record of an input = one image: ``channels`` planes, streamed as
        ``planes_per_image`` frames (one with RGB lanes, where three engines share a beat)."""
        first = self.stages[0]
        pixels = first.width * first.height * self.channels
        # Every channel is one plane through the engine (or one of the RGB lanes' engines).
        planes = self.channels

        def schedule(beats_per_input):
            t = timeline(self.stages, len(beats_per_input) * planes_per_image)
            return RunCycles(tuple(t["frame_first_outputs"][::planes_per_image]),
                             t["last_output"])

        detail = {k: v for k, v in asdict(self).items() if k != "traffic_per_plane"}
        return Performance(
            input_unit="image", output_unit="HR pixel",
            outputs_per_input=first.width * first.height * self.scale ** 2,
            cycles_per_input=self.frame_cycles * planes_per_image,
            latency_cycles=self.latency_cycles,
            traffic=tuple(replace(t, reads=t.reads * planes, writes=t.writes * planes)
                          for t in self.traffic_per_plane),
            offchip_bytes_in=pixels, offchip_bytes_out=pixels * self.scale ** 2,
            schedule=schedule, detail=detail)


def _structure() -> SimpleNamespace:
    # The RTL's structural constants, read from the generator (not restated here).
    from amaranth import Shape
    from edgeforge.hw.hklut.combine import pixel_layout
    from edgeforge.hw.hklut.engine import buffer_pixels
    from edgeforge.hw.line_window import rows_read, stored_layout, window_moves
    from edgeforge.hw.hklut.lookup import PIPELINE_DEPTH, window_lanes, window_phases
    from edgeforge.hw.block_reorder import OUTPUT_DELAY

    def buffer_bits(config: HKLUTConfig) -> list[tuple[int, int]]:
        """Bits a pixel in each stage's line buffer and re-order."""
        pixel = pixel_layout(config.widths())
        return [(stored_layout(pixel, carries_rem).size, Shape.cast(reordered).width)
                for carries_rem, reordered in buffer_pixels(pixel, len(config.stages))]

    return SimpleNamespace(window_moves=window_moves, pipeline_depth=PIPELINE_DEPTH,
                           window_lanes=window_lanes, window_phases=window_phases,
                           output_delay=OUTPUT_DELAY, buffer_bits=buffer_bits,
                           rows_read=rows_read)


def predict(config: HKLUTConfig, *, width: int, height: int, reads_per_table, out_pixels: int = 1,
            channels: int = 1) -> HKLUTCycles:
    """Predict cycles, latency and traffic of an engine config (no backpressure, input always valid).

    Parameters
    ----------
    config : HKLUTConfig
    width, height : int
        Input frame size.
    reads_per_table : sequence of int
        Reads per table per cycle for each stage.
    out_pixels : int
        Output pixels per beat.
    channels : int
        Planes per image (traffic is given per input pixel of one plane).
    """
    rtl = _structure()
    reads_per_table = tuple(reads_per_table)
    lanes_in = [rtl.window_lanes(reads) for reads in reads_per_table]
    stages, rows, w, h = [], 1, width, height
    last = len(config.stages) - 1
    for s, (r, reads) in enumerate(zip(config.stages, reads_per_table)):
        lanes = out_pixels if s == last else lanes_in[s + 1]
        phases = rtl.window_phases(reads)
        stages.append(StageCycles(width=w, height=h, factor=r, reads_per_table=reads,
                                  window_lanes=lanes_in[s], lanes=lanes, rows_per_input_row=rows,
                                  window_cycles_per_row=w // lanes_in[s] * phases,
                                  reorder_cycles_per_row=r * r * w / lanes, phases=phases))
        rows, w, h = rows * r, w * r, h * r
    costs = {}
    for s, st in enumerate(stages):
        costs[f"s{s}_window_lookup"] = st.rows_per_input_row * st.window_cycles_per_row
        costs[f"s{s}_reorder"] = st.rows_per_input_row * st.reorder_cycles_per_row
    bottleneck = max(costs, key=costs.get)
    per_row = costs[bottleneck]
    asymptotic = max(max((ROTATIONS / st.reads_per_table) * st.rows_per_input_row ** 2
                         for st in stages), config.scale ** 2 / out_pixels)
    return HKLUTCycles(stages=tuple(stages), bottleneck=bottleneck, cycles_per_input_row=per_row,
                       cycles_per_input_pixel=per_row / width,
                       asymptotic_cycles_per_input_pixel=asymptotic,
                       frame_cycles=per_row * height,
                       latency_cycles=timeline(stages, 1)["first_output"], channels=channels,
                       scale=config.scale,
                       traffic_per_plane=_traffic(config, stages, rtl.buffer_bits(config),
                                                  rtl.rows_read))


def _window_rows(needs, words: int, phases: int, depth: int):
    """When each row's last beat enters the lookup, for rows readable from cycles ``needs``.

    The window pipeline moves as a whole: the beat read at move ``m`` enters the
    lookup at move ``m + depth``, and the move after ``m`` comes ``T`` cycles later
    if the beat entering the lookup at ``m`` is valid, else 1.
    """
    gap = lambda valid: phases if valid else 1
    t, flights = None, [False] * (depth + 1)    # validity of beats read at moves m-L .. m
    for need in needs:
        if t is None:
            t = need - 1
        # Bubbles move until the row is readable; once only bubbles fly, moves are 1 cycle.
        while t + gap(flights[0]) < need:
            if not any(flights):
                t = need - 1
                break
            t += gap(flights[0])
            flights = flights[1:] + [False]
        # The row's reads: after L + 1 of them only its own valid beats fly.
        explicit = min(words, depth + 1)
        for _ in range(explicit):
            t += gap(flights[0])
            flights = flights[1:] + [True]
        t += (words - explicit) * phases
        yield t + sum(gap(v) for v in flights[:depth])


def timeline(stages, planes: int, *, pipeline_depth: int | None = None) -> dict:
    """Timeline of ``planes`` frames streamed back to back, input one pixel a cycle.

    ``pipeline_depth``: register levels from a window's last phase to its block, by
    default the HKLUT lookup's; the bicubic engine, whose window and re-order are these,
    gives its tap pipeline's (``edgeforge.sim.cycles.bicubic``).

    Returns the cycle (counted from the first input transfer) of the first and last
    output beat and of the first output beat of every frame.
    """
    rtl = _structure()
    depth = rtl.pipeline_depth if pipeline_depth is None else pipeline_depth
    first = stages[0]
    # Input row y is visible to the stage-0 reader the cycle after its last pixel.
    ready = [(y + 1) * first.width for y in range(planes * first.height)]
    for st in stages:
        w, h, r = st.width, st.height, st.factor
        beats = r * r * w // st.lanes
        row_beats = w * r // st.lanes
        needs = [ready[(g // h) * h + min(g % h + 2, h - 1)] for g in range(planes * h)]
        entered = _window_rows(needs, w // st.window_lanes, st.phases,
                               rtl.window_moves(st.window_lanes))
        out, next_ready, frame_out = None, [], []
        for g, last_in in enumerate(entered):
            last_block = last_in + st.phases + depth
            out = (last_block + rtl.output_delay if out is None
                   else max(last_block + rtl.output_delay, out + beats))
            if g % h == 0:
                frame_out.append(out)
            next_ready += [out + (dy + 1) * row_beats for dy in range(r)]
        ready = next_ready
    return {"first_output": frame_out[0], "last_output": out + beats - 1,
            "frame_first_outputs": frame_out}


# The engine's submodules per stage s: f"s{s}_window" (line buffer), f"s{s}_lookup" (one
# table bank per table, named by the table), f"s{s}_reorder" (edgeforge.hw.hklut.engine).
_BUFFER_LINES = {"window": "line buffer", "reorder": "reorder"}


def traffic_line_of(path: tuple[str, ...]) -> str:
    """The traffic line of the engine memory at ``path`` (submodule names from an
    :class:`~edgeforge.hw.hklut.engine.HKLUTEngine`, as
    :class:`~edgeforge.sim.memory_probe.MemoryProbe` finds them).

    Raises
    ------
    ValueError
        For a path that is no memory of a stage's line buffer, tables or re-order.
    """
    stage, _, block = path[0].partition("_") if path else ("", "", "")
    if block == "lookup" and len(path) > 1:
        return f"lut {path[1]}"
    if block in _BUFFER_LINES:
        return f"{_BUFFER_LINES[block]} {stage}"
    raise ValueError(f"path must be a memory of an HKLUT stage's window, lookup or reorder, "
                     f"got {path!r}")


def _traffic(config: HKLUTConfig, stages, buffer_bits, rows_read) -> tuple[TrafficLine, ...]:
    """Memory accesses per plane (one frame of one channel), one line per memory: every
    table, and each stage's line buffer and re-order, counted as the RTL makes them: a
    port access is a cycle with the port's enable high, of one word of the port's width."""
    lines = []
    for name, s, _, kernel, r in config.tables():
        st = stages[s]
        # Each stage pixel's window reads every table once per rotation (one lane a rotation).
        lines.append(TrafficLine(f"lut {name}", TABLE_BITS * r * r,
                                 ROTATIONS * st.width * st.height, 0))
    for s, (st, (line_bits, reorder_bits)) in enumerate(zip(stages, buffer_bits)):
        # A line-buffer word holds the `window_lanes` pixels of one beat: one write a beat,
        # and one read of each distinct row a word's windows reach (fewer at the borders,
        # where reflect maps window rows onto rows already read).
        words = st.width // st.window_lanes
        lines.append(TrafficLine(f"line buffer s{s}", line_bits * st.window_lanes,
                                 words * sum(rows_read(y, st.height) for y in range(st.height)),
                                 words * st.height))
        # A re-order memory word is one pixel: each block's r*r pixels written, each read once.
        blocks = st.width * st.height * st.factor ** 2
        lines.append(TrafficLine(f"reorder s{s}", reorder_bits, blocks, blocks))
    return tuple(lines)
