"""`python -m mnist_compression train`: train one model and report its validation metrics.

    python -m mnist_compression train --lmbda 2000 --epochs 15 --output model.npz
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..atomic_files import refuse_existing, write_atomically
from ..model.files import save_model
from ..training import final_metrics, train_model
from .settings_options import add_settings_options, settings_from_options


def run(argv=None) -> dict:
    """Command line: train one model, print its final validation metrics and the time per epoch,
    and optionally save it."""
    parser = argparse.ArgumentParser(
        prog="python -m mnist_compression train",
        description="Train the tutorial's MNIST compression model for one λ.")
    add_settings_options(parser)
    parser.add_argument("--output", type=Path, help="save the trained model here (.npz)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    args = parser.parse_args(argv)
    settings = settings_from_options(args)
    try:
        for path in (args.output, args.json):
            refuse_existing(path, args.force)
        start = time.perf_counter()
        trainer, history = train_model(settings, verbose=2)
    except (FileExistsError, ValueError, OSError, RuntimeError) as err:  # bad data, mostly
        parser.exit(2, f"error: {' '.join(str(err).split())}\n")
    seconds = time.perf_counter() - start
    results = dict(final_metrics(history), seconds=seconds,
                   seconds_per_epoch=seconds / settings.epochs, history=history,
                   settings=settings.as_dict())
    if args.output:
        save_model(trainer, args.output, settings=settings, history=history,
                   overwrite=args.force)
    if args.json:
        text = json.dumps(results, indent=2).encode()
        write_atomically(args.json, lambda f: f.write(text), args.force)
    print(json.dumps({key: value for key, value in results.items() if key != "history"},
                     indent=2))
    return results


def main(argv=None) -> int:
    """Runs `run` and returns the exit status: 0, or 2 after one line on stderr for bad input
    (argparse's own exits, such as --help, keep their status)."""
    try:
        run(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    return 0


__all__ = ["main", "run"]
