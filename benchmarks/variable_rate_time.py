"""Times an epoch of the variable-rate model (notebook 08) against one of a model for one λ.

Both train back to back, on the same digits and machine, for a few epochs each; the script
prints the median seconds per epoch of each and what the two trainings the study compares cost
at that pace: the recipe's epochs of the variable-rate model (`TrainingSettings.variable_rate`)
against eight models of the original recipe's epochs, one per λ of the study.

    python benchmarks/variable_rate_time.py --epochs 3 --data-dir ../mnist
"""

from __future__ import annotations

import argparse
import json
import statistics

from mnist_compression.lambdas import STUDY_LAMBDAS
from mnist_compression.settings import TrainingSettings
from mnist_compression.training import load_training_data, train_model


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed per model")
    parser.add_argument("--train-examples", type=int, help="training digits (default: all)")
    parser.add_argument("--data-dir", help="folder with the MNIST IDX files")
    parser.add_argument("--out", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    fixed = TrainingSettings(train_examples=args.train_examples, data_dir=args.data_dir)
    variable = fixed.variable_rate()
    data = load_training_data(fixed)
    seconds = {}
    for name, settings in (("one λ", fixed), ("variable-rate", variable)):
        _, history = train_model(settings.replace(epochs=args.epochs), data=data, verbose=0)
        seconds[name] = statistics.median(history["seconds"])
        print(f"{name}: {seconds[name]:.2f} s per epoch (median of {args.epochs})")
    eight = len(STUDY_LAMBDAS) * fixed.epochs * seconds["one λ"]
    one = variable.epochs * seconds["variable-rate"]
    print(f"at this pace: {len(STUDY_LAMBDAS)} models × {fixed.epochs} epochs = "
          f"{eight / 60:.1f} min; the variable-rate model's {variable.epochs} epochs = "
          f"{one / 60:.1f} min ({one / eight:.0%})")
    result = dict(seconds_per_epoch=seconds, eight_models_seconds=eight,
                  variable_rate_seconds=one, share=one / eight)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1, ensure_ascii=False)
    return result


if __name__ == "__main__":
    main()
