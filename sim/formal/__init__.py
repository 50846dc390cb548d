"""Formal checks with SymbiYosys and z3: stream rules, beat conservation and equivalence.

- :mod:`.sby`: run one harness through ``yowasp-sby`` (k-induction or BMC) and read the
  verdict, the failing assertion, its cycle and the counterexample VCD;
- :mod:`.streams`: the stream-rule, reset, conservation, progress and frame harness;
- :mod:`.inflight`: what the image engines hold, read from their registers: the
  invariant that proves their beat conservation by k-induction;
- :mod:`.memory`: a free memory (any latency, any stall) behind an engine's table port;
- :mod:`.equivalence`: a block against its reference for every input, two stream blocks
  in lockstep;
- :mod:`.checks`: the catalogue the tests, ``edgeforge formal`` and the README use.
"""
