"""Narrow products cost fewer LUTs: one dense linear layer at 2..8-bit weights and activations.

Each config is one network, ``input (1 x 8 x 8, a bits) -> flatten -> linear 64 -> 8
(w-bit weights, 8-bit logits) -> argmax``, seeded random weights
(``random_artifact``), folding ``(PE, SIMD) = (4, 16)``: 64 MAC lanes, each an
``a x w``-bit product. Every config is verified bit-exact against the golden model
(cocotb + Verilator, with random backpressure) and synthesised for ``generic`` and
``ice40``; the table gives LUT4 (iCE40 ``SB_LUT4``) and flip-flops, and LUT4 per MAC lane.
These per-lane figures calibrate :data:`edgeforge.hw.network.plan.LANE_LUT4`.

Run: ``.venv/bin/python -m edgeforge.bench.network_widths`` (writes
bench/results/network_widths.json and .md).
"""

from __future__ import annotations

import argparse

from .harness import RESULTS, measure, publish

COMMAND = ".venv/bin/python -m edgeforge.bench.network_widths"
ENGINE_PATHS = ("hw/network", "edgeforge/schemes/network.py")
#: (weight bits, activation bits): equal widths 8..2, then narrow weights on 8-bit pixels.
WIDTHS = ((8, 8), (6, 6), (4, 4), (3, 3), (2, 2), (4, 8), (2, 8))
FOLDING = [(4, 16)]
LANES = 4 * 16


def config(weight_bits: int, act_bits: int) -> dict:
    return {"input": {"channels": 1, "height": 8, "width": 8, "bits": act_bits},
            "layers": [{"kind": "flatten"},
                       {"kind": "linear", "transform": "dense", "in_features": 64,
                        "out_features": 8, "weight_bits": weight_bits, "bias_bits": 16,
                        "shift": 0, "out_bits": 8},
                       {"kind": "argmax"}]}


def measure_widths(weight_bits: int, act_bits: int, *, progress: bool = True) -> dict:
    import numpy as np

    import edgeforge
    from edgeforge.schemes.network import random_artifact
    art = random_artifact(config(weight_bits, act_bits), seed=weight_bits * 16 + act_bits)
    design = edgeforge.generate(art, folding=FOLDING, pixels_per_beat=64)
    hi = (1 << act_bits) - 1
    rng = np.random.default_rng(0)
    inputs = design.test_inputs()[:3] + [rng.integers(0, hi + 1, (1, 8, 8)).astype(np.uint8)
                                         for _ in range(8)]
    inputs = [np.minimum(x, hi).astype(np.uint8) for x in inputs]
    record = measure(design, inputs, command=COMMAND, engine_paths=ENGINE_PATHS,
                     targets=("generic", "ice40"), progress=progress)
    record["widths"] = {"weight_bits": weight_bits, "act_bits": act_bits, "lanes": LANES}
    return record


def over(resources: dict) -> str:
    return ", ".join(f"{k} {u}/{n}" for k, (u, n) in sorted(resources.items())) or "fits"


def render(results: dict) -> str:
    lines = ["# Network widths: a 64-lane dense layer by product width", "",
             f"Command: `{results['command']}` (engine {results['records'][0]['engine_commit']})",
             "", "One linear layer 64 -> 8 at (PE, SIMD) = (4, 16): 64 MAC lanes of a w x a-bit "
             "product. Every row verified bit-exact against the golden model (Verilator, with "
             "and without random backpressure). iCE40 UP5K: yosys maps the wider products to "
             "SB_MAC16 (DSP; the UP5K has 8); the narrow ones are LUT4 alone. No row fits the "
             "UP5K's 39 I/O: 64 pixels a beat make a port of 64 a bits (the bench feeds the "
             "whole vector a cycle so that the lanes, not the input, set the size). Generic: yosys gate cells (no DSP inference), the like-for-like "
             "figure across widths.", "",
             "| weights w | activations a | verified | generic cells | iCE40 LUT4 | iCE40 DSP | "
             "iCE40 FF | LUT4 / lane | over UP5K (used, available) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results["records"]:
        w = r["widths"]
        ice = r["cost"]["ice40"]["resources"]
        gen = sum(v for k, v in r["cost"]["generic"]["resources"].items())
        lines.append(f"| {w['weight_bits']} | {w['act_bits']} | "
                     f"{'bit-exact' if r['verify']['passed'] else 'FAILED'} | {gen} | "
                     f"{ice.get('lut4', 0)} | {ice.get('dsp', 0)} | {ice.get('ff', 0)} | "
                     f"{ice.get('lut4', 0) / w['lanes']:.1f} | "
                     f"{over(r['cost']['ice40']['over'])} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    records = [measure_widths(w, a, progress=not args.quiet) for w, a in WIDTHS]
    publish(RESULTS, "network_widths", {"command": COMMAND, "records": records}, render)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
