"""The network compiler: a dataflow pipeline, one engine per layer, streams between them.

``vectors`` (stream payloads of packed integers), ``plan`` (the stage list of a
network and folding, pure Python, shared with the cycle model), ``window``
(sliding windows with zero padding), ``mac`` (the dense transform's MAC core,
PE x SIMD folding), ``cam`` (the PECAN-D transform's CAM core: L1 match units,
arg-min trees, result-table ROMs; groups x prototypes a cycle), ``requant`` (shift, round half up, saturate), ``reshape``
(gather beats into a vector, serialise a beat), ``pool`` (max-pool),
``argmax`` (class, lowest index on a tie), ``pipeline`` (the whole network)
and ``design`` (:class:`~.design.NetworkDesign`).
"""
