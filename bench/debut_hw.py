"""DeBut networks in hardware next to the dense network: parameters, MACs, cycles, area, Fmax.

All-DeBut digits-ref (every conv and linear a chain from
:func:`edgeforge.models.debut.chain.search_chain`) with seeded random integers, or with
``--trained`` the trained All-DeBut (:func:`trained_all_debut`: the shipped digits-ref
converted under a 25 % parameter budget, ALS-initialised and fine-tuned, seed 0, about a
minute on one thread), against the shipped dense digits-ref
(``models/network/pretrained``), each through the one harness (``bench/harness.py``):
cocotb on Verilator on digits test images, bit-exact against the golden model and
cycle-exact against the cycle model, then yosys and nextpnr (generic, iCE40 UP5K,
ECP5-25F; with ``--trained`` generic and ECP5, the balanced foldings only, at equal
cycles an image).

Run::

    python -m edgeforge.bench.debut_hw [--quick] [--trained]

Writes ``bench/results/debut_hw.json`` and ``.md`` (``debut_hw_trained`` with
``--trained``). ``--quick``: generic synthesis only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import generate, load
from ..models.data_digits import load_digits
from ..models.debut.chain import search_chain
from ..models.network import PRETRAINED
from ..schemes.network import parse_network, random_artifact
from ..schemes.network_debut import chain_params
from .harness import RESULTS, measure, publish
from .report import folding_label, render_runs_markdown, render_synth_sections

__all__ = ["CONFIGS", "TRAINED_CONFIGS", "all_debut_config", "trained_all_debut", "layer_counts",
           "run", "render_markdown", "main"]

COMMAND = "python -m edgeforge.bench.debut_hw"
ENGINE_PATHS = ("hw/network", "hw/logic.py", "hw/rom.py")
IMAGES = 16
# (network, folding): the dense reference and All-DeBut at the same balanced interval (64
# cycles an image at a pixel a beat), and All-DeBut fully folded (one MAC lane a factor).
CONFIGS = (("digits-ref", "balanced"), ("all-debut", "balanced"), ("all-debut", "folded"))
# The trained All-DeBut against the dense network at the same balanced interval.
TRAINED_CONFIGS = (("digits-ref", "balanced"), ("all-debut-trained", "balanced"))
#: The trained All-DeBut's conversion: every layer, at most this share of the dense weights.
TRAINED_BUDGET = 0.25


def all_debut_config(dense: dict) -> dict:
    """``dense`` (a network config) with every conv2d / linear a searched DeBut chain."""
    layers = []
    for layer in dense["layers"]:
        layer = dict(layer)
        if layer["kind"] in ("conv2d", "linear"):
            if layer["kind"] == "conv2d":
                found = search_chain(layer["out_channels"], layer["in_channels"], layer["kernel"])
            else:
                found = search_chain(layer["out_features"], layer["in_features"])
            layer.update(transform="debut", factors=[list(f.as_tuple()) for f in found.factors],
                         shifts=[0] * (len(found.factors) - 1), mid_bits=8)
        layers.append(layer)
    return {"input": dict(dense["input"]), "layers": layers}


def layer_counts(design) -> list[dict]:
    """Per conv2d / linear layer: its transform, parameters (nonzeros) and MACs an image
    (vectors an image x MACs a vector; a DeBut chain's padded rows count: they are
    computed), from the plan."""
    vectors = {st.layer: st.inp.beats for st in design.plan.stages if st.kind == "core"}
    out = []
    for layer in design.network.layers:
        if layer.transform is None:
            continue
        m, n = layer.transform.size(layer)
        params = (chain_params(layer.fields["factors"]) if layer.fields["transform"] == "debut"
                  else m * n)
        out.append({"layer": layer.index, "transform": layer.fields["transform"],
                    "params": params, "macs": vectors[layer.index] * params,
                    "dense_params": m * n})
    return out


def trained_all_debut(progress: bool = True):
    """The shipped digits-ref as All-DeBut: every layer a chain under :data:`TRAINED_BUDGET`,
    ALS from its weights, fine-tuned with the default schedule (seed 0), exported."""
    from ..models.debut.convert import FINETUNE_LR, convert
    from ..models.network.export import export_network
    from ..models.network.train import TrainConfig, train_network
    conversion = convert(PRETRAINED["digits-ref"], "all", budget=TRAINED_BUDGET, seed=0)
    result = train_network(conversion.net, TrainConfig(seed=0, lr=FINETUNE_LR),
                           progress=progress)
    result.preset, result.provenance = "digits-ref", conversion.provenance()
    return export_network(result, command=f"{COMMAND} --trained (trained_all_debut)")


def _artifact(name: str, progress: bool = True):
    dense = load(PRETRAINED["digits-ref"])
    if name == "digits-ref":
        return dense
    if name == "all-debut-trained":
        return trained_all_debut(progress)
    return random_artifact(all_debut_config(dense.config), seed=0)


def run(*, quick: bool = False, trained: bool = False, configs=None, progress: bool = True,
        done=None) -> dict:
    """Measure every config (``CONFIGS``, or ``TRAINED_CONFIGS`` with ``trained``);
    ``done(report)`` after each."""
    images = list(load_digits("test")[0][:IMAGES])
    command = COMMAND + (" --quick" if quick else "") + (" --trained" if trained else "")
    configs = configs or (TRAINED_CONFIGS if trained else CONFIGS)
    targets = (("generic",) if quick else ("generic", "ecp5") if trained
               else ("generic", "ice40", "ecp5"))
    report = {"images": f"{IMAGES} digits test images per design, each checked bit-exact",
              "trained": trained, "records": []}
    for name, folding in configs:
        art = _artifact(name, progress)
        design = generate(art, folding=folding)
        report["records"].append({
            **measure(design, images, command=command, engine_paths=ENGINE_PATHS,
                      targets=targets, progress=progress),
            "network": {"name": name, "layers": layer_counts(design),
                        "test_accuracy": art.provenance.get("float_accuracy")}})
        if done is not None:
            done(report)
    return report


COLUMNS = [("network, folding per layer (PE x SIMD, or lanes per factor)", folding_label)]


def render_markdown(report: dict) -> str:
    records = report["records"]
    what = ("All-DeBut is trained (trained_all_debut: the shipped digits-ref converted under a "
            "25 % parameter budget, ALS, fine-tuned, seed 0)" if report.get("trained") else
            "All-DeBut has random integers (hardware figures only)")
    lines = ["# DeBut networks in hardware", "",
             f"Command: `{records[0]['command']}` (engine {records[0].get('engine_commit')}). "
             f"{report['images']}; {what}.", ""]
    lines += render_runs_markdown(records, COLUMNS)
    lines += ["", "| network | params | dense params | MACs an image | cycles per image | "
              "test accuracy |", "|---|---:|---:|---:|---:|---:|"]
    for r in records:
        layers = r["network"]["layers"]
        acc = r["network"].get("test_accuracy")
        lines.append(f"| {folding_label(r)} | {sum(l['params'] for l in layers)} | "
                     f"{sum(l['dense_params'] for l in layers)} | "
                     f"{sum(l['macs'] for l in layers)} | "
                     f"{r['performance']['cycles_per_input']} | "
                     f"{'-' if acc is None else f'{100 * acc:.2f} %'} |")
    lines += render_synth_sections(records, COLUMNS,
                                   [(t, t) for t in ("generic", "ice40", "ecp5")])
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """``python -m edgeforge.bench.debut_hw [--quick] [--trained] [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="generic synthesis only")
    parser.add_argument("--trained", action="store_true",
                        help="the trained All-DeBut (balanced foldings, generic and ECP5)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    stem = "debut_hw_trained" if args.trained else "debut_hw"
    run(quick=args.quick, trained=args.trained,
        done=lambda report: publish(args.out, stem, report, render_markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
