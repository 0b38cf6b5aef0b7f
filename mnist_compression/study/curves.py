"""Reading measured rate–distortion curves: BD-rates, secants, hulls, time-sharing, and bits at
equal distortion.

Introduced in notebook 05 (`secant_slopes`) and notebook 07 (`compare_at_equal_distortion`, the
BD-rates); notebook 07 draws the lower convex hull (`lower_convex_hull`); notebook 08 compares its
variable-rate model by BD-rate (`rows_bd_rate`) and with time-sharing (`time_sharing`). The rows are
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


def bd_rate_table(pairs, lowest_lambda: float = 0.0) -> list:
    """One row per (test name, test rows, anchor name, anchor rows) of `pairs`: the BD-rate of
    the test curve against the anchor along PSNR and along -MAE, on the models with λ at least
    `lowest_lambda` (notebook 08 compares the variable-rate model with two sets of anchors and
    two seeds). A BD-rate that cannot be computed is None, with the reason."""
    table = []
    for test_name, test_rows, anchor_name, anchor_rows in pairs:
        row = dict(test=test_name, anchor=anchor_name, psnr=None, mae=None, reason=None)
        for quality in QUALITIES:
            try:
                row[quality] = rows_bd_rate(
                    [r for r in anchor_rows if r["lmbda"] >= lowest_lambda],
                    [r for r in test_rows if r["lmbda"] >= lowest_lambda], quality)["bd_rate"]
            except ValueError as err:
                row[quality], row["reason"] = None, str(err)
        table.append(row)
    return table


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


def lower_convex_hull(points) -> list:
    """The indices of the (distortion, rate) `points` on their lower convex hull, in order of
    distortion: the only points some λ makes cheapest in R + λD (notebook 05), and the corners
    between which time-sharing reaches every point of the chord (notebooks 07 and 08). A point
    above a chord between two others is beaten at every λ."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    hull = []
    for i in order:
        if hull and points[hull[-1]][1] <= points[i][1]:
            continue  # no fewer bits for more distortion: never cheapest
        while len(hull) >= 2:
            (d1, r1), (d2, r2), (d3, r3) = (points[j] for j in (hull[-2], hull[-1], i))
            if (r2 - r1) * (d3 - d1) < (r3 - r1) * (d2 - d1):
                break  # the middle point lies below the chord from the first to the new one
            hull.pop()
        hull.append(i)
    return hull


def time_sharing(a: dict, b: dict, bits: float, rate: str = "string_bits",
                 distortion: str = "mae") -> float:
    """The distortion of time-sharing between the points `a` and `b` (rows): coding a share of
    the digits with one codec and the rest with the other, so as to spend `bits` per digit on
    average. Any `bits` between the two rates is reachable this way, at the distortion of the
    straight chord between them (notebook 08 compares interpolated λ with it)."""
    (r1, d1), (r2, d2) = ((row[rate], row[distortion]) for row in (a, b))
    if not min(r1, r2) <= bits <= max(r1, r2):
        raise ValueError(f"Time-sharing reaches only rates between the two points' "
                         f"{min(r1, r2):g} and {max(r1, r2):g} bits; got {bits:g}.")
    if r1 == r2:  # every share spends the same bits: the better point alone
        return min(d1, d2)
    share = (bits - r2) / (r1 - r2)  # of the digits coded with a
    return share * d1 + (1 - share) * d2


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


__all__ = ["LOSSY_CODECS", "QUALITIES", "bd_rate_against_classical", "bd_rate_table",
           "compare_at_equal_distortion", "describe_bd_rate", "lower_convex_hull", "rows_bd_rate",
           "secant_slopes", "time_sharing"]
