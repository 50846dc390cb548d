"""Small logic helpers shared by the generators: lint-clean comparisons and multiplexers,
quiet refusal of bad parameters, buffer memory attributes."""

from __future__ import annotations

import functools

from amaranth import Mux, Signal

__all__ = ["BUFFER_LUTRAM_DEPTH", "BUFFER_RAM", "MAX_SIDE", "buffer_attrs", "check_buffer_ram",
           "beat_phase", "check_count", "check_side", "equals", "pick", "refuse_quietly",
           "select"]

# Line and re-order buffers up to this depth go to LUT RAM, leaving block RAM to the tables
# (HKLUT-S tables alone take 52 of an ECP5-25F's 56 DP16KD).
BUFFER_LUTRAM_DEPTH = 512
# Memory kinds a design may ask for its buffers: "auto" splits by BUFFER_LUTRAM_DEPTH;
# "block" suits a part with block RAM to spare, where thousands of LUT RAM cells would
# congest the routing; "lut" keeps every block RAM for tables.
BUFFER_RAM = ("auto", "block", "lut")
# Largest frame side an image engine (its line and re-order buffers) is built for.
MAX_SIDE = 4096


def check_count(name: str, value, least: int = 1) -> None:
    """Refuse a generator parameter that is not an integer of at least ``least`` (bools too).

    Raises
    ------
    ValueError
        Naming ``name`` and ending with the value's repr.
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        kind = "a positive integer" if least == 1 else f"an integer of at least {least}"
        raise ValueError(f"{name} must be {kind}, got {value!r}")


def check_side(name: str, value, least: int) -> None:
    """Refuse a frame side that is not an integer in ``least`` .. :data:`MAX_SIDE`.

    Raises
    ------
    ValueError
        Naming ``name`` and ending with the value's repr.
    """
    check_count(name, value, least)
    if value > MAX_SIDE:
        raise ValueError(f"{name} must be at most {MAX_SIDE}, the side of the largest "
                         f"supported LR frame, got {value!r}")


def equals(value, constant: int):
    """``value == constant``; for 0 as a reduction, since Amaranth writes ``x == 0`` as
    ``!x``, which Verilator flags (WIDTHTRUNC) on a multi-bit ``x``."""
    return ~value.any() if constant == 0 else value == constant


def beat_phase(m, phases: int, advance, port):
    """The phase of an input beat that a stage reads over ``phases`` cycles: a counter
    that moves while the stage ``advance``-s on a valid beat, and ``port.ready`` in its
    last phase only, so the beat is taken once its last read is issued. A single phase
    leaves the counter at 0 (its width stays one bit, as Verilator wants)."""
    phase = Signal(range(max(phases, 2)))
    m.d.comb += port.ready.eq(advance & equals(phase, phases - 1))
    with m.If(advance & port.valid):
        with m.If(equals(phase, phases - 1)):
            m.d.sync += phase.eq(0)
        with m.Else():
            m.d.sync += phase.eq(phase + 1)
    return phase


def refuse_quietly(init):
    """Decorate a component's ``__init__``: if it raises, the half-built object is not
    reported as an unused elaboratable (Amaranth warns about those when collected)."""
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except (TypeError, ValueError):
            self._MustUse__silence = True
            raise
    return wrapper


def select(index, options):
    """``options[index]`` as a chain of 2-way multiplexers (the last option is the default).

    Unlike ``Array`` indexing this emits no ``case`` statement, which Verilator flags
    (CASEINCOMPLETE) whenever the option count is not a power of two.
    """
    options = list(options)
    result = options[-1]
    for k in reversed(range(len(options) - 1)):
        result = Mux(equals(index, k), options[k], result)
    return result


def pick(index, options):
    """``options[index]`` as a balanced tree of 2-way multiplexers, one level per index bit
    (options padded with the last to an even count at each level).

    Not ``Array`` indexing: that becomes a ``case`` in a combinational ``always`` block,
    which Icarus does not evaluate until an input changes, so a block of constants (the
    biases) or of a register that holds its reset value (a first all-zero vector) stays
    X. ``index`` must lie below ``len(options)``.
    """
    options = list(options)
    bit = 0
    while len(options) > 1:
        options += options[-1:] * (len(options) % 2)
        options = [Mux(index[bit], hi, lo) for lo, hi in zip(options[::2], options[1::2])]
        bit += 1
    return options[0]


def check_buffer_ram(value) -> None:
    """Refuse a buffer memory kind not in :data:`BUFFER_RAM`."""
    if value not in BUFFER_RAM:
        raise ValueError(f"buffer_ram must be one of {BUFFER_RAM}, got {value!r}")


def buffer_attrs(depth: int, ram: str = "auto") -> dict:
    """Memory attributes (yosys ``ram_style``) of a writable buffer of ``depth`` words,
    of memory kind ``ram`` (one of :data:`BUFFER_RAM`)."""
    check_buffer_ram(ram)
    if ram == "auto":
        ram = "lut" if depth <= BUFFER_LUTRAM_DEPTH else "block"
    return {"ram_style": "distributed" if ram == "lut" else "block"}
