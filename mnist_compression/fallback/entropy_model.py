"""`NoisyLogistic` and the rate of `ContinuousBatchedEntropyModel` without tensorflow-compression.

Where tensorflow-compression cannot be installed (Python 3.12+, TensorFlow 2.16+), these
TensorFlow ops give the prior's densities and the rates used in training, evaluated in the same
order as tensorflow-compression 2.14.1 so that rates and gradients agree bit for bit on TF 2.14.
Coding (tables and strings) is not here: `entropy_models.ContinuousBatchedEntropyModel` does it
the same way on both backends.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


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


class RateModel(tf.Module):
    """The rates of `tfc.ContinuousBatchedEntropyModel(prior, coding_rank=1)`, for training.

    ``model(y, training=True)`` adds uniform noise and returns the noisy latents with their
    differentiable bit estimate; ``training=False`` rounds (around the quantization offsets) and
    returns the information content of the rounded latents.
    """

    def __init__(self, prior, offset_heuristic=True, quantization_offset=None,
                 name="RateModel"):
        super().__init__(name=name)
        if prior.batch_shape.rank != 1:
            raise ValueError(f"The prior needs one dimension (one density per latent), got "
                             f"batch shape {prior.batch_shape}.")
        self.prior = prior
        self.offset_heuristic = bool(offset_heuristic)
        self._offset = (None if quantization_offset is None
                        else tf.convert_to_tensor(quantization_offset, tf.float32))

    @property
    def quantization_offset(self):
        if self._offset is not None:
            return self._offset
        return self.prior.quantization_offset() if self.offset_heuristic else None

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
