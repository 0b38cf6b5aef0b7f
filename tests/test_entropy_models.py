"""The prior's densities and rates, and the entropy model's coding and guards.

One implementation runs on every stack; CI runs both, so every guard is tested on both
(tests/test_tfc_reference.py compares the numbers with tensorflow-compression's on Python 3.11).
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from helpers import FIXTURES

from mnist_compression.codec.entropy_coder import DecodeError, TableError
from mnist_compression.coding.range_coder import decode
from mnist_compression.model.entropy_models import (
    ContinuousBatchedEntropyModel,
    NoisyLogistic,
)

DOC_SCALES = np.linspace(0.01, 2.0, 10).astype(np.float32)
WIDE_SCALES = np.linspace(0.5, 3.0, 10).astype(np.float32)  # no density underflows to 0 here


def _hand_prob(y, loc, scale):
    def cdf(v):
        return 1 / (1 + np.exp(-(v - loc) / scale))
    return cdf(y + 0.5) - cdf(y - 0.5)


def _coder(scale=DOC_SCALES, loc=0.0, **options):
    return ContinuousBatchedEntropyModel(NoisyLogistic(loc=loc, scale=scale), coding_rank=1,
                                         compression=True, **options)


@pytest.fixture(scope="module")
def doc_model():
    return _coder()


# --- densities and rates ----------------------------------------------------------------------

def test_prob_and_log_prob_match_the_formula():
    prior = NoisyLogistic(loc=0.3, scale=DOC_SCALES)
    y = np.linspace(-4, 4, 33, dtype=np.float32)[:, None]
    expected = _hand_prob(y.astype(np.float64), 0.3, DOC_SCALES.astype(np.float64))
    np.testing.assert_allclose(prior.prob(y), expected, rtol=2e-5, atol=1e-7)
    keep = expected > 1e-30
    np.testing.assert_allclose(prior.log_prob(y).numpy()[keep], np.log(expected[keep]),
                               rtol=1e-4, atol=1e-5)


def test_log_prob_stays_finite_with_finite_gradients_far_in_the_tails():
    scale = tf.Variable([0.01])
    y = tf.constant([[40.0]])
    with tf.GradientTape() as tape:
        log_prob = NoisyLogistic(loc=0.0, scale=scale).log_prob(y)
    assert log_prob.numpy()[0, 0] == pytest.approx(-3950, rel=1e-3)
    assert np.isfinite(tape.gradient(log_prob, scale).numpy()).all()


@pytest.mark.parametrize("shape", [3, (3,), (2, 4)])
def test_sampling_takes_any_sample_shape_and_repeats_with_a_seed(shape):
    prior = NoisyLogistic(loc=0.0, scale=WIDE_SCALES)
    first, second = prior.sample(shape, seed=5), prior.sample(shape, seed=5)
    assert first.shape == (*np.atleast_1d(shape), 10)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, prior.sample(shape, seed=6))


def test_samples_follow_the_density():
    prior = NoisyLogistic(loc=0.0, scale=np.float32([2.0]))
    samples = prior.sample(200_000, seed=1).numpy()[:, 0]
    # The noisy logistic's variance: the logistic's (pi^2 s^2 / 3) plus the uniform's (1/12).
    assert samples.var() == pytest.approx(np.pi**2 * 4 / 3 + 1 / 12, rel=0.02)
    assert samples.mean() == pytest.approx(0, abs=0.04)  # 5 standard errors
    # Its CDF, the logistic's averaged over [x - 1/2, x + 1/2]:
    # s (softplus((x + 1/2) / s) - softplus((x - 1/2) / s)), against the share of samples below x
    # (standard error at most 0.0012).
    x = np.array([-8.0, -4.0, -1.0, -0.3, 0.0, 0.5, 2.0, 6.0])
    expected = 2.0 * (np.logaddexp(0, (x + 0.5) / 2.0) - np.logaddexp(0, (x - 0.5) / 2.0))
    np.testing.assert_allclose((samples[:, None] < x).mean(axis=0), expected, atol=0.006)
    assert expected[4] == pytest.approx(0.5)


def test_noisy_rate_is_minus_log2_of_the_density():
    model = ContinuousBatchedEntropyModel(NoisyLogistic(loc=0.0, scale=WIDE_SCALES), 1)
    y = tf.random.stateless_normal((64, 10), seed=(1, 2))
    y_tilde, bits = model(y, training=True)
    assert np.all(np.abs(y_tilde - y) <= 0.5)
    expected = -np.log2(_hand_prob(y_tilde.numpy().astype(np.float64), 0.0, WIDE_SCALES)).sum(-1)
    np.testing.assert_allclose(bits, expected, rtol=1e-4)


def test_quantized_rate_and_straight_through_gradient():
    model = ContinuousBatchedEntropyModel(NoisyLogistic(loc=0.4, scale=WIDE_SCALES), 1)
    y = tf.Variable(tf.random.stateless_normal((8, 10), seed=(3, 4)) * 3)
    with tf.GradientTape() as tape:
        y_hat, bits = model(y, training=False)
        total = tf.reduce_sum(model.quantize(y))
    np.testing.assert_array_equal(y_hat, np.round(y.numpy() - 0.4) + 0.4)
    expected = -np.log2(_hand_prob(y_hat.numpy().astype(np.float64), 0.4, WIDE_SCALES)).sum(-1)
    np.testing.assert_allclose(bits, expected, rtol=1e-4)
    np.testing.assert_array_equal(tape.gradient(total, y), np.ones((8, 10)))


# --- coding -------------------------------------------------------------------------------------

def test_the_zero_vector_codes_to_the_bytes_tfc_writes(doc_model):
    assert doc_model.compress(np.zeros((1, 10))).numpy()[0].hex() == "7fce51"


@pytest.mark.parametrize("loc", [0.0, 0.25, -3.6])
def test_round_trip_with_offsets_and_escapes(loc):
    model = _coder(loc=loc)
    y = tf.random.stateless_normal((500, 10), seed=(5, 6)) * 4 + loc
    y = tf.concat([y, tf.fill((2, 10), 1e6), tf.fill((1, 10), -5e8)], 0)
    strings = model.compress(y)
    assert strings.shape == (503,) and strings.dtype == tf.string
    np.testing.assert_array_equal(model.decompress(strings), model.quantize(y))


def test_batch_shapes_are_kept(doc_model):
    y = np.random.default_rng(0).normal(size=(3, 4, 10)).astype(np.float32)
    strings = doc_model.compress(y)
    assert strings.shape == (3, 4)
    np.testing.assert_array_equal(doc_model.decompress(strings), np.round(y))


@pytest.mark.timeout(30)
def test_empty_batches_give_empty_results(doc_model):
    strings = doc_model.compress(np.zeros((0, 10), np.float32))
    assert strings.shape == (0,) and strings.dtype == tf.string
    assert doc_model.decompress(strings).shape == (0, 10)
    assert doc_model.decompress([]).shape == (0, 10)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("value, message", [
    (np.nan, "must be finite: 1 of 3 vectors"),
    (np.inf, "must be finite"),
    (-np.inf, "must be finite"),
    (2.0e9, "more than 2\\*\\*30 beyond"),
    (-1.2e9, "more than 2\\*\\*30 beyond"),
])
def test_latents_no_coder_can_write_raise(doc_model, value, message):
    y = np.zeros((3, 10), np.float32)
    y[1, 4] = value
    with pytest.raises(ValueError, match=message):
        doc_model.compress(y)


@pytest.mark.parametrize("y, message", [
    (np.zeros((2, 9)), r"shaped \[\.\.\., 10\]"),
    (np.array(["a"] * 10), "dtype <U1"),
    (np.float32(1.0), r"shape \[\]"),
])
def test_latents_of_the_wrong_shape_or_kind_raise(doc_model, y, message):
    with pytest.raises(ValueError, match=message):
        doc_model.compress(y)


@pytest.mark.timeout(60)
def test_a_prior_too_wide_for_tfc_raises_instead_of_aborting():
    with pytest.raises(TableError, match="needs 4992 bins, more than the 2\\*\\*12"):
        _coder(scale=np.float32([1.0, 400.0]))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("scale", [[1.0, 0.0], [1.0, -1.0], [np.nan, 1.0]])
def test_priors_with_invalid_scales_raise(scale):
    with pytest.raises(TableError, match="positive finite"):
        _coder(scale=np.float32(scale))


def test_corrupt_strings_fail_the_sanity_check(doc_model):
    with pytest.raises(DecodeError, match="Sanity check failed for 1 of 2 strings") as caught:
        doc_model.decompress([b"\x7f\xce\x51", b"\x12\x34\x56\x78\x9a"])
    assert caught.value.failed.tolist() == [1]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("string", [b"\xff\xf0", b"\xff\xf0\x00\x00\x00\x00"])
def test_strings_that_hang_tfc_return_promptly(string):
    """Strings whose escape code never ends under this prior (tensorflow-compression's decoder
    would loop forever on them; tests/fixtures has more, for trained priors)."""
    lenient = _coder(decode_sanity_check=False)
    assert decode([string], lenient.tables, return_overruns=True)[2][0]
    decoded = lenient.decompress([string, b"\x7f\xce\x51"]).numpy()
    assert decoded.shape == (2, 10)
    np.testing.assert_array_equal(decoded[1], np.zeros(10))  # the next string is unharmed
    with pytest.raises(DecodeError, match="Sanity check failed for 1 of 1 strings"):
        _coder().decompress([string])


def test_compress_needs_compression_tables():
    model = ContinuousBatchedEntropyModel(NoisyLogistic(loc=0.0, scale=DOC_SCALES), 1)
    for use in (lambda: model.compress(np.zeros((1, 10))),
                lambda: model.decompress([b"\x7f\xce\x51"]),
                lambda: model.cdf, lambda: model.cdf_offset):
        with pytest.raises(ValueError, match="built with compression=False; build it with "
                                             "compression=True"):
            use()


def test_tfc_style_table_accessors(doc_model):
    """`cdf` and `cdf_offset` hold what tensorflow-compression's attributes of the same names
    hold for this prior (tests/fixtures: written by tensorflow-compression 2.14.1)."""
    with np.load(FIXTURES / "coding_golden.npz") as archive:
        tfc = {name: archive[f"design_note/{name}"]
               for name in ("loc", "scale", "options", "cdf", "cdf_offset")}
    np.testing.assert_array_equal(tfc["scale"], DOC_SCALES)
    assert not tfc["loc"].any() and tfc["options"].tolist() == [2**-8, 12]
    assert doc_model.cdf.dtype == tf.int32 and doc_model.cdf.shape == (176,)
    assert doc_model.cdf_offset.dtype == tf.int32
    np.testing.assert_array_equal(doc_model.cdf, tfc["cdf"])
    np.testing.assert_array_equal(doc_model.cdf_offset, tfc["cdf_offset"])
    assert doc_model.cdf_offset.numpy().tolist()[:3] == [-1, -2, -3]


@pytest.mark.parametrize("kwargs, message", [
    (dict(coding_rank=2), "Only coding_rank=1"),
    (dict(prior=NoisyLogistic(loc=0.0, scale=np.ones((2, 3), np.float32))), "one dimension"),
])
def test_unsupported_configurations_are_named(kwargs, message):
    arguments = dict(prior=NoisyLogistic(loc=0.0, scale=DOC_SCALES))
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ContinuousBatchedEntropyModel(**arguments)


# --- the retired backend switch ------------------------------------------------------------

def test_the_retired_backend_variable_fails_with_one_clear_line():
    env = dict(os.environ, MNIST_COMPRESSION_BACKEND="tfc", TF_CPP_MIN_LOG_LEVEL="3")
    code = "import mnist_compression.model.entropy_models"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "ImportError: MNIST_COMPRESSION_BACKEND is no longer used: mnist_compression codes with "
        "its own coder on every stack. Unset it.")


def test_a_denormal_location_codes_as_tensorflow_2_14_reads_it():
    """TF 2.14 flushes denormals to zero, so the quantization offset of a location of 1e-45 is
    0 (tensorflow-compression then decodes 0, not 1e-45)."""
    tiny = np.nextafter(np.float32(0), np.float32(1))
    model = _coder(loc=np.full(10, tiny, np.float32), scale=WIDE_SCALES)
    assert model.quantization_offset is None
    y = np.zeros((2, 10), np.float32)
    np.testing.assert_array_equal(model.decompress(model.compress(y)), y)


# --- inputs from a hostile review --------------------------------------------------------------

def test_a_very_long_string_is_judged_without_padding_the_batch_to_its_length(doc_model):
    lenient = _coder(decode_sanity_check=False)
    good = doc_model.compress(np.zeros((1, 10))).numpy()[0]
    latents = lenient.decompress([b"\0" * 30_000_000] + [good] * 999)  # 30 GB if padded
    np.testing.assert_array_equal(latents[1:], np.zeros((999, 10)))
    with pytest.raises(DecodeError, match="Sanity check failed for 1 of 1000 strings"):
        doc_model.decompress([b"\0" * 30_000_000] + [good] * 999)


@pytest.mark.parametrize("precision", [0, 17, 33, -1, 2.5, "12"])
def test_range_coder_precision_must_be_what_tfc_allows(precision):
    with pytest.raises(ValueError, match="range_coder_precision must be an integer from 1 to 16"):
        _coder(range_coder_precision=precision)


@pytest.mark.parametrize("symbols", [np.full((1, 10), 2**64 - 1, np.uint64),
                                     np.full((1, 10), np.iinfo(np.int64).min, np.int64)])
def test_symbols_that_would_wrap_around_raise(doc_model, symbols):
    with pytest.raises(ValueError, match="more than 2\\*\\*30 beyond"):
        doc_model.encode_symbols(symbols)


@pytest.mark.parametrize("strings", [{b"ab": 1}, {b"ab"}])
def test_unordered_collections_of_strings_are_refused(doc_model, strings):
    with pytest.raises(ValueError, match="no order"):
        doc_model.decompress(strings)


def test_a_single_string_tensor_decodes_to_one_vector(doc_model):
    string = doc_model.compress(np.ones(10, np.float32))
    assert string.shape == () and doc_model.decompress(string).shape == (10,)
