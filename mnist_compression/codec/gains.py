"""A variable-rate model's gains and prior scales at any λ, computed the same on every machine.

Introduced with the variable-rate codec (notebook 08). The codec scales latents by a gain before
rounding them, so one differently rounded gain would change the strings. numpy's `exp` and `log`
may differ in the last bit between builds and CPUs, so the interpolation is done with Python's
`decimal` module, whose `exp` and `ln` are correctly rounded by specification, and the results
become integers:

- gains and inverse gains are fixed-point integers with `GAIN_BITS` fractional bits;
- the prior's scales at λ are float32: the learned scale exp(log_scale) times the integer gain
  (over 2**GAIN_BITS), rounded once to float64 and then to float32.

Between the levels λ_k ≤ λ ≤ λ_k+1 the log-gain is interpolated linearly in log λ:
log g = (1 - t) log g_k + t log g_k+1 with t = (ln λ - ln λ_k) / (ln λ_k+1 - ln λ_k).
"""

from __future__ import annotations

import decimal
import math

import numpy as np

from ..checks import shown
from ..lambdas import check_lmbda

GAIN_BITS = 20
MAX_GAIN = 2.0**10  # gains and inverse gains must lie in [2**-20, 2**10]; trained ones do
_CONTEXT = decimal.Context(prec=40, rounding=decimal.ROUND_HALF_EVEN)
_MAX_LOG = 40.0  # log-gains and log-scales beyond ±40 mean a damaged model (e**40 > 2**57)


def _exact(value) -> decimal.Decimal:
    """A float (e.g. a float32 weight) as the Decimal of exactly its binary value."""
    return _CONTEXT.create_decimal_from_float(float(value))


def interpolation(levels, lmbda: float) -> tuple[int, decimal.Decimal]:
    """The level k below `lmbda` and its weight t (a Decimal in [0, 1]) in the interpolation
    above. Raises ValueError for anything but a real number within the levels' range."""
    levels = [float(v) for v in levels]
    try:
        value = check_lmbda(lmbda, "λ")
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and levels[0] <= value <= levels[-1]):
        raise ValueError(f"This variable-rate model codes at λ from {levels[0]:g} to "
                         f"{levels[-1]:g}, got {shown(lmbda)}.")
    k = min(int(np.searchsorted(levels, value, side="right")) - 1, len(levels) - 2)
    with decimal.localcontext(_CONTEXT):
        low, high = (_exact(v).ln() for v in levels[k:k + 2])
        return k, (_exact(value).ln() - low) / (high - low)


def fixed_point_gains(levels, log_gains, lmbda: float) -> np.ndarray:
    """The gains at λ as int64 [C] with GAIN_BITS fractional bits, from the levels' learned
    log-gains (float32 [K, C]; the same for inverse gains). Raises ValueError for λ outside the
    levels, or for a gain outside [2**-20, 2**10] (a damaged model)."""
    log_gains = np.asarray(log_gains, np.float32)
    k, t = interpolation(levels, lmbda)
    pair = log_gains[k:k + 2]
    out_of_range = ValueError(f"The model's gains at λ={lmbda:g} lie outside [2**-{GAIN_BITS}, "
                              f"{MAX_GAIN:g}]; the model file is damaged or was not trained.")
    if not (np.isfinite(pair).all() and (np.abs(pair) <= _MAX_LOG).all()):
        raise out_of_range
    with decimal.localcontext(_CONTEXT):
        values = [(((1 - t) * _exact(low) + t * _exact(high)).exp() * 2**GAIN_BITS)
                  .to_integral_value() for low, high in zip(pair[0], pair[1])]
    if not all(1 <= v <= MAX_GAIN * 2**GAIN_BITS for v in values):
        raise out_of_range
    return np.array([int(v) for v in values], np.int64)


def level_scales(log_scales, gains: np.ndarray) -> np.ndarray:
    """The prior's scales for latents scaled by `gains` (from `fixed_point_gains`): float32 [C],
    exp(log_scale) · gain / 2**GAIN_BITS. Raises ValueError for log-scales beyond ±40 (a
    damaged model)."""
    log_scales = np.asarray(log_scales, np.float32)
    if not (np.isfinite(log_scales).all() and (np.abs(log_scales) <= _MAX_LOG).all()):
        raise ValueError("The model's prior scales are not finite numbers between e**-40 and "
                         "e**40; the model file is damaged.")
    with decimal.localcontext(_CONTEXT):
        values = [float(_exact(log_scale).exp() * int(gain) / 2**GAIN_BITS)
                  for log_scale, gain in zip(log_scales, gains)]
    return np.array(values, np.float64).astype(np.float32)


__all__ = ["GAIN_BITS", "MAX_GAIN", "fixed_point_gains", "interpolation",
           "level_scales"]
