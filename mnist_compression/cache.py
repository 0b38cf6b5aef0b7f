"""Trained models kept on disk, so a later notebook reuses what an earlier one trained.

Introduced in notebook 03 (training). A model is stored under a key made from every setting that
shapes it *and* a fingerprint of the digits it was trained on, so a changed setting or data set
never picks up a stale model: it trains a new one. Writes are atomic (a half-written model is
never found), and nothing already in the cache is overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from .data import load_mnist_arrays
from .models import DEFAULT_LATENT_DIMS, KERAS_MAJOR, MNISTCompressionTrainer
from .training import BATCH_SIZE, fit_model

CACHE_ENV = "MNIST_COMPRESSION_CACHE"
# Bump when the architecture or training code changes, so old weights are not reused.
MODEL_FORMAT = 1
_WEIGHTS = "model.weights.h5"
_RECORD = "record.json"


def cache_dir() -> Path:
    """Where models are kept: $MNIST_COMPRESSION_CACHE, else ~/.cache/mnist_compression."""
    chosen = os.environ.get(CACHE_ENV)
    return Path(chosen).expanduser() if chosen else Path.home() / ".cache" / "mnist_compression"


def fingerprint(*arrays: np.ndarray) -> str:
    """A short hash of the digits' bytes: the same data gives the same fingerprint."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def model_key(settings: dict) -> str:
    """A folder name for a model: readable lambda and epochs, then a hash of all settings."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    return f"lmbda{settings['lmbda']:g}-epochs{settings['epochs']}-{digest}"


def _settings(lmbda, epochs, batch_size, latent_dims, seed, train_images, validation_images):
    return dict(
        lmbda=float(lmbda), epochs=int(epochs), batch_size=int(batch_size),
        latent_dims=int(latent_dims), seed=seed, train_examples=len(train_images),
        data=fingerprint(train_images, validation_images), model_format=MODEL_FORMAT,
        keras=KERAS_MAJOR,
    )


def load_trainer(folder: str | os.PathLike) -> tuple[MNISTCompressionTrainer, dict]:
    """Loads a cached model: returns the trainer (weights restored) and its training history."""
    folder = Path(folder)
    record = json.loads((folder / _RECORD).read_text())
    settings = record["settings"]
    trainer = MNISTCompressionTrainer(settings["latent_dims"], settings["lmbda"])
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    trainer.load_weights(str(folder / _WEIGHTS))
    return trainer, record["history"]


def save_trainer(trainer: MNISTCompressionTrainer, history: dict, settings: dict,
                 folder: str | os.PathLike) -> Path:
    """Writes weights and a record (settings, history) to `folder`, atomically; never replaces
    an existing folder."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder.parent))
    try:
        trainer.save_weights(str(staging / _WEIGHTS))
        record = dict(settings=settings, history={k: [float(v) for v in values]
                                                  for k, values in history.items()})
        (staging / _RECORD).write_text(json.dumps(record, indent=1))
        if not folder.exists():
            os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def train_or_load(
    lmbda: float,
    epochs: int = 15,
    train_examples: int | None = None,
    validation_examples: int | None = None,
    batch_size: int = BATCH_SIZE,
    latent_dims: int = DEFAULT_LATENT_DIMS,
    seed: int | None = 0,
    data_dir=None,
    use_cache: bool = True,
    verbose=2,
):
    """Returns ``(trainer, history_dict)`` for these settings: from the cache when a model trained
    with exactly these settings on exactly these digits is there, else trained now and cached.

    Prints which of the two happened and where the model lives. Training prints one line per
    epoch (`verbose=2`), which reads well in notebooks and in their executed copies.
    """
    train_images, _ = load_mnist_arrays("train", data_dir, train_examples)
    validation_images, _ = load_mnist_arrays("test", data_dir, validation_examples)
    settings = _settings(lmbda, epochs, batch_size, latent_dims, seed, train_images,
                         validation_images)
    folder = cache_dir() / model_key(settings)
    if use_cache and (folder / _RECORD).exists():
        print(f"Loaded the λ={lmbda:g} model trained earlier with these settings from {folder}")
        return load_trainer(folder)
    trainer, history = fit_model(train_images, validation_images, lmbda, epochs, batch_size,
                                 latent_dims, seed, verbose=verbose)
    if use_cache:
        save_trainer(trainer, history.history, settings, folder)
        print(f"Saved the λ={lmbda:g} model to {folder}")
    return trainer, history.history
