"""The fixed-point transforms: equal to the float model up to rounding, exact, and bounded."""

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.codec.exact_transforms import (
    _CHUNK,
    _KERNEL,
    _PAD_BEFORE,
    _STRIDE,
    ACTIVATION_BITS,
    MAX_ACTIVATION,
    WEIGHT_BITS,
    ExactTransforms,
    FixedPointTransform,
    _exact_matmul,
    quantize_layer,
    round_output,
)
from mnist_compression.model.autoencoder import (
    MNISTCompressionTrainer,
    make_analysis_transform,
    make_synthesis_transform,
)
from mnist_compression.model.files import make_codec

# An untrained encoder's latents all lie within ±0.2, so they would all round to 0; this one's
# last layer is scaled up so that the latents spread over about ±6, as a trained model's do.
LATENT_GAIN = 40.0
# How far the fixed-point analysis may be from the float32 one before rounding, at that gain.
LATENT_TOLERANCE = 4e-3


@pytest.fixture(scope="module")
def trainer():
    tf.keras.utils.set_random_seed(1)
    trainer = MNISTCompressionTrainer(latent_dims=50)
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    last = trainer.analysis_transform.get_layer("fc_2")
    last.set_weights([w * LATENT_GAIN for w in last.get_weights()])
    return trainer


def _exact(trainer) -> ExactTransforms:
    """The trainer's transforms as the codec builds them: from its model-file arrays."""
    return make_codec(trainer).transforms


@pytest.fixture(scope="module")
def transforms(trainer):
    return _exact(trainer)


def _float_latents(trainer, digits):
    return trainer.analysis_transform(tf.cast(digits, tf.float32) / 255.0).numpy()


def test_latents_equal_the_rounded_float_latents(trainer, transforms, test_digits):
    latents = transforms.latents(test_digits)
    assert latents.shape == (64, 50) and latents.dtype == np.int64
    float_latents = _float_latents(trainer, test_digits)
    assert np.ptp(np.round(float_latents)) >= 8  # many integers, not all zeros
    unrounded = transforms.analysis(test_digits) / 2.0**ACTIVATION_BITS
    assert np.abs(unrounded - float_latents).max() < LATENT_TOLERANCE
    clear = np.abs(np.abs(float_latents % 1) - 0.5) > LATENT_TOLERANCE  # not close to a tie
    assert clear.mean() > 0.97
    np.testing.assert_array_equal(latents[clear], np.round(float_latents)[clear])
    assert np.abs(latents - np.round(float_latents)).max() <= 1  # near a tie: either neighbour


def test_digits_equal_the_float_decoder_up_to_one_grey_level(trainer, transforms):
    latents = np.random.default_rng(0).integers(-6, 7, (64, 50))
    digits = transforms.digits(latents)
    assert digits.shape == (64, 28, 28, 1) and digits.dtype == np.uint8
    reference = tf.saturate_cast(tf.round(trainer.synthesis_transform(
        tf.constant(latents, tf.float32)) * 255.0), tf.uint8).numpy()
    assert ((reference > 0) & (reference < 255)).mean() > 0.3  # grey levels, not just clipping
    difference = np.abs(digits.astype(int) - reference)
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01


def test_results_do_not_depend_on_the_batch_or_its_chunking(transforms, test_digits):
    whole = transforms.latents(test_digits)
    assert len(np.unique(whole)) > 5
    one_by_one = np.concatenate([transforms.latents(d[None]) for d in test_digits])
    np.testing.assert_array_equal(whole, one_by_one)
    digits = transforms.digits(whole)
    np.testing.assert_array_equal(transforms.digits(whole[::-1]), digits[::-1])
    # More than two chunks of _CHUNK rows, with each digit's rows on both sides of a boundary.
    repeats = 2 * _CHUNK // len(test_digits) + 2
    np.testing.assert_array_equal(transforms.latents(np.tile(test_digits, (repeats, 1, 1, 1))),
                                  np.tile(whole, (repeats, 1)))
    np.testing.assert_array_equal(transforms.digits(np.tile(whole, (repeats, 1))),
                                  np.tile(digits, (repeats, 1, 1, 1)))


