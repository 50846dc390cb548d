"""The HKLUT table words and their ROM bank."""

import numpy as np
import pytest

from edgeforge.hw.hklut.tables import pack_table, table_bank


def test_pack_table_puts_element_zero_lowest():
    table = np.array([[[1, -1], [-128, 127]]], np.int8)
    assert pack_table(table) == [0x01 | 0xFF << 8 | 0x80 << 16 | 0x7F << 24]


def test_table_bank_holds_one_block_a_word():
    table = np.random.default_rng(0).integers(-128, 128, size=(256, 2, 2)).astype(np.int8)
    bank = table_bank(table, 4)
    assert (bank.words, bank.word_bits, bank.reads, bank.copies) == (pack_table(table), 32, 4, 2)


def test_table_bank_refuses_three_reads():
    with pytest.raises(ValueError, match=r"^reads must be one of \(1, 2, 4, 8, 16\), got 3$"):
        table_bank(np.zeros((16, 2, 2), np.int8), 3)
