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
import re
from pathlib import Path

import numpy as np

from ..architecture import architecture, array_shapes
from ..checks import (
    POSITIVE_INTEGER,
    POSITIVE_NUMBER,
    Check,
    is_finite,
    is_int,
    is_number,
    shown,
)
from ..lambdas import FIXED_RATE, HYPERPRIOR, VARIABLE_RATE, check_levels, kind_of
from .array_files import ArrayFileError, checksum, read_array_file, write_array_file

FORMAT = "mnist-compression-model"
# 3 adds `levels`, the rate levels of a variable-rate model (notebook 08); 4 adds
# `hyper_latent_dims`, the side latents of a hyperprior model (notebook 09).
VERSION = 4
_WRITTEN_AS = {FIXED_RATE: 2, VARIABLE_RATE: 3, HYPERPRIOR: 4}  # the oldest that holds each kind
# The arrays of one model file, unpacked, at most: the tutorial's model holds about 10 MB, and a
# latent size of 10,000 about 50 MB.
MAX_MODEL_BYTES = 256 << 20
_SHA256_HEX = re.compile("[0-9a-f]{64}")


class ModelFileError(ArrayFileError):
    """A model file is missing, damaged, or not one this version can read."""


def model_kind(record: dict) -> str:
    """The kind of model a (checked) record describes: "variable-rate" when it has rate levels
    (version 3 on), "hyperprior" when it has side latents (version 4 on), else "fixed-rate";
    `codec.CODECS` has each kind's codec."""
    return kind_of(record.get("levels"), record.get("hyper_latent_dims"))


def write_model_file(path, arrays: dict[str, np.ndarray], model: dict, *, written_with: dict,
                     settings: dict | None = None, history: dict | None = None,
                     overwrite: bool = False) -> Path:
    """Writes named float32 `arrays` and their record to `path` (an .npz file); returns the path.

    `model` holds what the trainer records of itself (λ, latent size, and a variable-rate
    model's levels); each kind is written in the oldest version that holds it (`_WRITTEN_AS`),
    so every release that knows the kind reads it. The file appears complete or not at all; an
    existing file is kept unless `overwrite`."""
    arrays = {name: np.asarray(array, np.float32) for name, array in arrays.items()}
    bad = [name for name, array in arrays.items() if not np.isfinite(array).all()]
    if bad:
        raise ModelFileError(f"Not saved: the model has non-finite weights in {bad[0]} (training "
                             f"diverged?).")
    latent_dims = int(model["latent_dims"])
    record = dict(
        format=FORMAT, version=_WRITTEN_AS[model_kind(model)], lmbda=float(model["lmbda"]),
        latent_dims=latent_dims,
        architecture=architecture(latent_dims, model.get("hyper_latent_dims")),
        arrays={name: list(array.shape) for name, array in arrays.items()},
        written_with=written_with, settings=settings,
        history=None if history is None else {key: [float(v) for v in values]
                                              for key, values in history.items()},
        **{name: model[name] for name in OPTIONAL_FIELDS if name in model},
    )
    return write_array_file(path, arrays, record, lambda r: _check_fields(f"Not saved: {path}", r),
                            overwrite)


def read_model_file(path) -> tuple[dict, dict[str, np.ndarray]]:
    """The record and the checked arrays of a model file; raises ModelFileError naming the
    problem."""
    try:
        record, contents = read_array_file(
            path, "model file", "`mnist-compression codec export` or `save_model`",
            expected=_listed_arrays, max_bytes=MAX_MODEL_BYTES)
    except ArrayFileError as err:
        raise ModelFileError(str(err)) from None
    if record.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a {FORMAT} file.")
    _check_integrity(path, record, contents)
    _check_fields(path, record)
    if "levels" in record and "hyper_latent_dims" in record:
        raise ModelFileError(f"{path} records both rate levels and side latents; no model has "
                             f"both, so it is damaged.")
    if record["architecture"] != architecture(record["latent_dims"],
                                              record.get("hyper_latent_dims")):
        raise ModelFileError(f"{path} holds a model of another architecture than this version "
                             f"of mnist-compression builds; it cannot be loaded here.")
    bad = [name for name, array in contents.items() if not np.isfinite(array).all()]
    if bad:
        raise ModelFileError(f"{path}: array {bad[0]} holds non-finite values.")
    if model_kind(record) != VARIABLE_RATE and any(name.startswith("gains/") for name in contents):
        raise ModelFileError(f"{path} holds gain arrays but no levels: it is damaged.")
    _check_fit(path, record)
    return record, contents


def _is_shapes(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(shape, list) and all(is_int(n) and n >= 0 for n in shape)
        for shape in value.values())


def _is_levels(value) -> bool:
    if not (isinstance(value, list) and all(is_number(v) for v in value)):
        return False
    try:
        return list(check_levels(value)) == value
    except ValueError:
        return False


def _is_history(value) -> bool:
    return value is None or (isinstance(value, dict) and all(
        isinstance(values, list) and all(is_number(v) and (is_finite(v) or v != v) for v in values)
        for values in value.values()))


