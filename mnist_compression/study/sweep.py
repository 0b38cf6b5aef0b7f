"""The λ sweep: one model per λ, measured on real strings and decoded digits.

Introduced in notebook 05 (three λ) and used whole in notebook 07 (`rate_distortion_study`).
`run_sweep` trains (or loads from the model cache) one model per λ and measures it on the test
digits; because models are cached under all their settings, an interrupted sweep resumes where it
stopped and a changed setting retrains. `measure_variable_rate` measures one variable-rate model
at several λ the same way (notebook 08). `write_rows` keeps any table as CSV and JSON.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..lambdas import STUDY_LAMBDAS
from ..model.files import make_mnist_codec
from ..settings import TrainingSettings
from ..training import load_training_data, train_or_load
from .evaluation import evaluate_codec


def rd_record(lmbda: float, history: dict, measured: dict, seconds: float,
              per_level: bool = False) -> dict:
    """The one record of a model's rate–distortion results, used by notebooks 05, 07 and 08,
    the plots and the command line: λ, the last epoch's validation rate and distortion
    (`val_rate`, `val_distortion`; with `per_level`, a variable-rate model's at that λ's
    level, NaN between levels), `evaluate_codec`'s measurements of real strings and decoded
    digits, the strings' overhead over the information content, and the seconds it took."""
    level = f"_at_{float(lmbda):g}" if per_level else ""
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


def run_sweep(settings: TrainingSettings | None = None, lambdas=STUDY_LAMBDAS, *,
              data=None, classifier=None, out_dir=None, strip_digits: int = 8,
              progress: bool = True, verbose=0, pretrained=False) -> Sweep:
    """Trains or loads one model per λ (`settings` with that λ) and measures it on the
    validation digits of `settings`, loaded once for all λ (or given as `data`, from
    `training.load_training_data(settings)`).

    Each row is an `rd_record`; with a `classifier` it includes the share of decoded digits it
    recognises. With `out_dir`, the rows are rewritten after every λ. `verbose` is passed to
    training (2: one line per epoch); `pretrained` to `training.train_or_load`.
    """
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


def _measure(sweep: Sweep, lmbda, codec, history, data, classifier, strip_digits, start,
             per_level: bool = False):
    """Adds one λ's `rd_record`, codec and decoded strip to `sweep`."""
    compressor, decompressor = codec
    measured = evaluate_codec(compressor, decompressor, data.validation,
                              data.validation_labels, classifier)
    sweep.rows.append(rd_record(lmbda, history, measured, time.perf_counter() - start,
                                per_level))
    sweep.codecs[float(lmbda)] = codec
    sweep.histories[float(lmbda)] = history
    sweep.reconstructions[float(lmbda)] = decompressor.decompress(
        compressor.compress(data.validation[:strip_digits]))


def measure_variable_rate(codec, data, lambdas=None, *, history=None, classifier=None,
                          strip_digits: int = 8, progress: bool = True) -> Sweep:
    """Measures a variable-rate codec at each λ (default: its levels) on the validation digits
    of `data`, exactly as `run_sweep` measures separately trained models (notebook 08): one
    `rd_record` per λ (with `history`, the validation rate and distortion of each level)."""
    sweep = Sweep()
    for lmbda in tqdm(sorted(lambdas or codec.levels, key=float), desc="λ",
                      disable=not progress):
        _measure(sweep, lmbda, codec.at(lmbda), history or {}, data, classifier,
                 strip_digits, time.perf_counter(), per_level=True)
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


__all__ = ["Sweep", "measure_variable_rate", "rd_record", "run_sweep", "write_rows"]
