"""Times the codec's command line as a user runs it: each command a fresh process.

    python benchmarks/command_line_speed.py [--repeats 3] [--before ../old-checkout]

Prints, per command, the fewest and the median seconds over `--repeats` runs: `import numpy`
and `import tensorflow` alone, `codec --help`, and compressing and decompressing 1 and 10,000
digits with an (untrained) model of the tutorial's architecture. `--before` names a checkout of
an earlier version, whose `python -m mnist_compression.codec` is timed on the same files.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _seconds(command: list[str], env: dict, repeats: int, cwd: Path) -> tuple[float, float]:
    """The fewest and the median seconds of `repeats` runs (from `cwd`, so that the package is
    the one the environment names, not a source tree in the current folder)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode:
            sys.exit(f"{' '.join(command)} failed: {result.stderr.strip().splitlines()[-1]}")
    return min(times), statistics.median(times)


def _model(folder: Path) -> Path:
    import tensorflow as tf

    from mnist_compression.model.autoencoder import MNISTCompressionTrainer
    from mnist_compression.model.files import save_model

    tf.keras.utils.set_random_seed(0)
    trainer = MNISTCompressionTrainer()
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    return save_model(trainer, folder / "model.npz")


def _commands(prefix: list[str], folder: Path, tag: str) -> dict:
    model = str(folder / "model.npz")
    commands = {"codec --help": [*prefix, "--help"]}
    for count in (1, 10_000):
        digits, coded = str(folder / f"{count}.npy"), str(folder / f"{tag}{count}.mnc")
        commands[f"compress {count:,}"] = [*prefix, "compress", "--model", model, digits, "-o",
                                           coded, "--force", "--quiet"]
        commands[f"decompress {count:,}"] = [*prefix, "decompress", "--model", model, coded,
                                             "-o", str(folder / f"{tag}{count}.out.npy"),
                                             "--force", "--quiet"]
    return commands


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", type=Path, help="a checkout of an earlier version")
    args = parser.parse_args(argv)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _model(folder)
        rng = np.random.default_rng(0)
        for count in (1, 10_000):
            np.save(folder / f"{count}.npy", rng.integers(0, 256, (count, 28, 28, 1), np.uint8))
        rows = {"import numpy": [sys.executable, "-c", "import numpy"],
                "import tensorflow": [sys.executable, "-c", "import tensorflow"]}
        runs = [("this version", rows | _commands(
            [sys.executable, "-m", "mnist_compression", "codec"], folder, "new"), env)]
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])  # this checkout
        if args.before:
            before_env = dict(env, PYTHONPATH=str(args.before.resolve()))
            runs.append(("before", _commands([sys.executable, "-m", "mnist_compression.codec"],
                                             folder, "old"), before_env))
        print(f"{'command':<22} {'version':<14} {'fewest s':>9} {'median s':>9}")
        for version, commands, environment in runs:
            for label, command in commands.items():
                low, middle = _seconds(command, environment, args.repeats, folder)
                print(f"{label:<22} {version:<14} {low:9.2f} {middle:9.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
