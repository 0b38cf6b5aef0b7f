"""The training helper: loss goes down, sane metrics after an epoch, strategies, and its CLI."""

import json

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.cli.training import main, run
from mnist_compression.model.files import load_model
from mnist_compression.settings import TrainingSettings
from mnist_compression.storage.model_files import read_model_file
from mnist_compression.training import final_metrics, load_training_data, train_model


def _settings(folder, **changes):
    return TrainingSettings(lmbda=2000, batch_size=8, data_dir=str(folder)).replace(**changes)


def test_a_few_steps_lower_the_loss(tiny_mnist):
    folder, _ = tiny_mnist
    _, history = train_model(_settings(folder, epochs=4), verbose=0)
    losses = history["loss"]
    assert len(losses) == 4 and losses[-1] < losses[0]
    for key in ("rate", "distortion", "val_loss", "val_rate", "val_distortion"):
        assert len(history[key]) == 4 and np.all(np.isfinite(history[key]))
    assert history["loss"][0] == pytest.approx(
        history["rate"][0] + 2000 * history["distortion"][0], rel=1e-4
    )
    for epoch in range(4):
        assert history["val_loss"][epoch] == pytest.approx(
            history["val_rate"][epoch] + 2000 * history["val_distortion"][epoch], rel=1e-4)


def test_keyword_changes_adjust_the_defaults(tiny_mnist):
    folder, _ = tiny_mnist
    trainer, history = train_model(lmbda=300, epochs=1, batch_size=16, data_dir=str(folder),
                                   verbose=0)
    assert trainer.lmbda == 300 and len(history["loss"]) == 1
    assert int(trainer.optimizer.iterations) == 3  # 40 digits in batches of 16
    # What was not given keeps the tutorial's value: 50 latents, Adam at 1e-3, no prior optimizer.
    assert trainer.latent_dims == 50 and trainer.prior_log_scales.shape == (50,)
    assert float(trainer.optimizer.learning_rate) == pytest.approx(1e-3)
    assert trainer.prior_optimizer is None


def test_seed_makes_training_repeatable(tiny_mnist):
    folder, _ = tiny_mnist
    runs = [train_model(_settings(folder, lmbda=500, epochs=1, seed=seed), verbose=0)
            for seed in (3, 3, 4)]
    (first, first_history), (again, again_history), (other, other_history) = runs
    assert again_history.keys() == first_history.keys()
    assert first_history["seconds"][0] > 0  # each epoch's wall time, recorded with the metrics
    for key, values in first_history.items():
        if key != "seconds":
            assert again_history[key] == pytest.approx(values, rel=1e-5), key
    for a, b in zip(first.trainable_variables, again.trainable_variables, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.name)
    # ... and the seed is what decides: another seed starts from other weights.
    assert other_history["loss"][0] != pytest.approx(first_history["loss"][0], rel=1e-3)
    assert not np.allclose(first.analysis_transform.weights[0].numpy(),
                           other.analysis_transform.weights[0].numpy())


@pytest.mark.parametrize("inside_scope", [False, True])
def test_works_with_a_distribution_strategy(tiny_mnist, inside_scope):
    folder, _ = tiny_mnist
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    settings = _settings(folder, epochs=1, batch_size=16)
    if inside_scope:
        with strategy.scope():
            trainer, history = train_model(settings, verbose=0)
    else:
        trainer, history = train_model(settings, strategy=strategy, verbose=0)
    # Keras 3 wraps each tf.Variable in a keras.Variable; `.value` is the tf.Variable inside.
    variables = [v if isinstance(v, tf.Variable) else v.value for v in trainer.variables]
    assert variables and all(strategy.extended.variable_created_in_scope(v) for v in variables)
    # It trained: three steps (40 digits, batches of 16) that moved the weights, and consistent
    # metrics. (Not necessarily the very model trained without a strategy: on TF 2.20 the
    # shuffled order of the digits differs between the two.)
    assert int(trainer.optimizer.iterations) == 3
    assert trainer.prior_log_scales.numpy().any()  # initialised as zeros
    for prefix in ("", "val_"):
        assert history[f"{prefix}loss"][0] == pytest.approx(
            history[f"{prefix}rate"][0] + 2000 * history[f"{prefix}distortion"][0], rel=1e-4)


def test_command_line_trains_reports_and_saves(tiny_mnist, tmp_path, capsys):
    folder, _ = tiny_mnist
    out, model = tmp_path / "result.json", tmp_path / "model.npz"
    results = run(["--lmbda", "300", "--epochs", "2", "--batch-size", "16", "--data-dir",
                   str(folder), "--json", str(out), "--output", str(model)])
    saved = json.loads(out.read_text())
    assert saved == results
    assert saved["val_rate"] == saved["history"]["val_rate"][-1] > 0
    assert saved["val_distortion"] == saved["history"]["val_distortion"][-1]
    assert saved["val_loss"] == saved["history"]["val_loss"][-1]
    assert 0 < saved["val_distortion"] < 1
    assert saved["seconds_per_epoch"] == pytest.approx(saved["seconds"] / 2)
    assert saved["seconds"] > 0
    assert len(saved["history"]["loss"]) == 2
    assert saved["settings"] == TrainingSettings(lmbda=300, epochs=2, batch_size=16,
                                                 data_dir=str(folder)).as_dict()
    record, _ = read_model_file(model)
    assert load_model(model).lmbda == 300 and record["history"] == results["history"]
    assert record["settings"] == saved["settings"]
    # The report printed last is the results without the per-epoch history.
    printed = capsys.readouterr().out
    report = json.loads(printed[printed.index("\n{\n") + 1:])
    assert report == {key: value for key, value in results.items() if key != "history"}


