"""Classical codecs on the same digits: PNG, JPEG, WebP, zlib, LZMA and the raw bytes.

Introduced in notebook 07 (rate–distortion study). Every codec really encodes and decodes each
digit on its own, as the learned codec does, and is measured in two ways:

- ``file_bits``: the whole file or stream a program would store;
- ``payload_bits``: only what is specific to the digit, leaving out what a decoder for 28×28
  grey digits at a fixed setting could know in advance. PNG: the IDAT data (the zlib stream),
  without signature, IHDR, IEND and chunk framing. JPEG (standard, non-optimised Huffman tables,
  so the tables are the same for every digit at a given quality): the entropy-coded scan between
  the SOS header and EOI, without markers and tables. WebP: the VP8/VP8L bitstream without the
  RIFF and chunk headers and without VP8's 10-byte frame header (key-frame tag, start code and
  size). zlib: raw deflate (no zlib header or checksum). LZMA: a raw LZMA2 stream (no .xz
  container). Raw: 784 bytes either way.
"""

from __future__ import annotations

import io
import lzma
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .evaluation import error_metrics

RAW_BITS = 28 * 28 * 8
DEFAULT_QUALITIES = (1, 5, 10, 20, 30, 50, 70, 90)
# A 4 KiB dictionary holds a whole digit; the presets' larger ones only cost setup time.
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": 1 << 12}]


@dataclass(frozen=True)
class Coded:
    """One digit after a codec: what was stored, how much of it is payload, what came back."""

    file_bytes: int
    payload_bytes: int
    decoded: np.ndarray  # uint8 [28, 28]


def _pil_bytes(digit: np.ndarray, **save_options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(digit, mode="L").save(buffer, **save_options)
    return buffer.getvalue()


def _pil_decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.uint8)


def png_payload(data: bytes) -> int:
    """Bytes of IDAT data in a PNG file (its compressed pixels)."""
    position, total = 8, 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        if kind == b"IDAT":
            total += length
        position += 12 + length
    return total


def jpeg_payload(data: bytes) -> int:
    """Bytes of entropy-coded scan data in a baseline JPEG (after the SOS header, before EOI)."""
    start = data.index(b"\xff\xda")
    header_length = struct.unpack(">H", data[start + 2:start + 4])[0]
    end = data.rindex(b"\xff\xd9")
    return end - (start + 2 + header_length)


def webp_payload(data: bytes) -> int:
    """Bytes of the VP8 (lossy, less its 10-byte frame header) or VP8L bitstream in a WebP file."""
    position, total = 12, 0
    while position < len(data):
        kind, length = struct.unpack("<4sI", data[position:position + 8])
        if kind == b"VP8 ":
            total += length - 10
        elif kind == b"VP8L":
            total += length
        position += 8 + length + (length & 1)
    return total


def code_png(digit: np.ndarray) -> Coded:
    data = _pil_bytes(digit, format="PNG", optimize=True)
    return Coded(len(data), png_payload(data), _pil_decode(data))


def code_jpeg(digit: np.ndarray, quality: int) -> Coded:
    data = _pil_bytes(digit, format="JPEG", quality=quality, optimize=False)
    return Coded(len(data), jpeg_payload(data), _pil_decode(data))


def code_webp(digit: np.ndarray, quality: int) -> Coded:
    data = _pil_bytes(digit, format="WEBP", quality=quality, method=6)
    return Coded(len(data), webp_payload(data), _pil_decode(data))


def code_zlib(digit: np.ndarray) -> Coded:
    raw = digit.tobytes()
    stored, payload = zlib.compress(raw, 9), zlib.compressobj(9, wbits=-15)
    deflated = payload.compress(raw) + payload.flush()
    decoded = np.frombuffer(zlib.decompress(stored), np.uint8).reshape(28, 28)
    return Coded(len(stored), len(deflated), decoded)


def code_lzma(digit: np.ndarray) -> Coded:
    raw = digit.tobytes()
    stored = lzma.compress(raw, format=lzma.FORMAT_XZ, filters=_LZMA_FILTERS)
    bare = lzma.compress(raw, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)
    decoded = np.frombuffer(lzma.decompress(stored), np.uint8).reshape(28, 28)
    return Coded(len(stored), len(bare), decoded)


def code_raw(digit: np.ndarray) -> Coded:
    return Coded(RAW_BITS // 8, RAW_BITS // 8, digit.copy())


def classical_codecs(qualities=DEFAULT_QUALITIES) -> dict[tuple[str, int | None], Callable]:
    """Every (codec, quality) pair to measure, mapped to a function coding one digit."""
    codecs = {("raw", None): code_raw, ("zlib", None): code_zlib, ("lzma", None): code_lzma,
              ("png", None): code_png}
    for quality in qualities:
        codecs[("jpeg", quality)] = lambda d, q=quality: code_jpeg(d, q)
        codecs[("webp", quality)] = lambda d, q=quality: code_webp(d, q)
    return codecs


def evaluate_baselines(digits, qualities=DEFAULT_QUALITIES) -> list[dict]:
    """Codes every digit (uint8 [N, 28, 28(, 1)]) with every classical codec; one row per codec
    with mean file and payload bits per digit and `error_metrics` of the decoded digits."""
    digits = np.asarray(digits, np.uint8).reshape(-1, 28, 28)
    rows = []
    for (codec, quality), code in classical_codecs(qualities).items():
        coded = [code(digit) for digit in digits]
        rows.append(dict(
            codec=codec, quality=quality,
            file_bits=8 * float(np.mean([c.file_bytes for c in coded])),
            payload_bits=8 * float(np.mean([c.payload_bytes for c in coded])),
            **error_metrics(digits, np.stack([c.decoded for c in coded])),
        ))
    return rows
