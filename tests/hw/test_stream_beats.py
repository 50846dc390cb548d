"""pack_beats: little-endian beat bytes for payloads of any width."""

import numpy as np
import pytest

from edgeforge.hw.stream_beats import pack_beats


def test_narrow_words_pack_little_endian():
    assert pack_beats(np.array([0x0102, 0x0FFF]), 12).tolist() == [[0x02, 0x01], [0xFF, 0x0F]]


def test_wide_words_pack_every_byte():
    # Sixteen int8 channels in one beat: 128 bits, beyond NumPy's 64-bit words.
    lanes = np.arange(-8, 8, dtype=np.int8)
    word = sum(int(v) << (8 * k) for k, v in enumerate(lanes.view(np.uint8)))
    beats = pack_beats([word, (1 << 130) - 1], 130)
    assert beats.shape == (2, 17)
    assert beats[0, :16].view(np.int8).tolist() == lanes.tolist() and beats[0, 16] == 0
    assert beats[1].tolist() == [0xFF] * 16 + [0x03]


def test_a_list_past_int64_packs_exactly():
    # NumPy makes this list float64, which would drop the low bits.
    assert pack_beats([2**63 + 5, 1], 64).tolist() == [[5, 0, 0, 0, 0, 0, 0, 0x80],
                                                       [1, 0, 0, 0, 0, 0, 0, 0]]


@pytest.mark.parametrize("bits", [8, 100])
@pytest.mark.parametrize("bad", [-1, 256, 2.5])
def test_words_that_do_not_fit_are_refused(bits, bad):
    bad = bad if bits == 8 or bad != 256 else 1 << bits
    with pytest.raises(ValueError, match=rf"^words must be unsigned (integers that )?fit {bits} "
                                         rf"bits, got {bad}$"):
        pack_beats([1, bad], bits)
    if not isinstance(bad, float):
        with pytest.raises(ValueError, match=rf"fit {bits} bits, got {bad}$"):
            pack_beats(np.array([1, bad], dtype=object if bits > 60 else np.int64), bits)
