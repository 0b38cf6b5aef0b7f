"""Named float32 arrays and a JSON record in one `.npz`: the container of every file the package
trains and keeps (model files, the digit classifier).

Introduced with model files (notebook 04); `docs/file-formats.md` specifies the layout. The record
is a JSON text stored as the member "record"; its "sha256" covers the arrays and (version 2 on)
the rest of the record, so a changed byte anywhere is found. Files are written whole or not at
all (`atomic_files`). A reader gets the record and the arrays only from a zip archive whose
members are all numpy arrays and whose record is a JSON object; each format then checks its own
fields.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ..atomic_files import refuse_existing, write_atomically
from ..hashing import json_sha256, named_float32_sha256

RECORD = "record"


class ArrayFileError(ValueError):
    """A file is missing its parts, damaged, or of another format."""


def checksum(record: dict, arrays: dict[str, np.ndarray]) -> str:
    """The `sha256` a record of its version must hold: version 1 (or a record without a
    version) covers the arrays alone; version 2 on, the arrays' digest and the rest of the
    record as canonical JSON."""
    digest = named_float32_sha256(arrays)
    if record.get("version", 1) == 1:
        return digest
    return json_sha256([digest, {key: value for key, value in record.items() if key != "sha256"}])


def write_array_file(path, arrays: dict[str, np.ndarray], record: dict,
                     check=lambda record: None, overwrite: bool = False) -> Path:
    """Writes float32 `arrays` and `record` (with its "sha256" added) to `path`; `check` may
    refuse the finished record with an exception before anything is written. Returns the path."""
    refuse_existing(path, overwrite)
    arrays = {name: np.asarray(array, np.float32) for name, array in arrays.items()}
    record = json.loads(json.dumps(record))  # as a reader parses it: what the checksum covers
    record["sha256"] = checksum(record, arrays)
    check(record)
    return write_atomically(
        path, lambda f: np.savez(f, **arrays, **{RECORD: np.array(json.dumps(record))}),
        overwrite)


def read_array_file(path, what: str, written_by: str) -> tuple[dict, dict[str, np.ndarray]]:
    """The record (a dict) and the arrays of the file at `path`, unchecked beyond their form;
    `what` names the kind of file in messages, `written_by` what writes it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No {what} at {path}." + (
            " It is a folder." if path.is_dir() else ""))
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise ArrayFileError(f"{path} is not a {what}: {what}s are .npz archives written "
                                 f"by {written_by}.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            contents = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, MemoryError) as err:
        raise ArrayFileError(f"{path} is not a readable {what} ({err}); it may be truncated or "
                             f"damaged.") from None
    odd = [name for name, value in contents.items() if not isinstance(value, np.ndarray)]
    if odd:
        raise ArrayFileError(f"{path}: member {odd[0]} is not a numpy array; the file is "
                             f"damaged.")
    if RECORD not in contents:
        raise ArrayFileError(f"{path} is an .npz file but not a {what} (no record).")
    try:
        record = json.loads(str(contents.pop(RECORD)))
    except (ValueError, RecursionError) as err:  # invalid, too deeply nested or too long a number
        reason = " ".join(str(err).split())[:120] or type(err).__name__
        raise ArrayFileError(f"{path}: its record is not valid JSON ({reason}).") from None
    if not isinstance(record, dict):
        raise ArrayFileError(f"{path}: its record is not a JSON object; the file is damaged.")
    return record, contents


__all__ = ["ArrayFileError", "RECORD", "checksum", "read_array_file", "write_array_file"]
