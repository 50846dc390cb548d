"""Cycle and traffic model of the HKLUT engine (``edgeforge.hw.hklut``), from its structure.

Each stage is three blocks that overlap in time, each with a fixed cost per
stage row (``w`` stage pixels wide, factor ``r``, ``T = 4 / R`` phases):

- window + lookup: one window per ``T`` cycles plus the ``2 * RADIUS`` border
  column steps that start each row: ``w T + 4`` cycles;
- re-order output: ``r^2 w / P_s`` beats (``P_s = P`` for the last stage, else 1).

A stage-``s`` row is ``prod(r_<s)`` of them per input row, so in steady state the
engine spends ``max`` over blocks of their cost per input row. With no row
overhead that is the spec's ``max(4/R_1, 16/R_2, 16/P)`` cycles per input pixel
for x2, x2; the overhead adds ``4 / w_s`` per stage row.

Latency and the cycles of a whole run come from a row-level timeline of the
same blocks (:func:`timeline`): a stage starts anchor row ``i`` once its input
rows up to ``i + 2`` are in and its previous row is done; a window leaves the
line buffer 6 cycles after its row starts plus 1 per column step, spends ``T``
cycles in the lookup and ``LOOKUP_DEPTH`` more in its pipeline; a block row
drains from the re-order 2 cycles after its last block, one beat a cycle. The
timeline assumes no backpressure between stages (their buffers absorb it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from edgeforge.schemes.hklut import ROTATIONS, HKLUTConfig

__all__ = ["StageCycles", "HKLUTCycles", "predict"]


@dataclass(frozen=True)
class StageCycles:
    """One stage's geometry and per-row costs."""
    width: int
    height: int
    factor: int
    reads_per_table: int
    lanes: int
    rows_per_input_row: int
    window_cycles_per_row: int
    reorder_cycles_per_row: float


@dataclass(frozen=True)
class HKLUTCycles:
    """Predicted timing and traffic of one HKLUT engine config."""
    stages: tuple[StageCycles, ...]
    bottleneck: str
    cycles_per_input_row: float
    cycles_per_input_pixel: float
    asymptotic_cycles_per_input_pixel: float
    frame_cycles: float
    latency_cycles: int
    channels: int
    traffic_per_input_pixel: dict

    def total_cycles(self, planes: int) -> int:
        """Cycles from the first input beat to the last output beat of ``planes`` frames."""
        return timeline(self.stages, planes)["last_output"] + 1

    def to_dict(self) -> dict:
        out = asdict(self)
        out["stages"] = [asdict(s) for s in self.stages]
        out["cycles_per_input_pixel_per_channel"] = self.cycles_per_input_pixel
        return out


def _structure():
    # The RTL's structural constants, read from the generator (not restated here).
    from edgeforge.hw.hklut.linebuffer import EXTRA_COLUMNS, SLOTS
    from edgeforge.hw.hklut.lookup import PIPELINE_DEPTH
    return EXTRA_COLUMNS, SLOTS, PIPELINE_DEPTH


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
    extra_columns, _, pipeline_depth = _structure()
    reads_per_table = tuple(reads_per_table)
    stages, rows, w, h = [], 1, width, height
    last = len(config.stages) - 1
    for s, (r, reads) in enumerate(zip(config.stages, reads_per_table)):
        lanes = out_pixels if s == last else 1
        phases = ROTATIONS // reads
        stages.append(StageCycles(width=w, height=h, factor=r, reads_per_table=reads, lanes=lanes,
                                  rows_per_input_row=rows,
                                  window_cycles_per_row=w * phases + extra_columns,
                                  reorder_cycles_per_row=r * r * w / lanes))
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
                       traffic_per_input_pixel=_traffic(config, stages, out_pixels))


def timeline(stages, planes: int) -> dict:
    """Row-level timeline of ``planes`` frames streamed back to back, input one pixel a cycle.

    Returns the cycle (counted from the first input transfer) of the first and last
    output beat and of the first output beat of every frame.
    """
    extra_columns, _, pipeline_depth = _structure()
    first = stages[0]
    # Input row y is visible to the stage-0 reader the cycle after its last pixel.
    ready = [(y + 1) * first.width for y in range(planes * first.height)]
    for st in stages:
        phases = ROTATIONS // st.reads_per_table
        w, h, r = st.width, st.height, st.factor
        row_pixels = w * r
        beats = r * r * w // st.lanes
        start = out = None
        next_ready, frame_out = [], []
        for g in range(planes * h):
            f, i = divmod(g, h)
            need = ready[f * h + min(i + 2, h - 1)]
            start = need if start is None else max(start + w * phases + extra_columns, need)
            # Last block written: first window after the border steps and the read
            # pipeline (RADIUS*2 + 2), w lookups of T cycles, then the lookup pipeline.
            last_block = start + extra_columns + 1 + w * phases + pipeline_depth
            out = last_block + 2 if out is None else max(last_block + 2, out + beats)
            if i == 0:
                frame_out.append(out)
            next_ready += [out + (dy + 1) * row_pixels // st.lanes for dy in range(r)]
        ready = next_ready
    return {"first_output": frame_out[0], "last_output": out + beats - 1,
            "frame_first_outputs": frame_out}


def _traffic(config: HKLUTConfig, stages, out_pixels: int) -> dict:
    """Memory accesses per input pixel of one plane."""
    extra_columns, _, _ = _structure()
    lut_reads = {}
    for name, s, _, kernel, r in config.tables():
        pixels = stages[s].rows_per_input_row ** 2
        key = f"{kernel.entries}x{8 * r * r}b"
        lut_reads[name] = ROTATIONS * pixels
        lut_reads.setdefault("by_size", {})
        lut_reads["by_size"][key] = lut_reads["by_size"].get(key, 0) + ROTATIONS * pixels
    line_writes, line_reads, reorder = 0.0, 0.0, 0.0
    for st in stages:
        pixels = st.rows_per_input_row ** 2
        line_writes += pixels
        # Interior rows read 2*RADIUS+1 row slots per column step, w + extra steps per row.
        line_reads += pixels * (extra_columns + 1) * (st.width + extra_columns) / st.width
        reorder += pixels * st.factor ** 2
    return {"offchip_bytes_in": 1, "offchip_bytes_out": config.scale ** 2,
            "lut_reads": lut_reads, "lut_reads_total": sum(v for k, v in lut_reads.items()
                                                         if k != "by_size"),
            "line_buffer_writes": line_writes, "line_buffer_reads": line_reads,
            "reorder_writes": reorder, "reorder_reads": reorder}
