"""The model: analysis and synthesis transforms, and the trainer that learns them with the prior.

The transforms are introduced in notebook 01, the trainer in notebooks 02 and 03 (the codec built
from a trained model lives in `codec`). The trainer returns rate and distortion per example and
averages them inside its own train/test steps, so the same code trains under Keras 2 (TF 2.14)
and Keras 3 (TF >= 2.16).
"""

from __future__ import annotations

import tensorflow as tf

from ..architecture import architecture
from ..lambdas import FIXED_RATE
from ..settings import DISTORTIONS
from .entropy_models import ContinuousBatchedEntropyModel, NoisyLogistic

keras = tf.keras

DEFAULT_LATENT_DIMS = 50


_KERAS_ARGUMENTS = ("filters", "units", "kernel_size", "strides", "padding", "target_shape")


def build_layer(entry: dict):
    """A Keras layer from one entry of `architecture.architecture` ("linear" is no activation)."""
    arguments = {key: entry[key] for key in _KERAS_ARGUMENTS if key in entry}
    if "activation" in entry:
        arguments["activation"] = None if entry["activation"] == "linear" else entry["activation"]
    return getattr(keras.layers, entry["type"])(name=entry["name"], **arguments)


def make_analysis_transform(latent_dims: int = DEFAULT_LATENT_DIMS) -> keras.Sequential:
    """The encoder: a [B, 28, 28, 1] image in [0, 1] to a [B, latent_dims] latent vector."""
    return keras.Sequential([build_layer(entry) for entry in architecture(latent_dims)["analysis"]],
                            name="analysis_transform")


def make_synthesis_transform(latent_dims: int = DEFAULT_LATENT_DIMS) -> keras.Sequential:
    """The decoder: a [B, latent_dims] latent vector back to a [B, 28, 28, 1] image."""
    return keras.Sequential(
        [build_layer(entry) for entry in architecture(latent_dims)["synthesis"]],
        name="synthesis_transform")


def to_unit_range(images: tf.Tensor, dtype=tf.float32) -> tf.Tensor:
    """uint8 digits of any batch shape to floats in [0, 1], shaped [B, 28, 28, 1]."""
    return tf.reshape(tf.cast(images, dtype) / 255.0, (-1, 28, 28, 1))


def _images_only(data):
    """fit() may hand us images or (images, labels); training is unsupervised either way."""
    return data[0] if isinstance(data, (tuple, list)) else data


