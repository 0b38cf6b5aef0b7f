"""Trained models as portable files: named float32 arrays and a JSON record in one `.npz`.

Introduced with the codec (notebook 04; `python -m mnist_compression.codec export`). Keras' own
weight files do not load across Keras 2 and 3, so a model is stored as plain numpy arrays, one per
kernel, bias and prior scale, named after its layer, beside a JSON record: the format and its
version, λ, the latent size, the architecture the arrays fit, the package and library versions
that wrote it, the training settings and history, and a SHA-256 of the arrays. Any stack reads
what any other wrote; the model cache uses the same files.

`load_model` refuses, with the reason, a file from a newer format version, for another
architecture, with missing or extra arrays, with a checksum that does not match, or with weights
that are not finite.
"""

from __future__ import annotations

import hashlib
import json
import platform
import zipfile
from pathlib import Path

import numpy as np

from .atomic_files import write_atomically

FORMAT = "mnist-compression-model"
VERSION = 1
_RECORD = "record"


class ModelFileError(ValueError):
    """A model file is missing, damaged, or not one this version can read."""


def model_arrays(trainer) -> dict[str, np.ndarray]:
    """The trainer's parameters as named float32 arrays ("synthesis/fc_1/kernel", ...)."""
    arrays = {}
    for prefix, transform in (("analysis", trainer.analysis_transform),
                              ("synthesis", trainer.synthesis_transform)):
        for layer in transform.layers:
            for role, value in zip(("kernel", "bias"), layer.get_weights()):
                arrays[f"{prefix}/{layer.name}/{role}"] = np.asarray(value, np.float32)
    arrays["prior/log_scales"] = np.asarray(trainer.prior_log_scales.numpy(), np.float32)
    return arrays


def arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the arrays' names, shapes and little-endian float32 bytes."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name], "<f4")
        digest.update(f"{name}:{list(array.shape)}:".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _versions() -> dict:
    import tensorflow as tf

    from . import __version__

    return dict(mnist_compression=__version__, python=platform.python_version(),
                tensorflow=tf.__version__,
                keras=str(getattr(tf.keras, "__version__", "2 (tf.keras)")))


def save_model(trainer, path, *, settings=None, history=None, overwrite: bool = False) -> Path:
    """Writes the trainer to `path` (an .npz file) and returns the path.

    `settings` (a TrainingSettings) and `history` (Keras' per-epoch metrics) are recorded with
    it. The file appears complete or not at all; an existing file is kept unless `overwrite`.
    """
    from .models import architecture

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; choose another name or allow overwriting.")
    arrays = model_arrays(trainer)
    bad = [name for name, array in arrays.items() if not np.isfinite(array).all()]
    if bad:
        raise ModelFileError(f"Not saved: the model has non-finite weights in {bad[0]} (training "
                             f"diverged?).")
    record = dict(
        format=FORMAT, version=VERSION, lmbda=float(trainer.lmbda),
        latent_dims=int(trainer.latent_dims), architecture=architecture(trainer.latent_dims),
        arrays={name: list(array.shape) for name, array in arrays.items()},
        sha256=arrays_digest(arrays), written_with=_versions(),
        settings=None if settings is None else settings.as_dict(),
        history=None if history is None else {key: [float(v) for v in values]
                                              for key, values in history.items()},
    )
    return write_atomically(
        path, lambda f: np.savez(f, **arrays, **{_RECORD: np.array(json.dumps(record))}),
        overwrite)


def read_model_file(path) -> tuple[dict, dict[str, np.ndarray]]:
    """The record and the checked arrays of a model file; raises ModelFileError naming the
    problem."""
    from .models import architecture

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {path}." + (
            " It is a folder." if path.is_dir() else ""))
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise ModelFileError(
                f"{path} is not a model file: model files are .npz archives written by "
                f"`python -m mnist_compression.codec export` or `save_model`.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            contents = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise ModelFileError(f"{path} is not a readable model file ({err}); it may be "
                             f"truncated or damaged.") from None
    if _RECORD not in contents:
        raise ModelFileError(f"{path} is an .npz file but not a model file (no record).")
    try:
        record = json.loads(str(contents.pop(_RECORD)))
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{path}: its record is not valid JSON ({err}).") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a {FORMAT} file.")
    if not isinstance(record.get("version"), int) or record["version"] > VERSION:
        raise ModelFileError(
            f"{path} was written in model format {record.get('version')}, newer than the "
            f"format {VERSION} this version of mnist-compression reads; upgrade the package.")
    try:
        expected_architecture = architecture(int(record["latent_dims"]))
    except (KeyError, TypeError, ValueError):
        raise ModelFileError(f"{path}: its record names no valid latent size.") from None
    if record.get("architecture") != expected_architecture:
        raise ModelFileError(f"{path} holds a model of another architecture than this version "
                             f"of mnist-compression builds; it cannot be loaded here.")
    _check_arrays(path, record, contents)
    return record, contents


def _check_arrays(path, record, arrays):
    expected = {name: list(shape) for name, shape in record.get("arrays", {}).items()}
    missing, extra = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
    if missing or extra:
        parts = ([f"missing arrays {missing}"] if missing else []) + (
            [f"unexpected arrays {extra}"] if extra else [])
        raise ModelFileError(f"{path}: {' and '.join(parts)}.")
    for name, shape in expected.items():
        if list(arrays[name].shape) != shape or arrays[name].dtype != np.float32:
            raise ModelFileError(f"{path}: array {name} is {arrays[name].dtype} "
                                 f"{list(arrays[name].shape)}, the record says float32 {shape}.")
    if arrays_digest(arrays) != record.get("sha256"):
        raise ModelFileError(f"{path}: the arrays do not match the checksum in the record; the "
                             f"file is damaged.")
    bad = [name for name, array in arrays.items() if not np.isfinite(array).all()]
    if bad:
        raise ModelFileError(f"{path}: array {bad[0]} holds non-finite values.")


def trainer_from_arrays(record: dict, arrays: dict[str, np.ndarray]):
    """A built MNISTCompressionTrainer with the given parameters."""
    import tensorflow as tf

    from .models import MNISTCompressionTrainer

    trainer = MNISTCompressionTrainer(latent_dims=record["latent_dims"], lmbda=record["lmbda"])
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    for prefix, transform in (("analysis", trainer.analysis_transform),
                              ("synthesis", trainer.synthesis_transform)):
        for layer in transform.layers:
            if layer.get_weights():
                layer.set_weights([arrays[f"{prefix}/{layer.name}/{role}"]
                                   for role in ("kernel", "bias")])
    trainer.prior_log_scales.assign(arrays["prior/log_scales"])
    return trainer


def load_model(path):
    """The trainer stored at `path` by `save_model`, on any stack (`read_model_file` gives its
    record: settings, history, versions)."""
    return trainer_from_arrays(*read_model_file(path))


__all__ = ["FORMAT", "ModelFileError", "VERSION", "load_model", "read_model_file",
           "save_model"]
