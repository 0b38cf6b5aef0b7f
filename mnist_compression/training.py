"""One call to train the tutorial's model for a given lambda (introduced in notebook 03).

The digits are held in memory as uint8 and streamed by `tf.data` with shuffling and prefetching,
and the train step can be compiled with XLA; `benchmarks/training_speed.py` measures what that buys
over the original tutorial's pipeline.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .data import load_mnist_arrays
from .models import DEFAULT_LATENT_DIMS, MNISTCompressionTrainer

LEARNING_RATE = 1e-3
BATCH_SIZE = 128


def make_trainer(
    lmbda: float,
    latent_dims: int = DEFAULT_LATENT_DIMS,
    learning_rate: float = LEARNING_RATE,
    jit_compile: bool = False,
) -> MNISTCompressionTrainer:
    """A compiled trainer for rate + lmbda * distortion with Adam, ready for `fit`.

    Variables are created in the current `tf.distribute` strategy's scope, if any. XLA
    (`jit_compile=True`) can help on a GPU; on a 2-core CPU it made each step slower.
    """
    if not lmbda > 0:
        raise ValueError(f"lmbda must be a positive number, got {lmbda!r}.")
    trainer = MNISTCompressionTrainer(latent_dims=latent_dims, lmbda=lmbda)
    trainer.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=learning_rate), jit_compile=jit_compile
    )
    return trainer


def digit_batches(images: np.ndarray, batch_size: int, shuffle_seed: int | None = None):
    """A `tf.data.Dataset` of uint8 digit batches; shuffled each epoch when a seed is given."""
    dataset = tf.data.Dataset.from_tensor_slices(images)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(images), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def fit_model(
    train_images: np.ndarray,
    validation_images: np.ndarray,
    lmbda: float,
    epochs: int = 15,
    batch_size: int = BATCH_SIZE,
    latent_dims: int = DEFAULT_LATENT_DIMS,
    seed: int | None = 0,
    jit_compile: bool = False,
    strategy: tf.distribute.Strategy | None = None,
    verbose="auto",
    callbacks=None,
):
    """Trains a fresh model on uint8 digit arrays; returns ``(trainer, history)``.

    `seed` fixes the weights' initialisation and the shuffling. Variables are created in
    `strategy`'s scope, or in the current one when none is given.
    """
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    if seed is not None:
        tf.keras.utils.set_random_seed(seed)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        trainer = make_trainer(lmbda, latent_dims, jit_compile=jit_compile)
    history = trainer.fit(
        digit_batches(train_images, batch_size, shuffle_seed=0 if seed is None else seed),
        epochs=epochs,
        validation_data=digit_batches(validation_images, batch_size).cache(),
        verbose=verbose,
        callbacks=callbacks,
    )
    return trainer, history


def train_model(
    lmbda: float,
    epochs: int = 15,
    train_examples: int | None = None,
    validation_examples: int | None = None,
    batch_size: int = BATCH_SIZE,
    latent_dims: int = DEFAULT_LATENT_DIMS,
    data_dir=None,
    seed: int | None = 0,
    jit_compile: bool = False,
    strategy: tf.distribute.Strategy | None = None,
    verbose="auto",
    callbacks=None,
):
    """Trains a fresh model for one lambda on MNIST and returns ``(trainer, history)``.

    Uses the first `train_examples` training digits (all 60,000 by default) and validates on the
    first `validation_examples` test digits (all 10,000) after each epoch, as the tutorial does.
    Pass a `tf.distribute` strategy, or call this inside one's scope, to train on several devices.
    """
    train_images, _ = load_mnist_arrays("train", data_dir, train_examples)
    validation_images, _ = load_mnist_arrays("test", data_dir, validation_examples)
    return fit_model(train_images, validation_images, lmbda, epochs, batch_size, latent_dims,
                     seed, jit_compile, strategy, verbose, callbacks)


def final_validation(history) -> dict:
    """The last epoch's validation rate (bits per digit) and distortion from a Keras History."""
    logs = getattr(history, "history", history)
    return {key: float(logs[key][-1]) for key in ("val_rate", "val_distortion")}


def main(argv=None) -> dict:
    """Command line: train one model, print its final validation metrics and the time per epoch."""
    import argparse
    import json
    import time

    parser = argparse.ArgumentParser(
        prog="python -m mnist_compression.training",
        description="Train the tutorial's MNIST compression model for one lambda.",
    )
    parser.add_argument("--lmbda", type=float, default=2000.0, help="weight of the distortion")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--train-examples", type=int, default=None, help="default: all 60,000")
    parser.add_argument("--validation-examples", type=int, default=None, help="default: all")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--latent-dims", type=int, default=DEFAULT_LATENT_DIMS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="IDX folder (default: $MNIST_DATA_DIR)")
    parser.add_argument("--jit-compile", action="store_true", help="compile steps with XLA")
    parser.add_argument("--weights", help="save the trained weights here (*.weights.h5)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    trainer, history = train_model(
        args.lmbda, args.epochs, args.train_examples, args.validation_examples, args.batch_size,
        args.latent_dims, args.data_dir, args.seed, args.jit_compile, verbose=2,
    )
    seconds = time.perf_counter() - start
    results = dict(final_validation(history), seconds=seconds,
                   seconds_per_epoch=seconds / args.epochs, history=history.history,
                   settings=vars(args))
    if args.weights:
        trainer.save_weights(args.weights)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    print(json.dumps({key: value for key, value in results.items() if key != "history"}, indent=2))
    return results


if __name__ == "__main__":
    main()
