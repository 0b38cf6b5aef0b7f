"""Shared fixtures: synthetic digits and IDX files made here, and the real MNIST files if named.

Unit tests use synthetic digits, so a clone of the repository alone runs them. Tests on the real
data set need $MNIST_DATA_DIR (CI sets it) and are skipped with that reason otherwise.
"""

import gzip
import os
import struct
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


def write_idx(path: Path, magic: int, array: np.ndarray, compress: bool = False) -> Path:
    """Writes `array` (uint8) as an IDX file with the given magic number, optionally gzipped."""
    header = struct.pack(f">{1 + array.ndim}I", magic, *array.shape)
    payload = header + np.ascontiguousarray(array, np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


def synthetic_digits(count: int, seed: int = 0) -> np.ndarray:
    """Digit-like uint8 images [count, 28, 28, 1]: a few thick, soft pen strokes on black,
    inked over about a fifth of the frame like MNIST."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float64)
    images = np.zeros((count, 28, 28))
    for image in images:
        for _ in range(rng.integers(1, 4)):
            (r0, c0), (r1, c1) = rng.uniform(5, 23, (2, 2))
            t = np.clip(((rows - r0) * (r1 - r0) + (cols - c0) * (c1 - c0))
                        / max((r1 - r0) ** 2 + (c1 - c0) ** 2, 1e-9), 0, 1)
            distance = np.hypot(rows - (r0 + t * (r1 - r0)), cols - (c0 + t * (c1 - c0)))
            np.maximum(image, np.clip(2.2 - distance, 0, 1), out=image)
    return np.round(images * 255).astype(np.uint8)[..., np.newaxis]


def make_idx_folder(folder: Path, train: int = 40, test: int = 12, compress: bool = False,
                    seed: int = 0):
    """A folder of four small MNIST IDX files of synthetic digits; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, count, stem in (("train", train, "train"), ("test", test, "t10k")):
        images = synthetic_digits(count, seed=seed * 100 + count)[..., 0]
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        write_idx(folder / f"{stem}-images-idx3-ubyte", 2051, images, compress)
        write_idx(folder / f"{stem}-labels-idx1-ubyte", 2049, labels, compress)
        arrays[split] = (images, labels)
    return arrays


def random_tables(rng, channels: int = 12, precision: int = 12):
    """Coding tables for random pmfs of 1-39 bins plus an escape bin, at random offsets."""
    from mnist_compression.coding.tables import tables_from_pmfs

    pmfs, offsets = [], []
    for _ in range(channels):
        length = int(rng.integers(1, 40))
        pmf = rng.dirichlet(np.full(length, rng.uniform(0.05, 3)))
        pmfs.append(np.append(pmf * 0.995, 0.005).astype(np.float32))
        offsets.append(int(rng.integers(-20, 5)))
    return tables_from_pmfs(pmfs, offsets, precision)


@pytest.fixture
def tiny_mnist(tmp_path):
    """(folder, arrays) for a small synthetic MNIST in uncompressed IDX files."""
    return tmp_path, make_idx_folder(tmp_path)


@pytest.fixture(scope="session")
def test_digits():
    """64 synthetic digits, uint8 [64, 28, 28, 1]."""
    return synthetic_digits(64, seed=7)


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder named by $MNIST_DATA_DIR, holding the real MNIST IDX files."""
    chosen = os.environ.get("MNIST_DATA_DIR")
    if not chosen:
        pytest.skip("real MNIST: set MNIST_DATA_DIR to a folder with the four MNIST files")
    folder = Path(chosen).absolute()
    if not any((folder / f"train-images-idx3-ubyte{end}").exists() for end in ("", ".gz")):
        pytest.skip(f"real MNIST: no MNIST files in MNIST_DATA_DIR={chosen}")
    return folder


@pytest.fixture(scope="session")
def real_digits(mnist_dir):
    """The first 256 real test digits, uint8 [256, 28, 28, 1]."""
    from mnist_compression.data import load_mnist_arrays

    return load_mnist_arrays("test", mnist_dir, limit=256)[0]


@pytest.fixture
def model_cache(tmp_path, monkeypatch):
    """An empty model cache for one test."""
    from mnist_compression.storage import cache

    folder = tmp_path / "model-cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    return folder


@pytest.fixture(scope="session")
def small_trainer():
    """An untrained 50-latent trainer whose prior scales spread as after training."""
    import tensorflow as tf

    from mnist_compression.model.autoencoder import MNISTCompressionTrainer

    tf.keras.utils.set_random_seed(1)
    trainer = MNISTCompressionTrainer(latent_dims=50)
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    trainer.prior_log_scales.assign(np.linspace(-4.0, 1.5, 50))
    return trainer


@pytest.fixture
def count_training(monkeypatch):
    """Counts how many models are actually trained (rather than loaded or downloaded)."""
    from mnist_compression import training

    calls = []
    real_train = training.train_model

    def counting_train(settings, *args, **kwargs):
        calls.append(settings.lmbda)
        return real_train(settings, *args, **kwargs)

    monkeypatch.setattr(training, "train_model", counting_train)
    return calls