class MNISTCompressionTrainer(keras.Model):
    """Trains both transforms and the prior on the Lagrangian rate + lmbda * distortion.

    Calling it on uint8 digits returns ``dict(rate=[B], distortion=[B])``: bits per digit under the
    prior, and the mean absolute pixel error in [0, 1] (or, with ``distortion="mse"``, the mean
    squared error; notebook 05's exercise trains with it). With ``training=True`` the latents get
    uniform noise; otherwise they are rounded, as they will be when coded.
    """

    def __init__(self, latent_dims: int = DEFAULT_LATENT_DIMS, lmbda: float = 2000.0,
                 distortion: str = "mae", **kwargs):
        super().__init__(**kwargs)
        if distortion not in DISTORTIONS:
            raise ValueError(f"distortion must be one of {DISTORTIONS}, got {distortion!r}.")
        self.latent_dims = int(latent_dims)
        self.lmbda = float(lmbda)
        self.distortion = distortion
        self.analysis_transform = make_analysis_transform(self.latent_dims)
        self.synthesis_transform = make_synthesis_transform()
        self.prior_log_scales = self.add_weight(
            name="prior_log_scales", shape=(self.prior_size,), initializer="zeros"
        )
        self._trackers = {
            name: keras.metrics.Mean(name=name) for name in ("loss", "rate", "distortion")
        }
        self.prior_optimizer = None  # set by training.make_trainer for faster prior scales

    kind = FIXED_RATE  # the kind of model file it is saved as (`storage.model_files`)

    @property
    def prior_size(self) -> int:
        """How many latents the factorized prior codes: all of them here (a hyperprior's
        prior codes only its side information)."""
        return self.latent_dims

    @classmethod
    def from_settings(cls, settings) -> MNISTCompressionTrainer:
        """An untrained trainer for a `TrainingSettings`."""
        return cls(latent_dims=settings.latent_dims, lmbda=settings.lmbda,
                   distortion=settings.distortion)

    @classmethod
    def from_record(cls, record: dict) -> MNISTCompressionTrainer:
        """An untrained trainer for a model file's record (its settings may be missing)."""
        settings = record.get("settings") or {}
        return cls(latent_dims=record["latent_dims"], lmbda=record["lmbda"],
                   distortion=settings.get("distortion", "mae"))

    def record(self) -> dict:
        """What a model file records of the trainer itself."""
        return dict(lmbda=self.lmbda, latent_dims=self.latent_dims)

    def transforms(self) -> dict:
        """The trainer's transforms by their model-file prefixes ("analysis", ...)."""
        return dict(analysis=self.analysis_transform, synthesis=self.synthesis_transform)

    def own_arrays(self) -> dict:
        """Parameters beyond the transforms and the prior, by their model-file names."""
        return {}

    def load_own_arrays(self, arrays: dict) -> None:
        """Sets the parameters `own_arrays` names from a model file's arrays."""

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
        error = x - x_tilde
        error = tf.abs(error) if self.distortion == "mae" else tf.square(error)
        return dict(rate=rate, distortion=tf.reduce_mean(error, axis=(1, 2, 3)))

    @property
    def metrics(self):
        return list(self._trackers.values())

    def lagrangian(self, outputs):
        """The batch's mean rate and distortion, and the loss rate + λ · distortion."""
        rate = tf.reduce_mean(outputs["rate"])
        distortion = tf.reduce_mean(outputs["distortion"])
        return rate + self.lmbda * distortion, rate, distortion

    def _track(self, **values) -> dict:
        for name, value in values.items():
            self._trackers[name].update_state(value)
        return {name: self._trackers[name].result() for name in values}

    def step_metrics(self, outputs, loss, rate, distortion) -> dict:
        """Updates the metrics with one batch and returns their running values."""
        return self._track(loss=loss, rate=rate, distortion=distortion)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            outputs = self(_images_only(data), training=True)
            loss, rate, distortion = self.lagrangian(outputs)
        variables = self.trainable_variables
        gradients = tape.gradient(loss, variables)
        if self.prior_optimizer is None:
            self.optimizer.apply_gradients(zip(gradients, variables))
        else:  # the prior's scales take their own, faster steps
            prior = [v is self.prior_log_scales for v in variables]
            self.optimizer.apply_gradients(
                [(g, v) for g, v, p in zip(gradients, variables, prior) if not p])
            self.prior_optimizer.apply_gradients(
                [(g, v) for g, v, p in zip(gradients, variables, prior) if p])
        return self.step_metrics(outputs, loss, rate, distortion)

    def test_step(self, data):
        outputs = self(_images_only(data), training=False)
        return self.step_metrics(outputs, *self.lagrangian(outputs))

    def get_config(self):
        return dict(latent_dims=self.latent_dims, lmbda=self.lmbda, distortion=self.distortion,
                    name=self.name)


_DESCRIBED = ("units", "filters", "kernel_size", "strides", "padding", "target_shape")


def describe_transform(transform: keras.Sequential) -> list[dict]:
    """Each layer's type, name, size and activation as Keras reports them, in the form of
    `architecture.architecture` (the tests check that the Keras transforms are the layers it
    lists, on Keras 2 and 3)."""
    layers = []
    for layer in transform.layers:
        entry = dict(type=type(layer).__name__, name=layer.name)
        for attribute in _DESCRIBED:
            value = getattr(layer, attribute, None)
            if value is not None:
                entry[attribute] = list(value) if isinstance(value, (tuple, list)) else value
        if hasattr(layer, "activation"):
            entry["activation"] = getattr(layer.activation, "__name__", str(layer.activation))
        layers.append(entry)
    return layers
