"""Reading measured rate–distortion curves: BD-rates, secants, and bits at equal distortion.

Introduced in notebook 05 (`secant_slopes`) and notebook 07 (`compare_at_equal_distortion`, the
BD-rates); notebook 08 compares its variable-rate model by BD-rate (`rows_bd_rate`). The rows are
those `sweep.rd_record` and `baselines.evaluate_baselines` make; `bd_rate` does the arithmetic.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .bd_rate import bd_rate, shared_quality

LOSSY_CODECS = ("jpeg", "webp")


QUALITIES = ("psnr", "mae")  # what BD-rates are measured along: PSNR, or -MAE


def _front(rows, rate: str, quality: str) -> tuple[list, list]:
    """The (rate, quality) points of rows on their Pareto front (no other point has fewer bits
    and better quality), quality being PSNR or -MAE; lossless rows (MAE 0) left out, and a
    ValueError for a row whose rate or quality is not a finite number."""
    if quality not in QUALITIES:
        raise ValueError(f"quality must be one of {QUALITIES}, got {quality!r}.")
    points = []
    for row in rows:
        if row["mae"] == 0:  # lossless: no point of a lossy curve
            continue
        point = (-row["psnr"] if quality == "psnr" else row["mae"], row[rate])
        if not all(isinstance(v, numbers.Real) and math.isfinite(v) for v in point):
            raise ValueError(f"A row (λ or codec {row.get('lmbda', row.get('codec'))!r}) has a "
                             f"{quality} or {rate} that is not a finite number: {point}.")
        points.append(point)
    front = _pareto_front(points)
    return [bits for _, bits in front], [-q for q, _ in front]


def rows_bd_rate(anchor_rows, test_rows, quality: str = "psnr", anchor_rate="string_bits",
                 test_rate="string_bits") -> dict:
    """The BD-rate (`bd_rate.bd_rate`, percent) of one rate–distortion curve against another,
    each given as rows (`rd_record`s or classical codec rows) and reduced to its Pareto front,
    along PSNR or -MAE: dict(bd_rate, low, high, anchor_points, test_points), low and high
    bounding the quality range both cover (in dB, or in MAE). Raises ValueError when it cannot
    be computed (fewer than two points on a front, or no shared range)."""
    anchor = _front(anchor_rows, anchor_rate, quality)
    test = _front(test_rows, test_rate, quality)
    percent = bd_rate(*anchor, *test)  # checks the curves first
    low, high = shared_quality(anchor[1], test[1])
    if quality == "mae":
        low, high = -high, -low
    return dict(bd_rate=percent, low=low, high=high,
                anchor_points=len(anchor[0]), test_points=len(test[0]))


def describe_bd_rate(label: str, result: dict, quality: str = "psnr") -> str:
    """One line for a `rows_bd_rate` or `bd_rate_against_classical` result: the BD-rate and
    the range it averages over, or why there is none."""
    if result.get("bd_rate") is None:
        return f"{label} ({quality.upper()}): no BD-rate, the curves share no quality range"
    low, high = ((f"{result['low']:.1f}", f"{result['high']:.1f} dB") if quality == "psnr"
                 else (f"MAE {result['low']:.4f}", f"{result['high']:.4f}"))
    return f"{label} ({quality.upper()}): BD-rate {result['bd_rate']:+.1f}% over {low} to {high}"


def bd_rate_against_classical(sweep_rows, baseline_rows, quality: str = "psnr") -> list:
    """For each lossy classical codec (payload bits, the files' own headers left out):
    `rows_bd_rate` of the learned codec's real strings against it, with "codec" added; a codec
    whose curve shares no quality range with the learned one gets ``bd_rate=None`` and the
    reason (notebooks 07 and 08)."""
    results = []
    for codec in LOSSY_CODECS:
        rows = [r for r in baseline_rows if r["codec"] == codec]
        try:
            result = rows_bd_rate(rows, sweep_rows, quality, anchor_rate="payload_bits")
        except ValueError as err:
            result = dict(bd_rate=None, reason=str(err))
        results.append(dict(codec=codec, **result))
    return results


def secant_slopes(rows) -> list:
    """``(a, b, slope)`` for each pair of neighbours on the measured curve in order of test
    distortion (so `a`, the lower distortion, is the model of the higher λ): the slope of the
    straight line joining their (test distortion, test rate) points, in bits per unit of
    distortion, negative on a curve that falls (notebook 05 compares it with −λ)."""
    ordered = sorted(rows, key=lambda row: row["val_distortion"])
    return [(a, b, (b["val_rate"] - a["val_rate"]) / (b["val_distortion"] - a["val_distortion"]))
            for a, b in zip(ordered, ordered[1:])]


def _pareto_front(points):
    """The (mae, bits) points no other point beats in both; e.g. JPEG at quality 5 can be both
    larger and worse than at quality 1, and then quality 5 is not on the codec's curve."""
    front = []
    for mae, bits in sorted(points):
        if not front or bits < front[-1][1]:
            front.append((mae, bits))
    return front


def compare_at_equal_distortion(sweep_rows, baseline_rows, bits: str = "payload_bits") -> list:
    """For every learned model whose MAE lies inside a lossy classical codec's range of MAEs,
    the bits that codec needs at that MAE (log-linear interpolation between the qualities on its
    Pareto front) and
    how many times more that is than the learned codec's actual strings. Nothing is
    extrapolated: a model outside every codec's range gets no comparison."""
    curves = {}
    for codec in LOSSY_CODECS:
        points = _pareto_front([(r["mae"], r[bits]) for r in baseline_rows if r["codec"] == codec])
        if len(points) >= 2:
            curves[codec] = np.array(points)
    comparisons = []
    for row in sweep_rows:
        candidates = {}
        for codec, curve in curves.items():
            if curve[0, 0] <= row["mae"] <= curve[-1, 0]:
                candidates[codec] = float(np.exp(np.interp(row["mae"], curve[:, 0],
                                                           np.log(curve[:, 1]))))
        if candidates:
            codec = min(candidates, key=candidates.get)
            comparisons.append(dict(lmbda=row["lmbda"], mae=row["mae"],
                                    learned_bits=row["string_bits"], codec=codec,
                                    classical_bits=candidates[codec],
                                    ratio=candidates[codec] / row["string_bits"]))
    return comparisons


__all__ = ["LOSSY_CODECS", "QUALITIES", "bd_rate_against_classical", "compare_at_equal_distortion",
           "describe_bd_rate", "rows_bd_rate", "secant_slopes"]
