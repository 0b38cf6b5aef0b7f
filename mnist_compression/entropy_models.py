"""The prior and the entropy model the tutorial codes latents with: one implementation everywhere.

Introduced in notebook 02 (noise and prior) and used for real strings in notebook 04.
`NoisyLogistic` is a logistic density convolved with U(-1/2, 1/2); `ContinuousBatchedEntropyModel`
turns it into a differentiable rate (training) and into range-coded strings (compression). Both
follow tensorflow-compression 2.14.1's classes of the same names, and give the same numbers and
bytes: its densities and rates are computed in the same order (bit for bit on TensorFlow 2.14),
its tables are built by `coding.tables` in numpy, and its strings are written by
`coding.range_coder`, so a string made on one stack decodes on any other. tensorflow-compression
itself is not used at run time: it installs only with TensorFlow 2.14 and Python <= 3.11, and the
tests compare this package against it there.

Every input is checked before the coder sees it: latents that are not finite or lie more than
2**30 beyond their table get a `ValueError`, empty batches an empty result, priors that cannot be
coded a `TableError`, and strings whose escape code never ends fail the sanity check.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from .coding.range_coder import DEFAULT_PRECISION, CodingTables, TableError, decode, encode
from .coding.tables import DEFAULT_TAIL_MASS, build_tables, quantization_offsets

# Escaped values are coded by their distance from the table; tensorflow-compression never
# returns from `compress` once that distance reaches 2**30, so neither coder accepts them.
MAX_ESCAPE = 2**30
_RETIRED_ENV = "MNIST_COMPRESSION_BACKEND"
if os.environ.get(_RETIRED_ENV):
    raise ImportError(f"{_RETIRED_ENV} is no longer used: mnist_compression codes with its own "
                      f"coder on every stack. Unset it.")


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
    if isinstance(strings, tf.Tensor):
        if strings.dtype != tf.string or strings.shape.rank != 1:
            raise ValueError(f"{expected}, got a tensor of dtype {strings.dtype.name} and shape "
                             f"{strings.shape.as_list()}.")
        return list(strings.numpy())
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


class NoisyLogistic(tf.Module):
    """A logistic density (location `loc`, scale `scale`) convolved with U(-1/2, 1/2).

    Its density at y is the probability mass the logistic puts on [y - 1/2, y + 1/2], which at
    integers is exactly the probability of the rounded value.
    """

    def __init__(self, loc=0.0, scale=1.0, name="NoisyLogistic"):
        super().__init__(name=name)
        self.loc = tf.convert_to_tensor(loc, tf.float32)
        self.scale = tf.convert_to_tensor(scale, tf.float32)
        self.batch_shape = tf.broadcast_static_shape(self.loc.shape, self.scale.shape)
        self.dtype = tf.float32

    def _z(self, x):
        return (x - self.loc) / self.scale

    def cdf(self, x):
        return tf.sigmoid(self._z(x))

    def survival_function(self, x):
        return tf.sigmoid(-self._z(x))

    def log_cdf(self, x):
        return -tf.math.softplus(-self._z(x))

    def log_survival_function(self, x):
        return -tf.math.softplus(self._z(x))

    def prob(self, y):
        """Density of the noisy variable; differences of CDFs left of the median and of survival
        functions right of it, whichever is more precise."""
        y = tf.convert_to_tensor(y, self.dtype)
        sf_plus, sf_minus = self.survival_function(y + 0.5), self.survival_function(y - 0.5)
        cdf_plus, cdf_minus = self.cdf(y + 0.5), self.cdf(y - 0.5)
        return tf.where(sf_plus < cdf_plus, sf_minus - sf_plus, cdf_plus - cdf_minus)

    def log_prob(self, y):
        """log(prob(y)), computed in log space so it stays finite (and its gradient too) far
        into the tails, where `prob` underflows to zero."""
        y = tf.convert_to_tensor(y, self.dtype)
        # Each term standardizes on its own, in tensorflow-compression's order: sharing the
        # standardized values would give the same rates but gradients rounded differently.
        log_sf_plus = self.log_survival_function(y + 0.5)
        log_sf_minus = self.log_survival_function(y - 0.5)
        log_cdf_plus = self.log_cdf(y + 0.5)
        log_cdf_minus = self.log_cdf(y - 0.5)
        right = log_sf_plus < log_cdf_plus
        big = tf.where(right, log_sf_minus, log_cdf_plus)
        small = tf.where(right, log_sf_plus, log_cdf_minus)
        return tf.where(tf.math.is_inf(big), big, tf.math.log1p(-tf.exp(small - big)) + big)

    def quantile(self, p):
        """Quantile of the logistic (not of the noisy variable)."""
        p = tf.convert_to_tensor(p, self.dtype)
        return self.loc + self.scale * (tf.math.log(p) - tf.math.log1p(-p))

    def quantization_offset(self):
        """Rounding is centred on the mode: the offset of `loc` from the nearest integer."""
        loc = tf.broadcast_to(self.loc, self.batch_shape)
        return tf.stop_gradient(loc - tf.round(loc))

    def sample(self, sample_shape=(), seed=None):
        """Draws from the noisy density: a logistic sample plus uniform noise. An integer `seed`
        makes the draw repeatable; the two random parts use different streams of it."""
        shape = [int(n) for n in np.atleast_1d(sample_shape)] + self.batch_shape.as_list()
        if seed is None:
            u = tf.random.uniform(shape, minval=1e-7, maxval=1 - 1e-7)
            noise = tf.random.uniform(shape, -0.5, 0.5)
        else:
            u = tf.random.stateless_uniform(shape, (seed, 0), minval=1e-7, maxval=1 - 1e-7)
            noise = tf.random.stateless_uniform(shape, (seed, 1), -0.5, 0.5)
        return self.quantile(u) + noise


@tf.custom_gradient
def _round_straight_through(values, offset):
    return tf.round(values - offset) + offset, lambda grad: (grad, tf.zeros_like(offset))


class ContinuousBatchedEntropyModel(tf.Module):
    """tensorflow-compression's `ContinuousBatchedEntropyModel` with ``coding_rank=1``.

    ``model(y, training=True)`` adds uniform noise and returns the noisy latents with their
    differentiable bit estimate, one per row; ``training=False`` rounds them and returns the
    information content. With ``compression=True`` the prior becomes coding tables once:
    `encode_symbols` / `decode_symbols` turn integer symbols (int64 numpy) into one byte string
    per row and back, and `compress` / `decompress` do the same for latents as tensorflow-
    compression's methods do (rounding around the quantization offsets; tensors in and out).
    """

    def __init__(self, prior, coding_rank=1, compression=False, tail_mass=DEFAULT_TAIL_MASS,
                 range_coder_precision=DEFAULT_PRECISION, offset_heuristic=True,
                 decode_sanity_check=True, name="ContinuousBatchedEntropyModel"):
        super().__init__(name=name)
        if not isinstance(range_coder_precision, int) or not 1 <= range_coder_precision <= 16:
            raise ValueError(f"range_coder_precision must be an integer from 1 to 16, as in "
                             f"tensorflow-compression, got {range_coder_precision!r}.")
        if coding_rank != 1:
            raise ValueError(f"Only coding_rank=1 is supported here, got {coding_rank!r}.")
        if prior.batch_shape.rank != 1:
            raise ValueError(f"The prior needs one dimension (one density per latent), got "
                             f"batch shape {prior.batch_shape}.")
        self.prior = prior
        self.coding_rank = 1
        self.compression = bool(compression)
        self.offset_heuristic = bool(offset_heuristic)
        self.decode_sanity_check = bool(decode_sanity_check)
        self._offset = None
        if self.compression:
            loc, scale = (np.broadcast_to(np.asarray(v, np.float32), self.prior.batch_shape)
                          for v in (prior.loc, prior.scale))
            self._offset = quantization_offsets(loc) if offset_heuristic else None
            self.tables = build_tables(loc, scale, tail_mass, range_coder_precision,
                                       self._offset)

    @property
    def channels(self) -> int:
        return self.prior.batch_shape[0]

    @property
    def quantization_offset(self):
        """What rounding is centred on, per channel: fixed with the tables when compressing,
        else the prior's offset heuristic (None without one)."""
        if self.compression:
            return None if self._offset is None else tf.constant(self._offset)
        return self.prior.quantization_offset() if self.offset_heuristic else None

    @property
    def cdf(self) -> tf.Tensor:
        """The tables in tensorflow-compression's flat int32 layout."""
        return tf.constant(self._require_tables().to_flat())

    @property
    def cdf_offset(self) -> tf.Tensor:
        return tf.constant(self._require_tables().offsets.astype(np.int32))

    def quantize(self, bottleneck):
        """Rounds to the integer grid (shifted by the offsets), with a straight-through gradient."""
        bottleneck = tf.convert_to_tensor(bottleneck, tf.float32)
        offset = self.quantization_offset
        return _round_straight_through(bottleneck, tf.zeros(()) if offset is None else offset)

    def __call__(self, bottleneck, training=True):
        bottleneck = tf.convert_to_tensor(bottleneck, tf.float32)
        if training:
            perturbed = bottleneck + tf.random.uniform(tf.shape(bottleneck), -0.5, 0.5)
        else:
            perturbed = self.quantize(bottleneck)
        log_probs = self.prior.log_prob(perturbed)
        return perturbed, tf.reduce_sum(log_probs, axis=-1) / -tf.math.log(2.0)

    def _require_tables(self) -> CodingTables:
        if not self.compression:
            raise ValueError("This entropy model was built with compression=False; build it "
                             "with compression=True to compress or decompress.")
        return self.tables

    def symbols(self, bottleneck) -> np.ndarray:
        """The integers `compress` codes for latents [..., C]: round(y - offset), as int64.

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
        shifted = y if self._offset is None else y - self._offset
        rounded = np.rint(shifted.astype(np.float64))
        if rounded.size and np.abs(rounded).max() >= 2 * MAX_ESCAPE:  # before int64 can overflow
            raise self._escape_error(np.abs(y).max())
        return rounded.astype(np.int64)

    def _check_shape(self, array: np.ndarray, what: str, kinds: str) -> None:
        if array.dtype.kind not in kinds or array.ndim < 1 or array.shape[-1] != self.channels:
            raise ValueError(f"Expected {what} shaped [..., {self.channels}], got dtype "
                             f"{array.dtype} and shape {list(array.shape)}.")

    def encode_symbols(self, symbols: np.ndarray) -> list[bytes]:
        """One byte string per row of integer symbols [N, C]; an empty batch gives [].

        Raises ValueError for symbols more than 2**30 beyond their table (no coder can write
        those).
        """
        tables = self._require_tables()
        symbols = np.asarray(symbols)
        self._check_shape(symbols, "integer symbols", "iu")
        if symbols.size and np.abs(symbols.astype(np.float64)).max() >= 2.0**62:
            raise self._escape_error(np.abs(symbols.astype(np.float64)).max())
        symbols = symbols.reshape(-1, self.channels).astype(np.int64, copy=False)
        distance = np.maximum(tables.offsets - symbols,
                              symbols - (tables.offsets + tables.lengths - 1))
        if (distance >= MAX_ESCAPE).any():
            raise self._escape_error(np.abs(symbols).max())
        return encode(symbols, tables) if len(symbols) else []

    @staticmethod
    def _escape_error(largest) -> ValueError:
        return ValueError(f"Cannot code latent values more than 2**30 beyond their table's range "
                          f"(found {largest:.3g}); tensorflow-compression would never return on "
                          f"them.")

    def decode_symbols(self, strings) -> np.ndarray:
        """Integer symbols [N, C] (int64) from a batch of strings made by `encode_symbols` with
        identical tables.

        Strings whose escape code never ends are stopped, not followed. With
        ``decode_sanity_check=True`` (the default), strings that were not made with these tables
        raise a `DecodeError`; a string missing its last byte may still pass (see README).
        """
        tables = self._require_tables()
        strings = check_strings(strings)
        if not strings:
            return np.zeros((0, self.channels), np.int64)
        symbols, sane = decode(strings, tables)
        if self.decode_sanity_check and not sane.all():
            failed = np.flatnonzero(~sane)
            raise DecodeError(
                f"Sanity check failed for {len(failed)} of {len(strings)} strings (first: "
                f"index {failed[0]}): they were not made with these coding tables, or are "
                f"damaged.", failed)
        return symbols.astype(np.int64)

    def compress(self, bottleneck) -> tf.Tensor:
        """One byte string per row of `bottleneck` ([..., C] numbers), as a tf.string tensor of
        the batch shape; an empty batch gives an empty result."""
        symbols = self.symbols(bottleneck)
        strings = self.encode_symbols(symbols)
        return tf.reshape(tf.constant(strings, tf.string), symbols.shape[:-1])

    def decompress(self, strings, broadcast_shape=()) -> tf.Tensor:
        """Latents [..., C] (float32) from strings made by `compress`, of any batch shape."""
        if len(broadcast_shape):
            raise ValueError("Only broadcast_shape=() is supported with coding_rank=1.")
        shape = None
        if isinstance(strings, tf.Tensor) and strings.dtype == tf.string:
            shape, strings = strings.shape.as_list(), tf.reshape(strings, [-1])
        elif isinstance(strings, np.ndarray) and strings.dtype.kind in "OS":
            shape, strings = list(strings.shape), strings.reshape(-1)
        values = self.decode_symbols(strings).astype(np.float32)
        if self._offset is not None:
            values = values + self._offset
        batch = [len(values)] if shape is None else shape
        return tf.constant(values.reshape(batch + [self.channels]))


__all__ = ["ContinuousBatchedEntropyModel", "DecodeError", "NoisyLogistic", "TableError",
           "check_strings"]
