"""What the range decoder's sanity check catches in bare strings (no `.mnc` file), by length.

    python benchmarks/sanity_check.py [--strings 400] [--seed 0]
    python benchmarks/sanity_check.py --model model.npz [--data-dir FOLDER]

Strings are real ones: latents drawn from the prior of a trained λ = 300 model (the scales kept
in tests/fixtures/coding_golden.npz), spread 1 to 8 times as wide so that strings of 1 to 32
bytes occur, coded by the package's coder; or, with `--model`, the strings of the 10,000 MNIST
test digits under that model file. For each length bucket it prints the share of
three kinds of wrong strings that *pass* the check (and so decode to some digit): every
truncation of each string (down to b""), every single-bit flip, and random bytes of the same
length. `docs/reliability.md` quotes its output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from mnist_compression.codec.entropy_coder import EntropyCoder

BUCKETS = ((1, 4), (5, 8), (9, 16), (17, 32), (33, 64))
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "coding_golden.npz"


def _passes(coder: EntropyCoder, strings: list[bytes]) -> np.ndarray:
    """Which strings pass the sanity check."""
    from mnist_compression.coding.range_coder import decode

    if not strings:
        return np.zeros(0, bool)
    _, sane = decode(strings, coder.tables)
    return np.asarray(sane, bool)


def _fixture_strings(strings_per_width: int, rng) -> tuple[EntropyCoder, list[bytes]]:
    with np.load(FIXTURE) as fixture:
        scale = fixture["trained_lambda_300/scale"].astype(np.float32)
    coder = EntropyCoder(scale)
    strings = []
    for width in (1, 2, 4, 8):
        latents = rng.logistic(size=(strings_per_width, 50)) * scale * width
        strings += coder.encode_symbols(coder.symbols(latents.astype(np.float32)))
    return coder, strings


def _model_strings(model: Path, data_dir) -> tuple[EntropyCoder, list[bytes]]:
    from mnist_compression.codec.codecs import load_codec
    from mnist_compression.data import load_mnist_arrays

    compressor, _ = load_codec(model).at()
    digits, _ = load_mnist_arrays("test", data_dir)
    return compressor.entropy_model, compressor.compress(digits)


def measure(strings_per_width: int = 400, seed: int = 0, model: Path | None = None,
            data_dir=None) -> list[dict]:
    rng = np.random.default_rng(seed)
    coder, strings = (_fixture_strings(strings_per_width, rng) if model is None else
                      _model_strings(model, data_dir))
    rows = {bucket: dict(strings=0, truncated=[0, 0], flipped=[0, 0], random=[0, 0])
            for bucket in BUCKETS}
    for string in strings:
        bucket = next((b for b in BUCKETS if b[0] <= len(string) <= b[1]), None)
        if bucket is None:
            continue
        row = rows[bucket]
        row["strings"] += 1
        cut = [string[:n] for n in range(len(string))]
        flips = [bytes(string[:i // 8]) + bytes([string[i // 8] ^ (1 << i % 8)])
                 + string[i // 8 + 1:] for i in range(8 * len(string))]
        noise = [rng.bytes(len(string)) for _ in range(8)]
        for name, wrong in (("truncated", cut), ("flipped", flips), ("random", noise)):
            row[name][0] += int(_passes(coder, wrong).sum())
            row[name][1] += len(wrong)
    return [dict(bytes=f"{low}-{high}", strings=row["strings"],
                 **{name: row[name][0] / max(row[name][1], 1)
                    for name in ("truncated", "flipped", "random")},
                 **{f"{name}_tried": row[name][1] for name in ("truncated", "flipped", "random")})
            for (low, high), row in rows.items() if row["strings"]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strings", type=int, default=400, help="strings per prior width")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", type=Path, help="a model file: its strings of the test digits")
    parser.add_argument("--data-dir", help="MNIST IDX folder (default: $MNIST_DATA_DIR)")
    args = parser.parse_args(argv)
    print("| string bytes | strings | cut short, passing | one bit flipped, passing | "
          "random bytes, passing |")
    print("| --- | --- | --- | --- | --- |")
    for row in measure(args.strings, args.seed, args.model, args.data_dir):
        print(f"| {row['bytes']} | {row['strings']:,} | {row['truncated']:.1%} of "
              f"{row['truncated_tried']:,} | {row['flipped']:.1%} of {row['flipped_tried']:,} | "
              f"{row['random']:.1%} of {row['random_tried']:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