@pytest.mark.parametrize("option", ["--output", "--json"])
def test_command_line_refuses_to_overwrite(tiny_mnist, tmp_path, capsys, monkeypatch, option):
    from mnist_compression import training

    monkeypatch.setattr(training, "train_model",
                        lambda *args, **kwargs: pytest.fail("trained despite the refusal"))
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "existing").write_bytes(b"keep")
    assert main(["--epochs", "1", "--data-dir", str(tiny_mnist[0]), option,
                 str(folder / "existing")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.endswith(
        f"error: {folder / 'existing'} already exists; choose another name or allow "
        f"overwriting (--force on the command line).\n")
    assert (folder / "existing").read_bytes() == b"keep"
    assert [p.name for p in folder.iterdir()] == ["existing"]


def test_one_epoch_on_real_digits_is_sane(mnist_dir):
    _, history = train_model(epochs=1, train_examples=4096, validation_examples=2048,
                             data_dir=str(mnist_dir), verbose=0)
    metrics = final_metrics(history)
    # An untrained model spends ~100 bits (50 latents at ~2 bits) and errs by ~0.13 per pixel;
    # one epoch already trades some of each, long before the tutorial's 41 bits / 0.036.
    assert 30 < metrics["val_rate"] < 130
    assert 0.02 < metrics["val_distortion"] < 0.13
    assert history["distortion"][0] < 0.2


def test_learning_rate_schedules():
    from mnist_compression.training import LearningRate

    constant = LearningRate(1e-3, total=100)
    assert [float(constant(s)) for s in (0, 50, 99)] == pytest.approx([1e-3] * 3)
    cosine = LearningRate(1e-3, total=100, schedule="cosine", warmup=10)
    assert float(cosine(0)) == pytest.approx(1e-4)  # first of 10 warm-up steps
    assert float(cosine(10)) == pytest.approx(1e-3)
    assert float(cosine(55)) == pytest.approx(5e-4, rel=1e-3)  # half-way down the cosine
    assert float(cosine(100)) == pytest.approx(0, abs=1e-9)
    for step in range(100):  # as the formula the models of the README were trained with
        warm = min(1.0, (step + 1) / 10)
        down = 0.5 * (1 + np.cos(np.pi * np.clip((step - 10) / 90, 0, 1)))
        assert float(cosine(step)) == pytest.approx(1e-3 * warm * down, rel=1e-4, abs=1e-10)
    ramped = LearningRate(1e-3, total=100, factor=30, ramp=50)
    assert [float(ramped(s)) for s in (0, 25, 50, 90)] == pytest.approx(
        [1e-3, 15.5e-3, 30e-3, 30e-3])


def test_a_faster_prior_moves_its_scales_further(tiny_mnist):
    folder, _ = tiny_mnist
    moved = []
    for factor in (1.0, 30.0):
        trainer, _ = train_model(_settings(folder, epochs=2, prior_lr_factor=factor), verbose=0)
        moved.append(float(np.abs(trainer.prior_log_scales.numpy()).mean()))
        assert (trainer.prior_optimizer is None) == (factor == 1.0)
    assert moved[1] > 5 * moved[0]


def test_loaded_digits_are_the_first_examples_and_must_fit_the_settings(tiny_mnist):
    folder, arrays = tiny_mnist
    settings = _settings(folder, train_examples=30, validation_examples=5)
    data = load_training_data(settings)
    np.testing.assert_array_equal(data.train[..., 0], arrays["train"][0][:30])
    np.testing.assert_array_equal(data.validation[..., 0], arrays["test"][0][:5])
    np.testing.assert_array_equal(data.validation_labels, arrays["test"][1][:5])
    assert data.source == (str(folder), 30, 5)
    assert data.fingerprint == load_training_data(settings.replace(lmbda=5)).fingerprint
    assert data.fingerprint != load_training_data(settings.replace(train_examples=29)).fingerprint
    with pytest.raises(ValueError, match=r"loaded for data settings \(.*, 30, 5\), but these "
                                         r"settings name \(.*, 40, 5\)"):
        train_model(settings.replace(train_examples=40), data=data, verbose=0)


def test_command_line_force_replaces_outputs(tiny_mnist, tmp_path, capsys):
    (tmp_path / "model.npz").write_bytes(b"old")
    assert main(["--epochs", "1", "--batch-size", "16", "--data-dir", str(tiny_mnist[0]),
                 "--output", str(tmp_path / "model.npz"), "--force"]) == 0
    assert load_model(tmp_path / "model.npz").latent_dims == 50
    capsys.readouterr()


@pytest.mark.parametrize("module", ["training", "sweep"])
def test_command_lines_report_bad_data_in_one_line(tmp_path, capsys, module):
    import importlib

    command = importlib.import_module(f"mnist_compression.cli.{module}")
    status = command.main(["--epochs", "1", "--data-dir", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert err.startswith(f"error: MNIST folder {tmp_path / 'nowhere'} does not exist")
