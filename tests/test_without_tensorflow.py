"""The codec's command lines run where TensorFlow cannot be imported, with the same bytes.

Each command runs in a fresh Python process in which ``import tensorflow`` (and keras) fails; the
.mnc files and decoded digits must be those the full stack makes in this process.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from helpers import synthetic_digits

from mnist_compression.codec.codecs import compress_to_file
from mnist_compression.model.files import make_codec, save_model
from mnist_compression.model.variable_rate import VariableRateTrainer

NO_TENSORFLOW = ("import sys; sys.modules['tensorflow'] = sys.modules['keras'] = None; "
                 "from mnist_compression.cli.main import main; sys.exit(main(sys.argv[1:]))")


def _run(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NO_TENSORFLOW, *map(str, argv)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def variable_rate_trainer():
    tf.keras.utils.set_random_seed(5)
    trainer = VariableRateTrainer((50, 2000, 10000), lmbda=2000)
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    return trainer


def test_the_guard_really_hides_tensorflow():
    result = subprocess.run([sys.executable, "-c", NO_TENSORFLOW.split("from")[0] +
                             "import tensorflow"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


@pytest.mark.parametrize("command", [[], ["codec"], ["codec", "compress"], ["codec", "decompress"],
                                     ["codec", "info"], ["codec", "export"], ["train"], ["sweep"],
                                     ["release"]])
def test_help_needs_no_tensorflow(command):
    result = _run(*command, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout, result.stderr


@pytest.mark.parametrize("kind, lmbda", [("fixed", None), ("variable", 777.0)])
def test_compress_decompress_and_info_need_no_tensorflow(kind, lmbda, small_trainer,
                                                         variable_rate_trainer, tmp_path):
    trainer = small_trainer if kind == "fixed" else variable_rate_trainer
    save_model(trainer, tmp_path / "model.npz")
    digits = synthetic_digits(20, seed=11)
    np.save(tmp_path / "digits.npy", digits)
    compressor, decompressor = make_codec(trainer).at(lmbda)  # the full stack, in this process
    compress_to_file(compressor, digits, tmp_path / "expected.mnc")

    extra = [] if lmbda is None else ["--lmbda", lmbda]
    result = _run("codec", "compress", "--model", tmp_path / "model.npz", *extra,
                  tmp_path / "digits.npy", "-o", tmp_path / "got.mnc")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "got.mnc").read_bytes() == (tmp_path / "expected.mnc").read_bytes()

    result = _run("codec", "decompress", "--model", tmp_path / "model.npz",
                  tmp_path / "got.mnc", "-o", tmp_path / "decoded.npy")
    assert result.returncode == 0, result.stderr
    expected = decompressor.decompress(compressor.compress(digits))
    np.testing.assert_array_equal(np.load(tmp_path / "decoded.npy"), expected)

    for args in (("got.mnc", "--model", tmp_path / "model.npz"), ("model.npz",)):
        result = _run("codec", "info", tmp_path / args[0], *args[1:])
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["fingerprint"] == compressor.fingerprint.hex()


def test_a_model_file_without_an_array_its_kind_needs_is_refused_in_one_line(
        variable_rate_trainer, tmp_path):
    from mnist_compression.codec.codecs import load_codec
    from mnist_compression.model.files import model_arrays
    from mnist_compression.storage.model_files import ModelFileError, write_model_file

    arrays = model_arrays(variable_rate_trainer)
    del arrays["gains/log_gains"]  # a consistent file, checksum and all, but not a model
    path = write_model_file(tmp_path / "m.npz", arrays, variable_rate_trainer.record(),
                            written_with={})
    with pytest.raises(ModelFileError, match=r"m\.npz: the arrays do not fit the model its "
                                             r"record describes \(missing arrays "
                                             r"\['gains/log_gains'\]\); it is damaged"):
        load_codec(path)
    result = _run("codec", "info", path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr


def test_a_decompressor_built_by_hand_decodes_files_of_its_own_model(small_trainer, tmp_path):
    from mnist_compression.codec.codecs import MNISTDecompressor, decompress_file

    compressor, decompressor = make_codec(small_trainer).at()
    digits = synthetic_digits(5, seed=2)
    compress_to_file(compressor, digits, tmp_path / "d.mnc")
    by_hand = MNISTDecompressor(decompressor.entropy_model, decompressor.transforms,
                                decompressor.fingerprint)
    np.testing.assert_array_equal(decompress_file(by_hand, tmp_path / "d.mnc"),
                                  decompressor.decompress(compressor.compress(digits)))
