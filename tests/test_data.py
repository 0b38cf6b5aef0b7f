"""The IDX reader and `load_mnist`: hand-made files, the real MNIST files, and every error path."""

import gzip
import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from helpers import make_idx_folder, peak_kib, write_idx

from mnist_compression import data
from mnist_compression.data import MNISTFormatError, load_mnist, load_mnist_arrays, read_idx


@pytest.mark.parametrize("compress", [False, True])
def test_reads_hand_made_files_exactly(tmp_path, compress):
    arrays = make_idx_folder(tmp_path, train=30, test=7, compress=compress)
    for split in ("train", "test"):
        images, labels = load_mnist_arrays(split, tmp_path)
        assert images.shape == (len(arrays[split][0]), 28, 28, 1)
        assert images.dtype == np.uint8 and labels.dtype == np.int64
        np.testing.assert_array_equal(images[..., 0], arrays[split][0])
        np.testing.assert_array_equal(labels, arrays[split][1])


def test_limit_keeps_the_first_examples(tiny_mnist):
    folder, arrays = tiny_mnist
    images, labels = load_mnist_arrays("train", folder, limit=5)
    np.testing.assert_array_equal(images[..., 0], arrays["train"][0][:5])
    np.testing.assert_array_equal(labels, arrays["train"][1][:5])
    assert len(load_mnist_arrays("test", folder, limit=1000)[0]) == len(arrays["test"][0])


def test_dataset_matches_tfds_element_structure(tiny_mnist):
    folder, arrays = tiny_mnist
    dataset = load_mnist("test", data_dir=folder)
    image_spec, label_spec = dataset.element_spec
    assert image_spec == tf.TensorSpec((28, 28, 1), tf.uint8)
    assert label_spec == tf.TensorSpec((), tf.int64)
    assert dataset.cardinality().numpy() == len(arrays["test"][0])
    elements = list(dataset.as_numpy_iterator())
    assert len(elements) == len(arrays["test"][0])
    for (image, label), expected_image, expected_label in zip(elements, *arrays["test"]):
        np.testing.assert_array_equal(image[..., 0], expected_image)
        assert label == expected_label
    limited = load_mnist("test", data_dir=folder, limit=3)
    assert [int(label) for _, label in limited.as_numpy_iterator()] == arrays["test"][1][
        :3].tolist()


def test_environment_variable_names_the_folder(tiny_mnist, monkeypatch):
    folder, arrays = tiny_mnist
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    images, _ = load_mnist_arrays("train")
    np.testing.assert_array_equal(images[..., 0], arrays["train"][0])


@pytest.fixture
def tfds_fallback(monkeypatch):
    """No folder named, MNIST not prepared by tensorflow-datasets but its host reachable; tests
    then replace `tfds.load`, so none touches the network."""
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "tfds_has_mnist", lambda: False)
    monkeypatch.setattr(data, "download_host_reachable", lambda: True)


def _fake_load(calls):
    def load(name, split, as_supervised, batch_size):
        calls.append((name, split, as_supervised, batch_size))
        return tf.zeros((3, 28, 28, 1), tf.uint8), tf.constant([1, 2, 3], tf.int64)
    return load


def test_falls_back_to_tfds_without_a_folder(tfds_fallback, monkeypatch):
    import tensorflow_datasets as tfds

    calls = []
    monkeypatch.setattr(tfds, "load", _fake_load(calls))
    images, labels = load_mnist_arrays("test", limit=3)
    assert calls == [("mnist", "test[:3]", True, -1)]
    assert images.shape == (3, 28, 28, 1) and labels.tolist() == [1, 2, 3]
    assert labels.dtype == np.int64


