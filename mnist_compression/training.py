"""Training the tutorial's model for one set of `TrainingSettings` (introduced in notebook 03).

The digits are held in memory as uint8 and streamed by `tf.data` with shuffling and prefetching;
`benchmarks/training_speed.py` measures what that buys over the original tutorial's pipeline.
`python -m mnist_compression train --lmbda 2000 --output model.npz` trains from the command
line (see `cli.training`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import tensorflow as tf

from .atomic_files import check_output
from .data import load_mnist_arrays
from .hashing import data_fingerprint
from .model.autoencoder import MNISTCompressionTrainer
from .model.files import TRAINERS, save_model, trainer_from_arrays
from .settings import SECONDS_PER_EPOCH, TrainingSettings
from .storage.cache import (
    CACHE_ENV,
    MODEL_FILE,
    cache_dir,
    fetch_pretrained,
    find_cached,
    identity,
    model_key,
    store_in_cache,
)
from .storage.model_files import read_model_file


class LearningRate(tf.keras.optimizers.schedules.LearningRateSchedule):
    """The learning rate at each step: `peak`, warmed up linearly over the first `warmup`
    steps, then constant, or decayed to zero along a cosine by step `total` (Keras'
    `CosineDecay` over the steps after the warm-up); multiplied by a factor that grows linearly
    from 1 to `factor` over the first `ramp` steps (the prior's faster steps)."""

    def __init__(self, peak, total, schedule="constant", warmup=0, factor=1.0, ramp=0):
        self.peak, self.total, self.schedule = float(peak), int(total), schedule
        self.warmup, self.factor, self.ramp = int(warmup), float(factor), int(ramp)
        self._cosine = tf.keras.optimizers.schedules.CosineDecay(
            1.0, max(self.total - self.warmup, 1)) if schedule == "cosine" else None

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        rate = self.peak * tf.minimum(1.0, (step + 1) / max(self.warmup, 1))
        if self._cosine is not None:
            rate *= self._cosine(tf.maximum(step - self.warmup, 0.0))
        return rate * (1 + (self.factor - 1) * tf.minimum(1.0, step / max(self.ramp, 1)))

    def get_config(self):
        return dict(peak=self.peak, total=self.total, schedule=self.schedule,
                    warmup=self.warmup, factor=self.factor, ramp=self.ramp)


def make_trainer(settings: TrainingSettings, steps_per_epoch: int) -> MNISTCompressionTrainer:
    """A trainer for rate + λ·distortion (a `VariableRateTrainer` when the settings name
    levels), compiled with Adam, ready for `fit`.

    The learning rate follows `settings.schedule`. When the prior's scales should learn faster
    (`prior_lr_factor`), they get an Adam of their own. Variables are created in the current
    `tf.distribute` strategy's scope, if any.
    """
    trainer = TRAINERS[settings.kind].from_settings(settings)
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


@dataclass(frozen=True)
class TrainingData:
    """The digits one set of settings trains and validates on, loaded once and shared by every
    model trained on them (e.g. all λ of a sweep); `fingerprint` identifies them in the cache."""

    train: np.ndarray
    validation: np.ndarray
    validation_labels: np.ndarray
    source: tuple  # (data_dir, train_examples, validation_examples) of the settings

    @cached_property
    def fingerprint(self) -> str:
        return data_fingerprint(self.train, self.validation)


def _data_source(settings: TrainingSettings) -> tuple:
    return settings.data_dir, settings.train_examples, settings.validation_examples


def load_training_data(settings: TrainingSettings) -> TrainingData:
    """The first `train_examples` training digits and `validation_examples` test digits (with
    their labels, for measuring decoded digits)."""
    train, _ = load_mnist_arrays("train", settings.data_dir, settings.train_examples)
    validation, labels = load_mnist_arrays("test", settings.data_dir,
                                           settings.validation_examples)
    return TrainingData(train, validation, labels, _data_source(settings))


class EpochSeconds(tf.keras.callbacks.Callback):
    """Adds `seconds`, each epoch's wall time (validation included), to Keras' logs, so the
    history of every trained model records how long its training took."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._start


def train_model(settings: TrainingSettings | None = None, *, data: TrainingData | None = None,
                strategy: tf.distribute.Strategy | None = None, verbose="auto", callbacks=None,
                start_from=None, **changes):
    """Trains a fresh model and returns ``(trainer, history)``, the history being Keras'
    per-epoch metrics as a dict of lists (`train_or_load` returns the same).

    `settings` default to the tutorial's; keyword `changes` adjust them, e.g.
    ``train_model(lmbda=500, epochs=5)``. The digits are `data` (from `load_training_data` with
    the same data settings) or loaded now; validation runs on them after each epoch.
    `settings.seed` fixes the weights' initialisation and the shuffling. Variables are created
    in `strategy`'s scope, or in the current one (so calling this inside a
    ``strategy.scope()`` works too). With `settings.warm_start`, training starts from the
    weights of `start_from`, the trained model for `settings.warm_start_settings()`
    (`train_or_load` finds or trains it).
    """
    settings = (settings or TrainingSettings()).replace(**changes)
    if (settings.warm_start is None) != (start_from is None):
        raise ValueError("A warm start needs both settings.warm_start and the model to start "
                         "from (start_from; train_or_load finds or trains it), and "
                         "start_from is only used for a warm start.")
    data = data or load_training_data(settings)
    if data.source != _data_source(settings):
        raise ValueError(f"The training data were loaded for data settings {data.source}, but "
                         f"these settings name {_data_source(settings)}.")
    if settings.seed is not None:
        tf.keras.utils.set_random_seed(settings.seed)
    _quiet_graph_rewrites()
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        trainer = make_trainer(settings, math.ceil(len(data.train) / settings.batch_size))
        if start_from is not None:
            _copy_weights(start_from, trainer)
    shuffle_seed = 0 if settings.seed is None else settings.seed
    history = trainer.fit(
        digit_batches(data.train, settings.batch_size, shuffle_seed),
        epochs=settings.epochs,
        validation_data=digit_batches(data.validation, settings.batch_size).cache(),
        verbose=verbose,
        callbacks=[EpochSeconds(), *(callbacks or [])],
    )
    return trainer, {key: [float(v) for v in values] for key, values in history.history.items()}


def _quiet_graph_rewrites() -> None:
    """On TensorFlow 2.16 and later, turns off grappler's remapper: on the leaky-ReLU gradients
    of these transforms it fails, logs an "E0000 ... remapper failed" line past
    TF_CPP_MIN_LOG_LEVEL into every training notebook, and falls back to the graph it was
    given; without it the same graph runs from the start."""
    if tuple(int(part) for part in tf.__version__.split(".")[:2]) >= (2, 16):
        tf.config.optimizer.set_experimental_options({"remapping": False})


def _copy_weights(source, trainer) -> None:
    """Sets `trainer`'s weights (transforms and prior) to those of `source`, a trainer with
    the same latent dimensions."""
    if source.latent_dims != trainer.latent_dims:
        raise ValueError(f"Cannot start a model with {trainer.latent_dims} latent dimensions from "
                         f"one with {source.latent_dims}.")
    for model in (source, trainer):
        model(tf.zeros((1, 28, 28, 1), tf.uint8))  # builds any weights not created yet
    for target, value in zip(trainer.trainable_variables, source.trainable_variables,
                             strict=True):
        target.assign(value)


def final_metrics(history: dict) -> dict:
    """The last epoch's validation rate (bits per digit), distortion and loss."""
    return {key: float(history[key][-1]) for key in ("val_rate", "val_distortion", "val_loss")}


