"""The loss rate + λ·distortion equals the negative ELBO up to 784·log2(2b) (notebook 06)."""

import math

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.model.autoencoder import MNISTCompressionTrainer
from mnist_compression.model.elbo import PIXELS, laplace_scale, negative_elbo


@pytest.fixture(scope="module")
def trainer():
    tf.keras.utils.set_random_seed(1)
    model = MNISTCompressionTrainer(latent_dims=8, lmbda=500)
    model(tf.zeros((1, 28, 28, 1), tf.uint8))
    model.prior_log_scales.assign(tf.linspace(-2.0, 1.0, 8))
    return model


def _digits(count=6):
    return np.random.default_rng(0).integers(0, 256, (count, 28, 28, 1), dtype=np.uint8)


def test_the_laplace_scale_turns_the_likelihood_into_lambda_times_the_distortion():
    assert laplace_scale(2000) == pytest.approx(784 / (2000 * math.log(2)))
    assert laplace_scale(2000) == pytest.approx(0.5655, abs=1e-4)
    b = laplace_scale(300)
    assert PIXELS * 0.1 / (b * math.log(2)) == pytest.approx(300 * 0.1)  # 784·D/(b ln 2) = λ·D


def test_the_bound_and_the_loss_differ_by_the_constant_for_every_digit(trainer):
    bound = negative_elbo(trainer, _digits(), seed=3)
    b = laplace_scale(500)
    assert bound["constant"] == pytest.approx(784 * math.log2(2 * b))
    np.testing.assert_allclose(bound["negative_elbo"] - bound["loss"], bound["constant"],
                               atol=2e-3)
    np.testing.assert_array_equal(bound["posterior_bits"], 0)
    np.testing.assert_allclose(bound["negative_elbo"],
                               bound["prior_bits"] + bound["likelihood_bits"], rtol=1e-6)


def test_the_terms_match_a_hand_computation(trainer):
    digits = _digits(2)
    bound = negative_elbo(trainer, digits, seed=5)
    x = digits.astype(np.float32) / 255
    y = trainer.analysis_transform(x).numpy()
    y_tilde = y + tf.random.stateless_uniform(y.shape, (5, 0), -0.5, 0.5).numpy()
    scales = np.exp(trainer.prior_log_scales.numpy())
    cdf = lambda v: 1 / (1 + np.exp(-v.astype(np.float64) / scales))  # noqa: E731
    prior = -np.log2(cdf(y_tilde + 0.5) - cdf(y_tilde - 0.5)).sum(axis=1)
    np.testing.assert_allclose(bound["prior_bits"], prior, rtol=1e-4)
    error = np.abs(x - trainer.synthesis_transform(y_tilde).numpy()).reshape(2, -1)
    b = laplace_scale(500)
    laplace = -np.log2(np.exp(-error / b) / (2 * b)).sum(axis=1)
    np.testing.assert_allclose(bound["likelihood_bits"], laplace, rtol=1e-5)
    np.testing.assert_allclose(bound["loss"], prior + 500 * error.mean(axis=1), rtol=1e-4)


def test_the_same_seed_gives_the_same_draw_and_another_seed_another(trainer):
    digits = _digits(3)
    first, again, other = (negative_elbo(trainer, digits, seed=s)["loss"] for s in (1, 1, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
