"""The warm-start measurement of benchmarks/time_to_quality.py, run in-process on tiny data."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).parents[1] / "benchmarks" / "time_to_quality.py"
_SPEC = importlib.util.spec_from_file_location("time_to_quality", _PATH)
time_to_quality = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(time_to_quality)

TARGET = dict(val_loss=100.0, val_rate=40.0, val_distortion=0.03)


@pytest.mark.parametrize("metrics, close", [
    (dict(val_loss=100.99, val_rate=41.99, val_distortion=0.02851), True),  # just inside
    (dict(val_loss=101.1, val_rate=40.0, val_distortion=0.03), False),   # loss 1.1% above
    (dict(val_loss=90.0, val_rate=37.9, val_distortion=0.03), False),    # rate 5.25% below
    (dict(val_loss=100.0, val_rate=40.0, val_distortion=0.0316), False),  # distortion +5.3%
])
def test_close_means_1_percent_of_the_loss_and_5_of_rate_and_distortion(metrics, close):
    assert time_to_quality.close_to(metrics, TARGET) is close


def test_warm_starts_are_measured_against_the_from_scratch_models(tiny_mnist, model_cache,
                                                                  capsys):
    folder, _ = tiny_mnist
    rows = time_to_quality.main(["--warm-starts", "--lambdas", "100", "300", "200",
                                 "--prior-factors", "1", "30", "--max-epochs", "2",
                                 "--data-dir", str(folder)])["warm_starts"]
    assert [(r["lmbda"], r["start"], r["prior_lr_factor"]) for r in rows] == [
        (200, 300, 1), (200, 300, 30), (100, 200, 1), (100, 200, 30)]
    out = [line for line in capsys.readouterr().out.splitlines() if line.startswith("λ=")]
    assert len(out) == 4 and out[0].startswith("λ=200 from λ=300, prior ×1: ")
    stored = sorted(p.name.split("-")[0] for p in model_cache.iterdir())
    assert stored == ["lmbda100", "lmbda200", "lmbda300"]  # from scratch, cached; warm ones not
    for row in rows:
        assert 1 <= len(row["epochs"]) <= 2 and row["scratch_epochs"] == 15
        last = row["epochs"][-1]
        reached = time_to_quality.close_to(last, row["scratch"])
        assert row["epochs_needed"] == (len(row["epochs"]) if reached else None)
        if len(row["epochs"]) == 2:  # it went on only because the first epoch was not close
            assert not time_to_quality.close_to(row["epochs"][0], row["scratch"])
        assert row["seconds_per_epoch"] > 0


def test_a_collapsed_model_of_zero_bits_is_matched_only_by_zero_bits():
    collapsed = dict(val_loss=6.3, val_rate=0.0, val_distortion=0.126)
    assert time_to_quality.close_to(dict(collapsed), collapsed)
    assert not time_to_quality.close_to(dict(collapsed, val_rate=0.01), collapsed)
    assert time_to_quality._change(0.01, 0.0) == "+0.01 from 0"
    assert time_to_quality._change(1.1, 1.0) == "+10.0%"


def test_the_variable_rate_timing_compares_the_studys_two_trainings(tiny_mnist, capsys):
    path = Path(__file__).parents[1] / "benchmarks" / "variable_rate_time.py"
    spec = importlib.util.spec_from_file_location("variable_rate_time", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder, _ = tiny_mnist
    result = module.main(["--epochs", "2", "--data-dir", str(folder)])
    one, variable = result["seconds_per_epoch"]["one λ"], result["seconds_per_epoch"][
        "variable-rate"]
    assert result["eight_models_seconds"] == pytest.approx(8 * 15 * one)
    assert result["variable_rate_seconds"] == pytest.approx(30 * variable)
    assert result["share"] == pytest.approx(30 * variable / (120 * one))
    assert "8 models × 15 epochs" in capsys.readouterr().out


def test_the_hyperprior_timing_takes_turns_and_leaves_out_each_first_epoch(tiny_mnist, capsys):
    path = Path(__file__).parents[1] / "benchmarks" / "hyperprior_time.py"
    spec = importlib.util.spec_from_file_location("hyperprior_time", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder, _ = tiny_mnist
    result = module.main(["--rounds", "2", "--epochs", "3", "--hyper-latent-dims", "2",
                          "--data-dir", str(folder)])
    assert {name: len(times) for name, times in result["epochs"].items()} == dict(
        factorized=4, hyperprior=4)
    seconds = result["seconds_per_epoch"]
    for name, times in result["epochs"].items():
        assert min(times) <= seconds[name] <= max(times)
    assert result["ratio"] == pytest.approx(seconds["hyperprior"] / seconds["factorized"])
    assert "times the factorized model's" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        module.main(["--epochs", "1", "--data-dir", str(folder)])
