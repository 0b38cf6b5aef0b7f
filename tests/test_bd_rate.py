"""BD-rates: the package's checks around the maintained `bjontegaard` integration, by hand."""

import math

import numpy as np
import pytest

from mnist_compression.study.bd_rate import bd_rate, shared_quality
from mnist_compression.study.curves import bd_rate_against_classical, rows_bd_rate

RATES = np.array([8.0, 11.0, 17.0, 27.0, 43.0, 75.0, 109.0])
PSNR = np.array([10.5, 13.5, 15.1, 17.0, 18.9, 21.4, 23.2])


def test_a_curve_against_itself_is_zero_and_against_double_rates_plus_100_percent():
    assert bd_rate(RATES, PSNR, RATES, PSNR) == pytest.approx(0, abs=1e-12)
    assert bd_rate(RATES, PSNR, 2 * RATES, PSNR) == pytest.approx(100.0)
    assert bd_rate(RATES, PSNR, RATES / 2, PSNR) == pytest.approx(-50.0)
    assert bd_rate(2 * RATES, PSNR, RATES, PSNR) == pytest.approx(-50.0)


def test_a_constant_factor_over_part_of_the_range_counts_only_where_both_curves_are():
    """Test points only on the upper half of the anchor's quality range, each at 1.25 times the
    anchor's rate, on a curve whose log-rate is linear in PSNR (which any interpolation
    reproduces): +25% exactly."""
    rates = 2 ** (PSNR / 3)
    assert bd_rate(rates, PSNR, 1.25 * rates[3:], PSNR[3:]) == pytest.approx(25.0)
    assert shared_quality(PSNR, PSNR[3:]) == (17.0, 23.2)


def test_points_need_not_be_in_order_nor_equally_many():
    order = [3, 0, 6, 1, 5, 2, 4]
    rates = 2 ** (PSNR / 3)  # log-rate linear in PSNR: a subset interpolates to the same curve
    assert bd_rate(rates[order], PSNR[order], 2 * rates[:4], PSNR[:4]) == pytest.approx(100.0)


@pytest.mark.parametrize("rates, quality, message", [
    ([10.0], [12.0], "at least two"),
    ([10.0, 20.0], [12.0], "at least two"),
    ([10.0, 20.0], [12.0, math.inf], "finite"),
    ([0.0, 20.0], [12.0, 14.0], "positive"),
    ([10.0, 20.0, 30.0], [12.0, 14.0, 13.0], "rise strictly"),
    ([10.0, 20.0], [30.0, 40.0], "share no quality range"),
])
def test_curves_that_are_not_curves_are_refused_in_one_line(rates, quality, message):
    with pytest.raises(ValueError, match=message) as caught:
        bd_rate(RATES, PSNR, rates, quality)
    assert "\n" not in str(caught.value)


def _rows(rates, psnr, mae=None, **extra):
    mae = mae if mae is not None else [0.3 / p for p in psnr]
    return [dict(string_bits=r, payload_bits=r, psnr=p, mae=m, **extra)
            for r, p, m in zip(rates, psnr, mae)]


def test_rows_are_reduced_to_their_pareto_front_first():
    """A collapsed model (as many bits as another, worse quality) and a lossless point are
    left out; the rest is the curve."""
    anchor = _rows(RATES, PSNR)
    test = _rows(list(2 * RATES) + [16.0, 5000.0], list(PSNR) + [10.0, math.inf],
                 mae=[0.3 / p for p in PSNR] + [0.9, 0.0])
    result = rows_bd_rate(anchor, test)
    assert result["bd_rate"] == pytest.approx(100.0)
    assert result["test_points"] == 7 and result["anchor_points"] == 7
    assert (result["low"], result["high"]) == (10.5, 23.2)
    by_mae = rows_bd_rate(anchor, test, quality="mae")
    assert by_mae["bd_rate"] == pytest.approx(100.0)
    assert (by_mae["low"], by_mae["high"]) == (pytest.approx(0.3 / 23.2), pytest.approx(0.3 / 10.5))
    with pytest.raises(ValueError, match="quality must be one of"):
        rows_bd_rate(anchor, test, quality="ssim")


def test_against_classical_codecs_uses_their_payload_and_skips_codecs_without_overlap():
    learned = _rows(RATES, PSNR)
    jpeg = [dict(r, codec="jpeg") for r in _rows(4 * RATES, PSNR)]
    webp = [dict(r, codec="webp") for r in _rows([500.0, 900.0], [40.0, 45.0])]
    png = [dict(codec="png", payload_bits=1736.0, psnr=math.inf, mae=0.0, string_bits=0)]
    results = bd_rate_against_classical(learned, jpeg + webp + png)
    assert [r["codec"] for r in results] == ["jpeg", "webp"]
    assert results[0]["bd_rate"] == pytest.approx(-75.0)
    assert results[1]["bd_rate"] is None and "share no quality range" in results[1]["reason"]


def test_a_table_of_bd_rates_compares_each_pair_from_the_lowest_lambda_on():
    from mnist_compression.study.curves import bd_rate_table

    lambdas = [50.0 * 2 ** i for i in range(len(RATES))]
    anchor = [dict(row, lmbda=lm) for row, lm in zip(_rows(RATES, PSNR), lambdas)]
    double = [dict(row, lmbda=lm) for row, lm in zip(_rows(2 * RATES, PSNR), lambdas)]
    # A test curve that differs from the anchor only below λ = 300 has a BD-rate of 0 from
    # 300 on, and 100% (twice the bits at every quality) when it doubles every rate.
    low_only = [dict(row, string_bits=row["string_bits"] * (3 if row["lmbda"] < 300 else 1))
                for row in anchor]
    table = bd_rate_table([("double", double, "anchor", anchor),
                           ("low only", low_only, "anchor", anchor),
                           ("one point", double[-1:], "anchor", anchor)], lowest_lambda=300)
    assert [(r["test"], r["anchor"]) for r in table] == [("double", "anchor"),
                                                         ("low only", "anchor"),
                                                         ("one point", "anchor")]
    assert table[0]["psnr"] == pytest.approx(100.0) and table[0]["mae"] == pytest.approx(100.0)
    assert table[1]["psnr"] == pytest.approx(0.0, abs=1e-9)
    assert table[2]["psnr"] is None and table[2]["mae"] is None and table[2]["reason"]
