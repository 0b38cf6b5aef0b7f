"""The numpy range coder: round trips, byte counts and hostile input."""

import numpy as np
import pytest
from helpers import random_tables

from mnist_compression.coding.range_coder import CodingTables, decode, encode
from mnist_compression.coding.tables import tables_from_pmfs


def test_flat_layout_round_trips():
    tables = random_tables(np.random.default_rng(3))
    flat = tables.to_flat()
    assert flat.dtype == np.int32 and (flat == -12).sum() == len(tables.lengths)
    again = CodingTables.from_flat(flat, tables.offsets)
    assert np.array_equal(again.cdf, tables.cdf) and np.array_equal(again.lengths, tables.lengths)
    assert np.array_equal(again.offsets, tables.offsets) and again.precision == tables.precision
    assert np.array_equal(again.to_flat(), flat)


# --- coding --------------------------------------------------------------------------------------

@pytest.mark.parametrize("precision", [10, 12, 16])
def test_round_trip_including_escapes(precision):
    rng = np.random.default_rng(precision)
    tables = random_tables(rng, precision=precision)
    symbols = tables.offsets + rng.integers(-3, 45, (3000, len(tables.lengths)))
    symbols[:50] = rng.integers(-(2**29), 2**29, (50, len(tables.lengths)))
    index = symbols - tables.offsets
    assert (index < 0).sum() > 1000 and (index >= tables.lengths).sum() > 1000  # both escapes
    strings = encode(symbols, tables)
    assert len(strings) == 3000 and all(isinstance(s, bytes) for s in strings)
    decoded, sane = decode(strings, tables)
    assert decoded.dtype == np.int32
    np.testing.assert_array_equal(decoded, symbols)
    assert sane.all()


def test_likely_symbols_cost_few_bytes():
    tables = tables_from_pmfs([np.array([0.97, 0.01, 0.01, 0.01], np.float32)] * 50, [0] * 50)
    strings = encode(np.zeros((10, 50), np.int64), tables)
    # 50 symbols of probability ~0.97 carry ~2.2 bits. All take the first bin, whose interval
    # starts at 0, so the final value is 0 and even the byte for it is implicit.
    assert {len(s) for s in strings} == {0}
    decoded, sane = decode(strings, tables)
    assert not decoded.any() and sane.all()


def test_empty_batch_and_shape_errors():
    tables = random_tables(np.random.default_rng(4))
    assert encode(np.zeros((0, len(tables.lengths))), tables) == []
    decoded, sane = decode([], tables)
    assert decoded.shape == (0, len(tables.lengths)) and sane.shape == (0,)
    with pytest.raises(ValueError, match=r"Expected symbols shaped \[N, 12\]"):
        encode(np.zeros((2, 3)), tables)


@pytest.mark.timeout(10)
def test_values_tfc_would_never_finish_encoding_raise():
    tables = random_tables(np.random.default_rng(5))
    symbols = np.zeros((2, len(tables.lengths)), np.int64)
    symbols[1, 3] = 2**31 - 1
    with pytest.raises(ValueError, match="more than 2\\*\\*30 beyond"):
        encode(symbols, tables)
    # The limit is exact: an escape distance of 2**30 - 1 on either side still codes.
    low, high = tables.offsets[3], tables.offsets[3] + tables.lengths[3] - 1
    symbols[:, 3] = [low - (2**30 - 1), high + 2**30 - 1]
    decoded, sane = decode(encode(symbols, tables), tables)
    np.testing.assert_array_equal(decoded, symbols)
    assert sane.all()
    for beyond in (low - 2**30, high + 2**30):
        symbols[1, 3] = beyond
        with pytest.raises(ValueError, match="more than 2\\*\\*30 beyond"):
            encode(symbols, tables)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("string", [b"\xff\xf0", b"\xff" * 8, b"\x00" * 30, b"\xff\xff\xff\xff"])
