"""Times training steps per second: the package's training helper against the original tutorial.

The baseline re-creates how the original tutorial trained: a trainer whose call returns the batch
means of rate and distortion, compiled with pass-through losses *and* pass-through metrics on dummy
targets, fed by ``dataset.map(add targets).batch(128).prefetch(8)`` without caching. Both train the
same architecture on the same digits; the script prints steps/s, the speed-up, and the validation
rate/distortion each reaches after the same number of epochs, so equal metrics can be checked.

    python benchmarks/training_speed.py --examples 12800 --epochs 2
"""

from __future__ import annotations

import argparse
import json
import time

import tensorflow as tf

from mnist_compression.data import load_mnist, load_mnist_arrays
from mnist_compression.model.autoencoder import MNISTCompressionTrainer, to_unit_range
from mnist_compression.model.entropy_models import ContinuousBatchedEntropyModel
from mnist_compression.settings import TrainingSettings
from mnist_compression.training import digit_batches, make_trainer


class _ScalarOutputTrainer(MNISTCompressionTrainer):
    """The tutorial's formulation: call returns batch means, fit uses Keras' loss machinery."""

    def call(self, images, training=False):
        x = to_unit_range(images, self.compute_dtype)
        y = self.analysis_transform(x)
        entropy_model = ContinuousBatchedEntropyModel(self.prior, coding_rank=1, compression=False)
        y_tilde, rate = entropy_model(y, training=training)
        x_tilde = self.synthesis_transform(y_tilde)
        return dict(rate=tf.reduce_mean(rate), distortion=tf.reduce_mean(tf.abs(x - x_tilde)))

    train_step = tf.keras.Model.train_step
    test_step = tf.keras.Model.test_step

    @property
    def metrics(self):
        return tf.keras.Model.metrics.fget(self)


def _pass_through(_, value):
    return value


def _with_dummy_targets(image, _label):
    return image, dict(rate=0.0, distortion=0.0)


def tutorial_fit(lmbda, epochs, examples, batch_size, data_dir):
    """Trains the way the original tutorial does; returns (seconds per step, final val logs)."""
    trainer = _ScalarOutputTrainer(lmbda=lmbda)
    pass_through = dict(rate=_pass_through, distortion=_pass_through)
    trainer.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3),
        loss=pass_through,
        metrics=pass_through,
        loss_weights=dict(rate=1.0, distortion=lmbda),
    )
    train = load_mnist("train", data_dir, examples).map(_with_dummy_targets)
    validation = load_mnist("test", data_dir).map(_with_dummy_targets).batch(batch_size).cache()
    return _timed_fit(trainer, train.batch(batch_size).prefetch(8), validation, epochs,
                      val_keys=("val_rate_loss", "val_distortion_loss"))


def package_fit(lmbda, epochs, examples, batch_size, data_dir):
    """Trains with the package's trainer and input pipeline."""
    trainer = make_trainer(TrainingSettings(lmbda=lmbda, batch_size=batch_size))
    train = digit_batches(load_mnist_arrays("train", data_dir, examples)[0], batch_size, 0)
    validation = digit_batches(load_mnist_arrays("test", data_dir)[0], batch_size).cache()
    return _timed_fit(trainer, train, validation, epochs,
                      val_keys=("val_rate", "val_distortion"))


class _StepTimer(tf.keras.callbacks.Callback):
    """Wall time of the training part of each epoch after the first: excludes tracing and
    validation, includes any wait for the input pipeline."""

    def __init__(self):
        super().__init__()
        self.seconds, self.steps = 0.0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._start, self._batches = epoch, time.perf_counter(), 0

    def on_train_batch_end(self, batch, logs=None):
        self._batches = batch + 1

    def on_test_begin(self, logs=None):
        if self._epoch > 0:
            self.seconds += time.perf_counter() - self._start
            self.steps += self._batches


def _timed_fit(trainer, train, validation, epochs, val_keys):
    timer = _StepTimer()
    history = trainer.fit(train, epochs=epochs + 1, validation_data=validation, verbose=0,
                          callbacks=[timer])
    rate, distortion = (history.history[key][-1] for key in val_keys)
    return timer.seconds / timer.steps, dict(val_rate=rate, val_distortion=distortion)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lmbda", type=float, default=2000.0)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs, after one warm-up")
    parser.add_argument("--examples", type=int, default=12800, help="training digits")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data-dir", default=None, help="IDX folder (default: $MNIST_DATA_DIR)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    common = (args.lmbda, args.epochs, args.examples, args.batch_size, args.data_dir)
    tf.keras.utils.set_random_seed(0)
    baseline_step, baseline_val = tutorial_fit(*common)
    tf.keras.utils.set_random_seed(0)
    package_step, package_val = package_fit(*common)
    results = dict(
        tutorial_steps_per_s=1 / baseline_step,
        package_steps_per_s=1 / package_step,
        speedup=baseline_step / package_step,
        tutorial=baseline_val,
        package=package_val,
        settings=vars(args),
    )
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
