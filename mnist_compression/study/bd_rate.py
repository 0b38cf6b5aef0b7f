"""The Bjøntegaard delta rate: one number for how much more (or less) rate one codec needs.

Introduced in notebook 08 and used in notebook 07. Two rate–quality curves are interpolated
(Akima, in log rate) over the quality range both cover, and the average log-rate difference
becomes a percentage: +10% means the test codec needs 10% more bits than the anchor for the same
quality, on average over that range. The integration is the maintained `bjontegaard` package's;
this module checks the curves first and says what is wrong with them in one line.
"""

from __future__ import annotations

import math
import warnings

import numpy as np


def _curve(rates, quality, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A curve's points sorted by rate; ValueError unless quality rises strictly with rate."""
    rates, quality = np.asarray(rates, np.float64), np.asarray(quality, np.float64)
    if rates.ndim != 1 or rates.shape != quality.shape or len(rates) < 2:
        raise ValueError(f"The {name} curve needs at least two (rate, quality) points, as two "
                         f"equally long lists; got shapes {list(rates.shape)} and "
                         f"{list(quality.shape)}.")
    if not (np.isfinite(rates).all() and np.isfinite(quality).all() and (rates > 0).all()):
        raise ValueError(f"The {name} curve's rates must be positive and its rates and quality "
                         f"finite (a lossless point has infinite PSNR: leave it out).")
    order = np.argsort(rates, kind="stable")
    rates, quality = rates[order], quality[order]
    if not (np.diff(rates) > 0).all() or not (np.diff(quality) > 0).all():
        raise ValueError(f"The {name} curve's quality must rise strictly with its rate (use PSNR "
                         f"or -MAE, and only points on the curve's Pareto front).")
    return rates, quality


def shared_quality(anchor_quality, test_quality) -> tuple[float, float]:
    """The quality range both curves cover, (low, high); low > high when they share none."""
    return (max(np.min(anchor_quality), np.min(test_quality)),
            min(np.max(anchor_quality), np.max(test_quality)))


def bd_rate(anchor_rates, anchor_quality, test_rates, test_quality) -> float:
    """The Bjøntegaard delta rate of the test curve against the anchor, in percent (negative:
    the test codec needs fewer bits). Quality must rise with rate (PSNR in dB, or -MAE). Raises
    ValueError for curves that are not curves or share no quality range."""
    import bjontegaard

    anchor = _curve(anchor_rates, anchor_quality, "anchor")
    test = _curve(test_rates, test_quality, "test")
    low, high = shared_quality(anchor[1], test[1])
    if not low < high:
        raise ValueError(f"The curves share no quality range (anchor {anchor[1][0]:.4g} to "
                         f"{anchor[1][-1]:.4g}, test {test[1][0]:.4g} to {test[1][-1]:.4g}), so "
                         f"no BD-rate can be computed.")
    with warnings.catch_warnings():  # a small overlap is reported by the callers, with its range
        warnings.simplefilter("ignore")
        percent = bjontegaard.bd_rate(*anchor, *test, method="akima",
                                      require_matching_points=False, min_overlap=0)
    if not math.isfinite(percent):
        raise ValueError("The BD-rate is not a finite number for these curves.")
    return float(percent)


__all__ = ["bd_rate", "shared_quality"]
