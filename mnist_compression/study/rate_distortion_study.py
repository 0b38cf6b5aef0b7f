"""The whole rate–distortion study: the λ sweep beside PNG, JPEG, WebP, zlib and LZMA.

Introduced in notebook 07. `run_study` runs `sweep.run_sweep`, the classical codecs on the same
test digits (`baselines`) and the comparison at equal distortion (`curves`), and with an output
folder writes every table, the two figures and a summary; `mnist-compression sweep` runs it from
the command line (see `cli.sweep`):

    python -m mnist_compression sweep --out build/sweep            # the full study
    python -m mnist_compression sweep --quick --out build/sweep    # a minute-long check

`make figures` runs the full study and copies its two figures to docs/figures for the README.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..lambdas import STUDY_LAMBDAS
from ..plotting import plot_digit_strip, plot_rd_study
from ..settings import TrainingSettings
from ..training import load_training_data
from .baselines import DEFAULT_QUALITIES, evaluate_baselines
from .classifier import train_or_load_classifier
from .curves import compare_at_equal_distortion
from .reference import TUTORIAL_LAMBDAS
from .sweep import Sweep, run_sweep, write_rows


@dataclass
class Study:
    """The whole study: the sweep, the classical codecs on the same digits, and the comparison
    at equal distortion."""

    sweep: Sweep
    baselines: list
    comparisons: list
    test_digits: np.ndarray
    seconds: float


def run_study(settings: TrainingSettings | None = None, lambdas=STUDY_LAMBDAS,
              qualities=DEFAULT_QUALITIES, out_dir=None, classifier=None,
              pretrained=False) -> Study:
    """`run_sweep`, then PNG, JPEG, WebP, zlib and LZMA on the same test digits and
    `compare_at_equal_distortion`. With `out_dir`, every table is written as CSV and JSON beside
    the two figures (rate_distortion.png, digit_strip.png) and a summary.json. `pretrained` goes
    to `training.train_or_load` and the classifier's loader."""

    settings = settings or TrainingSettings()
    start = time.perf_counter()
    if classifier is None:
        classifier = train_or_load_classifier(settings.data_dir, settings.train_examples,
                                              pretrained=pretrained)
    data = load_training_data(settings)
    sweep = run_sweep(settings, lambdas, data=data, classifier=classifier, out_dir=out_dir,
                      pretrained=pretrained)
    test_digits = data.validation
    baselines = evaluate_baselines(test_digits, qualities)
    comparisons = compare_at_equal_distortion(sweep.rows, baselines)
    study = Study(sweep, baselines, comparisons, test_digits, time.perf_counter() - start)
    if out_dir is not None:
        _write_study(study, Path(out_dir),
                     dict(settings=settings.as_dict(), lambdas=list(lambdas),
                          qualities=list(qualities)))
    return study


def _write_study(study: Study, out: Path, summary: dict) -> None:


    write_rows(study.baselines, out / "baselines")
    if study.comparisons:
        write_rows(study.comparisons, out / "comparison")
    figures = {"rate_distortion.png": plot_rd_study(study.sweep.rows, study.baselines,
                                                     TUTORIAL_LAMBDAS),
               "digit_strip.png": plot_digit_strip(
                   study.test_digits[:len(next(iter(study.sweep.reconstructions.values())))],
                   study.sweep.reconstructions)}
    for name, figure in figures.items():
        figure.savefig(out / name, dpi=100)
        plt.close(figure)
    (out / "summary.json").write_text(json.dumps(dict(summary, seconds=study.seconds), indent=1))


__all__ = ["Study", "run_study"]
