"""Compares mnist_compression.coding.tf_float32 with TensorFlow 2.14 on every float32 input.

Run it on the Python 3.11 stack (TF 2.14); it takes about 12 minutes on a 2-core CPU:

    .venv/bin/python tools/check_tf_float32.py            # exp and sigmoid, all 2**32 inputs
    .venv/bin/python tools/check_tf_float32.py --quick    # 2**28 inputs spread over all of them

Every bit pattern is fed, in tensors of 2**24 elements (whole packets, so `exp` runs Eigen's
vectorised code), to `tf.exp` and `tf.sigmoid` and to the numpy versions; any input whose result
differs in any bit is printed. tests/test_tf_float32.py repeats a sample of this in every run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every 16th bit pattern only")
    args = parser.parse_args(argv)
    import tensorflow as tf

    from mnist_compression.coding import tf_float32 as f32

    if not tf.__version__.startswith("2.14."):
        raise SystemExit(f"This compares with TensorFlow 2.14; found {tf.__version__}.")
    chunk, stride = 1 << 24, 16 if args.quick else 1
    differences = {}
    for name, ours, theirs in (("exp", f32.eigen_exp, tf.exp), ("sigmoid", f32.sigmoid,
                                                                 tf.sigmoid)):
        start, found = time.perf_counter(), 0
        for first in range(0, 1 << 32, chunk * stride):
            bits = np.arange(first, first + chunk * stride, stride, dtype=np.uint64)
            x = bits.astype(np.uint32).view(np.float32)
            a, b = ours(x).view(np.uint32), theirs(x).numpy().view(np.uint32)
            differ = (a != b) & ~np.isnan(x)
            found += int(differ.sum())
            for value in x[differ][:5]:
                print(f"{name}({value!r}): ours {a[x == value][0]:#010x}, "
                      f"TF {b[x == value][0]:#010x}")
        differences[name] = found
        print(f"{name}: {found} differences in {(1 << 32) // stride:,} inputs "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    return 1 if any(differences.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
