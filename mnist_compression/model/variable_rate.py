"""One model for every λ: the tutorial's model with a learned gain per rate level.

Introduced in notebook 08, after Cui et al., "Asymmetric Gained Deep Image Compression With
Continuous Rate Adaptation" (CVPR 2021). The transforms and the prior are the tutorial's; each
rate level k (a λ) adds a gain vector g_k, which scales the latents before they are rounded, and
an inverse-gain vector, which scales the rounded latents before the synthesis transform. A large
gain spreads the latents over more integers (more bits, less error), a small one squeezes them
onto fewer. The logistic is a location-scale family, so the prior of the scaled latents is the
prior with its scales multiplied by g_k: every level codes with tables of its own, from the same
table builder. Between two levels, gains are interpolated geometrically in λ (`gains.py` does it
exactly for the codec), so the codec works at any λ in the levels' range.

Training draws a level for every digit and minimises the mean of rate + λ_level · distortion.
The loss of a level grows with its λ (the rate–distortion records of notebook 07 show by how
much), so drawn alike, the high λ would dominate the shared transforms; `level_sampling` = a
draws level k with probability proportional to λ_k**-a instead.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from ..codec.gains import interpolation
from ..lambdas import VARIABLE_RATE, check_levels
from .autoencoder import MNISTCompressionTrainer, _images_only, to_unit_range
from .entropy_models import NoisyLogistic

keras = tf.keras


def initial_log_gains(levels) -> np.ndarray:
    """Where the log-gains start, per level: half the log of λ over the levels' geometric
    mean, so that higher λ start with finer steps (gains from about 0.27 to 3.7 for λ = 50 …
    10,000); the inverse gains start at their reciprocals, so the decoder first sees the
    unscaled latents."""
    logs = np.log(np.asarray(levels, np.float64))
    return 0.5 * (logs - logs.mean())


class VariableRateTrainer(MNISTCompressionTrainer):
    """The tutorial's trainer with K rate levels (`levels`, ascending λ): a gain and an inverse
    gain per level and latent (`log_gains`, `log_inverse_gains`, [K, latent_dims]).

    Calling it returns ``dict(rate, distortion, level)`` per digit. With ``training=True`` each
    digit gets a random level (drawn as `level_sampling` says) and noisy latents; otherwise
    digit i is coded at level i mod K, rounded, so validation measures every level on its own
    share of the digits (the metrics ``rate_at_<λ>`` and ``distortion_at_<λ>``). `lmbda` is
    the λ a codec uses unless told another.
    """

    def __init__(self, levels, latent_dims: int = 50, lmbda: float | None = None,
                 distortion: str = "mae", level_sampling: float = 0.0, **kwargs):
        levels = check_levels(levels)
        lmbda = float(lmbda if lmbda is not None else levels[len(levels) // 2])
        super().__init__(latent_dims=latent_dims, lmbda=lmbda, distortion=distortion, **kwargs)
        interpolation(levels, lmbda)  # the default λ must lie within the levels
        self.levels = levels
        start = np.repeat(initial_log_gains(levels)[:, None], self.latent_dims, axis=1)
        self.log_gains = self.add_weight(name="log_gains", shape=start.shape,
                                         initializer="zeros")
        self.log_inverse_gains = self.add_weight(name="log_inverse_gains", shape=start.shape,
                                                 initializer="zeros")
        self.log_gains.assign(start.astype(np.float32))
        self.log_inverse_gains.assign(-start.astype(np.float32))
        self._level_lambdas = tf.constant(levels, tf.float32)
        self.level_sampling = float(level_sampling)
        self._level_logits = tf.constant(-self.level_sampling * np.log(levels)[None, :],
                                         tf.float32)
        for lmbda_k in levels:
            for name in ("rate", "distortion"):
                key = f"{name}_at_{lmbda_k:g}"
                self._trackers[key] = keras.metrics.Mean(name=key)

    kind = VARIABLE_RATE

    @classmethod
    def from_settings(cls, settings) -> VariableRateTrainer:
        return cls(settings.levels, latent_dims=settings.latent_dims, lmbda=settings.lmbda,
                   distortion=settings.distortion, level_sampling=settings.level_sampling)

    @classmethod
    def from_record(cls, record: dict) -> VariableRateTrainer:
        settings = record.get("settings") or {}
        return cls(record["levels"], latent_dims=record["latent_dims"], lmbda=record["lmbda"],
                   distortion=settings.get("distortion", "mae"),
                   level_sampling=settings.get("level_sampling", 0.0))

    def record(self) -> dict:
        return dict(super().record(), levels=list(self.levels))

    def own_arrays(self) -> dict:
        return {"gains/log_gains": np.asarray(self.log_gains.numpy(), np.float32),
                "gains/log_inverse_gains": np.asarray(self.log_inverse_gains.numpy(),
                                                      np.float32)}

    def load_own_arrays(self, arrays: dict) -> None:
        self.log_gains.assign(arrays["gains/log_gains"])
        self.log_inverse_gains.assign(arrays["gains/log_inverse_gains"])

    def gains_at(self, lmbda: float) -> tuple[np.ndarray, np.ndarray]:
        """The gain and inverse gain at any λ in the levels' range, geometrically interpolated
        between the two levels around it (float64 [latent_dims] each)."""
        k, t = interpolation(self.levels, lmbda)
        t = float(t)
        return tuple(np.exp((1 - t) * logs[k] + t * logs[k + 1]) for logs in (
            self.log_gains.numpy().astype(np.float64),
            self.log_inverse_gains.numpy().astype(np.float64)))

    def prior_at(self, lmbda: float) -> NoisyLogistic:
        """The prior of the scaled latents at λ: the learned scales times the gain."""
        gain, _ = self.gains_at(lmbda)
        return NoisyLogistic(loc=0.0, scale=tf.exp(self.prior_log_scales) * gain.astype(
            np.float32))

    def call(self, images, training=False, levels=None):
        x = to_unit_range(images, self.compute_dtype)
        y = self.analysis_transform(x)
        count = tf.shape(y)[0]
        if levels is None:
            levels = (tf.random.categorical(self._level_logits, count, tf.int32)[0] if training
                      else tf.range(count) % len(self.levels))
        log_gain = tf.gather(self.log_gains, levels)
        scaled = y * tf.exp(log_gain)
        if training:
            coded = scaled + tf.random.uniform(tf.shape(scaled), -0.5, 0.5)
        else:
            coded = tf.round(scaled)
        prior = NoisyLogistic(loc=0.0, scale=tf.exp(self.prior_log_scales + log_gain))
        rate = tf.reduce_sum(prior.log_prob(coded), axis=-1) / -math.log(2.0)
        x_tilde = self.synthesis_transform(coded * tf.exp(tf.gather(self.log_inverse_gains,
                                                                     levels)))
        error = x - x_tilde
        error = tf.abs(error) if self.distortion == "mae" else tf.square(error)
        return dict(rate=rate, distortion=tf.reduce_mean(error, axis=(1, 2, 3)), level=levels)

    def lagrangian(self, outputs):
        """The batch's mean rate, distortion, and loss: the mean of rate + λ_level·distortion."""
        weights = tf.gather(self._level_lambdas, outputs["level"])
        loss = tf.reduce_mean(outputs["rate"] + weights * outputs["distortion"])
        return loss, tf.reduce_mean(outputs["rate"]), tf.reduce_mean(outputs["distortion"])

    def test_step(self, data):
        """Validation also measures each level on its own share of the digits (training does
        not: its levels are random, and the extra metrics would slow every step)."""
        outputs = self(_images_only(data), training=False)
        results = self.step_metrics(outputs, *self.lagrangian(outputs))
        for k, lmbda_k in enumerate(self.levels):
            share = tf.cast(tf.equal(outputs["level"], k), tf.float32)
            for name in ("rate", "distortion"):
                tracker = self._trackers[f"{name}_at_{lmbda_k:g}"]
                tracker.update_state(outputs[name], sample_weight=share)
                results[tracker.name] = tracker.result()
        return results

    def get_config(self):
        return dict(super().get_config(), levels=list(self.levels),
                    level_sampling=self.level_sampling)


__all__ = ["VariableRateTrainer", "initial_log_gains"]
