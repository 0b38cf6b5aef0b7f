"""TF 2.14's float32 kernels reproduced in numpy: fixed values everywhere, TF itself on TF 2.14.

tools/check_tf_float32.py compares exp and sigmoid with TF 2.14 on all 2**32 inputs; these tests
keep a sample of that comparison in every run on the TF 2.14 stack, and pin results that any
stack must reproduce.
"""

from decimal import Decimal, localcontext

import numpy as np
import pytest

from mnist_compression.coding import tf_float32 as f32

# glibc's __exp2f_data.tab (sysdeps/ieee754/flt-32/e_exp2f_data.c, EXP2F_TABLE_BITS = 5).
_GLIBC_EXP2F_TABLE = [
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
]


def test_glibc_table_is_the_published_one():
    assert [int(v) for v in f32._EXP2_TABLE] == _GLIBC_EXP2F_TABLE


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


def test_the_two_inputs_where_glibcs_fma_build_differs(monkeypatch):
    x = np.array([32.564632, -63.09946], np.float32)
    fma = np.array([1.3888015e14, 3.9468667e-28], np.float32)
    np.testing.assert_array_equal(f32.glibc_expf(x), fma)
    monkeypatch.setattr(f32, "_GLIBC_FMA_RESULTS", {})
    plain = f32.glibc_expf(x)  # the double-precision evaluation, one float32 ulp away on both
    assert np.all(plain != fma)
    np.testing.assert_array_equal(np.abs(plain.view(np.int32) - fma.view(np.int32)), [1, 1])


def _logistic_of(e):
    """e / (1 + e) in float32, the way Eigen turns exp(x) into sigmoid(x)."""
    return (e / (np.float32(1) + e)).astype(np.float32)


def test_sigmoid_uses_eigens_exp_for_whole_packets_and_glibc_for_the_rest():
    candidates = np.linspace(-60, -20, 4001, dtype=np.float32)
    x = candidates[f32.eigen_exp(candidates) != f32.glibc_expf(candidates)][0]
    values = np.full(19, x, np.float32)  # 16 in two packets, 3 one at a time
    result = f32.sigmoid(values)
    np.testing.assert_array_equal(result[:16], _logistic_of(f32.eigen_exp(values[:16])))
    np.testing.assert_array_equal(result[16:], _logistic_of(f32.glibc_expf(values[16:])))
    assert result[0] != result[16]
    assert f32.sigmoid(values.reshape(1, 19)).tolist() == [result.tolist()]  # row-major order
    assert f32.sigmoid(np.array([200.0, -200.0, 0.0], np.float32)).tolist() == [1.0, 0.0, 0.5]


# --- reduce_sum: Eigen's order, and three orders it must not be confused with ------------------

def _sequential_sum(v):
    total = np.float32(0)
    for x in v:
        total = np.float32(total + x)
    return total


def _horizontal(packet, tail):
    """Eigen's end of a reduction: the packet's halves added, then pairs, then the scalar tail."""
    halves = [np.float32(packet[lane] + packet[lane + 4]) for lane in range(4)]
    return np.float32(tail + np.float32(np.float32(halves[0] + halves[2])
                                        + np.float32(halves[1] + halves[3])))


def _one_accumulator_sum(v):
    """Whole 8-float packets into a single accumulator, the rest one at a time."""
    packet, end = [np.float32(0)] * 8, len(v) // 8 * 8
    for start in range(0, end, 8):
        packet = [np.float32(packet[lane] + v[start + lane]) for lane in range(8)]
    return _horizontal(packet, _sequential_sum(v[end:]))


def _four_accumulator_sum(v):
    """Eigen's order, one float32 addition at a time: vectors over 8192 floats split into halves
    on a packet boundary; blocks of 32 floats into four packet accumulators, which are then
    added in order; the remaining whole packets into that sum; the rest one at a time."""
    if len(v) > 8192:
        split = 8 * -(-((len(v) + 1) // 2) // 8)
        return np.float32(_four_accumulator_sum(v[:split]) + _four_accumulator_sum(v[split:]))
    accumulators = [[np.float32(0)] * 8 for _ in range(4)]
    blocks = len(v) // 32
    for block in range(blocks):
        for a, accumulator in enumerate(accumulators):
            for lane in range(8):
                accumulator[lane] = np.float32(accumulator[lane] + v[32 * block + 8 * a + lane])
    first, second, third, fourth = accumulators
    packet = [np.float32(np.float32(np.float32(first[lane] + second[lane]) + third[lane])
                         + fourth[lane]) for lane in range(8)]
    start, end = 32 * blocks, len(v) // 8 * 8
    for j in range(start, end, 8):
        packet = [np.float32(packet[lane] + v[j + lane]) for lane in range(8)]
    return _horizontal(packet, _sequential_sum(v[end:]))


@pytest.mark.parametrize("length, seed", [(203, 17), (1000, 15), (4099, 2), (8200, 0)])
def test_reduce_sum_adds_in_eigens_four_accumulator_order_and_no_other(length, seed):
    rng = np.random.default_rng(seed)
    v = (rng.random(length) * 2.0 ** rng.integers(-12, 12, length)).astype(np.float32)
    orders = {"sequential": _sequential_sum(v), "numpy's pairwise": np.float32(np.sum(v)),
              "one accumulator": _one_accumulator_sum(v), "four accumulators":
              _four_accumulator_sum(v)}
    assert len(set(orders.values())) == 4, orders  # on this vector every order gives its own sum
    assert f32.reduce_sum(v) == orders["four accumulators"], orders
    assert float(f32.reduce_sum(v)) == pytest.approx(float(v.astype(np.float64).sum()), rel=1e-6)


def test_reduce_sum_equals_the_four_accumulator_order_at_every_length():
    rng = np.random.default_rng(0)
    for n in [*range(0, 300), 1023, 1024, 4096, 4097, 8192, 8193, 20001]:
        v = (rng.random(n) ** 4).astype(np.float32)
        total = f32.reduce_sum(v)
        assert type(total) is np.float32 and total == _four_accumulator_sum(v), n


# --- log_odds ---------------------------------------------------------------------------------

def _nearest_float32(value: Decimal) -> np.float32:
    """The float32 nearest to an exact decimal value (no double rounding through float64)."""
    guess = np.float32(float(value))
    neighbours = [np.nextafter(guess, np.float32(-np.inf)), guess,
                  np.nextafter(guess, np.float32(np.inf))]
    return min(neighbours, key=lambda x: abs(Decimal(float(x)) - value))


@pytest.mark.parametrize("p", [2.0**-9, 1 - 2.0**-9, 2.0**-24, 1e-6, 0.3, 0.5, 0.75])
def test_log_odds_subtracts_correctly_rounded_logarithms(p):
    p = np.float32(p)
    with localcontext() as context:
        context.prec = 50
        exact_p = Decimal(float(p))
        log_p = _nearest_float32(exact_p.ln())
        log_1mp = _nearest_float32((1 - exact_p).ln())
    assert f32.log_odds(p) == np.float32(log_p - log_1mp)


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
