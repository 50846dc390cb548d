"""HKLUT engine: memory traffic and an energy estimate per output pixel, against the physical minimum.

Counts come from the cycle/traffic model (``edgeforge.sim.cycles.hklut``, checked
cycle-exact against the RTL); figures from ``edgeforge.bench.energy``. Every
config of the engine makes the same accesses per pixel (the parallelism knobs
change how many happen per cycle, not how many there are), and all tables stay
on chip, so off-chip traffic is the physical minimum for x4: 1 byte in and 16
bytes out per LR pixel and channel.

Command: ``python -m edgeforge.bench.hklut_energy [--width 480 --height 270]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgeforge import jsonfile
from edgeforge.bench.energy import SOURCE, EnergyLine, dram_pj, sram_read_pj
from edgeforge.hw.hklut.linebuffer import SLOTS
from edgeforge.schemes.hklut import PIXEL_BITS, HKLUTConfig
from edgeforge.sim.cycles.hklut import predict

RESULTS = Path(__file__).resolve().parent / "results"
# Published LUT-SR hardware for context (shared/notes/energy.md, from a secondary summary).
ISRLUT = {"name": "ISRLUT (Lu et al., TRETS 2025), ZCU102 @ 100 MHz", "mpixel_s": 245,
          "power_w": 1.79, "tables_kb": 36.9}


def estimate(config: HKLUTConfig, width: int, height: int) -> dict:
    cycles = predict(config, width=width, height=height, reads_per_table=(1,) * len(config.stages))
    traffic = cycles.traffic_per_input_pixel
    specs = config.array_specs()
    lines = [EnergyLine("off-chip bytes in (DRAM)", traffic["offchip_bytes_in"], dram_pj(1)),
             EnergyLine("off-chip bytes out (DRAM)", traffic["offchip_bytes_out"], dram_pj(1))]
    by_size: dict[tuple[int, int], float] = {}
    for name, spec in specs.items():
        entries, r, _ = spec.shape
        key = (entries * r * r * spec.bits // 8, r * r * spec.bits)
        by_size[key] = by_size.get(key, 0) + traffic["lut_reads"][name]
    for (nbytes, word), count in sorted(by_size.items()):
        lines.append(EnergyLine(f"LUT reads, {nbytes} B table, {word}-bit word", count,
                                sram_read_pj(nbytes, word)))
    # Buffer words are as wide as the generator stores them (8-bit pixels, or (q, rem)
    # between stages); cost each as an array of SLOTS rows (a line buffer's) of the widest
    # row the engine buffers (the last stage's output row).
    widest = max(st.width for st in cycles.stages) * config.stages[-1]
    for what, key in (("line-buffer writes", "line_buffer_writes"),
                      ("line-buffer reads", "line_buffer_reads"),
                      ("re-order writes", "reorder_writes"), ("re-order reads", "reorder_reads")):
        for bits, count in sorted(traffic[f"{key}_by_bits"].items(), key=lambda kv: int(kv[0])):
            word = int(bits)
            lines.append(EnergyLine(f"{what}, {word}-bit word", count,
                                    sram_read_pj(SLOTS * widest * word // 8, word)))
    adds = sum(traffic["lut_reads"][name] * spec.shape[1] ** 2 for name, spec in specs.items())
    lines.append(EnergyLine("8-bit adds (table entries into sums)", adds, 0.03))
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
            "offchip_bytes": {"in": traffic["offchip_bytes_in"],
                              "out": traffic["offchip_bytes_out"]},
            "buffer_rows_assumed": SLOTS, "buffer_row_pixels_assumed": widest, "context": ISRLUT,
            "pixel_bits": PIXEL_BITS}


def render_markdown(result: dict, command: str) -> str:
    rows = "\n".join(f"| {l['what']} | {l['count']:g} | {l['pj_each']:.3g} | {l['pj']:.1f} |"
                     for l in result["lines"])
    per_lr, per_out = result["pj_per_lr_pixel"], result["pj_per_output_pixel"]
    ctx = result["context"]
    return f"""# HKLUT engine: memory traffic and energy per pixel

Command: `{command}`

Per LR pixel of one channel, HKLUT-S x4 (every R/P config makes the same accesses), frame
{result['width']}x{result['height']}. Figures: {result['source']}; reads narrower than 64 bits are
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
