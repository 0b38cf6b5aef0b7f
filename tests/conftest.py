"""Shared fixtures: the real MNIST files beside the repository, and small IDX files made here."""

import gzip
import os
import struct
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


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


def make_idx_folder(folder: Path, train: int = 40, test: int = 12, compress: bool = False,
                    seed: int = 0):
    """A folder of four small, random but valid MNIST IDX files; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, count, stem in (("train", train, "train"), ("test", test, "t10k")):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        write_idx(folder / f"{stem}-images-idx3-ubyte", 2051, images, compress)
        write_idx(folder / f"{stem}-labels-idx1-ubyte", 2049, labels, compress)
        arrays[split] = (images, labels)
    return arrays


@pytest.fixture
def tiny_mnist(tmp_path):
    """(folder, arrays) for a small synthetic MNIST in uncompressed IDX files."""
    return tmp_path, make_idx_folder(tmp_path)


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder holding the real MNIST IDX files: $MNIST_DATA_DIR, else ../shared/data/mnist."""
    folder = Path(os.environ.get("MNIST_DATA_DIR") or SHARED_MNIST)
    if not (folder / "train-images-idx3-ubyte.gz").exists() and not (
        folder / "train-images-idx3-ubyte"
    ).exists():
        pytest.skip(f"the real MNIST files are not in {folder}")
    return folder


@pytest.fixture(scope="session")
def test_digits(mnist_dir):
    """The first 64 real test digits, uint8 [64, 28, 28, 1]."""
    from mnist_compression.data import load_mnist_arrays

    return load_mnist_arrays("test", mnist_dir, limit=64)[0]
