"""TrainingSettings: checked values, identity for the cache, and command-line options."""

import argparse

import pytest

from mnist_compression.settings import TrainingSettings


def test_defaults_are_the_original_tutorials():
    settings = TrainingSettings()
    assert (settings.lmbda, settings.epochs, settings.batch_size, settings.latent_dims,
            settings.learning_rate) == (2000.0, 15, 128, 50, 1e-3)
    assert settings.train_examples is None and settings.validation_examples is None


@pytest.mark.parametrize("field, value, message", [
    ("lmbda", 0, "lmbda must be a positive number"),
    ("lmbda", float("nan"), "lmbda must be a positive number"),
    ("lmbda", "2000", "lmbda must be a positive number"),
    ("epochs", 0, "epochs must be a positive integer"),
    ("epochs", True, "epochs must be a positive integer"),
    ("batch_size", 2.0, "batch_size must be a positive integer"),
    ("train_examples", -5, "train_examples must be a positive integer"),
    ("learning_rate", 0.0, "learning_rate must be positive"),
    ("seed", 1.5, "seed must be an integer or None"),
])
def test_bad_values_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainingSettings(**{field: value})


def test_settings_are_frozen_and_replace_checks_again():
    settings = TrainingSettings()
    with pytest.raises(AttributeError):
        settings.lmbda = 300
    assert settings.replace(lmbda=300).lmbda == 300.0 and settings.lmbda == 2000.0
    with pytest.raises(ValueError):
        settings.replace(epochs=-1)


def test_identity_leaves_out_where_the_data_lives():
    a, b = TrainingSettings(data_dir="/x"), TrainingSettings(data_dir="/y")
    assert a.identity() == b.identity() and "data_dir" not in a.identity()
    assert TrainingSettings(seed=1).identity() != TrainingSettings().identity()


def test_every_field_becomes_a_command_line_option():
    parser = argparse.ArgumentParser()
    TrainingSettings.add_arguments(parser, skip=("seed",))
    args = parser.parse_args(["--lmbda", "300", "--train-examples", "4096", "--data-dir", "d",
                              "--learning-rate", "3e-4"])
    settings = TrainingSettings.from_arguments(args)
    assert settings == TrainingSettings(lmbda=300, train_examples=4096, data_dir="d",
                                        learning_rate=3e-4)
    assert "--seed" not in parser.format_help() and "--latent-dims" in parser.format_help()
    fast = TrainingSettings.from_arguments(parser.parse_args(["--recipe", "fast", "--epochs", "6"]))
    assert fast == TrainingSettings.from_recipe("fast", epochs=6)


def test_round_trip_through_a_dict_ignores_unknown_keys():
    settings = TrainingSettings(lmbda=500, epochs=3)
    assert TrainingSettings.from_dict(dict(settings.as_dict(), future_option=1)) == settings


def test_recipes_fill_in_what_is_not_given():
    fast = TrainingSettings.from_recipe("fast", lmbda=300, epochs=None, batch_size=64)
    assert fast.lmbda == 300 and fast.batch_size == 64 and fast.epochs == 4
    assert fast.schedule == "cosine" and fast.prior_lr_factor == 30
    assert TrainingSettings.from_recipe("original") == TrainingSettings()
    with pytest.raises(ValueError, match="recipe must be one of"):
        TrainingSettings.from_recipe("quick")


@pytest.mark.parametrize("field, value, message", [
    ("schedule", "linear", "schedule must be one of"),
    ("warmup", 1.0, r"warmup must be a share of the steps in \[0, 1\)"),
    ("prior_lr_ramp", -0.1, "prior_lr_ramp must be a share"),
    ("prior_lr_factor", 0.0, "prior_lr_factor must be positive"),
])
def test_bad_schedule_values_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainingSettings(**{field: value})
