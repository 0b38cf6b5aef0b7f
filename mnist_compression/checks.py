"""Declarative checks of values: a test and the words for what it expects, in one table each.

`TrainingSettings` (its fields) and model files (their records) both describe every value they
accept with these checks, so a bad value is refused with the same kind of one-line message,
"<name> must be <expected>, got <value>.", wherever it is read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite(value) -> bool:
    """Whether a number is finite; an integer too large for a float is not."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


@dataclass(frozen=True)
class Check:
    """A value's test, what it expects in words, and how an accepted value is stored."""

    test: Callable[[object], bool]
    expected: str
    convert: Callable = staticmethod(lambda value: value)

    def __call__(self, name: str, value):
        """The value, converted, or ValueError naming `name` and what was expected."""
        if not self.test(value):
            raise ValueError(f"{name} must be {self.expected}, got {shown(value)}.")
        return self.convert(value)

    def to(self, convert: Callable) -> Check:
        """The same check that stores an accepted value as `convert(value)`."""
        return Check(self.test, self.expected, convert)

    def or_none(self) -> Check:
        """The same check that also accepts None (kept as None)."""
        return Check(lambda v: v is None or self.test(v), f"{self.expected}, or None",
                     lambda v: None if v is None else self.convert(v))


def shown(value, limit: int = 60, as_text: Callable = repr) -> str:
    """A value as a message quotes it (`as_text`: repr, or json.dumps for a file's values), cut
    short when long."""
    text = as_text(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def one_of(choices: tuple) -> Check:
    return Check(lambda v: v in choices, f"one of {choices}")


POSITIVE_INTEGER = Check(lambda v: is_int(v) and v >= 1, "a positive integer")
# Latents per digit: more than a digit's 784 pixels would not compress, and a huge count would
# only exhaust memory while the model is built.
LATENT_COUNT = Check(lambda v: is_int(v) and 1 <= v <= 784,
                     "an integer from 1 to 784 (a digit's pixels)")
INTEGER = Check(is_int, "an integer")
POSITIVE_NUMBER = Check(lambda v: is_number(v) and is_finite(v) and v > 0,
                        "a positive finite number")
NON_NEGATIVE_NUMBER = Check(lambda v: is_number(v) and is_finite(v) and v >= 0,
                            "a finite number >= 0")
SHARE = Check(lambda v: is_number(v) and 0 <= v < 1, "a share of the steps in [0, 1)")
PATH = Check(lambda v: isinstance(v, str) or hasattr(v, "__fspath__"), "a path", os.fspath)

__all__ = ["Check", "INTEGER", "LATENT_COUNT", "NON_NEGATIVE_NUMBER", "PATH", "POSITIVE_INTEGER",
           "POSITIVE_NUMBER", "SHARE", "is_finite", "is_int", "is_number", "one_of", "shown"]
