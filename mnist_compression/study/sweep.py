"""The rate–distortion study: one model per λ, measured on real strings, beside classical codecs.

Introduced in notebook 05 (three λ) and used whole in notebook 07. `run_sweep` trains (or loads
from the model cache) one model per λ and measures it on the test digits; because models are
cached under all their settings, an interrupted sweep resumes where it stopped and a changed
setting retrains. `run_study` adds the classical codecs, the comparison at equal distortion and
the figures; `python -m mnist_compression sweep` runs it from the command line (see `cli.sweep`):

    python -m mnist_compression sweep --out build/sweep            # the full study
    python -m mnist_compression sweep --quick --out build/sweep    # a minute-long check

`make figures` runs the full study and copies its two figures to docs/figures for the README.
"""

from __future__ import annotations

import csv
import json
import math
import numbers
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..model.files import make_mnist_codec
from ..settings import TrainingSettings
from ..training import load_training_data, train_or_load
from .baselines import DEFAULT_QUALITIES, evaluate_baselines
from .bd_rate import bd_rate, shared_quality
from .evaluation import evaluate_codec
from .reference import TUTORIAL_LAMBDAS

DEFAULT_LAMBDAS = (50, 100, 300, 500, 1000, 2000, 5000, 10000)
LOSSY_CODECS = ("jpeg", "webp")


def rd_record(lmbda: float, history: dict, measured: dict, seconds: float) -> dict:
    """The one record of a model's rate–distortion results, used by notebooks 05, 07 and 08,
    the plots and the command line: λ, the last epoch's validation rate and distortion
    (`val_rate`, `val_distortion`; a variable-rate model's at that λ's level, NaN between
    levels), `evaluate_codec`'s measurements of real strings and decoded digits, the strings'
    overhead over the information content, and the seconds it took."""
    level = f"_at_{float(lmbda):g}" if any(k.startswith("val_rate_at_") for k in history) else ""
    validation = {f"val_{name}": float(history[f"val_{name}{level}"][-1])
                  if f"val_{name}{level}" in history else math.nan
                  for name in ("rate", "distortion")}
    return dict(lmbda=float(lmbda), **validation, **measured,
                overhead_bits=measured["string_bits"] - measured["information_bits"],
                seconds=seconds)


@dataclass
class Sweep:
    """What a sweep measured: one `rd_record` per λ, the first test digits decoded by each
    model, each model's (compressor, decompressor) and training history."""

    rows: list = field(default_factory=list)
    reconstructions: dict = field(default_factory=dict)
    codecs: dict = field(default_factory=dict)
    histories: dict = field(default_factory=dict)


def run_sweep(settings: TrainingSettings | None = None, lambdas=DEFAULT_LAMBDAS, *,
              data=None, classifier=None, out_dir=None, strip_digits: int = 8,
              progress: bool = True, verbose=0, pretrained=False) -> Sweep:
    """Trains or loads one model per λ (`settings` with that λ) and measures it on the
    validation digits of `settings`, loaded once for all λ (or given as `data`, from
    `training.load_training_data(settings)`).

    Each row is an `rd_record`; with a `classifier` it includes the share of decoded digits it
    recognises. With `out_dir`, the rows are rewritten after every λ. `verbose` is passed to
    training (2: one line per epoch); `pretrained` to `training.train_or_load`.
    """
    from tqdm import tqdm

    settings = settings or TrainingSettings()
    data = data or load_training_data(settings)
    sweep = Sweep()
    for lmbda in tqdm(sorted(lambdas, key=float), desc="λ sweep", disable=not progress):
        start = time.perf_counter()
        trainer, history = train_or_load(settings.replace(lmbda=lmbda), data=data,
                                         verbose=verbose, pretrained=pretrained)
        _measure(sweep, lmbda, make_mnist_codec(trainer), history, data, classifier,
                 strip_digits, start)
        if out_dir is not None:
            write_rows(sweep.rows, Path(out_dir) / "sweep")
    return sweep


