"""λ, the price of distortion in bits, and a variable-rate model's rate levels: checked here once.

Introduced in notebook 03 (λ) and notebook 08 (levels). `STUDY_LAMBDAS` are the eight λ of the
rate–distortion study (notebook 07) and the levels of the variable-rate recipe (notebook 08);
`kind_of` tells the kinds of model apart by their levels and side latents, for settings and model
files alike.
"""

from __future__ import annotations

import decimal
import math
import numbers

from .checks import shown

STUDY_LAMBDAS = (50.0, 100.0, 300.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0)
# The kinds of model: trained for one λ, for rate levels (one gain per level), or for one λ
# with a scale hyperprior (side latents, notebook 09).
FIXED_RATE, VARIABLE_RATE, HYPERPRIOR = "fixed-rate", "variable-rate", "hyperprior"


def kind_of(levels, hyper_latent_dims=None) -> str:
    """The kind of model that has these rate levels (None: a model of one λ) and side latents
    (None: a factorized prior alone)."""
    if levels is not None:
        return VARIABLE_RATE
    return FIXED_RATE if hyper_latent_dims is None else HYPERPRIOR


def check_lmbda(value, name: str = "lmbda") -> float:
    """λ as a float: a real number (int, float, numpy scalar, Decimal, Fraction), finite and
    > 0; otherwise ValueError naming `name` (long values cut short)."""
    if isinstance(value, (numbers.Real, decimal.Decimal)) and not isinstance(value, bool):
        try:
            number = float(value)
        except (OverflowError, ValueError):
            number = math.inf
        if math.isfinite(number) and number > 0:
            return number
    raise ValueError(f"{name} must be a positive finite number, got {shown(value)}.")


def check_levels(levels) -> tuple:
    """The λ of a model's rate levels as ascending floats. Raises ValueError unless there are
    at least two, each positive, finite and given once, and no two print alike with :g (the
    names of their metrics and of the cache key)."""
    try:
        values = sorted(float(v) for v in levels)
    except (TypeError, ValueError, OverflowError):
        values = []
    if (len(values) < 2 or not all(math.isfinite(v) and v > 0 for v in values)
            or len({f"{v:g}" for v in values}) != len(values)):
        raise ValueError(f"levels must name at least two different positive finite λ, each "
                         f"once and differing in their first six digits, got {levels!r}.")
    return tuple(values)


def parse_levels(levels) -> tuple:
    """Levels written as text ("50,300,2000", spaces allowed) or as numbers, checked by
    `check_levels`: the one place text becomes levels."""
    if isinstance(levels, str):
        try:
            levels = [float(v) for v in levels.replace(" ", "").split(",")]
        except ValueError:
            raise ValueError(f"levels must be λ values separated by commas, e.g. "
                             f"\"50,300,2000\", got {levels!r}.") from None
    return check_levels(levels)


def levels_text(levels) -> str:
    """Levels as one canonical text, "50,300,2000" (ascending, each as :g prints it): how
    settings records and the model cache's keys write them."""
    return ",".join(f"{v:g}" for v in check_levels(levels))


__all__ = ["FIXED_RATE", "HYPERPRIOR", "STUDY_LAMBDAS", "VARIABLE_RATE", "check_levels",
           "check_lmbda", "kind_of", "levels_text", "parse_levels"]
