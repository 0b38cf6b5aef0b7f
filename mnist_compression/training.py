"""Training the tutorial's model for one set of `TrainingSettings` (introduced in notebook 03).

The digits are held in memory as uint8 and streamed by `tf.data` with shuffling and prefetching;
`benchmarks/training_speed.py` measures what that buys over the original tutorial's pipeline.
Also a command line: ``python -m mnist_compression.training --lmbda 2000 --output model.npz``.
"""

from __future__ import annotations

import math
import os

if __name__ == "__main__":  # a command's messages are not buried under TensorFlow's start-up logs
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

from .data import load_mnist_arrays
from .models import MNISTCompressionTrainer
from .settings import TrainingSettings

# What one epoch over all 60,000 training digits took on this project's 2-core CPU machines,
# depending on the machine and its load; used to tell users how long an uncached training takes.
SECONDS_PER_EPOCH = (10, 40)


class LearningRate(tf.keras.optimizers.schedules.LearningRateSchedule):
    """The learning rate at each step: `peak`, warmed up linearly over the first `warmup`
    steps, then constant or decayed to zero along a cosine by step `total`; multiplied by a
    factor that grows linearly from 1 to `factor` over the first `ramp` steps."""

    def __init__(self, peak, total, schedule="constant", warmup=0, factor=1.0, ramp=0):
        self.peak, self.total, self.schedule = float(peak), int(total), schedule
        self.warmup, self.factor, self.ramp = int(warmup), float(factor), int(ramp)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        rate = self.peak * tf.minimum(1.0, (step + 1) / max(self.warmup, 1))
        if self.schedule == "cosine":
            progress = tf.clip_by_value((step - self.warmup) / max(self.total - self.warmup, 1),
                                        0.0, 1.0)
            rate *= 0.5 * (1 + tf.cos(math.pi * progress))
        return rate * (1 + (self.factor - 1) * tf.minimum(1.0, step / max(self.ramp, 1)))

    def get_config(self):
        return dict(peak=self.peak, total=self.total, schedule=self.schedule,
                    warmup=self.warmup, factor=self.factor, ramp=self.ramp)


def make_trainer(settings: TrainingSettings, steps_per_epoch: int) -> MNISTCompressionTrainer:
    """A trainer for rate + λ·distortion, compiled with Adam, ready for `fit`.

    The learning rate follows `settings.schedule`. When the prior's scales should learn faster
    (`prior_lr_factor`), they get an Adam of their own. Variables are created in the current
    `tf.distribute` strategy's scope, if any.
    """
    trainer = MNISTCompressionTrainer(latent_dims=settings.latent_dims, lmbda=settings.lmbda)
    total = steps_per_epoch * settings.epochs
    common = dict(total=total, schedule=settings.schedule,
                  warmup=round(settings.warmup * total))
    trainer.compile(optimizer=tf.keras.optimizers.Adam(
        learning_rate=LearningRate(settings.learning_rate, **common)))
    if settings.prior_lr_factor != 1:
        trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
        trainer.prior_optimizer = tf.keras.optimizers.Adam(learning_rate=LearningRate(
            settings.learning_rate, factor=settings.prior_lr_factor,
            ramp=round(settings.prior_lr_ramp * total), **common))
        trainer.prior_optimizer.build([trainer.prior_log_scales])
    return trainer


def digit_batches(images: np.ndarray, batch_size: int, shuffle_seed: int | None = None):
    """A `tf.data.Dataset` of uint8 digit batches; shuffled each epoch when a seed is given."""
    dataset = tf.data.Dataset.from_tensor_slices(images)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(images), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def fit_model(settings: TrainingSettings, train_images: np.ndarray,
              validation_images: np.ndarray, *, strategy: tf.distribute.Strategy | None = None,
              verbose="auto", callbacks=None):
    """Trains a fresh model on uint8 digit arrays; returns ``(trainer, history)``, the history
    being Keras' per-epoch metrics as a dict of lists.

    `settings.seed` fixes the weights' initialisation and the shuffling. Variables are created in
    `strategy`'s scope, or in the current one when none is given.
    """
    if settings.seed is not None:
        tf.keras.utils.set_random_seed(settings.seed)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        trainer = make_trainer(settings, math.ceil(len(train_images) / settings.batch_size))
    shuffle_seed = 0 if settings.seed is None else settings.seed
    history = trainer.fit(
        digit_batches(train_images, settings.batch_size, shuffle_seed),
        epochs=settings.epochs,
        validation_data=digit_batches(validation_images, settings.batch_size).cache(),
        verbose=verbose,
        callbacks=callbacks,
    )
    return trainer, {key: [float(v) for v in values] for key, values in history.history.items()}


def train_model(settings: TrainingSettings | None = None, *,
                strategy: tf.distribute.Strategy | None = None, verbose="auto", callbacks=None,
                **changes):
    """Trains a fresh model on MNIST and returns ``(trainer, history)``, as `train_or_load`.

    `settings` default to the tutorial's; keyword `changes` adjust them, e.g.
    ``train_model(lmbda=500, epochs=5)``. Uses the first `train_examples` training digits and
    validates on the first `validation_examples` test digits after each epoch. Pass a
    `tf.distribute` strategy, or call this inside one's scope, to train on several devices.
    """
    settings = (settings or TrainingSettings()).replace(**changes)
    train_images, _ = load_mnist_arrays("train", settings.data_dir, settings.train_examples)
    validation_images, _ = load_mnist_arrays("test", settings.data_dir,
                                             settings.validation_examples)
    return fit_model(settings, train_images, validation_images, strategy=strategy,
                     verbose=verbose, callbacks=callbacks)


def final_metrics(history: dict) -> dict:
    """The last epoch's validation rate (bits per digit), distortion and loss."""
    return {key: float(history[key][-1]) for key in ("val_rate", "val_distortion", "val_loss")}


def main(argv=None) -> dict:
    """Command line: train one model, print its final validation metrics and the time per epoch,
    and optionally save it."""
    import argparse
    import json
    import time
    from pathlib import Path

    from .model_files import save_model

    parser = argparse.ArgumentParser(
        prog="python -m mnist_compression.training",
        description="Train the tutorial's MNIST compression model for one λ.")
    TrainingSettings.add_arguments(parser)
    parser.add_argument("--output", type=Path, help="save the trained model here (.npz)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    settings = TrainingSettings.from_arguments(args)
    for path in (args.output, args.json):
        if path is not None and path.exists():
            parser.error(f"{path} already exists; choose another name.")
    start = time.perf_counter()
    trainer, history = train_model(settings, verbose=2)
    seconds = time.perf_counter() - start
    results = dict(final_metrics(history), seconds=seconds,
                   seconds_per_epoch=seconds / settings.epochs, history=history,
                   settings=settings.as_dict())
    if args.output:
        save_model(trainer, args.output, settings=settings, history=history)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(json.dumps({key: value for key, value in results.items() if key != "history"},
                     indent=2))
    return results


__all__ = ["LearningRate", "digit_batches", "final_metrics", "fit_model", "main", "make_trainer",
           "train_model"]

if __name__ == "__main__":
    main()
