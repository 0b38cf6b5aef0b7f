"""The .mnc file format: layout, and every kind of damage reported with its cause."""

import zlib

import numpy as np
import pytest

from mnist_compression.codec.mnc import (
    MAGIC,
    MNCError,
    _read_varint,
    decode_mnc,
    encode_mnc,
    encode_varint,
    read_mnc,
    write_mnc,
)

FINGERPRINT = bytes(range(16))


def _strings(count=50, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.bytes(int(n)) for n in rng.integers(0, 200, count)]


@pytest.mark.parametrize("value, encoded", [(0, "00"), (1, "01"), (127, "7f"), (128, "8001"),
                                            (300, "ac02"), (2**21, "80808001")])
def test_varints_are_unsigned_leb128(value, encoded):
    assert encode_varint(value).hex() == encoded
    data = bytes.fromhex(encoded) + b"\x99"  # the reader stops after the varint's last byte
    assert _read_varint(data, 0, "count") == (value, len(encoded) // 2)


def test_varints_of_negative_numbers_and_without_an_end_are_refused():
    with pytest.raises(ValueError, match="non-negative integers, got -1"):
        encode_varint(-1)
    with pytest.raises(MNCError, match="ends inside the size field"):
        _read_varint(b"\x80\x80", 0, "size field")
    with pytest.raises(MNCError, match="the size field is not a valid number"):
        _read_varint(b"\x80" * 10 + b"\x01", 0, "size field")


def test_layout_is_as_documented():
    data = encode_mnc([b"\x01\x02", b"", b"\xff"], FINGERPRINT)
    body = bytes([3, 2, 0, 1]) + b"\x01\x02\xff"
    expected = MAGIC + bytes([1]) + FINGERPRINT + bytes([len(body) + 4]) + body
    assert data[:-4] == expected
    assert int.from_bytes(data[-4:], "big") == zlib.crc32(expected)


@pytest.mark.parametrize("count", [0, 1, 50, 1000])
def test_round_trip(count):
    strings = _strings(count)
    data = encode_mnc(strings, FINGERPRINT)
    decoded = decode_mnc(data, FINGERPRINT)
    assert decoded.strings == strings and decoded.fingerprint == FINGERPRINT
    assert decoded.size == len(data)
    # Header: magic, version, fingerprint, the size varint, the count and length varints, and
    # the CRC-32 (an empty file: 4 + 1 + 16 + 1 + 1 + 4 = 27 bytes).
    payload = sum(map(len, strings))
    counts = len(encode_varint(count)) + sum(len(encode_varint(len(s))) for s in strings)
    size_field = encode_varint(counts + payload + 4)
    assert decoded.header_bytes == 4 + 1 + 16 + len(size_field) + counts + 4
    assert decoded.size == decoded.header_bytes + payload
    if count == 0:
        assert decoded.header_bytes == decoded.size == 27


def test_every_truncation_is_reported_as_such():
    data = encode_mnc(_strings(40), FINGERPRINT)
    for cut in range(len(data)):
        with pytest.raises(MNCError, match="empty|truncated") as caught:
            decode_mnc(data[:cut])
        assert ("empty" in str(caught.value)) == (cut == 0)


def test_every_single_bit_flip_is_detected():
    data = bytearray(encode_mnc(_strings(12), FINGERPRINT))
    for bit in range(8 * len(data)):
        data[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(MNCError):
            decode_mnc(bytes(data), FINGERPRINT)
        data[bit // 8] ^= 1 << (bit % 8)


def test_random_damage_is_detected():
    rng = np.random.default_rng(1)
    original = encode_mnc(_strings(200), FINGERPRINT)
    for _ in range(3000):
        data = bytearray(original)
        for position in rng.integers(0, len(data), int(rng.integers(1, 6))):
            data[position] ^= int(rng.integers(1, 256))
        with pytest.raises(MNCError):
            decode_mnc(bytes(data), FINGERPRINT)


def _with_version(data: bytes, version: int) -> bytes:
    """`data` with its version byte set to `version` and its CRC-32 made to match again."""
    content = data[:len(MAGIC)] + bytes([version]) + data[len(MAGIC) + 1:-4]
    return content + zlib.crc32(content).to_bytes(4, "big")


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"PK\x03\x04" + bytes(40), "Not an .mnc file"),
    (_with_version(encode_mnc([b"ab"], FINGERPRINT), 4),
     "format version 4.*reads versions 1 to 3.*Upgrade"),
    (_with_version(encode_mnc([b"ab"], FINGERPRINT), 255), "format version 255.*Upgrade"),
    (_with_version(encode_mnc([b"ab"], FINGERPRINT), 0), "damaged: its format version is 0"),
])
def test_bad_headers_are_named(data, message):
    with pytest.raises(MNCError, match=message):
        decode_mnc(data)


def test_a_damaged_version_byte_is_damage_not_a_newer_version():
    data = bytearray(encode_mnc(_strings(5), FINGERPRINT))
    for version in range(256):
        if version == 1:
            continue
        data[len(MAGIC)] = version
        with pytest.raises(MNCError, match="damaged: its CRC-32") as caught:
            decode_mnc(bytes(data), FINGERPRINT)
        assert "Upgrade" not in str(caught.value)


def test_a_newer_version_is_judged_after_the_size():
    data = _with_version(encode_mnc([b"ab"], FINGERPRINT), 3)
    with pytest.raises(MNCError, match="truncated"):
        decode_mnc(data[:-1])
    with pytest.raises(MNCError, match="1 bytes follow its declared end"):
        decode_mnc(data + b"\x00")


def test_trailing_bytes_are_damage():
    with pytest.raises(MNCError, match="2 bytes follow its declared end"):
        decode_mnc(encode_mnc([b"ab"], FINGERPRINT) + b"\x00\x00")


def test_a_file_from_another_model_is_refused():
    data = encode_mnc([b"ab"], FINGERPRINT)
    with pytest.raises(MNCError, match="made by another model .*000102.*this model's is ffff"):
        decode_mnc(data, b"\xff" * 16)


def test_files_are_written_atomically_and_never_overwritten(tmp_path):
    path = tmp_path / "a.mnc"
    size = write_mnc(path, [b"xyz"], FINGERPRINT)
    assert path.stat().st_size == size and read_mnc(path).strings == [b"xyz"]
    with pytest.raises(FileExistsError, match="already exists"):
        write_mnc(path, [b"other"], FINGERPRINT)
    assert read_mnc(path).strings == [b"xyz"]
    write_mnc(path, [b"other"], FINGERPRINT, overwrite=True)
    assert read_mnc(path).strings == [b"other"]
    assert [p.name for p in tmp_path.iterdir()] == ["a.mnc"]


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "cut.mnc"
    path.write_bytes(encode_mnc([b"abc"], FINGERPRINT)[:-3])
    with pytest.raises(MNCError, match="cut.mnc: The file is truncated"):
        read_mnc(path)
    with pytest.raises(FileNotFoundError, match="It is a folder"):
        read_mnc(tmp_path)
    with pytest.raises(FileNotFoundError, match=f"^No .mnc file at {tmp_path / 'gone.mnc'}.$"):
        read_mnc(tmp_path / "gone.mnc")