# Every field of a record and its check (`checks`: a test and, for messages, what it expects).
_FIELDS = {
    "format": Check(lambda v: v == FORMAT, json.dumps(FORMAT)),
    "version": POSITIVE_INTEGER,
    "lmbda": POSITIVE_NUMBER,
    "latent_dims": POSITIVE_INTEGER,
    "architecture": Check(lambda v: isinstance(v, dict), "an object describing the layers"),
    "arrays": Check(_is_shapes,
                    "an object mapping array names to shapes (lists of integers >= 0)"),
    "sha256": Check(lambda v: isinstance(v, str) and _SHA256_HEX.fullmatch(v) is not None,
                    "64 lowercase hexadecimal digits"),
    "written_with": Check(lambda v: isinstance(v, dict) and all(isinstance(x, str)
                                                                for x in v.values()),
                          "an object of version strings"),
    "settings": Check(lambda v: v is None or isinstance(v, dict), "null or an object"),
    "history": Check(_is_history, "null or an object of lists of numbers (finite or NaN)"),
    "levels": Check(_is_levels, "a list of at least two distinct λ > 0, ascending"),
    "hyper_latent_dims": POSITIVE_INTEGER,
}
# Optional fields and the version that added each: a variable-rate model's levels (version 3
# on), a hyperprior model's side latents (version 4 on); the tutorial's model has neither.
OPTIONAL_FIELDS = {"levels": 3, "hyper_latent_dims": 4}


def _check_field(where, record: dict, name: str) -> None:
    """Raises ModelFileError naming the field if the record lacks it or it is not as expected."""
    if name not in record:
        raise ModelFileError(f'{where}: the record has no field "{name}".')
    check = _FIELDS[name]
    if not check.test(record[name]):
        raise ModelFileError(f'{where}: the record\'s field "{name}" must be {check.expected}, '
                             f'got {shown(record[name], as_text=json.dumps)}.')


def _check_fields(where, record: dict) -> None:
    """Checks every field's type and range, and that there are no others."""
    version = record.get("version", VERSION)
    extra = sorted(name for name in record if name not in _FIELDS
                   or version < OPTIONAL_FIELDS.get(name, 1))
    if extra:
        raise ModelFileError(f"{where}: the record has unexpected fields {extra}.")
    for name in _FIELDS:
        if name in record or name not in OPTIONAL_FIELDS:
            _check_field(where, record, name)


def _listed_arrays(record: dict) -> dict | None:
    """The arrays a record of a version this release reads lists, if it lists them well: no
    other member of the file is unpacked."""
    if (record.get("format") == FORMAT and _FIELDS["version"].test(record.get("version"))
            and record["version"] <= VERSION and _FIELDS["arrays"].test(record.get("arrays"))):
        return record["arrays"]
    return None


def _check_integrity(path, record: dict, arrays: dict[str, np.ndarray]) -> None:
    """Tells a damaged file from a newer one: the arrays must be those the record lists and
    match the checksum before a version above VERSION is reported as newer."""
    _check_field(path, record, "version")
    _check_field(path, record, "sha256")
    if record["version"] <= VERSION:
        _check_field(path, record, "arrays")
        _check_array_shapes(path, record, arrays)
    try:
        intact = checksum(record, arrays) == record["sha256"]
    except (TypeError, ValueError):  # a newer file's arrays that are not numbers
        intact = False
    if not intact:
        covered = "arrays" if record["version"] == 1 else "arrays and record"
        raise ModelFileError(f"{path}: the {covered} do not match the checksum in the record; "
                             f"the file is damaged.")
    if record["version"] > VERSION:
        raise ModelFileError(
            f"{path} was written in model format {shown(record['version'])}, newer than the format "
            f"{VERSION} this version of mnist-compression reads; upgrade the package.")


def _check_fit(path, record: dict) -> None:
    """Raises ModelFileError unless the record lists exactly the arrays, of exactly the shapes,
    that its architecture needs (`architecture.array_shapes`)."""
    levels = record.get("levels")
    expected = array_shapes(record["latent_dims"], record.get("hyper_latent_dims"),
                            None if levels is None else len(levels))
    listed = record["arrays"]
    missing, extra = sorted(set(expected) - set(listed)), sorted(set(listed) - set(expected))
    wrong = [f"array {name} is {listed[name]}, the model needs {shape}"
             for name, shape in expected.items() if name in listed and listed[name] != shape]
    problems = ([f"missing arrays {missing}"] if missing else []) + (
        [f"unexpected arrays {extra}"] if extra else []) + wrong[:1]
    if problems:
        raise ModelFileError(f"{path}: the arrays do not fit the model its record describes "
                             f"({'; '.join(problems)}); it is damaged.")


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


__all__ = ["FORMAT", "ModelFileError", "OPTIONAL_FIELDS", "VERSION", "model_kind",
           "read_model_file", "write_model_file"]
