"""Bicubic x``scale`` streaming interpolation engine: HKLUT's line buffer and re-order around a
4 x 4 tap multiply-add.

Block diagram (``engine.py``)::

    pixels (8 bit) --> LineWindow --> BicubicTaps --> BlockReorder --> pixels (8 bit, P a beat)
                       (replicate     (one output     (hw.hklut.reorder)
                        border)        pixel a cycle)

The window and the re-order are the HKLUT engine's (``edgeforge.hw.hklut``); the
arithmetic is stated in ``edgeforge.schemes.bicubic``.
"""
