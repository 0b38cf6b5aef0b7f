"""What several test modules make: synthetic digits, IDX files, coding tables, model files by
hand. The tests import it as `helpers` (pytest puts tests/ on the path); fixtures live in
conftest.py."""

import gzip
import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"

# stderr lines a learner may see in an executed notebook or a page of the book; any other line
# fails the smoke run and the book's check.
ALLOWED_STDERR = (
    re.compile(r"^\s*$"),
    re.compile(r"^λ sweep: +\d+%\|"),  # the sweep's progress bar (notebook 07)
    re.compile(r"^[\w.-]+\.npz: +\d+%\|"),  # a pretrained model's download (pretrained = True)
)


def write_idx(path: Path, magic: int, array: np.ndarray, compress: bool = False) -> Path:
    """Writes `array` (uint8) as an IDX file with the given magic number, optionally gzipped."""
    header = struct.pack(f">{1 + array.ndim}I", magic, *array.shape)
    payload = header + np.ascontiguousarray(array, np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


def synthetic_digits(count: int, seed: int = 0) -> np.ndarray:
    """Digit-like uint8 images [count, 28, 28, 1]: a few thick, soft pen strokes on black,
    inked over about a fifth of the frame like MNIST."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float64)
    images = np.zeros((count, 28, 28))
    for image in images:
        for _ in range(rng.integers(1, 4)):
            (r0, c0), (r1, c1) = rng.uniform(5, 23, (2, 2))
            t = np.clip(((rows - r0) * (r1 - r0) + (cols - c0) * (c1 - c0))
                        / max((r1 - r0) ** 2 + (c1 - c0) ** 2, 1e-9), 0, 1)
            distance = np.hypot(rows - (r0 + t * (r1 - r0)), cols - (c0 + t * (c1 - c0)))
            np.maximum(image, np.clip(2.2 - distance, 0, 1), out=image)
    return np.round(images * 255).astype(np.uint8)[..., np.newaxis]


def make_idx_folder(folder: Path, train: int = 40, test: int = 12, compress: bool = False,
                    seed: int = 0):
    """A folder of four small MNIST IDX files of synthetic digits; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, count, stem in (("train", train, "train"), ("test", test, "t10k")):
        images = synthetic_digits(count, seed=seed * 100 + count)[..., 0]
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        write_idx(folder / f"{stem}-images-idx3-ubyte", 2051, images, compress)
        write_idx(folder / f"{stem}-labels-idx1-ubyte", 2049, labels, compress)
        arrays[split] = (images, labels)
    return arrays


def random_tables(rng, channels: int = 12, precision: int = 12):
    """Coding tables for random pmfs of 1-39 bins plus an escape bin, at random offsets."""
    from mnist_compression.coding.tables import tables_from_pmfs

    pmfs, offsets = [], []
    for _ in range(channels):
        length = int(rng.integers(1, 40))
        pmf = rng.dirichlet(np.full(length, rng.uniform(0.05, 3)))
        pmfs.append(np.append(pmf * 0.995, 0.005).astype(np.float32))
        offsets.append(int(rng.integers(-20, 5)))
    return tables_from_pmfs(pmfs, offsets, precision)


def model_file_contents(path):
    """The record and the arrays of a model file, read without any check."""
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return json.loads(str(arrays.pop("record"))), arrays


def peak_kib(call: str, path) -> tuple[int, str]:
    """The peak memory (KiB) of a fresh Python process that runs `call` ("module:function(path,
    ...)" with `path` given as PATH) on `path`, and the error it raised, if any."""
    module, expression = call.split(":")
    code = (f"import resource, sys\nfrom {module} import *\nPATH = sys.argv[1]\n"
            f"try:\n    {expression}\nexcept Exception as err:\n    print(err)\n"
            f"print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                            text=True, timeout=120, check=True)
    *message, peak = result.stdout.strip().splitlines()
    return int(peak), " ".join(message)
