"""PECAN-D on the model side: product-quantised torch layers (:mod:`.pq`), their QAT layers
in the network's training loop (:mod:`.layers`, the ``pecan-d`` torch layers), and the
export-side prototype usage, pruning and memory bits (:mod:`.export`)."""