def _checked_record(path: Path, settings: TrainingSettings) -> tuple[dict, dict]:
    """The model file's record and arrays, if it holds a model of these settings (those that
    shape a model, as the cache key counts them); ValueError otherwise, so that a file put in
    the wrong key's folder, by hand or by a mirror, is never taken for another model."""
    record, arrays = read_model_file(path)
    try:
        recorded = TrainingSettings.from_dict(record.get("settings") or {})
    except ValueError as err:
        raise ValueError(f"{path} records settings that are not valid ({err})") from None
    if record.get("settings") is None or identity(recorded) != identity(settings):
        wanted, found = identity(settings), identity(recorded)
        differ = sorted(name for name in set(wanted) | set(found)
                        if wanted.get(name) != found.get(name)) or ["settings"]
        raise ValueError(f"{path} holds a model trained with other settings than its place "
                         f"in the cache names (they differ in {', '.join(differ)})")
    return record, arrays


def _model_reader(settings: TrainingSettings):
    """What reads a cached model of these settings: (trainer, history)."""
    def read(folder: Path):
        record, arrays = _checked_record(folder / MODEL_FILE, settings)
        return trainer_from_arrays(record, arrays), record.get("history") or {}
    return read


def _cache_problem() -> str | None:
    """Why the model cache cannot take a new model (None when it can)."""
    try:
        check_output(cache_dir() / ".probe", overwrite=True)
    except OSError as err:
        return " ".join(str(err).split())
    return None


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _announce_training(settings: TrainingSettings, examples: int) -> None:
    low, high = (settings.epochs * examples / 60_000 * s for s in SECONDS_PER_EPOCH)
    epochs = f"{settings.epochs} epoch" + ("" if settings.epochs == 1 else "s")
    start = ("" if settings.warm_start is None else
             f" starting from the λ={settings.warm_start:g} model")
    print(f"No cached model with these settings: training {settings.describe()}{start} for "
          f"{epochs} on {examples:,} digits (roughly {_duration(low)} to {_duration(high)} on a "
          f"2-core CPU, less on a GPU).", flush=True)


