"""Hostile strings through the decompressor: no hang, no crash, on whichever backend is active.

On Python 3.11 the backend is tensorflow-compression, whose decoder never returns on some
strings; on 3.13 it is this package's. CI runs this file on both. The prior is a trained λ = 300
model's (from tests/fixtures/coding_golden.npz), as in notebook 06, where random strings are
decoded on purpose.
"""

import numpy as np
import pytest
import tensorflow as tf
from conftest import FIXTURES

from mnist_compression.codec import make_mnist_codec
from mnist_compression.fallback.range_coder import decode

RANDOM, TRUNCATED, FLIPPED = 40_000, 30_000, 30_000
# A string on which tensorflow-compression's decoder hung with such a prior.
REPORTED = bytes.fromhex("02f004e55ccff3f9")
with np.load(FIXTURES / "coding_golden.npz") as _fixture:
    SCALE = _fixture["trained_lambda_300/scale"]
    HANGING = [_fixture["trained_lambda_300/hanging"], _fixture["trained_lambda_300/"
                                                                "hanging_lengths"]]


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
    """100,000 strings: random bytes, and real strings cut short or with one bit flipped."""
    (compressor, _), _ = codecs
    rng = np.random.default_rng(8)
    latents = rng.logistic(size=(4000, 50)) * SCALE * rng.choice([1, 3], (4000, 1))
    valid = [s for s in compressor.entropy_model.compress(latents.astype(np.float32)).numpy()
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
    return strings


@pytest.mark.slow
@pytest.mark.timeout(900, method="thread")
def test_every_hostile_string_returns_without_the_sanity_check(codecs, hostile):
    _, (_, lenient) = codecs
    decoded = 0
    for start in range(0, len(hostile), 5000):
        digits = lenient(hostile[start:start + 5000]).numpy()
        assert digits.dtype == np.uint8 and digits.shape[1:] == (28, 28, 1)
        decoded += len(digits)
    assert decoded == len(hostile) >= 100_000


@pytest.mark.timeout(600, method="thread")
def test_every_hostile_string_is_judged_with_the_sanity_check(codecs, hostile):
    (_, strict), _ = codecs
    tables = strict.entropy_model.tables
    _, sane, overruns = decode(hostile, tables, return_overruns=True)
    assert overruns.sum() >= 6 and not sane[overruns].any()
    for start in range(0, len(hostile), 100):
        batch = hostile[start:start + 100]
        if sane[start:start + 100].all():
            assert strict(batch).shape == (len(batch), 28, 28, 1)
        else:
            with pytest.raises(ValueError, match="Sanity check failed"):
                strict(batch)
    # Damage that the check misses is why .mnc files carry a length and a checksum.
    truncated = slice(RANDOM, RANDOM + TRUNCATED)
    assert 0 < sane[truncated].mean() < 1


@pytest.mark.timeout(60, method="thread")
def test_the_reported_string_and_the_hanging_ones_return(codecs, hostile):
    (_, strict), (_, lenient) = codecs
    for string in hostile[-7:]:
        assert lenient([string]).shape == (1, 28, 28, 1)
        assert tf.is_tensor(lenient([string, b""]))
