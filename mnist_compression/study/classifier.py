"""A small digit classifier that measures whether decoded digits are still recognisable.

Introduced in notebook 05. "Most digits stay recognisable" is a claim; the share of decoded test
digits that this classifier still labels correctly, beside its share on the originals, is a
measurement. A one-hidden-layer network trained for four epochs; its accuracy on the original
test digits is measured by notebook 05 and recorded in a release's manifest. It is
kept in the model cache like the compression models, in the same container
(`storage.array_files`: arrays and a checksummed record; retrained when damaged), keyed by its
settings and data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..checks import is_int
from ..data import load_mnist_arrays
from ..hashing import data_fingerprint, json_sha256
from ..storage.array_files import checksum, read_array_file, write_array_file
from ..storage.cache import fetch_pretrained, find_cached, store_in_cache

HIDDEN, EPOCHS, BATCH_SIZE, SEED = 256, 4, 128, 0
FORMAT = "mnist-compression-classifier"
VERSION = 2  # 2: the container of model files (storage.array_files), checksum over the record too
FILE = "classifier.npz"
MAX_BYTES = 16 << 20  # its weights, unpacked, at most (they take about 0.8 MB)


def _build():
    import tensorflow as tf

    keras = tf.keras
    model = keras.Sequential([keras.layers.Dense(HIDDEN, activation="relu", name="hidden"),
                              keras.layers.Dense(10, name="logits")], name="digit_classifier")
    model.build((None, 28 * 28))
    return model


def _inputs(digits) -> np.ndarray:
    return np.asarray(digits, np.float32).reshape(len(digits), -1) / 255.0


class DigitClassifier:
    """Labels uint8 digits [N, 28, 28(, 1)] with 0-9. `key` and `folder` say where the model
    cache keeps it (a release copies it from there)."""

    def __init__(self, model, key: str | None = None, folder: Path | None = None):
        self.model, self.key, self.folder = model, key, folder

    def probabilities(self, digits) -> np.ndarray:
        """[N, 10]: the probability the classifier gives each class (softmax of its logits)."""
        logits = self.model.predict(_inputs(digits), batch_size=2000, verbose=0)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def predict(self, digits) -> np.ndarray:
        return np.argmax(self.probabilities(digits), axis=1)

    def accuracy(self, digits, labels) -> float:
        """The share of digits labelled correctly."""
        return float(np.mean(self.predict(digits) == np.asarray(labels)))


def _save(model, path: Path) -> None:
    weights = {f"w{i}": np.asarray(w, np.float32) for i, w in enumerate(model.get_weights())}
    write_array_file(path, weights, dict(format=FORMAT, version=VERSION, hidden=HIDDEN))


def _load(folder: Path) -> DigitClassifier:
    """The classifier stored in a cache folder; ValueError if it is damaged. Files without a
    version (written before version 2) have a checksum of their arrays alone."""
    record, arrays = read_array_file(folder / FILE, "classifier file", "the model cache",
                                     max_bytes=MAX_BYTES)
    names = [f"w{i}" for i in range(len(arrays))]
    version = record.get("version", 1)
    if (record.get("format") != FORMAT or not is_int(version) or version > VERSION
            or sorted(arrays) != sorted(names) or checksum(record, arrays) != record.get("sha256")):
        raise ValueError(f"{folder / FILE} is not an intact classifier file")
    model = _build()
    try:
        model.set_weights([arrays[name] for name in names])
    except ValueError as err:
        raise ValueError(f"{folder / FILE} does not fit the classifier ({err})") from None
    return DigitClassifier(model)


def _key(images, labels) -> str:
    """The model cache key of the classifier trained on these digits with this module's
    settings."""
    labelled = np.concatenate([images.reshape(len(images), -1),
                               labels.astype(np.uint8).reshape(-1, 1)], axis=1)  # pairs kept
    settings = dict(hidden=HIDDEN, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED,
                    data=data_fingerprint(labelled))
    return f"classifier-{json_sha256(settings, 12)}"


def train_or_load_classifier(data_dir=None, train_examples: int | None = None,
                             verbose: bool = True, pretrained=False) -> DigitClassifier:
    """The classifier trained on the first `train_examples` training digits: from the model
    cache if it is there and intact, else (with `pretrained`, as in `training.train_or_load`) the
    published one, else trained now (a few seconds to a minute on a CPU) and cached."""
    import tensorflow as tf

    images, labels = load_mnist_arrays("train", data_dir, train_examples)
    key = _key(images, labels)
    cached = find_cached(key, _load)
    if cached is None and pretrained and fetch_pretrained(
            key, FILE, "classifier", pretrained, check=lambda path: _load(path.parent)):
        cached = find_cached(key, _load)
    if cached is not None:
        return DigitClassifier(cached[0].model, key, cached[1])
    if verbose:
        print(f"Training the digit classifier on {len(images):,} digits ({EPOCHS} epochs)...",
              flush=True)
    tf.keras.utils.set_random_seed(SEED)
    model = _build()
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(_inputs(images), labels, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0)
    try:
        folder = store_in_cache(key, lambda staging: _save(model, staging / FILE))
    except OSError as err:  # a cache that cannot be written: the trained classifier is kept
        print(f"The classifier could not be kept in the model cache "
              f"({' '.join(str(err).split())}); it is used all the same.")
        folder = None
    return DigitClassifier(model, key, folder)


__all__ = ["FILE", "DigitClassifier", "train_or_load_classifier"]
