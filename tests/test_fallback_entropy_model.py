"""The fallback backend on its own: densities, rates, tables, strings and backend selection.

These run everywhere; tests/test_backend_parity.py compares it with tensorflow-compression.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression import entropy_models
from mnist_compression.fallback_entropy_model import ContinuousBatchedEntropyModel, NoisyLogistic
from mnist_compression.range_coder import TableError

DOC_SCALES = np.linspace(0.01, 2.0, 10).astype(np.float32)


def _hand_prob(y, loc, scale):
    def cdf(v):
        return 1 / (1 + np.exp(-(v - loc) / scale))
    return cdf(y + 0.5) - cdf(y - 0.5)


@pytest.fixture(scope="module")
def doc_model():
    """The prior used by ../shared/design/tfc-coding-format.md for its observed numbers."""
    return ContinuousBatchedEntropyModel(
        NoisyLogistic(loc=0.0, scale=DOC_SCALES), coding_rank=1, compression=True)


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


def test_tails_and_offsets():
    prior = NoisyLogistic(loc=[0.0, 2.3, -0.7], scale=[1.0, 1.0, 0.5])
    p = 2.0**-9
    expected = np.array([0.0, 2.3, -0.7]) + np.array([1, 1, 0.5]) * np.log(p / (1 - p))
    np.testing.assert_allclose(prior.lower_tail(2.0**-8), expected, rtol=1e-5)
    np.testing.assert_allclose(prior.quantization_offset(), [0.0, 0.3, 0.3], atol=1e-6)


def test_tables_match_the_numbers_observed_with_tfc(doc_model):
    assert doc_model.cdf_offset.numpy().tolist() == [-1, -2, -3, -5, -6, -7, -9, -10, -12, -13]
    assert doc_model.tables.lengths.tolist() == [3, 5, 7, 11, 13, 15, 19, 21, 25, 27]
    flat = doc_model.cdf.numpy()
    assert len(flat) == 176 and flat[:6].tolist() == [-12, 0, 1, 4094, 4095, 4096]


def test_the_zero_vector_codes_to_the_bytes_tfc_writes(doc_model):
    assert doc_model.compress(tf.zeros((1, 10))).numpy()[0].hex() == "7fce51"


WIDE_SCALES = np.linspace(0.5, 3.0, 10).astype(np.float32)  # no density underflows to 0 here


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


@pytest.mark.parametrize("loc", [0.0, 0.25, -3.6])
def test_round_trip_with_offsets_and_escapes(loc):
    model = ContinuousBatchedEntropyModel(
        NoisyLogistic(loc=loc, scale=DOC_SCALES), coding_rank=1, compression=True)
    y = tf.random.stateless_normal((500, 10), seed=(5, 6)) * 4 + loc
    y = tf.concat([y, tf.fill((2, 10), 1e6)], 0)
    strings = model.compress(y)
    assert strings.shape == (502,) and strings.dtype == tf.string
    decoded = model.decompress(strings, ())
    np.testing.assert_array_equal(decoded, model.quantize(y))


def test_codec_works_inside_tf_function(doc_model):
    @tf.function(input_signature=[tf.TensorSpec([None, 10], tf.float32)])
    def round_trip(y):
        return doc_model.decompress(doc_model.compress(y), ())

    y = tf.random.stateless_normal((20, 10), seed=(7, 8))
    np.testing.assert_array_equal(round_trip(y), tf.round(y))


def test_corrupt_strings_fail_the_sanity_check(doc_model):
    with pytest.raises(tf.errors.InvalidArgumentError, match="Sanity check failed"):
        doc_model.decompress(tf.constant([b"\x12\x34\x56\x78\x9a"]), ())


@pytest.mark.timeout(20)
def test_the_string_that_hangs_tfc_returns_promptly():
    lenient = ContinuousBatchedEntropyModel(
        NoisyLogistic(loc=0.0, scale=DOC_SCALES), 1, compression=True, decode_sanity_check=False)
    strict = ContinuousBatchedEntropyModel(
        NoisyLogistic(loc=0.0, scale=DOC_SCALES), 1, compression=True)
    assert lenient.decompress(tf.constant([b"\xff\xf0"]), ()).shape == (1, 10)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Sanity check failed"):
        strict.decompress(tf.constant([b"\xff\xf0"]), ())


@pytest.mark.timeout(20)
def test_a_prior_too_wide_for_tfc_raises_instead_of_aborting():
    message = "too wide to code.*needs 4992 bins, more than the 2\\*\\*12"
    with pytest.raises(TableError, match=message):
        ContinuousBatchedEntropyModel(NoisyLogistic(loc=0.0, scale=[1.0, 400.0]), 1,
                                      compression=True)


@pytest.mark.timeout(20)
def test_latents_tfc_never_finishes_coding_raise(doc_model):
    # Eagerly numpy_function re-raises the ValueError; inside a graph it becomes an op error.
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="2\\*\\*30"):
        doc_model.compress(tf.fill((1, 10), 2.0e9))


@pytest.mark.parametrize("kwargs, message", [
    (dict(coding_rank=2), "Only coding_rank=1"),
    (dict(coding_rank=1, prior=None), "exactly one of `prior` or `cdf`"),
])
def test_unsupported_configurations_are_named(kwargs, message):
    arguments = dict(prior=NoisyLogistic(loc=0.0, scale=DOC_SCALES))
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ContinuousBatchedEntropyModel(**arguments)


def test_compress_needs_compression_tables():
    model = ContinuousBatchedEntropyModel(NoisyLogistic(loc=0.0, scale=DOC_SCALES), 1)
    with pytest.raises(ValueError, match="compression=True"):
        model.compress(tf.zeros((1, 10)))


def test_tables_can_be_given_directly(doc_model):
    copy = ContinuousBatchedEntropyModel(cdf=doc_model.cdf, cdf_offset=doc_model.cdf_offset,
                                         coding_rank=1)
    y = tf.random.stateless_normal((50, 10), seed=(9, 9)) * 2
    np.testing.assert_array_equal(copy.compress(y).numpy(), doc_model.compress(y).numpy())


# --- backend selection ---------------------------------------------------------------------------

def _backend_in_subprocess(value):
    env = dict(os.environ, MNIST_COMPRESSION_BACKEND=value, TF_CPP_MIN_LOG_LEVEL="3")
    code = "from mnist_compression.entropy_models import BACKEND; print(BACKEND)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_backend_can_be_forced_to_the_fallback():
    result = _backend_in_subprocess("fallback")
    assert result.returncode == 0 and result.stdout.strip() == entropy_models.FALLBACK_BACKEND


def test_unknown_backend_names_the_choices():
    result = _backend_in_subprocess("jax")
    assert result.returncode != 0 and "must be 'auto', 'tfc' or 'fallback'" in result.stderr


def test_forcing_tfc_fails_clearly_where_it_cannot_import():
    result = _backend_in_subprocess("tfc")
    if entropy_models.BACKEND == entropy_models.TFC_BACKEND:
        assert result.stdout.strip() == entropy_models.TFC_BACKEND
    else:
        assert result.returncode != 0 and "needs Python <= 3.11" in result.stderr
