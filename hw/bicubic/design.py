"""``BicubicDesign``: a bicubic artifact plus a hardware config, as one :class:`~edgeforge.design.Design`.

Hardware config: input frame ``width`` x ``height``, ``out_pixels`` (output pixels per
beat), ``channels`` (1 grey, 3 RGB planes streamed one after another), ``buffer_ram``
and ``axis`` (AXI4-Stream video ports), with the HKLUT design's meanings.
"""

from __future__ import annotations

import numpy as np

from edgeforge.design import Design
from edgeforge.schemes.bicubic import A, PIXEL_BITS, BicubicConfig
from edgeforge.sim.cycles.bicubic import BicubicCycles, predict
from edgeforge.sim.cycles.record import Performance
from edgeforge.sim.golden.bicubic import upscale

from ..axis_video import AXISVideo
from ..image_frames import ImageFrames
from ..line_window import SLOTS
from .engine import BORDER, BicubicEngine, buffer_bits
from .taps import column_groups, pipeline_depth

__all__ = ["BicubicDesign"]


class BicubicDesign(ImageFrames, Design):
    """The bicubic streaming engine for one artifact and hardware config.

    Parameters
    ----------
    artifact : Artifact
        Scheme ``"bicubic"``.
    width, height : int
        Input frame size (3 .. 4096 each).
    out_pixels : int
        Output pixels per beat (1, 2 or 4; the engine makes one a cycle).
    channels : int
        1 (grey ``(H, W)`` inputs) or 3 (RGB ``(H, W, 3)``, streamed plane by plane).
    buffer_ram : str
        ``"auto"``, ``"block"`` or ``"lut"``: memory kind of the buffers.
    axis : bool
        AXI4-Stream video ports (:class:`~edgeforge.hw.axis_video.AXISVideo`) instead of
        ``i``/``o``; not run by :meth:`verify`.

    Raises
    ------
    ValueError
        For a config the engine cannot build (:class:`~.engine.BicubicEngine`), a channel
        count other than 1 or 3, or ``verify`` on an ``axis`` design.
    TypeError
        For an ``axis`` that is not a bool.
    """

    scheme = "bicubic"

    def __init__(self, artifact, *, width: int, height: int, out_pixels: int = 1,
                 channels: int = 1, buffer_ram: str = "auto", axis: bool = False):
        cfg = BicubicConfig.from_dict(artifact.config)
        BicubicEngine.check_config(cfg, width=width, height=height, out_pixels=out_pixels,
                                   buffer_ram=buffer_ram)
        self.check_frames(channels, axis)
        super().__init__(artifact, {"width": width, "height": height, "out_pixels": out_pixels,
                                    "channels": channels, "buffer_ram": buffer_ram,
                                    "axis": axis})
        self.bicubic = cfg
        self._set_frames(width=width, height=height, channels=channels, out_pixels=out_pixels,
                         buffer_ram=buffer_ram, axis=axis, scale=cfg.scale)

    @property
    def slug(self) -> str:
        buffers = "" if self.buffer_ram == "auto" else f"_{self.buffer_ram}ram"
        return (f"x{self.scale}f{self.bicubic.coef_bits}_w{self.width}h{self.height}"
                f"_p{self.out_pixels}_c{self.channels}{buffers}{'_axis' if self.axis else ''}")

    def memory_bits(self) -> dict[str, int]:
        """Bits of memory the design holds: no tables (the coefficients are constants in
        logic), the line and re-order buffers."""
        return {"tables": 0, "buffers": buffer_bits(self.bicubic, self.width)}

    def build(self) -> BicubicEngine | AXISVideo:
        engine = BicubicEngine(self.bicubic, width=self.width, height=self.height,
                               out_pixels=self.out_pixels, buffer_ram=self.buffer_ram)
        return AXISVideo(engine, **self.video_geometry()) if self.axis else engine

    def golden(self, x: np.ndarray) -> np.ndarray:
        return upscale(self.bicubic, self._check_input(x))

    def describe(self) -> dict:
        widths = self.bicubic.widths()
        streams = {
            "i": {"payload_bits": PIXEL_BITS,
                  "layout": "one 8-bit input pixel per beat, raster order, channel planes one "
                            "after another"},
            "o": {"payload_bits": PIXEL_BITS * self.out_pixels,
                  "layout": f"{self.out_pixels} adjacent output pixels of one row per beat, "
                            f"pixel k in bits [8k+7:8k], raster order"},
        }
        if self.axis:
            g = self.video_geometry()
            streams = {"s_axis_video": {**streams["i"], "beats_per_line": g["in_beats_per_line"],
                                        "lines_per_frame": g["in_lines"]},
                       "m_axis_video": {**streams["o"], "beats_per_line": g["out_beats_per_line"],
                                        "lines_per_frame": g["out_lines"]}}
        return {
            "streams": streams,
            "arithmetic": {
                "kernel": f"Keys cubic, a = {float(A)} (Pillow BICUBIC)",
                "positions": "half-pixel centres: output r i + p samples i + (2p + 1 - r) / (2r)",
                "coefficients": [list(c) for c in self.bicubic.coefficients()],
                "coefficient_fraction_bits": self.bicubic.coef_bits,
                "tap_offsets": list(self.bicubic.offsets()),
                "separable": "vertical then horizontal at full precision (the 4x4 tap sum of "
                             "c_y c_x x); column sums of window columns -2..2 per phase x: "
                             + str([list(g) for g in column_groups(self.scale)]),
                "rounding": f"floor((S + 2^{widths.shift - 1}) / 2^{widths.shift}), clamped "
                            f"to 0..255",
                "border": BORDER},
            "widths": {"coef_bits": widths.coef_bits, "column_bits": widths.column_bits,
                       "sum_bits": widths.sum_bits, "shift": widths.shift},
            "structure": {"line_buffer_slots": SLOTS,
                          "tap_pipeline_depth": pipeline_depth(self.scale),
                          "multipliers": self.cycles().multipliers},
        }

    def cycles(self) -> BicubicCycles:
        """The cycle, traffic and operation model of this config (``edgeforge.sim.cycles.bicubic``)."""
        return predict(self.bicubic, width=self.width, height=self.height,
                       out_pixels=self.out_pixels, channels=self.channels)

    def cycle_model(self) -> Performance:
        return self.cycles().performance()
