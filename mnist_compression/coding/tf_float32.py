"""TensorFlow 2.14's float32 results for the operations that build coding tables, in numpy.

Encoder and decoder must use identical range-coding tables, or decoding goes astray. The tables
come from the prior's probabilities in float32, and TensorFlow's kernels round differently from
release to release (`tf.sigmoid` in TF 2.20 differs from TF 2.14 in the last bit for many
inputs). So the tables are built from this module, which reproduces what
tensorflow-compression 2.14.1 computes on TF 2.14 (x86-64, the published wheels) bit for bit,
and depends on no TensorFlow at all:

- `exp` (the prior's scales), and `sigmoid`: Eigen's logistic, exp(x) / (1 + exp(x)). Eigen
  evaluates a flattened tensor eight floats at a time with its own polynomial `exp`, and the
  last ``n % 8`` elements one at a time with the C library's `expf` (glibc's algorithm, in
  double precision);
- results below the smallest normal float become zero, as on TensorFlow's CPU threads, which
  run with flush-to-zero set;
- `reduce_sum`: Eigen's summation order for a float32 vector;
- `log_odds`: log(p) - log1p(-p) of one float32 probability, each term correctly rounded (TF
  2.14's terms can differ by one ulp; docs/coding-format.md says when that matters).

`tools/check_tf_float32.py` compares `exp` and `sigmoid` with TF 2.14 on all 2**32 float32
inputs (no differences) and `reduce_sum` on random vectors.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np

F32 = np.float32
LANES = 8  # TF 2.14's x86-64 wheels are built for AVX: one packet holds 8 floats
_SMALLEST_NORMAL = np.finfo(np.float32).tiny

# Eigen's pexp_float (Eigen/src/Core/arch/Default/GenericPacketMathFunctions.h, as in TF 2.14).
_LOG2E = F32(1.44269504088896341)
_LN2_HIGH, _LN2_LOW = F32(-0.693359375), F32(2.12194440e-4)
_EXP_POLY = [F32(c) for c in (0.49999988079071044921875, 0.16666518151760101318359375,
                              4.166965186595916748046875e-2, 8.36894474923610687255859375e-3,
                              1.37449637986719608306884765625e-3)]

# glibc's expf (sysdeps/ieee754/flt-32/e_expf.c): 2^(k/32) from a table, a cubic in double.
_TABLE_BITS = 5
_N = 1 << _TABLE_BITS
_INV_LN2_N = float.fromhex("0x1.71547652b82fep+0") * _N
_SHIFT = float.fromhex("0x1.8p+52")
_GLIBC_POLY = (float.fromhex("0x1.c6af84b912394p-5") / _N**3,
               float.fromhex("0x1.ebfce50fac4f3p-3") / _N**2,
               float.fromhex("0x1.62e42ff0c52d6p-1") / _N)
_GLIBC_OVERFLOW = F32(float.fromhex("0x1.62e42ep6"))
_GLIBC_UNDERFLOW = F32(float.fromhex("-0x1.9fe368p6"))
# The two float32 inputs (of all 2**32) where glibc's FMA build, which x86-64 CPUs with FMA run,
# rounds differently from the plain double-precision evaluation below.
_GLIBC_FMA_RESULTS = {F32(32.564632).view(np.uint32).item(): F32(1.3888015e14),
                      F32(-63.09946).view(np.uint32).item(): F32(3.9468667e-28)}


def _exp2_table() -> np.ndarray:
    """glibc's table: the bits of 2^(i/32), correctly rounded, less i << 47."""
    with localcontext() as context:
        context.prec = 40
        powers = [float(Decimal(2) ** (Decimal(i) / _N)) for i in range(_N)]
    bits = np.array(powers, np.float64).view(np.uint64)
    return bits - (np.arange(_N, dtype=np.uint64) << np.uint64(52 - _TABLE_BITS))


_EXP2_TABLE = _exp2_table()


def flush_denormals(values) -> np.ndarray:
    """float32 values with every subnormal replaced by a zero of the same sign."""
    values = np.asarray(values, F32)
    return np.where(np.abs(values) < _SMALLEST_NORMAL, np.copysign(F32(0), values), values)


def _pow2(exponents: np.ndarray) -> np.ndarray:
    return ((exponents.astype(np.int32) + 127) << 23).view(F32)


