"""Cycle, traffic and operation model of the bicubic engine (``edgeforge.hw.bicubic``).

The engine is one HKLUT-style stage (``edgeforge.sim.cycles.hklut``): the same line
window and re-order, with the tap multiply-add in the lookup's place. A window stays
``r^2`` cycles at the taps (one output pixel a cycle), so a row of ``w`` pixels costs
``w r^2`` cycles there and ``r^2 w / P`` beats at the re-order output: ``r^2`` cycles per
input pixel for every ``P``. Latency and whole runs come from the HKLUT timeline with
the tap pipeline's depth.

Operations are counted as the RTL does them, every cycle of a phase (an output pixel):
the vertical pass's ``4 G`` multiplies of an 8-bit pixel by a coefficient (``G`` column
sums a cycle, :func:`~edgeforge.hw.bicubic.taps.column_groups`: 5 columns over ``r``
cycles, so at x4 8 multiplies a cycle of which 5 on average are kept) and ``3 G``
adds, the horizontal pass's 4 multiplies of a column sum by a coefficient and 3 adds,
the rounding add and the clamp's two compares.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from edgeforge.schemes.bicubic import PIXEL_BITS, TAPS, BicubicConfig

from .hklut import StageCycles, timeline
from .record import OperationLine, Performance, RunCycles, TrafficLine

__all__ = ["BicubicCycles", "predict"]


@dataclass(frozen=True)
class BicubicCycles:
    """Predicted timing, traffic (per plane) and operations (per plane) of one engine config."""
    stage: StageCycles
    pipeline_depth: int
    cycles_per_input_pixel: float
    frame_cycles: float
    latency_cycles: int
    channels: int
    scale: int
    multipliers: int
    traffic_per_plane: tuple[TrafficLine, ...]
    operations_per_plane: tuple[OperationLine, ...]

    def total_cycles(self, planes: int) -> int:
        """Cycles from the first input transfer to the last output beat of ``planes`` frames."""
        return timeline((self.stage,), planes, pipeline_depth=self.pipeline_depth)["last_output"] + 1

    @property
    def mults_per_output(self) -> float:
        pixels = self.stage.width * self.stage.height * self.scale ** 2
        return sum(o.count for o in self.operations_per_plane if o.op == "mul") / pixels

    def performance(self) -> Performance:
        """The record of an input = one image of ``channels`` planes, back to back."""
        st, planes = self.stage, self.channels
        pixels = st.width * st.height * planes

        def schedule(beats_per_input):
            t = timeline((st,), len(beats_per_input) * planes, pipeline_depth=self.pipeline_depth)
            return RunCycles(tuple(t["frame_first_outputs"][::planes]), t["last_output"])

        per_image = lambda line: replace(line, count=line.count * planes)
        detail = {k: v for k, v in asdict(self).items()
                  if k not in ("traffic_per_plane", "operations_per_plane")}
        detail["mults_per_output_pixel"] = self.mults_per_output
        return Performance(
            input_unit="image", output_unit="HR pixel",
            outputs_per_input=st.width * st.height * self.scale ** 2,
            cycles_per_input=self.frame_cycles * planes, latency_cycles=self.latency_cycles,
            traffic=tuple(replace(t, reads=t.reads * planes, writes=t.writes * planes)
                          for t in self.traffic_per_plane),
            offchip_bytes_in=pixels, offchip_bytes_out=pixels * self.scale ** 2,
            schedule=schedule, detail=detail,
            operations=tuple(per_image(o) for o in self.operations_per_plane))


def predict(config: BicubicConfig, *, width: int, height: int, out_pixels: int = 1,
            channels: int = 1) -> BicubicCycles:
    """Predict cycles, latency, traffic and operations of an engine config (no backpressure)."""
    from edgeforge.hw.bicubic.engine import BORDER
    from edgeforge.hw.bicubic.taps import multipliers, pipeline_depth
    from edgeforge.hw.line_window import rows_read
    r = config.scale
    phases = r * r
    stage = StageCycles(width=width, height=height, factor=r, reads_per_table=0,
                        window_lanes=1, lanes=out_pixels, rows_per_input_row=1,
                        window_cycles_per_row=width * phases,
                        reorder_cycles_per_row=phases * width / out_pixels, phases=phases)
    per_row = max(stage.window_cycles_per_row, stage.reorder_cycles_per_row)
    widths = config.widths()
    outputs = width * height * phases
    vertical, horizontal = multipliers(r)
    depth = pipeline_depth(r)
    traffic = (
        TrafficLine("line buffer s0", PIXEL_BITS,
                    width * sum(rows_read(y, height, BORDER) for y in range(height)),
                    width * height),
        TrafficLine("reorder s0", PIXEL_BITS, outputs, outputs),
    )
    operations = (
        OperationLine("vertical pass products", "mul", (PIXEL_BITS, widths.coef_bits),
                      vertical * outputs),
        OperationLine("vertical pass column sums", "add", (widths.column_bits,),
                      (vertical - vertical // TAPS) * outputs),
        OperationLine("horizontal pass products", "mul", (widths.column_bits, widths.coef_bits),
                      horizontal * outputs),
        OperationLine("horizontal pass sum and rounding", "add", (widths.sum_bits,),
                      TAPS * outputs),
        OperationLine("clamp to uint8", "add", (widths.sum_bits - widths.shift,), 2 * outputs),
    )
    return BicubicCycles(stage=stage, pipeline_depth=depth,
                         cycles_per_input_pixel=per_row / width, frame_cycles=per_row * height,
                         latency_cycles=timeline((stage,), 1, pipeline_depth=depth)["first_output"],
                         channels=channels, scale=r, multipliers=vertical + horizontal,
                         traffic_per_plane=traffic, operations_per_plane=operations)
