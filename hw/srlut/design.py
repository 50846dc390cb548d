"""``SRLUTDesign``: an SR-LUT-S/F artifact plus a hardware config, as one :class:`~edgeforge.design.Design`.

Hardware config: LR frame ``width`` x ``height`` (one grey channel), ``out_pixels``
per output beat, ``table`` (``onchip`` ROM or ``external`` read port) and, for an
external table, ``memory_latency``: the cycles the memory takes to answer,
which the cycle model assumes and :meth:`verify`'s memory model keeps without
pauses (with pauses it adds random latency and stalls requests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from edgeforge.design import Design
from edgeforge.schemes.hklut import PIXEL_BITS, TABLE_BITS
from edgeforge.schemes.srlut import SRLUTConfig
from edgeforge.sim.cycles.record import Performance
from edgeforge.sim.cycles.srlut import SRLUTCycles, predict
from edgeforge.sim.golden.srlut import upscale

from ..line_window import SLOTS
from ..logic import check_count
from .engine import SRLUTEngine, table_words

__all__ = ["SRLUTDesign", "MAX_MEMORY_LATENCY", "MEMORY_JITTER", "MEMORY_P_READY"]

#: With pauses, verify's memory answers up to this many cycles late and takes a request
#: on this share of cycles.
MEMORY_JITTER, MEMORY_P_READY = 6, 0.7


#: The longest external-table latency a design accepts, in cycles: the cycle model, the
#: testbench's memory model and ``verify`` run that long a read (a latency of 10**12 would
#: simulate for ever).
MAX_MEMORY_LATENCY = 1024


class SRLUTDesign(Design):
    """The SR-LUT engine (:class:`~.engine.SRLUTEngine`) for one artifact and hardware config.

    Raises
    ------
    ValueError
        For a config the engine cannot build, or a ``memory_latency`` outside 1 ..
        :data:`MAX_MEMORY_LATENCY`.
    """

    scheme = "srlut"

    def __init__(self, artifact, *, width: int, height: int, out_pixels: int = 1,
                 table: str = "external", memory_latency: int = 4, buffer_ram: str = "auto"):
        cfg = SRLUTConfig.from_dict(artifact.config)
        check_count("memory_latency", memory_latency)
        if memory_latency > MAX_MEMORY_LATENCY:
            raise ValueError(f"memory_latency must be at most {MAX_MEMORY_LATENCY} cycles (a "
                             f"DRAM's is tens to hundreds), got {memory_latency!r}")
        if table == "onchip":
            memory_latency = 1            # the ROM answers the next cycle
        SRLUTEngine.check_config(cfg, width=width, height=height, out_pixels=out_pixels,
                                 table=table, buffer_ram=buffer_ram)
        super().__init__(artifact, {"width": width, "height": height, "out_pixels": out_pixels,
                                    "table": table, "memory_latency": memory_latency,
                                    "buffer_ram": buffer_ram})
        self.sr_config = cfg
        self.width, self.height, self.out_pixels = width, height, out_pixels
        self.table, self.memory_latency, self.buffer_ram = table, memory_latency, buffer_ram

    @property
    def slug(self) -> str:
        place = f"ext{self.memory_latency}" if self.table == "external" else "onchip"
        return f"w{self.width}h{self.height}_p{self.out_pixels}_{place}"

    def build(self) -> SRLUTEngine:
        return SRLUTEngine(self.artifact.arrays, self.sr_config, width=self.width,
                           height=self.height, out_pixels=self.out_pixels, table=self.table,
                           buffer_ram=self.buffer_ram)

    def memory_bits(self) -> dict[str, int]:
        """Bits of memory, known before the build: the on-chip table (0 with an external one),
        the line and re-order buffers (``SLOTS`` LR rows of 8-bit pixels, two block rows of
        ``r`` HR rows), and the table bits held off chip."""
        r = self.sr_config.stages[0]
        table = self.sr_config.entries * r * r * TABLE_BITS
        buffers = SLOTS * self.width * PIXEL_BITS + 2 * r * self.width * r * PIXEL_BITS
        return {"tables": table if self.table == "onchip" else 0, "buffers": buffers,
                "offchip_tables": table if self.table == "external" else 0}

    def _check_input(self, x) -> np.ndarray:
        shape = (self.height, self.width)
        if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.shape != shape:
            got = (x.dtype, x.shape) if isinstance(x, np.ndarray) else type(x).__name__
            raise ValueError(f"input must be a uint8 array of shape {shape!r}, got {got!r}")
        return x

    def golden(self, x: np.ndarray) -> np.ndarray:
        return upscale(self.artifact, self._check_input(x), simplex="fixed")

    def encode_inputs(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate([self._check_input(x).reshape(-1) for x in xs]).reshape(-1, 1)

    def encode_outputs(self, ys: Sequence[np.ndarray]) -> np.ndarray:
        flat = np.concatenate([np.asarray(y, np.uint8).reshape(-1) for y in ys])
        return flat.reshape(-1, self.out_pixels)

    def test_inputs(self, seed: int = 0) -> list[np.ndarray]:
        """Flat 0 and 255, a checkerboard, a ramp and seeded random frames."""
        h, w = self.height, self.width
        yy, xx = np.indices((h, w))
        rng = np.random.default_rng(seed)
        return [np.zeros((h, w), np.uint8), np.full((h, w), 255, np.uint8),
                (((yy + xx) % 2) * 255).astype(np.uint8),
                ((xx * 255) // max(1, w - 1)).astype(np.uint8),
                rng.integers(0, 256, (h, w), dtype=np.uint8)]

    def testbench_env(self, work: Path) -> dict[str, str]:
        if self.table != "external":
            return {}
        r = self.sr_config.stages[0]
        words = table_words(self.artifact.arrays[f"s0_{self.sr_config.kernels}"])
        raw = np.array([list(w.to_bytes(r * r, "little")) for w in words], np.uint8)
        work.mkdir(parents=True, exist_ok=True)
        path = work / f"memory_{self.artifact.short_hash}.npz"
        np.savez(path, words=raw, latency=self.memory_latency, jitter=MEMORY_JITTER,
                 p_ready=MEMORY_P_READY)
        return {"EDGEFORGE_MEMORY": str(path.resolve())}

    def describe(self) -> dict:
        c, r = self.sr_config, self.sr_config.stages[0]
        streams = {"i": {"payload_bits": PIXEL_BITS,
                         "layout": "one 8-bit input pixel per beat, raster order"},
                   "o": {"payload_bits": PIXEL_BITS * self.out_pixels,
                         "layout": f"{self.out_pixels} adjacent output pixels of one row per "
                                   f"beat, pixel k in bits [8k+7:8k], raster order"}}
        if self.table == "external":
            streams["mem_addr"] = {"payload_bits": (c.entries - 1).bit_length(),
                                   "layout": f"table row number 0..{c.entries - 1}"}
            streams["mem_data"] = {"payload_bits": TABLE_BITS * r * r,
                                   "layout": "the row's r*r int8 entries, element e (row-major) "
                                             "in bits [8e+7:8e], in request order; always "
                                             "taken (ready high)"}
        cycles = self.cycles()
        return {"streams": streams,
                "structure": {"reads_per_anchor": cycles.reads_per_anchor,
                              "multipliers": cycles.multipliers,
                              "table": self.table, "memory_latency": self.memory_latency}}

    def cycles(self) -> SRLUTCycles:
        return predict(self.sr_config, width=self.width, height=self.height,
                       out_pixels=self.out_pixels, latency=self.memory_latency,
                       offchip_table=self.table == "external")

    def cycle_model(self) -> Performance:
        return self.cycles().performance()
