"""Side information: the tutorial's model with a scale hyperprior.

Introduced in notebook 09, after Ballé, Minnen, Singh, Hwang and Johnston, "Variational image
compression with a scale hyperprior" (ICLR 2018). The factorized prior codes every digit's
latents with the same scales; here a small hyper-analysis transform summarises how widely the
latents y of this digit spread, as a few side latents z = h_a(|y|), which are coded first under
a factorized prior (the tutorial's). The hyper-synthesis transform turns the decoded z into one
scale index per latent (`codec.scale_grid`), and y is coded under zero-centred noisy logistics
of those scales. The rate is bits(z) + bits(y | z), both through the same noise relaxation.
"""

from __future__ import annotations

import math

import tensorflow as tf

from ..architecture import architecture
from ..codec.scale_grid import SCALE_COUNT, SCALE_MIN, log_scale_step, scale_grid
from ..lambdas import HYPERPRIOR
from .autoencoder import MNISTCompressionTrainer, build_layer, to_unit_range
from .entropy_models import ContinuousBatchedEntropyModel, NoisyLogistic

keras = tf.keras

DEFAULT_HYPER_LATENT_DIMS = 8
INITIAL_INDEX = math.log(1 / SCALE_MIN) / log_scale_step()  # the (continuous) index of scale 1
INITIAL_SIDE_SCALE = 0.1


@tf.custom_gradient
def _bounded_index(index):
    """The index clipped to the grid; gradients still pass where they lead back into it (as
    tensorflow-compression's bounds do), so an index that strayed outside can return."""
    upper = float(SCALE_COUNT - 1)
    bounded = tf.clip_by_value(index, 0.0, upper)

    def gradient(grad):
        inside = (index >= 0.0) & (index <= upper)
        returning = ((index < 0.0) & (grad < 0)) | ((index > upper) & (grad > 0))
        return tf.where(inside | returning, grad, tf.zeros_like(grad))

    return bounded, gradient


def scale_at(index):
    """The scale of a continuous table index: SCALE_MIN · exp(index · step), index clipped to
    the grid (training); `codec.scale_grid.scale_grid` holds the scales at integer indexes."""
    return SCALE_MIN * tf.exp(_bounded_index(index) * log_scale_step())


def hyper_transform(entries: list[dict], name: str) -> keras.Sequential:
    """A hyper-analysis or hyper-synthesis transform from its `architecture` entries."""
    return keras.Sequential([build_layer(entry) for entry in entries], name=name)


