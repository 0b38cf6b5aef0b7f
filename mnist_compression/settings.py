"""`TrainingSettings`: everything that decides how a model is trained, in one frozen object.

Introduced in notebook 03. Notebooks, the command lines (`train`, `sweep`, `codec export`), the λ
sweep and the model cache all pass this one object, so a new training option is a new field here
(with its help text and its check) and the code that reads it: the command lines grow an option
by themselves (`cli.settings_options`), and the model cache keys a model by every field that
shapes it (`storage.cache.model_key`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from .checks import (
    INTEGER,
    LATENT_COUNT,
    NON_NEGATIVE_NUMBER,
    PATH,
    POSITIVE_INTEGER,
    POSITIVE_NUMBER,
    SHARE,
    one_of,
    shown,
)
from .lambdas import (
    FIXED_RATE,
    HYPERPRIOR,
    STUDY_LAMBDAS,
    VARIABLE_RATE,
    check_lmbda,
    kind_of,
    levels_text,
    parse_levels,
)

SCHEDULES = ("constant", "cosine")
DISTORTIONS = ("mae", "mse")  # mean absolute error (the tutorial's), mean squared error


def _levels(name: str, value):
    """The levels as ascending floats; a refusal quotes them as they were given."""
    try:
        return None if value is None else parse_levels(value)
    except ValueError as err:
        raise ValueError(f"{str(err).rsplit(', got', 1)[0]}, got {shown(value)}.") from None


def _same(value):
    return value


def _option(default, help_text: str, check, identity: bool = True, to_json=_same):
    """A settings field: its help text, its check (a `checks.Check`, or any function of the
    field's name and value that returns the value to keep), whether it shapes the trained model
    (`identity=False`: only where the data is read from), and how `as_dict` writes it."""
    return field(default=default, metadata=dict(help=help_text, check=check, identity=identity,
                                                 to_json=to_json))


@dataclass(frozen=True)
class TrainingSettings:
    """How one model is trained. The defaults are the original tutorial's."""

    lmbda: float = _option(2000.0, "weight of the distortion in the loss rate + λ·distortion "
                                   "(of a variable-rate model: the λ its codec uses unless "
                                   "told another)", lambda name, value: check_lmbda(value, name))
    levels: tuple | None = _option(
        None, "λ of a variable-rate model's rate levels, comma-separated (notebook 08), e.g. "
              "50,300,2000,10000: one model learns a gain per level and codes at any λ between "
              "them (default: None, a model for one λ)", _levels,
        to_json=lambda levels: levels and levels_text(levels))
    level_sampling: float = _option(
        0.0, "how a variable-rate model's training draws levels: level k with probability "
             "proportional to λ_k**-level_sampling (0: all alike; higher: low λ more often)",
        NON_NEGATIVE_NUMBER)
    distortion: str = _option("mae", "the distortion: mae (mean absolute error, the tutorial's) "
                                     "or mse (mean squared error)", one_of(DISTORTIONS))
    epochs: int = _option(15, "passes over the training digits", POSITIVE_INTEGER)
    train_examples: int | None = _option(None, "training digits to use (default: all 60,000)",
                                         POSITIVE_INTEGER.or_none())
    validation_examples: int | None = _option(
        None, "test digits to validate on after each epoch (default: all 10,000)",
        POSITIVE_INTEGER.or_none())
    batch_size: int = _option(128, "digits per training step", POSITIVE_INTEGER)
    latent_dims: int = _option(50, "numbers per digit in the latent space", LATENT_COUNT)
    hyper_latent_dims: int | None = _option(
        None, "side latents of a scale hyperprior (notebook 09), e.g. 8: sent first, they tell "
              "the decoder each latent's scale for this digit (default: None, the factorized "
              "prior alone)", LATENT_COUNT.or_none())
    learning_rate: float = _option(1e-3, "Adam's learning rate (the peak, with a schedule)",
                                   POSITIVE_NUMBER.to(float))
    schedule: str = _option("constant", "learning-rate schedule: constant, or cosine (warm-up, "
                                        "then a cosine decay to zero at the last step)",
                            one_of(SCHEDULES))
    warmup: float = _option(0.0, "share of the steps over which the learning rate warms up",
                            SHARE)
    prior_lr_factor: float = _option(
        1.0, "the prior's scales learn this many times faster than the transforms",
        POSITIVE_NUMBER)
    prior_lr_ramp: float = _option(
        0.0, "share of the steps over which that factor grows from 1 to its value", SHARE)
    seed: int | None = _option(0, "fixes the initial weights and the shuffling",
                               INTEGER.or_none())
    warm_start: float | None = _option(
        None, "λ of a model to start from instead of random weights: the original recipe's "
              "model for that λ, with these data, latent_dims, batch_size and seed (trained or "
              "loaded first) (default: None, random weights)", POSITIVE_NUMBER.to(float).or_none())
    warm_start_epochs: int = _option(15, "epochs of the model a warm start starts from",
                                     POSITIVE_INTEGER)
    data_dir: str | None = _option(
        None, "folder with the MNIST IDX files (default: $MNIST_DATA_DIR, else tfds)",
        PATH.or_none(), identity=False)

    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, f.metadata["check"](f.name, getattr(self, f.name)))
        if self.kind == VARIABLE_RATE:  # what its levels add to the fields' own checks
            low, high = self.levels[0], self.levels[-1]
            if not low <= self.lmbda <= high:
                raise ValueError(f"lmbda of a variable-rate model is the λ its codec uses by "
                                 f"default and must lie within its levels, {low:g} to {high:g}; "
                                 f"got {self.lmbda:g}.")
            if self.warm_start is not None:
                raise ValueError("A variable-rate model (levels) cannot warm-start from a "
                                 "fixed-rate model; leave warm_start unset.")
            if self.hyper_latent_dims is not None:
                raise ValueError("A variable-rate model (levels) has no hyperprior; leave "
                                 "hyper_latent_dims unset, or levels.")
        if self.kind == HYPERPRIOR and self.warm_start is not None:
            raise ValueError("A hyperprior model (hyper_latent_dims) cannot warm-start from a "
                             "model without one; leave warm_start unset.")

    @property
    def kind(self) -> str:
        """The kind of model these settings train: "fixed-rate", "variable-rate" (levels) or
        "hyperprior" (hyper_latent_dims)."""
        return kind_of(self.levels, self.hyper_latent_dims)

    def describe(self) -> str:
        """How messages name the model: "λ=2000", or "variable-rate (8 levels, λ=50…10000)"."""
        return _DESCRIPTIONS[self.kind](self)

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

    def warm_start_settings(self) -> TrainingSettings | None:
        """The settings of the model a warm start starts from (None without a warm start): the
        original recipe at λ = `warm_start` for `warm_start_epochs`, on the same digits, with the
        same architecture, batch size and seed."""
        if self.warm_start is None:
            return None
        return TrainingSettings(lmbda=self.warm_start, epochs=self.warm_start_epochs,
                                **self._shared())

    def variable_rate(self) -> TrainingSettings:
        """The variable-rate recipe (notebook 08) on the same digits, with the same batch size,
        latent size, distortion and seed, for twice these settings' epochs: one model for every
        λ of the study in the time of two models for one λ each."""
        return TrainingSettings.from_recipe("variable-rate", epochs=2 * self.epochs,
                                            **self._shared())

    def variable_rate_recipe_at(self, lmbda: float) -> TrainingSettings:
        """A model for one λ trained exactly like `variable_rate()`'s model (its learning rate,
        schedule, prior factor, epochs, digits and seed): the fair anchor of notebook 08, where
        the price of sharing one model between the levels is told apart from the recipe's
        effect."""
        return self.variable_rate().replace(levels=None, lmbda=lmbda)

    def _shared(self) -> dict:
        """What a related model (a warm start's, the variable-rate recipe's) keeps."""
        shared = ("distortion", "train_examples", "validation_examples", "batch_size",
                  "latent_dims", "seed", "data_dir")  # never the hyperprior: its own kind
        return {name: getattr(self, name) for name in shared}

    def as_dict(self) -> dict:
        """The fields as JSON values: levels as their canonical text, "50,300,2000", as model
        files and the model cache's keys have always written them."""
        return {f.name: f.metadata.get("to_json", _same)(getattr(self, f.name))
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict) -> TrainingSettings:
        """Settings from `as_dict` output, ignoring keys this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# How messages name each kind of model (`TrainingSettings.describe`).
_DESCRIPTIONS = {
    FIXED_RATE: lambda settings: f"λ={settings.lmbda:g}",
    VARIABLE_RATE: lambda settings: (f"variable-rate ({len(settings.levels)} levels, "
                                     f"λ={settings.levels[0]:g}…{settings.levels[-1]:g})"),
    HYPERPRIOR: lambda settings: (f"λ={settings.lmbda:g} with a hyperprior "
                                  f"({settings.hyper_latent_dims} side latents)"),
}


def training_minutes(models: int = 1, epochs: int = 15, examples: int = 60_000) -> tuple:
    """The fewest and most whole minutes `models` trainings of `epochs` epochs over `examples`
    digits take on a 2-core CPU (`SECONDS_PER_EPOCH`), rounded outwards."""
    low, high = (models * epochs * examples / 60_000 * s / 60 for s in SECONDS_PER_EPOCH)
    return math.floor(low), math.ceil(high)


# The fewest and most seconds one epoch over all 60,000 training digits takes on this project's
# 2-core CPU machines, as measured in the "seconds" of trained models' histories
# (docs/benchmarks.md, "Training"). The one source of every training time the package and the
# notebooks state.
SECONDS_PER_EPOCH = (10, 40)
# Training recipes: the original tutorial's; a faster one, 4 epochs instead of 15
# (benchmarks/time_to_quality.py measures what it reaches; docs/results.md has the numbers); and one
# model for the eight λ of the study in twice one fixed-rate model's epochs (notebook 08).
RECIPES = {
    "original": {},
    "fast": dict(epochs=4, learning_rate=3e-3, schedule="cosine", warmup=0.03,
                 prior_lr_factor=30.0, prior_lr_ramp=0.5),
    "variable-rate": dict(levels=STUDY_LAMBDAS, epochs=30, learning_rate=2e-3,
                          schedule="cosine", warmup=0.03, prior_lr_factor=30.0,
                          prior_lr_ramp=0.5),
}

__all__ = ["DISTORTIONS", "RECIPES", "SCHEDULES", "SECONDS_PER_EPOCH", "TrainingSettings",
           "training_minutes"]
