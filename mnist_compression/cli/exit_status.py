"""A command's exit status from the function that does its work: the one place that turns a
failure into one line for the user."""

from __future__ import annotations

import sys
from collections.abc import Callable

from .digit_files import CommandError

# What a user's input or files can cause: said in one line, never as a traceback.
USER_ERRORS = (CommandError, ValueError, OSError, RuntimeError)


def exit_status(run: Callable, argv) -> int:
    """Runs ``run(argv)``: 0 when it returns; argparse's status for --help (0) and for usage
    errors (2, after argparse's own message); 2 after one line on stderr for a `USER_ERRORS`."""
    try:
        run(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 2
    except USER_ERRORS as err:
        print("error: " + " ".join(str(err).split()), file=sys.stderr)
        return 2
    return 0


__all__ = ["USER_ERRORS", "exit_status"]
