"""The coding half of the entropy model, in numpy: a prior's tables, symbols to strings and back.

Introduced in notebook 04. One zero-or-offset-centred noisy logistic per latent becomes coding
tables (`coding.tables`, identical on every stack); `EntropyCoder` rounds latents to symbols,
range-codes each row into one byte string and decodes it, and gives each row's information
content. `model.entropy_models.ContinuousBatchedEntropyModel(compression=True)` (TensorFlow)
codes through this class, and the codec uses it alone, so compressing and decompressing need no
TensorFlow.

Every input is checked before the coder sees it: latents that are not finite or lie more than
2**30 beyond their table get a `ValueError`, empty batches an empty result, priors that cannot be
coded a `TableError`, and strings whose escape code never ends fail the sanity check.
"""

from __future__ import annotations

import numpy as np

from ..coding.range_coder import DEFAULT_PRECISION, TableError, decode, encode
from ..coding.tables import DEFAULT_TAIL_MASS, build_tables, quantization_offsets

# Escaped values are coded by their distance from the table; tensorflow-compression never
# returns from `compress` once that distance reaches 2**30, so neither coder accepts them.
MAX_ESCAPE = 2**30


class DecodeError(ValueError):
    """Strings failed the range decoder's sanity check; `failed` holds their indices."""

    def __init__(self, message: str, failed: np.ndarray):
        super().__init__(message)
        self.failed = failed


def check_strings(strings) -> list[bytes]:
    """Validates a 1-D batch of compressed strings (list, array or tf.string tensor): returns
    them as a list of bytes, or raises ValueError saying what was expected."""
    expected = "Expected a 1-D batch of byte strings (as the compressor returns)"
    if isinstance(strings, (bytes, str)):
        raise ValueError("Expected a batch of strings (a list or 1-D tensor), got a single string.")
    if hasattr(strings, "numpy") and hasattr(strings, "dtype"):  # a tensor, without TensorFlow
        values = np.asarray(strings.numpy())
        if values.dtype.kind not in "OS" or values.ndim != 1:
            name = getattr(strings.dtype, "name", str(strings.dtype))
            raise ValueError(f"{expected}, got a tensor of dtype {name} and shape "
                             f"{list(values.shape)}.")
        strings = values
    if isinstance(strings, np.ndarray) and (strings.ndim != 1 or strings.dtype.kind not in "OS"):
        raise ValueError(f"{expected}, got an array of dtype {strings.dtype} and shape "
                         f"{list(strings.shape)}.")
    if isinstance(strings, (dict, set, frozenset)):
        raise ValueError(f"{expected}, got a {type(strings).__name__} (no order).")
    try:
        items = list(strings)
    except TypeError:
        raise ValueError(f"{expected}, got {type(strings).__name__}.") from None
    odd = [type(s).__name__ for s in items if not isinstance(s, (bytes, bytearray, np.bytes_))]
    if odd:
        hint = " (encode text first, or pass the bytes the compressor made)" if "str" in odd else ""
        raise ValueError(f"{expected}, got {len(odd)} items of type {odd[0]}{hint}.")
    return [bytes(s) for s in items]


def escape_error(largest) -> ValueError:
    """The error for a latent value no coder can write (2**30 or more beyond its table)."""
    return ValueError(f"Cannot code latent values more than 2**30 beyond their table's range "
                      f"(found {largest:.3g}); tensorflow-compression would never return on "
                      f"them.")


def check_escapes(symbols: np.ndarray, tables, table=None) -> None:
    """Raises ValueError for an integer symbol (int64 [N, C]) 2**30 or more beyond its table
    (channel c's, or ``table[n, c]``): no coder can write it."""
    offsets = tables.offsets if table is None else tables.offsets[table]
    lengths = tables.lengths if table is None else tables.lengths[table]
    distance = np.maximum(offsets - symbols, symbols - (offsets + lengths - 1))
    if (distance >= MAX_ESCAPE).any():
        raise escape_error(np.abs(symbols).max())


def check_precision(range_coder_precision) -> int:
    """The range coder's precision, an integer from 1 to 16, or ValueError."""
    if (isinstance(range_coder_precision, bool) or not isinstance(range_coder_precision, int)
            or not 1 <= range_coder_precision <= 16):
        raise ValueError(f"range_coder_precision must be an integer from 1 to 16, as in "
                         f"tensorflow-compression, got {range_coder_precision!r}.")
    return range_coder_precision


