"""The learned codec: analysis/synthesis transforms, the trainer, and the compressor/decompressor.

The transforms are introduced in notebook 01, the trainer in notebooks 02 and 03, and the codec
in notebook 04. The trainer returns rate and distortion per example and averages them inside its own
train/test steps, so the same code trains under Keras 2 (TF 2.14) and Keras 3 (TF >= 2.16).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .entropy_models import ContinuousBatchedEntropyModel, NoisyLogistic

keras = tf.keras
# Keras 2 (TF <= 2.15) has no __version__ under tf.keras; Keras 3 does.
KERAS_MAJOR = int(str(getattr(keras, "__version__", "2")).split(".")[0])

DEFAULT_LATENT_DIMS = 50
_LEAKY_RELU = "leaky_relu"


def make_analysis_transform(latent_dims: int = DEFAULT_LATENT_DIMS) -> keras.Sequential:
    """The encoder: a [B, 28, 28, 1] image in [0, 1] to a [B, latent_dims] latent vector."""
    return keras.Sequential(
        [
            keras.layers.Conv2D(20, 5, strides=2, padding="same", activation=_LEAKY_RELU,
                                name="conv_1"),
            keras.layers.Conv2D(50, 5, strides=2, padding="same", activation=_LEAKY_RELU,
                                name="conv_2"),
            keras.layers.Flatten(),
            keras.layers.Dense(500, activation=_LEAKY_RELU, name="fc_1"),
            keras.layers.Dense(latent_dims, activation=None, name="fc_2"),
        ],
        name="analysis_transform",
    )


def make_synthesis_transform() -> keras.Sequential:
    """The decoder: a [B, latent_dims] latent vector back to a [B, 28, 28, 1] image."""
    return keras.Sequential(
        [
            keras.layers.Dense(500, activation=_LEAKY_RELU, name="fc_1"),
            keras.layers.Dense(2450, activation=_LEAKY_RELU, name="fc_2"),
            keras.layers.Reshape((7, 7, 50)),
            keras.layers.Conv2DTranspose(20, 5, strides=2, padding="same",
                                         activation=_LEAKY_RELU, name="conv_1"),
            keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same",
                                         activation=_LEAKY_RELU, name="conv_2"),
        ],
        name="synthesis_transform",
    )


def to_unit_range(images: tf.Tensor, dtype=tf.float32) -> tf.Tensor:
    """uint8 digits of any batch shape to floats in [0, 1], shaped [B, 28, 28, 1]."""
    return tf.reshape(tf.cast(images, dtype) / 255.0, (-1, 28, 28, 1))


def _images_only(data):
    """fit() may hand us images or (images, labels); training is unsupervised either way."""
    return data[0] if isinstance(data, (tuple, list)) else data


class MNISTCompressionTrainer(keras.Model):
    """Trains both transforms and the prior on the Lagrangian rate + lmbda * distortion.

    Calling it on uint8 digits returns ``dict(rate=[B], distortion=[B])``: bits per digit under the
    prior, and the mean absolute pixel error in [0, 1]. With ``training=True`` the latents get
    uniform noise; otherwise they are rounded, as they will be when coded.
    """

    def __init__(self, latent_dims: int = DEFAULT_LATENT_DIMS, lmbda: float = 2000.0, **kwargs):
        super().__init__(**kwargs)
        self.latent_dims = int(latent_dims)
        self.lmbda = float(lmbda)
        self.analysis_transform = make_analysis_transform(self.latent_dims)
        self.synthesis_transform = make_synthesis_transform()
        self.prior_log_scales = self.add_weight(
            name="prior_log_scales", shape=(self.latent_dims,), initializer="zeros"
        )
        self._trackers = {
            name: keras.metrics.Mean(name=name) for name in ("loss", "rate", "distortion")
        }

    @property
    def prior(self) -> NoisyLogistic:
        """One zero-centred noisy logistic per latent dimension, with a learned scale."""
        return NoisyLogistic(loc=0.0, scale=tf.exp(self.prior_log_scales))

    def call(self, images, training=False):
        x = to_unit_range(images, self.compute_dtype)
        y = self.analysis_transform(x)
        # The prior's location is 0, so the quantization offsets are 0 and need no heuristic.
        entropy_model = ContinuousBatchedEntropyModel(
            self.prior, coding_rank=1, compression=False, offset_heuristic=False
        )
        y_tilde, rate = entropy_model(y, training=bool(training))
        x_tilde = self.synthesis_transform(y_tilde)
        distortion = tf.reduce_mean(tf.abs(x - x_tilde), axis=(1, 2, 3))
        return dict(rate=rate, distortion=distortion)

    @property
    def metrics(self):
        return list(self._trackers.values())

    def _update_metrics(self, outputs) -> dict:
        rate = tf.reduce_mean(outputs["rate"])
        distortion = tf.reduce_mean(outputs["distortion"])
        loss = rate + self.lmbda * distortion
        for name, value in (("loss", loss), ("rate", rate), ("distortion", distortion)):
            self._trackers[name].update_state(value)
        return loss

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = self._update_metrics(self(_images_only(data), training=True))
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def test_step(self, data):
        self._update_metrics(self(_images_only(data), training=False))
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def get_config(self):
        return dict(latent_dims=self.latent_dims, lmbda=self.lmbda, name=self.name)


def check_digits(images) -> np.ndarray:
    """Validates a batch of digits for the compressor: returns them as uint8 [N, 28, 28, 1]."""
    array = np.asarray(images.numpy() if hasattr(images, "numpy") else images)
    if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        hint = " (scale [0, 1] floats by 255 and round first)" if array.dtype.kind == "f" else ""
        raise ValueError(
            f"Expected uint8 digits with pixel values 0..255, got dtype {array.dtype}{hint}."
        )
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(
            f"Expected a batch of digits shaped [N, 28, 28, 1] or [N, 28, 28], got shape "
            f"{list(np.shape(images))}. For one digit, add a batch axis: images[None]."
        )
    if array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError(
            f"Pixel values must lie in 0..255, got values from {array.min()} to {array.max()}."
        )
    return array.astype(np.uint8)[..., np.newaxis]


def check_strings(strings) -> tf.Tensor:
    """Validates compressed strings for the decompressor: returns a 1-D tf.string tensor."""
    if isinstance(strings, (bytes, str)):
        raise ValueError("Expected a batch of strings (a list or 1-D tensor), got a single string.")
    try:
        tensor = tf.convert_to_tensor(strings)
    except (TypeError, ValueError):
        tensor = None
    if tensor is None or tensor.dtype != tf.string or tensor.shape.rank != 1:
        described = (
            f"a tensor of dtype {tensor.dtype.name} and shape {tensor.shape.as_list()}"
            if tensor is not None
            else type(strings).__name__
        )
        raise ValueError(
            f"Expected a 1-D batch of byte strings (as the compressor returns), got {described}."
        )
    return tensor


class MNISTCompressor(tf.Module):
    """Encoder side: uint8 digits to one range-coded byte string each, plus its information
    content in bits (the string length it approaches)."""

    def __init__(self, analysis_transform, entropy_model):
        super().__init__(name="mnist_compressor")
        self.analysis_transform = analysis_transform
        self.entropy_model = entropy_model
        # One compiled function per codec: each traces once, for any batch size.
        self._compressed = tf.function(
            self._compress, input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.uint8)])

    def _compress(self, images):
        y = self.analysis_transform(to_unit_range(images))
        _, bits = self.entropy_model(y, training=False)
        return self.entropy_model.compress(y), bits

    def __call__(self, images):
        return self._compressed(tf.constant(check_digits(images)))


class MNISTDecompressor(tf.Module):
    """Decoder side: byte strings back to uint8 digits [N, 28, 28, 1]."""

    def __init__(self, entropy_model, synthesis_transform):
        super().__init__(name="mnist_decompressor")
        self.entropy_model = entropy_model
        self.synthesis_transform = synthesis_transform
        self._decompressed = tf.function(
            self._decompress, input_signature=[tf.TensorSpec([None], tf.string)])

    def _decompress(self, strings):
        y_hat = self.entropy_model.decompress(strings, ())
        x_hat = self.synthesis_transform(y_hat)
        return tf.saturate_cast(tf.round(x_hat * 255.0), tf.uint8)

    def __call__(self, strings):
        strings = check_strings(strings)
        try:
            return self._decompressed(strings)
        except tf.errors.InvalidArgumentError as err:
            raise ValueError(
                "The strings could not be decoded: they fail the range decoder's sanity check, so "
                "they were not made by a compressor with this model's tables (or were cut short). "
                "To decode arbitrary bytes anyway, build the codec with decode_sanity_check=False."
            ) from err


def make_mnist_codec(trainer: MNISTCompressionTrainer, **entropy_model_options):
    """Builds a (compressor, decompressor) pair from a trained trainer.

    Both share one entropy model built with ``compression=True``, so their range-coding tables are
    identical. Options such as ``decode_sanity_check=False`` go to that entropy model.
    """
    entropy_model = ContinuousBatchedEntropyModel(
        trainer.prior, coding_rank=1, compression=True, **entropy_model_options
    )
    compressor = MNISTCompressor(trainer.analysis_transform, entropy_model)
    decompressor = MNISTDecompressor(entropy_model, trainer.synthesis_transform)
    return compressor, decompressor
