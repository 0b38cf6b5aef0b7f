"""A batch range coder in numpy that writes tensorflow-compression's byte format.

It is the package's coder on every stack (see `entropy_models`); its decoder also stops strings
whose escape code never ends, on which tensorflow-compression's would loop forever. Every row of
a symbol matrix becomes its own string; the coder runs all rows in lock step, one channel at a
time, so its cost is a few numpy operations per channel rather than a Python loop per symbol.
Tables, strings and escape codes are described in `docs/coding-format.md`; this module needs
numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_PRECISION = 12
_MASK32 = np.uint64(0xFFFFFFFF)
# TFC decodes gamma codes with up to 30 leading zeros (values below 2**31); longer runs wrap
# around in its 32-bit arithmetic or never end, so they mark a string as corrupt here.
_MAX_GAMMA_ZEROS = 30


class TableError(ValueError):
    """A probability table cannot be coded (e.g. too many bins for the precision)."""


# --- tables ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CodingTables:
    """Range-coding tables for C channels.

    `cdf[c, :lengths[c] + 2]` is channel c's cumulative table: `lengths[c]` regular bins, then
    the escape bin; entries past the end are padded with 2**precision. A symbol value v of
    channel c is coded as bin ``v - offsets[c]``.
    """

    cdf: np.ndarray  # int64 [C, max_length + 2]
    lengths: np.ndarray  # int64 [C]
    offsets: np.ndarray  # int64 [C]
    precision: int = DEFAULT_PRECISION

    @classmethod
    def from_flat(cls, flat_cdf, cdf_offset) -> CodingTables:
        """Reads TFC's flat layout: per channel, ``-precision`` then its cdf."""
        flat = np.asarray(flat_cdf, np.int64)
        starts = np.flatnonzero(flat < 0)
        precision = int(-flat[starts[0]])
        rows = np.split(flat, starts[1:])
        width = max(len(r) for r in rows) - 1
        cdf = np.full((len(rows), width), 1 << precision, np.int64)
        for out, row in zip(cdf, rows):
            out[:len(row) - 1] = row[1:]
        lengths = np.array([len(r) - 3 for r in rows], np.int64)
        return cls(cdf, lengths, np.asarray(cdf_offset, np.int64), precision)

    def entropy_bits(self) -> np.ndarray:
        """Each channel's entropy in bits under its coded probabilities, escape bin included
        (float64 [C]). Decoding random bytes draws every bin with its coded probability, so
        the decoded symbols depend on only about this many bits of the string per channel
        (escaped values a few more), however many bytes the decoder loads (notebook 06)."""
        p = np.diff(self.cdf, axis=1) / float(1 << self.precision)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(p > 0, -p * np.log2(p), 0.0).sum(axis=1)

    def code_bits(self, symbols, indexes=None) -> np.ndarray:
        """The bits each integer symbol (int [N, C]) costs under these tables (channel c's, or
        ``indexes[n, c]`` as in `encode`), float64 [N, C]: -log2 of its bin's coded
        probability, and for a value outside its table the escape bin's plus the 2n bits of
        its Elias-gamma code and sign. A row's string is about their sum long (notebook 04
        compares these with the prior's bits)."""
        symbols = np.asarray(symbols, np.int64)
        table = table_indexes(indexes, symbols.shape, self)
        _, bins, _, gamma_bits = _places(symbols, self, table)
        counts = self.cdf[table, bins + 1] - self.cdf[table, bins]
        return self.precision - np.log2(counts) + gamma_bits

    def to_flat(self) -> np.ndarray:
        """TFC's flat int32 layout of these tables."""
        parts = [np.concatenate([[-self.precision], row[:length + 2]])
                 for row, length in zip(self.cdf, self.lengths)]
        return np.concatenate(parts).astype(np.int32)


# --- encoding ----------------------------------------------------------------------------------

