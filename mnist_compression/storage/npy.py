"""`.npy` arrays read only after their header is checked against the bytes that hold them.

numpy's own loader trusts the header: a header that claims a shape of 10**30 elements gives a raw
`OverflowError`, and one that claims a gigabyte makes it allocate a gigabyte before it finds the
data missing. `read_npy` reads the header first, computes the array's size exactly (Python
integers), and refuses the array unless that size is what the stream holds and within a bound;
only then is the data read.
"""

from __future__ import annotations

import math

import numpy as np

MAX_HEADER_BYTES = 10_000  # numpy writes a few hundred bytes at most
MAX_DIMENSIONS = 32  # numpy's own limit


class NpyError(ValueError):
    """An .npy array whose header is unreadable or does not fit its data."""


def read_npy(stream, available: int, max_bytes: int, dtypes=None) -> np.ndarray:
    """The array in `stream`, which holds `available` bytes in all (header included).

    Raises NpyError, saying why, for a header numpy cannot parse, a dtype not in `dtypes` (any
    but objects when None), a size that differs from what the stream holds, or more than
    `max_bytes` of data."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                stream, max_header_size=MAX_HEADER_BYTES)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                stream, max_header_size=MAX_HEADER_BYTES)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as err:
        raise NpyError(f"not a readable .npy array ({' '.join(str(err).split())[:120]})") from None
    if (not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape)
            or len(shape) > MAX_DIMENSIONS):
        raise NpyError(f"its header's shape {_shape(shape)} is not a tuple of at most "
                       f"{MAX_DIMENSIONS} sizes >= 0")
    if (dtype.hasobject or dtype.itemsize == 0 or dtype.subdtype is not None
            or dtype.names is not None or (dtypes is not None and dtype not in dtypes)):
        raise NpyError(f"an array of dtype {dtype}, where "
                       f"{' or '.join(map(str, dtypes)) if dtypes else 'plain numbers or text'} "
                       f"are expected")
    data_bytes = math.prod(shape) * dtype.itemsize
    header_bytes = stream.tell()
    claim = f"its header claims {_size(data_bytes)} of {dtype} in shape {_shape(shape)}"
    if data_bytes > max_bytes:
        raise NpyError(f"{claim}, more than the {_size(max_bytes)} allowed here")
    if header_bytes + data_bytes != available:
        raise NpyError(f"{claim}, but it holds {_size(available - header_bytes)} of data")
    data = stream.read(data_bytes)
    if len(data) != data_bytes:
        raise NpyError(f"it ends after {len(data):,} of its {data_bytes:,} bytes of data")
    try:
        array = np.frombuffer(data, dtype)
        return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)
    except (ValueError, TypeError) as err:
        raise NpyError(f"its data do not fit its header ({' '.join(str(err).split())[:80]})") \
            from None


def _size(count: int) -> str:
    return f"{count:,} bytes" if count < 10**13 else f"{count:.2e} bytes"


def _shape(shape) -> str:
    text = str(list(shape)) if isinstance(shape, tuple) else repr(shape)
    return text if len(text) <= 40 else text[:37] + "..."


__all__ = ["MAX_DIMENSIONS", "MAX_HEADER_BYTES", "NpyError", "read_npy"]