def test_empty_batches_give_empty_results_of_the_right_shape_and_dtype(transforms):
    latents = transforms.latents(np.zeros((0, 28, 28, 1), np.uint8))
    assert latents.shape == (0, 50) and latents.dtype == np.int64
    digits = transforms.digits(np.zeros((0, 50), np.int64))
    assert digits.shape == (0, 28, 28, 1) and digits.dtype == np.uint8


def test_absurd_latents_are_clipped_not_overflowed(transforms):
    latents = np.full((2, 50), 2**31 - 1, np.int64)
    latents[1] *= -1
    digits = transforms.digits(latents)
    assert digits.dtype == np.uint8 and digits.shape == (2, 28, 28, 1)
    # The same pixels before they are clipped to 0..255: far outside it on both sides, but
    # within the activation limit (about ±4096), which is what keeps int64 from overflowing.
    pixels = round_output(transforms.synthesis(latents))
    limit = (MAX_ACTIVATION >> ACTIVATION_BITS) + 1
    for image in pixels:
        assert image.min() < -1000 and image.max() > 1000
    assert np.abs(pixels).max() <= limit
    np.testing.assert_array_equal(digits, np.clip(pixels, 0, 255))
    assert (digits[pixels < 0] == 0).all() and (digits[pixels > 255] == 255).all()
    # Inputs are clipped to the activation limit first: latents at the limit, at 2**31 - 1 and at
    # the largest int64 all give the same digits.
    for extreme in (MAX_ACTIVATION, np.iinfo(np.int64).max):
        same = np.where(latents > 0, extreme, -extreme)
        np.testing.assert_array_equal(transforms.digits(same), digits)


def _convolutions(model):
    return [layer for layer in model.layers
            if type(layer).__name__ in ("Conv2D", "Conv2DTranspose")]


