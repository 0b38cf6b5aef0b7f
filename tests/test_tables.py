"""Coding tables: std::sort order, pmf quantization, and `build_tables` from a prior."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from mnist_compression.coding.range_coder import TableError
from mnist_compression.coding.stl_sort import stl_sort
from mnist_compression.coding.tables import (
    build_tables,
    quantization_offsets,
    quantize_pmf,
)

DOC_SCALES = np.linspace(0.01, 2.0, 10).astype(np.float32)


# --- std::sort -----------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 15, 16, 17, 40, 300])
def test_stl_sort_sorts(n):
    rng = np.random.default_rng(n)
    items = rng.integers(0, 5, n).tolist()
    stl_sort(items, lambda a, b: a < b)
    assert items == sorted(items)


def test_stl_sort_is_stable_up_to_the_insertion_threshold():
    rng = np.random.default_rng(1)
    for n in range(1, 17):  # libstdc++ only insertion-sorts up to 16 elements
        items = [(int(k), i) for i, k in enumerate(rng.integers(0, 3, n))]
        stl_sort(items, lambda a, b: a[0] < b[0])
        assert items == sorted(items), n  # equal keys keep their original order


_CPP = r"""
#include <algorithm>
#include <cstdio>
#include <vector>
int main() {
  int n;
  while (std::scanf("%d", &n) == 1) {
    std::vector<std::pair<double, int>> v(n);
    for (int i = 0; i < n; ++i) { std::scanf("%lf", &v[i].first); v[i].second = i; }
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& p : v) std::printf("%d ", p.second);
    std::printf("\n");
  }
}
"""


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++ to run the real std::sort")
def test_stl_sort_orders_ties_exactly_like_libstdcxx(tmp_path):
    (tmp_path / "sort.cc").write_text(_CPP)
    subprocess.run(["g++", "-O1", "-std=c++17", "-o", str(tmp_path / "sort"),
                    str(tmp_path / "sort.cc")], check=True)
    rng = np.random.default_rng(0)
    cases = [rng.integers(0, int(rng.integers(1, 6)), int(rng.integers(17, 400))).astype(float)
             for _ in range(200)]
    cases += [np.zeros(100), np.arange(200.0)[::-1], np.tile([1.0, 0.0], 60)]
    stdin = "".join(f"{len(c)} " + " ".join(map(str, c)) + "\n" for c in cases)
    output = subprocess.run([str(tmp_path / "sort")], input=stdin, capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert len(output) == len(cases)
    unstable = 0
    for keys, line in zip(cases, output):
        items = [(k, i) for i, k in enumerate(keys)]
        stl_sort(items, lambda a, b: a[0] < b[0])
        assert [i for _, i in items] == [int(x) for x in line.split()]
        unstable += [i for _, i in items] != sorted(range(len(keys)), key=lambda i: keys[i])
    assert unstable > 100  # ties are broken in std::sort's own order, not a stable one


# --- tables --------------------------------------------------------------------------------------

@pytest.mark.parametrize("precision", [8, 12, 16])
def test_quantized_pmf_sums_to_the_precision_and_keeps_every_bin(precision):
    rng = np.random.default_rng(precision)
    for _ in range(50):
        pmf = rng.dirichlet(np.full(int(rng.integers(2, 200)), 0.3)).astype(np.float32)
        counts = quantize_pmf(pmf, precision)
        assert counts.sum() == 2**precision and counts.min() >= 1


def test_quantized_pmf_of_an_exact_pmf_is_exact():
    counts = quantize_pmf(np.array([0.5, 0.25, 0.125, 0.125], np.float32), 4)
    assert counts.tolist() == [8, 4, 2, 2]


def test_quantization_gives_a_shortfall_to_the_bins_that_gain_most():
    # rint gives [6, 6, 3]: one too few. An increment is worth 0.4 * log2(7 / 6) = 0.089 bits in
    # either large bin and 0.2 * log2(4 / 3) = 0.083 bits in the small one.
    counts = quantize_pmf(np.array([0.4, 0.4, 0.2], np.float32), 4)
    assert counts[2] == 3 and sorted(counts[:2].tolist()) == [6, 7]


def test_quantization_takes_excess_from_the_cheapest_bins():
    # rint gives [2048, 2048, 1, 1, 1]: three too many, taken from the two large bins, which
    # lose the fewest bits per count; the tiny bins keep their minimum of 1.
    counts = quantize_pmf(np.array([0.5, 0.5, 1e-6, 1e-6, 1e-6], np.float32), 12)
    assert counts[2:].tolist() == [1, 1, 1] and counts.sum() == 4096
    assert sorted(counts[:2].tolist()) == [2046, 2047]


@pytest.mark.timeout(10)
def test_too_many_bins_raise_a_clear_error():
    with pytest.raises(TableError, match="5000 bins cannot be coded at precision 12"):
        quantize_pmf(np.full(5000, 1 / 5000, np.float32), 12)


# --- tables from a prior --------------------------------------------------------------------------

def test_tables_match_the_numbers_observed_with_tfc():
    """NoisyLogistic(loc=0, scale=linspace(.01, 2, 10)), as tensorflow-compression 2.14.1 builds
    it: offsets, lengths, the first channel's cdf and the flat length."""
    tables = build_tables(0.0, DOC_SCALES)
    assert tables.offsets.tolist() == [-1, -2, -3, -5, -6, -7, -9, -10, -12, -13]
    assert tables.lengths.tolist() == [3, 5, 7, 11, 13, 15, 19, 21, 25, 27]
    flat = tables.to_flat()
    assert len(flat) == 176 and flat[:6].tolist() == [-12, 0, 1, 4094, 4095, 4096]


def test_every_table_sums_to_the_precision_and_keeps_every_bin():
    scale = np.geomspace(1e-3, 300, 40).astype(np.float32)
    for precision in (12, 16):
        tables = build_tables(0.0, scale, precision=precision)
        for row, length in zip(tables.cdf, tables.lengths):
            counts = np.diff(row[:length + 2])
            assert row[0] == 0 and row[length + 1] == 2**precision and counts.min() >= 1


def test_wider_priors_get_wider_tables():
    tables = build_tables(0.0, np.array([0.1, 1.0, 10.0, 100.0], np.float32))
    assert np.all(np.diff(tables.lengths) > 0)


def test_offsets_follow_the_locations():
    assert quantization_offsets(np.zeros(3)) is None
    np.testing.assert_allclose(quantization_offsets([0.0, 2.3, -0.7, 2.5]), [0, 0.3, 0.3, 0.5],
                               atol=1e-6)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("scale, message", [
    ([1.0, 400.0], "too wide to code.*needs 4992 bins, more than the 2\\*\\*12"),
    ([1.0, 0.0], "positive finite"),
    ([1.0, -2.0], "positive finite"),
    ([1.0, np.nan], "positive finite"),
    ([np.inf], "positive finite"),
])
def test_priors_that_cannot_be_coded_raise_clearly(scale, message):
    with pytest.raises(TableError, match=message):
        build_tables(0.0, np.array(scale, np.float32))


def test_locations_beyond_any_integer_raise():
    with pytest.raises(TableError, match="beyond"):
        build_tables(np.float32(3e9), np.float32([1.0]))


def test_tables_do_not_import_tensorflow():
    code = ("import sys; from mnist_compression.coding import tables, range_coder; "
            "tables.build_tables(0.0, [1.0, 2.0]); print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
