"""The rate–distortion loss as a variational bound (introduced in notebook 06).

With uniform noise, ``rate + λ·distortion`` is, up to a constant, the negative evidence lower
bound (ELBO) of a variational autoencoder: the encoder's posterior q(ỹ|x) is the unit-width box
around y = analysis(x) (density 1, so it adds nothing), the prior is the noisy logistic, and the
likelihood p(x|ỹ) is a Laplace density of scale b = 784 / (λ ln 2) around each decoded pixel,
because the distortion is a mean absolute error over 784 pixels. `negative_elbo` computes the
bound's terms directly, from one draw of the noise, next to the loss on that same draw.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from .autoencoder import to_unit_range

PIXELS = 28 * 28


def laplace_scale(lmbda: float) -> float:
    """The Laplace scale b (pixels in [0, 1]) for which λ·distortion is −log₂ p(x|ỹ) in bits,
    up to a constant: 784·D / (b ln 2) = λ·D."""
    return PIXELS / (lmbda * math.log(2))


def negative_elbo(trainer, digits, seed: int = 0) -> dict:
    """Per digit, in bits, from one draw of the uniform noise: the terms of the negative ELBO
    (`prior_bits` = −log₂ p(ỹ), `likelihood_bits` = −log₂ p(x|ỹ), `posterior_bits` =
    log₂ q(ỹ|x), which is 0), their sum `negative_elbo`, the `loss` rate + λ·distortion on the
    same ỹ, and the `constant` 784·log₂(2b) by which the two differ."""
    x = to_unit_range(digits)
    y = trainer.analysis_transform(x)
    y_tilde = y + tf.random.stateless_uniform(tf.shape(y), (seed, 0), -0.5, 0.5)
    b = laplace_scale(trainer.lmbda)
    prior_bits = -tf.reduce_sum(trainer.prior.log_prob(y_tilde), axis=-1) / math.log(2)
    error = tf.abs(x - trainer.synthesis_transform(y_tilde))
    log_likelihood = tf.reduce_sum(-math.log(2 * b) - error / b, axis=(1, 2, 3))
    likelihood_bits = -log_likelihood / math.log(2)
    distortion = tf.reduce_mean(error, axis=(1, 2, 3))
    terms = dict(prior_bits=prior_bits, likelihood_bits=likelihood_bits,
                 posterior_bits=tf.zeros_like(prior_bits),
                 negative_elbo=prior_bits + likelihood_bits,
                 loss=prior_bits + trainer.lmbda * distortion)
    result = {name: np.asarray(value, np.float64) for name, value in terms.items()}
    result["constant"] = PIXELS * math.log2(2 * b)
    return result


__all__ = ["PIXELS", "laplace_scale", "negative_elbo"]
