"""DeBut (deformable butterfly) layers for the network compiler's ``"debut"`` transform kind.

- :mod:`.chain` (pure Python): the All-DeBut generator and a search for valid chains of any
  shape;
- :mod:`.layers` (torch): factors and chains as QAT layers (``conv2d`` / ``linear`` rows of
  :data:`edgeforge.models.network.quant.LAYERS`), per-factor power-of-two scales;
- :mod:`.als` (NumPy): alternating least squares from a trained dense matrix;
- :mod:`.convert`: All-DeBut, the chains of a network picked under a parameter budget and
  initialised from its dense layers, ready for the fine-tune
  (:func:`edgeforge.models.network.train.train_network`).
"""
