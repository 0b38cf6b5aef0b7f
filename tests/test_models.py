"""Transforms, the trainer's rate and distortion, and the architecture description."""

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.models import (
    architecture,
    make_analysis_transform,
    make_synthesis_transform,
)


@pytest.fixture(scope="module")
def trainer(small_trainer):
    return small_trainer


@pytest.mark.parametrize("latent_dims", [1, 10, 50])
def test_transform_shapes(latent_dims):
    x = tf.random.uniform((3, 28, 28, 1))
    y = make_analysis_transform(latent_dims)(x)
    assert y.shape == (3, latent_dims) and y.dtype == tf.float32
    x_hat = make_synthesis_transform()(y)
    assert x_hat.shape == (3, 28, 28, 1) and x_hat.dtype == tf.float32


def test_transforms_have_the_tutorials_layers():
    analysis, synthesis = make_analysis_transform(50), make_synthesis_transform()
    analysis.build((None, 28, 28, 1))
    synthesis.build((None, 50))
    assert analysis.count_params() == 20 * 26 + 50 * (25 * 20 + 1) + 500 * 2451 + 50 * 501
    assert synthesis.count_params() == 51 * 500 + 501 * 2450 + 20 * (25 * 50 + 1) + 25 * 20 + 1


@pytest.mark.parametrize("training", [True, False])
def test_trainer_returns_rate_and_distortion_per_example(trainer, test_digits, training):
    outputs = trainer(test_digits[:8], training=training)
    assert set(outputs) == {"rate", "distortion"}
    for value in outputs.values():
        assert value.shape == (8,) and value.dtype == tf.float32
    assert np.all(outputs["rate"].numpy() > 0)
    assert np.all((outputs["distortion"].numpy() > 0) & (outputs["distortion"].numpy() < 1))


def test_prior_scales_are_trainable(trainer):
    assert any(v is trainer.prior_log_scales for v in trainer.trainable_variables)
    bits_at_zero = -np.log2(trainer.prior.prob(tf.zeros((50,))).numpy())
    expected = _noisy_logistic_bits(np.zeros(50), np.exp(np.linspace(-4.0, 1.5, 50)))
    np.testing.assert_allclose(bits_at_zero, expected, rtol=1e-5, atol=1e-5)


def _noisy_logistic_bits(y, scale):
    """-log2 of the probability a logistic(0, scale) puts on [y - 1/2, y + 1/2], in float64."""
    def cdf(v):
        return 1 / (1 + np.exp(-v / scale))
    return -np.log2(cdf(y + 0.5) - cdf(y - 0.5))


def test_quantized_rate_matches_a_hand_computation(trainer, test_digits):
    digits = test_digits[:16]
    y = trainer.analysis_transform(tf.cast(digits, tf.float32) / 255.0).numpy().astype(np.float64)
    scale = np.exp(trainer.prior_log_scales.numpy().astype(np.float64))
    expected = _noisy_logistic_bits(np.round(y), scale).sum(axis=1)
    rate = trainer(digits, training=False)["rate"].numpy()
    np.testing.assert_allclose(rate, expected, rtol=1e-4)


def test_quantized_distortion_matches_a_hand_computation(trainer, test_digits):
    digits = test_digits[:4]
    x = tf.cast(digits, tf.float32) / 255.0
    x_hat = trainer.synthesis_transform(tf.round(trainer.analysis_transform(x))).numpy()
    expected = np.abs(x.numpy() - x_hat).mean(axis=(1, 2, 3))
    distortion = trainer(digits, training=False)["distortion"].numpy()
    np.testing.assert_allclose(distortion, expected, rtol=1e-5)


def test_noisy_rate_is_a_differentiable_bound(trainer, test_digits):
    with tf.GradientTape() as tape:
        rate = tf.reduce_mean(trainer(test_digits[:8], training=True)["rate"])
    gradients = tape.gradient(rate, [trainer.prior_log_scales])
    assert np.all(np.isfinite(gradients[0].numpy())) and np.any(gradients[0].numpy() != 0)


def test_architecture_describes_every_layer_the_same_way_on_keras_2_and_3():
    description = architecture(50)
    assert description["latent_dims"] == 50
    assert [layer["type"] for layer in description["analysis"]] == [
        "Conv2D", "Conv2D", "Flatten", "Dense", "Dense"]
    first = description["analysis"][0]
    assert first == dict(type="Conv2D", name="conv_1", filters=20, kernel_size=[5, 5],
                         strides=[2, 2], padding="same", activation="leaky_relu")
    assert description["synthesis"][2] == dict(type="Reshape", name="reshape",
                                               target_shape=[7, 7, 50])
    assert architecture(50) == description  # no layer is named by a counter
    assert architecture(20) != description
