"""Formal checks with SymbiYosys and z3: stream rules, beat conservation and equivalence.

- :mod:`.sby`: run one harness through ``yowasp-sby`` (k-induction or BMC) and read the
  verdict, the failing assertion, its cycle and the counterexample VCD;
- :mod:`.streams`: the stream-rule, reset, conservation and progress harness;
- :mod:`.equivalence`: a block against its reference for every input, two stream blocks
  in lockstep;
- :mod:`.checks`: the catalogue the tests, ``edgeforge formal`` and the README use.
"""
