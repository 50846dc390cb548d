"""HKLUT vs its LUT-SR peers, on one footing: quality, table storage, off-chip traffic,
multiplications and cycles per HR pixel (x4, one channel).

Rows:

- HKLUT-S x4: the shipped artifact (``models/hklut/pretrained``); cycles from its
  cycle model (``sim/cycles/hklut.py``, exact against the RTL by its own tests),
  one read per table per stage.
- SR-LUT-S x4 and SR-LUT-F x4 trained here (a short seeded CPU run on the
  built-in photos, ``models/srlut/train.py``): S behind the external read port
  (memory latency ``--latency``), F with its 76.8 KiB table on chip. Cycles per
  HR pixel are measured on the engine in Amaranth's simulator (a small frame,
  no pauses, the bench's memory model answering after exactly the latency) and
  set beside the cycle model (``sim/cycles/srlut.py``).
- The authors' released SR-LUT-S/F and MuLUT ``sr_x2sdy`` tables, scored with the
  golden model, when their repositories are mirrored locally (never shipped).

PSNR/SSIM: Y channel, the built-in scikit-image test photos, bicubic x4 LR by
Pillow (``models/data.builtin_pairs``), golden ``fixed`` simplex (the hardware's).
Off-chip bytes per HR pixel: 1/16 in, 1 out, plus the table reads of an
external table; their DRAM energy at ``bench/energy.py``'s figure. One training
seed (42), a short run: the rule of 5 seeds is for the dense networks' accuracy.

With ``--cost`` the two SR-LUT engines (32 x 32 LR frames, seeded random tables:
area does not depend on the values of a table in block RAM or outside) are
synthesised and placed for the ECP5-25F (``Design.cost``, cached by design hash).

Command: ``python -m edgeforge.bench.srlut_hw [--iterations 300] [--latency 4] [--cost]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from edgeforge.bench.energy import dram_pj
from edgeforge.bench.harness import RESULTS, publish

SRLUT_MIRROR = Path("/work/.mirror/yhjo09+SR-LUT/repo")
MULUT_MIRROR = Path("/work/.mirror/ddlee-cn+MuLUT/repo")
SCALE = 4


def _score(art, golden_upscale) -> dict:
    from edgeforge.models.data import builtin_pairs
    from edgeforge.models.hklut.evaluate import bicubic_upscale
    from edgeforge.models.metrics import psnr_y, ssim_y
    pairs = builtin_pairs(SCALE, "test")
    psnr, ssim, bic = [], [], []
    for _, lr, hr in pairs:
        sr = golden_upscale(art, lr)
        psnr.append(psnr_y(sr, hr, SCALE))
        ssim.append(ssim_y(sr, hr))
        bic.append(psnr_y(bicubic_upscale(lr, SCALE), hr, SCALE))
    return {"psnr_db": round(float(np.mean(psnr)), 3), "ssim": round(float(np.mean(ssim)), 4),
            "bicubic_psnr_db": round(float(np.mean(bic)), 3), "images": len(pairs)}


def _srlut_golden(art, lr):
    from edgeforge.sim.golden.srlut import upscale
    return upscale(art, lr, simplex="fixed")


def _hklut_golden(art, lr):
    from edgeforge.sim.golden.hklut import upscale
    return upscale(art, lr, "exact")


def _offchip(table_bytes_per_px: float) -> dict:
    total = 1 / SCALE ** 2 + 1 + table_bytes_per_px
    return {"offchip_bytes_per_px": round(total, 4),
            "offchip_table_bytes_per_px": table_bytes_per_px,
            "offchip_pj_per_px": round(dram_pj(total), 2)}


def _measure_cycles(art, *, table: str, latency: int, width: int = 6, height: int = 4) -> dict:
    """Cycles per HR pixel of the engine in Amaranth's simulator, vs the cycle model."""
    from edgeforge.hw.srlut.engine import SRLUTEngine, table_words
    from edgeforge.schemes.srlut import SRLUTConfig
    from edgeforge.sim.amaranth_stream import run_stream
    from edgeforge.sim.cycles.srlut import predict
    from edgeforge.sim.golden.srlut import upscale
    from edgeforge.sim.srlut_memory import MemoryModel
    config = SRLUTConfig.from_dict(art.config)
    dut = SRLUTEngine(art.arrays, config, width=width, height=height, table=table)
    def last_output(count: int) -> int:
        frames = [np.random.default_rng(k).integers(0, 256, (height, width)).astype(np.uint8)
                  for k in range(count)]
        want = np.concatenate([upscale(art, f).ravel() for f in frames])
        mem = None
        procs = ()
        if table == "external":
            mem = MemoryModel(table_words(dut.table), dut.word_bits, latency=latency)
            procs = (mem.process(dut.mem_addr, dut.mem_data),)
        run = run_stream(dut, [int(v) for f in frames for v in f.ravel()], want.size,
                         processes=procs)
        assert np.array_equal(np.array(run.outputs, np.uint8), want), "engine output != golden"
        return run.last - 1, mem.reads if mem else None     # cycle 0 = first input transfer

    one, _ = last_output(1)
    two, reads = last_output(2)
    model = predict(config, width=width, height=height, latency=latency if table == "external"
                    else 1, offchip_table=table == "external")
    pixels = width * height * config.stages[0] ** 2
    return {"cycles_per_px_model": round(model.cycles_per_output, 4),
            # Steady state: what the second frame adds to the run, per HR pixel.
            "cycles_per_px_measured": round((two - one) / pixels, 4),
            "run_cycles_measured": two + 1, "run_cycles_model": model.run(2).total_cycles,
            "table_reads_measured": reads, "multipliers": model.multipliers}


