"""``HKLUTDesign``: an HKLUT artifact plus a hardware config, as one :class:`~edgeforge.design.Design`.

Hardware config: input frame ``width`` x ``height``, ``reads_per_table`` (one
count per stage: reads per table per cycle, 1, 2 or 4, and for later stages 8 or
16), ``out_pixels`` (output pixels per beat), ``channels`` (1 grey, 3 RGB: planes
streamed one after another through the same engine, or with ``rgb_lanes`` the three
channels of a pixel in one beat, each through its own engine), ``buffer_ram`` (memory kind of the
line and re-order buffers) and ``axis`` (AXI4-Stream video ports,
:class:`~edgeforge.hw.axis_video.AXISVideo`, instead of ``i``/``o``).
"""

from __future__ import annotations

import numpy as np

from edgeforge.design import Design
from edgeforge.schemes.hklut import PIXEL_BITS, TABLE_BITS, HKLUTConfig
from edgeforge.sim.cycles.hklut import HKLUTCycles, predict
from edgeforge.sim.cycles.record import Performance
from edgeforge.sim.golden.hklut import upscale

from ..axis_video import AXISVideo
from ..image_frames import ImageFrames
from ..lanes import ParallelLanes
from ..line_window import SLOTS
from ..rom import PORTS_PER_COPY
from .combine import pixel_layout
from .engine import HKLUTEngine, buffer_bits
from .lookup import PIPELINE_DEPTH

__all__ = ["HKLUTDesign"]


