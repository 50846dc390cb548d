"""HKLUT engine: memory traffic and an energy estimate per output pixel, against the physical minimum.

Counts come from the performance record of the traffic model
(``edgeforge.sim.cycles.hklut``: ``predict(...).performance(1)``, one line per
memory); figures from ``edgeforge.bench.energy``. The counts are measured:
``tests/hw/test_hklut_cycles.py`` (``test_timeline_and_traffic_match_the_rtl``,
``test_stalls_add_no_memory_access``) runs the engine in Amaranth's simulator
(seven configs from (1,1),1 to (4,16),16, two or three small frames back to back,
and one under random pauses) with ``edgeforge.sim.memory_probe.MemoryProbe``,
which counts the cycles each memory port's enable is high, and holds every
memory's reads, writes and word width equal to the model's. A read is one port's
cycle, of one word: each lane of a table bank counts, and a line-buffer word holds
the pixels of one beat.

The estimate is of the one-read-per-table config (R = 1, one pixel a beat).
Other configs make the same table and re-order accesses; with more than one pixel
a beat into a stage, its line buffer makes fewer accesses of wider words. The
rows next to the top and bottom read fewer row memories (reflect maps window rows
onto rows already read), so line-buffer reads per pixel depend a little on the
frame height. All tables stay on chip, so off-chip traffic is the physical
minimum for x4: 1 byte in and 16 bytes out per LR pixel and channel.

Command: ``python -m edgeforge.bench.hklut_energy [--width 480 --height 270]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgeforge import jsonfile
from edgeforge.bench.energy import SOURCE, EnergyLine, dram_pj, sram_read_pj
from edgeforge.hw.line_window import SLOTS
from edgeforge.schemes.hklut import PIXEL_BITS, HKLUTConfig
from edgeforge.sim.cycles.hklut import predict

# Memory names of the traffic lines (sim/cycles/hklut.py).
LUT, LINE_BUFFER, REORDER = "lut ", "line buffer ", "reorder "
RESULTS = Path(__file__).resolve().parent / "results"
# Published LUT-SR hardware for context (shared/notes/energy.md, from a secondary summary).
ISRLUT = {"name": "ISRLUT (Lu et al., TRETS 2025), ZCU102 @ 100 MHz", "mpixel_s": 245,
          "power_w": 1.79, "tables_kb": 36.9}


def _per_pixel(count, pixels: int):
    """A per-image count per LR pixel; an exact quotient keeps the count's type (a whole
    number of accesses per pixel stays one)."""
    return count // pixels if count % pixels == 0 else count / pixels


def estimate(config: HKLUTConfig, width: int, height: int) -> dict:
    cycles = predict(config, width=width, height=height, reads_per_table=(1,) * len(config.stages))
    # One image of one channel: the record's per-image counts over its width * height pixels.
    perf = cycles.performance(1)
    pixels = width * height
    offchip_in = _per_pixel(perf.offchip_bytes_in, pixels)
    offchip_out = _per_pixel(perf.offchip_bytes_out, pixels)
    specs = config.array_specs()
    lines = [EnergyLine("off-chip bytes in (DRAM)", offchip_in, dram_pj(1)),
             EnergyLine("off-chip bytes out (DRAM)", offchip_out, dram_pj(1))]
    by_size: dict[tuple[int, int], int] = {}
    adds = 0
    for t in perf.traffic:
        if t.memory.startswith(LUT):
            entries, r, _ = specs[t.memory[len(LUT):]].shape
            key = (entries * t.word_bits // 8, t.word_bits)
            by_size[key] = by_size.get(key, 0) + t.reads
            adds += t.reads * r * r             # each read word's r*r entries go into sums
    for (nbytes, word), count in sorted(by_size.items()):
        lines.append(EnergyLine(f"LUT reads, {nbytes} B table, {word}-bit word",
                                _per_pixel(count, pixels), sram_read_pj(nbytes, word)))
    # Buffer words are as wide as the generator stores them (8-bit pixels, or (q, rem)
    # between stages); cost each as an array of SLOTS rows (a line buffer's) of the widest
    # row the engine buffers (the last stage's output row).
    widest = max(st.width for st in cycles.stages) * config.stages[-1]
    for what, prefix in (("line-buffer", LINE_BUFFER), ("re-order", REORDER)):
        for kind in ("writes", "reads"):
            by_bits: dict[int, float] = {}
            for t in perf.traffic:
                if t.memory.startswith(prefix):
                    by_bits[t.word_bits] = by_bits.get(t.word_bits, 0.0) + getattr(t, kind)
            for word, count in sorted(by_bits.items()):
                lines.append(EnergyLine(f"{what} {kind}, {word}-bit word",
                                        _per_pixel(count, pixels),
                                        sram_read_pj(SLOTS * widest * word // 8, word)))
    lines.append(EnergyLine("8-bit adds (table entries into sums)", _per_pixel(adds, pixels),
                            0.03))
    on_chip = sum(line.pj for line in lines[2:])
    off_chip = lines[0].pj + lines[1].pj
    out_pixels = config.scale ** 2
    return {"config": config.to_dict(), "width": width, "height": height, "source": SOURCE,
            "lines": [line.to_dict() for line in lines],
            "pj_per_lr_pixel": {"off_chip": off_chip, "on_chip": on_chip,
                                "total": off_chip + on_chip},
            "pj_per_output_pixel": {"off_chip": off_chip / out_pixels,
                                    "on_chip": on_chip / out_pixels,
                                    "total": (off_chip + on_chip) / out_pixels},
            "physical_minimum_offchip_bytes": {"in": 1, "out": out_pixels},
            "offchip_bytes": {"in": offchip_in, "out": offchip_out},
            "buffer_rows_assumed": SLOTS, "buffer_row_pixels_assumed": widest, "context": ISRLUT,
            "pixel_bits": PIXEL_BITS}


def render_markdown(result: dict, command: str) -> str:
    rows = "\n".join(f"| {l['what']} | {l['count']:g} | {l['pj_each']:.3g} | {l['pj']:.1f} |"
                     for l in result["lines"])
    per_lr, per_out = result["pj_per_lr_pixel"], result["pj_per_output_pixel"]
    ctx = result["context"]
    return f"""# HKLUT engine: memory traffic and energy per pixel