def _cost(latency: int, say=print) -> list[dict]:
    """ECP5-25F area and Fmax of the SR-LUT-F (on chip) and SR-LUT-S (external) engines."""
    from edgeforge import generate
    from edgeforge.artifact import Artifact, check
    from edgeforge.schemes.srlut import SRLUTConfig
    out = []
    for kernels, table in (("f", "onchip"), ("s", "external")):
        config = SRLUTConfig(kernels, (SCALE,), 4)
        rng = np.random.default_rng(1)
        tables = {name: rng.integers(-127, 128, spec.shape, dtype=np.int8)
                  for name, spec in config.array_specs().items()}
        design = generate(check(Artifact("srlut", config.to_dict(), tables)), width=32,
                          height=32, table=table, memory_latency=latency)
        say(f"cost: {design.name}")
        (result,) = design.cost(("ecp5",), devices={"ecp5": "ecp5-25f"})
        out.append({"name": f"SR-LUT-{kernels.upper()} x4, table {table}", "design": design.name,
                    "device": result.device, "fits": result.fits, "fmax_mhz":
                    None if result.fmax_mhz is None else round(result.fmax_mhz, 1),
                    **{k: result.resources.get(k) for k in ("lut4", "ff", "bram", "dsp")}})
    return out


def run(iterations: int, latency: int, say=print, cost: bool = False) -> dict:
    import torch
    torch.set_num_threads(1)
    from edgeforge import load
    from edgeforge.models.hklut import PRETRAINED
    from edgeforge.models.srlut.train import TrainConfig, train
    from edgeforge.models.srlut.transfer import transfer
    from edgeforge.schemes.hklut import HKLUTConfig
    from edgeforge.schemes.srlut import SRLUTConfig
    from edgeforge.sim.cycles.hklut import predict as hklut_predict
    rows = []

    hk = load(PRETRAINED)
    hk_cycles = hklut_predict(HKLUTConfig.from_dict(hk.config), width=64, height=64,
                              reads_per_table=(1, 1)).performance(1)
    say("HKLUT-S x4: scoring")
    rows.append({"name": "HKLUT-S x4 (shipped)", "source": PRETRAINED.name,
                 "table_bytes": sum(hk.storage_bytes().values()),
                 "onchip_table_bits": 8 * sum(hk.storage_bytes().values()),
                 "offchip_table_bits": 0, **_offchip(0), "mults_per_px": 0,
                 "cycles_per_px_model": round(hk_cycles.cycles_per_output, 4),
                 **_score(hk, _hklut_golden)})

    for kernels, place in (("s", "external"), ("f", "onchip")):
        say(f"SR-LUT-{kernels.upper()} x4: training {iterations} iterations")
        t0 = time.time()
        net, info = train(TrainConfig(iterations=iterations), SRLUTConfig(kernels, (SCALE,), 4),
                          progress=False)
        art = transfer(net, provenance=info)
        nbytes = sum(art.storage_bytes().values())
        reads = 4 * (SRLUTConfig(kernels).pixels + 1)
        row = {"name": f"SR-LUT-{kernels.upper()} x4 (trained here, {iterations} it)",
               "source": f"seed 42, {info['train_seconds']} s", "table_bytes": nbytes,
               "onchip_table_bits": 8 * nbytes if place == "onchip" else 0,
               "offchip_table_bits": 8 * nbytes if place == "external" else 0,
               **_offchip(reads if place == "external" else 0), "mults_per_px": reads,
               **_score(art, _srlut_golden)}
        say(f"SR-LUT-{kernels.upper()} x4: engine cycles ({time.time() - t0:.0f} s so far)")
        row |= _measure_cycles(art, table=place, latency=latency)
        rows.append(row)

    authors = _authors_rows()
    say(f"authors' released tables: {len(authors)} scored" if authors else
        "authors' repositories not mirrored: their rows are left out")
    return {"command": "python -m edgeforge.bench.srlut_hw " + " ".join(sys.argv[1:]),
            "scale": SCALE, "memory_latency": latency, "rows": rows, "authors": authors,
            "cost": _cost(latency, say) if cost else [],
            "note": "PSNR/SSIM on the 4 built-in scikit-image test photos (Pillow bicubic LR), "
                    "golden fixed simplex; cycles per HR pixel one channel, no pauses"}