def _log_logistic_cdf(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def noisy_logistic_log2_mass(symbols, loc, scale) -> np.ndarray:
    """log2 of the mass a logistic (loc, scale) puts on [k - 1/2, k + 1/2] for each symbol k, in
    float64, from the CDF left of the location and the survival function right of it (the
    prior's probability of a rounded latent, precise far into both tails)."""
    k = np.asarray(symbols, np.float64)
    loc, scale = np.asarray(loc, np.float64), np.asarray(scale, np.float64)
    right = k - 0.5 > loc
    sign = np.where(right, -1.0, 1.0)  # right of the location: survival function = cdf(-z)
    near = sign * (np.where(right, k - 0.5, k + 0.5) - loc) / scale
    far = sign * (np.where(right, k + 0.5, k - 0.5) - loc) / scale
    big, small = _log_logistic_cdf(near), _log_logistic_cdf(far)
    with np.errstate(divide="ignore"):
        return (big + np.log1p(-np.exp(small - big))) / np.log(2.0)


class EntropyCoder:
    """Coding tables for one noisy logistic (`loc`, `scale`, float32 [C]) per latent, and the
    coder that uses them: `symbols`, `encode_symbols`, `decode_symbols`, `information_bits`.

    `quantization_offset` is each location's distance from the nearest integer (None when all
    are zero, as for the tutorial's zero-centred prior); `decode_sanity_check` makes strings
    that were not made with these tables raise a `DecodeError`.
    """

    def __init__(self, scale, loc=0.0, tail_mass: float = DEFAULT_TAIL_MASS,
                 range_coder_precision: int = DEFAULT_PRECISION, offset_heuristic: bool = True,
                 decode_sanity_check: bool = True):
        check_precision(range_coder_precision)
        scale = np.asarray(scale, np.float32)
        if scale.ndim != 1:
            raise ValueError(f"The prior needs one dimension (one density per latent), got "
                             f"shape {list(scale.shape)}.")
        self.scale = scale
        self.loc = np.broadcast_to(np.asarray(loc, np.float32), scale.shape)
        self.decode_sanity_check = bool(decode_sanity_check)
        self.quantization_offset = quantization_offsets(self.loc) if offset_heuristic else None
        self.tables = build_tables(self.loc, self.scale, tail_mass, range_coder_precision,
                                   self.quantization_offset)

    @property
    def channels(self) -> int:
        return len(self.scale)

    def symbols(self, bottleneck) -> np.ndarray:
        """The integers `encode_symbols` codes for latents [..., C]: round(y - offset), int64.

        Raises ValueError for latents that are not finite numbers or have the wrong number of
        channels.
        """
        y = np.asarray(bottleneck.numpy() if hasattr(bottleneck, "numpy") else bottleneck)
        self._check_shape(y, "latents as numbers", "iuf")
        y = y.astype(np.float32)
        finite = np.isfinite(y).all(axis=-1)
        if not finite.all():
            bad = np.flatnonzero(~finite.reshape(-1))
            raise ValueError(
                f"Latents to compress must be finite: {len(bad)} of {finite.size} vectors hold "
                f"NaN or infinite values (first: index {bad[0]}). A NaN usually comes from a "
                f"damaged model or input.")
        offset = self.quantization_offset
        shifted = y if offset is None else y - offset
        rounded = np.rint(shifted.astype(np.float64))
        if rounded.size and np.abs(rounded).max() >= 2 * MAX_ESCAPE:  # before int64 can overflow
            raise escape_error(np.abs(y).max())
        return rounded.astype(np.int64)

    def _check_shape(self, array: np.ndarray, what: str, kinds: str) -> None:
        if array.dtype.kind not in kinds or array.ndim < 1 or array.shape[-1] != self.channels:
            raise ValueError(f"Expected {what} shaped [..., {self.channels}], got dtype "
                             f"{array.dtype} and shape {list(array.shape)}.")

    def encode_symbols(self, symbols) -> list[bytes]:
        """One byte string per row of integer symbols [N, C]; an empty batch gives [].

        Raises ValueError for symbols more than 2**30 beyond their table (no coder can write
        those).
        """
        tables = self.tables
        symbols = np.asarray(symbols)
        self._check_shape(symbols, "integer symbols", "iu")
        if symbols.size and np.abs(symbols.astype(np.float64)).max() >= 2.0**62:
            raise escape_error(np.abs(symbols.astype(np.float64)).max())
        symbols = symbols.reshape(-1, self.channels).astype(np.int64, copy=False)
        check_escapes(symbols, tables)
        return encode(symbols, tables) if len(symbols) else []

    def decode_symbols(self, strings) -> np.ndarray:
        """Integer symbols [N, C] (int64) from a batch of strings made by `encode_symbols` with
        identical tables.

        Strings whose escape code never ends are stopped, not followed. With
        ``decode_sanity_check=True`` (the default), strings that end where no encoder with these
        tables would have left them raise a `DecodeError`. That is no integrity check: it misses
        many random and damaged strings and nearly every one cut short (docs/reliability.md
        measures how many, by string length).
        """
        strings = check_strings(strings)
        if not strings:
            return np.zeros((0, self.channels), np.int64)
        symbols, sane = decode(strings, self.tables)
        if self.decode_sanity_check and not sane.all():
            failed = np.flatnonzero(~sane)
            raise DecodeError(
                f"Sanity check failed for {len(failed)} of {len(strings)} strings (first: "
                f"index {failed[0]}): they were not made with these coding tables, or are "
                f"damaged.", failed)
        return symbols.astype(np.int64)

    def information_bits(self, symbols) -> np.ndarray:
        """Each row's information content under the prior, -log2 P(symbols), in bits (float64
        [N]): the length its string approaches."""
        symbols = np.asarray(symbols)
        self._check_shape(symbols, "integer symbols", "iu")
        values = symbols.astype(np.float64)
        if self.quantization_offset is not None:
            values = values + self.quantization_offset
        return -noisy_logistic_log2_mass(values, self.loc, self.scale).sum(axis=-1)


__all__ = ["DecodeError", "EntropyCoder", "MAX_ESCAPE", "TableError", "check_escapes",
           "check_precision", "check_strings", "escape_error", "noisy_logistic_log2_mass"]