class HyperpriorTrainer(MNISTCompressionTrainer):
    """The tutorial's trainer with a scale hyperprior of `hyper_latent_dims` side latents.

    `prior_log_scales` ([hyper_latent_dims]) is the factorized prior of the side latents z.
    Calling it returns ``dict(rate, distortion, side_rate)`` per digit: `rate` counts the bits
    of z and of y. With ``training=True`` both get uniform noise and the scale indexes stay
    continuous; otherwise both are rounded, and so are the indexes, as the codec codes them.
    """

    kind = HYPERPRIOR

    def __init__(self, latent_dims: int = 50, lmbda: float = 2000.0, distortion: str = "mae",
                 hyper_latent_dims: int = DEFAULT_HYPER_LATENT_DIMS, **kwargs):
        layers = architecture(int(latent_dims), int(hyper_latent_dims))
        self.hyper_latent_dims = int(hyper_latent_dims)
        super().__init__(latent_dims=latent_dims, lmbda=lmbda, distortion=distortion, **kwargs)
        self.hyper_analysis_transform = hyper_transform(layers["hyper_analysis"],
                                                        "hyper_analysis_transform")
        self.hyper_synthesis_transform = hyper_transform(layers["hyper_synthesis"],
                                                         "hyper_synthesis_transform")
        # Every index starts at the scale the factorized prior starts from (1), not at the
        # grid's narrowest, which would make every non-zero latent costly from the first step.
        self.hyper_synthesis_transform.build((None, self.hyper_latent_dims))
        last = self.hyper_synthesis_transform.layers[-1]
        last.bias.assign(tf.fill(last.bias.shape, INITIAL_INDEX))
        # The side latents start nearly free (a zero costs 0.02 bits at this scale), not at
        # the 2 bits each that scale 1 would charge before they can be of any use.
        self.prior_log_scales.assign(tf.fill(self.prior_log_scales.shape,
                                             math.log(INITIAL_SIDE_SCALE)))
        self._grid = tf.constant(scale_grid())
        self._trackers["side_rate"] = keras.metrics.Mean(name="side_rate")

    @property
    def prior_size(self) -> int:
        return self.hyper_latent_dims

    @classmethod
    def from_settings(cls, settings) -> HyperpriorTrainer:
        return cls(latent_dims=settings.latent_dims, lmbda=settings.lmbda,
                   distortion=settings.distortion, hyper_latent_dims=settings.hyper_latent_dims)

    @classmethod
    def from_record(cls, record: dict) -> HyperpriorTrainer:
        settings = record.get("settings") or {}
        return cls(latent_dims=record["latent_dims"], lmbda=record["lmbda"],
                   distortion=settings.get("distortion", "mae"),
                   hyper_latent_dims=record["hyper_latent_dims"])

    def record(self) -> dict:
        return dict(super().record(), hyper_latent_dims=self.hyper_latent_dims)

    def transforms(self) -> dict:
        return dict(super().transforms(), hyper_analysis=self.hyper_analysis_transform,
                    hyper_synthesis=self.hyper_synthesis_transform)

    def side_latents(self, y):
        """The side latents z of latents y (before rounding)."""
        return self.hyper_analysis_transform(tf.abs(y))

    def scale_indexes(self, z_hat, training=False):
        """Each latent's table index from the decoded side latents: continuous in training,
        rounded and clipped to the grid otherwise."""
        index = self.hyper_synthesis_transform(z_hat)
        if training:
            return index
        return tf.clip_by_value(tf.round(index), 0.0, float(SCALE_COUNT - 1))

    def latent_scales(self, index, training=False):
        """The scale each index stands for: continuous in training, the grid's otherwise."""
        if training:
            return scale_at(index)
        return tf.gather(self._grid, tf.cast(index, tf.int32))

    def call(self, images, training=False):
        training = bool(training)
        x = to_unit_range(images, self.compute_dtype)
        y = self.analysis_transform(x)
        side_model = ContinuousBatchedEntropyModel(
            self.prior, coding_rank=1, compression=False, offset_heuristic=False)
        z_tilde, side_rate = side_model(self.side_latents(y), training=training)
        scales = self.latent_scales(self.scale_indexes(z_tilde, training), training)
        if training:
            y_tilde = y + tf.random.uniform(tf.shape(y), -0.5, 0.5)
        else:
            y_tilde = tf.round(y)
        latent_prior = NoisyLogistic(loc=0.0, scale=scales)
        latent_rate = tf.reduce_sum(latent_prior.log_prob(y_tilde), axis=-1) / -math.log(2.0)
        x_tilde = self.synthesis_transform(y_tilde)
        error = x - x_tilde
        error = tf.abs(error) if self.distortion == "mae" else tf.square(error)
        return dict(rate=side_rate + latent_rate, side_rate=side_rate,
                    distortion=tf.reduce_mean(error, axis=(1, 2, 3)))

    def step_metrics(self, outputs, loss, rate, distortion) -> dict:
        return self._track(loss=loss, rate=rate, distortion=distortion,
                           side_rate=tf.reduce_mean(outputs["side_rate"]))

    def get_config(self):
        return dict(super().get_config(), hyper_latent_dims=self.hyper_latent_dims)


__all__ = ["DEFAULT_HYPER_LATENT_DIMS", "HyperpriorTrainer", "scale_at"]
