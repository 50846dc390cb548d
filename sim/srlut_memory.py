"""A model of the external memory behind an SR-LUT engine's read port, for Amaranth simulation.

It takes row requests on ``mem_addr`` (ready low on a random share of cycles),
answers each with the row's word on ``mem_data`` in request order after a random
latency (``latency`` cycles at least, up to ``latency + jitter``), and counts the
traffic. Use :meth:`process` as one of ``run_stream``'s ``processes``.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

__all__ = ["MemoryModel"]


@dataclass
class MemoryModel:
    """Rows ``words`` (one unsigned word per table row) served with latency and stalls."""
    words: list[int]
    word_bits: int
    latency: int = 1
    jitter: int = 0
    p_ready: float = 1.0
    seed: int = 0
    reads: int = 0
    rows: set = field(default_factory=set)

    @property
    def bytes_read(self) -> int:
        return self.reads * self.word_bits // 8

    def process(self, addr, data):
        """The testbench coroutine for the engine's ``mem_addr`` / ``mem_data`` ports."""
        rng = random.Random(self.seed)
        pending: deque = deque()      # (cycle the answer is due, row), due cycles increasing

        async def run(ctx):
            cycle = 0
            while True:
                ready = rng.random() < self.p_ready
                ctx.set(addr.ready, ready)
                answer = pending and pending[0][0] <= cycle
                ctx.set(data.valid, 1 if answer else 0)
                if answer:
                    ctx.set(data.payload, self.words[pending[0][1]])
                _, _, valid, row = await ctx.tick().sample(addr.valid, addr.payload)
                if answer:
                    pending.popleft()
                if valid and ready:
                    due = cycle + self.latency + rng.randint(0, self.jitter)
                    if pending:
                        due = max(due, pending[-1][0] + 1)
                    pending.append((due, int(row)))
                    self.reads += 1
                    self.rows.add(int(row))
                cycle += 1
        return run
