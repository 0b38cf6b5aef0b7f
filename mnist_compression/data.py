"""MNIST loading: the four original IDX files from a local folder, or `tfds.load` as a fallback.

Introduced in notebook 01 (transforms). Every loader returns the same element structure as
``tfds.load("mnist", as_supervised=True)``: ``(image uint8 [28, 28, 1], label int64)``. A
relative folder is taken relative to the working directory of the process that reads it.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import struct
import threading
import zlib
from pathlib import Path

import numpy as np

DATA_DIR_ENV = "MNIST_DATA_DIR"
SPLITS = ("train", "test")
IMAGE_SHAPE = (28, 28, 1)

_IMAGE_MAGIC = 2051
_LABEL_MAGIC = 2049
_FILE_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# Where tensorflow-datasets downloads MNIST from (its mnist builder's URL).
DOWNLOAD_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
DOWNLOAD_CHECK_SECONDS = 5.0
FILES_HELP = (
    "The folder must hold the four original MNIST files train-images-idx3-ubyte, "
    "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may end "
    f"in .gz), as published with MNIST and mirrored at {DOWNLOAD_URL}."
)


class MNISTFormatError(ValueError):
    """An IDX file exists but does not hold what MNIST's format promises."""


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """Returns the folder to read IDX files from: `data_dir`, else $MNIST_DATA_DIR, else None;
    a relative path is made absolute against the current working directory."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    return None if chosen is None else Path(chosen).expanduser().absolute()


def _find_file(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"MNIST file {stem}[.gz] not found in {folder}. {FILES_HELP} Point data_dir (or "
        f"${DATA_DIR_ENV}) at such a folder, or leave both unset to download MNIST with "
        f"tensorflow-datasets."
    )


MAX_IDX_BYTES = 1 << 30  # the data of one IDX file: MNIST's largest has 47 MB


def _open(path: Path):
    """The file's bytes as a stream: decompressed when it ends in .gz."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _read_at_most(stream, count: int) -> bytes:
    """Up to `count` bytes, read in pieces, so that memory grows only with what arrives."""
    pieces, left = [], count
    while left > 0:
        piece = stream.read(min(left, 1 << 20))
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


def read_idx(path: str | os.PathLike, magic: int, limit: int | None = None) -> np.ndarray:
    """Reads one MNIST IDX file (2049: labels, 2051: images) into a uint8 array, checking it.

    `limit` keeps only the first examples. Raises MNISTFormatError naming the file and the fault.
    Only what the header promises is read, plus one byte to tell a longer file, so a gzip file
    that inflates far beyond its header costs no more memory than an honest one.
    """
    path = Path(path)
    ndim = {_LABEL_MAGIC: 1, _IMAGE_MAGIC: 3}[magic]
    header_size = 4 + 4 * ndim
    try:
        with _open(path) as stream:
            header = _read_at_most(stream, header_size)
            if len(header) < header_size:
                raise MNISTFormatError(
                    f"{path}: {len(header)} bytes is shorter than the {header_size}-byte IDX "
                    f"header.")
            found_magic, *dims = struct.unpack(f">{1 + ndim}I", header)
            if found_magic != magic:
                kind = "labels" if magic == _LABEL_MAGIC else "images"
                raise MNISTFormatError(
                    f"{path}: magic {found_magic}, expected {magic} (IDX {kind}, uint8).")
            if ndim == 3 and tuple(dims[1:]) != IMAGE_SHAPE[:2]:
                raise MNISTFormatError(f"{path}: images are {dims[1]}x{dims[2]}, expected 28x28.")
            size = int(np.prod(dims, dtype=np.int64))
            if size > MAX_IDX_BYTES:
                raise MNISTFormatError(
                    f"{path}: header promises {dims[0]:,} examples ({size:,} bytes), more than "
                    f"an IDX file read here may hold ({MAX_IDX_BYTES:,}).")
            payload = _read_at_most(stream, size + 1)
    except (OSError, EOFError, zlib.error) as err:
        raise MNISTFormatError(f"{path}: not a readable {'gzip ' if path.suffix == '.gz' else ''}"
                               f"file ({err}).") from None
    if len(payload) != size:
        found = (f"{header_size + len(payload)} bytes" if len(payload) <= size else
                 f"more than {header_size + size} bytes" if path.suffix == ".gz" else
                 f"{path.stat().st_size} bytes")
        raise MNISTFormatError(
            f"{path}: header promises {dims[0]} examples ({header_size + size} bytes in all), "
            f"but the file has {found}.")
    count = dims[0] if limit is None else min(limit, dims[0])
    data = np.frombuffer(payload, np.uint8, count=count * int(np.prod(dims[1:])))
    return data.reshape(count, *dims[1:])


