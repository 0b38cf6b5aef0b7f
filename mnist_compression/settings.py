"""`TrainingSettings`: everything that decides how a model is trained, in one frozen object.

Introduced in notebook 03. Notebooks, the command lines (`training`, `sweep`, `codec export`),
the λ sweep and the model cache all pass this one object, so a new training option is a new
field here (with its help text) and the code that reads it: the command lines grow an option by
themselves, and the cache keys a model by every field that shapes it.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass, field

from .lambdas import check_levels


def _option(default, help_text: str, identity: bool = True):
    """A settings field; `identity=False` marks one that does not change the trained model."""
    return field(default=default, metadata=dict(help=help_text, identity=identity))


def _help_with_default(option: dataclasses.Field) -> str:
    """A field's help text, ending with its default unless the text already names it."""
    text = option.metadata["help"]
    return text if "(default:" in text else f"{text} (default: {option.default})"


@dataclass(frozen=True)
class TrainingSettings:
    """How one model is trained. The defaults are the original tutorial's."""

    lmbda: float = _option(2000.0, "weight of the distortion in the loss rate + λ·distortion "
                                   "(of a variable-rate model: the λ its codec uses unless "
                                   "told another)")
    levels: str | None = _option(
        None, "λ of a variable-rate model's rate levels, comma-separated (notebook 08), e.g. "
              "50,300,2000,10000: one model learns a gain per level and codes at any λ between "
              "them (default: None, a model for one λ)")
    level_sampling: float = _option(
        0.0, "how a variable-rate model's training draws levels: level k with probability "
             "proportional to λ_k**-level_sampling (0: all alike; higher: low λ more often)")
    distortion: str = _option("mae", "the distortion: mae (mean absolute error, the tutorial's) "
                                     "or mse (mean squared error)")
    epochs: int = _option(15, "passes over the training digits")
    train_examples: int | None = _option(None, "training digits to use (default: all 60,000)")
    validation_examples: int | None = _option(
        None, "test digits to validate on after each epoch (default: all 10,000)")
    batch_size: int = _option(128, "digits per training step")
    latent_dims: int = _option(50, "numbers per digit in the latent space")
    learning_rate: float = _option(1e-3, "Adam's learning rate (the peak, with a schedule)")
    schedule: str = _option("constant", "learning-rate schedule: constant, or cosine (warm-up, "
                                        "then a cosine decay to zero at the last step)")
    warmup: float = _option(0.0, "share of the steps over which the learning rate warms up")
    prior_lr_factor: float = _option(
        1.0, "the prior's scales learn this many times faster than the transforms")
    prior_lr_ramp: float = _option(
        0.0, "share of the steps over which that factor grows from 1 to its value")
    seed: int | None = _option(0, "fixes the initial weights and the shuffling")
    warm_start: float | None = _option(
        None, "λ of a model to start from instead of random weights: the original recipe's "
              "model for that λ, with these data, latent_dims, batch_size and seed (trained or "
              "loaded first; default: None, random weights)")
    warm_start_epochs: int = _option(15, "epochs of the model a warm start starts from")
    data_dir: str | None = _option(
        None, "folder with the MNIST IDX files (default: $MNIST_DATA_DIR, else tfds)",
        identity=False)

    def __post_init__(self):
        if not (isinstance(self.lmbda, (int, float)) and math.isfinite(self.lmbda)
                and self.lmbda > 0):
            raise ValueError(f"lmbda must be a positive number, got {self.lmbda!r}.")
        object.__setattr__(self, "lmbda", float(self.lmbda))
        object.__setattr__(self, "learning_rate", float(self.learning_rate))
        for name in ("epochs", "batch_size", "latent_dims"):
            _check_count(name, getattr(self, name))
        for name in ("train_examples", "validation_examples"):
            if getattr(self, name) is not None:
                _check_count(name, getattr(self, name))
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}.")
        if self.distortion not in DISTORTIONS:
            raise ValueError(f"distortion must be one of {DISTORTIONS}, got "
                             f"{self.distortion!r}.")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}.")
        for name in ("warmup", "prior_lr_ramp"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be a share of the steps in [0, 1), got "
                                 f"{getattr(self, name)!r}.")
        if not self.prior_lr_factor > 0:
            raise ValueError(f"prior_lr_factor must be positive, got {self.prior_lr_factor!r}.")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed,
                                                                                     int)):
            raise ValueError(f"seed must be an integer or None, got {self.seed!r}.")
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", str(self.data_dir))
        if self.warm_start is not None:
            if not (isinstance(self.warm_start, (int, float)) and not isinstance(
                    self.warm_start, bool) and math.isfinite(self.warm_start)
                    and self.warm_start > 0):
                raise ValueError(f"warm_start must be the positive λ of the model to start "
                                 f"from, or None, got {self.warm_start!r}.")
            object.__setattr__(self, "warm_start", float(self.warm_start))
        _check_count("warm_start_epochs", self.warm_start_epochs)
        if self.levels is not None:
            object.__setattr__(self, "levels", _canonical_levels(self.levels))
            low, high = self.rate_levels[0], self.rate_levels[-1]
            if not low <= self.lmbda <= high:
                raise ValueError(f"lmbda of a variable-rate model is the λ its codec uses by "
                                 f"default and must lie within its levels, {low:g} to {high:g}; "
                                 f"got {self.lmbda:g}.")
            if not (math.isfinite(self.level_sampling) and self.level_sampling >= 0):
                raise ValueError(f"level_sampling must be a finite number >= 0, got "
                                 f"{self.level_sampling!r}.")
            if self.warm_start is not None:
                raise ValueError("A variable-rate model (levels) cannot warm-start from a "
                                 "fixed-rate model; leave warm_start unset.")

    @property
    def rate_levels(self) -> tuple | None:
        """The λ of the rate levels, ascending, as floats (None for a model of one λ)."""
        return None if self.levels is None else tuple(float(v) for v in self.levels.split(","))

    def describe(self) -> str:
        """How messages name the model: "λ=2000", or "variable-rate (8 levels, λ=50…10000)"."""
        if self.levels is None:
            return f"λ={self.lmbda:g}"
        levels = self.rate_levels
        return f"variable-rate ({len(levels)} levels, λ={levels[0]:g}…{levels[-1]:g})"

    def replace(self, **changes) -> TrainingSettings:
        """A copy with some fields changed (and checked again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_recipe(cls, recipe: str = "original", **changes) -> TrainingSettings:
        """A recipe's settings ("original": the tutorial's; "fast": see RECIPES) with `changes`;
        changes given as None keep the recipe's value, so notebook parameters can say "the
        recipe's default" with None."""
        if recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}.")
        given = {name: value for name, value in changes.items() if value is not None}
        return cls(**{**RECIPES[recipe], **given})

    def identity(self) -> dict:
        """The fields that shape the trained model (all but where the data is read from, and
        the warm-start fields when there is no warm start, the distortion when it is the
        tutorial's, the levels when there are none and their sampling when it is uniform, so
        that models trained before those fields existed keep their cache keys; a variable-rate
        model's λ only picks its codec's default level, so it is left out too)."""
        skipped = (*(_WARM_START_FIELDS if self.warm_start is None else ()),
                   *(("distortion",) if self.distortion == "mae" else ()),
                   *(("levels",) if self.levels is None else ("lmbda",)),
                   *(("level_sampling",) if self.level_sampling == 0 else ()))
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.metadata["identity"] and f.name not in skipped}

    def warm_start_settings(self) -> TrainingSettings | None:
        """The settings of the model a warm start starts from (None without a warm start): the
        original recipe at λ = `warm_start` for `warm_start_epochs`, on the same digits, with the
        same architecture, batch size and seed."""
        if self.warm_start is None:
            return None
        shared = ("distortion", "train_examples", "validation_examples", "batch_size",
                  "latent_dims", "seed", "data_dir")
        return TrainingSettings(lmbda=self.warm_start, epochs=self.warm_start_epochs,
                                **{name: getattr(self, name) for name in shared})

    def variable_rate(self) -> TrainingSettings:
        """The variable-rate recipe (notebook 08) on the same digits, with the same batch size,
        latent size, distortion and seed, for twice these settings' epochs: one model for every
        λ of the study in the time of two models for one λ each."""
        shared = ("distortion", "train_examples", "validation_examples", "batch_size",
                  "latent_dims", "seed", "data_dir")
        return TrainingSettings.from_recipe("variable-rate", epochs=2 * self.epochs,
                                            **{name: getattr(self, name) for name in shared})

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, skip=()) -> None:
        """Adds ``--recipe`` and one command-line option per field (``--train-examples`` for
        train_examples), with the field's help text; options left out default to None, i.e.
        the recipe's value."""
        parser.add_argument("--recipe", choices=sorted(RECIPES), default="original",
                            help="the recipe whose values the other options change")
        for f in dataclasses.fields(cls):
            if f.name in skip:
                continue
            kind = _argument_type(f)
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=None,
                                metavar=kind.__name__.upper(),
                                help=_help_with_default(f))

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> TrainingSettings:
        """Settings from parsed options: the chosen recipe with every option the user gave."""
        given = {f.name: getattr(args, f.name, None) for f in dataclasses.fields(cls)}
        return cls.from_recipe(getattr(args, "recipe", "original"), **given)

    @classmethod
    def from_dict(cls, values: dict) -> TrainingSettings:
        """Settings from `as_dict` output, ignoring keys this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# The fewest and most seconds one epoch over all 60,000 training digits takes on this project's
# 2-core CPU machines, as measured in the "seconds" of trained models' histories (README, "How
# long it takes"). The one source of every training time the package and the notebooks state.
SECONDS_PER_EPOCH = (10, 40)


def training_minutes(models: int = 1, epochs: int = 15, examples: int = 60_000) -> tuple:
    """The fewest and most whole minutes `models` trainings of `epochs` epochs over `examples`
    digits take on a 2-core CPU (`SECONDS_PER_EPOCH`), rounded outwards."""
    low, high = (models * epochs * examples / 60_000 * s / 60 for s in SECONDS_PER_EPOCH)
    return math.floor(low), math.ceil(high)


SCHEDULES = ("constant", "cosine")
DISTORTIONS = ("mae", "mse")  # mean absolute error (the tutorial's), mean squared error
_WARM_START_FIELDS = ("warm_start", "warm_start_epochs")
# The variable-rate model's levels: the λ of the study's eight separately trained models.
VARIABLE_RATE_LEVELS = "50,100,300,500,1000,2000,5000,10000"
# Training recipes: the original tutorial's, and a faster one that ends 1.4-3.3% above the
# original's final loss in 4 epochs instead of 15 (benchmarks/time_to_quality.py measures it;
# README.md has the numbers).
RECIPES = {
    "original": {},
    "fast": dict(epochs=4, learning_rate=3e-3, schedule="cosine", warmup=0.03,
                 prior_lr_factor=30.0, prior_lr_ramp=0.5),
    # One model for the eight λ of the study, in twice one fixed-rate model's epochs (a quarter
    # of the eight models' 120); notebook 08 and README.md have what it reaches.
    "variable-rate": dict(levels=VARIABLE_RATE_LEVELS, epochs=30, learning_rate=2e-3,
                          schedule="cosine", warmup=0.03, prior_lr_factor=30.0,
                          prior_lr_ramp=0.5),
}


def _canonical_levels(levels) -> str:
    """Levels as one text, "50,300,2000" (ascending, each as Python's :g prints it), so that
    equal levels give equal cache keys however they were written; raises ValueError unless
    `gains.check_levels` accepts them."""
    try:
        values = [float(v) for v in str(levels).replace(" ", "").split(",")]
    except ValueError:
        raise ValueError(f"levels must be λ values separated by commas, e.g. \"50,300,2000\", "
                         f"got {levels!r}.") from None
    try:
        return ",".join(f"{v:g}" for v in check_levels(values))
    except ValueError as err:
        raise ValueError(f"{str(err).rsplit(', got', 1)[0]}, got {levels!r}.") from None


def _check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _argument_type(f: dataclasses.Field):
    """float, int or str, from the field's annotation (a string under postponed evaluation)."""
    annotation = str(f.type)
    return next((kind for kind in (float, int) if annotation.startswith(kind.__name__)), str)


__all__ = ["DISTORTIONS", "RECIPES", "SCHEDULES", "SECONDS_PER_EPOCH", "TrainingSettings",
           "VARIABLE_RATE_LEVELS", "training_minutes"]
