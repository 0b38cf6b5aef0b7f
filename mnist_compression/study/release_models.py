"""A release's pretrained models: trained (or taken from the model cache), copied, measured.

Introduced with the release procedure (`docs/releasing.md`; `mnist-compression release`, `make
release-models`). `build_release` writes one model per λ of the study, the variable-rate model of
notebook 08 and the digit classifier into a folder, with the manifest `pretrained.json`: file,
size, SHA-256, cache key, settings and measurements of each (see `storage.pretrained`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .. import RELEASE
from ..atomic_files import write_atomically
from ..lambdas import STUDY_LAMBDAS
from ..model.files import make_mnist_codec
from ..settings import TrainingSettings, training_minutes
from ..storage.cache import find_cached, identity, model_key
from ..storage.pretrained import MANIFEST, file_sha256, find
from ..training import load_training_data, train_or_load
from .classifier import FILE as CLASSIFIER_FILE
from .classifier import train_or_load_classifier
from .evaluation import evaluate_codec

_MEASURED = ("information_bits", "string_bits", "mnc_bytes_per_digit", "mae", "psnr",
             "recognised")


def _published(folder: Path, key: str, source: str, out: Path, name: str) -> dict:
    """Copies a file from a model cache folder into the release folder; its manifest entry."""
    target = out / name
    shutil.copyfile(folder / source, target)
    return dict(key=key, file=name, bytes=target.stat().st_size, sha256=file_sha256(target))


def _mean_or_none(values):
    return None if not values else sum(values) / len(values)


def _model_entry(settings: TrainingSettings, data, classifier, out: Path, name: str,
                 lmbda: float | None = None) -> tuple[dict, object, dict]:
    """Trains or loads one model, publishes it as `name` and measures it (a variable-rate
    model at `lmbda`); its manifest entry, the trainer and its history."""
    trainer, history = train_or_load(settings, data=data)
    key = model_key(settings, data.fingerprint)
    measured = evaluate_codec(*make_mnist_codec(trainer, lmbda), data.validation,
                              data.validation_labels, classifier)
    folder = find_cached(key, lambda found: found)[1]  # where train_or_load keeps it
    seconds = history.get("seconds", [])
    return dict(_published(folder, key, "model.npz", out, name), settings=identity(settings),
                seconds_per_epoch=_mean_or_none(seconds), training_seconds=sum(seconds),
                **{name: measured[name] for name in _MEASURED}), trainer, history


def build_release(settings: TrainingSettings, lambdas, out: Path,
                  variable_rate: bool = True) -> dict:
    """Writes the models for `lambdas` (with `settings`), with `variable_rate` the
    variable-rate model (`settings.variable_rate()`, measured at each level), the classifier
    and the manifest into `out`; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    data = load_training_data(settings)
    classifier = train_or_load_classifier(settings.data_dir, settings.train_examples)
    files = [dict(_published(classifier.folder, classifier.key, CLASSIFIER_FILE, out,
                             "classifier.npz"), kind="classifier",
                  accuracy=classifier.accuracy(data.validation, data.validation_labels))]
    for lmbda in sorted(lambdas, key=float, reverse=True):  # a lower λ may start from a higher
        entry, _, history = _model_entry(settings.replace(lmbda=lmbda), data, classifier, out,
                                         f"lmbda{lmbda:g}.npz")
        files.append(dict(entry, kind="model", lmbda=float(lmbda),
                          val_rate=history["val_rate"][-1],
                          val_distortion=history["val_distortion"][-1]))
    if variable_rate:
        chosen = settings.variable_rate()
        entry, trainer, _ = _model_entry(chosen, data, classifier, out, "variable_rate.npz")
        levels = [dict(lmbda=level, **{name: value for name, value in evaluate_codec(
            *make_mnist_codec(trainer, level), data.validation, data.validation_labels,
            classifier).items() if name in _MEASURED}) for level in chosen.levels]
        files.append(dict(entry, kind="variable-rate model", lmbda=chosen.lmbda,
                          levels=list(chosen.levels), at_levels=levels))
    manifest = dict(release=RELEASE, files=files)
    text = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
    write_atomically(out / MANIFEST, lambda f: f.write(text), overwrite=True)
    return manifest


def release_settings(settings: TrainingSettings, lambdas=STUDY_LAMBDAS,
                     variable_rate: bool = True) -> list[TrainingSettings]:
    """The settings of every model a release holds (and `make tutorial` uses): one per λ, and
    the variable-rate model."""
    chosen = [settings.replace(lmbda=lmbda) for lmbda in lambdas]
    return chosen + [settings.variable_rate()] if variable_rate else chosen


def training_plan(settings: TrainingSettings | None = None, pretrained=True) -> str:
    """One paragraph that says, before a run, which of the release's models are in the model
    cache, which are published (with `pretrained`: the release or a mirror) and which would be
    trained, with the time those take on a 2-core CPU."""
    settings = settings or TrainingSettings()
    data = load_training_data(settings)
    cached, published, missing = [], [], []
    for chosen in release_settings(settings):
        key = model_key(chosen, data.fingerprint)
        if find_cached(key, lambda folder: folder) is not None:
            cached.append(chosen)
        elif pretrained and find(key, pretrained)[0] is not None:
            published.append(chosen)
        else:
            missing.append(chosen)
    text = (f"Of the {len(cached) + len(published) + len(missing)} models the notebooks use, "
            f"{len(cached)} are in the model cache and {len(published)} published")
    if not missing:
        return text + ": nothing is trained (part 3 trains its own unless it is cached)."
    epochs = sum(chosen.epochs for chosen in missing)
    low, high = training_minutes(epochs=epochs, examples=len(data.train))
    names = ", ".join(chosen.describe() for chosen in missing)
    return text + f"; {len(missing)} will be trained ({names}): {low}–{high} min on a 2-core CPU."


__all__ = ["build_release", "release_settings", "training_plan"]
