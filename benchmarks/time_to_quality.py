"""Wall time to the original tutorial's final loss: the original recipe against the fast one.

For each λ, in one run on one machine:

1. the original recipe (15 epochs, constant Adam 1e-3, batch 128) trains to the end; its final
   validation loss, rate + λ·distortion on the 10,000 test digits, is the target;
2. the fast recipe (`TrainingSettings.from_recipe("fast")`) trains until its validation loss
   first reaches that target.

Both are checked on the validation digits every quarter epoch (the clock stops while they are
checked), so each time is when the recipe first reached the target. Both use this package's
trainer and input pipeline: only the recipe differs. The script prints, per λ, the wall-time
ratio, the steps, rate and distortion at the target, and the GFLOP/s achieved against a float32
matrix-multiplication peak measured in the same run.

    python benchmarks/time_to_quality.py --lambdas 2000 500 300 --json build/time_to_quality.json

With ``--warm-starts`` it measures warm starts instead (`TrainingSettings.warm_start`): for each
λ of the sweep below the highest, a model starts from the original recipe's model for the next
higher λ (from the model cache, trained there if missing) and trains at the original constant
rate, with the prior's own rate 1 and 30 times that (the fast recipe's factor), until its
validation loss is within 1% of the from-scratch model's final loss and its rate and distortion
within 5% (or `--max-epochs` pass). It prints the epochs that took against the 15 from scratch.

    python benchmarks/time_to_quality.py --warm-starts --json build/warm_starts.json
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import tensorflow as tf

from mnist_compression.data import load_mnist_arrays
from mnist_compression.lambdas import STUDY_LAMBDAS
from mnist_compression.model.autoencoder import MNISTCompressionTrainer
from mnist_compression.settings import TrainingSettings
from mnist_compression.training import (
    digit_batches,
    final_metrics,
    load_training_data,
    make_trainer,
    train_model,
    train_or_load,
)

LOSS_TOLERANCE, METRIC_TOLERANCE = 0.01, 0.05  # "within 1% of the loss, 5% of rate/distortion"


def matmul_peak(size: int = 2048, repeats: int = 20) -> float:
    """GFLOP/s of a large float32 matrix product, the best of several."""
    a = tf.random.normal((size, size))
    product = tf.function(lambda a: tf.matmul(a, a))
    product(a).numpy()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        product(a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def forward_flops_per_digit(latent_dims: int = 50) -> float:
    """Multiply-adds of both transforms for one digit, times 2."""
    trainer = MNISTCompressionTrainer(latent_dims=latent_dims)
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    macs = 0
    for transform, x in ((trainer.analysis_transform, tf.zeros((1, 28, 28, 1))),
                         (trainer.synthesis_transform, tf.zeros((1, latent_dims)))):
        for layer in transform.layers:
            y = layer(x)
            weights = layer.get_weights()
            kind = type(layer).__name__
            if kind == "Dense":
                macs += weights[0].size
            elif kind == "Conv2D":  # every output pixel sees the whole kernel
                macs += weights[0].size * y.shape[1] * y.shape[2]
            elif kind == "Conv2DTranspose":  # every input pixel meets the whole kernel
                macs += weights[0].size * x.shape[1] * x.shape[2]
            x = y
    return 2.0 * macs


class QualityCheck(tf.keras.callbacks.Callback):
    """Checks the validation loss every `every` steps with the clock stopped; stops training
    once it reaches `target` (if given). Records (seconds, steps, loss, rate, distortion)."""

    def __init__(self, validation, every: int, lmbda: float, target: float | None = None):
        super().__init__()
        self.validation, self.every, self.lmbda, self.target = validation, every, lmbda, target
        self.records, self.seconds, self.steps = [], 0.0, 0

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds += time.perf_counter() - self._start
        self.steps += 1
        if self.steps % self.every:
            return
        rate, distortion = self._validate()
        loss = rate + self.lmbda * distortion
        self.records.append(dict(seconds=self.seconds, steps=self.steps, loss=loss, rate=rate,
                                 distortion=distortion))
        if self.target is not None and loss <= self.target:
            self.model.stop_training = True

    def _validate(self):
        totals = np.zeros(2)
        count = 0
        for images in self.validation:
            outputs = self._evaluate(images)
            totals += [float(tf.reduce_sum(outputs["rate"])),
                       float(tf.reduce_sum(outputs["distortion"]))]
            count += int(images.shape[0])
        return tuple(totals / count)

    @tf.function
    def _evaluate(self, images):
        return self.model(images, training=False)


def run(settings, train, validation, checks_per_epoch, target=None):
    steps_per_epoch = math.ceil(len(train) / settings.batch_size)
    tf.keras.utils.set_random_seed(settings.seed)
    trainer = make_trainer(settings, steps_per_epoch)
    check = QualityCheck(digit_batches(validation, 1000).cache(),
                         max(1, steps_per_epoch // checks_per_epoch), settings.lmbda, target)
    trainer.fit(digit_batches(train, settings.batch_size, settings.seed), epochs=settings.epochs,
                verbose=0, callbacks=[check])
    return check


def first_reaching(records, target):
    return next((r for r in records if r["loss"] <= target), None)


def close_to(metrics: dict, target: dict) -> bool:
    """Whether validation `metrics` are within the tolerances of the from-scratch `target`."""
    return (metrics["val_loss"] <= (1 + LOSS_TOLERANCE) * target["val_loss"] and all(
        abs(metrics[name] - target[name]) <= METRIC_TOLERANCE * abs(target[name])
        for name in ("val_rate", "val_distortion")))


def _change(value: float, reference: float) -> str:
    return f"{value / reference - 1:+.1%}" if reference else f"{value:+.3g} from 0"


class StopWhenClose(tf.keras.callbacks.Callback):
    """Stops training after the first epoch whose validation metrics are close to `target`."""

    def __init__(self, target: dict):
        super().__init__()
        self.target = target

    def on_epoch_end(self, epoch, logs=None):
        if close_to(logs, self.target):
            self.model.stop_training = True


def warm_start_study(lambdas, factors, max_epochs: int, data_dir) -> list[dict]:
    """Per λ (but the highest) and prior factor: the warm start's per-epoch validation metrics
    and the epochs it needed to come close to the from-scratch model."""
    base = TrainingSettings(data_dir=data_dir)
    data = load_training_data(base)
    rows = []
    ordered = sorted(lambdas, reverse=True)
    for higher, lmbda in zip(ordered, ordered[1:]):
        _, scratch = train_or_load(base.replace(lmbda=lmbda), data=data, verbose=0)
        start, _ = train_or_load(base.replace(lmbda=higher), data=data, verbose=0)
        target = final_metrics(scratch)
        for factor in factors:
            settings = base.replace(lmbda=lmbda, epochs=max_epochs, warm_start=higher,
                                    prior_lr_factor=factor)
            _, history = train_model(settings, data=data, start_from=start, verbose=0,
                                     callbacks=[StopWhenClose(target)])
            epochs = [dict(epoch=i + 1, **{key: history[key][i] for key in target})
                      for i in range(len(history["val_loss"]))]
            reached = close_to(epochs[-1], target)
            row = dict(lmbda=lmbda, start=higher, prior_lr_factor=factor, scratch=target,
                       scratch_epochs=base.epochs, epochs=epochs,
                       epochs_needed=len(epochs) if reached else None,
                       seconds_per_epoch=sum(history["seconds"]) / len(epochs))
            rows.append(row)
            last = epochs[-1]
            print(f"λ={lmbda:g} from λ={higher:g}, prior ×{factor:g}: "
                  + (f"close after {len(epochs)} epochs" if reached
                     else f"not close after {len(epochs)} epochs")
                  + f" (loss {last['val_loss']:.2f} vs {target['val_loss']:.2f}, "
                  f"{_change(last['val_loss'], target['val_loss'])}; rate "
                  f"{_change(last['val_rate'], target['val_rate'])}, distortion "
                  f"{_change(last['val_distortion'], target['val_distortion'])})", flush=True)
    return rows


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lambdas", type=float, nargs="+", default=None,
                        help="default: 2000 500 300; with --warm-starts, the sweep's λ")
    parser.add_argument("--checks-per-epoch", type=int, default=4)
    parser.add_argument("--warm-starts", action="store_true",
                        help="measure warm starts from the next higher λ instead")
    parser.add_argument("--prior-factors", type=float, nargs="+", default=[1.0, 30.0],
                        help="with --warm-starts: the prior's learning-rate factors to try")
    parser.add_argument("--max-epochs", type=int, default=15,
                        help="with --warm-starts: give up after this many epochs")
    parser.add_argument("--data-dir", default=None, help="IDX folder (default: $MNIST_DATA_DIR)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.warm_starts:
        rows = warm_start_study(args.lambdas or STUDY_LAMBDAS, args.prior_factors,
                                args.max_epochs, args.data_dir)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(dict(warm_starts=rows), f, indent=2)
        return dict(warm_starts=rows)
    args.lambdas = args.lambdas or [2000.0, 500.0, 300.0]
    train, _ = load_mnist_arrays("train", args.data_dir)
    validation, _ = load_mnist_arrays("test", args.data_dir)
    peak = matmul_peak()
    train_flops = 3 * forward_flops_per_digit()  # forward, and backward at about twice that
    results = dict(matmul_peak_gflops=peak, training_mflop_per_digit=train_flops / 1e6, runs=[])
    for lmbda in args.lambdas:
        original = TrainingSettings.from_recipe("original", lmbda=lmbda, data_dir=args.data_dir)
        fast = TrainingSettings.from_recipe("fast", lmbda=lmbda, data_dir=args.data_dir)
        baseline = run(original, train, validation, args.checks_per_epoch)
        target = baseline.records[-1]["loss"]
        baseline_hit = first_reaching(baseline.records, target)
        recipe = run(fast, train, validation, args.checks_per_epoch, target)
        recipe_hit = first_reaching(recipe.records, target) or dict(recipe.records[-1],
                                                                    reached=False)
        # The same comparison at the quality the fast recipe reached, in case it fell short.
        reached = min(r["loss"] for r in recipe.records)
        equal = first_reaching(baseline.records, reached)
        row = dict(lmbda=lmbda, target_loss=target, original=baseline_hit, fast=recipe_hit,
                   original_final=baseline.records[-1],
                   time_ratio=recipe_hit["seconds"] / baseline_hit["seconds"],
                   speedup=baseline_hit["seconds"] / recipe_hit["seconds"],
                   fast_best_loss=reached, original_at_fast_best=equal,
                   curves=dict(original=baseline.records, fast=recipe.records))
        for name, check in (("original", baseline), ("fast", recipe)):
            row[f"{name}_gflops"] = (check.steps * original.batch_size * train_flops
                                     / check.seconds / 1e9)
        row["rate_change"] = recipe_hit["rate"] / row["original_final"]["rate"] - 1
        row["distortion_change"] = (recipe_hit["distortion"]
                                    / row["original_final"]["distortion"] - 1)
        results["runs"].append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "curves"}), flush=True)
    print(f"matmul peak {peak:.0f} GFLOP/s; training {train_flops / 1e6:.1f} MFLOP per digit")
    for row in results["runs"]:
        equal = row["original_at_fast_best"]
        print(f"λ={row['lmbda']:g}: the fast recipe's best loss {row['fast_best_loss']:.2f} took "
              f"the original {equal['seconds']:.0f} s ({equal['steps']} steps)")
        reached = row["fast"].get("reached", True)
        print(f"λ={row['lmbda']:g}: target loss {row['target_loss']:.2f}; original "
              f"{row['original']['seconds']:.0f} s ({row['original']['steps']} steps), fast "
              f"{row['fast']['seconds']:.0f} s ({row['fast']['steps']} steps"
              f"{'' if reached else ', target NOT reached'}): {row['speedup']:.2f}x less time; "
              f"rate {row['rate_change']:+.1%}, distortion {row['distortion_change']:+.1%}; "
              f"{row['original_gflops']:.0f} / {row['fast_gflops']:.0f} GFLOP/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
