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
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..atomic_files import refuse_existing, write_atomically
from ..hashing import json_sha256, named_float32_sha256
from .npy import MAX_HEADER_BYTES, NpyError, read_npy

RECORD = "record"
MAX_RECORD_BYTES = 16 << 20  # the JSON record: settings and a per-epoch history
MAX_ARRAY_BYTES = 1 << 30  # all arrays of a file unless its format says more precisely
MAX_MEMBERS = 1000  # arrays in one file (a model file has about 20)
MAX_RECORD_DEPTH = 64  # nesting of the record's JSON (a model file's is 4 deep)


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


def read_array_file(path, what: str, written_by: str, expected=None,
                    max_bytes: int = MAX_ARRAY_BYTES) -> tuple[dict, dict[str, np.ndarray]]:
    """The record (a dict) and the arrays of the file at `path`, unchecked beyond their form;
    `what` names the kind of file in messages, `written_by` what writes it.

    Nothing is unpacked before it is known to be bounded: the record (at most MAX_RECORD_BYTES)
    is read first; `expected(record)` may name the arrays and shapes the file must hold (None:
    any), and a member it does not name is refused unread; every array's header must describe
    exactly the bytes its member holds, and all arrays together at most `max_bytes`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No {what} at {path}." + (
            " It is a folder." if path.is_dir() else ""))
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise ArrayFileError(f"{path} is not a {what}: {what}s are .npz archives written "
                                 f"by {written_by}.")
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_members(path, archive, what, expected, max_bytes)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
            NotImplementedError, RuntimeError) as err:
        raise ArrayFileError(f"{path} is not a readable {what} ({err}); it may be truncated or "
                             f"damaged.") from None


def _read_members(path: Path, archive: zipfile.ZipFile, what: str, expected, max_bytes: int):
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ArrayFileError(f"{path} has {len(infos):,} members, more than a {what} holds "
                             f"({MAX_MEMBERS:,}); it is damaged.")
    members = {}
    for info in infos:
        if not info.filename.endswith(".npy") or info.filename[:-4] in members:
            raise ArrayFileError(f"{path}: member {info.filename} is not a numpy array; the "
                                 f"file is damaged.")
        members[info.filename[:-4]] = info
    if RECORD not in members:
        raise ArrayFileError(f"{path} is an .npz file but not a {what} (no record).")
    record = _read_record(path, archive, members.pop(RECORD))
    shapes = expected(record) if expected is not None else None
    if shapes is not None:
        extra = sorted(set(members) - set(shapes))
        if extra:
            shown = extra if len(extra) <= 5 else [*extra[:5], f"… {len(extra) - 5:,} more"]
            raise ArrayFileError(f"{path}: unexpected arrays {shown}.")
        for name, info in members.items():  # float32 data of the listed shape, and a header
            if info.file_size > 4 * math.prod(shapes[name]) + MAX_HEADER_BYTES:
                raise ArrayFileError(f"{path}: array {name} would take {info.file_size:,} bytes "
                                     f"unpacked, more than the record's shape "
                                     f"{shapes[name]} holds; the file is damaged.")
    total = sum(info.file_size for info in members.values())
    if total > max_bytes:
        raise ArrayFileError(f"{path}: its arrays would take {total:,} bytes unpacked, more than "
                             f"a {what} holds ({max_bytes:,}); it is damaged.")
    arrays = {}
    for name, info in members.items():
        with archive.open(info) as stream:
            try:
                arrays[name] = read_npy(stream, info.file_size, max_bytes)
            except NpyError as err:
                raise ArrayFileError(f"{path}: array {name}: {err}; the file is damaged.") from None
    return record, arrays


def _nesting(text: str) -> int:
    """How deeply a JSON text nests its arrays and objects (brackets inside strings skipped), so
    that the parser's recursion never decides whether a record is accepted."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _read_record(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict:
    if info.file_size > MAX_RECORD_BYTES:
        raise ArrayFileError(f"{path}: its record would take {info.file_size:,} bytes, more than "
                             f"{MAX_RECORD_BYTES:,}; the file is damaged.")
    with archive.open(info) as stream:
        try:
            text = read_npy(stream, info.file_size, MAX_RECORD_BYTES)
        except NpyError as err:
            raise ArrayFileError(f"{path}: its record: {err}; the file is damaged.") from None
    if text.dtype.kind != "U" or text.ndim != 0:
        raise ArrayFileError(f"{path}: its record is not a text; the file is damaged.")
    if _nesting(str(text)) > MAX_RECORD_DEPTH:
        raise ArrayFileError(f"{path}: its record is nested deeper than {MAX_RECORD_DEPTH} levels; "
                             f"the file is damaged.")
    try:
        record = json.loads(str(text))
    except (ValueError, RecursionError) as err:  # invalid, too deeply nested or too long a number
        reason = " ".join(str(err).split())[:120] or type(err).__name__
        raise ArrayFileError(f"{path}: its record is not valid JSON ({reason}).") from None
    if not isinstance(record, dict):
        raise ArrayFileError(f"{path}: its record is not a JSON object; the file is damaged.")
    return record


__all__ = ["ArrayFileError", "MAX_ARRAY_BYTES", "MAX_RECORD_BYTES", "RECORD", "checksum",
           "read_array_file", "write_array_file"]
