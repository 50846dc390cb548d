"""cocotb components for the valid/ready streams every engine uses.

Source and sink come from cocotbext-axi (``define_stream``): a maintained
driver pair with swappable pause generators, which binds to Amaranth's stream
ports by prefix (``i_`` finds ``i__payload``/``i__valid``/``i__ready``). It is
pinned with cocotb-bus in pyproject.toml because its cocotb-2 port is not
released; the deprecation warnings it raises under cocotb 2.1 are filtered here,
at import, and nowhere else. The library has no monitor that checks the stream
rules, so :class:`StreamMonitor` is ours, as is the in-order
:class:`BeatChecker`.

Pauses are iterators read once per clock edge (``True`` = pause this cycle):
:func:`no_pause`, :func:`pattern_pause` and :func:`random_pause`, the last
seeded from ``cocotb.RANDOM_SEED`` plus a per-stream offset (see
:func:`pause_for_mode`) so a failing run is reproduced by its seed alone.
"""

from __future__ import annotations

import itertools
import random
import warnings
from collections.abc import Iterator, Sequence

import cocotb
from cocotb.triggers import RisingEdge

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from cocotbext.axi.stream import define_stream

# At run time it calls setimmediatevalue() and Task.kill(), deprecated in
# cocotb 2; the filter matches only warnings raised from its own modules.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\.axi\.")

__all__ = [
    "PAUSE_MODES",
    "BeatChecker",
    "StreamMonitor",
    "StreamSink",
    "StreamSource",
    "beats_to_ints",
    "no_pause",
    "parse_pauses",
    "pattern_pause",
    "pause_for_mode",
    "random_pause",
]

#: Pause probability per cycle of each named mode.
PAUSE_MODES = {"none": 0.0, "random": 0.3, "heavy": 0.7}

_SIGNALS = ("payload", "valid", "ready")

_Bus, _Transaction, _Source, _Sink, _ = define_stream(
    "AmaranthStream", signals=list(_SIGNALS)
)


def no_pause() -> Iterator[bool]:
    """Never pause."""
    return itertools.repeat(False)


def pattern_pause(pattern: Sequence[bool | int]) -> Iterator[bool]:
    """Repeat a fixed pause pattern forever.

    Parameters
    ----------
    pattern : sequence of bool or int
        One entry per clock cycle; truthy means pause.

    Raises
    ------
    ValueError
        If ``pattern`` is empty.
    """
    if len(pattern) == 0:
        raise ValueError(f"Pause pattern must not be empty, not {pattern!r}")
    return itertools.cycle([bool(v) for v in pattern])


