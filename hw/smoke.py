"""The smoke design: a ROM-backed streaming lookup, the smallest engine that uses every piece.

Block diagram: ``i`` (address) -> ROM (synchronous read port) -> ``o`` (data).
"""

from __future__ import annotations

import numpy as np
from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..design import Design
from ..sim.cycles.record import Performance, RunCycles, TrafficLine
from ..sim.golden.smoke import lookup
from .rom import RomBank
from .stream_beats import pack_beats

__all__ = ["SmokeLookup", "SmokeDesign", "TRAFFIC_LINE"]

#: The one memory of the design, as the performance record names it.
TRAFFIC_LINE = "rom table"


class SmokeLookup(wiring.Component):
    """Streams addresses in and table entries out, one beat per cycle.

    Parameters
    ----------
    table : sequence of int
        ROM contents, ``2**addr_bits`` unsigned entries of ``data_bits`` bits.
    addr_bits, data_bits : int

    Members
    -------
    i : In(stream.Signature(addr_bits))
        Addresses.
    o : Out(stream.Signature(data_bits))
        ``table[address]``, in input order.

    Latency is one cycle; throughput one beat per cycle. Backpressure on ``o``
    holds the ROM output (its read enable drops) and propagates to ``i.ready``. The ROM
    reads once per address taken, never on an idle cycle.
    """

    def __init__(self, table, addr_bits: int, data_bits: int):
        if len(table) != 1 << addr_bits:
            self._MustUse__silence = True  # a refused component is not an unused one
            raise ValueError(f"table must have 2**addr_bits = {1 << addr_bits} entries, "
                             f"got {len(table)}")
        self._table = [int(v) for v in table]
        self.addr_bits, self.data_bits = addr_bits, data_bits
        super().__init__({"i": In(self.i_signature(addr_bits)),
                          "o": Out(self.o_signature(data_bits))})

    @staticmethod
    def i_signature(addr_bits: int) -> stream.Signature:
        return stream.Signature(addr_bits)

    @staticmethod
    def o_signature(data_bits: int) -> stream.Signature:
        return stream.Signature(data_bits)

    def elaborate(self, platform):
        m = Module()
        m.submodules.rom = rom = RomBank(self._table, self.data_bits)

        advance = ~self.o.valid | self.o.ready
        m.d.comb += [
            self.i.ready.eq(advance),
            rom.addr[0].eq(self.i.payload),
            rom.en.eq(advance & self.i.valid),
            self.o.payload.eq(rom.data[0]),
        ]
        with m.If(advance):
            m.d.sync += self.o.valid.eq(self.i.valid)
        return m


class SmokeDesign(Design):
    """A :class:`SmokeLookup` generated from a smoke artifact (no hardware options)."""

    scheme = "smoke"

    def __init__(self, artifact, **config):
        artifact = self.own(artifact)
        if config:
            raise ValueError(f"the smoke design takes no hardware options, got {sorted(config)!r}")
        super().__init__(artifact, {})
        self.addr_bits = artifact.config["addr_bits"]
        self.data_bits = artifact.config["data_bits"]
        self.table = artifact.arrays["table"]

    @property
    def slug(self) -> str:
        return f"a{self.addr_bits}d{self.data_bits}"

    def build(self) -> SmokeLookup:
        return SmokeLookup(self.table, self.addr_bits, self.data_bits)

    def golden(self, x: np.ndarray) -> np.ndarray:
        return lookup(self.table, x)

    def encode_inputs(self, xs):
        return pack_beats(np.concatenate([np.ravel(x) for x in xs]), self.addr_bits)

    def encode_outputs(self, ys):
        return pack_beats(np.concatenate([np.ravel(y) for y in ys]), self.data_bits)

    def test_inputs(self, seed: int = 0) -> list[np.ndarray]:
        depth = 1 << self.addr_bits
        rng = np.random.default_rng(seed)
        edges = np.array([0, depth - 1, 0, 0, depth - 1, depth - 1, 1 % depth])
        return [np.arange(depth), edges, rng.integers(0, depth, size=500)]

    def describe(self) -> dict:
        return {"streams": {"i": {"payload_bits": self.addr_bits, "layout": "address"},
                            "o": {"payload_bits": self.data_bits, "layout": "table[address]"}},
                "latency_cycles": 1, "throughput_beats_per_cycle": 1}

    def cycle_model(self) -> Performance:
        """One address a cycle through a one-cycle ROM read: a run of n beats ends at n."""
        def schedule(beats_per_input):
            starts = [1 + int(sum(beats_per_input[:k])) for k in range(len(beats_per_input))]
            return RunCycles(tuple(starts), int(sum(beats_per_input)))

        return Performance(input_unit="address", output_unit="table entry", outputs_per_input=1,
                           cycles_per_input=1.0, latency_cycles=1,
                           traffic=(TrafficLine(TRAFFIC_LINE, self.data_bits, 1, 0,
                                                array_bits=self.data_bits << self.addr_bits),),
                           offchip_bytes_in=-(-self.addr_bits // 8),
                           offchip_bytes_out=-(-self.data_bits // 8), schedule=schedule)
