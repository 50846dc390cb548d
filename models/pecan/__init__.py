"""PECAN-D on the model side: product-quantised torch layers (:mod:`.pq`)."""