def random_pause(p: float, seed: int) -> Iterator[bool]:
    """Pause each cycle independently with probability ``p``.

    Parameters
    ----------
    p : float
        Probability of a pause per cycle, in [0, 1).
    seed : int
        Seed of the generator's own ``random.Random``.

    Raises
    ------
    ValueError
        If ``p`` is outside [0, 1): at 1 the stream would never move.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"Pause probability must be in [0, 1), not {p!r}")
    rng = random.Random(seed)
    while True:
        yield rng.random() < p


def parse_pauses(text: str, name: str = "EDGEFORGE_PAUSES") -> list[tuple[str, str]]:
    """Parse an EDGEFORGE_PAUSES value into (source mode, sink mode) pairs.

    ``name`` starts the error message: the variable, or the option that gave the text.

    Raises
    ------
    ValueError
        If an entry is not ``src:sink`` or names an unknown mode.
    """
    combos = []
    for entry in text.split(","):
        parts = entry.strip().split(":")
        if len(parts) != 2 or any(p not in PAUSE_MODES for p in parts):
            raise ValueError(
                f"{name} entries must be src:sink with modes from "
                f"{sorted(PAUSE_MODES)}, not {entry!r}"
            )
        combos.append((parts[0], parts[1]))
    return combos


def pause_for_mode(mode: str, offset: int = 0) -> Iterator[bool]:
    """Pause generator for a named mode, seeded from ``cocotb.RANDOM_SEED``.

    During a test cocotb derives ``RANDOM_SEED`` from the regression seed and
    the test's name, so the regression seed alone reproduces every pause.

    Parameters
    ----------
    mode : str
        One of :data:`PAUSE_MODES` (``none``, ``random``, ``heavy``).
    offset : int
        Added to the seed so that two streams of one test pause independently.

    Raises
    ------
    ValueError
        If ``mode`` is not a known mode.
    """
    if mode not in PAUSE_MODES:
        raise ValueError(f"Pause mode must be one of {sorted(PAUSE_MODES)}, not {mode!r}")
    if PAUSE_MODES[mode] == 0.0:
        return no_pause()
    return random_pause(PAUSE_MODES[mode], cocotb.RANDOM_SEED + offset)


def _bus(dut, prefix: str) -> _Bus:
    # cocotb-bus silently binds None for a missing port; name it here instead.
    for sig in _SIGNALS:
        name = f"{prefix}_{sig}"
        if not hasattr(dut, name):
            raise ValueError(f"Design has no port {name!r} for stream prefix {prefix!r}")
    return _Bus.from_prefix(dut, prefix)


class StreamSource(_Source):
    """Drive a valid/ready stream into the design.

    Parameters
    ----------
    dut : cocotb handle
        The toplevel.
    prefix : str
        Port prefix: ``"i_"`` for Amaranth's ``i__payload``/``i__valid``/``i__ready``.
    clock, reset : cocotb handles
        Clock and active-high reset; the source idles while reset is high.
    pause : iterator of bool, optional
        Pause generator; ``None`` never pauses.

    Use ``send``/``send_nowait`` with :meth:`beat` objects, and ``wait()`` for idle.
    """

    def __init__(self, dut, prefix: str, clock, reset=None, pause: Iterator[bool] | None = None):
        super().__init__(_bus(dut, prefix), clock, reset)
        if pause is not None:
            self.set_pause_generator(pause)

    @staticmethod
    def beat(payload: int) -> _Transaction:
        """Wrap an integer payload as one beat."""
        return _Transaction(payload=payload)


class StreamSink(_Sink):
    """Accept a valid/ready stream from the design, with ready backpressure.

    Parameters are those of :class:`StreamSource`; the pause generator drives
    ``ready`` low on paused cycles. Received beats queue up; ``await recv()``
    returns the next one (its ``payload`` is a cocotb ``LogicArray``).
    """

    def __init__(self, dut, prefix: str, clock, reset=None, pause: Iterator[bool] | None = None):
        super().__init__(_bus(dut, prefix), clock, reset)
        if pause is not None:
            self.set_pause_generator(pause)


class StreamMonitor:
    """Check the stream rules on one port and count transfers and stalls.

    Sampled at every rising clock edge while reset is low. Rules (those of
    ``amaranth.lib.stream``): once ``valid`` is high without ``ready``, ``valid``
    must stay high and ``payload`` must hold until the transfer.

    Parameters
    ----------
    dut, prefix, clock, reset
        As for :class:`StreamSource`.

    Members
    -------
    cycle : int
        Rising edges seen since reset was released.
    transfers : int
        Cycles with ``valid & ready``.
    stall_cycles : int
        Cycles with ``valid & ~ready`` (the receiver held the stream back).
    first_transfer, last_transfer : int or None
        Cycle index of the first and last transfer.
    marks : collection of int
        Transfer numbers (0 is the first transfer) whose cycle index is recorded; see
        :meth:`marked_cycles`.
    violations : list of str
        One line per broken rule, with the cycle index.
    """

    def __init__(self, dut, prefix: str, clock, reset=None, marks=()):
        bus = _bus(dut, prefix)
        self._marks = tuple(marks)
        self._wanted = frozenset(self._marks)
        self._marked: dict[int, int] = {}
        self.name = prefix.rstrip("_")
        self._payload, self._valid, self._ready = bus.payload, bus.valid, bus.ready
        self._clock, self._reset = clock, reset
        self.cycle = 0
        self.transfers = 0
        self.stall_cycles = 0
        self.first_transfer: int | None = None
        self.last_transfer: int | None = None
        self.violations: list[str] = []
        self._task = cocotb.start_soon(self._run())

    async def _run(self) -> None:
        held = None  # payload offered without ready on the previous edge
        edge = RisingEdge(self._clock)
        while True:
            await edge
            if self._reset is not None and _high(self._reset.value):
                held = None
                continue
            valid, ready = _high(self._valid.value), _high(self._ready.value)
            payload = str(self._payload.value)
            if held is not None:
                if not valid:
                    self.violations.append(
                        f"{self.name}: valid dropped before transfer at cycle {self.cycle}"
                    )
                elif payload != held:
                    self.violations.append(
                        f"{self.name}: payload changed from {held} to {payload} while "
                        f"waiting for ready at cycle {self.cycle}"
                    )
            if valid and ready:
                if self.transfers in self._wanted:
                    self._marked[self.transfers] = self.cycle
                self.transfers += 1
                if self.first_transfer is None:
                    self.first_transfer = self.cycle
                self.last_transfer = self.cycle
            elif valid:
                self.stall_cycles += 1
            held = payload if valid and not ready else None
            self.cycle += 1

    def marked_cycles(self) -> list[int | None]:
        """Cycle index of each marked transfer, in the order the marks were given (None for
        a transfer that has not happened)."""
        return [self._marked.get(k) for k in self._marks]

    def stop(self) -> None:
        """Stop sampling."""
        self._task.cancel()

    def assert_ok(self, seed: int) -> None:
        """Raise ``AssertionError`` listing the first rule violations, if any.

        Parameters
        ----------
        seed : int
            The regression seed (``COCOTB_RANDOM_SEED``) quoted for reproduction.
        """
        if self.violations:
            shown = "; ".join(self.violations[:5])
            raise AssertionError(
                f"{len(self.violations)} stream rule violation(s): {shown}; "
                f"reproduce with seed={seed}"
            )


def _high(value) -> bool:
    # X/Z on a handshake line counts as low: an undriven valid must not transfer.
    return value.is_resolvable and int(value) == 1


def beats_to_ints(beats) -> list[int]:
    """Turn an (n, bytes) uint8 array into little-endian integer payloads."""
    return [int.from_bytes(bytes(row), "little") for row in beats]


class BeatChecker:
    """Compare received beats with the expected ones, in order.

    Parameters
    ----------
    expected : sequence of int
        Expected payloads, in order.
    seed : int
        The regression seed (``COCOTB_RANDOM_SEED``), quoted in every failure
        so the run can be reproduced.
    name : str
        Stream name used in messages.
    """

    def __init__(self, expected: Sequence[int], seed: int, name: str = "o"):
        self.expected = [int(v) for v in expected]
        self.seed = seed
        self.name = name

    def check(self, got: Sequence[int | str]) -> None:
        """Raise ``AssertionError`` on the first lost, duplicated, wrong or extra beat.

        Parameters
        ----------
        got : sequence of int or str
            Received payloads in arrival order; a ``str`` is an unresolved value
            (X/Z bits) as the simulator printed it.
        """
        exp = self.expected
        for k in range(max(len(exp), len(got))):
            if k >= len(exp):
                self._fail(f"extra beat {k} (only {len(exp)} expected): got {_fmt(got[k])}")
            if k >= len(got):
                self._fail(
                    f"beat {k} lost: expected {_fmt(exp[k])}, got nothing "
                    f"({len(got)} of {len(exp)} beats arrived)"
                )
            if got[k] != exp[k]:
                self._fail(f"beat {k} wrong: expected {_fmt(exp[k])}, got {_fmt(got[k])}"
                           + _diagnose(exp, got, k))

    def _fail(self, what: str) -> None:
        raise AssertionError(f"{self.name}: {what}; reproduce with seed={self.seed}")


def _fmt(v: int | str) -> str:
    return f"0x{v:x}" if isinstance(v, int) else repr(v)


def _diagnose(exp: Sequence[int], got: Sequence[int | str], k: int) -> str:
    # Name the likely cause: a repeat of the previous beat, or the next beat early.
    if k > 0 and got[k] == exp[k - 1]:
        return f" (duplicate of beat {k - 1})"
    if k + 1 < len(exp) and got[k] == exp[k + 1]:
        return f" (beat {k} lost, beat {k + 1} arrived in its place)"
    return ""
