"""Trained models kept on disk, so a later notebook reuses what an earlier one trained.

Introduced in notebook 03 (training). A model is stored under a key made from every setting that
shapes it (`TrainingSettings.identity`), the architecture the code builds, and a fingerprint of
the digits it was trained and validated on, so a changed setting, layer or data set never picks
up a stale model: it trains a new one. Models are the portable files of `model_files`, which
carry a checksum, so a cache folder also moves between stacks. Writes are atomic, nothing in the
cache is overwritten, and a damaged model is reported, left in place for inspection, and replaced
by a freshly trained one in a new folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .atomic_files import default_mode
from .data import load_mnist_arrays
from .model_files import ModelFileError, read_model_file, save_model, trainer_from_arrays
from .models import architecture
from .settings import TrainingSettings
from .training import SECONDS_PER_EPOCH, fit_model

CACHE_ENV = "MNIST_COMPRESSION_CACHE"
_MODEL = "model.npz"


def cache_dir() -> Path:
    """Where models are kept: $MNIST_COMPRESSION_CACHE, else ~/.cache/mnist_compression."""
    chosen = os.environ.get(CACHE_ENV)
    return Path(chosen).expanduser().absolute() if chosen else (
        Path.home() / ".cache" / "mnist_compression")


def fingerprint(*arrays: np.ndarray) -> str:
    """A short hash of the digits' bytes: the same data gives the same fingerprint."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def model_key(settings: TrainingSettings, data_fingerprint: str) -> str:
    """A folder name: readable λ and epochs, then a hash of the settings that shape the model,
    the architecture and the data."""
    identity = dict(settings=settings.identity(), architecture=architecture(settings.latent_dims),
                    data=data_fingerprint)
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    return f"lmbda{settings.lmbda:g}-epochs{settings.epochs}-{digest}"


def _candidates(key: str) -> list[Path]:
    """The folders that may hold a model for `key`: the key itself, then key.2, key.3, ..."""
    root = cache_dir()
    numbered = sorted((p for p in root.glob(f"{key}.*") if p.suffix[1:].isdigit()),
                      key=lambda p: int(p.suffix[1:]))
    return [root / key] + numbered


def _free_folder(key: str) -> Path:
    candidates = _candidates(key)
    if not candidates[0].exists():
        return candidates[0]
    last = max([1] + [int(p.suffix[1:]) for p in candidates[1:]])
    return cache_dir() / f"{key}.{last + 1}"


def load_cached(key: str):
    """The first intact model stored under `key`, as (trainer, history dict, folder), or None.
    Damaged folders are reported and left as they are."""
    for folder in _candidates(key):
        if not folder.exists():
            continue
        try:
            record, arrays = read_model_file(folder / _MODEL)
        except (ModelFileError, FileNotFoundError) as err:
            print(f"The cached model in {folder} is damaged and will not be used ({err}). It is "
                  f"left there for inspection; delete it when done.")
            continue
        return trainer_from_arrays(record, arrays), record.get("history") or {}, folder
    return None


def save_to_cache(trainer, history: dict, settings: TrainingSettings, key: str) -> Path:
    """Stores a model in a new folder for `key`, atomically; returns the folder."""
    folder = _free_folder(key)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder.parent))
    try:
        os.chmod(staging, default_mode(0o777))
        save_model(trainer, staging / _MODEL, settings=settings, history=history)
        os.rename(staging, folder)  # fails rather than replace a folder that appeared meanwhile
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _announce_training(settings: TrainingSettings, examples: int) -> None:
    low, high = (settings.epochs * examples / 60_000 * s for s in SECONDS_PER_EPOCH)
    print(f"No cached model with these settings: training λ={settings.lmbda:g} for "
          f"{settings.epochs} epochs on {examples:,} digits (roughly {_duration(low)} to "
          f"{_duration(high)} on a 2-core CPU, less on a GPU).", flush=True)


def train_or_load(settings: TrainingSettings | None = None, *, use_cache: bool = True,
                  verbose=2, **changes):
    """Returns ``(trainer, history)`` for these settings (the defaults, with any `changes`):
    from the cache when a model trained with exactly these settings on exactly these digits is
    there, else trained now and cached.

    Prints which of the two happened and where the model lives. Training prints one line per
    epoch (`verbose=2`), which reads well in notebooks and in their executed copies.
    """
    settings = (settings or TrainingSettings()).replace(**changes)
    train_images, _ = load_mnist_arrays("train", settings.data_dir, settings.train_examples)
    validation_images, _ = load_mnist_arrays("test", settings.data_dir,
                                             settings.validation_examples)
    key = model_key(settings, fingerprint(train_images, validation_images))
    if use_cache:
        cached = load_cached(key)
        if cached is not None:
            trainer, history, folder = cached
            print(f"Loaded the λ={settings.lmbda:g} model trained earlier with these settings "
                  f"from {folder}")
            return trainer, history
    if verbose:
        _announce_training(settings, len(train_images))
    trainer, history = fit_model(settings, train_images, validation_images, verbose=verbose)
    if use_cache:
        folder = save_to_cache(trainer, history, settings, key)
        print(f"Saved the λ={settings.lmbda:g} model to {folder}")
    return trainer, history


__all__ = ["CACHE_ENV", "cache_dir", "fingerprint", "load_cached", "model_key", "save_to_cache",
           "train_or_load"]