class _Encoder:
    """The state of N independent range encoders."""

    def __init__(self, rows: int, capacity: int):
        self.base = np.zeros(rows, np.uint64)
        self.size_minus1 = np.full(rows, 0xFFFFFFFF, np.uint64)
        self.delay = np.zeros(rows, np.uint64)
        self.out = np.zeros((rows, capacity), np.uint8)
        self.pos = np.zeros(rows, np.int64)

    def _emit16(self, rows, words):
        self.out[rows, self.pos[rows]] = (words >> np.uint64(8)) & np.uint64(0xFF)
        self.out[rows, self.pos[rows] + 1] = words & np.uint64(0xFF)
        self.pos[rows] += 2

    def encode(self, rows, lower, upper, precision):
        """Narrows the interval of each row in `rows` to [lower, upper) / 2**precision."""
        if len(rows) == 0:
            return
        shift = np.uint64(precision)
        size = self.size_minus1[rows] + np.uint64(1)
        a = (size * lower.astype(np.uint64)) >> shift
        b = ((size * upper.astype(np.uint64)) >> shift) - np.uint64(1)
        full = self.base[rows] + a
        carry = full > _MASK32
        base = full & _MASK32
        size_minus1 = b - a
        straddle = base + size_minus1 > _MASK32
        small = size_minus1 < np.uint64(1 << 16)

        expand = straddle & small  # still straddling: one more pending 0xFFFF/0x0000 word
        base[expand] = (base[expand] << np.uint64(16)) & _MASK32
        size_minus1[expand] = (size_minus1[expand] << np.uint64(16)) | np.uint64(0xFFFF)
        self.delay[rows[expand]] += np.uint64(0x20000)

        settled = ~straddle
        for i in np.flatnonzero(settled & (self.delay[rows] != 0)):
            self._flush_delay(rows[i], bool(carry[i]))

        shifting = settled & small
        top = base[shifting] >> np.uint64(16)
        base[shifting] = (base[shifting] << np.uint64(16)) & _MASK32
        size_minus1[shifting] = (size_minus1[shifting] << np.uint64(16)) | np.uint64(0xFFFF)
        wraps = base[shifting] + size_minus1[shifting] > _MASK32
        shifted_rows = rows[shifting]
        self._emit16(shifted_rows[~wraps], top[~wraps])
        self.delay[shifted_rows[wraps]] = top[wraps] + np.uint64(1)

        self.base[rows] = base
        self.size_minus1[rows] = size_minus1

    def _flush_delay(self, row, carry):
        delay = int(self.delay[row])
        if not carry:
            delay -= 1
        fill = 0x00 if carry else 0xFF
        pending = bytes([(delay >> 8) & 0xFF, delay & 0xFF]) + bytes([fill]) * (delay >> 16)
        self._write(row, pending)
        self.delay[row] = 0

    def _write(self, row, data: bytes):
        end = self.pos[row] + len(data)
        if end > self.out.shape[1]:
            grown = np.zeros((self.out.shape[0], max(end, 2 * self.out.shape[1])), np.uint8)
            grown[:, :self.out.shape[1]] = self.out
            self.out = grown
        self.out[row, self.pos[row]:end] = np.frombuffer(data, np.uint8)
        self.pos[row] = end

    def finish(self) -> list:
        """Finalizes every row and returns the byte strings."""
        strings = []
        for row in range(len(self.pos)):
            base, delay = int(self.base[row]), int(self.delay[row])
            if delay:  # the pending word's high byte, then its low byte unless it is zero
                tail = bytes([(delay >> 8) & 0xFF] + ([delay & 0xFF] if delay & 0xFF else []))
            elif base:
                tail = _final_bytes(base, int(self.size_minus1[row]))
            else:
                tail = b""
            strings.append(self.out[row, :self.pos[row]].tobytes() + tail)
        return strings


def _final_value(base: int, size_minus1: int) -> tuple[int, bytes]:
    """The shortest value in [base, base + size) that Finalize writes, and its bytes."""
    upper = base + size_minus1
    mid = ((base - 1) >> 24) + 1
    if mid <= upper >> 24:
        return mid << 24, bytes([mid])
    mid = ((base - 1) >> 16) + 1
    return mid << 16, bytes([mid >> 8]) + (bytes([mid & 0xFF]) if mid & 0xFF else b"")


def _final_bytes(base: int, size_minus1: int) -> bytes:
    return _final_value(base, size_minus1)[1]


