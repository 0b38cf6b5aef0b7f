"""The rate–distortion study: sweep results, resuming, classical baselines and the comparison."""

import csv
import json

import numpy as np
import pytest

from mnist_compression import baselines, cache
from mnist_compression.baselines import classical_codecs, evaluate_baselines
from mnist_compression.cli.sweep import main
from mnist_compression.settings import TrainingSettings
from mnist_compression.sweep import compare_at_equal_distortion, run_sweep

SWEEP_COLUMNS = {"lmbda", "val_rate", "val_distortion", "information_bits", "string_bits",
                 "overhead_bits", "shorter_than_information", "longest_string_bits",
                 "mnc_bytes_per_digit", "mae", "psnr", "seconds"}


@pytest.fixture
def count_training(monkeypatch):
    """Counts how many models are actually trained (rather than loaded from the cache)."""
    calls = []
    real_train = cache.train_model

    def counting_train(settings, *args, **kwargs):
        calls.append(settings.lmbda)
        return real_train(settings, *args, **kwargs)

    monkeypatch.setattr(cache, "train_model", counting_train)
    return calls


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
    saved = json.loads((tmp_path / "out" / "sweep.json").read_text())
    for row in saved:
        assert row["string_bits"] >= row["information_bits"] - 8 > 0
        assert row["overhead_bits"] == pytest.approx(row["string_bits"] - row["information_bits"])
        assert 0 < row["mae"] < 1 and row["psnr"] > 0
    assert sweep.reconstructions[100.0].shape == (4, 28, 28, 1)


def test_an_interrupted_sweep_resumes_without_retraining(tiny_mnist, model_cache, tmp_path,
                                                         count_training):
    folder, _ = tiny_mnist
    _tiny_sweep(folder, tmp_path / "a", lambdas=(100, 1000))
    assert count_training == [100, 1000]
    _tiny_sweep(folder, tmp_path / "b", lambdas=(100, 1000, 5000))
    assert count_training == [100, 1000, 5000]


def test_a_changed_setting_retrains_every_model(tiny_mnist, model_cache, tmp_path, count_training):
    folder, _ = tiny_mnist
    _tiny_sweep(folder, tmp_path / "a")
    _tiny_sweep(folder, tmp_path / "b", epochs=2)
    assert count_training == [100, 1000, 100, 1000]


@pytest.mark.parametrize("codec", sorted(classical_codecs((10, 50))))
def test_every_classical_codec_round_trips(codec, test_digits):
    coded = classical_codecs((10, 50))[codec](test_digits[0, ..., 0])
    assert coded.decoded.shape == (28, 28) and coded.decoded.dtype == np.uint8
    assert 0 < coded.payload_bytes <= coded.file_bytes
    if codec[0] in ("png", "zlib", "lzma", "raw"):
        np.testing.assert_array_equal(coded.decoded, test_digits[0, ..., 0])


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
    jpeg = baselines._pil_bytes(digit, format="JPEG", quality=50)
    assert 0 < baselines.jpeg_payload(jpeg) < len(jpeg) - 300  # tables and markers excluded


def test_comparison_interpolates_and_never_extrapolates():
    classical = [dict(codec="jpeg", mae=0.02, payload_bits=800.0),
                 dict(codec="jpeg", mae=0.04, payload_bits=200.0),
                 dict(codec="jpeg", mae=0.045, payload_bits=260.0),  # dominated: ignored
                 dict(codec="webp", mae=0.01, payload_bits=900.0),
                 dict(codec="webp", mae=0.03, payload_bits=500.0),
                 dict(codec="png", mae=0.0, payload_bits=1700.0)]
    learned = [dict(lmbda=2000.0, mae=0.03, string_bits=40.0),
               dict(lmbda=300.0, mae=0.08, string_bits=10.0)]
    [row] = compare_at_equal_distortion(learned, classical)
    # JPEG at MAE 0.03 lies halfway (in log bits) between 800 and 200: 400 bits; WebP needs 500.
    assert row["codec"] == "jpeg" and row["classical_bits"] == pytest.approx(400)
    assert row["ratio"] == pytest.approx(10)


def test_command_line_quick_study(tiny_mnist, model_cache, tmp_path, capsys):
    folder, _ = tiny_mnist
    out = tmp_path / "study"
    result = main(["--lambdas", "100", "1000", "--epochs", "1", "--batch-size", "16",
                   "--qualities", "5", "50", "--data-dir", str(folder), "--out", str(out)])
    for name in ("sweep.csv", "sweep.json", "baselines.csv", "baselines.json",
                 "rate_distortion.png", "digit_strip.png", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    assert len(result["sweep"]) == 2 and len(result["baselines"]) == 4 + 2 * 2
    assert "models and 8 classical settings measured" in capsys.readouterr().out


def test_quick_fills_in_only_what_was_not_given(tiny_mnist, model_cache, tmp_path,
                                                count_training):
    folder, _ = tiny_mnist
    main(["--quick", "--lambdas", "700", "--batch-size", "16", "--data-dir", str(folder),
          "--out", str(tmp_path / "q")])
    assert count_training == [700]
    summary = (tmp_path / "q" / "summary.json").read_text()
    assert '"epochs": 2' in summary and '"qualities": [\n  1,\n  10,\n  50,\n  90\n ]' in summary


def test_help_names_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
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
