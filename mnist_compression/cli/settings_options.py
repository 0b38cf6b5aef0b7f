"""`TrainingSettings` as command-line options: one option per field, with its help text.

`--train-examples` sets train_examples, and so on; each option's type comes from the field's type
hint (`typing.get_type_hints`), levels are read as text ("50,300,2000") and parsed by the
settings' own check. Options left out default to None, i.e. the chosen `--recipe`'s value.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing

from ..lambdas import STUDY_LAMBDAS
from ..settings import RECIPES, TrainingSettings


def _option_type(hint) -> type:
    """float, int or str for a field's type hint (`X | None` counts as X; a tuple is text)."""
    kinds = [kind for kind in typing.get_args(hint) or (hint,) if kind is not type(None)]
    return kinds[0] if kinds and kinds[0] in (float, int) else str


def _help(option: dataclasses.Field) -> str:
    """A field's help text, ending with its default unless the text already names it."""
    text = option.metadata["help"]
    return text if "(default:" in text else f"{text} (default: {option.default})"


def add_settings_options(parser: argparse.ArgumentParser, skip=()) -> None:
    """Adds ``--recipe`` and one option per field of `TrainingSettings` except those in `skip`."""
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="original",
                        help="the recipe whose values the other options change (default: "
                             "original)")
    hints = typing.get_type_hints(TrainingSettings)
    for f in dataclasses.fields(TrainingSettings):
        if f.name in skip:
            continue
        kind = _option_type(hints[f.name])
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=None,
                            metavar=kind.__name__.upper(), help=_help(f))


def lambdas_help() -> str:
    """The help of a --lambdas option: the study's λ by default."""
    return f"the λ values (default: {' '.join(f'{v:g}' for v in STUDY_LAMBDAS)})"


def settings_from_options(args: argparse.Namespace) -> TrainingSettings:
    """Settings from parsed options: the chosen recipe with every option the user gave."""
    given = {f.name: getattr(args, f.name, None) for f in dataclasses.fields(TrainingSettings)}
    return TrainingSettings.from_recipe(getattr(args, "recipe", "original"), **given)


__all__ = ["add_settings_options", "lambdas_help", "settings_from_options"]