def test_strings_that_hang_tfc_return_and_fail_the_sanity_check(string):
    tables = tables_from_pmfs(
        [np.array([1e-4, 0.9997, 1e-4, 1e-4], np.float32)] * 10, [-1] * 10)
    decoded, sane = decode([string], tables)
    assert decoded.shape == (1, 10) and not sane[0]


@pytest.mark.timeout(30)
def test_random_bytes_always_decode_to_something():
    rng = np.random.default_rng(6)
    tables = random_tables(rng)
    strings = [rng.bytes(int(rng.integers(0, 40))) for _ in range(3000)]
    decoded, sane = decode(strings, tables)
    assert decoded.shape == (3000, len(tables.lengths)) and decoded.dtype == np.int32
    assert sane.shape == (3000,) and sane.dtype == bool


@pytest.mark.timeout(30)
def test_each_string_decodes_as_it_would_alone():
    rng = np.random.default_rng(6)
    tables = random_tables(rng)
    symbols = tables.offsets + rng.integers(-3, 45, (40, len(tables.lengths)))
    strings = encode(symbols, tables) + [rng.bytes(int(n)) for n in rng.integers(0, 40, 40)]
    order = rng.permutation(len(strings))
    decoded, sane = decode([strings[i] for i in order], tables)
    for row, i in enumerate(order):
        alone, alone_sane = decode([strings[i]], tables)
        np.testing.assert_array_equal(decoded[row], alone[0])
        assert sane[row] == alone_sane[0]
    np.testing.assert_array_equal(decoded[np.argsort(order)][:40], symbols)


def test_damaged_strings_fail_the_sanity_check():
    rng = np.random.default_rng(7)
    tables = random_tables(rng)
    symbols = tables.offsets + rng.integers(0, 10, (500, len(tables.lengths)))
    strings = encode(symbols, tables)
    assert decode(strings, tables)[1].all()
    _, sane = decode([s + b"\x01" for s in strings], tables)
    assert sane.mean() < 0.02
    _, sane = decode([b"\x5a" + s for s in strings], tables)
    assert sane.mean() < 0.05


# --- entropy of the tables -----------------------------------------------------------------------

def test_table_entropy_matches_hand_computed_values():
    # Four equal bins (2 bits) and bins of 1/2, 1/4, 1/4 padded to the same width (1.5 bits).
    cdf = np.array([[0, 1024, 2048, 3072, 4096], [0, 2048, 3072, 4096, 4096]], np.int64)
    tables = CodingTables(cdf, np.array([2, 1]), np.zeros(2, np.int64), 12)
    assert np.allclose(tables.entropy_bits(), [2.0, 1.5])


def test_decoding_random_bytes_reads_about_the_tables_entropy():
    tables = random_tables(np.random.default_rng(5))
    expected = tables.entropy_bits().sum()
    rng = np.random.default_rng(6)
    strings = [rng.bytes(64) for _ in range(2000)]
    symbols, _ = decode(strings, tables)
    again = encode(symbols, tables)
    read = 8 * np.mean([len(s) for s in again])  # the same draws, written back
    assert 0 <= read - expected < 8, (read, expected)  # plus the string's final bytes


def test_code_bits_by_hand_including_escapes():
    cdf = np.array([[0, 2048, 3072, 3584, 4096]], np.int64)  # bins 1/2, 1/4, 1/8; escape 1/8
    tables = CodingTables(cdf, np.array([3]), np.array([-1]), 12)
    symbols = np.array([[-1], [0], [1], [2], [-2], [5]])
    # The escape bin's 3 bits, then 2n bits for a distance of n bits: 2 is just past the table
    # (distance 1), -2 just below it (distance 1), 5 four past it (distance 4, 3 bits long).
    expected = [1, 2, 3, 3 + 2, 3 + 2, 3 + 2 * 3]
    assert np.allclose(tables.code_bits(symbols)[:, 0], expected)