def _measure(sweep: Sweep, lmbda, codec, history, data, classifier, strip_digits, start):
    """Adds one λ's `rd_record`, codec and decoded strip to `sweep`."""
    compressor, decompressor = codec
    measured = evaluate_codec(compressor, decompressor, data.validation,
                              data.validation_labels, classifier)
    sweep.rows.append(rd_record(lmbda, history, measured, time.perf_counter() - start))
    sweep.codecs[float(lmbda)] = codec
    sweep.histories[float(lmbda)] = history
    sweep.reconstructions[float(lmbda)] = decompressor.decompress(
        compressor.compress(data.validation[:strip_digits]))


def measure_variable_rate(codec, data, lambdas=None, *, history=None, classifier=None,
                          strip_digits: int = 8, progress: bool = True) -> Sweep:
    """Measures a `VariableRateCodec` at each λ (default: its levels) on the validation digits
    of `data`, exactly as `run_sweep` measures separately trained models (notebook 08): one
    `rd_record` per λ (with `history`, the validation rate and distortion of each level)."""
    from tqdm import tqdm

    sweep = Sweep()
    for lmbda in tqdm(sorted(lambdas or codec.levels, key=float), desc="λ",
                      disable=not progress):
        _measure(sweep, lmbda, codec.at(lmbda), history or {}, data, classifier,
                 strip_digits, time.perf_counter())
    return sweep


QUALITIES = ("psnr", "mae")  # what BD-rates are measured along: PSNR, or -MAE


def _front(rows, rate: str, quality: str) -> tuple[list, list]:
    """The (rate, quality) points of rows on their Pareto front (no other point has fewer bits
    and better quality), quality being PSNR or -MAE; lossless rows (MAE 0) left out, and a
    ValueError for a row whose rate or quality is not a finite number."""
    if quality not in QUALITIES:
        raise ValueError(f"quality must be one of {QUALITIES}, got {quality!r}.")
    points = []
    for row in rows:
        if row["mae"] == 0:  # lossless: no point of a lossy curve
            continue
        point = (-row["psnr"] if quality == "psnr" else row["mae"], row[rate])
        if not all(isinstance(v, numbers.Real) and math.isfinite(v) for v in point):
            raise ValueError(f"A row (λ or codec {row.get('lmbda', row.get('codec'))!r}) has a "
                             f"{quality} or {rate} that is not a finite number: {point}.")
        points.append(point)
    front = _pareto_front(points)
    return [bits for _, bits in front], [-q for q, _ in front]


def rows_bd_rate(anchor_rows, test_rows, quality: str = "psnr", anchor_rate="string_bits",
                 test_rate="string_bits") -> dict:
    """The BD-rate (`bd_rate.bd_rate`, percent) of one rate–distortion curve against another,
    each given as rows (`rd_record`s or classical codec rows) and reduced to its Pareto front,
    along PSNR or -MAE: dict(bd_rate, low, high, anchor_points, test_points), low and high
    bounding the quality range both cover (in dB, or in MAE). Raises ValueError when it cannot
    be computed (fewer than two points on a front, or no shared range)."""
    anchor = _front(anchor_rows, anchor_rate, quality)
    test = _front(test_rows, test_rate, quality)
    percent = bd_rate(*anchor, *test)  # checks the curves first
    low, high = shared_quality(anchor[1], test[1])
    if quality == "mae":
        low, high = -high, -low
    return dict(bd_rate=percent, low=low, high=high,
                anchor_points=len(anchor[0]), test_points=len(test[0]))


def describe_bd_rate(label: str, result: dict, quality: str = "psnr") -> str:
    """One line for a `rows_bd_rate` or `bd_rate_against_classical` result: the BD-rate and
    the range it averages over, or why there is none."""
    if result.get("bd_rate") is None:
        return f"{label} ({quality.upper()}): no BD-rate, the curves share no quality range"
    low, high = ((f"{result['low']:.1f}", f"{result['high']:.1f} dB") if quality == "psnr"
                 else (f"MAE {result['low']:.4f}", f"{result['high']:.4f}"))
    return f"{label} ({quality.upper()}): BD-rate {result['bd_rate']:+.1f}% over {low} to {high}"


