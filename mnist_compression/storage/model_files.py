"""Trained models as portable files: named float32 arrays and a JSON record in one `.npz`.

Introduced with the codec (notebook 04; `mnist-compression codec export`); the layout is specified
in `docs/file-formats.md`. Keras' own weight files do not load across Keras 2 and 3, so a model is
stored as plain numpy arrays, one per kernel, bias and prior scale, named after its layer, beside
a JSON record: the format and its version, λ, the latent size, the architecture the arrays fit,
the package and library versions that wrote it, the training settings and history, and a SHA-256
that covers the arrays and (from version 2 on) the rest of the record. Any stack reads what any
other wrote; the model cache uses the same files. This module reads and writes them in numpy
alone, so the codec decodes without TensorFlow; `model.files` turns a trainer into arrays and
back.

`read_model_file` checks the checksum before it judges the version, so a damaged file is reported
as damaged rather than as newer; then it refuses, with the reason, a record field of the wrong
type or range, a file from a newer format version, for another architecture, with missing or
extra arrays, or with weights that are not finite.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np

from ..architecture import architecture
from ..atomic_files import refuse_existing, write_atomically
from ..hashing import json_sha256, named_float32_sha256

FORMAT = "mnist-compression-model"
VERSION = 3  # 3 adds `levels`, the rate levels of a variable-rate model (notebook 08)
_FIXED_RATE_VERSION = 2  # what a model of one λ is still written as: every release reads it
_RECORD = "record"
_SHA256_HEX = re.compile("[0-9a-f]{64}")


class ModelFileError(ValueError):
    """A model file is missing, damaged, or not one this version can read."""


def model_kind(record: dict) -> str:
    """The kind of model a (checked) record describes: "variable-rate" when it has rate levels
    (version 3 on), else "fixed-rate"; `codec.CODECS` has each kind's codec."""
    return "variable-rate" if "levels" in record else "fixed-rate"


def write_model_file(path, arrays: dict[str, np.ndarray], *, lmbda: float, latent_dims: int,
                     written_with: dict, levels=None, settings: dict | None = None,
                     history: dict | None = None, overwrite: bool = False) -> Path:
    """Writes named float32 `arrays` and their record to `path` (an .npz file); returns the path.

    A model with rate `levels` is written as version 3, any other as version 2, which every
    release reads. The file appears complete or not at all; an existing file is kept unless
    `overwrite`."""
    refuse_existing(path, overwrite)
    arrays = {name: np.asarray(array, np.float32) for name, array in arrays.items()}
    bad = [name for name, array in arrays.items() if not np.isfinite(array).all()]
    if bad:
        raise ModelFileError(f"Not saved: the model has non-finite weights in {bad[0]} (training "
                             f"diverged?).")
    levels = None if levels is None else [float(v) for v in levels]
    record = json.loads(json.dumps(dict(  # as a reader parses it: what the checksum covers
        format=FORMAT, version=_FIXED_RATE_VERSION if levels is None else VERSION,
        lmbda=float(lmbda), latent_dims=int(latent_dims),
        architecture=architecture(int(latent_dims)),
        arrays={name: list(array.shape) for name, array in arrays.items()},
        written_with=written_with, settings=settings,
        history=None if history is None else {key: [float(v) for v in values]
                                              for key, values in history.items()},
        **({} if levels is None else dict(levels=levels)),
    )))
    record["sha256"] = _checksum(record, arrays)
    _check_fields(f"Not saved: {path}", record)
    return write_atomically(
        path, lambda f: np.savez(f, **arrays, **{_RECORD: np.array(json.dumps(record))}),
        overwrite)


