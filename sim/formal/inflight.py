"""What an engine holds in flight, read from its registers: the invariant that proves beat
conservation by k-induction.

Counting beats in and out (``StreamHarness(ratio=...)``) needs unbounded counters, which
do not induct, and a BMC deep enough for a whole frame (a 3x3 frame of HKLUT-S's engine
gives its first output 95 cycles in). Instead the harness keeps one register, ``owed``:
the output pixels the inputs taken so far entitle, less those given (``+ a`` for every
input beat, ``- b`` for every output beat), and asserts in every cycle that it equals what
the engine holds, ``held(state)``, a sum over its blocks written from their registers:

- :func:`line_window`: pixels written into the row memories but not yet passed by the
  reader, plus the read steps in its pipeline (``meta_d``, ``meta_e``, the shift
  register's ``meta_reg``) and its output register;
- :func:`block_reorder`: the pixels of full buffers not yet read, those written into the
  filling one, and the read beats in its two registers and output;
- :func:`srlut_readout` (the anchor in the SR-LUT readout), :func:`bicubic_taps` and
  :func:`hklut_lookup`: the windows in their pipelines, counted by the stage that carries
  a window's last phase.

Each block's count is scaled to output pixels (a stage pixel becomes ``(r_s ...)^2`` of
them). With ``owed == held`` and ``owed >= 0`` asserted in every cycle, a k-induction
PASS proves, for ever from reset and under any valid/ready: the outputs never outnumber
what the inputs entitle (no beat is repeated or invented), and every entitled output is
accounted for in the engine's registers (no beat is dropped: a lost beat would leave
``owed`` above ``held``). The range facts the counting needs (counters inside their
ranges, the line window's ``need`` register equal to its row's plan, a buffer's
counters at zero when it is full or empty) are asserted alongside, so a wrong one fails
the check instead of weakening it: every invariant here is proved, none assumed.

The registers are looked up by name in the elaborated blocks (``hw/line_window.py``,
``hw/block_reorder.py``, ``hw/srlut/engine.py``, ``hw/bicubic/taps.py``,
``hw/hklut/lookup.py``); a renamed register makes building the check fail with its name.
"""

from __future__ import annotations

import math

from amaranth import Elaboratable, Mux, Value
from amaranth.hdl import Fragment
from amaranth.hdl._ast import Assign, Switch   # statement walk: only to find a driver
from amaranth.lib import data

__all__ = ["Held", "Prebuilt", "elaborate", "Blocks", "line_window", "block_reorder",
           "srlut_readout", "bicubic_taps", "hklut_lookup", "engine_in_flight"]


class Held:
    """What a block holds, in some unit, and the range facts the count relies on.

    Members
    -------
    count : Value
        Units held (a non-negative integer expression of the block's registers).
    facts : list of (Value, str)
        Conditions true in every reachable state, asserted by the harness.
    """

    def __init__(self, count, facts=()):
        self.count, self.facts = count, list(facts)

    def scaled(self, k: int) -> "Held":
        return Held(self.count * k, self.facts)

    def __add__(self, other: "Held") -> "Held":
        return Held(self.count + other.count, self.facts + other.facts)


class Prebuilt(Elaboratable):
    """A fragment elaborated ahead of time (so that its registers can be named in the
    harness's assertions), added as a submodule."""

    def __init__(self, fragment):
        self.fragment = fragment

    def elaborate(self, platform):
        return self.fragment


def elaborate(dut, platform) -> Fragment:
    return Fragment.get(dut, platform)


class Blocks:
    """The elaborated fragments of an engine: sub-blocks by submodule name, and the
    registers each drives, by name."""

    def __init__(self, fragment, where: str = "engine"):
        self.fragment, self.where = fragment, where

    def sub(self, name: str) -> "Blocks":
        for frag, sub_name, _ in self.fragment.subfragments:
            if sub_name == name:
                return Blocks(frag, f"{self.where}.{name}")
        names = [n for _, n, _ in self.fragment.subfragments]
        raise KeyError(f"{self.where} has no submodule {name!r} (it has {names})")

    def _statements(self):
        for stmts in self.fragment.statements.values():
            yield from _walk(stmts)

    def reg(self, name: str) -> Value:
        found = []          # Signals are not hashable: keep the distinct ones by identity
        for st in self._statements():
            if isinstance(st, Assign):
                found += [s for s in st._lhs_signals()
                          if s.name == name and not any(s is f for f in found)]
        if len(found) != 1:
            raise KeyError(f"{self.where} drives {len(found)} signals named {name!r}, "
                           f"need exactly one")
        return found.pop()

    def driver_of(self, target) -> Value:
        """The value assigned to register ``target`` (a name or a signal): how to find a
        register whose own name Amaranth could not infer, such as the first of
        ``a, b = Signal(), Signal()``, from the one it feeds."""
        name = target if isinstance(target, str) else target.name
        target = self.reg(target) if isinstance(target, str) else target
        rhs = {repr(st.rhs): st.rhs for st in self._statements()
               if isinstance(st, Assign) and st.lhs is target}
        if len(rhs) != 1:
            raise KeyError(f"{self.where}: {name!r} is assigned {len(rhs)} different values, "
                           f"need exactly one")
        return rhs.popitem()[1]


