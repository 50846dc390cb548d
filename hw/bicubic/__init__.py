"""Bicubic x``scale`` streaming interpolation engine: HKLUT's line buffer and re-order around a
separable tap multiply-add (vertical column sums shared by a row of phases, then horizontal).

Block diagram (``engine.py``)::

    pixels (8 bit) --> LineWindow --> BicubicTaps --> BlockReorder --> pixels (8 bit, P a beat)
                       (replicate     (one output     (hw.hklut.reorder)
                        border)        pixel a cycle)

The window and the re-order are the HKLUT engine's (``edgeforge.hw.hklut``); the
arithmetic is stated in ``edgeforge.schemes.bicubic``.
"""