def read_idx_split(
    folder: str | os.PathLike, split: str, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Reads one split from a folder of IDX files: images [N, 28, 28, 1] uint8, labels [N] int64."""
    folder = Path(folder)
    if folder.is_file():
        raise NotADirectoryError(
            f"The MNIST data path {folder} is a file, not a folder. {FILES_HELP}")
    if not folder.is_dir():
        raise FileNotFoundError(
            f"MNIST folder {folder} does not exist (relative paths count from the working "
            f"directory, {Path.cwd()}). Pass data_dir (or set ${DATA_DIR_ENV}) to a folder with "
            f"the four IDX files, or leave both unset to use tensorflow-datasets. {FILES_HELP}"
        )
    image_stem, label_stem = _FILE_STEMS[_check_split(split)]
    image_path, label_path = _find_file(folder, image_stem), _find_file(folder, label_stem)
    images = read_idx(image_path, _IMAGE_MAGIC, limit)
    labels = read_idx(label_path, _LABEL_MAGIC, limit)
    if len(images) != len(labels):
        raise MNISTFormatError(
            f"{image_path} holds {len(images)} images but {label_path} holds {len(labels)} labels."
        )
    if labels.size and labels.max() > 9:
        raise MNISTFormatError(f"{label_path}: label {labels.max()} found, expected digits 0-9.")
    return images[..., np.newaxis], labels.astype(np.int64)


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    return split


def _check_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}.")
    return limit


def load_mnist_arrays(
    split: str, data_dir: str | os.PathLike | None = None, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Loads a split into memory as numpy arrays (images [N, 28, 28, 1] uint8, labels [N] int64).

    Reads IDX files from `data_dir` or $MNIST_DATA_DIR when either is set, else uses `tfds.load`
    (and fails at once, saying what to do, when MNIST is neither prepared locally nor
    downloadable). `limit` keeps the first `limit` examples, for quick runs.
    """
    _check_split(split)
    _check_limit(limit)
    folder = resolve_data_dir(data_dir)
    if folder is not None:
        return read_idx_split(folder, split, limit)
    return _load_with_tfds(split, limit)


def _load_with_tfds(split: str, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """`tfds.load`, unless MNIST is neither prepared locally nor downloadable: then a one-line
    error at once, instead of the downloader's minutes of retries."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as err:
        raise RuntimeError(
            f"tensorflow-datasets does not import ({type(err).__name__}: {err}), so MNIST "
            f"cannot be downloaded; reinstall this package's dependencies, or pass data_dir (or "
            f"set ${DATA_DIR_ENV}) to a local folder. {FILES_HELP}"
        ) from err
    with _tfds_errors():
        available = tfds_has_mnist() or download_host_reachable()
    if not available:
        raise RuntimeError(
            f"MNIST is not in tensorflow-datasets' local data folder and its download host "
            f"({DOWNLOAD_URL}) cannot be reached (no internet?); pass data_dir (or set "
            f"${DATA_DIR_ENV}) to a local folder instead. {FILES_HELP}"
        )
    with _tfds_errors():
        loaded = tfds.load("mnist", split=split if limit is None else f"{split}[:{limit}]",
                           as_supervised=True, batch_size=-1)
    images, labels = tfds.as_numpy(loaded)
    return images, labels.astype(np.int64)


@contextlib.contextmanager
def _tfds_errors():
    """Turns whatever tensorflow-datasets raises into a RuntimeError saying what to do."""
    try:
        yield
    except ImportError as err:  # tfds imports some modules only when it first downloads
        raise RuntimeError(
            f"tensorflow-datasets is missing a module it needs to download MNIST "
            f"({type(err).__name__}: {err}); install it, or pass data_dir (or set "
            f"${DATA_DIR_ENV}) to a local folder. {FILES_HELP}"
        ) from err
    except Exception as err:  # tfds raises many types (ConnectionError, DownloadError, ...)
        raise RuntimeError(
            f"tensorflow-datasets could not download MNIST ({type(err).__name__}: {err}). "
            f"Without internet access, pass data_dir (or set ${DATA_DIR_ENV}) to a folder with "
            f"the four MNIST IDX files. {FILES_HELP}"
        ) from err


def tfds_has_mnist() -> bool:
    """Whether tensorflow-datasets has MNIST prepared in its local data folder, so that
    `tfds.load` needs no download."""
    import tensorflow_datasets as tfds

    return bool(tfds.builder("mnist").is_prepared())


def download_host_reachable(timeout: float = DOWNLOAD_CHECK_SECONDS) -> bool:
    """Whether the host tensorflow-datasets downloads MNIST from answers a HEAD request within
    `timeout` seconds. Runs in a daemon thread, since a hanging DNS lookup ignores timeouts."""
    import requests  # what tensorflow-datasets downloads with: same proxies and certificates

    answered = []

    def ask():
        with contextlib.suppress(Exception):  # no answer, for whatever reason: not reachable
            requests.head(DOWNLOAD_URL, timeout=timeout, allow_redirects=False)
            answered.append(True)

    thread = threading.Thread(target=ask, name="mnist-download-check", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answered)


def load_mnist(split: str, data_dir: str | os.PathLike | None = None, limit: int | None = None):
    """Returns a split as a `tf.data.Dataset` of (image uint8 [28, 28, 1], label int64).

    Same sources and `limit` as `load_mnist_arrays`; the elements match
    ``tfds.load("mnist", split=split, as_supervised=True)``.
    """
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(load_mnist_arrays(split, data_dir, limit))

__all__ = ["DATA_DIR_ENV", "DOWNLOAD_URL", "FILES_HELP", "MNISTFormatError",
           "download_host_reachable", "load_mnist", "load_mnist_arrays", "read_idx",
           "read_idx_split", "resolve_data_dir", "tfds_has_mnist"]
