"""Times compressing and decompressing the latents of all 10,000 MNIST test digits.

Compares the fallback backend's numpy batch range coder with tensorflow-compression (when it is
installed) on the same tables and latents, and checks the strings are byte-identical. By default
the latents come from a prior shaped like a trained λ=2000 model (most of the 50 latents
collapsed to tiny scales); pass --model-dir to use a cached model from the tutorial instead.

    python benchmarks/range_coder_speed.py
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import tensorflow as tf

from mnist_compression import fallback_entropy_model as fallback


def _best_of(repeats, function):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def _latents_and_scales(args):
    if args.model_dir:
        from mnist_compression.cache import load_trainer
        from mnist_compression.data import load_mnist_arrays

        trainer, _ = load_trainer(args.model_dir)
        digits, _ = load_mnist_arrays("test", args.data_dir)
        y = trainer.analysis_transform(tf.cast(digits, tf.float32) / 255.0).numpy()
        return y, np.exp(trainer.prior_log_scales.numpy())
    rng = np.random.default_rng(0)
    scales = np.where(rng.random(50) < 0.6, rng.uniform(1e-3, 0.05, 50), rng.uniform(0.5, 6, 50))
    return (rng.logistic(size=(args.rows, 50)) * scales).astype(np.float32), scales


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10000, help="digits (synthetic latents)")
    parser.add_argument("--model-dir", help="a cached model folder to take real latents from")
    parser.add_argument("--data-dir", default=None, help="IDX folder (default: $MNIST_DATA_DIR)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    y, scales = _latents_and_scales(args)
    prior = fallback.NoisyLogistic(loc=0.0, scale=scales.astype(np.float32))
    ours = fallback.ContinuousBatchedEntropyModel(prior, coding_rank=1, compression=True)
    y = tf.constant(y)
    results = dict(rows=int(y.shape[0]))
    results["fallback_compress_s"], strings = _best_of(args.repeats, lambda: ours.compress(y))
    results["fallback_decompress_s"], decoded = _best_of(
        args.repeats, lambda: ours.decompress(strings, ()))
    assert np.array_equal(decoded.numpy(), tf.round(y).numpy())
    results["mean_string_bytes"] = float(np.mean([len(s) for s in strings.numpy()]))
    try:
        import tensorflow_compression as tfc
    except ImportError:
        tfc = None
    if tfc is not None:
        real = tfc.ContinuousBatchedEntropyModel(
            tfc.NoisyLogistic(loc=0.0, scale=scales.astype(np.float32)), coding_rank=1,
            compression=True)
        results["tfc_compress_s"], real_strings = _best_of(args.repeats, lambda: real.compress(y))
        results["tfc_decompress_s"], _ = _best_of(
            args.repeats, lambda: real.decompress(real_strings, ()))
        results["byte_identical"] = real_strings.numpy().tolist() == strings.numpy().tolist()
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
