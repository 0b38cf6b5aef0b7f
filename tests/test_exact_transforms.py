"""The fixed-point transforms: equal to the float model up to rounding, exact, and bounded."""

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.exact_transforms import (
    ACTIVATION_BITS,
    ExactTransforms,
    FixedPointTransform,
    _exact_matmul,
    quantize_layer,
    round_output,
)


@pytest.fixture(scope="module")
def transforms(small_trainer):
    return ExactTransforms.from_trainer(small_trainer)


def _float_latents(trainer, digits):
    return trainer.analysis_transform(tf.cast(digits, tf.float32) / 255.0).numpy()


def test_latents_equal_the_rounded_float_latents(small_trainer, transforms, test_digits):
    latents = transforms.latents(test_digits)
    assert latents.shape == (64, 50) and latents.dtype == np.int64
    float_latents = _float_latents(small_trainer, test_digits)
    clear = np.abs(np.abs(float_latents % 1) - 0.5) > 1e-3  # not within 0.001 of a tie
    np.testing.assert_array_equal(latents[clear], np.round(float_latents)[clear])


def test_digits_equal_the_float_decoder_up_to_one_grey_level(small_trainer, transforms):
    latents = np.random.default_rng(0).integers(-6, 7, (64, 50))
    digits = transforms.digits(latents)
    assert digits.shape == (64, 28, 28, 1) and digits.dtype == np.uint8
    reference = tf.saturate_cast(tf.round(small_trainer.synthesis_transform(
        tf.constant(latents, tf.float32)) * 255.0), tf.uint8).numpy()
    difference = np.abs(digits.astype(int) - reference)
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01


def test_results_do_not_depend_on_the_batch(transforms, test_digits):
    whole = transforms.latents(test_digits)
    one_by_one = np.concatenate([transforms.latents(d[None]) for d in test_digits])
    np.testing.assert_array_equal(whole, one_by_one)
    np.testing.assert_array_equal(transforms.digits(whole[::-1]), transforms.digits(whole)[::-1])


def test_empty_batches(transforms):
    assert transforms.latents(np.zeros((0, 28, 28, 1), np.uint8)).shape == (0, 50)
    assert transforms.digits(np.zeros((0, 50), np.int64)).shape == (0, 28, 28, 1)


def test_absurd_latents_are_clipped_not_overflowed(transforms):
    latents = np.full((2, 50), 2**31 - 1, np.int64)
    latents[1] *= -1
    digits = transforms.digits(latents)
    assert digits.dtype == np.uint8 and digits.shape == (2, 28, 28, 1)


@pytest.mark.parametrize("rows", [1, 25, 500, 2450, 8000])
def test_matmul_is_exact_for_the_widest_inputs(rows):
    rng = np.random.default_rng(rows)
    weights = rng.integers(-(2**20), 2**20 + 1, (rows, 7))
    x = rng.integers(-(2**28) + 1, 2**28, (5, rows))
    x[0] = 2**28 - 1
    layer = quantize_layer("dense", np.zeros((rows, 7)), np.zeros(7), False, ACTIVATION_BITS)
    exact = [[sum(int(a) * int(b) for a, b in zip(row, column)) for column in weights.T]
             for row in x]
    result = _exact_matmul(x.astype(np.float64), weights.astype(np.float64), layer.piece_bits)
    assert result.tolist() == exact


def test_weights_keep_their_significant_bits():
    kernel = np.array([[0.3, -0.0001], [1e-8, 0.49]], np.float32)
    layer = quantize_layer("dense", kernel, np.array([0.25, -2.0], np.float32), True, 0)
    np.testing.assert_allclose(np.ldexp(layer.weights.astype(float), -layer.weight_bits), kernel,
                               atol=2.0**-22)
    assert np.abs(layer.weights).max() <= 2**20


def test_rounding_is_half_to_even_like_tf_round():
    half = 1 << (ACTIVATION_BITS - 1)
    values = np.array([0, half, 3 * half, 5 * half, -half, -3 * half, half + 1, half - 1])
    assert round_output(values).tolist() == [0, 0, 2, 2, 0, -2, 1, 0]


def test_unsupported_activations_are_named():
    model = tf.keras.Sequential([tf.keras.layers.Dense(3, activation="relu", name="fc")])
    model.build((None, 4))
    with pytest.raises(ValueError, match="activation 'relu'"):
        FixedPointTransform.from_keras(model)