def eigen_exp(x) -> np.ndarray:
    """exp(x) as Eigen's 8-lane float32 `pexp` computes it (no fused multiply-adds in TF 2.14's
    AVX build), with flush-to-zero."""
    x_in = flush_denormals(x)
    with np.errstate(all="ignore"):
        x = np.where(np.isnan(x_in), x_in, np.minimum(x_in, F32(88.723)))
        m = np.floor(x * _LOG2E + F32(0.5))
        r = m * _LN2_HIGH + x
        r = m * _LN2_LOW + r
        r2 = r * r
        p2, p3, p4, p5, p6 = _EXP_POLY
        even = r2 * p6 + p4
        odd = r2 * p5 + p3
        even = r2 * even + p2
        y = r * odd + even
        y = r2 * y + (r + F32(1))
        # pldexp_generic: y * 2^m in four factors, 2^b three times and then 2^(m - 3b).
        exponent = np.where(np.isnan(m), F32(0), np.clip(m, F32(-278), F32(278))).astype(np.int32)
        quarter = exponent >> 2
        scaled = y * _pow2(quarter) * _pow2(quarter) * _pow2(quarter)
        scaled = flush_denormals(scaled * _pow2(exponent - 3 * quarter))
        result = np.where(np.isnan(scaled) | np.isnan(x_in), scaled, np.maximum(scaled, x_in))
    return np.where(x_in < F32(-104.0), F32(0), result).astype(F32)


def glibc_expf(x) -> np.ndarray:
    """exp(x) as glibc's `expf` computes it, with flush-to-zero."""
    x = flush_denormals(x)
    with np.errstate(all="ignore"):
        z = _INV_LN2_N * x.astype(np.float64)
        shifted = z + _SHIFT
        k = shifted.view(np.uint64)
        r = z - (shifted - _SHIFT)
        scale = (_EXP2_TABLE[k % np.uint64(_N)] + (k << np.uint64(52 - _TABLE_BITS)))
        c0, c1, c2 = _GLIBC_POLY
        y = (c0 * r + c1) * (r * r) + (c2 * r + 1.0)
        result = (y * scale.view(np.float64)).astype(F32)
    result = np.where(x > _GLIBC_OVERFLOW, F32(np.inf), result)
    result = np.where(x < _GLIBC_UNDERFLOW, F32(0), result)
    bits = x.view(np.uint32)
    for key, value in _GLIBC_FMA_RESULTS.items():
        result = np.where(bits == key, value, result)
    return flush_denormals(result)


def _logistic(e: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return flush_denormals(np.where(e == np.inf, F32(1), e / (F32(1) + e)))


def _by_lanes(x, packet, scalar) -> np.ndarray:
    """An elementwise op as Eigen evaluates a flattened tensor: `packet` on whole 8-float
    packets, `scalar` on the last ``n % 8`` elements."""
    x = np.ascontiguousarray(x, F32)
    flat = x.reshape(-1)
    packed = len(flat) - len(flat) % LANES
    out = np.empty_like(flat)
    out[:packed] = packet(flat[:packed])
    out[packed:] = scalar(flat[packed:])
    return out.reshape(x.shape)


def exp(x) -> np.ndarray:
    """`tf.exp(x)` of TF 2.14 for a float32 array of any shape (row-major layout): the prior's
    scales, exp(log_scale), of a model of one λ."""
    return _by_lanes(x, eigen_exp, glibc_expf)


def sigmoid(x) -> np.ndarray:
    """`tf.sigmoid(x)` of TF 2.14 for a float32 array of any shape (row-major layout)."""
    return _by_lanes(x, lambda v: _logistic(eigen_exp(v)), lambda v: _logistic(glibc_expf(v)))


def reduce_sum(values) -> np.float32:
    """`tf.reduce_sum` of TF 2.14 for a float32 vector: Eigen's tree of 8-lane accumulators."""
    values = np.asarray(values, F32).reshape(-1)
    n = len(values)
    if n > LANES * 1024:  # halves, split on a packet boundary
        half = (n + 1) // 2
        split = LANES * ((half + LANES - 1) // LANES)
        return F32(reduce_sum(values[:split]) + reduce_sum(values[split:]))
    accumulator, start = np.zeros(LANES, F32), 0
    if n >= 4 * LANES:
        start = n // (4 * LANES) * 4 * LANES
        four = np.zeros((4, LANES), F32)
        for block in values[:start].reshape(-1, 4, LANES):
            four = four + block
        accumulator = four[0] + four[1]
        accumulator = accumulator + four[2]
        accumulator = accumulator + four[3]
    if start <= n - LANES:
        end = n // LANES * LANES
        for j in range(start, end, LANES):
            accumulator = accumulator + values[j:j + LANES]
        start = end
    scalar = F32(0)
    for value in values[start:]:
        scalar = F32(scalar + value)
    halves = accumulator[:4] + accumulator[4:]
    return F32(scalar + F32(F32(halves[0] + halves[2]) + F32(halves[1] + halves[3])))


def log_odds(p) -> np.float32:
    """log(p) - log1p(-p) for one float32 probability, as the logistic quantile computes it."""
    p = float(F32(p))
    return F32(F32(math.log(p)) - F32(math.log1p(-p)))
