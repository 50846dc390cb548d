"""Bicubic x``scale`` streaming interpolation engine: the shared line buffer and re-order around a
separable tap multiply-add (vertical column sums shared by a row of phases, then horizontal).

Block diagram (``engine.py``)::

    pixels (8 bit) --> LineWindow --> BicubicTaps --> BlockReorder --> pixels (8 bit, P a beat)
                       (replicate     (one output     (hw.block_reorder)
                        border,        pixel a cycle)
                        hw.line_window)

The window and the re-order are the ones the HKLUT engine's stages use; the
arithmetic is stated in ``edgeforge.schemes.bicubic``.
"""