def _authors_rows() -> list[dict]:
    import subprocess
    import tempfile
    from edgeforge.models.srlut.importer import import_srlut
    out = []
    specs = [(SRLUT_MIRROR, ["3_Test_using_LUT/Model_S_x4_4bit_int8.npy"], "SR-LUT-S x4"),
             (SRLUT_MIRROR, ["3_Test_using_LUT/Model_F_x4_4bit_int8.npy"], "SR-LUT-F x4"),
             (MULUT_MIRROR, [f"models/sr_x2sdy/LUT_ft_x4_4bit_int8_s{s}_{k}.npy"
                             for s in (1, 2) for k in "sdy"], "MuLUT-SDY-X2 x4")]
    for mirror, paths, name in specs:
        if not mirror.is_dir():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            for p in paths:
                blob = subprocess.run(["git", f"--git-dir={mirror}", "show", f"HEAD:{p}"],
                                      capture_output=True, check=True).stdout
                (Path(tmp) / Path(p).name).write_bytes(blob)
            art = import_srlut(Path(tmp) / Path(paths[0]).name if len(paths) == 1 else tmp)
            out.append({"name": f"{name} (authors' tables)",
                        "table_bytes": sum(art.storage_bytes().values()),
                        **_score(art, _srlut_golden)})
    return out


def render(results: dict) -> str:
    lines = ["# HKLUT vs SR-LUT / MuLUT (x4, one channel)", "",
             f"Command: `{results['command']}`", "", results["note"] + ".", "",
             "| design | table bytes | on-chip table bits | off-chip table bits | off-chip B/px "
             "| DRAM pJ/px | mults/px | cycles/px model | cycles/px measured | Y-PSNR dB "
             "| SSIM | bicubic dB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results["rows"]:
        measured = r.get("cycles_per_px_measured", "-")
        lines.append(f"| {r['name']} | {r['table_bytes']:,} | {r['onchip_table_bits']:,} "
                     f"| {r['offchip_table_bits']:,} | {r['offchip_bytes_per_px']} "
                     f"| {r['offchip_pj_per_px']} | {r['mults_per_px']} "
                     f"| {r['cycles_per_px_model']} | {measured} | {r['psnr_db']} "
                     f"| {r['ssim']} | {r['bicubic_psnr_db']} |")
    lines += ["", "HKLUT's cycles: its cycle model (exact vs its RTL in its own tests), 64x64, "
              "one read per table per stage. SR-LUT cycles measured on the engine in Amaranth's "
              f"simulator (6x4 LR, 2 frames, memory latency {results['memory_latency']} for S, "
              "on-chip ROM for F); whole-run cycles measured vs model: "
              + ", ".join(f"{r['name'].split(' (')[0]} {r['run_cycles_measured']} vs "
                          f"{r['run_cycles_model']}" for r in results["rows"]
                          if "run_cycles_measured" in r) + ". Multiplications: weight (5 bit) x "
              "int8 entry, one per table element read; HKLUT only adds. Off-chip B/px: 1/16 in, "
              "1 out and the table's reads when it is off chip; DRAM pJ/px: those bytes at "
              "bench/energy.py's DRAM figure (on-chip accesses not included).", ""]
    if results.get("cost"):
        lines += ["ECP5 (32x32 LR frames, seeded random tables; yosys + nextpnr, "
                  "`Design.cost`):", "", "| engine | part | LUT4 | FF | DP16KD | MULT18 | fits "
                  "| Fmax MHz |", "|---|---|---:|---:|---:|---:|---|---:|"]
        lines += [f"| {c['name']} | {c['device']} | {c['lut4']:,} | {c['ff']:,} | {c['bram']} "
                  f"| {c['dsp']} | {c['fits']} | {c['fmax_mhz']} |" for c in results["cost"]]
        lines.append("")
    if results["authors"]:
        lines += ["Authors' released tables (read from a local mirror, not shipped), same photos "
                  "and golden:", "", "| tables | bytes | Y-PSNR dB | SSIM | bicubic dB |",
                  "|---|---:|---:|---:|---:|"]
        lines += [f"| {r['name']} | {r['table_bytes']:,} | {r['psnr_db']} | {r['ssim']} "
                  f"| {r['bicubic_psnr_db']} |" for r in results["authors"]]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=300, help="SR-LUT training iterations")
    p.add_argument("--latency", type=int, default=4, help="external memory latency, cycles")
    p.add_argument("--cost", action="store_true", help="ECP5-25F area and Fmax of the engines")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    publish(args.out, "srlut", run(args.iterations, args.latency, cost=args.cost), render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
