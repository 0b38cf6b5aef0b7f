"""A small digit classifier that measures whether decoded digits are still recognisable.

Introduced in notebook 05. "Most digits stay recognisable" is a claim; the share of decoded test
digits that this classifier still labels correctly, beside its share on the originals, is a
measurement. A one-hidden-layer network trained for a few epochs reaches about 98% on the
original test digits; it is cached like the compression models, keyed by its settings and data.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from .atomic_files import write_atomically
from .cache import cache_dir, fingerprint
from .data import load_mnist_arrays

HIDDEN, EPOCHS, BATCH_SIZE, SEED = 256, 4, 128, 0


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
    """Labels uint8 digits [N, 28, 28(, 1)] with 0-9."""

    def __init__(self, model):
        self.model = model

    def predict(self, digits) -> np.ndarray:
        return np.argmax(self.model.predict(_inputs(digits), batch_size=2000, verbose=0), axis=1)

    def accuracy(self, digits, labels) -> float:
        """The share of digits labelled correctly."""
        return float(np.mean(self.predict(digits) == np.asarray(labels)))


def train_or_load_classifier(data_dir=None, train_examples: int | None = None,
                             verbose: bool = True) -> DigitClassifier:
    """The classifier trained on the first `train_examples` training digits: from the cache if
    it is there, else trained now (a few seconds to a minute on a CPU) and cached."""
    import tensorflow as tf

    images, labels = load_mnist_arrays("train", data_dir, train_examples)
    settings = dict(hidden=HIDDEN, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED,
                    data=fingerprint(images, labels))
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir() / f"classifier-{digest}.npz"
    if path.exists():
        model = _build()
        with np.load(path) as stored:
            model.set_weights([stored[f"w{i}"] for i in range(len(stored.files))])
        return DigitClassifier(model)
    if verbose:
        print(f"Training the digit classifier on {len(images):,} digits ({EPOCHS} epochs)...",
              flush=True)
    tf.keras.utils.set_random_seed(SEED)
    model = _build()
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(_inputs(images), labels, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0)
    weights = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    write_atomically(path, lambda f: np.savez(f, **weights), overwrite=True)
    return DigitClassifier(model)


__all__ = ["DigitClassifier", "train_or_load_classifier"]
