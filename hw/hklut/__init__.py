"""HKLUT streaming LUT-cache engine: line buffers, index generators, table banks, combiner, re-order.

Block diagram of one stage (``engine.py`` chains one per stage factor)::

    pixels (q, rem) --> LineWindow --> LookupCombine --> BlockReorder --> pixels (q, rem)
                        (hw.line_window) (index, tables,   (hw.block_reorder)
                                          combine)

The first stage takes 8-bit pixels as ``(q, 0)``; the last stage's re-order
emits ``P`` pixels per beat that are rounded half to even to 8 bits.
"""
