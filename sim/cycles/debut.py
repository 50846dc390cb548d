"""Timing of the DeBut core (:class:`edgeforge.hw.network.butterfly.DebutCore`).

Factor ``k`` with ``L_k`` MAC lanes takes ``F_k = p_k s_k / L_k`` folds a vector
(:func:`~edgeforge.schemes.network_debut.fold_count`) and has the dense core's control
(a vector taken on the last fold, its result ``core_depth(F_k)`` cycles after it, frozen
while blocked), and the stages follow each other directly: the core takes
``max_k F_k`` cycles a vector in steady state, and its control in the cycle model's
timeline is the chain of the stages' controls.
"""

from __future__ import annotations

from edgeforge.sim.cycles.record import OperationLine, TrafficLine

__all__ = ["debut_cycles", "chain_block", "debut_traffic", "debut_operations"]


class _Chain:
    """Blocks in a row, seen as one block (the factor stages of a DeBut core)."""

    def __init__(self, blocks):
        self.blocks = blocks

    def _readies(self, out_ready):
        ready = [out_ready]
        for b in reversed(self.blocks):
            ready.insert(0, b.ready(ready[0]))
        return ready

    @property
    def valid(self):
        return self.blocks[-1].valid

    def ready(self, out_ready):
        return self._readies(out_ready)[0]

    def tick(self, fire, out_ready):
        ready = self._readies(out_ready)
        fires = [fire] + [self.blocks[k - 1].valid and ready[k]
                          for k in range(1, len(self.blocks))]
        for k, b in enumerate(self.blocks):
            b.tick(fires[k], ready[k + 1])

    def state(self):
        return tuple(b.state() for b in self.blocks)


def debut_cycles(params) -> int:
    """Cycles of one vector through a DeBut core stage: the slowest factor's folds (the
    stages overlap)."""
    return max(params["factor_folds"])


def chain_block(st):
    """The core's control in the cycle model's timeline: one dense-core control a factor (a
    single emission a vector, so its folds are also its "synapse folds"), in a row."""
    from edgeforge.hw.network.mac import core_depth
    from edgeforge.sim.cycles.network import _Core
    return _Chain([_Core(f, f, core_depth(f)) for f in st.params["factor_folds"]])


def debut_traffic(st) -> list[TrafficLine]:
    """Each factor's ROM (when not fully parallel): a word of its lanes' nonzeros a fold."""
    p = st.params
    return [TrafficLine(f"{st.name}.f{k}", lanes * p["weight_bits"],
                        reads=st.inp.beats * folds, writes=0,
                        array_bits=lanes * p["weight_bits"] * folds)
            for k, (lanes, folds) in enumerate(zip(p["factor_lanes"], p["factor_folds"]))
            if folds > 1]


def debut_operations(st) -> list[OperationLine]:
    """A DeBut core's arithmetic per image: each factor's ``p s`` MACs a vector (padded rows
    included: the hardware computes them), a multiply of ``weight_bits`` by its input's
    width (the layer input's for the first factor, ``mid_bits`` after it) and an add, costed
    at the layer accumulator's width; and the rounding add of each factor's ``p`` outputs
    but the last's."""
    from edgeforge.schemes.network_debut import Factor
    p, vectors, lines = st.params, st.inp.beats, []
    for k, f in enumerate(Factor(*f) for f in p["factors"]):
        macs = vectors * f.params
        in_bits = st.inp.bits if k == 0 else p["mid_bits"]
        lines += [OperationLine(f"{st.name} factor {k + 1} products", "mul",
                                (p["weight_bits"], in_bits), macs),
                  OperationLine(f"{st.name} factor {k + 1} accumulation", "add",
                                (st.out.bits,), macs)]
        if k < len(p["factors"]) - 1:
            lines.append(OperationLine(f"{st.name} factor {k + 1} rounding", "add",
                                       (st.out.bits,), vectors * f.p))
    return lines