Command: `{command}`

Per LR pixel of one channel, HKLUT-S x4, one read per table a cycle (R = 1), frame
{result['width']}x{result['height']}; counts measured in simulation (`tests/hw/test_hklut_cycles.py`).
Figures: {result['source']}; reads narrower than 64 bits are
scaled linearly from the 64-bit figure (an approximation); buffers are costed as arrays of
{result['buffer_rows_assumed']} rows of {result['buffer_row_pixels_assumed']} words (the widest row in the engine), each word as
wide as the engine stores it.

Off-chip traffic: {result['offchip_bytes']['in']} B in, {result['offchip_bytes']['out']} B out
per LR pixel = the physical minimum for x4 ({result['physical_minimum_offchip_bytes']['in']} B in,
{result['physical_minimum_offchip_bytes']['out']} B out): every table is on chip and there is no
frame buffer.

| access | count per LR pixel | pJ each | pJ |
|---|---:|---:|---:|
{rows}

| | per LR pixel | per output pixel |
|---|---:|---:|
| off-chip (DRAM) | {per_lr['off_chip']:.0f} pJ | {per_out['off_chip']:.1f} pJ |
| on-chip | {per_lr['on_chip']:.0f} pJ | {per_out['on_chip']:.1f} pJ |
| total | {per_lr['total']:.0f} pJ | {per_out['total']:.1f} pJ |

Context: {ctx['name']}: {ctx['mpixel_s']} Mpixel/s out at {ctx['power_w']} W, i.e.
{ctx['power_w'] / (ctx['mpixel_s'] * 1e6) * 1e12:.0f} pJ per output pixel for the whole board
(measured power, not an access count: not comparable term by term), {ctx['tables_kb']} KB of tables.
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m edgeforge.bench.hklut_energy")
    ap.add_argument("--width", type=int, default=480)
    ap.add_argument("--height", type=int, default=270)
    args = ap.parse_args(argv)
    result = estimate(HKLUTConfig(), args.width, args.height)
    command = "python -m edgeforge.bench.hklut_energy " + " ".join(
        sys.argv[1:] if argv is None else argv)
    RESULTS.mkdir(exist_ok=True)
    jsonfile.write(RESULTS / "hklut_energy.json", result, indent=2)
    (RESULTS / "hklut_energy.md").write_text(render_markdown(result, command.strip()))
    print(render_markdown(result, command.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
