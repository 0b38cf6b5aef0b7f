"""`mnist-compression train`: train one model and report its validation metrics.

    mnist-compression train --lmbda 2000 --epochs 15 --output model.npz
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..atomic_files import check_output, write_atomically
from .exit_status import exit_status
from .main import PROG
from .settings_options import add_settings_options, settings_from_options


def run(argv=None) -> dict:
    """Command line: train one model, print its final validation metrics and the time per epoch,
    and optionally save it; returns the results."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} train", description="Train the tutorial's MNIST compression model for one λ.")
    add_settings_options(parser)
    parser.add_argument("--output", type=Path, help="save the trained model here (.npz)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    args = parser.parse_args(argv)
    settings = settings_from_options(args)
    for path in (args.output, args.json):
        if path is not None:
            check_output(path, args.force)
    # Training needs TensorFlow: imported once the options are known good (--help needs none).
    from .. import training
    from ..model.files import save_model

    start = time.perf_counter()
    trainer, history = training.train_model(settings, verbose=2)
    seconds = time.perf_counter() - start
    results = dict(training.final_metrics(history), seconds=seconds,
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
    """The command: `run`, as an exit status (`exit_status`)."""
    return exit_status(run, argv)


__all__ = ["main", "run"]
