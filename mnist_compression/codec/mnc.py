"""The `.mnc` file: a batch of compressed digits with what is needed to trust it.

Introduced in notebook 04; the layout is specified in `docs/file-formats.md`. A range-coded string
does not say where it ends, which model made it, or whether a byte was lost (the decoder's
sanity check accepts many cut-short strings), so a file wraps the strings with:

    magic "\\x89MNC" | version (1 byte) | model fingerprint (16 bytes) |
    size of the rest (varint) | [version 2: λ (float64, big-endian)] | digit count (varint) |
    each string's length (varint) | the strings | CRC-32 of everything before it (4 bytes,
    big-endian)

Version 1 holds strings of a model of one λ; version 2 (notebook 08) those of a variable-rate
model, which codes at any λ between its levels and so records the λ it coded at; version 3
(notebook 09) those of a hyperprior model, laid out as version 1 (its strings hold the side
latents first).

The declared size makes every truncation detectable, the CRC-32 any one or two flipped bits (and
all but about one in four billion other damages), and the fingerprint a file read with the wrong
model.
Varints are unsigned LEB128: 7 bits per byte, low bits first, high bit set on all but the last.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..atomic_files import write_atomically
from ..lambdas import FIXED_RATE, HYPERPRIOR, VARIABLE_RATE, check_lmbda

MAGIC = b"\x89MNC"
VERSION = 3
# The kind of model whose strings each version holds.
KINDS = {1: FIXED_RATE, 2: VARIABLE_RATE, 3: HYPERPRIOR}
_LMBDA = struct.Struct(">d")
FINGERPRINT_BYTES = 16
_CRC_BYTES = 4
_MAX_VARINT_BYTES = 10
MAX_BYTES = 1 << 30  # an .mnc file is read at once: at most 1 GiB
MAX_DIGITS = 1_000_000  # and decodes in minutes: at most a million digits (784 MB decoded)


class MNCError(ValueError):
    """An .mnc file is empty, truncated, damaged, of a newer version, or for another model."""


@dataclass(frozen=True)
class MNCFile:
    """The contents of an .mnc file."""

    strings: list
    fingerprint: bytes
    size: int  # bytes in the whole file
    lmbda: float | None = None  # the λ a variable-rate model coded at (version 2), else None
    kind: str = FIXED_RATE  # the kind of model that made it (`KINDS`)

    @property
    def header_bytes(self) -> int:
        """Bytes that are not string payload: magic, version, fingerprint, sizes, λ, CRC."""
        return self.size - sum(len(s) for s in self.strings)


def encode_varint(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"varints hold non-negative integers, got {value}.")
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(data: bytes, position: int, what: str) -> tuple[int, int]:
    value = 0
    for index in range(_MAX_VARINT_BYTES):
        if position + index >= len(data):
            raise MNCError(f"The file is truncated: it ends inside the {what}.")
        byte = data[position + index]
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, position + index + 1
    raise MNCError(f"The file is damaged: the {what} is not a valid number.")


def encode_mnc(strings, fingerprint: bytes, lmbda: float | None = None,
               kind: str | None = None) -> bytes:
    """The bytes of an .mnc file holding `strings` (bytes each) made by the model `fingerprint`
    (version 1), by a variable-rate model at `lmbda` (version 2), or by a hyperprior model
    (`kind` "hyperprior", version 3). `kind` defaults to the kind `lmbda` implies; a λ goes
    with a variable-rate model only."""
    kind = kind or (FIXED_RATE if lmbda is None else VARIABLE_RATE)
    if kind not in KINDS.values() or (lmbda is not None) != (kind == VARIABLE_RATE):
        raise ValueError(f"An .mnc file holds a fixed-rate or hyperprior model's strings without "
                         f"a λ, or a variable-rate model's with one; got kind {kind!r} and λ "
                         f"{lmbda!r}.")
    strings = [bytes(s) for s in strings]
    if len(strings) > MAX_DIGITS:
        raise ValueError(f"An .mnc file holds at most {MAX_DIGITS:,} digits, got "
                         f"{len(strings):,}; split them into several files.")
    if len(fingerprint) != FINGERPRINT_BYTES:
        raise ValueError(f"A fingerprint has {FINGERPRINT_BYTES} bytes, got {len(fingerprint)}.")
    lmbda = None if lmbda is None else _checked_lmbda(lmbda)
    body = b"" if lmbda is None else _LMBDA.pack(lmbda)
    body += encode_varint(len(strings)) + b"".join(encode_varint(len(s)) for s in strings)
    body += b"".join(strings)
    version = next(version for version, name in KINDS.items() if name == kind)
    head = MAGIC + bytes([version]) + fingerprint + encode_varint(len(body) + _CRC_BYTES)
    content = head + body
    return content + zlib.crc32(content).to_bytes(_CRC_BYTES, "big")


def _checked_lmbda(lmbda) -> float:
    """λ as a float; ValueError unless it is a real number, positive and finite."""
    return check_lmbda(lmbda, "λ")


def decode_mnc(data: bytes, expected_fingerprint: bytes | None = None) -> MNCFile:
    """Parses and checks an .mnc file's bytes; raises MNCError naming what is wrong.

    The version byte is judged only after the size and the CRC-32 passed (every version keeps
    them where version 1 has them), so a damaged version byte is reported as damage, not as a
    file from a newer release.
    """
    data = bytes(data)
    if not data:
        raise MNCError("The file is empty: an .mnc file holds at least a header.")
    if not data.startswith(MAGIC):
        if MAGIC.startswith(data):
            raise MNCError("The file is truncated: it ends inside the magic bytes.")
        raise MNCError("Not an .mnc file: it does not start with the .mnc magic bytes.")
    position = len(MAGIC)
    if len(data) <= position:
        raise MNCError("The file is truncated: it ends before the format version.")
    version = data[position]
    position += 1
    fingerprint = data[position:position + FINGERPRINT_BYTES]
    if len(fingerprint) < FINGERPRINT_BYTES:
        raise MNCError("The file is truncated: it ends inside the model fingerprint.")
    position += FINGERPRINT_BYTES
    size, position = _read_varint(data, position, "size field")
    actual = len(data) - position
    if actual < size:
        raise MNCError(f"The file is truncated: {actual} of the {size} bytes after its header "
                       f"are there ({len(data)} bytes in all).")
    if actual > size:
        raise MNCError(f"The file is damaged: {actual - size} bytes follow its declared end.")
    if zlib.crc32(data[:-_CRC_BYTES]) != int.from_bytes(data[-_CRC_BYTES:], "big"):
        raise MNCError("The file is damaged: its CRC-32 checksum does not match its contents.")
    _check_version(version)
    lmbda = None
    if version == 2:
        if position + _LMBDA.size > len(data) - _CRC_BYTES:
            raise MNCError("The file is damaged: it ends inside the λ field.")
        (lmbda,) = _LMBDA.unpack_from(data, position)
        position += _LMBDA.size
        if not (math.isfinite(lmbda) and lmbda > 0):
            raise MNCError(f"The file is damaged: its λ field holds {lmbda!r}.")
    strings = _read_strings(data, position, len(data) - _CRC_BYTES)
    if expected_fingerprint is not None and fingerprint != expected_fingerprint:
        raise MNCError(f"The file was made by another model (fingerprint {fingerprint.hex()}, "
                       f"this model's is {expected_fingerprint.hex()}); decode it with the "
                       f"model that made it.")
    return MNCFile(strings, fingerprint, len(data), lmbda, KINDS[version])


def _check_version(version: int) -> None:
    if version > VERSION:
        raise MNCError(f"The file uses .mnc format version {version}; this version of "
                       f"mnist-compression reads versions 1 to {VERSION}. Upgrade the package.")
    if version < 1:
        raise MNCError("The file is damaged: its format version is 0.")


def _read_strings(data: bytes, position: int, end: int) -> list:
    count, position = _read_varint(data, position, "digit count")
    if count > end - position:
        raise MNCError(f"The file is damaged: it claims {count} digits in {end - position} bytes.")
    if count > MAX_DIGITS:
        raise MNCError(f"It holds {count:,} digits, more than an .mnc file may ({MAX_DIGITS:,}); "
                       f"decoding it would take hours.")
    lengths = []
    for _ in range(count):
        length, position = _read_varint(data, position, "string lengths")
        lengths.append(length)
    if position + sum(lengths) != end:
        raise MNCError("The file is damaged: its string lengths do not add up to its size.")
    strings = []
    for length in lengths:
        strings.append(data[position:position + length])
        position += length
    return strings


def write_mnc(path, strings, fingerprint: bytes, overwrite: bool = False,
              lmbda: float | None = None, kind: str | None = None) -> int:
    """Writes an .mnc file atomically (never a half-written file; an existing file is kept
    unless `overwrite`) and returns its size in bytes; `lmbda` and `kind` as in
    `encode_mnc`."""
    data = encode_mnc(strings, fingerprint, lmbda, kind)
    write_atomically(path, lambda f: f.write(data), overwrite)
    return len(data)


def read_mnc(path, expected_fingerprint: bytes | None = None) -> MNCFile:
    """Reads and checks an .mnc file; errors name the file and the cause."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No .mnc file at {path}." + (
            " It is a folder." if path.is_dir() else " It is not a regular file."
            if path.exists() else ""))
    if path.stat().st_size > MAX_BYTES:
        raise MNCError(f"{path}: {path.stat().st_size:,} bytes, more than an .mnc file may hold "
                       f"({MAX_BYTES:,}); it is not one.")
    try:
        return decode_mnc(path.read_bytes(), expected_fingerprint)
    except MNCError as err:
        raise MNCError(f"{path}: {err}") from None


__all__ = ["KINDS", "MNCError", "MNCFile", "decode_mnc", "encode_mnc", "read_mnc", "write_mnc"]
