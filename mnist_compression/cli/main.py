"""`mnist-compression` (or `python -m mnist_compression`): one command line, four commands.

    mnist-compression codec export|compress|decompress|info ...   (`cli.codec`)
    mnist-compression train ...                                    (`cli.training`)
    mnist-compression sweep ...                                    (`cli.sweep`)
    mnist-compression release ...                                  (`cli.release`)

Each command's module has `main(argv) -> int`; a command is imported only when it runs, so the
codec's commands start without TensorFlow.
"""

from __future__ import annotations

import importlib
import os
import sys

COMMANDS = {
    "codec": ("codec", "compress digits into .mnc files and back; export trained models"),
    "train": ("training", "train one model and report its validation metrics"),
    "sweep": ("sweep", "the rate-distortion study: a model per λ against classical codecs"),
    "release": ("release", "build a release's pretrained models and their manifest"),
}
PROG = "mnist-compression"


def _usage() -> str:
    lines = [f"usage: {PROG} {{{','.join(COMMANDS)}}} ...", "", "commands:"]
    lines += [f"  {name:<9} {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", f"`{PROG} COMMAND --help` describes each (also `python -m mnist_compression`)."]
    return "\n".join(lines)


def main(argv=None) -> int:
    """Runs one command and returns its exit status (2 with a usage line for an unknown one)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(_usage())
        return 0
    if not argv:
        print(f"{_usage()}\n{PROG}: error: name a command", file=sys.stderr)
        return 2
    if argv[0] not in COMMANDS:
        print(f"{_usage()}\n{PROG}: error: unknown command {argv[0]!r}", file=sys.stderr)
        return 2
    # A command's messages are not buried under TensorFlow's start-up logs.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    module = importlib.import_module(f"mnist_compression.cli.{COMMANDS[argv[0]][0]}")
    return module.main(argv[1:])


__all__ = ["COMMANDS", "main"]
