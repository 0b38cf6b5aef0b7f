"""Transforms, the trainer's rate and distortion, and the compressor/decompressor round trip."""

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.models import (
    MNISTCompressionTrainer,
    make_analysis_transform,
    make_mnist_codec,
    make_synthesis_transform,
)
from mnist_compression.training import make_trainer


@pytest.fixture(scope="module")
def trainer():
    """An untrained trainer whose prior scales differ per latent, as after training."""
    tf.keras.utils.set_random_seed(1)
    model = MNISTCompressionTrainer(latent_dims=10)
    model(tf.zeros((1, 28, 28, 1), tf.uint8))
    model.prior_log_scales.assign(np.linspace(-3.0, 1.0, 10))
    return model


@pytest.fixture(scope="module")
def codec(trainer):
    return make_mnist_codec(trainer)


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
    bits_at_zero = -np.log2(trainer.prior.prob(tf.zeros((10,))).numpy())
    expected = _noisy_logistic_bits(np.zeros(10), np.exp(np.linspace(-3, 1, 10)))
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


def test_round_trip_reproduces_the_quantized_latents(trainer, codec, test_digits):
    compressor, decompressor = codec
    strings, bits = compressor(test_digits)
    assert strings.shape == (64,) and strings.dtype == tf.string
    assert bits.shape == (64,) and bits.dtype == tf.float32
    decoded = compressor.entropy_model.decompress(strings, ())
    y = trainer.analysis_transform(tf.cast(test_digits, tf.float32) / 255.0)
    np.testing.assert_array_equal(decoded.numpy(), tf.round(y).numpy())
    expected = trainer.synthesis_transform(tf.round(y)).numpy()
    reconstructions = decompressor(strings).numpy()
    assert reconstructions.shape == (64, 28, 28, 1) and reconstructions.dtype == np.uint8
    np.testing.assert_array_equal(
        reconstructions, np.clip(np.round(expected * 255), 0, 255).astype(np.uint8)
    )


def test_bits_are_the_quantized_rate_and_close_to_string_length(trainer, codec, test_digits):
    compressor, _ = codec
    strings, bits = compressor(test_digits)
    np.testing.assert_allclose(bits, trainer(test_digits, training=False)["rate"], rtol=1e-5)
    lengths = np.array([8 * len(s) for s in strings.numpy()])
    # A range coder needs about the information content, plus at most a few bytes of overhead.
    assert np.all(lengths >= bits.numpy() - 8)
    assert np.all(lengths <= bits.numpy() + 40)


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 28, 28, 1)])
def test_compressor_accepts_both_digit_layouts(codec, test_digits, shape):
    strings, _ = codec[0](test_digits[:5].reshape(shape).astype(np.int32))
    assert strings.shape == (5,)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 28, 28, 1), np.float32), "got dtype float32 .*scale"),
        (np.zeros((28, 28), np.uint8), r"\[N, 28, 28, 1\].*images\[None\]"),
        (np.zeros((2, 32, 32, 1), np.uint8), r"got shape \[2, 32, 32, 1\]"),
        (np.zeros((2, 28, 28, 3), np.uint8), "got shape"),
        (np.full((1, 28, 28), 300, np.int32), "0..255, got values from 300 to 300"),
        (np.full((1, 28, 28), -1, np.int32), "0..255"),
        (np.array([["a"] * 28] * 28)[None], "dtype <U1"),
    ],
)
def test_compressor_rejects_bad_digits(codec, images, message):
    with pytest.raises(ValueError, match=message):
        codec[0](images)


@pytest.mark.parametrize(
    "strings, message",
    [
        (b"\x12\x34", "single string"),
        (np.zeros((2, 3), np.uint8), "dtype uint8"),
        (tf.constant([[b"ab"]]), r"shape \[1, 1\]"),
        (object(), "object"),
    ],
)
def test_decompressor_rejects_non_strings(codec, strings, message):
    with pytest.raises(ValueError, match=message):
        codec[1](strings)


def test_corrupt_strings_fail_the_sanity_check_clearly(codec, test_digits):
    strings, _ = codec[0](test_digits[:4])
    cut = [s[: len(s) // 2] + b"\xff\xff\xff" for s in strings.numpy()]
    with pytest.raises(ValueError, match="sanity check.*decode_sanity_check=False"):
        codec[1](cut)


def test_random_strings_decode_without_sanity_check(trainer):
    _, decompressor = make_mnist_codec(trainer, decode_sanity_check=False)
    rng = np.random.default_rng(0)
    strings = [rng.bytes(8) for _ in range(16)]
    samples = decompressor(strings).numpy()
    assert samples.shape == (16, 28, 28, 1) and samples.dtype == np.uint8


@pytest.mark.parametrize("lmbda", [0, -1.0, float("nan")])
def test_make_trainer_rejects_bad_lambda(lmbda):
    with pytest.raises(ValueError, match="lmbda must be a positive number"):
        make_trainer(lmbda)