def _walk(stmts):
    for st in stmts:
        if isinstance(st, Switch):
            for _, body, _ in st.cases:
                yield from _walk(body)
        else:
            yield st


def _sum(values):
    values = list(values)
    return sum(values[1:], values[0])


# -- the shared stage blocks -------------------------------------------------------------

def line_window(blocks: Blocks, window) -> Held:
    """Input pixels a :class:`~edgeforge.hw.line_window.LineWindow` holds whose windows
    it has not given: written ``occupied * words + wcol`` words past ``tail``, less the
    words its reader has stepped past (``row - released`` rows and ``col``), plus the
    steps in its pipeline; ``lanes`` pixels a word."""
    from edgeforge.hw.line_window import RADIUS, SLOTS, _row_plan, lookahead_words
    words, h, lanes = window.width // window.lanes, window.height, window.lanes
    ahead = lookahead_words(lanes)
    # The reader's metadata layout (line_window.py): ``valid`` is its first field.
    meta = data.StructLayout({"valid": 1, "top": 1, "bottom": 1,
                              "lead": range(ahead + 1), "trail": range(ahead + 1)})
    occupied, wcol, row, col, need = (blocks.reg(n) for n in ("occupied", "wcol", "row", "col",
                                                               "need"))
    meta_reg = blocks.reg("meta_reg")
    steps = [blocks.reg("meta_d")[0], blocks.reg("meta_e")[0],
             *(meta_reg[k * meta.size] for k in range(ahead + 1)), window.o.valid]
    released = Mux(row >= RADIUS, row - RADIUS, 0)     # rows let go so far in this frame
    count = (occupied * words + wcol - (row - released) * words - col + _sum(steps)) * lanes
    plan_need = _row_plan(row, h, Mux, window.border)[0]
    facts = [(row < h, f"{blocks.where}: row < {h}"),
             (col < words, f"{blocks.where}: col < {words}"),
             (wcol < words, f"{blocks.where}: wcol < {words}"),
             (occupied <= SLOTS, f"{blocks.where}: occupied <= {SLOTS}"),
             (need == plan_need, f"{blocks.where}: need == the plan of its row"),
             # The rows the reader has passed are held, and all those a row being read
             # reaches.
             (occupied >= row - released, f"{blocks.where}: passed rows are held"),
             ((col == 0) | (occupied >= need), f"{blocks.where}: a row being read is held"),
             (count >= 0, f"{blocks.where}: holds a non-negative count")]
    return Held(count, facts)


def block_reorder(blocks: Blocks, reorder) -> Held:
    """Output pixels a :class:`~edgeforge.hw.block_reorder.BlockReorder` holds: its full
    buffers less what the reader has stepped through of the one it drains, what the
    writer has put into the one it fills, and the beats in its read registers."""
    r, w, lanes = reorder.r, reorder.width, reorder.lanes
    beat = reorder.blocks * r
    banks = math.lcm(lanes, beat)
    words = w * r // banks
    row_px = w * r
    full0, full1 = blocks.reg("full0"), blocks.reg("full1")
    wbuf, wword, woff = blocks.reg("wbuf"), blocks.reg("wword"), blocks.reg("woff")
    rbuf, rdy, rword, roff = (blocks.reg(n) for n in ("rbuf", "rdy", "rword", "roff"))
    valid_q = blocks.reg("valid_q")
    valid_r = blocks.driver_of("valid_q")          # `valid_r, valid_q = Signal(), Signal()`
    full_w, full_r = Mux(wbuf, full1, full0), Mux(rbuf, full1, full0)
    stepped = rdy * row_px + rword * banks + roff
    written = r * (wword * banks + woff)
    count = ((full0 + full1) * (r * row_px) - Mux(full_r, stepped, 0) + Mux(full_w, 0, written)
             + lanes * (valid_r + valid_q + reorder.o.valid))
    where = blocks.where
    facts = [(wword < words, f"{where}: wword < {words}"),
             (woff < banks, f"{where}: woff < {banks}"),
             (rword < words, f"{where}: rword < {words}"),
             (roff < banks, f"{where}: roff < {banks}"),
             (rdy < r, f"{where}: rdy < {r}"),
             (~full_w | ((wword == 0) & (woff == 0)),
              f"{where}: a full buffer is not being filled"),
             (full_r | ((rdy == 0) & (rword == 0) & (roff == 0)),
              f"{where}: an empty buffer is not being read")]
    facts.append((count >= 0, f"{where}: holds a non-negative count"))
    if beat > 1:
        facts.append((woff % beat == 0, f"{where}: woff a multiple of {beat}"))
    if lanes > 1:
        facts.append((roff % lanes == 0, f"{where}: roff a multiple of {lanes}"))
    return Held(count, facts)


