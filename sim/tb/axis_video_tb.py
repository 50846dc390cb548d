"""cocotb testbench for a design behind AXI4-Stream ports (``edgeforge.hw.axis_video``): video
ports, or plain packet ports (a classifier's images in, results out).

cocotbext-axi's ``AxiStreamSource`` and ``AxiStreamSink`` bind to the
standard names (``s_axis_video_tdata``, ``m_axis_video_tlast``, ...) as they
are. One AXI frame of theirs is one video line (their ``tlast`` ends it), and
``tuser`` is given per byte: high on the bytes of the first beat of each video
frame. The sink's lines must match the expected beats byte for byte, with
``tuser`` on the first beat of each output frame only, and ``frame_error``
must stay low.

Environment
-----------
EDGEFORGE_VECTORS
    Path of an .npz with ``in_beats`` uint8 (n_in, in_bytes) and ``out_beats``
    uint8 (n_out, out_bytes), one beat's ``tdata`` bytes (little-endian) a
    row, and ``geometry`` int (4,): input beats per line, input lines per
    frame, output beats per line, output lines per frame.
EDGEFORGE_AXIS_PREFIXES
    ``s_axis_video,m_axis_video`` (default) or ``s_axis,m_axis``: packet ports, no
    ``tuser`` (each "line" of one-line "frames" is a packet: an image in, a result out).
EDGEFORGE_PAUSES
    Comma list of ``src:sink`` pause modes as in ``stream_tb`` (default
    ``none:none,random:random``). One test per pair.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, with_timeout

from edgeforge.sim.stream import parse_pauses, pause_for_mode

from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

DEFAULT_PAUSES = "none:none,random:random"
RESET_CYCLES = 4
#: Cycles after the last line in which a stray extra beat or a late frame_error shows.
DRAIN_CYCLES = 32
SRC_SEED_OFFSET, SINK_SEED_OFFSET = 1, 2
#: Simulated time allowed for one output line, in microseconds (10 ns clock).
LINE_TIMEOUT_US = 200


def _lines(beats: np.ndarray, beats_per_line: int, lines_per_frame: int):
    """Yield ``(tdata bytes, per-byte tuser)`` of each line, frames back to back."""
    if len(beats) % beats_per_line:
        raise ValueError(f"beats must be whole lines of {beats_per_line}, got {len(beats)!r}")
    width = beats.shape[1]
    for n in range(len(beats) // beats_per_line):
        data = beats[n * beats_per_line:(n + 1) * beats_per_line].tobytes()
        first = n % lines_per_frame == 0
        yield data, [int(first and k < width) for k in range(len(data))]


RUN_SEED = getattr(cocotb, "RANDOM_SEED", None)
PAUSE_COMBOS = parse_pauses(os.environ.get("EDGEFORGE_PAUSES", DEFAULT_PAUSES))
PREFIXES = os.environ.get("EDGEFORGE_AXIS_PREFIXES", "s_axis_video,m_axis_video").split(",")
TUSER = PREFIXES[0] == "s_axis_video"


@cocotb.test()
@cocotb.parametrize((("src", "sink"), PAUSE_COMBOS))
async def axis_video(dut, src: str, sink: str) -> None:
    """Send every input line, receive every output line, compare data and side band."""
    with np.load(Path(os.environ["EDGEFORGE_VECTORS"])) as npz:
        in_beats, out_beats = npz["in_beats"], npz["out_beats"]
        in_bpl, in_lines, out_bpl, out_lines = (int(v) for v in npz["geometry"])

    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    tx = AxiStreamSource(AxiStreamBus.from_prefix(dut, PREFIXES[0]), dut.clk, dut.rst)
    rx = AxiStreamSink(AxiStreamBus.from_prefix(dut, PREFIXES[1]), dut.clk, dut.rst)
    tx.set_pause_generator(pause_for_mode(src, SRC_SEED_OFFSET))
    rx.set_pause_generator(pause_for_mode(sink, SINK_SEED_OFFSET))
    await ClockCycles(dut.clk, RESET_CYCLES)
    dut.rst.value = 0

    for data, tuser in _lines(in_beats, in_bpl, in_lines):
        await tx.send(AxiStreamFrame(data, tuser=tuser if TUSER else None))
    for n, (data, tuser) in enumerate(_lines(out_beats, out_bpl, out_lines)):
        got = await with_timeout(rx.recv(compact=False), LINE_TIMEOUT_US, "us")
        where = f"output line {n}; reproduce with seed={RUN_SEED}"
        assert bytes(got.tdata) == data, f"tdata (or tlast) wrong on {where}"
        if TUSER:
            assert list(got.tuser) == tuser, f"tuser {list(got.tuser)} != {tuser} on {where}"

    rx.clear_pause_generator()
    await ClockCycles(dut.clk, DRAIN_CYCLES)
    assert rx.empty(), f"extra output beats after the last line; reproduce with seed={RUN_SEED}"
    assert int(dut.frame_error.value) == 0, "frame_error set on correctly framed input"
