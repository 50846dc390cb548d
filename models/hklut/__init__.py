"""HKLUT on the model side: LUT import, evaluation and storage accounting."""
