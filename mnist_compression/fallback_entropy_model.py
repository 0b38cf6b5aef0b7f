"""`NoisyLogistic` and `ContinuousBatchedEntropyModel` without tensorflow-compression.

The backend `entropy_models` selects where tensorflow-compression cannot be installed (Python
3.12+, TensorFlow 2.16+). Densities, rates and their gradients are TensorFlow ops, evaluated in
the same order as tensorflow-compression 2.14.1 so that tables and rates agree; strings come from
the numpy batch coder in `range_coder`, in the same byte format. Only what the tutorial uses is
offered: a scalar prior batched over the last axis, and `coding_rank=1`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .range_coder import DEFAULT_PRECISION, CodingTables, TableError, decode, encode

DEFAULT_TAIL_MASS = 2.0**-8


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
        """Quantile of the logistic (not of the noisy variable): where range coding cuts tails."""
        p = tf.convert_to_tensor(p, self.dtype)
        return self.loc + self.scale * (tf.math.log(p) - tf.math.log1p(-p))

    def quantization_offset(self):
        """Rounding is centred on the mode: the offset of `loc` from the nearest integer."""
        loc = tf.broadcast_to(self.loc, self.batch_shape)
        return tf.stop_gradient(loc - tf.round(loc))

    def lower_tail(self, tail_mass):
        return tf.stop_gradient(tf.broadcast_to(self.quantile(tail_mass / 2), self.batch_shape))

    def upper_tail(self, tail_mass):
        return tf.stop_gradient(
            tf.broadcast_to(self.quantile(1 - tail_mass / 2), self.batch_shape))

    def sample(self, sample_shape=(), seed=None):
        """Draws from the noisy density: a logistic sample plus uniform noise."""
        shape = tf.concat([tf.cast(sample_shape, tf.int32), self.batch_shape], 0)
        u = tf.random.uniform(shape, minval=1e-7, maxval=1 - 1e-7, seed=seed)
        noise = tf.random.uniform(shape, -0.5, 0.5, seed=seed)
        return self.quantile(u) + noise


@tf.custom_gradient
def _round_straight_through(values, offset):
    return tf.round(values - offset) + offset, lambda grad: (grad, tf.zeros_like(offset))


class ContinuousBatchedEntropyModel(tf.Module):
    """Rate estimates and range coding for latents with one prior per latent dimension.

    ``model(y, training=True)`` adds uniform noise and returns the differentiable upper bound on
    bits; ``training=False`` rounds (around the quantization offsets) and returns the
    information content. With ``compression=True`` the prior is turned into coding tables once,
    and `compress` / `decompress` write and read one string per row of latents.
    """

    def __init__(self, prior=None, coding_rank=1, compression=False,
                 tail_mass=DEFAULT_TAIL_MASS, range_coder_precision=DEFAULT_PRECISION,
                 offset_heuristic=True, quantization_offset=None, decode_sanity_check=True,
                 cdf=None, cdf_offset=None, name="ContinuousBatchedEntropyModel"):
        super().__init__(name=name)
        if coding_rank != 1:
            raise ValueError(f"Only coding_rank=1 is supported here, got {coding_rank!r}.")
        if (prior is None) == (cdf is None):
            raise ValueError("Pass exactly one of `prior` or `cdf` (with `cdf_offset`).")
        if prior is not None and prior.batch_shape.rank != 1:
            raise ValueError(f"The prior needs one dimension (one density per latent), got "
                             f"batch shape {prior.batch_shape}.")
        self.prior = prior
        self.coding_rank = coding_rank
        self.compression = bool(compression or cdf is not None)
        self.tail_mass = float(tail_mass)
        self.range_coder_precision = int(range_coder_precision)
        self.offset_heuristic = bool(offset_heuristic)
        self.decode_sanity_check = bool(decode_sanity_check)
        self._offset = None
        if quantization_offset is not None:
            self._offset = tf.convert_to_tensor(quantization_offset, tf.float32)
        elif self.compression and self.offset_heuristic and prior is not None:
            offset = prior.quantization_offset()
            self._offset = None if bool(tf.reduce_all(offset == 0)) else offset
        if cdf is not None:
            self.tables = CodingTables.from_flat(np.asarray(cdf), np.asarray(cdf_offset))
        elif self.compression:
            self.tables = self._build_tables()

    @property
    def quantization_offset(self):
        if self._offset is not None or self.compression:
            return self._offset
        if self.offset_heuristic and self.prior is not None:
            return self.prior.quantization_offset()
        return None

    @property
    def cdf(self):
        return tf.constant(self.tables.to_flat())

    @property
    def cdf_offset(self):
        return tf.constant(self.tables.offsets.astype(np.int32))

    def _build_tables(self) -> CodingTables:
        prior, precision = self.prior, self.range_coder_precision
        offset = tf.zeros(prior.batch_shape) if self._offset is None else self._offset
        lower = prior.lower_tail(self.tail_mass)
        upper = prior.upper_tail(self.tail_mass)
        if not bool(tf.reduce_all(tf.math.is_finite(lower) & tf.math.is_finite(upper))):
            raise TableError("The prior has non-finite tails (a NaN or infinite scale?).")
        minima = tf.cast(tf.math.floor(lower - offset), tf.int32)
        maxima = tf.cast(tf.math.ceil(upper - offset), tf.int32)
        lengths = (maxima - minima + 1).numpy()
        widest = int(lengths.max())
        if widest + 1 > 1 << precision:
            raise TableError(
                f"The prior is too wide to code: its widest table needs {widest + 1} bins, more "
                f"than the 2**{precision} that precision {precision} allows. Use smaller prior "
                f"scales, a larger tail_mass, or a higher range_coder_precision."
            )
        samples = tf.range(float(widest))[:, None] + (tf.cast(minima, tf.float32) + offset)
        pmf = tf.transpose(prior.prob(samples))
        pmfs = []
        for row, length in zip(tf.unstack(pmf), lengths):
            p = row[:length]
            overflow = tf.maximum(1.0 - tf.reduce_sum(p, keepdims=True), 0.0)
            pmfs.append(tf.concat([p, overflow], 0).numpy())
        return CodingTables.from_pmfs(pmfs, minima.numpy(), precision)

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

    def _require_tables(self):
        if not self.compression:
            raise ValueError("This entropy model was built with compression=False; build it "
                             "with compression=True to compress or decompress.")

    def compress(self, bottleneck):
        """One byte string per row of `bottleneck` ([..., C] floats)."""
        self._require_tables()
        bottleneck = tf.convert_to_tensor(bottleneck, tf.float32)
        tf.debugging.assert_all_finite(bottleneck, "Latents to compress must be finite.")
        if self._offset is not None:
            bottleneck -= self._offset
        symbols = tf.cast(tf.round(bottleneck), tf.int32)
        batch_shape = tf.shape(symbols)[:-1]
        flat = tf.reshape(symbols, [-1, len(self.tables.lengths)])
        strings = tf.numpy_function(
            lambda s: np.array(encode(s, self.tables), dtype=object), [flat], tf.string,
            stateful=False)
        return tf.reshape(strings, batch_shape)

    def decompress(self, strings, broadcast_shape=()):
        """Latents [..., C] from strings made by `compress` (with identical tables)."""
        self._require_tables()
        if len(broadcast_shape):
            raise ValueError("Only broadcast_shape=() is supported with coding_rank=1.")
        strings = tf.convert_to_tensor(strings, tf.string)
        channels = len(self.tables.lengths)
        symbols, sane = tf.numpy_function(
            lambda s: decode(s.ravel(), self.tables), [strings], (tf.int32, tf.bool),
            stateful=False)
        if self.decode_sanity_check:
            with tf.control_dependencies([tf.debugging.assert_equal(
                    sane, True, message="Sanity check failed.")]):
                symbols = tf.identity(symbols)
        outputs = tf.cast(
            tf.reshape(symbols, tf.concat([tf.shape(strings), [channels]], 0)), tf.float32)
        if self._offset is not None:
            outputs += self._offset
        return outputs
