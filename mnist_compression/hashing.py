"""Every digest the package computes, in one place: SHA-256 over arrays and JSON records.

Three layouts are in use and each is part of a format, so none may change: the data fingerprint
(shape, type and the examples' bytes in sorted order; the model cache's keys), the named float32
arrays of a model file (its checksum) and the typed arrays of a codec (the fingerprint stored
in every `.mnc` file).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import numpy as np


def data_fingerprint(*example_sets: np.ndarray) -> str:
    """16 hex digits identifying data sets by their examples, whatever their order: each set's
    shape, type and its examples' (rows') bytes, sorted.

    `tfds.load("mnist")` and the original IDX files hold the same digits in different orders;
    with this fingerprint a model trained on one is found in the cache (and among the published
    models) for the other."""
    digest = hashlib.sha256()
    for array in example_sets:
        array = np.ascontiguousarray(array)
        row_size = int(np.prod(array.shape[1:], dtype=np.int64))
        rows = array.reshape(len(array), row_size).view(
            np.dtype((np.void, array.itemsize * row_size))).ravel()
        digest.update(f"{array.shape}{array.dtype.str}".encode())
        digest.update(np.sort(rows).tobytes())
    return digest.hexdigest()[:16]


def named_float32_sha256(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 (hex) of named arrays: names in sorted order, shapes, little-endian float32."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name], "<f4")
        digest.update(f"{name}:{list(array.shape)}:".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def typed_arrays_digest(salt: bytes, arrays: Iterable[np.ndarray], size: int) -> bytes:
    """The first `size` bytes of SHA-256 over `salt` and each array's dtype, shape and
    little-endian bytes, in the order given."""
    digest = hashlib.sha256(salt)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{list(array.shape)}".encode())
        digest.update(array.astype(array.dtype.newbyteorder("<")).tobytes())
    return digest.digest()[:size]


def json_sha256(record, length: int = 64) -> str:
    """SHA-256 (hex, the first `length` digits) of a JSON-serialisable record, keys sorted."""
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:length]


__all__ = ["data_fingerprint", "json_sha256", "named_float32_sha256", "typed_arrays_digest"]
