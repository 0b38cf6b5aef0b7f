"""The numpy range coder: table quantization, std::sort order, round trips, and hostile input."""

import shutil
import subprocess

import numpy as np
import pytest

from mnist_compression.range_coder import (
    CodingTables,
    TableError,
    decode,
    encode,
    quantize_pmf,
)
from mnist_compression.stl_sort import stl_sort


def _random_tables(rng, channels=12, precision=12):
    pmfs, offsets = [], []
    for _ in range(channels):
        length = int(rng.integers(1, 40))
        pmf = rng.dirichlet(np.full(length, rng.uniform(0.05, 3)))
        pmfs.append(np.append(pmf * 0.995, 0.005).astype(np.float32))
        offsets.append(int(rng.integers(-20, 5)))
    return CodingTables.from_pmfs(pmfs, offsets, precision)


# --- std::sort -----------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 15, 16, 17, 40, 300])
def test_stl_sort_sorts(n):
    rng = np.random.default_rng(n)
    items = rng.integers(0, 5, n).tolist()
    stl_sort(items, lambda a, b: a < b)
    assert items == sorted(items)


def test_stl_sort_is_stable_below_the_insertion_threshold():
    items = [(k % 3, i) for i, k in enumerate(range(16))]
    stl_sort(items, lambda a, b: a[0] < b[0])
    assert items == sorted(items)


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
    for keys, line in zip(cases, output):
        items = [(k, i) for i, k in enumerate(keys)]
        stl_sort(items, lambda a, b: a[0] < b[0])
        assert [i for _, i in items] == [int(x) for x in line.split()]


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


def test_flat_layout_round_trips():
    tables = _random_tables(np.random.default_rng(3))
    flat = tables.to_flat()
    assert flat.dtype == np.int32 and (flat == -12).sum() == len(tables.lengths)
    again = CodingTables.from_flat(flat, tables.offsets)
    assert np.array_equal(again.cdf, tables.cdf) and np.array_equal(again.lengths, tables.lengths)


# --- coding --------------------------------------------------------------------------------------

@pytest.mark.parametrize("precision", [10, 12, 16])
def test_round_trip_including_escapes(precision):
    rng = np.random.default_rng(precision)
    tables = _random_tables(rng, precision=precision)
    symbols = tables.offsets + rng.integers(-3, 45, (3000, len(tables.lengths)))
    symbols[:50] = rng.integers(-(2**29), 2**29, (50, len(tables.lengths)))
    strings = encode(symbols, tables)
    assert len(strings) == 3000 and all(isinstance(s, bytes) for s in strings)
    decoded, sane = decode(strings, tables)
    assert decoded.dtype == np.int32
    np.testing.assert_array_equal(decoded, symbols)
    assert sane.all()


def test_likely_symbols_cost_few_bytes():
    tables = CodingTables.from_pmfs([np.array([0.97, 0.01, 0.01, 0.01], np.float32)] * 50, [0] * 50)
    strings = encode(np.zeros((10, 50), np.int64), tables)
    # 50 symbols of probability ~0.97 carry ~2.2 bits. All take the first bin, whose interval
    # starts at 0, so the final value is 0 and even the byte for it is implicit.
    assert {len(s) for s in strings} == {0}
    decoded, sane = decode(strings, tables)
    assert not decoded.any() and sane.all()


def test_empty_batch_and_shape_errors():
    tables = _random_tables(np.random.default_rng(4))
    assert encode(np.zeros((0, len(tables.lengths))), tables) == []
    with pytest.raises(ValueError, match=r"Expected symbols shaped \[N, 12\]"):
        encode(np.zeros((2, 3)), tables)


@pytest.mark.timeout(10)
def test_values_tfc_would_never_finish_encoding_raise():
    tables = _random_tables(np.random.default_rng(5))
    symbols = np.zeros((2, len(tables.lengths)), np.int64)
    symbols[1, 3] = 2**31 - 1
    with pytest.raises(ValueError, match="more than 2\\*\\*30 beyond"):
        encode(symbols, tables)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("string", [b"\xff\xf0", b"\xff" * 8, b"\x00" * 30, b"\xff\xff\xff\xff"])
def test_strings_that_hang_tfc_return_and_fail_the_sanity_check(string):
    tables = CodingTables.from_pmfs(
        [np.array([1e-4, 0.9997, 1e-4, 1e-4], np.float32)] * 10, [-1] * 10)
    decoded, sane = decode([string], tables)
    assert decoded.shape == (1, 10) and not sane[0]


@pytest.mark.timeout(30)
def test_random_bytes_always_decode_to_something():
    rng = np.random.default_rng(6)
    tables = _random_tables(rng)
    strings = [rng.bytes(int(rng.integers(0, 40))) for _ in range(3000)]
    decoded, sane = decode(strings, tables)
    assert decoded.shape == (3000, len(tables.lengths)) and sane.dtype == bool


def test_damaged_strings_fail_the_sanity_check():
    rng = np.random.default_rng(7)
    tables = _random_tables(rng)
    symbols = tables.offsets + rng.integers(0, 10, (500, len(tables.lengths)))
    strings = encode(symbols, tables)
    _, sane = decode([s + b"\x01" for s in strings], tables)
    assert sane.mean() < 0.02
    _, sane = decode([b"\x5a" + s for s in strings], tables)
    assert sane.mean() < 0.05
