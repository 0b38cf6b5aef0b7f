"""`mnist-compression release` (`make release-models`): the release's models into one folder.

Trains (or takes from the model cache) one model per λ of the study, notebook 08's models
(`study.release_models.release_files`) and the digit classifier, and writes them with their
manifest (`study.release_models`; `docs/releasing.md` says how the folder becomes a release).

    mnist-compression release --out build/release
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import RELEASE
from ..lambdas import STUDY_LAMBDAS
from ..storage.pretrained import MANIFEST
from .exit_status import exit_status
from .main import PROG
from .settings_options import add_settings_options, lambdas_help, settings_from_options


def run(argv=None) -> dict:
    """Builds the release folder (see the module docstring); returns the manifest."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} release",
        description="Train or load the models the notebooks use and write them, with a "
                    "manifest of their SHA-256 and measurements, into a release folder.")
    parser.add_argument("--lambdas", type=float, nargs="+", default=list(STUDY_LAMBDAS),
                        help=lambdas_help())
    parser.add_argument("--no-variable-rate", dest="variable_rate", action="store_false",
                        help="leave out notebook 08's models (its variable-rate models and "
                             "the models trained with their recipe)")
    add_settings_options(parser, skip=("lmbda", "levels"))
    parser.add_argument("--out", type=Path, default=Path("build/release"), help="output folder")
    args = parser.parse_args(argv)
    settings = settings_from_options(args)
    # Training needs TensorFlow: imported once the options are known good (--help needs none).
    from ..study.release_models import build_release

    manifest = build_release(settings, args.lambdas, args.out, args.variable_rate)
    print(f"Wrote {len(manifest['files'])} files and {MANIFEST} for {RELEASE} to {args.out}")
    return manifest


def main(argv=None) -> int:
    """The command: `run`, as an exit status (`exit_status`)."""
    return exit_status(run, argv)


__all__ = ["main", "run"]