def _same_padding(size, kernel, stride):
    """TensorFlow's 'same' padding of one spatial axis: (output size, before, after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def test_models_convolutions_have_the_kernel_stride_and_padding_exact_transforms_assume():
    analysis, synthesis = make_analysis_transform(50), make_synthesis_transform()
    shapes = {}
    for model, shape, kind in ((analysis, (1, 28, 28, 1), "Conv2D"),
                               (synthesis, (1, 50), "Conv2DTranspose")):
        x = tf.zeros(shape)
        for layer in model.layers:  # record the sizes each convolution sees
            y = layer(x)
            if layer in _convolutions(model):
                shapes.setdefault(kind, []).append((x.shape[1], y.shape[1]))
                assert x.shape[1] == x.shape[2] and y.shape[1] == y.shape[2]
            x = y
        convolutions = _convolutions(model)
        assert [type(layer).__name__ for layer in convolutions] == [kind, kind]
        for layer in convolutions:
            assert tuple(layer.kernel_size) == (_KERNEL, _KERNEL), layer.name
            assert tuple(layer.strides) == (_STRIDE, _STRIDE), layer.name
            assert tuple(layer.dilation_rate) == (1, 1), layer.name
            assert layer.padding == "same", layer.name
    assert shapes == {"Conv2D": [(28, 14), (14, 7)], "Conv2DTranspose": [(7, 14), (14, 28)]}
    # A transposed convolution from n to 2n pads as the convolution from 2n to n does.
    for size, out in shapes["Conv2D"] + [(b, a) for a, b in shapes["Conv2DTranspose"]]:
        assert _same_padding(size, _KERNEL, _STRIDE)[:2] == (out, _PAD_BEFORE), size


@pytest.mark.parametrize("size", [28, 14])
def test_pad_before_reproduces_tensorflows_same_convolutions(size):
    rng = np.random.default_rng(size)
    x = tf.constant(rng.integers(-8, 9, (2, size, size, 3)), tf.float32)
    kernel = tf.constant(rng.integers(-8, 9, (_KERNEL, _KERNEL, 3, 4)), tf.float32)
    out, before, after = _same_padding(size, _KERNEL, _STRIDE)
    assert before == _PAD_BEFORE
    padding = [[0, 0], [_PAD_BEFORE, after], [_PAD_BEFORE, after], [0, 0]]
    same = tf.nn.conv2d(x, kernel, _STRIDE, "SAME")
    explicit = tf.nn.conv2d(tf.pad(x, padding), kernel, _STRIDE, "VALID")
    np.testing.assert_array_equal(same.numpy(), explicit.numpy())
    # The transposed convolution back to `size`: the full result, cropped from _PAD_BEFORE.
    y = tf.constant(rng.integers(-8, 9, (2, out, out, 4)), tf.float32)
    transposed = tf.nn.conv2d_transpose(y, kernel, (2, size, size, 3), _STRIDE, "SAME")
    full_size = (out - 1) * _STRIDE + _KERNEL
    full = tf.nn.conv2d_transpose(y, kernel, (2, full_size, full_size, 3), _STRIDE, "VALID")
    np.testing.assert_array_equal(
        transposed.numpy(), full.numpy()[:, _PAD_BEFORE:_PAD_BEFORE + size,
                                         _PAD_BEFORE:_PAD_BEFORE + size])


@pytest.mark.parametrize("rows", [1, 25, 500, 2450, 8000])
def test_matmul_is_exact_for_the_widest_inputs(rows):
    rng = np.random.default_rng(rows)
    weights = rng.integers(-(2**20), 2**20 + 1, (rows, 7))
    x = rng.integers(-(2**28) + 1, 2**28, (5, rows))
    weights[:, 0] = 2**20  # the widest column, against the widest rows of either sign
    x[0], x[1] = 2**28 - 1, -(2**28 - 1)
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
    # The largest weight uses all WEIGHT_BITS bits (0.49 becomes 0.49 * 2**21), none beyond.
    assert 2 ** (WEIGHT_BITS - 1) <= np.abs(layer.weights).max() <= 2**WEIGHT_BITS
    assert layer.weight_bits == 21 and layer.weights[0, 1] == round(-0.0001 * 2**21)
    assert layer.bias.tolist() == [0.25 * 2**21, -2.0 * 2**21]


def test_rounding_is_half_to_even_like_tf_round():
    half = 1 << (ACTIVATION_BITS - 1)
    values = np.array([0, half, 3 * half, 5 * half, -half, -3 * half, half + 1, half - 1])
    assert round_output(values).tolist() == [0, 0, 2, 2, 0, -2, 1, 0]
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.integers(-(2**40), 2**40, 1000),
                             (2 * rng.integers(-(2**20), 2**20, 1000) + 1) * half])  # ties
    expected = tf.round(tf.constant(values / 2.0**ACTIVATION_BITS, tf.float64)).numpy()
    np.testing.assert_array_equal(round_output(values), expected)


def test_unsupported_activations_are_named():
    entries = [dict(type="Dense", name="fc", units=3, activation="relu")]
    arrays = {"t/fc/kernel": np.ones((4, 3), np.float32), "t/fc/bias": np.zeros(3, np.float32)}
    with pytest.raises(ValueError, match="activation 'relu'"):
        FixedPointTransform.from_arrays(entries, arrays, "t")


def test_a_layer_too_small_for_its_biases_is_refused_in_one_line(small_trainer):
    layer = small_trainer.analysis_transform.get_layer("conv_1")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel * 1e-15, bias + 0.1])
    try:
        with pytest.raises(ValueError, match="too small beside its biases"):
            _exact(small_trainer)
    finally:
        layer.set_weights([kernel, bias])
