"""AXI4-Stream video ports around any raster streaming engine (Xilinx UG934 convention).

FPGA video IP (VDMA, test pattern generators, video-in/out bridges) marks the
stream with two side-band bits: ``tuser`` (bit 0) high on the first beat of a
frame, ``tlast`` high on the last beat of each line. :class:`AXISVideo` adds
them to an engine whose ``i`` and ``o`` ports are ``amaranth.lib.stream``
streams of raster pixels, counting beats against a fixed frame geometry.
"""

from __future__ import annotations

from amaranth import Module, Mux, Shape, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .logic import check_count, equals, refuse_quietly

__all__ = ["AXISVideo", "AXIS_VIDEO", "AXIS_PACKETS"]

#: Port prefixes of the two flavours: video (tuser = start of frame, tlast = end of line), and
#: plain packets (tlast = end of packet, no tuser), as a classifier's images and results are.
AXIS_VIDEO = ("s_axis_video", "m_axis_video")
AXIS_PACKETS = ("s_axis", "m_axis")


def _stream_member(inner, name: str, flow) -> stream.Signature:
    members = inner.signature.members
    member = members[name] if name in members else None
    if (member is None or not member.is_signature or member.flow != flow
            or not isinstance(member.signature, stream.Signature)):
        raise TypeError(f"inner must have an {flow.name}(stream.Signature) member {name!r}, "
                        f"got {member!r}")
    return member.signature