def test_strings_are_about_as_long_as_their_code_bits():
    tables = random_tables(np.random.default_rng(7))
    rng = np.random.default_rng(8)
    symbols = tables.offsets + rng.integers(-3, 45, (500, len(tables.lengths)))
    lengths = 8 * np.array([len(s) for s in encode(symbols, tables)])
    slack = lengths - tables.code_bits(symbols).sum(axis=1)
    assert slack.min() > -8 and slack.max() < 16, (slack.min(), slack.max())  # within 1-2 bytes


# --- a table per symbol (side information chooses it) --------------------------------------------

def _gathered(tables, row):
    """Tables whose channel c is table row[c] of `tables`: coding one row with them is what an
    index per symbol must give."""
    return CodingTables(tables.cdf[row], tables.lengths[row], tables.offsets[row],
                        tables.precision)


def test_each_channels_own_table_is_the_default_index():
    tables = random_tables(np.random.default_rng(9))
    rng = np.random.default_rng(10)
    symbols = tables.offsets + rng.integers(-3, 45, (300, len(tables.lengths)))
    own = np.broadcast_to(np.arange(len(tables.lengths)), symbols.shape)
    assert encode(symbols, tables, own) == encode(symbols, tables)


@pytest.mark.parametrize("seed", range(3))
def test_an_index_per_symbol_codes_like_those_tables_and_round_trips(seed):
    rng = np.random.default_rng(seed)
    tables = random_tables(rng, channels=7)
    indexes = rng.integers(0, 7, (400, 20))
    symbols = tables.offsets[indexes] + rng.integers(-4, 44, indexes.shape)  # escapes too
    symbols[:5] = rng.integers(-(2**20), 2**20, (5, 20))
    strings = encode(symbols, tables, indexes)
    for row in range(0, 400, 37):
        assert strings[row] == encode(symbols[row:row + 1], _gathered(tables, indexes[row]))[0]
    decoded, sane = decode(strings, tables, indexes=indexes)
    np.testing.assert_array_equal(decoded, symbols)
    assert sane.all() and decoded.shape == (400, 20)


def test_random_bytes_decode_under_indexes_without_a_crash():
    rng = np.random.default_rng(11)
    tables = random_tables(rng, channels=5)
    indexes = rng.integers(0, 5, (2000, 30))
    strings = [rng.bytes(int(n)) for n in rng.integers(0, 40, 2000)]
    decoded, sane = decode(strings, tables, indexes=indexes)
    assert decoded.shape == (2000, 30) and sane.dtype == bool and 0 < sane.sum() < 2000
    again, _ = decode(encode(decoded, tables, indexes), tables, indexes=indexes)
    np.testing.assert_array_equal(again, decoded)  # whatever was decoded re-encodes to itself


@pytest.mark.parametrize("indexes, message", [
    (np.zeros((3, 4), np.int64), r"shaped \[3, 5\], one per symbol, got int64 of shape \[3, 4\]"),
    (np.zeros((3, 5)), r"Expected integer table indexes .* got float64"),
    (np.full((3, 5), 7), r"must lie in 0\.\.6 \(there are 7 tables\), got values from 7 to 7"),
    (np.full((3, 5), -1), r"got values from -1 to -1"),
])
def test_bad_indexes_say_what_was_expected(indexes, message):
    tables = random_tables(np.random.default_rng(12), channels=7)
    with pytest.raises(ValueError, match=message):
        encode(np.zeros((3, 5), np.int64), tables, indexes)


def test_decoding_with_indexes_of_the_wrong_shape_says_what_was_expected():
    tables = random_tables(np.random.default_rng(13), channels=3)
    strings = encode(np.zeros((2, 3), np.int64), tables)
    with pytest.raises(ValueError, match=r"shaped \[N, C\], one per symbol .* got shape \[3\]"):
        decode(strings, tables, indexes=np.zeros(3, np.int64))
    with pytest.raises(ValueError, match=r"shaped \[2, 3\], one per symbol, got int64 of shape"):
        decode(strings, tables, indexes=np.zeros((5, 3), np.int64))
