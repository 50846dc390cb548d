"""Packing of integer stream payloads into the little-endian beat bytes the testbench drives."""

import numpy as np

__all__ = ["payload_bytes", "pack_beats"]


def payload_bytes(bits: int) -> int:
    return (bits + 7) // 8


def pack_beats(words, bits: int) -> np.ndarray:
    """uint8 (beats, bytes) little-endian bytes of unsigned ``words`` (values < 2**bits).

    Integer arrays of payloads up to 64 bits go through NumPy; anything else (a list, which
    NumPy would turn into float64 once a value reaches 2**63, an object array, or payloads
    wider than 64 bits: a beat of sixteen int8 channels, a row of logits) as Python
    integers, so any width packs exactly.

    Raises
    ------
    ValueError
        If a word is not an integer, is negative or does not fit ``bits``, naming the first.
    """
    n = payload_bytes(bits)
    if isinstance(words, np.ndarray) and words.dtype.kind in "iub" and n <= 8:
        array = words.ravel()
        if array.size and (array.min() < 0 or int(array.max()) >> bits):
            bad = next(int(v) for v in array if v < 0 or int(v) >> bits)
            raise ValueError(f"words must be unsigned and fit {bits} bits, got {bad!r}")
        return array.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :n].copy()
    values = list(np.asarray(words, dtype=object).ravel())
    bad = next((v for v in values if not isinstance(v, (int, np.integer))
                or isinstance(v, bool) or v < 0 or int(v) >> bits), None)
    if bad is not None:
        raise ValueError(f"words must be unsigned integers that fit {bits} bits, got {bad!r}")
    data = b"".join(int(v).to_bytes(n, "little") for v in values)
    return np.frombuffer(data, np.uint8).reshape(len(values), n).copy()
