"""The rate–distortion study: one model per λ, measured on real strings, beside classical codecs.

Introduced in notebook 07. `run_sweep` trains (or loads from the model cache) one model per λ and
measures it on the test digits; because models are cached under all their settings, an
interrupted sweep resumes where it stopped and a changed setting retrains. The command line runs
the whole study and writes CSV, JSON and a figure:

    python -m mnist_compression.sweep --out build/sweep            # the full study
    python -m mnist_compression.sweep --quick --out build/sweep    # a minute-long check

`make figures` runs the full study and copies its two figures to docs/figures for the README.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

if __name__ == "__main__":  # a command's messages are not buried under TensorFlow's start-up logs
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from .baselines import DEFAULT_QUALITIES, evaluate_baselines
from .cache import train_or_load
from .classifier import train_or_load_classifier
from .codec import make_mnist_codec
from .data import load_mnist_arrays
from .evaluation import evaluate_codec
from .settings import TrainingSettings

DEFAULT_LAMBDAS = (50, 100, 300, 500, 1000, 2000, 5000, 10000)
TUTORIAL_LAMBDAS = (300, 500, 2000)
LOSSY_CODECS = ("jpeg", "webp")
QUICK = dict(lambdas=(100, 500, 3000), epochs=2, train_examples=4096, validation_examples=1000,
             qualities=(1, 10, 50, 90))


@dataclass
class Sweep:
    """What a sweep measured: one row per λ, and the first test digits decoded by each model."""

    rows: list = field(default_factory=list)
    reconstructions: dict = field(default_factory=dict)


def run_sweep(settings: TrainingSettings | None = None, lambdas=DEFAULT_LAMBDAS, *,
              test_digits=None, test_labels=None, classifier=None, out_dir=None,
              strip_digits: int = 8, progress: bool = True) -> Sweep:
    """Trains or loads one model per λ (`settings` with that λ) and measures it on the test
    digits (the validation digits of `settings` unless `test_digits` are given).

    Each row holds λ, the validation rate and distortion after training, and `evaluate_codec`'s
    measurements of the real strings (information content, string length, their difference, MAE
    and PSNR of the decoded uint8 digits, and with a `classifier` the share it recognises). With
    `out_dir`, results are rewritten after every λ.
    """
    from tqdm import tqdm

    settings = settings or TrainingSettings()
    if test_digits is None:
        test_digits, test_labels = load_mnist_arrays("test", settings.data_dir,
                                                     settings.validation_examples)
    sweep = Sweep()
    for lmbda in tqdm(sorted(lambdas, key=float), desc="λ sweep", disable=not progress):
        start = time.perf_counter()
        trainer, history = train_or_load(settings.replace(lmbda=lmbda), verbose=0)
        compressor, decompressor = make_mnist_codec(trainer)
        measured = evaluate_codec(compressor, decompressor, test_digits, test_labels, classifier)
        sweep.rows.append(dict(
            lmbda=float(lmbda), val_rate=history["val_rate"][-1],
            val_distortion=history["val_distortion"][-1], **measured,
            overhead_bits=measured["string_bits"] - measured["information_bits"],
            seconds=time.perf_counter() - start,
        ))
        strings, _ = compressor(test_digits[:strip_digits])
        sweep.reconstructions[float(lmbda)] = decompressor(strings).numpy()
        if out_dir is not None:
            write_rows(sweep.rows, Path(out_dir) / "sweep")
    return sweep


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


def main(argv=None) -> dict:
    """Command line: the whole study into one folder (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m mnist_compression.sweep",
        description="Train one model per λ, measure real strings on the test digits, and "
                    "compare with PNG, JPEG, WebP, zlib and LZMA on the same digits.")
    parser.add_argument("--lambdas", type=float, nargs="+",
                        help=f"the λ values (default: {' '.join(map(str, DEFAULT_LAMBDAS))})")
    TrainingSettings.add_arguments(parser, skip=("lmbda",))
    parser.add_argument("--qualities", type=int, nargs="+",
                        help=f"JPEG and WebP qualities (default: {DEFAULT_QUALITIES})")
    parser.add_argument("--out", type=Path, default=Path("build/sweep"), help="output folder")
    parser.add_argument("--quick", action="store_true",
                        help="defaults for a minute-long check: λ 100 500 3000, 2 epochs on 4,096 "
                             "digits, 1,000 test digits, 4 qualities (options given win)")
    args = parser.parse_args(argv)
    defaults = dict(QUICK) if args.quick else dict(lambdas=DEFAULT_LAMBDAS,
                                                   qualities=DEFAULT_QUALITIES)
    for name, value in defaults.items():
        if getattr(args, name, None) is None:
            setattr(args, name, list(value) if isinstance(value, tuple) else value)
    settings = TrainingSettings.from_arguments(args)
    start = time.perf_counter()
    test_digits, test_labels = load_mnist_arrays("test", settings.data_dir,
                                                 settings.validation_examples)
    classifier = train_or_load_classifier(settings.data_dir, settings.train_examples)
    sweep = run_sweep(settings, args.lambdas, test_digits=test_digits, test_labels=test_labels,
                      classifier=classifier, out_dir=args.out)
    baselines = evaluate_baselines(test_digits, args.qualities)
    write_rows(baselines, args.out / "baselines")
    comparisons = compare_at_equal_distortion(sweep.rows, baselines)
    if comparisons:
        write_rows(comparisons, args.out / "comparison")
    from .plotting import plot_digit_strip, plot_rd_study

    plot_rd_study(sweep.rows, baselines, TUTORIAL_LAMBDAS).savefig(args.out / "rate_distortion.png",
                                                                   dpi=100)
    strip = test_digits[:len(next(iter(sweep.reconstructions.values())))]
    plot_digit_strip(strip, sweep.reconstructions).savefig(args.out / "digit_strip.png", dpi=100)
    seconds = time.perf_counter() - start
    summary = dict(seconds=seconds, settings=settings.as_dict(), lambdas=args.lambdas,
                   qualities=args.qualities)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"{len(sweep.rows)} models and {len(baselines)} classical settings measured in "
          f"{seconds:.0f} s; results in {args.out}")
    for row in comparisons:
        print(f"λ={row['lmbda']:g}: MAE {row['mae']:.4f} with {row['learned_bits']:.1f} bits; "
              f"best classical ({row['codec']}) needs {row['classical_bits']:.0f} bits "
              f"({row['ratio']:.1f}x)")
    return dict(sweep=sweep.rows, baselines=baselines, comparisons=comparisons)


__all__ = ["DEFAULT_LAMBDAS", "Sweep", "TUTORIAL_LAMBDAS", "compare_at_equal_distortion", "main",
           "run_sweep", "write_rows"]

if __name__ == "__main__":
    main()