def bd_rate_against_classical(sweep_rows, baseline_rows, quality: str = "psnr") -> list:
    """For each lossy classical codec (payload bits, the files' own headers left out):
    `rows_bd_rate` of the learned codec's real strings against it, with "codec" added; a codec
    whose curve shares no quality range with the learned one gets ``bd_rate=None`` and the
    reason (notebooks 07 and 08)."""
    results = []
    for codec in LOSSY_CODECS:
        rows = [r for r in baseline_rows if r["codec"] == codec]
        try:
            result = rows_bd_rate(rows, sweep_rows, quality, anchor_rate="payload_bits")
        except ValueError as err:
            result = dict(bd_rate=None, reason=str(err))
        results.append(dict(codec=codec, **result))
    return results


@dataclass
class Study:
    """The whole study: the sweep, the classical codecs on the same digits, and the comparison
    at equal distortion."""

    sweep: Sweep
    baselines: list
    comparisons: list
    test_digits: np.ndarray
    seconds: float


def run_study(settings: TrainingSettings | None = None, lambdas=DEFAULT_LAMBDAS,
              qualities=DEFAULT_QUALITIES, out_dir=None, classifier=None,
              pretrained=False) -> Study:
    """`run_sweep`, then PNG, JPEG, WebP, zlib and LZMA on the same test digits and
    `compare_at_equal_distortion`. With `out_dir`, every table is written as CSV and JSON beside
    the two figures (rate_distortion.png, digit_strip.png) and a summary.json. `pretrained` goes
    to `training.train_or_load` and the classifier's loader."""
    from .classifier import train_or_load_classifier

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
    import matplotlib.pyplot as plt

    from ..plotting import plot_digit_strip, plot_rd_study

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


def write_rows(rows: list, stem: Path) -> None:
    """Writes rows as `stem`.csv and `stem`.json (infinite PSNRs become null in JSON)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    with open(stem.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    clean = [{k: None if isinstance(v, float) and math.isinf(v) else v for k, v in row.items()}
             for row in rows]
    stem.with_suffix(".json").write_text(json.dumps(clean, indent=1))


def secant_slopes(rows) -> list:
    """``(lower λ row, higher λ row, slope)`` between neighbours on the measured curve, in order
    of distortion: the slope of the straight line joining two models' (test distortion, test
    rate) points, in bits per unit of distortion (notebook 05 compares it with −λ)."""
    ordered = sorted(rows, key=lambda row: row["val_distortion"])
    return [(a, b, (b["val_rate"] - a["val_rate"]) / (b["val_distortion"] - a["val_distortion"]))
            for a, b in zip(ordered, ordered[1:])]


def _pareto_front(points):
    """The (mae, bits) points no other point beats in both; e.g. JPEG at quality 5 can be both
    larger and worse than at quality 1, and then quality 5 is not on the codec's curve."""
    front = []
    for mae, bits in sorted(points):
        if not front or bits < front[-1][1]:
            front.append((mae, bits))
    return front


def compare_at_equal_distortion(sweep_rows, baseline_rows, bits: str = "payload_bits") -> list:
    """For every learned model whose MAE lies inside a lossy classical codec's range of MAEs,
    the bits that codec needs at that MAE (log-linear interpolation between the qualities on its
    Pareto front) and
    how many times more that is than the learned codec's actual strings. Nothing is
    extrapolated: a model outside every codec's range gets no comparison."""
    curves = {}
    for codec in LOSSY_CODECS:
        points = _pareto_front([(r["mae"], r[bits]) for r in baseline_rows if r["codec"] == codec])
        if len(points) >= 2:
            curves[codec] = np.array(points)
    comparisons = []
    for row in sweep_rows:
        candidates = {}
        for codec, curve in curves.items():
            if curve[0, 0] <= row["mae"] <= curve[-1, 0]:
                candidates[codec] = float(np.exp(np.interp(row["mae"], curve[:, 0],
                                                           np.log(curve[:, 1]))))
        if candidates:
            codec = min(candidates, key=candidates.get)
            comparisons.append(dict(lmbda=row["lmbda"], mae=row["mae"],
                                    learned_bits=row["string_bits"], codec=codec,
                                    classical_bits=candidates[codec],
                                    ratio=candidates[codec] / row["string_bits"]))
    return comparisons


__all__ = ["DEFAULT_LAMBDAS", "QUALITIES", "Study", "Sweep", "bd_rate_against_classical",
           "compare_at_equal_distortion", "describe_bd_rate", "measure_variable_rate",
           "rd_record", "rows_bd_rate", "run_study", "run_sweep", "secant_slopes", "write_rows"]