def _byte_width(bits: int) -> int:
    # AXI4-Stream TDATA is a whole number of bytes; the payload sits in its low bits.
    return 8 * ((bits + 7) // 8)


class AXISVideo(wiring.Component):
    """An engine with ``i``/``o`` raster streams, behind AXI4-Stream video ports.

    The ports are plain one-level members, so the Verilog names are the
    standard AXI4-Stream ones (``s_axis_video_tdata``, ...); a nested
    ``s_axis_video`` signature would come out as ``s_axis_video__tdata``.
    Clock and reset are the design's ``clk`` and ``rst`` (synchronous, active
    high): tie ``rst`` to ``~aresetn`` for AXI's active-low reset.

    Parameters
    ----------
    inner : wiring.Component
        The engine: ``i: In(stream.Signature(...))`` and ``o: Out(stream.Signature(...))``
        carrying pixels in raster order, frames back to back.
    in_beats_per_line, in_lines : int
        Input frame geometry, in ``i`` beats per line and lines per frame.
    out_beats_per_line, out_lines : int
        Output frame geometry, in ``o`` beats per line and lines per frame.
    prefixes : (str, str)
        Names of the input and output ports: :data:`AXIS_VIDEO` (the default, below) or
        :data:`AXIS_PACKETS` (``s_axis_*`` / ``m_axis_*``, no ``tuser``: a packet is a
        "line" of one-line "frames", so ``tlast`` ends each packet).

    Members
    -------
    s_axis_video_tdata : In(8 * ceil(i_bits / 8))
        Input pixel beat; the low ``i_bits`` go to ``inner.i.payload``.
    s_axis_video_tvalid, s_axis_video_tuser, s_axis_video_tlast : In(1)
    s_axis_video_tready : Out(1)
    m_axis_video_tdata : Out(8 * ceil(o_bits / 8))
        Output beat: ``inner.o.payload`` in the low bits, zeros above.
    m_axis_video_tvalid, m_axis_video_tuser, m_axis_video_tlast : Out(1)
        ``tuser`` is high on the first beat of each output frame and ``tlast``
        on the last beat of each output line. Both are decoded from registered
        beat counters that advance only on a transfer (``tvalid & tready``), so
        they hold with the beat under backpressure and depend on no input.
    m_axis_video_tready : In(1)
    frame_error : Out(1)
        Sticky: set one cycle after an input transfer whose ``tuser`` or
        ``tlast`` differs from the position the wrapper counts (``tuser`` due
        on beat 0 of line 0 only, ``tlast`` on the last beat of every line);
        cleared only by ``rst``.

    Data and handshakes pass straight through, adding no latency and no
    cycle. The engine counts pixels itself and has no way to resynchronise
    mid-frame, so the wrapper does not resynchronise either: a stream that
    disagrees with the geometry still goes through beat for beat, and
    ``frame_error`` tells the user that its frames are misaligned.

    Raises
    ------
    TypeError
        If ``inner`` lacks the ``i`` input or ``o`` output stream, or ``i`` is
        ``always_valid`` or ``o`` is ``always_ready`` (the wrapper drives both).
    ValueError
        If a geometry count is not a positive integer.
    """

    @refuse_quietly
    def __init__(self, inner, *, in_beats_per_line: int, in_lines: int,
                 out_beats_per_line: int, out_lines: int, prefixes=AXIS_VIDEO):
        if not isinstance(inner, wiring.Component):
            raise TypeError(f"inner must be a wiring.Component, got {type(inner).__name__!r}")
        i_sig = _stream_member(inner, "i", In)
        o_sig = _stream_member(inner, "o", Out)
        if i_sig.always_valid or o_sig.always_ready:
            raise TypeError(f"inner's i must not be always_valid nor its o always_ready, "
                            f"got {i_sig!r} and {o_sig!r}")
        for name, value in (("in_beats_per_line", in_beats_per_line), ("in_lines", in_lines),
                            ("out_beats_per_line", out_beats_per_line),
                            ("out_lines", out_lines)):
            check_count(name, value)
        if prefixes not in (AXIS_VIDEO, AXIS_PACKETS):
            raise ValueError(f"prefixes must be {AXIS_VIDEO!r} or {AXIS_PACKETS!r}, got "
                             f"{prefixes!r}")
        self.prefixes, self.tuser = prefixes, prefixes == AXIS_VIDEO
        self.inner = inner
        self.in_beats_per_line, self.in_lines = in_beats_per_line, in_lines
        self.out_beats_per_line, self.out_lines = out_beats_per_line, out_lines
        self.i_bits = Shape.cast(i_sig.members["payload"].shape).width
        self.o_bits = Shape.cast(o_sig.members["payload"].shape).width
        s, m = prefixes
        ports = {
            f"{s}_tdata": In(_byte_width(self.i_bits)),
            f"{s}_tvalid": In(1),
            f"{s}_tready": Out(1),
            f"{s}_tuser": In(1),
            f"{s}_tlast": In(1),
            f"{m}_tdata": Out(_byte_width(self.o_bits)),
            f"{m}_tvalid": Out(1),
            f"{m}_tready": In(1),
            f"{m}_tuser": Out(1),
            f"{m}_tlast": Out(1),
            "frame_error": Out(1),
        }
        if not self.tuser:
            del ports[f"{s}_tuser"], ports[f"{m}_tuser"]
        super().__init__(ports)

    def _port(self, side: int, name: str):
        return getattr(self, f"{self.prefixes[side]}_{name}")

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = engine = self.inner

        s = {name: self._port(0, name) for name in ("tdata", "tvalid", "tready", "tlast")}
        o = {name: self._port(1, name) for name in ("tdata", "tvalid", "tready", "tlast")}
        m.d.comb += [
            Value.cast(engine.i.payload).eq(s["tdata"][:self.i_bits]),
            engine.i.valid.eq(s["tvalid"]),
            s["tready"].eq(engine.i.ready),
            o["tdata"].eq(Value.cast(engine.o.payload)),
            o["tvalid"].eq(engine.o.valid),
            engine.o.ready.eq(o["tready"]),
        ]

        s_transfer = s["tvalid"] & s["tready"]
        in_first, in_last = self._raster(m, "in", self.in_beats_per_line, self.in_lines,
                                         s_transfer)
        wrong = s["tlast"] != in_last
        if self.tuser:
            wrong |= self._port(0, "tuser") != in_first
        with m.If(s_transfer & wrong):
            m.d.sync += self.frame_error.eq(1)

        m_transfer = o["tvalid"] & o["tready"]
        out_first, out_last = self._raster(m, "out", self.out_beats_per_line, self.out_lines,
                                           m_transfer)
        m.d.comb += o["tlast"].eq(out_last)
        if self.tuser:
            m.d.comb += self._port(1, "tuser").eq(out_first)
        return m

    @staticmethod
    def _raster(m: Module, name: str, beats_per_line: int, lines: int, transfer):
        """Beat and line counters advanced by ``transfer``; return (first of frame, last of line)."""
        # range(1) would be a 0-bit signal, which comes out as `wire [-1:0]` and fails
        # Verilator's build (ASCRANGE); a count of 1 keeps a 1-bit counter held at 0.
        beat = Signal(range(max(2, beats_per_line)), name=f"{name}_beat")
        line = Signal(range(max(2, lines)), name=f"{name}_line")
        first = equals(beat, 0) & equals(line, 0)
        last = beat == beats_per_line - 1
        with m.If(transfer):
            with m.If(last):
                m.d.sync += [beat.eq(0), line.eq(Mux(line == lines - 1, 0, line + 1))]
            with m.Else():
                m.d.sync += beat.eq(beat + 1)
        return first, last
