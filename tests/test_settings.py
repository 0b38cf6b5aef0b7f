"""TrainingSettings: checked values, identity for the cache, and command-line options."""

import argparse

import pytest

from mnist_compression.cli.settings_options import add_settings_options, settings_from_options
from mnist_compression.settings import TrainingSettings
from mnist_compression.storage.cache import identity


def test_defaults_are_the_original_tutorials():
    settings = TrainingSettings()
    assert (settings.lmbda, settings.epochs, settings.batch_size, settings.latent_dims,
            settings.learning_rate) == (2000.0, 15, 128, 50, 1e-3)
    assert settings.train_examples is None and settings.validation_examples is None
    # No schedule, warm-up or faster prior: the tutorial's plain Adam, seeded, data from default.
    assert (settings.schedule, settings.warmup, settings.prior_lr_factor, settings.prior_lr_ramp,
            settings.seed, settings.data_dir) == ("constant", 0.0, 1.0, 0.0, 0, None)


@pytest.mark.parametrize("field, value, message", [
    ("lmbda", 0, "lmbda must be a positive finite number, got 0"),
    ("lmbda", float("nan"), "lmbda must be a positive finite number"),
    ("lmbda", "2000", "lmbda must be a positive finite number"),
    ("epochs", 0, "epochs must be a positive integer"),
    ("epochs", True, "epochs must be a positive integer"),
    ("batch_size", 2.0, "batch_size must be a positive integer"),
    ("train_examples", -5, "train_examples must be a positive integer"),
    ("learning_rate", 0.0, "learning_rate must be a positive finite number"),
    ("seed", 1.5, "seed must be an integer, or None"),
    ("warm_start", 0, "warm_start must be a positive finite number, or None"),
    ("warm_start", True, "warm_start must be a positive finite number, or None"),
    ("warm_start", float("inf"), "warm_start must be a positive finite number, or None"),
    ("data_dir", b"/data", "data_dir must be a path, or None"),
    ("warm_start_epochs", 0, "warm_start_epochs must be a positive integer"),
    ("distortion", "l1", r"distortion must be one of \('mae', 'mse'\), got 'l1'"),
    ("latent_dims", 785, r"latent_dims must be an integer from 1 to 784 \(a digit's pixels\), "
                         "got 785"),
    ("latent_dims", 0, "latent_dims must be an integer from 1 to 784"),
    ("hyper_latent_dims", 10**9, "hyper_latent_dims must be an integer from 1 to 784 .*, or None"),
])
def test_bad_values_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainingSettings(**{field: value})


def test_settings_are_frozen_and_replace_checks_again():
    settings = TrainingSettings()
    with pytest.raises(AttributeError):
        settings.lmbda = 300
    assert settings.replace(lmbda=300).lmbda == 300.0 and settings.lmbda == 2000.0
    with pytest.raises(ValueError, match="epochs must be a positive integer, got -1"):
        settings.replace(epochs=-1)
    with pytest.raises(TypeError):
        settings.replace(epoch=3)  # a misspelt field is not silently ignored


def test_identity_leaves_out_where_the_data_lives():
    a, b = TrainingSettings(data_dir="/x"), TrainingSettings(data_dir="/y")
    assert identity(a) == identity(b)
    warm = ("data_dir", "warm_start", "warm_start_epochs", "distortion", "levels",
            "level_sampling", "hyper_latent_dims")  # the keys of old models stay valid
    assert identity(a) == {k: v for k, v in a.as_dict().items() if k not in warm}
    assert identity(TrainingSettings(warm_start_epochs=4)) == identity(TrainingSettings())
    assert identity(TrainingSettings(warm_start=2000)) == dict(
        identity(TrainingSettings()), warm_start=2000.0, warm_start_epochs=15)
    assert identity(TrainingSettings(warm_start=2000, warm_start_epochs=4))[
        "warm_start_epochs"] == 4
    assert identity(TrainingSettings(distortion="mse")) == dict(identity(TrainingSettings()),
                                                                 distortion="mse")
    for name, value in [("lmbda", 300.0), ("epochs", 2), ("train_examples", 10),
                        ("validation_examples", 10), ("batch_size", 8), ("latent_dims", 8),
                        ("learning_rate", 3e-4), ("schedule", "cosine"), ("warmup", 0.1),
                        ("prior_lr_factor", 3.0), ("prior_lr_ramp", 0.1), ("seed", 1),
                        ("hyper_latent_dims", 8)]:
        assert identity(TrainingSettings(**{name: value})) == dict(
            identity(TrainingSettings()), **{name: value}), name


