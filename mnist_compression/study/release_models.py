"""A release's pretrained models: trained (or taken from the model cache), copied, measured.

Introduced with the release procedure (`docs/releasing.md`; `mnist-compression release`, `make
release-models`). `build_release` writes one model per λ of the study, notebook 08's models (the
variable-rate model, a second seed of it, and models trained with its recipe at every λ and at
`MIDDLE_LAMBDA`), notebook 09's hyperprior models and the digit classifier into a folder, with
the manifest `pretrained.json`: file, size, SHA-256, cache key, settings and measurements of
each (see `storage.pretrained`).
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


# Notebook 08's models beyond the study's eight and the variable-rate model: a second seed of the
# variable-rate model (the spread of its BD-rates), and models trained with the variable-rate
# recipe at every λ of the study and at MIDDLE_LAMBDA, between two levels (its fair anchors).
SECOND_SEED = 1
MIDDLE_LAMBDA = 700.0
# Notebook 09's hyperprior models: its side latents, at the λ of the study from 300 on.
HYPER_LATENT_DIMS = 8
HYPERPRIOR_LAMBDAS = tuple(lmbda for lmbda in STUDY_LAMBDAS if lmbda >= 300)


def release_files(settings: TrainingSettings, lambdas=STUDY_LAMBDAS,
                  variable_rate: bool = True) -> list[tuple[str, str, TrainingSettings]]:
    """(file name, recipe, settings) of every model a release holds: one per λ with `settings`
    (highest λ first: a lower λ may warm-start from a higher); with `variable_rate`, notebook
    08's variable-rate models (two seeds) and its same-recipe models; notebook 09's hyperprior
    models at the λ of `HYPERPRIOR_LAMBDAS` that are among `lambdas`."""
    files = [(f"lmbda{lmbda:g}.npz", "original", settings.replace(lmbda=lmbda))
             for lmbda in sorted(lambdas, key=float, reverse=True)]
    if variable_rate:
        variable = settings.variable_rate()
        files += [("variable_rate.npz", "variable-rate", variable),
                  (f"variable_rate_seed{SECOND_SEED}.npz", "variable-rate",
                   variable.replace(seed=SECOND_SEED))]
        files += [(f"same_recipe_lmbda{lmbda:g}.npz", "variable-rate",
                   settings.variable_rate_recipe_at(lmbda))
                  for lmbda in sorted({*map(float, lambdas), MIDDLE_LAMBDA}, reverse=True)]
    files += [(f"hyperprior_lmbda{lmbda:g}.npz", "original",
               settings.replace(lmbda=lmbda, hyper_latent_dims=HYPER_LATENT_DIMS))
              for lmbda in sorted(map(float, lambdas), reverse=True)
              if lmbda in HYPERPRIOR_LAMBDAS]
    return files


def release_settings(settings: TrainingSettings, lambdas=STUDY_LAMBDAS,
                     variable_rate: bool = True) -> list[TrainingSettings]:
    """The settings of every model a release holds (and the notebooks use; `release_files`)."""
    return [chosen for _, _, chosen in release_files(settings, lambdas, variable_rate)]


def build_release(settings: TrainingSettings, lambdas, out: Path,
                  variable_rate: bool = True) -> dict:
    """Writes the models of `release_files` (each measured on the test digits, a variable-rate
    model at each level), the classifier and the manifest into `out`; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    data = load_training_data(settings)
    classifier = train_or_load_classifier(settings.data_dir, settings.train_examples)
    files = [dict(_published(classifier.folder, classifier.key, CLASSIFIER_FILE, out,
                             "classifier.npz"), kind="classifier",
                  accuracy=classifier.accuracy(data.validation, data.validation_labels))]
    for name, recipe, chosen in release_files(settings, lambdas, variable_rate):
        entry, trainer, history = _model_entry(chosen, data, classifier, out, name)
        entry.update(recipe=recipe, seed=chosen.seed, lmbda=chosen.lmbda)
        if chosen.levels is None:
            files.append(dict(entry, kind="model" if chosen.hyper_latent_dims is None else
                              "hyperprior model", val_rate=history["val_rate"][-1],
                              val_distortion=history["val_distortion"][-1]))
            continue
        levels = [dict(lmbda=level, **{field: value for field, value in evaluate_codec(
            *make_mnist_codec(trainer, level), data.validation, data.validation_labels,
            classifier).items() if field in _MEASURED}) for level in chosen.levels]
        files.append(dict(entry, kind="variable-rate model", levels=list(chosen.levels),
                          at_levels=levels))
    manifest = dict(release=RELEASE, files=files)
    text = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
    write_atomically(out / MANIFEST, lambda f: f.write(text), overwrite=True)
    return manifest


def training_plan(settings: TrainingSettings | None = None, pretrained=True) -> str:
    """One paragraph that says, before a run, which of the release's models are in the model
    cache, which are published (with `pretrained`: the release or a mirror) and which would be
    trained, with the time those take on a 2-core CPU."""
    settings = settings or TrainingSettings()
    data = load_training_data(settings)
    cached, published, missing = [], [], []
    for _, recipe, chosen in release_files(settings):
        key = model_key(chosen, data.fingerprint)
        if find_cached(key, lambda folder: folder) is not None:
            cached.append(chosen)
        elif pretrained and find(key, pretrained)[0] is not None:
            published.append(chosen)
        else:
            missing.append((recipe, chosen))
    text = (f"Of the {len(cached) + len(published) + len(missing)} models the notebooks use, "
            f"{len(cached)} are in the model cache and {len(published)} published")
    if not missing:
        return text + ": nothing is trained (part 3 trains its own unless it is cached)."
    epochs = sum(chosen.epochs for _, chosen in missing)
    low, high = training_minutes(epochs=epochs, examples=len(data.train))
    names = ", ".join(_label(recipe, chosen, settings) for recipe, chosen in missing)
    return text + f"; {len(missing)} will be trained ({names}): {low}–{high} min on a 2-core CPU."


def _label(recipe: str, chosen: TrainingSettings, settings: TrainingSettings) -> str:
    """How the plan names a model: "λ=500", "λ=700 (variable-rate recipe)", or
    "variable-rate (8 levels, λ=50…10000), seed 1"."""
    label = chosen.describe()
    if chosen.kind == "fixed-rate" and recipe != "original":
        label += f" ({recipe} recipe)"
    return label + (f", seed {chosen.seed}" if chosen.seed != settings.seed else "")


__all__ = ["HYPERPRIOR_LAMBDAS", "HYPER_LATENT_DIMS", "MIDDLE_LAMBDA", "SECOND_SEED",
           "build_release", "release_files", "release_settings", "training_plan"]
