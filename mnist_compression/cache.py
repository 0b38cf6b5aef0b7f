"""Trained models kept on disk, so a later notebook reuses what an earlier one trained.

Introduced in notebook 03 (training). A model is stored under a key made from every setting that
shapes it (`TrainingSettings.identity`), the architecture the code builds, and a fingerprint of
the digits it was trained and validated on, so a changed setting, layer or data set never picks
up a stale model: it trains a new one. Models are the portable files of `model_files`, which
carry a checksum, so a cache folder also moves between stacks. Writes are atomic, nothing in the
cache is overwritten, and a damaged model is reported, left in place for inspection, and replaced
by a freshly trained one in a new folder. The digit classifier (`classifier`) is kept the same
way, through `find_cached` and `store_in_cache`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from . import pretrained as pretrained_models
from .atomic_files import default_mode
from .hashing import json_sha256
from .model_files import read_model_file, save_model, trainer_from_arrays
from .models import architecture
from .settings import TrainingSettings
from .training import SECONDS_PER_EPOCH, TrainingData, load_training_data, train_model

CACHE_ENV = "MNIST_COMPRESSION_CACHE"
_MODEL = "model.npz"


def cache_dir() -> Path:
    """Where models are kept: $MNIST_COMPRESSION_CACHE, else ~/.cache/mnist_compression."""
    chosen = os.environ.get(CACHE_ENV)
    return Path(chosen).expanduser().absolute() if chosen else (
        Path.home() / ".cache" / "mnist_compression")


def model_key(settings: TrainingSettings, data_fingerprint: str) -> str:
    """A folder name: readable λ (or levels) and epochs, then a hash of the settings that shape
    the model, the architecture and the data."""
    identity = dict(settings=settings.identity(), architecture=architecture(settings.latent_dims),
                    data=data_fingerprint)
    levels = settings.rate_levels
    name = (f"lmbda{settings.lmbda:g}" if levels is None else
            f"levels{len(levels)}-{levels[0]:g}-{levels[-1]:g}")
    return f"{name}-epochs{settings.epochs}-{json_sha256(identity, 12)}"


def _candidates(key: str) -> list[Path]:
    """The folders that may hold an entry for `key`: the key itself, then key.2, key.3, ..."""
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


def find_cached(key: str, read: Callable[[Path], object]):
    """``(read(folder), folder)`` for the first intact folder stored under `key`, or None.

    `read` raises ValueError or OSError for a damaged folder, which is reported and left as it
    is for inspection."""
    for folder in _candidates(key):
        if not folder.exists():
            continue
        try:
            return read(folder), folder
        except (ValueError, OSError) as err:
            print(f"The cached entry in {folder} is damaged and will not be used ({err}). It is "
                  f"left there for inspection; delete it when done.")
    return None


def store_in_cache(key: str, write: Callable[[Path], object]) -> Path:
    """Lets `write(folder)` fill a new folder for `key`, which appears complete or not at all;
    returns the folder."""
    folder = _free_folder(key)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder.parent))
    try:
        os.chmod(staging, default_mode(0o777))
        write(staging)
        os.rename(staging, folder)  # fails rather than replace a folder that appeared meanwhile
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def fetch_pretrained(key: str, filename: str, what: str, pretrained=True) -> bool:
    """Puts the published file for `key` into a new cache folder as `filename` (see
    `pretrained`); True if it is there now. Otherwise says in one line why not (nothing
    published for these settings, a failed download, a wrong SHA-256), leaving nothing behind."""
    found, reason = pretrained_models.find(key, pretrained)
    if found is None:
        print(f"Pretrained {what}: {reason}.")
        return False
    entry, origin = found
    try:
        folder = store_in_cache(key, lambda staging: pretrained_models.download(
            origin, entry["sha256"], staging / filename))
    except pretrained_models.PretrainedError as err:  # on a line of its own, after any progress
        print(f"\nPretrained {what}: could not use {origin}: {err}. Nothing was stored.")
        return False
    print(f"Pretrained {what}: downloaded {origin} (SHA-256 verified) into {folder}")
    return True


def _read_model(folder: Path):
    record, arrays = read_model_file(folder / _MODEL)
    return trainer_from_arrays(record, arrays), record.get("history") or {}


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
    if use_cache:
        cached = find_cached(key, _read_model)
        if cached is None and pretrained and fetch_pretrained(
                key, _MODEL, f"{settings.describe()} model", pretrained):
            cached = find_cached(key, _read_model)
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
    if verbose:
        _announce_training(settings, len(data.train))
    trainer, history = train_model(settings, data=data, strategy=strategy, verbose=verbose,
                                   callbacks=callbacks, start_from=start_from)
    if use_cache:
        folder = store_in_cache(key, lambda staging: save_model(
            trainer, staging / _MODEL, settings=settings, history=history))
        print(f"Saved the {settings.describe()} model to {folder}")
    return trainer, history


__all__ = ["CACHE_ENV", "cache_dir", "fetch_pretrained", "find_cached", "model_key",
           "store_in_cache", "train_or_load"]
