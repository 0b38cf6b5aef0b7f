"""Hostile strings through the decompressor: no hang, no crash, and a sanity check that judges
every string as the range decoder does.

The package decodes with its own coder on every stack, so the full 100,007 strings run on
Python >= 3.12 only; Python <= 3.11 sends a tenth of each kind (10,007 strings, the same seeds).
The prior is a trained λ = 300 model's (from tests/fixtures/coding_golden.npz), as in notebook
06, where random strings are decoded on purpose.
"""

import sys

import numpy as np
import pytest
from helpers import FIXTURES

from mnist_compression.coding.range_coder import decode
from mnist_compression.model.files import make_mnist_codec

FULL_SIZE = sys.version_info >= (3, 12)
_SHARE = 1 if FULL_SIZE else 10
RANDOM, TRUNCATED, FLIPPED = 40_000 // _SHARE, 30_000 // _SHARE, 30_000 // _SHARE
# A string on which tensorflow-compression's decoder hung with such a prior.
REPORTED = bytes.fromhex("02f004e55ccff3f9")
with np.load(FIXTURES / "coding_golden.npz") as _fixture:
    SCALE = _fixture["trained_lambda_300/scale"]
    HANGING = [_fixture["trained_lambda_300/hanging"], _fixture["trained_lambda_300/"
                                                                "hanging_lengths"]]
# Strings whose escape code never ends: the range decoder stops them instead of following them.
KNOWN = len(HANGING[1]) + 1  # they and REPORTED end the list of hostile strings
TOTAL = RANDOM + TRUNCATED + FLIPPED + KNOWN


@pytest.fixture(scope="module")
def codecs(small_trainer):
    original = small_trainer.prior_log_scales.numpy()
    small_trainer.prior_log_scales.assign(np.log(SCALE))
    try:
        yield make_mnist_codec(small_trainer), make_mnist_codec(small_trainer,
                                                                decode_sanity_check=False)
    finally:
        small_trainer.prior_log_scales.assign(original)


@pytest.fixture(scope="module")
def hostile(codecs):
    """TOTAL strings: random bytes, real strings cut short or with one bit flipped, and the
    known hanging ones."""
    (compressor, _), _ = codecs
    rng = np.random.default_rng(8)
    latents = rng.logistic(size=(4000, 50)) * SCALE * rng.choice([1, 3], (4000, 1))
    coder = compressor.entropy_model
    valid = [s for s in coder.encode_symbols(coder.symbols(latents.astype(np.float32)))
             if len(s) > 1]
    strings = [rng.bytes(int(n)) for n in rng.integers(0, 25, RANDOM)]
    for index in rng.integers(0, len(valid), TRUNCATED):
        s = valid[index]
        strings.append(s[:int(rng.integers(0, len(s)))])
    for index in rng.integers(0, len(valid), FLIPPED):
        s = bytearray(valid[index])
        bit = int(rng.integers(0, 8 * len(s)))
        s[bit // 8] ^= 1 << (bit % 8)
        strings.append(bytes(s))
    data, lengths = HANGING
    ends = np.cumsum(lengths)
    strings += [data[end - n:end].tobytes() for end, n in zip(ends, lengths)] + [REPORTED]
    assert len(strings) == TOTAL
    return strings


@pytest.fixture(scope="module")
def judged(codecs, hostile):
    """The range decoder's verdict on every hostile string: (symbols, sane, overruns)."""
    (_, strict), _ = codecs
    return decode(hostile, strict.entropy_model.tables, return_overruns=True)


def test_the_hostile_strings_mix_damage_the_check_catches_and_damage_it_misses(judged):
    _, sane, overruns = judged
    kinds = {"random": slice(0, RANDOM), "truncated": slice(RANDOM, RANDOM + TRUNCATED),
             "flipped": slice(RANDOM + TRUNCATED, TOTAL - KNOWN)}
    for kind, part in kinds.items():  # every kind has strings that pass and strings that fail
        assert 0 < sane[part].mean() < 1, kind
    # Damage that the check misses is why .mnc files carry a length and a checksum.
    assert sane[kinds["truncated"]].mean() > 0.5
    assert overruns[-KNOWN:-1].all() and not sane[-KNOWN:].any()
    assert not sane[overruns].any()


@pytest.mark.slow
@pytest.mark.timeout(900, method="thread")
def test_every_hostile_string_decodes_to_its_digit_without_the_sanity_check(codecs, hostile,
                                                                            judged):
    _, (_, lenient) = codecs
    symbols, sane, _ = judged
    decoded = 0
    for start in range(0, len(hostile), 5000):
        batch, ok = hostile[start:start + 5000], sane[start:start + 5000]
        digits = lenient(batch)
        assert digits.dtype == np.uint8 and digits.shape == (len(batch), 28, 28, 1)
        # Failing strings are decoded too, not replaced: they, and the passing ones, give the
        # digits of the symbols the range decoder reads from them (checked on 50 of each batch).
        assert not ok.all()
        chosen = np.concatenate([np.flatnonzero(~ok)[:25], np.flatnonzero(ok)[:25]])
        np.testing.assert_array_equal(
            digits[chosen], lenient.transforms.digits(symbols[start + chosen]))
        decoded += len(digits)
    assert decoded == len(hostile) == TOTAL


@pytest.mark.timeout(600, method="thread")
def test_every_hostile_string_is_judged_with_the_sanity_check(codecs, hostile, judged):
    (_, strict), (_, lenient) = codecs
    symbols, sane, _ = judged
    for start in range(0, len(hostile), 100):
        batch, failing = hostile[start:start + 100], np.flatnonzero(~sane[start:start + 100])
        if len(failing):
            with pytest.raises(ValueError, match=rf"Sanity check failed for {len(failing)} of "
                                                 rf"{len(batch)} strings \(first: index "
                                                 rf"{failing[0]}\)"):
                strict(batch)
        else:
            assert strict(batch).shape == (len(batch), 28, 28, 1)
    # Every string that passes is accepted, and decodes as it does without the check.
    passing = [s for s, ok in zip(hostile, sane) if ok]
    assert len(passing) > 0.2 * TOTAL
    for start in range(0, len(passing), 5000):
        np.testing.assert_array_equal(
            strict.entropy_model.decode_symbols(passing[start:start + 5000]),
            symbols[sane][start:start + 5000])
    np.testing.assert_array_equal(strict(passing[:500]), lenient(passing[:500]))


@pytest.mark.timeout(60, method="thread")
def test_the_reported_string_and_the_hanging_ones_return_and_fail_the_check(codecs, hostile):
    (_, strict), (_, lenient) = codecs
    known = hostile[-KNOWN:]
    assert known[-1] == REPORTED
    for string in known:
        assert lenient([string]).shape == (1, 28, 28, 1)
        both = lenient([string, b""])
        assert both.dtype == np.uint8 and both.shape == (2, 28, 28, 1)
        with pytest.raises(ValueError, match=r"Sanity check failed for 1 of 1 strings"):
            strict([string])
        with pytest.raises(ValueError, match=r"Sanity check failed for 1 of 2 strings \(first: "
                                             r"index 1\)"):
            strict([b"", string])
