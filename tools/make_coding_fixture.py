"""Writes tests/fixtures/coding_golden.npz: tensorflow-compression's own tables and strings.

Run it on the Python 3.11 stack, where tensorflow-compression 2.14.1 is installed:

    .venv/bin/python tools/make_coding_fixture.py [--trained model.npz ...]

The fixture is the reference every stack's tests compare with byte for byte
(tests/test_coding_fixture.py). For each set of priors it records the priors, the tables TFC
builds from them, latent vectors (many far outside the tables), the strings TFC writes for them,
the values TFC decodes, and strings on which TFC's decoder would hang (found with this package's
decoder, which bounds every escape code). Only TFC is used to make the reference values.

The priors cover scales from 1e-3 to nearly the widest a 12-bit table can code, the two scales at
which TF 2.20's `tf.sigmoid` used to change the tables (3.47 and 6.23), non-zero locations, other
tail masses and precisions, and the priors of trained models at λ = 300, 500 and 2000: from the
model files given with --trained, else the ones already in the fixture.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "coding_golden.npz"
VECTORS = 240


def prior_sets(trained: dict) -> dict:
    """name -> (loc, scale, tail_mass, precision), all scales float32."""
    def f32(values):
        return np.asarray(values, np.float32)

    sets = {
        "scales_1e-3_to_widest": (f32(0.0), f32(np.geomspace(1e-3, 320.0, 48)), 2.0**-8, 12),
        "scale_3.47": (f32(0.0), f32([3.47] * 8), 2.0**-8, 12),
        "scale_6.23": (f32(0.0), f32([6.23] * 8), 2.0**-8, 12),
        "design_note": (f32(0.0), f32(np.linspace(0.01, 2.0, 10)), 2.0**-8, 12),
        "locations": (f32(np.linspace(-7.3, 4.6, 20)), f32(np.geomspace(0.02, 9.0, 20)),
                      2.0**-8, 12),
        "tail_2^-4_precision_14": (f32(0.0), f32(np.geomspace(0.01, 40.0, 24)), 2.0**-4, 14),
        "tail_1e-3_precision_16": (f32(0.5), f32(np.geomspace(0.05, 60.0, 24)), 1e-3, 16),
    }
    for lmbda, scale in sorted(trained.items()):
        sets[f"trained_lambda_{lmbda:g}"] = (f32(0.0), f32(scale), 2.0**-8, 12)
    return sets


def latents(rng, loc, scale, lengths_low, lengths_high):
    """Latent vectors: typical ones, wide ones, and escapes 2**29 beyond the tables (TFC never
    returns from 2**30 on, so the limit itself is tested without it)."""
    channels = len(scale)
    loc = np.broadcast_to(loc, (channels,))
    spread = rng.choice([0.5, 1, 3, 30], (VECTORS, channels), p=[0.3, 0.4, 0.2, 0.1])
    y = rng.logistic(size=(VECTORS, channels)) * scale * spread + loc
    y[:4] = loc + np.sign(rng.normal(size=(4, channels))) * 1e5
    y[4] = lengths_high + 2.0**29
    y[5] = lengths_low - 2.0**29
    y[6] = 0.0
    return y.astype(np.float32)


def hanging_strings(rng, tables, count=6):
    """Byte strings whose escape code never ends: TFC's decoder would not return on them."""
    from mnist_compression.coding.range_coder import decode

    found = [b"\xff\xf0"] if decode([b"\xff\xf0"], tables, return_overruns=True)[2][0] else []
    while len(found) < count:
        candidates = [rng.bytes(int(rng.integers(1, 12))) for _ in range(4000)]
        _, _, overruns = decode(candidates, tables, return_overruns=True)
        found += [candidates[i] for i in np.flatnonzero(overruns)][:count - len(found)]
    return found


def pack(strings):
    return np.frombuffer(b"".join(strings), np.uint8), np.array([len(s) for s in strings],
                                                                np.int64)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trained", type=Path, nargs="*", default=[],
                        help="model files of the trained models (λ = 300, 500, 2000)")
    parser.add_argument("--out", type=Path, default=FIXTURE)
    args = parser.parse_args(argv)
    import tensorflow as tf
    import tensorflow_compression as tfc

    from mnist_compression.coding.range_coder import CodingTables
    from mnist_compression.storage.model_files import read_model_file

    trained = {}
    for path in args.trained:
        record, arrays = read_model_file(path)
        trained[record["lmbda"]] = np.exp(arrays["prior/log_scales"].astype(np.float64))
    if not trained and args.out.exists():
        with np.load(args.out) as old:
            trained = {float(k.split("_")[-1].split("/")[0]): old[k] for k in old.files
                       if k.startswith("trained_lambda_") and k.endswith("/scale")}
    if not trained:
        sys.exit("No trained priors: pass --trained with model files.")
    rng = np.random.default_rng(2026)
    arrays = {}
    for name, (loc, scale, tail_mass, precision) in prior_sets(trained).items():
        model = tfc.ContinuousBatchedEntropyModel(
            tfc.NoisyLogistic(loc=loc, scale=scale), coding_rank=1, compression=True,
            tail_mass=tail_mass, range_coder_precision=precision)
        cdf, cdf_offset = model.cdf.numpy(), model.cdf_offset.numpy()
        tables = CodingTables.from_flat(cdf, cdf_offset)
        low, high = tables.offsets, tables.offsets + tables.lengths - 1
        y = latents(rng, loc, scale, low, high)
        strings = list(model.compress(tf.constant(y)).numpy())
        decoded = model.decompress(tf.constant(strings), ()).numpy()
        data, lengths = pack(strings)
        hang_data, hang_lengths = pack(hanging_strings(rng, tables))
        arrays.update({f"{name}/loc": np.broadcast_to(loc, scale.shape).astype(np.float32),
                       f"{name}/scale": scale, f"{name}/options": np.array([tail_mass, precision]),
                       f"{name}/cdf": cdf, f"{name}/cdf_offset": cdf_offset, f"{name}/latents": y,
                       f"{name}/strings": data, f"{name}/string_lengths": lengths,
                       f"{name}/decoded": decoded, f"{name}/hanging": hang_data,
                       f"{name}/hanging_lengths": hang_lengths})
        print(f"{name}: {len(scale)} channels, table of {len(cdf)} ints, {len(strings)} strings "
              f"({int(lengths.sum())} bytes)")
    arrays["versions"] = np.array(f"tensorflow {tf.__version__}, tensorflow-compression "
                                  f"{metadata.version('tensorflow-compression')}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"Wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