def table_indexes(indexes, shape, tables: CodingTables) -> np.ndarray:
    """Which table codes each symbol of a batch shaped `shape` (int64 [N, C]): by default
    channel c's own table c; otherwise `indexes`, integers shaped like the symbols, each naming
    one of the tables (side information chooses them, as in tensorflow-compression's indexed
    entropy models). ValueError for anything else."""
    count = len(tables.lengths)
    if indexes is None:
        if shape[1] != count:
            raise ValueError(f"Expected symbols shaped [N, {count}], got {list(shape)}.")
        return np.broadcast_to(np.arange(count, dtype=np.int64), shape)
    indexes = np.asarray(indexes)
    if indexes.shape != tuple(shape) or indexes.dtype.kind not in "iu":
        raise ValueError(f"Expected integer table indexes shaped {list(shape)}, one per symbol, "
                         f"got {indexes.dtype} of shape {list(indexes.shape)}.")
    if indexes.size and (indexes.min() < 0 or indexes.max() >= count):
        raise ValueError(f"Table indexes must lie in 0..{count - 1} (there are {count} tables), "
                         f"got values from {indexes.min()} to {indexes.max()}.")
    return indexes.astype(np.int64)


def encode(symbols: np.ndarray, tables: CodingTables, indexes=None) -> list:
    """Range-codes each row of `symbols` (int [N, C], the integer latents) into one byte string.

    Symbol [n, c] is coded with table c, or with table ``indexes[n, c]`` when `indexes` is
    given (`table_indexes`). Values outside their table are escaped with an Elias-gamma code of
    their distance.
    """
    symbols = np.asarray(symbols, np.int64)
    if symbols.ndim != 2:
        raise ValueError(f"Expected symbols shaped [N, C], got {list(symbols.shape)}.")
    table = table_indexes(indexes, symbols.shape, tables)
    rows = len(symbols)
    if rows == 0:
        return []
    index, bins, gamma, gamma_bits = _places(symbols, tables, table)
    escaped = gamma > 0
    if (gamma >= 1 << 30).any():
        raise ValueError(
            "Cannot code latent values more than 2**30 beyond their table's range "
            "(tensorflow-compression never returns on such input)."
        )
    encoder = _Encoder(rows, 2 * (symbols.shape[1] + gamma_bits.sum(axis=1).max()) + 8)
    all_rows = np.arange(rows)
    for c in range(symbols.shape[1]):
        column = bins[:, c]
        encoder.encode(all_rows, tables.cdf[table[:, c], column],
                       tables.cdf[table[:, c], column + 1], tables.precision)
        escape_rows = np.flatnonzero(escaped[:, c])
        if len(escape_rows):
            _encode_gamma(encoder, escape_rows, gamma[escape_rows, c], index[escape_rows, c] < 0)
    return encoder.finish()


def _places(symbols: np.ndarray, tables: CodingTables, table: np.ndarray):
    """Where each symbol (int64 [N, C]) falls in its table: its index from the table's first
    value, the bin it is coded in (the escape bin if outside), the Elias-gamma distance of an
    escaped value (0 inside the table) and the bits that code and its sign take."""
    lengths = tables.lengths[table]
    index = symbols - tables.offsets[table]
    escaped = (index < 0) | (index >= lengths)
    gamma = np.where(index < 0, -index, np.where(escaped, index - lengths + 1, 0))
    gamma_bits = np.where(escaped, 2 * _bit_length(np.maximum(gamma, 1)), 0)
    return index, np.where(escaped, lengths, index), gamma, gamma_bits


def _bit_length(values: np.ndarray) -> np.ndarray:
    """Bits needed for each positive integer (exact below 2**53)."""
    return np.frexp(np.asarray(values, np.float64))[1].astype(np.int64)


def _encode_gamma(encoder, rows, gamma, negative):
    """Elias-gamma codes `gamma` (>= 1), then a sign bit, one binary symbol at a time."""
    n = _bit_length(gamma)
    for step in range(int(2 * n.max())):
        active = step < 2 * n
        zeros = step < n - 1
        bit_index = np.clip(2 * n - 2 - step, 0, None)
        bit = np.where(zeros, 0, np.where(step < 2 * n - 1, (gamma >> bit_index) & 1, negative))
        encoder.encode(rows[active], bit[active], bit[active] + 1, 1)


# --- decoding ----------------------------------------------------------------------------------