def test_every_field_becomes_a_command_line_option():
    parser = argparse.ArgumentParser()
    add_settings_options(parser)
    options = {action.dest: action for action in parser._actions}
    fields = TrainingSettings.__dataclass_fields__
    assert set(options) == {"help", "recipe", *fields}
    types = dict(lmbda=float, levels=str, level_sampling=float, distortion=str, epochs=int,
                 train_examples=int,
                 validation_examples=int, batch_size=int, latent_dims=int,
                 hyper_latent_dims=int, learning_rate=float,
                 schedule=str,
                 warmup=float, prior_lr_factor=float, prior_lr_ramp=float, seed=int,
                 warm_start=float, warm_start_epochs=int, data_dir=str)
    assert types.keys() == fields.keys()
    for name, field in fields.items():
        option = options[name]
        assert option.option_strings == [f"--{name.replace('_', '-')}"] and option.default is None
        assert option.type is types[name] and option.metavar == types[name].__name__.upper()
        assert option.help.startswith(field.metadata["help"]), name
        assert "(default: " in option.help, name
    assert options["lmbda"].help.endswith("(default: 2000.0)")
    assert options["train_examples"].help.endswith("(default: all 60,000)")
    given = dict(lmbda="300", levels=None, level_sampling=None, distortion="mse", epochs="2",
                 train_examples="4096",
                 validation_examples="512", batch_size="64", latent_dims="20",
                 hyper_latent_dims=None, learning_rate="3e-4",
                 schedule="cosine",
                 warmup="0.1", prior_lr_factor="5", prior_lr_ramp="0.2", seed="7",
                 warm_start="2000", warm_start_epochs="10", data_dir="d")
    assert given.keys() == fields.keys()
    argv = [text for name, value in given.items() if value is not None
            for text in (f"--{name.replace('_', '-')}", value)]
    assert settings_from_options(parser.parse_args(argv)) == TrainingSettings(
        lmbda=300.0, distortion="mse", epochs=2, train_examples=4096, validation_examples=512,
        batch_size=64, latent_dims=20, learning_rate=3e-4, schedule="cosine", warmup=0.1,
        prior_lr_factor=5.0,
        prior_lr_ramp=0.2, seed=7, warm_start=2000.0, warm_start_epochs=10, data_dir="d")


def test_command_lines_can_leave_out_some_fields():
    parser = argparse.ArgumentParser()
    add_settings_options(parser, skip=("seed",))
    args = parser.parse_args(["--lmbda", "300", "--train-examples", "4096", "--data-dir", "d",
                              "--learning-rate", "3e-4"])
    settings = settings_from_options(args)
    assert settings == TrainingSettings(lmbda=300, train_examples=4096, data_dir="d",
                                        learning_rate=3e-4)
    assert "--seed" not in parser.format_help() and "--latent-dims" in parser.format_help()
    fast = settings_from_options(parser.parse_args(["--recipe", "fast", "--epochs", "6"]))
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
    ("prior_lr_factor", 0.0, "prior_lr_factor must be a positive finite number"),
])
def test_bad_schedule_values_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainingSettings(**{field: value})


def test_a_warm_start_starts_from_the_original_recipe_on_the_same_digits():
    settings = TrainingSettings.from_recipe(
        "fast", lmbda=500, train_examples=4096, validation_examples=512, batch_size=64,
        latent_dims=20, data_dir="d", warm_start=2000, warm_start_epochs=10,
        distortion="mse").replace(seed=None)
    assert settings.warm_start_settings() == TrainingSettings(
        lmbda=2000, epochs=10, train_examples=4096, validation_examples=512, batch_size=64,
        latent_dims=20, seed=None, data_dir="d", distortion="mse")
    assert TrainingSettings().warm_start_settings() is None


def test_values_are_kept_as_given_so_cache_keys_do_not_change():
    settings = TrainingSettings(prior_lr_factor=30, warmup=0, level_sampling=1, lmbda=500,
                                learning_rate=1, warm_start=2000)
    assert isinstance(settings.prior_lr_factor, int) and isinstance(settings.warmup, int)
    assert isinstance(settings.level_sampling, int)
    # λ, the learning rate and the warm start's λ were always kept as floats.
    assert (settings.lmbda, settings.learning_rate, settings.warm_start) == (500.0, 1.0, 2000.0)
    assert all(isinstance(v, float) for v in (settings.lmbda, settings.learning_rate,
                                              settings.warm_start))


def test_the_variable_rate_recipe_at_one_lambda_is_part_8s_fair_anchor():
    """Everything the variable-rate model's training uses, except the levels: one λ."""
    base = TrainingSettings(epochs=3, train_examples=512, batch_size=64, seed=4)
    variable = base.variable_rate()
    anchor = base.variable_rate_recipe_at(700)
    assert anchor.kind == "fixed-rate" and anchor.lmbda == 700.0 and anchor.levels is None
    assert variable.kind == "variable-rate" and anchor.epochs == variable.epochs == 6
    same = ("learning_rate", "schedule", "warmup", "prior_lr_factor", "prior_lr_ramp", "seed",
            "train_examples", "batch_size", "latent_dims", "distortion")
    assert {n: getattr(anchor, n) for n in same} == {n: getattr(variable, n) for n in same}
    assert anchor.learning_rate != base.learning_rate