# -- the engines' middles ----------------------------------------------------------------

def srlut_readout(blocks: Blocks) -> Held:
    """Windows the SR-LUT readout holds: one while ``busy`` (taken, its block not handed)."""
    return Held(blocks.reg("busy"))


def bicubic_taps(blocks: Blocks, taps) -> Held:
    """Windows in the bicubic tap pipeline (``hw/bicubic/taps.py``): the stages whose
    metadata carries a window's last phase (``valid`` bit 0, ``last`` bit 1), and the
    block at the output. The window at the input is the line window's until its last
    phase takes it."""
    from edgeforge.hw.bicubic.taps import pipeline_depth
    depth = pipeline_depth(taps.config.scale) - 1
    metas = [blocks.reg(f"meta{k}") for k in range(1, depth + 1)]
    return Held(_sum([mt[0] & mt[1] for mt in metas] + [taps.o.valid]))


def hklut_lookup(blocks: Blocks, lookup) -> Held:
    """Beats (``lanes`` windows each) in an HKLUT :class:`~edgeforge.hw.hklut.lookup.LookupCombine`:
    metadata stages carrying a window's last phase (``valid`` bit 0, ``last`` bit 2), then
    the combine's valid registers and its output."""
    # `meta1, meta2, meta3 = Signal(meta), ...`: only the last gets its name.
    meta3 = blocks.reg("meta3")
    meta2 = blocks.driver_of(meta3)
    metas = [blocks.driver_of(meta2), meta2, meta3]
    regs = [blocks.reg(n) for n in ("done3", "valid4", "valid5")]
    return Held(_sum([mt[0] & mt[2] for mt in metas] + regs + [lookup.o.valid]))


def _origin(blocks: Blocks):
    origins = blocks.fragment.origins or ()
    return origins[0]


def engine_in_flight(kind: str):
    """``f(fragment, engine) -> (Held in output pixels, (a, b))`` for an engine of ``kind``
    (``srlut``, ``bicubic`` or ``hklut``): ``a`` output pixels owed per input beat, ``b``
    per output beat."""
    if kind not in ("srlut", "bicubic", "hklut"):
        raise ValueError(f"kind must be 'srlut', 'bicubic' or 'hklut', got {kind!r}")

    def held(fragment, engine):
        top = Blocks(fragment)
        if kind == "hklut":
            return _hklut_held(top, engine)
        if kind == "srlut":
            names, middle = ("window", "reorder"), lambda b: srlut_readout(top)
        else:
            names = ("s0_window", "s0_reorder")
            middle = lambda b: bicubic_taps(b.sub("s0_taps"), _origin(b.sub("s0_taps")))
        win, reo = (top.sub(n) for n in names)
        r = engine.r if kind == "srlut" else engine.config.scale
        total = (line_window(win, _origin(win)) + middle(top)).scaled(r * r)
        total = total + block_reorder(reo, _origin(reo))
        return total, (r * r, engine.out_pixels)
    return held


def _hklut_held(top: Blocks, engine):
    stages = engine.config.stages
    total = None
    for s, r in enumerate(stages):
        down = math.prod(stages[s + 1:]) ** 2          # output pixels per stage-s output pixel
        win, look, reo = (top.sub(f"s{s}_{n}") for n in ("window", "lookup", "reorder"))
        lookup = _origin(look)
        stage = (line_window(win, _origin(win))
                 + hklut_lookup(look, lookup).scaled(lookup.lanes)).scaled(r * r * down)
        stage = stage + block_reorder(reo, _origin(reo)).scaled(down)
        total = stage if total is None else total + stage
    return total, (engine.config.scale ** 2, engine.out_pixels)
