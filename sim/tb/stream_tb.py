"""Generic cocotb testbench for any one-stream-in, one-stream-out design.

Every scheme's design is checked by this one module: the Design writes its
input and expected output beats to an .npz, and the runner points the
testbench at it through environment variables (Amaranth's Verilog has no
parameters to carry them).

Environment
-----------
EDGEFORGE_VECTORS
    Path of an .npz with ``in_beats`` uint8 (n_in, in_bytes) and ``out_beats``
    uint8 (n_out, out_bytes), each row one beat's payload as little-endian
    bytes, and optionally ``out_marks`` (int, indexes of output beats whose
    transfer cycle is recorded: ``Design.verify`` marks each input's first
    output beat) and ``predicted_cycles`` (int, the cycle model's run length,
    which sizes the hang timeout for designs far slower than a beat a cycle).
EDGEFORGE_RESULT
    Path of a JSON file this module updates with one entry per test name (see
    :func:`_measurements`); optional.
EDGEFORGE_MEMORY
    Path of an .npz with ``words`` uint8 (rows, word_bytes) and ``latency``,
    ``jitter``, ``p_ready``: the design's external memory (ports ``mem_addr``,
    ``mem_data``), answered in request order by :func:`serve_memory`; optional.
EDGEFORGE_PAUSES
    Comma list of ``src:sink`` pause modes (``none``, ``random``, ``heavy``;
    see :data:`edgeforge.sim.stream.PAUSE_MODES`), default
    ``none:none,random:random``. One test per pair.

The design has ports ``clk``, ``rst`` (synchronous, active high), stream
``i`` (``i__payload``, ``i__valid``, ``i__ready``) and stream ``o``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from edgeforge.jsonfile import dumps
from edgeforge.sim.stream import (
    BeatChecker,
    StreamMonitor,
    StreamSink,
    StreamSource,
    beats_to_ints,
    parse_pauses,
    pause_for_mode,
)

DEFAULT_PAUSES = "none:none,random:random"
RESET_CYCLES = 4
#: Cycles with ready held high after the last expected beat in which any
#: further beat counts as extra.
DRAIN_CYCLES = 32
#: Per-stream seed offsets, so source and sink pause independently.
SRC_SEED_OFFSET, SINK_SEED_OFFSET = 1, 2


@dataclass(frozen=True)
class Vectors:
    ins: list[int]
    outs: list[int]
    out_marks: tuple[int, ...] = ()
    predicted_cycles: int | None = None


def load_vectors(path: Path) -> Vectors:
    """Read input beats, expected output beats, marked output beats and the predicted run.

    Raises
    ------
    ValueError
        If a beats array is missing, not 2-D uint8, or ``in_beats`` is empty.
    """
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    for key in ("in_beats", "out_beats"):
        a = arrays.get(key)
        if a is None or a.dtype != np.uint8 or a.ndim != 2:
            raise ValueError(f"{path}: {key} must be a 2-D uint8 array, not {a!r}")
    if len(arrays["in_beats"]) == 0:
        raise ValueError(f"{path}: in_beats must hold at least one beat, not {arrays['in_beats']!r}")
    marks = arrays.get("out_marks", np.zeros(0, np.int64))
    predicted = arrays.get("predicted_cycles")
    return Vectors(beats_to_ints(arrays["in_beats"]), beats_to_ints(arrays["out_beats"]),
                   tuple(int(k) for k in marks), None if predicted is None else int(predicted))


def timeout_cycles(n_in: int, n_out: int, predicted_cycles: int | None) -> int:
    """Cycle budget after which a run counts as hung.

    Generous enough for heavy pauses on both sides (about 3.3 cycles per beat
    each) and for designs far slower than one beat per cycle.
    """
    slow = 0 if predicted_cycles is None else 10 * predicted_cycles
    return 1000 + 50 * (n_in + n_out) + slow


def _check_fits(dut, prefix: str, values: list[int], what: str) -> None:
    width = len(getattr(dut, f"{prefix}_payload"))
    too_wide = [v for v in values if v >> width]
    if too_wide:
        raise ValueError(
            f"{what} beats must fit the {width}-bit {prefix}_payload port, not {too_wide[0]!r}"
        )


def _payload(value) -> int | str:
    if not value.is_resolvable:
        return str(value)
    # A 1-bit port reads as a Logic, which has no to_unsigned (a LogicArray has).
    return value.to_unsigned() if hasattr(value, "to_unsigned") else int(value)


# cocotb imports this module while collecting tests, when RANDOM_SEED still
# holds the regression seed (COCOTB_RANDOM_SEED); each test then runs under a
# seed derived from it and the test name. Quote the one that reproduces.
# (Outside a simulator, where only the helpers above are used, there is none.)
RUN_SEED = getattr(cocotb, "RANDOM_SEED", None)
PAUSE_COMBOS = parse_pauses(os.environ.get("EDGEFORGE_PAUSES", DEFAULT_PAUSES))


@cocotb.test()
@cocotb.parametrize((("src", "sink"), PAUSE_COMBOS))
async def stream(dut, src: str, sink: str) -> None:
    """Drive every input beat and check every output beat, in order."""
    vectors = load_vectors(Path(os.environ["EDGEFORGE_VECTORS"]))
    ins, outs = vectors.ins, vectors.outs
    _check_fits(dut, "i_", ins, "in")
    _check_fits(dut, "o_", outs, "out")
    seed = RUN_SEED

    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    tx = StreamSource(dut, "i_", dut.clk, pause=pause_for_mode(src, SRC_SEED_OFFSET))
    rx = StreamSink(dut, "o_", dut.clk, pause=pause_for_mode(sink, SINK_SEED_OFFSET))
    in_mon = StreamMonitor(dut, "i_", dut.clk, dut.rst)
    out_mon = StreamMonitor(dut, "o_", dut.clk, dut.rst, marks=vectors.out_marks)
    memory = None
    if os.environ.get("EDGEFORGE_MEMORY"):
        # Without pauses the memory answers after exactly `latency` cycles, as the cycle
        # model assumes; otherwise with random extra latency and random request stalls.
        memory = MemoryStats()
        cocotb.start_soon(serve_memory(dut, Path(os.environ["EDGEFORGE_MEMORY"]), memory,
                                       steady=src == sink == "none", seed=seed))
    await ClockCycles(dut.clk, RESET_CYCLES)
    dut.rst.value = 0

    for v in ins:
        tx.send_nowait(tx.beat(v))
    got: list[int | str] = []
    budget = timeout_cycles(len(ins), len(outs), vectors.predicted_cycles)
    edge = RisingEdge(dut.clk)
    waited = 0
    while len(got) < len(outs) and waited < budget:
        await edge
        waited += 1
        while not rx.empty():
            got.append(_payload(rx.recv_nowait().payload))
    hung = len(got) < len(outs)

    # Ready stays high for a while: a design that still has a beat to give
    # shows it here rather than hiding behind backpressure.
    rx.clear_pause_generator()
    rx.pause = False
    if not hung:
        await ClockCycles(dut.clk, DRAIN_CYCLES)
        while not rx.empty():
            got.append(_payload(rx.recv_nowait().payload))

    name = f"stream/src={src}/sink={sink}"
    record = _measurements(in_mon, out_mon, len(ins), len(outs), seed)
    if memory is not None:
        record["memory_reads"] = memory.reads
    _write_result(name, record)

    in_mon.assert_ok(seed)
    out_mon.assert_ok(seed)
    if hung:
        dut._log.error("timed out: %d of %d output beats after %d cycles", len(got), len(outs), budget)
    BeatChecker(outs, seed, name="o").check(got)
    if in_mon.transfers != len(ins):
        raise AssertionError(
            f"i: only {in_mon.transfers} of {len(ins)} input beats were accepted; "
            f"reproduce with seed={seed}"
        )


@dataclass
class MemoryStats:
    reads: int = 0


async def serve_memory(dut, path: Path, stats: MemoryStats, *, steady: bool, seed) -> None:
    """Answer ``mem_addr`` requests with ``mem_data`` words, in order, after a latency."""
    import random
    from collections import deque
    spec = np.load(path)
    words = [int.from_bytes(row.tobytes(), "little") for row in spec["words"]]
    latency, jitter = int(spec["latency"]), 0 if steady else int(spec["jitter"])
    p_ready = 1.0 if steady else float(spec["p_ready"])
    rng = random.Random(seed)
    pending: deque = deque()
    edge = RisingEdge(dut.clk)
    dut.mem_addr__ready.value = 0
    dut.mem_data__valid.value = 0
    cycle = 0
    answering = False
    while True:
        await edge
        if _is_high(dut.rst.value):
            pending.clear()
            answering = False
            dut.mem_addr__ready.value = 0
            dut.mem_data__valid.value = 0
            continue
        # What the design saw at this edge: a request taken, an answer delivered.
        if answering:
            pending.popleft()
        if _is_high(dut.mem_addr__valid.value) and _is_high(dut.mem_addr__ready.value):
            due = cycle + latency + rng.randint(0, jitter)
            if pending:
                due = max(due, pending[-1][0] + 1)
            pending.append((due, int(dut.mem_addr__payload.value)))
            stats.reads += 1
        cycle += 1
        answering = bool(pending) and pending[0][0] <= cycle
        dut.mem_data__valid.value = int(answering)
        if answering:
            dut.mem_data__payload.value = words[pending[0][1]]
        dut.mem_addr__ready.value = int(rng.random() < p_ready)


def _is_high(value) -> bool:
    return str(value) == "1"


def _measurements(in_mon: StreamMonitor, out_mon: StreamMonitor, n_in: int, n_out: int,
                  seed: int) -> dict:
    """Cycle figures of one run, counted in rising edges after reset release.

    ``cycles`` runs to the last output transfer; stall cycles count
    ``valid & ~ready`` on each port (for ``i`` the design held the source
    back, for ``o`` the sink held the design back);
    ``steady_cycles_per_input`` is the interval between the first and last
    input transfer over n_in - 1, which leaves out pipeline fill.
    ``run_cycles`` (first input transfer through the last output transfer) and
    ``output_start_cycles`` (the marked output transfers, from the first input
    transfer) are what ``Design.verify`` compares with the cycle model.
    """
    cycles = None if out_mon.last_transfer is None else out_mon.last_transfer + 1
    steady = None
    if in_mon.transfers >= 2:
        steady = (in_mon.last_transfer - in_mon.first_transfer) / (in_mon.transfers - 1)
    start = in_mon.first_transfer
    run = None if start is None or out_mon.last_transfer is None else out_mon.last_transfer - start + 1
    return {
        "cycles": cycles,
        "run_cycles": run,
        "output_start_cycles": [None if start is None or c is None else c - start
                                for c in out_mon.marked_cycles()],
        "cycles_per_input": None if cycles is None else cycles / n_in,
        "steady_cycles_per_input": steady,
        "input_stall_cycles": in_mon.stall_cycles,
        "output_stall_cycles": out_mon.stall_cycles,
        "n_in": n_in,
        "n_out": n_out,
        "in_transfers": in_mon.transfers,
        "out_transfers": out_mon.transfers,
        "seed": seed,
    }


def _write_result(name: str, record: dict) -> None:
    path = os.environ.get("EDGEFORGE_RESULT")
    if not path:
        return
    path = Path(path)
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[name] = record
    path.write_text(dumps(data, what=str(path), indent=2, sort_keys=True))
