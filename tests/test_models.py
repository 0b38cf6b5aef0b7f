"""Transforms, the trainer's rate and distortion, and the architecture description."""

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.architecture import architecture
from mnist_compression.model.autoencoder import (
    describe_transform,
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


def _layer_sizes(model):
    return [(type(layer).__name__, getattr(layer, "filters", None) or getattr(layer, "units", None))
            for layer in model.layers]


def test_transforms_have_the_tutorials_layers():
    analysis, synthesis = make_analysis_transform(50), make_synthesis_transform()
    analysis.build((None, 28, 28, 1))
    synthesis.build((None, 50))
    assert _layer_sizes(analysis) == [("Conv2D", 20), ("Conv2D", 50), ("Flatten", None),
                                      ("Dense", 500), ("Dense", 50)]
    assert _layer_sizes(synthesis) == [("Dense", 500), ("Dense", 2450), ("Reshape", None),
                                       ("Conv2DTranspose", 20), ("Conv2DTranspose", 1)]
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


def test_prior_reads_the_trainable_log_scales(trainer):
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


def _latents_and_scales(trainer, digits):
    y = trainer.analysis_transform(tf.cast(digits, tf.float32) / 255.0).numpy()
    return y.astype(np.float64), np.exp(trainer.prior_log_scales.numpy().astype(np.float64))


def test_noisy_rate_lies_between_the_rates_at_the_ends_of_the_noise_interval(trainer, test_digits):
    # The noisy density at y + u, |u| <= 1/2, is a probability mass (so at most 1: no negative
    # bits), and it falls with the distance from the prior's centre 0, so every draw's rate lies
    # between the rates of the nearest and the farthest point within 1/2 of each latent.
    digits = test_digits[:16]
    y, scale = _latents_and_scales(trainer, digits)
    fewest = _noisy_logistic_bits(np.maximum(np.abs(y) - 0.5, 0), scale).sum(axis=1)
    most = _noisy_logistic_bits(np.abs(y) + 0.5, scale).sum(axis=1)
    assert np.all(fewest >= 0) and np.all(most - fewest > 10)
    draws = np.array([trainer(digits, training=True)["rate"].numpy() for _ in range(10)])
    assert np.all(draws >= fewest * (1 - 1e-6)) and np.all(draws <= most * (1 + 1e-6))
    assert len(np.unique(draws[:, 0])) == len(draws)  # fresh noise in every call


def test_noisy_rate_and_its_gradient_match_a_hand_computation_with_the_same_noise(trainer,
                                                                                  test_digits):
    digits = test_digits[:8]
    tf.random.set_seed(3)
    with tf.GradientTape() as tape:
        rate = trainer(digits, training=True)["rate"]
        mean_rate = tf.reduce_mean(rate)
    encoder = trainer.analysis_transform.trainable_variables
    gradients = tape.gradient(mean_rate, [trainer.prior_log_scales, *encoder])
    y, scale = _latents_and_scales(trainer, digits)
    tf.random.set_seed(3)  # the same draw again: the noise is the call's first random op
    y_tilde = y + tf.random.uniform((8, 50), -0.5, 0.5).numpy().astype(np.float64)
    np.testing.assert_allclose(rate.numpy(), _noisy_logistic_bits(y_tilde, scale).sum(axis=1),
                               rtol=1e-5)

    # d/d(log s) of -log2(sigmoid(z+) - sigmoid(z-)), with z± = (y~ ± 1/2) / s, in float64.
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))
    plus, minus = (y_tilde + 0.5) / scale, (y_tilde - 0.5) / scale
    mass = sigmoid(plus) - sigmoid(minus)
    d_mass = -plus * sigmoid(plus) * sigmoid(-plus) + minus * sigmoid(minus) * sigmoid(-minus)
    expected = (-d_mass / mass / np.log(2)).mean(axis=0)
    np.testing.assert_allclose(gradients[0].numpy(), expected, rtol=1e-4, atol=1e-5)
    for variable, gradient in zip(encoder, gradients[1:]):  # the encoder learns from the rate
        assert np.all(np.isfinite(gradient.numpy())) and np.any(gradient.numpy() != 0), variable


def _convolution(kind, name, filters):
    return dict(type=kind, name=name, filters=filters, kernel_size=[5, 5], strides=[2, 2],
                padding="same", activation="leaky_relu")


def _dense(name, units, activation="leaky_relu"):
    return dict(type="Dense", name=name, units=units, activation=activation)


def test_architecture_describes_every_layer_the_same_way_on_keras_2_and_3():
    description = architecture(50)  # this exact description on both stacks
    assert description == dict(
        latent_dims=50,
        analysis=[_convolution("Conv2D", "conv_1", 20), _convolution("Conv2D", "conv_2", 50),
                  dict(type="Flatten", name="flatten"), _dense("fc_1", 500),
                  _dense("fc_2", 50, "linear")],
        synthesis=[_dense("fc_1", 500), _dense("fc_2", 2450),
                   dict(type="Reshape", name="reshape", target_shape=[7, 7, 50]),
                   _convolution("Conv2DTranspose", "conv_1", 20),
                   _convolution("Conv2DTranspose", "conv_2", 1)])
    assert architecture(20) != description


@pytest.mark.parametrize("latent_dims", [20, 50])
def test_the_keras_transforms_are_the_layers_the_architecture_lists(latent_dims):
    # Built twice in one process: no layer is named by a counter.
    for _ in range(2):
        assert describe_transform(make_analysis_transform(latent_dims)) == architecture(
            latent_dims)["analysis"]
        assert describe_transform(make_synthesis_transform(latent_dims)) == architecture(
            latent_dims)["synthesis"]


def test_architecture_refuses_a_latent_size_that_is_not_a_positive_integer():
    for bad in (0, -1, 2.5, True, "50"):
        with pytest.raises(ValueError, match="latent_dims must be a positive integer"):
            architecture(bad)
