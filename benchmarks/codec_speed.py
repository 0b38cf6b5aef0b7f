"""Times the codec on the 10,000 MNIST test digits, stage by stage.

Stages: building the coding tables, the integer analysis transform, range coding, range
decoding, the integer synthesis transform; and, for comparison, the float32 TensorFlow
transforms. Takes a model file
(`python -m mnist_compression codec export ...`) or trains nothing and uses an untrained model
whose prior is shaped like a trained one.

    python benchmarks/codec_speed.py --model model.npz
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import tensorflow as tf

from mnist_compression.data import load_mnist_arrays
from mnist_compression.model.autoencoder import MNISTCompressionTrainer
from mnist_compression.model.files import load_model, make_mnist_codec


def _best_of(repeats, function):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def _model(path):
    if path:
        return load_model(path)
    trainer = MNISTCompressionTrainer()
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    rng = np.random.default_rng(0)
    trainer.prior_log_scales.assign(np.log(np.where(rng.random(50) < 0.6, 0.01, 3.0)))
    return trainer


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a model file (default: an untrained model)")
    parser.add_argument("--data-dir", default=None, help="IDX folder (default: $MNIST_DATA_DIR)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    trainer = _model(args.model)
    digits, _ = load_mnist_arrays("test", args.data_dir)
    results = dict(tensorflow=tf.__version__, digits=len(digits))
    results["tables_s"], (compressor, decompressor) = _best_of(
        args.repeats, lambda: make_mnist_codec(trainer))
    transforms, entropy_model = compressor.transforms, compressor.entropy_model
    results["analysis_integer_s"], latents = _best_of(
        args.repeats, lambda: transforms.latents(digits))
    results["range_encode_s"], strings = _best_of(
        args.repeats, lambda: entropy_model.encode_symbols(latents))
    results["range_decode_s"], decoded = _best_of(
        args.repeats, lambda: entropy_model.decode_symbols(strings))
    assert np.array_equal(decoded, latents)
    results["synthesis_integer_s"], _ = _best_of(
        args.repeats, lambda: transforms.digits(latents))
    x = tf.cast(digits, tf.float32) / 255.0
    results["analysis_float32_s"], _ = _best_of(
        args.repeats, lambda: trainer.analysis_transform.predict(x, batch_size=1000, verbose=0))
    results["synthesis_float32_s"], _ = _best_of(args.repeats, lambda: trainer.synthesis_transform
                                                 .predict(latents.astype(np.float32),
                                                          batch_size=1000, verbose=0))
    results["mean_string_bytes"] = float(np.mean([len(s) for s in strings]))
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
