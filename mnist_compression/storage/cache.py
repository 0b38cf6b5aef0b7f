"""Trained models kept on disk, so a later notebook reuses what an earlier one trained.

Introduced in notebook 03 (training). A model is stored under a key made from every setting that
shapes it (`identity`), the architecture the code builds, and a fingerprint of
the digits it was trained and validated on, so a changed setting, layer or data set never picks
up a stale model: it trains a new one. Models are the portable files of `model_files`, which
carry a checksum, so a cache folder also moves between stacks. Writes are atomic, nothing in the
cache is overwritten, and a damaged model is reported, left in place for inspection, and replaced
by a freshly trained one in a new folder. `training.train_or_load` and the digit classifier
(`study.classifier`) keep their models here through `find_cached` and `store_in_cache`.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..architecture import architecture
from ..atomic_files import default_mode
from ..hashing import json_sha256
from ..lambdas import FIXED_RATE, HYPERPRIOR, VARIABLE_RATE
from ..settings import TrainingSettings
from . import pretrained as pretrained_models

CACHE_ENV = "MNIST_COMPRESSION_CACHE"
PARTIAL_PREFIX = ".partial-"  # a folder being filled; renamed to its key when complete
STALE_SECONDS = 3600  # a partial folder untouched this long was left by a killed process
_RENAME_TRIES = 100
_NUMBER = re.compile("[0-9]+")  # the .2, .3, ... of a key's further folders (ASCII digits only)
MODEL_FILE = "model.npz"  # the name of a model in its key's folder


def cache_dir() -> Path:
    """Where models are kept: $MNIST_COMPRESSION_CACHE, else ~/.cache/mnist_compression."""
    chosen = os.environ.get(CACHE_ENV)
    return Path(chosen).expanduser().absolute() if chosen else (
        Path.home() / ".cache" / "mnist_compression")


# Fields a model's key leaves out while they hold these values, so that models trained before the
# fields existed keep their keys; a variable-rate model's λ only picks its codec's default λ.
_LEFT_OUT = {
    "warm_start": lambda settings: settings.warm_start is None,
    "warm_start_epochs": lambda settings: settings.warm_start is None,
    "distortion": lambda settings: settings.distortion == "mae",
    "levels": lambda settings: settings.levels is None,
    "lmbda": lambda settings: settings.kind == VARIABLE_RATE,
    "level_sampling": lambda settings: settings.level_sampling == 0,
    "hyper_latent_dims": lambda settings: settings.hyper_latent_dims is None,
}


def identity(settings: TrainingSettings) -> dict:
    """The settings that shape the trained model, as JSON values: every field but where the
    data is read from, less those `_LEFT_OUT` names at their old defaults."""
    values = settings.as_dict()
    return {f.name: values[f.name] for f in dataclasses.fields(settings)
            if f.metadata["identity"] and not _LEFT_OUT.get(f.name, lambda _: False)(settings)}


# The readable start of a key's folder name, per kind of model.
_FOLDER_NAMES = {
    FIXED_RATE: lambda settings: f"lmbda{settings.lmbda:g}",
    VARIABLE_RATE: lambda settings: (f"levels{len(settings.levels)}-{settings.levels[0]:g}-"
                                     f"{settings.levels[-1]:g}"),
    HYPERPRIOR: lambda settings: f"hyper{settings.hyper_latent_dims}-lmbda{settings.lmbda:g}",
}


def model_key(settings: TrainingSettings, data_fingerprint: str) -> str:
    """A folder name: readable λ (or levels) and epochs, then a hash of the settings that shape
    the model, the architecture and the data."""
    layers = architecture(settings.latent_dims, settings.hyper_latent_dims)
    shaping = dict(settings=identity(settings), architecture=layers, data=data_fingerprint)
    name = _FOLDER_NAMES[settings.kind](settings)
    return f"{name}-epochs{settings.epochs}-{json_sha256(shaping, 12)}"


def _candidates(key: str) -> list[Path]:
    """The folders that may hold an entry for `key`: the key itself, then key.2, key.3, ..."""
    root = cache_dir()
    numbered = sorted((p for p in root.glob(f"{key}.*") if _NUMBER.fullmatch(p.suffix[1:])),
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
    returns the folder. When another process stores the same key at the same moment, this one
    takes the next free name (key.2, ...): both are kept, neither is lost."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(root)
    staging = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=root))
    try:
        os.chmod(staging, default_mode(0o777))
        write(staging)
        for _ in range(_RENAME_TRIES):
            folder = _free_folder(key)
            try:
                os.rename(staging, folder)  # fails rather than replace a folder that appeared
                return folder
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
        raise OSError(f"Could not find a free folder for {key} in {root}.")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_stale_partials(root: Path, age: float = STALE_SECONDS) -> list[Path]:
    """Removes what a killed process left in the cache: `.partial-*` folders older than `age`
    seconds (a running download or save renews its folder's time as it writes). Returns them."""
    removed = []
    now = time.time()
    for folder in root.glob(f"{PARTIAL_PREFIX}*"):
        try:
            newest = max([folder.stat().st_mtime] + [p.stat().st_mtime for p in folder.iterdir()])
        except OSError:
            continue
        if now - newest > age:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def fetch_pretrained(key: str, filename: str, what: str, pretrained=True,
                     check: Callable[[Path], object] = lambda path: None) -> bool:
    """Puts the published file for `key` into a new cache folder as `filename` (see
    `pretrained`), after `check(path)` accepted it (it raises ValueError for a file that is
    not what `key` names); True if it is there now. Otherwise says in one line why not (nothing
    published for these settings, a failed download, a wrong SHA-256, a file that does not
    check out), leaving nothing behind."""
    found, reason = pretrained_models.find(key, pretrained)
    if found is None:
        print(f"Pretrained {what}: {reason}.")
        return False
    entry, origin = found

    def fill(staging: Path) -> None:
        pretrained_models.download(origin, entry, staging / filename)
        try:
            check(staging / filename)
        except ValueError as err:
            raise pretrained_models.PretrainedError(
                f"its SHA-256 matches, but it is not the {what} the manifest names ("
                f"{' '.join(str(err).split())[:160]})") from None

    try:
        folder = store_in_cache(key, fill)
    except pretrained_models.PretrainedError as err:  # on a line of its own, after any progress
        print(f"\nPretrained {what}: could not use {origin}: {err}. Nothing was stored.")
        return False
    except OSError as err:  # a model cache that cannot be written
        print(f"\nPretrained {what}: the model cache cannot keep it "
              f"({' '.join(str(err).split())}). Nothing was stored.")
        return False
    print(f"Pretrained {what}: downloaded {origin} (SHA-256 verified) into {folder}")
    return True


__all__ = ["CACHE_ENV", "MODEL_FILE", "cache_dir", "fetch_pretrained", "find_cached",
           "identity", "model_key", "remove_stale_partials", "store_in_cache"]
