"""Small Amaranth stream designs, good and deliberately broken, and vector helpers for the
runner and testbench tests (fixtures in conftest.py)."""


import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from amaranth.back import verilog
from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

TESTBENCH = "edgeforge.sim.tb.stream_tb"
WIDTH = 12
MODES = ("none", "random", "heavy")
ALL_COMBOS = ",".join(f"{a}:{b}" for a in MODES for b in MODES)
N_ADD_ONE = 300


class Stage(wiring.Component):
    """One register stage from ``i`` to ``o`` that adds 1, with hooks for faults.

    ``drop_every``: every k-th accepted beat is swallowed (lost beat).
    ``dup_at``: the beat with that index is sent twice (duplicated beat).
    """

    def __init__(self, width: int = WIDTH, drop_every: int = 0, dup_at: int = -1):
        self.width, self.drop_every, self.dup_at = width, drop_every, dup_at
        super().__init__({"i": In(stream.Signature(width)), "o": Out(stream.Signature(width))})

    def elaborate(self, platform):
        m = Module()
        count = Signal(16)
        repeat = Signal()
        free = ~self.o.valid | self.o.ready
        m.d.comb += self.i.ready.eq(free & ~repeat)
        with m.If(free):
            m.d.sync += self.o.valid.eq(0)
            with m.If(repeat):
                m.d.sync += [self.o.valid.eq(1), repeat.eq(0)]
            with m.Elif(self.i.valid):
                m.d.sync += [count.eq(count + 1), self.o.payload.eq(self.i.payload + 1)]
                dropped = (count % self.drop_every == self.drop_every - 1) if self.drop_every else 0
                m.d.sync += self.o.valid.eq(~dropped)
                if self.dup_at >= 0:
                    with m.If(count == self.dup_at):
                        m.d.sync += repeat.eq(1)
        return m


class Stuck(wiring.Component):
    """Never accepts an input and never offers an output (a hung design)."""

    i: In(stream.Signature(WIDTH))
    o: Out(stream.Signature(WIDTH))

    def elaborate(self, platform):
        m = Module()
        dummy = Signal()
        m.d.sync += dummy.eq(~dummy)  # keeps clk and rst as ports
        return m


class Fickle(wiring.Component):
    """Offers each output for one cycle only, ready or not: breaks "valid holds"."""

    i: In(stream.Signature(WIDTH))
    o: Out(stream.Signature(WIDTH))

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.i.ready.eq(~self.o.valid)
        m.d.sync += self.o.valid.eq(self.i.valid & ~self.o.valid)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += self.o.payload.eq(self.i.payload + 1)
        return m


@dataclass(frozen=True)
class Emitted:
    verilog: Path
    toplevel: str
    design_hash: str


def emit(component: wiring.Component, name: str, out_dir: Path) -> Emitted:
    """Write the component's Verilog with ports named after its signature."""
    text = verilog.convert(component, name=name, emit_src=False)
    path = out_dir / f"{name}.v"
    path.write_text(text)
    return Emitted(path, name, hashlib.sha256(text.encode()).hexdigest()[:16])


def to_beats(values, width: int = WIDTH) -> np.ndarray:
    """Little-endian payload bytes, one row per beat."""
    nbytes = (width + 7) // 8
    raw = b"".join(int(v).to_bytes(nbytes, "little") for v in values)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(values), nbytes).copy()


def write_vectors(path: Path, ins, outs, **extra) -> Path:
    np.savez(path, in_beats=to_beats(ins), out_beats=to_beats(outs), **extra)
    return path.resolve()


def add_one_vectors(path: Path, n: int, seed: int = 0, **extra) -> tuple[Path, np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).integers(0, 1 << WIDTH, size=n)
    y = (x + 1) % (1 << WIDTH)
    return write_vectors(path, x, y, **extra), x, y
