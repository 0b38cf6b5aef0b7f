"""The rate–distortion study: sweep results, resuming, classical baselines and the comparison."""

import csv
import json

import numpy as np
import pytest

from mnist_compression import training
from mnist_compression.cli.sweep import main, run
from mnist_compression.settings import TrainingSettings
from mnist_compression.study import baselines
from mnist_compression.study.baselines import classical_codecs, evaluate_baselines
from mnist_compression.study.curves import compare_at_equal_distortion
from mnist_compression.study.sweep import run_sweep

SWEEP_COLUMNS = {"lmbda", "val_rate", "val_distortion", "information_bits", "string_bits",
                 "overhead_bits", "shorter_than_information", "longest_string_bits",
                 "mnc_bytes_per_digit", "mae", "psnr", "seconds"}


def _tiny_sweep(folder, out, lambdas=(100, 1000), **overrides):
    settings = TrainingSettings(epochs=1, batch_size=16, data_dir=str(folder)).replace(
        **overrides)
    return run_sweep(settings, lambdas, out_dir=out, progress=False, strip_digits=4)


def test_sweep_writes_a_complete_results_file(tiny_mnist, model_cache, tmp_path):
    folder, arrays = tiny_mnist
    sweep = _tiny_sweep(folder, tmp_path / "out")
    assert [row["lmbda"] for row in sweep.rows] == [100.0, 1000.0]
    with open(tmp_path / "out" / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and set(rows[0]) == SWEEP_COLUMNS
    for written, row in zip(rows, sweep.rows, strict=True):
        assert {k: float(v) for k, v in written.items()} == pytest.approx(row)
    saved = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert saved == sweep.rows
    for row in saved:
        assert row["string_bits"] >= row["information_bits"] - 8 > 0
        assert row["overhead_bits"] == row["string_bits"] - row["information_bits"]
        assert 0 < row["mae"] < 1 and row["psnr"] > 0
        assert 0 <= row["shorter_than_information"] <= 1
        assert row["string_bits"] <= row["longest_string_bits"] and row["seconds"] > 0
        # One .mnc file of the 12 test digits: their strings and at least 25 header bytes.
        assert row["mnc_bytes_per_digit"] * 12 >= row["string_bits"] * 12 / 8 + 25
    assert sweep.codecs.keys() == sweep.reconstructions.keys() == {100.0, 1000.0}
    validation = arrays["test"][0][:4, ..., None]
    for lmbda, (compressor, decompressor) in sweep.codecs.items():
        np.testing.assert_array_equal(sweep.reconstructions[lmbda],
                                      decompressor.decompress(compressor.compress(validation)))


def test_an_interrupted_sweep_resumes_without_retraining(tiny_mnist, model_cache, tmp_path,
                                                         count_training, monkeypatch):
    folder, _ = tiny_mnist
    counting = training.train_model

    def interrupted_at_1000(settings, *args, **kwargs):
        if settings.lmbda == 1000:
            raise KeyboardInterrupt
        return counting(settings, *args, **kwargs)

    monkeypatch.setattr(training, "train_model", interrupted_at_1000)
    with pytest.raises(KeyboardInterrupt):
        _tiny_sweep(folder, tmp_path / "a", lambdas=(100, 1000, 5000))
    assert count_training == [100]
    # The rows measured before the interruption are on disk.
    assert [row["lmbda"] for row in json.loads((tmp_path / "a" / "sweep.json").read_text())] == [
        100.0]
    monkeypatch.setattr(training, "train_model", counting)
    sweep = _tiny_sweep(folder, tmp_path / "b", lambdas=(100, 1000, 5000))
    assert count_training == [100, 1000, 5000]
    assert [row["lmbda"] for row in sweep.rows] == [100.0, 1000.0, 5000.0]


def test_a_changed_setting_retrains_every_model(tiny_mnist, model_cache, tmp_path, count_training):
    folder, _ = tiny_mnist
    _tiny_sweep(folder, tmp_path / "a")
    _tiny_sweep(folder, tmp_path / "b", epochs=2)
    assert count_training == [100, 1000, 100, 1000]


@pytest.mark.parametrize("codec", sorted(classical_codecs((10, 50))))
def test_every_classical_codec_round_trips(codec, test_digits):
    digit = test_digits[0, ..., 0]
    coded = classical_codecs((10, 50))[codec](digit)
    assert coded.decoded.shape == (28, 28) and coded.decoded.dtype == np.uint8
    assert 0 < coded.payload_bytes <= coded.file_bytes
    if codec[0] in ("png", "zlib", "lzma", "raw"):
        np.testing.assert_array_equal(coded.decoded, digit)
    else:  # lossy, but the same digit: a few grey levels off on average
        error = np.abs(coded.decoded.astype(int) - digit)
        assert 0 < error.mean() < 12
        assert np.corrcoef(coded.decoded.ravel(), digit.ravel())[0, 1] > 0.95
    # What a codec stores beyond its payload: container headers and checksums.
    overhead = coded.file_bytes - coded.payload_bytes
    if codec[0] == "raw":
        assert coded.file_bytes == 784 and overhead == 0
    elif codec[0] == "zlib":
        assert overhead == 2 + 4  # zlib header and Adler-32
    elif codec[0] == "png":
        assert overhead == 8 + 25 + 12 + 12  # signature, IHDR, IEND, IDAT framing
    elif codec[0] == "lzma":
        assert 56 <= overhead <= 59  # .xz headers, index, CRC-64, padding to 4 bytes
    elif codec[0] == "webp":  # RIFF and chunk headers, VP8 frame header, odd-length padding
        assert overhead == 12 + 8 + 10 + (coded.payload_bytes + 10) % 2


def test_baseline_rows_are_consistent(test_digits):
    rows = {(r["codec"], r["quality"]): r for r in evaluate_baselines(test_digits[:20], (10, 90))}
    for lossless in ("png", "zlib", "lzma", "raw"):
        assert rows[(lossless, None)]["mae"] == 0 and rows[(lossless, None)]["psnr"] == np.inf
    assert rows[("raw", None)]["file_bits"] == 6272
    for codec in ("jpeg", "webp"):
        low, high = rows[(codec, 10)], rows[(codec, 90)]
        assert low["mae"] > high["mae"] > 0 and low["payload_bits"] < high["payload_bits"]
        assert low["payload_bits"] < low["file_bits"]


def test_payload_parsers_count_the_right_bytes(test_digits):
    digit = test_digits[1, ..., 0]
    png = baselines._pil_bytes(digit, format="PNG")
    assert baselines.png_payload(png) == len(png) - 8 - 25 - 12 - 12  # signature, IHDR, IEND, IDAT
    # JPEG: what precedes the scan data (markers, quantisation and Huffman tables, the SOS
    # header) is the same for every digit at one quality; the payload is the rest before EOI.
    heads, payloads = set(), []
    for digit in test_digits[:10, ..., 0]:
        jpeg = baselines._pil_bytes(digit, format="JPEG", quality=50)
        payload = baselines.jpeg_payload(jpeg)
        assert jpeg[-2:] == b"\xff\xd9" and jpeg[:2] == b"\xff\xd8"
        heads.add(jpeg[:len(jpeg) - 2 - payload])
        payloads.append(payload)
    [head] = heads
    assert len(head) > 300 and head[-10:-6] == b"\xff\xda\x00\x08"  # SOS, for 1 channel
    assert min(payloads) > 0 and len(set(payloads)) > 1
    # WebP (lossy): the payload leaves out RIFF (12 bytes), the VP8 chunk header (8) and the
    # 10-byte frame header: 3-byte frame tag, start code 9d 01 2a, width and height (28, 28).
    webp = baselines._pil_bytes(test_digits[1, ..., 0], format="WEBP", quality=50, method=6)
    assert webp[:4] == b"RIFF" and webp[8:16] == b"WEBPVP8 "
    assert webp[23:30] == b"\x9d\x01\x2a\x1c\x00\x1c\x00"
    chunk = int.from_bytes(webp[16:20], "little")
    assert len(webp) == 20 + chunk + chunk % 2
    assert baselines.webp_payload(webp) == chunk - 10


def test_comparison_interpolates_and_never_extrapolates():
    classical = [dict(codec="jpeg", mae=0.02, payload_bits=800.0),
                 dict(codec="jpeg", mae=0.04, payload_bits=200.0),
                 dict(codec="jpeg", mae=0.045, payload_bits=260.0),  # dominated: ignored
                 dict(codec="webp", mae=0.01, payload_bits=900.0),
                 dict(codec="webp", mae=0.03, payload_bits=500.0),
                 dict(codec="png", mae=0.0, payload_bits=1700.0)]
    learned = [dict(lmbda=2000.0, mae=0.03, string_bits=40.0),
               dict(lmbda=5000.0, mae=0.015, string_bits=50.0),
               dict(lmbda=500.0, mae=0.042, string_bits=20.0),
               dict(lmbda=300.0, mae=0.08, string_bits=10.0)]
    row, only_webp = compare_at_equal_distortion(learned, classical)
    # JPEG at MAE 0.03 lies halfway (in log bits) between 800 and 200: 400 bits; WebP needs 500.
    assert row == dict(lmbda=2000.0, mae=0.03, learned_bits=40.0, codec="jpeg",
                       classical_bits=pytest.approx(400), ratio=pytest.approx(10))
    # MAE 0.015 is below JPEG's range, a quarter of the way along WebP's (in log bits).
    assert only_webp["lmbda"] == 5000.0 and only_webp["codec"] == "webp"
    assert only_webp["classical_bits"] == pytest.approx(900 * (500 / 900) ** 0.25)
    assert only_webp["ratio"] == pytest.approx(only_webp["classical_bits"] / 50)
    # MAE 0.042 lies beyond JPEG's Pareto front (the dominated 0.045 is not on it), 0.08
    # beyond every codec: neither is compared.


def test_command_line_quick_study(tiny_mnist, model_cache, tmp_path, capsys):
    folder, _ = tiny_mnist
    out = tmp_path / "study"
    result = run(["--lambdas", "100", "1000", "--epochs", "1", "--batch-size", "16",
                  "--qualities", "5", "50", "--data-dir", str(folder), "--out", str(out)])
    for name in ("sweep.csv", "sweep.json", "baselines.csv", "baselines.json",
                 "rate_distortion.png", "digit_strip.png", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    assert [row["lmbda"] for row in result["sweep"]] == [100.0, 1000.0]
    assert sorted((row["codec"], row["quality"] or 0) for row in result["baselines"]) == [
        ("jpeg", 5), ("jpeg", 50), ("lzma", 0), ("png", 0), ("raw", 0), ("webp", 5),
        ("webp", 50), ("zlib", 0)]
    assert json.loads((out / "sweep.json").read_text()) == result["sweep"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["lambdas"] == [100.0, 1000.0] and summary["qualities"] == [5, 50]
    assert summary["settings"]["epochs"] == 1 and summary["settings"]["batch_size"] == 16
    printed = capsys.readouterr().out.splitlines()
    # The classifier and each model are trained and stored, then the summary, then one line per
    # comparison.
    summary_line = printed.index(next(line for line in printed if "measured" in line))
    assert printed[:summary_line] == [
        "Training the digit classifier on 40 digits (4 epochs)...",
        *(f"Saved the λ={lmbda} model to {model_cache / name}" for lmbda, name in zip(
            (100, 1000), sorted(p.name for p in model_cache.glob("lmbda*")), strict=True))]
    assert printed[summary_line].startswith("2 models and 8 classical settings measured in ")
    assert printed[summary_line].endswith(f" s; results in {out}")
    assert len(printed) == summary_line + 1 + len(result["comparisons"])
    for line, row in zip(printed[summary_line + 1:], result["comparisons"], strict=True):
        assert line.startswith(f"λ={row['lmbda']:g}: MAE {row['mae']:.4f} with ")


def test_quick_fills_in_only_what_was_not_given(tiny_mnist, model_cache, tmp_path,
                                                count_training):
    folder, _ = tiny_mnist
    main(["--quick", "--lambdas", "700", "--batch-size", "16", "--data-dir", str(folder),
          "--out", str(tmp_path / "q")])
    assert count_training == [700]
    summary = json.loads((tmp_path / "q" / "summary.json").read_text())
    # Given: the λ and the batch size; the rest from --quick.
    assert summary["lambdas"] == [700.0] and summary["qualities"] == [1, 10, 50, 90]
    assert summary["settings"] == TrainingSettings(
        epochs=2, train_examples=4096, validation_examples=1000, batch_size=16,
        data_dir=str(folder)).as_dict()


def test_help_names_the_options(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--epochs", "--lambdas", "--out", "--quick"):
        assert option in text


@pytest.mark.slow
def test_rate_falls_and_distortion_rises_as_lambda_falls(mnist_dir, model_cache):
    settings = TrainingSettings(epochs=2, train_examples=8192, validation_examples=1000,
                                data_dir=str(mnist_dir))
    sweep = run_sweep(settings, (100, 3000), progress=False)
    low, high = sweep.rows
    assert low["lmbda"] == 100 and high["lmbda"] == 3000
    assert low["val_rate"] < high["val_rate"] and low["string_bits"] < high["string_bits"]
    assert low["mae"] > high["mae"]


def test_secant_slopes_join_neighbours_in_order_of_distortion():
    from mnist_compression.study.curves import secant_slopes

    rows = [dict(lmbda=500, val_rate=14.39, val_distortion=0.0612),
            dict(lmbda=2000, val_rate=40.32, val_distortion=0.0368),
            dict(lmbda=300, val_rate=8.73, val_distortion=0.0759)]
    slopes = secant_slopes(rows)
    assert [(a["lmbda"], b["lmbda"]) for a, b, _ in slopes] == [(2000, 500), (500, 300)]
    # The README's numbers: about −1,063 and −385 bits per unit of distortion.
    assert [round(s) for _, _, s in slopes] == [-1063, -385]


def test_lower_convex_hull_keeps_only_the_corners_some_lambda_makes_cheapest():
    from mnist_compression.study.curves import lower_convex_hull

    # (distortion, rate): a point above the chord of its neighbours (index 2: the chord from
    # (0.05, 20) to (0.15, 0) passes 10 bits at 0.10), a point beaten outright (index 4: more
    # distortion and more bits than index 1), and a tie in distortion (index 5).
    points = [(0.02, 60.0), (0.05, 20.0), (0.10, 12.0), (0.15, 0.0), (0.06, 25.0),
              (0.02, 70.0)]
    assert lower_convex_hull(points) == [0, 1, 3]
    # Every λ picks a hull point: brute force over a grid of prices.
    for lmbda in np.geomspace(1, 10_000, 200):
        costs = [r + lmbda * d for d, r in points]
        assert int(np.argmin(costs)) in {0, 1, 3}
    assert lower_convex_hull([(0.1, 5.0)]) == [0]
    assert lower_convex_hull([]) == []


def test_time_sharing_follows_the_straight_chord():
    from mnist_compression.study.curves import time_sharing

    low = dict(string_bits=20.0, mae=0.06)
    high = dict(string_bits=40.0, mae=0.04)
    # A quarter of the digits at 20 bits and three quarters at 40 spend 35 bits on average,
    # at 0.25 · 0.06 + 0.75 · 0.04 = 0.045.
    assert time_sharing(low, high, 35.0) == pytest.approx(0.045)
    assert time_sharing(high, low, 35.0) == pytest.approx(0.045)
    assert time_sharing(low, high, 20.0) == pytest.approx(0.06)
    # Two points at the same rate (two collapsed models at the coder's 8-bit minimum): the
    # better one alone.
    assert time_sharing(dict(string_bits=8.0, mae=0.12), dict(string_bits=8.0, mae=0.119),
                        8.0) == 0.119
    with pytest.raises(ValueError, match="between the two points' 20 and 40 bits; got 41"):
        time_sharing(low, high, 41.0)