def read_model_file(path) -> tuple[dict, dict[str, np.ndarray]]:
    """The record and the checked arrays of a model file; raises ModelFileError naming the
    problem."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {path}." + (
            " It is a folder." if path.is_dir() else ""))
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise ModelFileError(
                f"{path} is not a model file: model files are .npz archives written by "
                f"`python -m mnist_compression codec export` or `save_model`.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            contents = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, MemoryError) as err:
        raise ModelFileError(f"{path} is not a readable model file ({err}); it may be "
                             f"truncated or damaged.") from None
    odd = [name for name, value in contents.items() if not isinstance(value, np.ndarray)]
    if odd:
        raise ModelFileError(f"{path}: member {odd[0]} is not a numpy array; the file is "
                             f"damaged.")
    if _RECORD not in contents:
        raise ModelFileError(f"{path} is an .npz file but not a model file (no record).")
    try:
        record = json.loads(str(contents.pop(_RECORD)))
    except (ValueError, RecursionError) as err:  # invalid, too deeply nested or too long a number
        reason = " ".join(str(err).split())[:120] or type(err).__name__
        raise ModelFileError(f"{path}: its record is not valid JSON ({reason}).") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a {FORMAT} file.")
    _check_integrity(path, record, contents)
    _check_fields(path, record)
    if record["architecture"] != architecture(record["latent_dims"]):
        raise ModelFileError(f"{path} holds a model of another architecture than this version "
                             f"of mnist-compression builds; it cannot be loaded here.")
    bad = [name for name, array in contents.items() if not np.isfinite(array).all()]
    if bad:
        raise ModelFileError(f"{path}: array {bad[0]} holds non-finite values.")
    return record, contents


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_shapes(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(shape, list) and all(_is_int(n) and n >= 0 for n in shape)
        for shape in value.values())


def _is_history(value) -> bool:
    return value is None or (isinstance(value, dict) and all(
        isinstance(values, list) and all(_is_number(v) and not math.isinf(v) for v in values)
        for values in value.values()))


# Every field of a record: a test of its value, and what the test expects (for messages).
_FIELDS = {
    "format": (lambda v: v == FORMAT, json.dumps(FORMAT)),
    "version": (lambda v: _is_int(v) and v >= 1, "a positive integer"),
    "lmbda": (lambda v: _is_number(v) and math.isfinite(v) and v > 0, "a finite number > 0"),
    "latent_dims": (lambda v: _is_int(v) and v >= 1, "a positive integer"),
    "architecture": (lambda v: isinstance(v, dict), "an object describing the layers"),
    "arrays": (_is_shapes, "an object mapping array names to shapes (lists of integers >= 0)"),
    "sha256": (lambda v: isinstance(v, str) and _SHA256_HEX.fullmatch(v) is not None,
               "64 lowercase hexadecimal digits"),
    "written_with": (lambda v: isinstance(v, dict) and all(isinstance(x, str)
                                                           for x in v.values()),
                     "an object of version strings"),
    "settings": (lambda v: v is None or isinstance(v, dict), "null or an object"),
    "history": (_is_history, "null or an object of lists of numbers (finite or NaN)"),
    "levels": (lambda v: isinstance(v, list) and len(v) >= 2 and all(
        _is_number(x) and math.isfinite(x) and x > 0 for x in v) and v == sorted(set(v)),
               "a list of at least two distinct λ > 0, ascending"),
}
_OPTIONAL = ("levels",)  # a variable-rate model's (version 3 on); absent for a model of one λ


def _check_field(where, record: dict, name: str) -> None:
    """Raises ModelFileError naming the field if the record lacks it or it is not as expected."""
    if name not in record:
        raise ModelFileError(f'{where}: the record has no field "{name}".')
    test, expected = _FIELDS[name]
    if not test(record[name]):
        shown = json.dumps(record[name])
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise ModelFileError(f'{where}: the record\'s field "{name}" must be {expected}, got '
                             f'{shown}.')


def _check_fields(where, record: dict) -> None:
    """Checks every field's type and range, and that there are no others."""
    extra = sorted(set(record) - set(_FIELDS))
    if extra or ("levels" in record and record.get("version", VERSION) < 3):
        raise ModelFileError(f"{where}: the record has unexpected fields {extra or ['levels']}.")
    for name in _FIELDS:
        if name in record or name not in _OPTIONAL:
            _check_field(where, record, name)


def _checksum(record: dict, arrays: dict[str, np.ndarray]) -> str:
    """The `sha256` a record of its version must hold: version 1 covers the arrays alone;
    version 2 on, the arrays' digest and the rest of the record as canonical JSON."""
    digest = named_float32_sha256(arrays)
    if record["version"] == 1:
        return digest
    return json_sha256([digest, {key: value for key, value in record.items() if key != "sha256"}])


def _check_integrity(path, record: dict, arrays: dict[str, np.ndarray]) -> None:
    """Tells a damaged file from a newer one: the arrays must be those the record lists and
    match the checksum before a version above VERSION is reported as newer."""
    _check_field(path, record, "version")
    _check_field(path, record, "sha256")
    if record["version"] <= VERSION:
        _check_field(path, record, "arrays")
        _check_array_shapes(path, record, arrays)
    try:
        intact = _checksum(record, arrays) == record["sha256"]
    except (TypeError, ValueError):  # a newer file's arrays that are not numbers
        intact = False
    if not intact:
        covered = "arrays" if record["version"] == 1 else "arrays and record"
        raise ModelFileError(f"{path}: the {covered} do not match the checksum in the record; "
                             f"the file is damaged.")
    if record["version"] > VERSION:
        raise ModelFileError(
            f"{path} was written in model format {record['version']}, newer than the format "
            f"{VERSION} this version of mnist-compression reads; upgrade the package.")


def _check_array_shapes(path, record: dict, arrays: dict[str, np.ndarray]) -> None:
    expected = record["arrays"]
    missing, extra = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
    if missing or extra:
        parts = ([f"missing arrays {missing}"] if missing else []) + (
            [f"unexpected arrays {extra}"] if extra else [])
        raise ModelFileError(f"{path}: {' and '.join(parts)}.")
    for name, shape in expected.items():
        if list(arrays[name].shape) != shape or arrays[name].dtype != np.float32:
            raise ModelFileError(f"{path}: array {name} is {arrays[name].dtype} "
                                 f"{list(arrays[name].shape)}, the record says float32 {shape}.")


__all__ = ["FORMAT", "ModelFileError", "VERSION", "model_kind", "read_model_file",
           "write_model_file"]
