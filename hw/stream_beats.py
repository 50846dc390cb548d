"""Packing of integer stream payloads into the little-endian beat bytes the testbench drives."""

import numpy as np

__all__ = ["payload_bytes", "pack_beats"]


def payload_bytes(bits: int) -> int:
    return (bits + 7) // 8


def pack_beats(words: np.ndarray, bits: int) -> np.ndarray:
    """uint8 (beats, bytes) little-endian bytes of unsigned ``words`` (values < 2**bits)."""
    words = np.asarray(words, dtype=np.uint64).ravel()
    n = payload_bytes(bits)
    if n > 8:
        raise ValueError(f"pack_beats packs up to 64-bit payloads, got {bits} bits")
    return words.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :n].copy()
