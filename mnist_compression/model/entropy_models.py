"""The prior and the entropy model the tutorial trains with: one implementation everywhere.

Introduced in notebook 02 (noise and prior) and used for real strings in notebook 04.
`NoisyLogistic` is a logistic density convolved with U(-1/2, 1/2); `ContinuousBatchedEntropyModel`
turns it into a differentiable rate (training) and, with ``compression=True``, into range-coded
strings through `codec.entropy_coder.EntropyCoder` (numpy). Both follow tensorflow-compression
2.14.1's classes of the same names and give the same numbers and bytes: its densities and rates
are computed in the same order (bit for bit on TensorFlow 2.14), its tables are built by
`coding.tables` in numpy, and its strings are written by `coding.range_coder`, so a string made
on one stack decodes on any other. tensorflow-compression itself is not used at run time: it
installs only with TensorFlow 2.14 and Python <= 3.11, and the tests compare this package against
it there.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from ..codec.entropy_coder import EntropyCoder, check_precision
from ..coding.range_coder import DEFAULT_PRECISION
from ..coding.tables import DEFAULT_TAIL_MASS

_RETIRED_ENV = "MNIST_COMPRESSION_BACKEND"
if os.environ.get(_RETIRED_ENV):
    raise ImportError(f"{_RETIRED_ENV} is no longer used: mnist_compression codes with its own "
                      f"coder on every stack. Unset it.")


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
        check_precision(range_coder_precision)
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
        self.coder = None
        if self.compression:
            loc, scale = (np.broadcast_to(np.asarray(v, np.float32), self.prior.batch_shape)
                          for v in (prior.loc, prior.scale))
            self.coder = EntropyCoder(scale, loc, tail_mass, range_coder_precision,
                                      offset_heuristic, decode_sanity_check)
            self.tables = self.coder.tables

    @property
    def channels(self) -> int:
        return self.prior.batch_shape[0]

    @property
    def quantization_offset(self):
        """What rounding is centred on, per channel: fixed with the tables when compressing,
        else the prior's offset heuristic (None without one)."""
        if self.compression:
            offset = self.coder.quantization_offset
            return None if offset is None else tf.constant(offset)
        return self.prior.quantization_offset() if self.offset_heuristic else None

    @property
    def cdf(self) -> tf.Tensor:
        """The tables in tensorflow-compression's flat int32 layout."""
        return tf.constant(self._require_coder().tables.to_flat())

    @property
    def cdf_offset(self) -> tf.Tensor:
        return tf.constant(self._require_coder().tables.offsets.astype(np.int32))

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

    def _require_coder(self) -> EntropyCoder:
        if not self.compression:
            raise ValueError("This entropy model was built with compression=False; build it "
                             "with compression=True to compress or decompress.")
        return self.coder

    def symbols(self, bottleneck) -> np.ndarray:
        """The integers `compress` codes for latents [..., C] (`EntropyCoder.symbols`)."""
        return self._require_coder().symbols(bottleneck)

    def encode_symbols(self, symbols: np.ndarray) -> list[bytes]:
        """One byte string per row of integer symbols [N, C] (`EntropyCoder.encode_symbols`)."""
        return self._require_coder().encode_symbols(symbols)

    def decode_symbols(self, strings) -> np.ndarray:
        """Integer symbols [N, C] from strings (`EntropyCoder.decode_symbols`)."""
        return self._require_coder().decode_symbols(strings)

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
        offset = self._require_coder().quantization_offset
        if offset is not None:
            values = values + offset
        batch = [len(values)] if shape is None else shape
        return tf.constant(values.reshape(batch + [self.channels]))


__all__ = ["ContinuousBatchedEntropyModel", "NoisyLogistic"]
