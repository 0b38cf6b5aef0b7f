"""Range-coding tables from a prior, identical on every stack.

`build_tables` turns one noisy logistic per latent into integer frequency tables exactly as
tensorflow-compression 2.14.1 does on TensorFlow 2.14 (the same bins, the same counts, the same
tie-breaking), but in numpy alone: the float32 steps come from `tf_float32`, the ordering of
equal bins from `stl_sort`. Every stack codes with these tables, so a string written on any
stack decodes on any other. `docs/coding-format.md` describes the tables and the strings.
"""

from __future__ import annotations

import math

import numpy as np

from . import tf_float32 as f32
from .range_coder import DEFAULT_PRECISION, CodingTables, TableError
from .stl_sort import stl_sort

DEFAULT_TAIL_MASS = 2.0**-8
F32 = np.float32


def quantize_pmf(pmf: np.ndarray, precision: int = DEFAULT_PRECISION) -> np.ndarray:
    """Integer frequencies summing to 2**precision, every bin at least 1, as TFC computes them.

    Each count starts as round-half-even(pmf * 2**precision) in float32, at least 1. While the
    total is too large, the bin whose decrement costs the fewest expected bits is decremented
    (too small: the bin whose increment gains most is incremented), with bins ordered exactly as
    TFC's `std::sort` orders them, so even ties break the same way.
    """
    pmf = np.asarray(pmf, F32)
    total = 1 << precision
    if len(pmf) > total:
        raise TableError(
            f"A table of {len(pmf)} bins cannot be coded at precision {precision} (at most "
            f"{total} bins): the prior is too wide. Use a narrower prior or a larger tail_mass."
        )
    counts = [max(int(c), 1) for c in np.rint(pmf * F32(total))]
    mass = pmf.astype(np.float64).tolist()
    excess = sum(counts) - total
    if excess > 0:
        def key(i):
            c = counts[i]
            return math.inf if c <= 1 else mass[i] * (math.log2(c) - math.log2(c - 1))
        _rebalance(counts, key, lambda x, y: x < y, excess, -1)
    elif excess < 0:
        def key(i):
            c = counts[i]
            return -math.inf if c < 1 else mass[i] * (math.log2(c + 1) - math.log2(c))
        _rebalance(counts, key, lambda x, y: x > y, -excess, +1)
    return np.asarray(counts, np.int64)


def _rebalance(counts, key, before, steps, change):
    """Applies `steps` unit changes, always to the first bin of a queue kept sorted by `key`."""
    queue = [(key(i), i) for i in range(len(counts))]
    stl_sort(queue, lambda x, y: before(x[0], y[0]))
    for _ in range(steps):
        index = queue[0][1]
        counts[index] += change
        head = (key(index), index)
        position = 1
        while position < len(queue) and not before(head[0], queue[position][0]):
            position += 1
        queue[:position - 1] = queue[1:position]
        queue[position - 1] = head


def tables_from_pmfs(pmfs, offsets, precision: int = DEFAULT_PRECISION) -> CodingTables:
    """Tables from per-channel float32 pmfs, each ending with its escape (overflow) mass, and
    the integer value of each channel's first bin."""
    counts = [quantize_pmf(pmf, precision) for pmf in pmfs]
    width = max(len(c) for c in counts) + 1
    cdf = np.full((len(counts), width), 1 << precision, np.int64)
    for row, c in zip(cdf, counts):
        row[0] = 0
        row[1:len(c) + 1] = np.cumsum(c)
    lengths = np.array([len(c) - 1 for c in counts], np.int64)
    return CodingTables(cdf, lengths, np.asarray(offsets, np.int64), precision)


def quantization_offsets(loc) -> np.ndarray | None:
    """The offset heuristic: each location's distance from the nearest integer (half to even),
    or None when every offset is zero, as tensorflow-compression stores it."""
    loc = f32.flush_denormals(np.asarray(loc, F32))  # TF 2.14 reads denormals as zero
    offsets = f32.flush_denormals((loc - np.rint(loc)).astype(F32))
    return None if not offsets.any() else offsets


def noisy_logistic_prob(samples, loc, scale) -> np.ndarray:
    """The noisy logistic's probability of each sample, in float32 as TF 2.14 computes it:
    from survival functions right of the median and from CDFs left of it."""
    def standardized(x):
        return f32.flush_denormals((x - loc) / scale)

    samples = f32.flush_denormals(samples)
    plus, minus = samples + F32(0.5), samples - F32(0.5)
    sf_plus, sf_minus = f32.sigmoid(-standardized(plus)), f32.sigmoid(-standardized(minus))
    cdf_plus, cdf_minus = f32.sigmoid(standardized(plus)), f32.sigmoid(standardized(minus))
    return f32.flush_denormals(np.where(sf_plus < cdf_plus, sf_minus - sf_plus,
                                        cdf_plus - cdf_minus))


def build_tables(loc, scale, tail_mass: float = DEFAULT_TAIL_MASS,
                 precision: int = DEFAULT_PRECISION, offset=None) -> CodingTables:
    """Coding tables for one `NoisyLogistic(loc, scale)` per channel (both broadcast to [C]).

    Each channel's table spans the integers from the logistic's tail_mass/2 quantile to its
    1 - tail_mass/2 quantile (shifted by `offset`), plus an escape bin for values outside. Raises
    TableError for a prior that cannot be coded: non-finite or non-positive scales, or a table
    wider than 2**precision bins.
    """
    loc, scale = (f32.flush_denormals(v) for v in np.broadcast_arrays(
        np.asarray(loc, F32), np.asarray(scale, F32)))
    if loc.ndim != 1:
        raise TableError(f"Expected one prior per latent (a vector of scales), got shape "
                         f"{list(loc.shape)}.")
    if not (np.isfinite(loc).all() and np.isfinite(scale).all() and (scale > 0).all()):
        raise TableError("Every scale of the prior must be a positive finite number, and every "
                         "location finite; a NaN or zero scale usually means a damaged model.")
    offset = np.zeros_like(loc) if offset is None else np.broadcast_to(np.asarray(offset, F32),
                                                                      loc.shape)
    with np.errstate(all="ignore"):
        lower = loc + scale * f32.log_odds(tail_mass / 2)
        upper = loc + scale * f32.log_odds(1 - tail_mass / 2)
        minima = np.floor(lower - offset)
        maxima = np.ceil(upper - offset)
    lengths = maxima - minima + 1
    widest = float(lengths.max())
    if not widest + 1 <= 1 << precision:
        raise TableError(
            f"The prior is too wide to code: its widest table needs {widest + 1:.0f} bins, more "
            f"than the 2**{precision} that precision {precision} allows. Use smaller prior "
            f"scales, a larger tail_mass, or a higher range_coder_precision."
        )
    if not (np.abs(minima) < 2**30).all() or not (np.abs(maxima) < 2**30).all():
        raise TableError("The prior's tails lie beyond ±2**30; no integer latent can be coded "
                         "that far out. Check the prior's locations.")
    minima, lengths = minima.astype(np.int64), lengths.astype(np.int64)
    start = minima.astype(F32) + offset
    samples = np.arange(int(widest), dtype=F32)[:, None] + start
    pmf = noisy_logistic_prob(samples, loc, scale).T
    pmfs = []
    for row, length in zip(pmf, lengths):
        p = row[:length]
        overflow = max(F32(F32(1) - f32.reduce_sum(p)), F32(0))
        pmfs.append(np.append(p, F32(overflow)))
    return tables_from_pmfs(pmfs, minima, precision)