def train_or_load(settings: TrainingSettings | None = None, *, data: TrainingData | None = None,
                  use_cache: bool = True, pretrained=False, verbose=2, strategy=None,
                  callbacks=None, **changes):
    """Returns ``(trainer, history)`` for these settings (the defaults, with any `changes`):
    from the cache when a model trained with exactly these settings on exactly these digits is
    there; else, with `pretrained` (True, or a mirror's URL or folder), the published model for
    them when there is one (`pretrained`); else trained now by `training.train_model` (with
    `strategy` and `callbacks`) and cached. A warm start (`settings.warm_start`) first gets
    the model it starts from in the same way.

    `data` are the digits from `training.load_training_data(settings)`, when the caller has
    them already (a sweep loads them once for every λ). Prints which of the two happened and
    where the model lives. Training prints one line per epoch (`verbose=2`), which reads well in
    notebooks and in their executed copies.
    """
    settings = (settings or TrainingSettings()).replace(**changes)
    data = data or load_training_data(settings)
    key = model_key(settings, data.fingerprint)
    read = _model_reader(settings)
    if use_cache:
        cached = find_cached(key, read)
        if cached is None and pretrained and fetch_pretrained(
                key, MODEL_FILE, f"{settings.describe()} model", pretrained,
                check=lambda path: _checked_record(path, settings)):
            cached = find_cached(key, read)
        if cached is not None:
            (trainer, history), folder = cached
            print(f"Loaded the {settings.describe()} model trained earlier with these settings "
                  f"from {folder}")
            return trainer, history
    start_from = None
    if settings.warm_start is not None:
        start_from, _ = train_or_load(settings.warm_start_settings(), data=data,
                                      use_cache=use_cache, pretrained=pretrained,
                                      verbose=verbose, strategy=strategy)
    problem = _cache_problem() if use_cache else None
    if problem:  # said before the work, and the work is still returned
        print(f"The model cache cannot keep a new model ({problem}); the {settings.describe()} "
              f"model will be trained but not kept. Set ${CACHE_ENV} to a folder you can write.")
    if verbose:
        _announce_training(settings, len(data.train))
    trainer, history = train_model(settings, data=data, strategy=strategy, verbose=verbose,
                                   callbacks=callbacks, start_from=start_from)
    if use_cache and not problem:
        try:
            folder = store_in_cache(key, lambda staging: save_model(
                trainer, staging / MODEL_FILE, settings=settings, history=history))
        except OSError as err:  # the disk filled up meanwhile: keep the trained model anyway
            print(f"The {settings.describe()} model could not be kept in the model cache "
                  f"({' '.join(str(err).split())}); it is returned all the same.")
        else:
            print(f"Saved the {settings.describe()} model to {folder}")
    return trainer, history


__all__ = ["EpochSeconds", "LearningRate", "TrainingData", "digit_batches", "final_metrics",
           "load_training_data", "make_trainer", "train_model", "train_or_load"]