def test_tfds_import_failures_are_not_blamed_on_the_internet(tfds_fallback, monkeypatch):
    import tensorflow_datasets as tfds

    def missing_module(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'importlib_resources'")

    monkeypatch.setattr(tfds, "load", missing_module)
    with pytest.raises(RuntimeError, match="missing a module.*importlib_resources") as caught:
        load_mnist_arrays("train")
    assert "internet" not in str(caught.value)


def test_tfds_can_prepare_a_download_on_this_stack(tmp_path):
    """Everything tensorflow-datasets imports before it downloads MNIST must be installed (on
    Python 3.13, tfds 4.9.10 needs importlib_resources without declaring it)."""
    import tensorflow_datasets as tfds

    assert tfds.builder("mnist", data_dir=str(tmp_path)).code_path is not None


def test_tfds_failure_says_how_to_work_offline(tfds_fallback, monkeypatch):
    import tensorflow_datasets as tfds

    def unreachable(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'storage.googleapis.com'")

    monkeypatch.setattr(tfds, "load", unreachable)
    with pytest.raises(RuntimeError, match="ConnectionError.*set \\$MNIST_DATA_DIR"):
        load_mnist_arrays("train")


def test_offline_without_a_prepared_mnist_fails_at_once(tfds_fallback, monkeypatch):
    import tensorflow_datasets as tfds

    def no_download(*args, **kwargs):
        raise AssertionError("tfds.load must not be called: it would retry for minutes")

    monkeypatch.setattr(tfds, "load", no_download)
    monkeypatch.setattr(data, "download_host_reachable", lambda: False)
    with pytest.raises(RuntimeError) as caught:
        load_mnist_arrays("train")
    message = str(caught.value)
    assert "\n" not in message and "cannot be reached" in message
    for needed in ("data_dir", "$MNIST_DATA_DIR", "train-images-idx3-ubyte",
                   "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert needed in message


@pytest.mark.parametrize("prepared, reachable", [(True, False), (True, True), (False, True)])
def test_tfds_is_used_when_mnist_is_prepared_or_downloadable(tfds_fallback, monkeypatch,
                                                             prepared, reachable):
    import tensorflow_datasets as tfds

    calls = []
    monkeypatch.setattr(tfds, "load", _fake_load(calls))
    monkeypatch.setattr(data, "tfds_has_mnist", lambda: prepared)
    monkeypatch.setattr(data, "download_host_reachable", lambda: reachable)
    load_mnist_arrays("train")
    assert [call[:2] for call in calls] == [("mnist", "train")]


def test_a_failing_prepared_check_says_what_to_do(tfds_fallback, monkeypatch):
    def broken():
        raise OSError("permission denied: ~/tensorflow_datasets")

    monkeypatch.setattr(data, "tfds_has_mnist", broken)
    with pytest.raises(RuntimeError, match="OSError: permission denied.*set \\$MNIST_DATA_DIR"):
        load_mnist_arrays("train")


def test_the_prepared_check_works_on_this_stack(tmp_path):
    """False for an empty tensorflow-datasets folder, True once MNIST's dataset information is
    written there as tfds writes it when preparing (run afresh: tfds reads TFDS_DATA_DIR when
    it is imported)."""
    code = (
        "import os, tensorflow_datasets as tfds\n"
        "from mnist_compression.data import tfds_has_mnist\n"
        "print(tfds_has_mnist())\n"
        "builder = tfds.builder('mnist')\n"
        "os.makedirs(builder.data_dir, exist_ok=True)\n"
        "builder.info.write_to_directory(builder.data_dir)\n"
        "print(tfds_has_mnist())\n")
    env = dict(os.environ, TFDS_DATA_DIR=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.split() == ["False", "True"], result.stderr
    assert (tmp_path / "mnist").is_dir()


def test_the_real_reachability_check_answers_within_its_time_limit():
    """Online or not, the real check returns a bool (False here, where CI has no internet),
    and no later than its time limit."""
    started = time.monotonic()
    assert data.download_host_reachable(timeout=2) in (True, False)
    assert time.monotonic() - started < 2 + 3  # the time limit, and importing requests


def test_a_hanging_name_lookup_cannot_hold_the_check(monkeypatch):
    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(60)
        raise socket.gaierror("released by the test")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    started = time.monotonic()
    try:
        assert data.download_host_reachable(timeout=0.5) is False
        assert time.monotonic() - started < 30
    finally:
        release.set()


# --- the real files --------------------------------------------------------------------------

# The MD5 sums of the four original (un-gzipped) MNIST files.
ORIGINAL_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


@pytest.mark.parametrize("name", sorted(ORIGINAL_MD5))
def test_the_real_files_are_the_originals(mnist_dir, name):
    path = next(p for p in (mnist_dir / name, mnist_dir / f"{name}.gz") if p.exists())
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    assert hashlib.md5(raw).hexdigest() == ORIGINAL_MD5[name]


@pytest.mark.parametrize("split, count", [("train", 60000), ("test", 10000)])
def test_real_splits_load_completely(mnist_dir, split, count):
    images, labels = load_mnist_arrays(split, mnist_dir)
    assert images.shape == (count, 28, 28, 1) and labels.shape == (count,)
    assert sorted(np.unique(labels)) == list(range(10))
    assert images.min() == 0 and images.max() == 255
    # MNIST digits cover roughly a fifth of the frame with ink.
    assert 0.15 < (images > 0).mean() < 0.25


# --- error paths -----------------------------------------------------------------------------

def test_missing_folder_says_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*MNIST_DATA_DIR.*"
                                                "train-images-idx3-ubyte.*cvdf-datasets"):
        load_mnist_arrays("train", tmp_path / "nowhere")


def test_a_file_instead_of_a_folder_is_named(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="mnist.npz is a file, not a folder"):
        load_mnist_arrays("train", tmp_path / "mnist.npz")


def test_relative_folders_count_from_the_working_directory(tiny_mnist, monkeypatch):
    folder, arrays = tiny_mnist
    monkeypatch.chdir(folder.parent)
    monkeypatch.setenv(data.DATA_DIR_ENV, folder.name)
    np.testing.assert_array_equal(load_mnist_arrays("test")[0][..., 0], arrays["test"][0])
    assert data.resolve_data_dir().is_absolute()


def test_missing_file_is_named(tiny_mnist):
    folder, _ = tiny_mnist
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.*not found"):
        load_mnist_arrays("test", folder)
    load_mnist_arrays("train", folder)  # the other split is still readable


@pytest.mark.parametrize(
    "stem, magic, array, message",
    [
        ("train-images-idx3-ubyte", 2049, np.zeros((4, 28, 28)), "magic 2049, expected 2051"),
        ("train-labels-idx1-ubyte", 2051, np.zeros(4), "magic 2051, expected 2049"),
        ("train-images-idx3-ubyte", 2051, np.zeros((4, 32, 32)), "32x32, expected 28x28"),
        ("train-labels-idx1-ubyte", 2049, np.full(40, 11), "label 11 found"),
    ],
)
def test_malformed_files_are_rejected(tiny_mnist, stem, magic, array, message):
    folder, _ = tiny_mnist
    write_idx(folder / stem, magic, array.astype(np.uint8))
    with pytest.raises(MNISTFormatError, match=message) as caught:
        load_mnist_arrays("train", folder)
    assert stem in str(caught.value)


def test_truncated_file_reports_sizes(tiny_mnist):
    folder, _ = tiny_mnist
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    # 16 header bytes and 40 images of 784 bytes: 31,376 bytes, of which 100 are missing.
    with pytest.raises(MNISTFormatError, match=r"train-images-idx3-ubyte: header promises 40 "
                                               r"examples \(31376 bytes in all\), but the file "
                                               r"has 31276 bytes\.$"):
        load_mnist_arrays("train", folder)
    path.write_bytes(path.read_bytes() + bytes(101))  # one byte too many is as wrong
    with pytest.raises(MNISTFormatError, match=r"\(31376 bytes in all\), but the file has 31377"):
        load_mnist_arrays("train", folder)


def test_header_shorter_than_itself(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(MNISTFormatError, match=r"x: 3 bytes is shorter than the 16-byte IDX "
                                               r"header\.$"):
        read_idx(path, 2051)
    with pytest.raises(MNISTFormatError, match="3 bytes is shorter than the 8-byte IDX header"):
        read_idx(path, 2049)


def test_image_and_label_counts_must_agree(tiny_mnist):
    folder, _ = tiny_mnist
    write_idx(folder / "train-labels-idx1-ubyte", 2049, np.zeros(39, np.uint8))
    with pytest.raises(MNISTFormatError, match="40 images but .* 39 labels"):
        load_mnist_arrays("train", folder)


def test_corrupt_gzip_is_reported(tmp_path):
    make_idx_folder(tmp_path, compress=True)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(MNISTFormatError, match="not a readable gzip file"):
        load_mnist_arrays("train", tmp_path)


@pytest.mark.parametrize("split", ["validation", "TRAIN", ""])
def test_unknown_split(tiny_mnist, split):
    with pytest.raises(ValueError, match="split must be one of"):
        load_mnist_arrays(split, tiny_mnist[0])


@pytest.mark.parametrize("limit", [0, -3, 2.5, True])
def test_bad_limit(tiny_mnist, limit):
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        load_mnist_arrays("train", tiny_mnist[0], limit=limit)


def test_a_gzip_bomb_is_read_only_as_far_as_its_header_promises(tmp_path):
    header = struct.pack(">IIII", 2051, 3, 28, 28)
    honest = write_idx(tmp_path / "honest-images-idx3-ubyte", 2051,
                       np.zeros((3, 28, 28), np.uint8), compress=True)
    bomb = tmp_path / "bomb-images-idx3-ubyte.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:  # 3 promised, 256 MiB of zeros inflated
        f.write(header)
        for _ in range(256):
            f.write(bytes(1 << 20))
    assert bomb.stat().st_size < 1 << 20
    read = "mnist_compression.data:read_idx(PATH, 2051)"
    (honest_peak, no_error), (bomb_peak, error) = peak_kib(read, honest), peak_kib(read, bomb)
    assert no_error == "" and error.endswith(
        "header promises 3 examples (2368 bytes in all), but the file has more than 2368 bytes.")
    assert bomb_peak < honest_peak + 16 * 1024  # not the 256 MiB it inflates to
