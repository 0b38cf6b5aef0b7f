"""Times an epoch of the scale hyperprior (notebook 09) against one of the factorized model.

Both train on the same digits and machine, taking turns (factorized, hyperprior, factorized, …)
so that whatever else loads the machine falls on both alike. Each training's first epoch, which
includes tracing the graph, is left out; the script prints the median seconds per epoch of each
and the ratio.

    python benchmarks/hyperprior_time.py --rounds 2 --epochs 3 --data-dir ../mnist
"""

from __future__ import annotations

import argparse
import json
import statistics

from mnist_compression.settings import TrainingSettings
from mnist_compression.training import load_training_data, train_model


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="turns each model takes")
    parser.add_argument("--epochs", type=int, default=3,
                        help="epochs per turn; the first is left out (at least 2)")
    parser.add_argument("--hyper-latent-dims", type=int, default=8, help="side latents")
    parser.add_argument("--train-examples", type=int, help="training digits (default: all)")
    parser.add_argument("--data-dir", help="folder with the MNIST IDX files")
    parser.add_argument("--out", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.epochs < 2 or args.rounds < 1:
        parser.error("--epochs must be at least 2 and --rounds at least 1")
    factorized = TrainingSettings(train_examples=args.train_examples, data_dir=args.data_dir,
                                  epochs=args.epochs)
    models = dict(factorized=factorized,
                  hyperprior=factorized.replace(hyper_latent_dims=args.hyper_latent_dims))
    data = load_training_data(factorized)
    epochs = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, settings in models.items():
            _, history = train_model(settings, data=data, verbose=0)
            epochs[name] += history["seconds"][1:]
    seconds = {name: statistics.median(times) for name, times in epochs.items()}
    ratio = seconds["hyperprior"] / seconds["factorized"]
    for name, value in seconds.items():
        print(f"{name}: {value:.2f} s per epoch (median of {len(epochs[name])})")
    print(f"the hyperprior's epoch takes {ratio:.2f} times the factorized model's")
    result = dict(seconds_per_epoch=seconds, epochs=epochs, ratio=ratio, settings=vars(args))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
