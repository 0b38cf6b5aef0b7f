"""TF 2.14's float32 kernels reproduced in numpy: fixed values everywhere, TF itself on TF 2.14.

tools/check_tf_float32.py compares exp and sigmoid with TF 2.14 on all 2**32 inputs; these tests
keep a sample of that comparison in every run on the TF 2.14 stack, and pin results that any
stack must reproduce.
"""

import numpy as np
import pytest

from mnist_compression.fallback import tf_float32 as f32


def test_glibc_table_is_the_published_one():
    # The first and last entries of glibc's __exp2f_data.tab (sysdeps/ieee754/flt-32).
    assert [hex(int(v)) for v in f32._EXP2_TABLE[:3]] == [
        "0x3ff0000000000000", "0x3fefd9b0d3158574", "0x3fefb5586cf9890f"]
    assert hex(int(f32._EXP2_TABLE[-1])) == "0x3fefd0765b6e4540"


@pytest.mark.parametrize("function", [f32.eigen_exp, f32.glibc_expf])
def test_exp_is_close_to_the_true_value(function):
    x = np.linspace(-87, 88, 100_001, dtype=np.float32)
    exact = np.exp(x.astype(np.float64))
    assert np.max(np.abs(function(x) / exact - 1)) < 4e-7  # a few float32 ulps


@pytest.mark.parametrize("function", [f32.eigen_exp, f32.glibc_expf])
def test_exp_special_values(function):
    x = np.array([0.0, -np.inf, np.inf, -200.0, 200.0, -100.0, 1e-40], np.float32)
    result = function(x)
    assert result[0] == 1 and result[1] == 0 and result[3] == 0
    assert result[2] == np.inf and result[4] == np.inf
    assert result[5] == 0  # below the smallest normal float: flushed to zero, as TF does
    assert result[6] == 1  # a subnormal input counts as zero
    assert np.isnan(function(np.array([np.nan], np.float32)))[0]


def test_the_two_inputs_where_glibcs_fma_build_differs():
    x = np.array([32.564632, -63.09946], np.float32)
    np.testing.assert_array_equal(f32.glibc_expf(x), np.array([1.3888015e14, 3.9468667e-28],
                                                              np.float32))


def test_sigmoid_uses_eigens_exp_for_whole_packets_and_glibc_for_the_rest():
    candidates = np.linspace(-60, -20, 4001, dtype=np.float32)
    x = candidates[f32.eigen_exp(candidates) != f32.glibc_expf(candidates)][0]
    result = f32.sigmoid(np.full(11, x, np.float32))  # 8 in one packet, 3 one at a time
    assert len(set(result[:8].tolist())) == 1 and len(set(result[8:].tolist())) == 1
    assert result[0] != result[8]
    assert f32.sigmoid(np.array([200.0, -200.0, 0.0], np.float32)).tolist() == [1.0, 0.0, 0.5]


def test_reduce_sum_follows_eigens_order_not_a_plain_sum():
    rng = np.random.default_rng(0)
    differs = 0
    for n in range(1, 400):
        v = (rng.random(n) ** 4).astype(np.float32)
        total = f32.reduce_sum(v)
        assert total == pytest.approx(float(v.astype(np.float64).sum()), rel=1e-5)
        differs += total != np.float32(np.cumsum(v, dtype=np.float32)[-1])
    assert differs > 50  # the order matters, so it is worth reproducing


def test_log_odds_are_correctly_rounded():
    p = np.float32(2.0**-9)
    assert f32.log_odds(p) == np.float32(np.float32(np.log(2.0**-9)) - np.float32(np.log1p(-p)))


# --- against TensorFlow 2.14 itself ------------------------------------------------------------

@pytest.fixture(scope="module")
def tf214():
    import tensorflow as tf

    if not tf.__version__.startswith("2.14."):
        pytest.skip(f"compares with TensorFlow 2.14's kernels; this is TF {tf.__version__}")
    return tf


def _sample(rng, count):
    """float32 inputs spread over every binade that matters, plus random bit patterns."""
    uniform = rng.uniform(-110, 95, count // 2).astype(np.float32)
    bits = rng.integers(0, 2**32, count // 2, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([uniform, bits[np.isfinite(bits)]])


@pytest.mark.parametrize("name", ["exp", "sigmoid"])
def test_matches_tf214_bit_for_bit(tf214, name):
    rng = np.random.default_rng(1)
    ours = {"exp": f32.eigen_exp, "sigmoid": f32.sigmoid}[name]
    theirs = {"exp": tf214.exp, "sigmoid": tf214.sigmoid}[name]
    x = _sample(rng, 4_000_000)
    x = x[: len(x) // 8 * 8]  # whole packets: exp's scalar path is tested below
    np.testing.assert_array_equal(ours(x).view(np.uint32), theirs(x).numpy().view(np.uint32))


@pytest.mark.parametrize("length", [1, 7, 9, 15, 4097])
def test_sigmoid_tail_elements_match_tf214(tf214, length):
    rng = np.random.default_rng(length)
    for _ in range(50):
        x = rng.uniform(-100, 20, length).astype(np.float32)
        np.testing.assert_array_equal(f32.sigmoid(x), tf214.sigmoid(x).numpy())


def test_reduce_sum_matches_tf214(tf214):
    rng = np.random.default_rng(2)
    for n in list(range(1, 200)) + [1023, 1024, 4096, 4097, 8192, 8193, 20000]:
        v = (rng.random(n) ** 3 / n).astype(np.float32)
        assert f32.reduce_sum(v) == tf214.reduce_sum(v).numpy(), n