class HKLUTDesign(ImageFrames, Design):
    """The HKLUT streaming engine for one artifact and hardware config.

    Parameters
    ----------
    artifact : Artifact
        Scheme ``"hklut"``.
    width, height : int
        Input frame size (at least 3 each).
    reads_per_table : tuple of int
        Reads per table per cycle, one per stage: 1, 2 or 4, later stages also 8 or 16
        (:class:`~.engine.HKLUTEngine`).
    out_pixels : int
        Output pixels per beat.
    channels : int
        1 (grey ``(H, W)`` inputs) or 3 (RGB ``(H, W, 3)``, streamed plane by plane).
    rgb_lanes : bool
        With ``channels=3``: a beat carries R, G and B of a pixel (pixel ``k``, channel
        ``c`` at bits ``8 (3 k + c)``), and three engines
        (:class:`~edgeforge.hw.lanes.ParallelLanes`), each with its own tables, process
        the channels at once: three times the area, a third of the cycles per image.
    buffer_ram : str
        ``"auto"`` (buffers up to 512 words deep in LUT RAM, deeper ones in block
        RAM), ``"block"`` or ``"lut"`` (all buffers in that kind): a synthesis hint,
        the behaviour is the same (:data:`~edgeforge.hw.logic.BUFFER_RAM`).
    axis : bool
        Wrap the engine in :class:`~edgeforge.hw.axis_video.AXISVideo`: ports
        ``s_axis_video_*`` / ``m_axis_video_*`` with ``tuser`` on the first beat
        of each channel plane and ``tlast`` on the last beat of each line, and a
        sticky ``frame_error``. Such a design is not run by :meth:`verify`,
        whose testbench drives ``i``/``o``.

    Raises
    ------
    ValueError
        For a config the engine cannot build (see :class:`~.engine.HKLUTEngine`),
        a channel count other than 1 or 3, ``rgb_lanes`` without 3 channels, or
        ``verify`` on an ``axis`` design.
    TypeError
        For an ``axis`` or ``rgb_lanes`` that is not a bool.
    """

    scheme = "hklut"

    def __init__(self, artifact, *, width: int, height: int, reads_per_table=None,
                 out_pixels: int = 1, channels: int = 1, rgb_lanes: bool = False,
                 buffer_ram: str = "auto", axis: bool = False):
        artifact = self.own(artifact)
        cfg = HKLUTConfig.from_dict(artifact.config)
        reads_per_table = HKLUTEngine.check_config(cfg, width=width, height=height,
                                                   reads_per_table=reads_per_table,
                                                   out_pixels=out_pixels, buffer_ram=buffer_ram)
        self.check_frames(channels, axis, rgb_lanes)
        super().__init__(artifact, {"width": width, "height": height,
                                    "reads_per_table": list(reads_per_table),
                                    "out_pixels": out_pixels, "channels": channels,
                                    "rgb_lanes": rgb_lanes, "buffer_ram": buffer_ram,
                                    "axis": axis})
        self.hk_config, self.reads_per_table = cfg, reads_per_table
        self._set_frames(width=width, height=height, channels=channels, out_pixels=out_pixels,
                         buffer_ram=buffer_ram, axis=axis, scale=cfg.scale, rgb_lanes=rgb_lanes)

    @property
    def slug(self) -> str:
        reads = "-".join(str(r) for r in self.reads_per_table)
        lanes = "_lanes" if self.rgb_lanes else ""
        buffers = "" if self.buffer_ram == "auto" else f"_{self.buffer_ram}ram"
        axis = "_axis" if self.axis else ""
        return (f"w{self.width}h{self.height}_r{reads}_p{self.out_pixels}_c{self.channels}"
                f"{lanes}{buffers}{axis}")

    def memory_bits(self) -> dict[str, int]:
        """Bits of memory the design holds, known before it is built (its size estimate).

        ``tables``: every table entry times the copies its stage's reads need
        (:class:`~edgeforge.hw.rom.RomBank`); ``buffers``: the line and re-order buffers
        (:func:`~.engine.buffer_bits`); both for all engines (``rgb_lanes``: three).
        """
        copies = [-(-reads // PORTS_PER_COPY) for reads in self.reads_per_table]
        tables = sum(kernel.entries * r * r * TABLE_BITS * copies[s]
                     for _, s, _, kernel, r in self.hk_config.tables())
        return {"tables": self.lanes * tables,
                "buffers": self.lanes * buffer_bits(self.hk_config, self.width)}

    def build(self) -> HKLUTEngine | ParallelLanes | AXISVideo:
        engines = [HKLUTEngine(self.artifact.arrays, self.hk_config, width=self.width,
                               height=self.height, reads_per_table=self.reads_per_table,
                               out_pixels=self.out_pixels, buffer_ram=self.buffer_ram)
                   for _ in range(self.lanes)]
        engine = ParallelLanes(engines) if self.rgb_lanes else engines[0]
        return AXISVideo(engine, **self.video_geometry()) if self.axis else engine

    # -- data (encoding: ImageFrames) -------------------------------------------
    def golden(self, x: np.ndarray) -> np.ndarray:
        return upscale(self.artifact, self._check_input(x), "exact")

    # -- manifest --------------------------------------------------------------
    def describe(self) -> dict:
        widths = self.hk_config.widths()
        pixel = pixel_layout(widths)
        if self.rgb_lanes:
            pixel_in = "one RGB input pixel per beat, channel c in bits [8c+7:8c], raster order"
            pixels_out = "RGB output pixels", "channel c of pixel k in bits [8(3k+c)+7:8(3k+c)]"
        else:
            pixel_in = ("one 8-bit input pixel per beat, raster order, "
                        "channel planes one after another")
            pixels_out = "output pixels", "pixel k in bits [8k+7:8k]"
        streams = {
            "i": {"payload_bits": PIXEL_BITS * self.lanes, "layout": pixel_in},
            "o": {"payload_bits": PIXEL_BITS * self.lanes * self.out_pixels,
                  "layout": f"{self.out_pixels} adjacent {pixels_out[0]} of one row per beat, "
                            f"{pixels_out[1]}, raster order"},
        }
        frame = "image" if self.rgb_lanes else "channel plane"
        if self.axis:
            g = self.video_geometry()
            streams = {
                "s_axis_video": {**streams["i"], "beats_per_line": g["in_beats_per_line"],
                                 "lines_per_frame": g["in_lines"],
                                 "tuser": f"expected on the first beat of each {frame}",
                                 "tlast": "expected on the last beat of each line",
                                 "frame_error": "sticky: set when an input beat's tuser or tlast "
                                                "differs from the count; cleared by rst"},
                "m_axis_video": {**streams["o"], "beats_per_line": g["out_beats_per_line"],
                                 "lines_per_frame": g["out_lines"],
                                 "tuser": f"first beat of each {frame}",
                                 "tlast": "last beat of each line"},
            }
        return {
            "streams": streams,
            "widths": {"denom": widths.denom, "w_msb": widths.w_msb, "w_lsb": widths.w_lsb,
                       "n_max": widths.n_max, "n_bits": widths.n_bits,
                       "n_sum_bits": widths.n_sum_bits,
                       "pixel_bits": {"q": PIXEL_BITS,
                                      "rem": pixel["rem"].shape.width}},
            "structure": {"stage_sizes": [[st.width, st.height] for st in
                                          predict(self.hk_config, width=self.width,
                                                  height=self.height,
                                                  reads_per_table=self.reads_per_table).stages],
                          "line_buffer_slots": SLOTS, "lookup_pipeline_depth": PIPELINE_DEPTH,
                          "engines": self.lanes, "frames_per_image": self.planes_per_image},
        }

    def cycles(self) -> HKLUTCycles:
        """The cycle and traffic model of this config (``edgeforge.sim.cycles.hklut``)."""
        return predict(self.hk_config, width=self.width, height=self.height,
                       reads_per_table=self.reads_per_table, out_pixels=self.out_pixels,
                       channels=self.channels)

    def cycle_model(self) -> Performance:
        return self.cycles().performance(self.planes_per_image)