class _Decoder:
    """The state of N independent range decoders reading padded byte rows."""

    def __init__(self, strings):
        self.lengths = np.array([len(s) for s in strings], np.int64)
        width = int(self.lengths.max(initial=0)) + 4
        self.data = np.zeros((len(strings), width), np.uint8)
        for row, string in enumerate(strings):
            self.data[row, :len(string)] = np.frombuffer(string, np.uint8)
        self.pos = np.zeros(len(strings), np.int64)
        self.base = np.zeros(len(strings), np.uint64)
        self.size_minus1 = np.full(len(strings), 0xFFFFFFFF, np.uint64)
        self.value = np.zeros(len(strings), np.uint64)
        every = np.arange(len(strings))
        self._read16(every)
        self._read16(every)

    def _read16(self, rows):
        pos = np.minimum(self.pos[rows], self.data.shape[1] - 2)
        word = (self.data[rows, pos].astype(np.uint64) << np.uint64(8)) | self.data[rows, pos + 1]
        word[self.pos[rows] >= self.data.shape[1] - 2] = 0
        self.value[rows] = ((self.value[rows] << np.uint64(16)) | word) & _MASK32
        self.pos[rows] += 2

    def decode(self, rows, cdf_row, precision, lookup=None, table=None):
        """Decodes one symbol for each row in `rows`: with the shared table `cdf_row`, or with
        table ``table[i]`` of a `_TableLookup` for row ``rows[i]``."""
        shift = np.uint64(precision)
        size = self.size_minus1[rows] + np.uint64(1)
        target = ((((self.value[rows] - self.base[rows]) & _MASK32) + np.uint64(1)) << shift)
        quotient = ((target - np.uint64(1)) // size).astype(np.int64)
        if lookup is None:
            symbol = np.searchsorted(cdf_row[1:], quotient, side="right")
            symbol = np.minimum(symbol, len(cdf_row) - 2)
            low, high = cdf_row[symbol], cdf_row[symbol + 1]
        else:
            symbol = lookup.bins(table, quotient)
            low, high = lookup.cdf[table, symbol], lookup.cdf[table, symbol + 1]
        a = (size * low.astype(np.uint64)) >> shift
        b = ((size * high.astype(np.uint64)) >> shift) - np.uint64(1)
        base = (self.base[rows] + a) & _MASK32
        size_minus1 = b - a
        small = size_minus1 < np.uint64(1 << 16)
        base[small] = (base[small] << np.uint64(16)) & _MASK32
        size_minus1[small] = (size_minus1[small] << np.uint64(16)) | np.uint64(0xFFFF)
        self.base[rows] = base
        self.size_minus1[rows] = size_minus1
        self._read16(rows[small])
        return symbol.astype(np.int64)

    def sane(self) -> np.ndarray:
        """Per row: were all bytes read, and does the value sit where Finalize would put it?"""
        ok = self.pos >= self.lengths
        for row in np.flatnonzero(ok):
            base, size_minus1 = int(self.base[row]), int(self.size_minus1[row])
            if base == 0 or base + size_minus1 > 0xFFFFFFFF:
                expected = 0
            else:
                expected = _final_value(base, size_minus1)[0]
            ok[row] = int(self.value[row]) == expected
        return ok


_BIT_CDF = np.array([0, 1, 2], np.int64)


class _TableLookup:
    """Every table's cumulative counts in one increasing array (row k shifted up by k times
    2**precision + 1), so that one `searchsorted` finds each row's bin in its own table."""

    def __init__(self, tables: CodingTables):
        self.cdf, self.lengths = tables.cdf, tables.lengths
        self.stride = (1 << tables.precision) + 1
        self.flat = (self.cdf + np.arange(len(self.cdf))[:, None] * self.stride).ravel()

    def bins(self, table: np.ndarray, quotient: np.ndarray) -> np.ndarray:
        """The bin of table ``table[i]`` that `quotient[i]` falls into; past the table's end
        (only hostile strings get there), its escape bin."""
        found = np.searchsorted(self.flat, quotient + table * self.stride, side="right")
        return np.minimum(found - table * self.cdf.shape[1] - 1, self.lengths[table])


class RangeDecoder:
    """Decodes a batch of strings a few symbols at a time, so that side information decoded
    first can choose the tables of what follows (a hyperprior's z, then y, in one string).

    `channels` is how many symbols each string holds in all; `decode(indexes)` reads the next
    ``indexes.shape[1]`` symbols of every string, symbol [n, c] with table ``indexes[n, c]``.
    Never hangs or crashes on arbitrary bytes: an escape whose gamma code runs longer than any
    encoder writes (an overrun, on which TFC hangs) stops that string's decoding (`broken`).
    """

    def __init__(self, strings, tables: CodingTables, channels: int):
        # A decoder reads at most 2 bytes per decoded bit or symbol, and an escape takes at most
        # 2 * _MAX_GAMMA_ZEROS + 3 bits: longer strings are never read to the end (so they are
        # insane anyway) and are cut here, before they cost memory in the padded batch.
        readable = 4 + 2 * (2 * _MAX_GAMMA_ZEROS + 4) * channels
        strings = [bytes(s[:readable + 1]) for s in strings]
        self.tables = tables
        self._lookup = _TableLookup(tables)
        self._decoder = _Decoder(strings)
        self.broken = np.zeros(len(strings), bool)

    def decode(self, indexes) -> np.ndarray:
        """The next symbols of every string (int64 [N, C]), decoded with table ``indexes[n,
        c]`` (`table_indexes` checks them); 0 where a string broke off."""
        tables = self.tables
        table = table_indexes(indexes, np.shape(indexes), tables)
        rows, channels = table.shape
        if rows != len(self.broken):
            raise ValueError(f"Expected table indexes for {len(self.broken)} strings, got "
                             f"{rows}.")
        symbols = np.zeros((rows, channels), np.int64)
        for c in range(channels):
            active = np.flatnonzero(~self.broken)
            which = table[active, c]
            index = self._decoder.decode(active, None, tables.precision, self._lookup, which)
            escape = index == tables.lengths[which]
            symbols[active, c] = index + tables.offsets[which]
            if escape.any():
                values, ok = _decode_gamma(self._decoder, active[escape],
                                           tables.lengths[which[escape]])
                symbols[active[escape], c] = values + tables.offsets[which[escape]]
                self.broken[active[escape][~ok]] = True
        return symbols

    def sane(self) -> np.ndarray:
        """Per string, once every symbol is decoded: were all its bytes read, did it end where
        an encoder leaves a string, and did no escape overrun?"""
        return self._decoder.sane() & ~self.broken


def decode(strings, tables: CodingTables, return_overruns: bool = False, indexes=None):
    """Decodes byte strings into symbols int32 [N, C]; also returns per-string sanity (bool [N]).

    Symbol [n, c] is decoded with table c, or with table ``indexes[n, c]`` when `indexes` is
    given (the same as the encoder's; C is then its width). Never hangs or crashes on arbitrary
    bytes (`RangeDecoder`); with `return_overruns`, a third array says which strings had an
    escape that overran.
    """
    if indexes is not None and np.ndim(indexes) != 2:
        raise ValueError(f"Expected table indexes shaped [N, C], one per symbol of each string, "
                         f"got shape {list(np.shape(indexes))}.")
    channels = len(tables.lengths) if indexes is None else np.shape(indexes)[1]
    rows = len(strings)
    decoder = RangeDecoder(strings, tables, channels)
    symbols = decoder.decode(table_indexes(indexes, (rows, channels), tables))
    wrapped = ((symbols + 2**31) % 2**32 - 2**31).astype(np.int32)  # int32 arithmetic, as TFC
    sane = decoder.sane()
    return (wrapped, sane, decoder.broken) if return_overruns else (wrapped, sane)


def _decode_gamma(decoder, rows, length):
    """Reads gamma-coded distances and sign bits; returns bin indices and which rows were valid."""
    zeros = np.zeros(len(rows), np.int64)
    searching = np.ones(len(rows), bool)
    while searching.any():
        bits = decoder.decode(rows[searching], _BIT_CDF, 1)
        still = np.flatnonzero(searching)
        zeros[still[bits == 0]] += 1
        searching[still[bits == 1]] = False
        searching &= zeros <= _MAX_GAMMA_ZEROS
    ok = zeros <= _MAX_GAMMA_ZEROS
    gamma = np.ones(len(rows), np.int64)
    for step in range(int(zeros[ok].max(initial=0)) + 1):
        reading = ok & (step < zeros)
        bits = decoder.decode(rows[reading], _BIT_CDF, 1)
        gamma[reading] = (gamma[reading] << 1) | bits
    sign = np.zeros(len(rows), np.int64)
    sign[ok] = decoder.decode(rows[ok], _BIT_CDF, 1)
    return np.where(sign == 1, -gamma, gamma + length - 1), ok
