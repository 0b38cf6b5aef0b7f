"""`mnist-compression sweep`: the rate–distortion study into one folder.

    mnist-compression sweep --out build/sweep            # the full study
    mnist-compression sweep --quick --out build/sweep    # a minute-long check
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..lambdas import STUDY_LAMBDAS
from ..study.baselines import DEFAULT_QUALITIES
from .exit_status import exit_status
from .main import PROG
from .settings_options import add_settings_options, lambdas_help, settings_from_options

QUICK = dict(lambdas=(100, 500, 3000), epochs=2, train_examples=4096, validation_examples=1000,
             qualities=(1, 10, 50, 90))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} sweep",
        description="Train one model per λ, measure real strings on the test digits, and "
                    "compare with PNG, JPEG, WebP, zlib and LZMA on the same digits.")
    parser.add_argument("--lambdas", type=float, nargs="+",
                        help=lambdas_help())
    add_settings_options(parser, skip=("lmbda",))
    parser.add_argument("--qualities", type=int, nargs="+",
                        help=f"JPEG and WebP qualities (default: {DEFAULT_QUALITIES})")
    parser.add_argument("--out", type=Path, default=Path("build/sweep"), help="output folder")
    parser.add_argument("--quick", action="store_true",
                        help="defaults for a minute-long check: λ 100 500 3000, 2 epochs on 4,096 "
                             "digits, 1,000 test digits, 4 qualities (options given win)")
    return parser


def run(argv=None) -> dict:
    """Runs the study (see the module docstring); returns its tables as lists of dicts."""
    args = _parser().parse_args(argv)
    defaults = dict(QUICK) if args.quick else dict(lambdas=STUDY_LAMBDAS,
                                                   qualities=DEFAULT_QUALITIES)
    for name, value in defaults.items():
        if getattr(args, name, None) is None:
            setattr(args, name, list(value) if isinstance(value, tuple) else value)
    settings = settings_from_options(args)
    # The study trains, which needs TensorFlow: imported once the options are known good.
    from ..study.rate_distortion_study import run_study

    study = run_study(settings, args.lambdas, args.qualities, args.out)
    print(f"{len(study.sweep.rows)} models and {len(study.baselines)} classical settings "
          f"measured in {study.seconds:.0f} s; results in {args.out}")
    for row in study.comparisons:
        print(f"λ={row['lmbda']:g}: MAE {row['mae']:.4f} with {row['learned_bits']:.1f} bits; "
              f"best classical ({row['codec']}) needs {row['classical_bits']:.0f} bits "
              f"({row['ratio']:.1f}x)")
    return dict(sweep=study.sweep.rows, baselines=study.baselines, comparisons=study.comparisons)


def main(argv=None) -> int:
    """The command: `run`, as an exit status (`exit_status`)."""
    return exit_status(run, argv)


__all__ = ["QUICK", "main", "run"]
