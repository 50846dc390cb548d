"""Classifier networks on the model side: QAT layers, presets, training and export to the network artifact."""
