"""The training helper: loss goes down, sane metrics after an epoch, strategies, and its CLI."""

import json

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.training import final_validation, main, train_model


def test_a_few_steps_lower_the_loss(tiny_mnist):
    folder, _ = tiny_mnist
    _, history = train_model(2000, epochs=4, batch_size=8, data_dir=folder, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 4 and losses[-1] < losses[0]
    for key in ("rate", "distortion", "val_loss", "val_rate", "val_distortion"):
        assert len(history.history[key]) == 4 and np.all(np.isfinite(history.history[key]))
    assert history.history["loss"][0] == pytest.approx(
        history.history["rate"][0] + 2000 * history.history["distortion"][0], rel=1e-4
    )


def test_seed_makes_training_repeatable(tiny_mnist):
    folder, _ = tiny_mnist
    runs = [train_model(500, epochs=1, batch_size=8, data_dir=folder, seed=3, verbose=0)[1]
            for _ in range(2)]
    assert runs[0].history["loss"] == pytest.approx(runs[1].history["loss"], rel=1e-5)


@pytest.mark.parametrize("inside_scope", [False, True])
def test_works_with_a_distribution_strategy(tiny_mnist, inside_scope):
    folder, _ = tiny_mnist
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    if inside_scope:
        with strategy.scope():
            trainer, history = train_model(2000, epochs=1, batch_size=16, data_dir=folder,
                                           verbose=0)
    else:
        trainer, history = train_model(2000, epochs=1, batch_size=16, data_dir=folder,
                                       strategy=strategy, verbose=0)
    # Keras 3 wraps each tf.Variable in a keras.Variable; `.value` is the tf.Variable inside.
    variables = [v if isinstance(v, tf.Variable) else v.value for v in trainer.variables]
    assert all(strategy.extended.variable_created_in_scope(v) for v in variables)
    assert np.isfinite(history.history["val_loss"][0])


@pytest.mark.parametrize("option, value", [("epochs", 0), ("batch_size", 2.0), ("epochs", True)])
def test_rejects_bad_settings(tiny_mnist, option, value):
    with pytest.raises(ValueError, match=f"{option} must be a positive integer"):
        train_model(2000, data_dir=tiny_mnist[0], **{option: value})


def test_command_line_trains_and_reports(tiny_mnist, tmp_path, capsys):
    folder, _ = tiny_mnist
    out, weights = tmp_path / "result.json", tmp_path / "model.weights.h5"
    results = main(["--lmbda", "300", "--epochs", "2", "--batch-size", "16", "--data-dir",
                    str(folder), "--json", str(out), "--weights", str(weights)])
    saved = json.loads(out.read_text())
    assert saved["val_rate"] == pytest.approx(results["val_rate"])
    assert saved["val_rate"] > 0
    assert 0 < saved["val_distortion"] < 1 and saved["seconds_per_epoch"] > 0
    assert len(saved["history"]["loss"]) == 2 and weights.stat().st_size > 1_000_000
    assert '"val_rate"' in capsys.readouterr().out


@pytest.mark.slow
def test_one_epoch_on_real_digits_is_sane(mnist_dir):
    _, history = train_model(2000, epochs=1, train_examples=4096, validation_examples=2048,
                             data_dir=mnist_dir, verbose=0)
    metrics = final_validation(history)
    # An untrained model spends ~100 bits (50 latents at ~2 bits) and errs by ~0.13 per pixel;
    # one epoch already trades some of each, long before the tutorial's 41 bits / 0.036.
    assert 30 < metrics["val_rate"] < 130
    assert 0.02 < metrics["val_distortion"] < 0.13
    assert history.history["distortion"][0] < 0.2
