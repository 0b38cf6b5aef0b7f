"""Shared fixtures: synthetic digits and IDX files (made by `helpers`), and the real MNIST files
if named.

Unit tests use synthetic digits, so a clone of the repository alone runs them. Tests on the real
data set need $MNIST_DATA_DIR (CI sets it) and are skipped with that reason otherwise.
"""

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from helpers import make_idx_folder, synthetic_digits

matplotlib.use("Agg")

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


@pytest.fixture(scope="session")
def small_hyperprior():
    """An untrained hyperprior trainer (50 latents, 8 side latents) whose latents, side
    latents and scale indexes spread over their ranges, every grid index included."""
    import tensorflow as tf

    from mnist_compression.model.hyperprior import HyperpriorTrainer

    tf.keras.utils.set_random_seed(1)
    trainer = HyperpriorTrainer(latent_dims=50, hyper_latent_dims=8)
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    trainer.prior_log_scales.assign(np.linspace(-1.0, 2.0, 8))
    for transform, factor, bias in ((trainer.analysis_transform, 40, None),
                                    (trainer.hyper_analysis_transform, 4, None),
                                    (trainer.hyper_synthesis_transform, 3, np.linspace(2, 60, 50))):
        layer = transform.layers[-1]
        kernel, old_bias = layer.get_weights()
        layer.set_weights([kernel * factor, old_bias if bias is None else bias.astype(np.float32)])
    return trainer
