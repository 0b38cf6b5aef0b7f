"""The codec built from a trained model: digits to byte strings and `.mnc` files, and back.

Introduced in notebook 04. `make_mnist_codec` splits a trained model into a compressor (analysis
transform + entropy model) and a decompressor (entropy model + synthesis transform). Both
transforms run in exact integer arithmetic (`exact_transforms`) and the coding tables are built
without TensorFlow (`fallback.tables`), so a digit compresses to the same string, and a string
decodes to the same digit, on every supported stack. `save_model` / `load_model` carry a model
between stacks, and `.mnc` files (`mnc`) carry strings.

The command line does the same for files:

    python -m mnist_compression.codec export --lmbda 2000 -o model.npz
    python -m mnist_compression.codec compress --model model.npz digits.npy -o digits.mnc
    python -m mnist_compression.codec decompress --model model.npz digits.mnc -o decoded.npy
    python -m mnist_compression.codec info digits.mnc
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

if __name__ == "__main__":  # a command's messages are not buried under TensorFlow's start-up logs
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

from .atomic_files import write_atomically
from .entropy_models import ContinuousBatchedEntropyModel, DecodeError
from .exact_transforms import ExactTransforms
from .mnc import FINGERPRINT_BYTES, MNCError, MNCFile, read_mnc, write_mnc
from .model_files import ModelFileError, load_model, read_model_file, save_model

PROGRESS_CHUNK = 1000  # digits per step when a command line shows progress


def check_digits(images) -> np.ndarray:
    """Validates a batch of digits for the compressor: returns them as uint8 [N, 28, 28, 1]."""
    array = np.asarray(images.numpy() if hasattr(images, "numpy") else images)
    if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        hint = " (scale [0, 1] floats by 255 and round first)" if array.dtype.kind == "f" else ""
        raise ValueError(
            f"Expected uint8 digits with pixel values 0..255, got dtype {array.dtype}{hint}."
        )
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ValueError(
            f"Expected a batch of digits shaped [N, 28, 28, 1] or [N, 28, 28], got shape "
            f"{list(np.shape(images))}. For one digit, add a batch axis: images[None]."
        )
    if array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError(
            f"Pixel values must lie in 0..255, got values from {array.min()} to {array.max()}."
        )
    return array.astype(np.uint8)[..., np.newaxis]


def check_strings(strings) -> list:
    """Validates compressed strings for the decompressor: returns a list of bytes."""
    if isinstance(strings, (bytes, str)):
        raise ValueError("Expected a batch of strings (a list or 1-D tensor), got a single string.")
    if isinstance(strings, tf.Tensor):
        if strings.dtype != tf.string or strings.shape.rank != 1:
            raise ValueError(f"Expected a 1-D batch of byte strings (as the compressor returns), "
                             f"got a tensor of dtype {strings.dtype.name} and shape "
                             f"{strings.shape.as_list()}.")
        return list(strings.numpy())
    if isinstance(strings, np.ndarray) and (strings.ndim != 1 or strings.dtype.kind not in "OS"):
        raise ValueError(f"Expected a 1-D batch of byte strings (as the compressor returns), got "
                         f"an array of dtype {strings.dtype} and shape {list(strings.shape)}.")
    try:
        items = list(strings)
    except TypeError:
        raise ValueError(f"Expected a 1-D batch of byte strings, got {type(strings).__name__}."
                         ) from None
    if not all(isinstance(s, (bytes, bytearray, np.bytes_)) for s in items):
        raise ValueError("Expected a 1-D batch of byte strings (as the compressor returns), got "
                         "items that are not bytes.")
    return [bytes(s) for s in items]


def codec_fingerprint(entropy_model, transforms: ExactTransforms) -> bytes:
    """16 bytes that identify what a decoder needs: the coding tables (and quantization
    offsets) and the fixed-point synthesis transform. Equal on every stack for one model."""
    tables = entropy_model.tables
    digest = hashlib.sha256(b"mnist-compression codec 1")
    offset = entropy_model.quantization_offset
    parts = [np.array([tables.precision], np.int64), tables.cdf, tables.lengths, tables.offsets,
             np.zeros(0, np.float32) if offset is None else np.asarray(offset, np.float32)]
    for array in parts + transforms.synthesis.parameters():
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{list(array.shape)}".encode())
        digest.update(array.astype(array.dtype.newbyteorder("<")).tobytes())
    return digest.digest()[:FINGERPRINT_BYTES]


class MNISTCompressor:
    """Encoder side: uint8 digits to one range-coded byte string each, plus the information
    content in bits of each digit's latents (the length the string approaches)."""

    def __init__(self, transforms: ExactTransforms, entropy_model, fingerprint: bytes):
        self.transforms = transforms
        self.entropy_model = entropy_model
        self.fingerprint = fingerprint

    def __call__(self, images):
        """Returns (strings, information_bits): a tf.string [N] and a tf.float32 [N] tensor."""
        digits = check_digits(images)
        latents = self.transforms.latents(digits).astype(np.float32)
        strings = self.entropy_model.compress(latents)
        _, information_bits = self.entropy_model(tf.constant(latents), training=False)
        return strings, information_bits


class MNISTDecompressor:
    """Decoder side: byte strings back to uint8 digits [N, 28, 28, 1]."""

    def __init__(self, entropy_model, transforms: ExactTransforms, fingerprint: bytes):
        self.entropy_model = entropy_model
        self.transforms = transforms
        self.fingerprint = fingerprint

    def __call__(self, strings) -> tf.Tensor:
        strings = check_strings(strings)
        try:
            latents = self.entropy_model.decompress(strings)
        except DecodeError as err:
            raise ValueError(
                f"{err} A string made by another model, or random bytes, fails this check; a "
                f"string cut short or with a changed last byte often passes it and decodes to "
                f"another digit, so keep strings in .mnc files, which detect that. To decode "
                f"arbitrary bytes anyway, build the codec with decode_sanity_check=False."
            ) from None
        return tf.constant(self.transforms.digits(latents.numpy().astype(np.int64)))


def make_mnist_codec(trainer, **entropy_model_options):
    """Builds a (compressor, decompressor) pair from a trained trainer.

    Both share one entropy model built with ``compression=True`` and one set of fixed-point
    transforms. Options such as ``decode_sanity_check=False`` go to the entropy model.
    """
    entropy_model = ContinuousBatchedEntropyModel(
        trainer.prior, coding_rank=1, compression=True, **entropy_model_options)
    transforms = ExactTransforms.from_trainer(trainer)
    fingerprint = codec_fingerprint(entropy_model, transforms)
    return (MNISTCompressor(transforms, entropy_model, fingerprint),
            MNISTDecompressor(entropy_model, transforms, fingerprint))


def compress_to_file(compressor: MNISTCompressor, digits, path, overwrite=False,
                     progress: bool = False) -> MNCFile:
    """Compresses digits into one .mnc file; returns what was written (strings, size)."""
    digits = check_digits(digits)
    strings = []
    for start in _steps(len(digits), progress, "compress"):
        chunk, _ = compressor(digits[start:start + PROGRESS_CHUNK])
        strings += list(chunk.numpy())
    size = write_mnc(path, strings, compressor.fingerprint, overwrite)
    return MNCFile(strings, compressor.fingerprint, size)


def decompress_file(decompressor: MNISTDecompressor, path, progress: bool = False) -> np.ndarray:
    """The digits in an .mnc file, uint8 [N, 28, 28, 1]; the file must come from this model."""
    contents = read_mnc(path, expected_fingerprint=decompressor.fingerprint)
    parts = [np.zeros((0, 28, 28, 1), np.uint8)]
    for start in _steps(len(contents.strings), progress, "decompress"):
        parts.append(decompressor(contents.strings[start:start + PROGRESS_CHUNK]).numpy())
    return np.concatenate(parts)


def _steps(count: int, progress: bool, label: str):
    steps = range(0, count, PROGRESS_CHUNK)
    if not progress or count <= PROGRESS_CHUNK:
        return steps
    from tqdm import tqdm

    return tqdm(steps, desc=f"{label} ({count:,} digits, {PROGRESS_CHUNK:,} per step)",
                unit="step", file=sys.stderr)


# --- the command line ---------------------------------------------------------------------------

class CommandError(Exception):
    """A command-line failure with a one-line reason for the user."""


def read_digit_inputs(paths) -> np.ndarray:
    """Digits from PNG files (or folders of them), .npy arrays and IDX image files, in order."""
    from .data import read_idx

    batches = []
    for path in map(Path, paths):
        if path.is_dir():
            pngs = sorted(path.glob("*.png"))
            if not pngs:
                raise CommandError(f"{path} is a folder without PNG files.")
            batches += [_read_png(p) for p in pngs]
        elif not path.is_file():
            raise CommandError(f"{path} does not exist.")
        elif path.suffix.lower() == ".png":
            batches.append(_read_png(path))
        elif path.suffix.lower() == ".npy":
            try:
                array = np.load(path, allow_pickle=False)
            except (ValueError, EOFError, OSError) as err:
                raise CommandError(f"{path}: not a readable .npy array of uint8 digits "
                                   f"({err}).") from None
            try:
                batches.append(check_digits(array))
            except ValueError as err:
                raise CommandError(f"{path}: {err}") from None
        elif "idx" in path.name or path.name.endswith(("-ubyte", "-ubyte.gz")):
            batches.append(read_idx(path, 2051)[..., np.newaxis])
        else:
            raise CommandError(f"{path}: unknown input; give PNG files, a folder of them, a .npy "
                               f"array of uint8 digits or an IDX image file (*-idx3-ubyte[.gz]).")
    return np.concatenate(batches) if batches else np.zeros((0, 28, 28, 1), np.uint8)


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("L"), np.uint8)
    except (UnidentifiedImageError, OSError) as err:
        raise CommandError(f"{path}: not a readable image ({err}).") from None
    if pixels.shape != (28, 28):
        raise CommandError(f"{path}: the image is {pixels.shape[1]}x{pixels.shape[0]} pixels; "
                           f"digits must be 28x28 (white on black, as in MNIST).")
    return pixels[np.newaxis, ..., np.newaxis]


def _write_digits(digits: np.ndarray, out: Path, overwrite: bool) -> str:
    from PIL import Image

    if out.suffix.lower() == ".npy":
        write_atomically(out, lambda f: np.save(f, digits), overwrite)
        return f"{out} (uint8 array {list(digits.shape)})"
    out.mkdir(parents=True, exist_ok=True)
    names = [out / f"digit_{i:05d}.png" for i in range(len(digits))]
    clashes = [n for n in names if n.exists()]
    if clashes and not overwrite:
        raise FileExistsError(f"{clashes[0]} already exists; pass --force to replace it.")
    for name, digit in zip(names, digits):
        Image.fromarray(digit[..., 0], mode="L").save(name)
    return f"{len(names)} PNG files in {out}"


def write_grid(digits: np.ndarray, path: Path, columns: int = 10, scale: int = 2,
               overwrite: bool = False) -> None:
    """Saves up to 100 digits as one grey PNG grid (white digits on black, like MNIST); an
    existing file is kept unless `overwrite`."""
    from PIL import Image

    shown = digits[:100, ..., 0]
    rows = max(1, -(-len(shown) // columns))
    canvas = np.zeros((rows * 30, columns * 30), np.uint8)
    for index, digit in enumerate(shown):
        r, c = divmod(index, columns)
        canvas[r * 30 + 1:r * 30 + 29, c * 30 + 1:c * 30 + 29] = digit
    image = Image.fromarray(canvas, mode="L").resize(
        (canvas.shape[1] * scale, canvas.shape[0] * scale), Image.NEAREST)
    write_atomically(path, lambda f: image.save(f, format="PNG"), overwrite)


def _refuse_existing(force: bool, *paths) -> None:
    """Stops before any work if an output file exists and --force was not given."""
    for path in paths:
        if path is not None and path.is_file() and not force:
            raise FileExistsError(f"{path} already exists; pass --force to replace it.")


def _load(path) -> tuple[MNISTCompressor, MNISTDecompressor]:
    return make_mnist_codec(load_model(path))


def _export(args) -> str:
    from .cache import train_or_load
    from .settings import TrainingSettings

    _refuse_existing(args.force, args.output)
    settings = TrainingSettings.from_arguments(args)
    trainer, history = train_or_load(settings, verbose=0 if args.quiet else 2)
    save_model(trainer, args.output, settings=settings, history=history, overwrite=args.force)
    return f"Wrote {args.output} (λ={settings.lmbda:g}, {args.output.stat().st_size:,} bytes)."


def _compress(args) -> str:
    _refuse_existing(args.force, args.output)
    digits = read_digit_inputs(args.inputs)
    if not len(digits):
        raise CommandError("The inputs hold no digits; there is nothing to compress.")
    compressor, _ = _load(args.model)
    written = compress_to_file(compressor, digits, args.output, args.force, not args.quiet)
    per_digit = written.size / len(digits)
    return (f"Wrote {args.output}: {_digits(len(digits))} in {written.size:,} bytes "
            f"({per_digit:.2f} bytes per digit, {written.header_bytes / len(digits):.2f} "
            f"of them header).")


def _decompress(args) -> str:
    _refuse_existing(args.force, args.output, args.grid)
    _, decompressor = _load(args.model)
    digits = decompress_file(decompressor, args.input, not args.quiet)
    lines = [f"Decoded {_digits(len(digits))} to {_write_digits(digits, args.output, args.force)}."]
    if args.grid:
        write_grid(digits, args.grid, overwrite=args.force)
        lines.append(f"Grid of the first {_digits(min(len(digits), 100))}: {args.grid}")
    return "\n".join(lines)


def _digits(count: int) -> str:
    return f"{count:,} digit" + ("" if count == 1 else "s")


def describe_file(path, model=None) -> dict:
    """What a model file or an .mnc file holds (for `info`)."""
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"{path} is " + ("a folder" if path.is_dir() else "missing") +
                           "; give a model file (.npz) or an .mnc file.")
    with open(path, "rb") as f:
        start = f.read(4)
    if start == b"\x89MNC" or path.suffix == ".mnc":
        contents = read_mnc(path)
        count = len(contents.strings)
        info = dict(kind=".mnc file", digits=count, bytes=contents.size,
                    bytes_per_digit=contents.size / max(count, 1),
                    header_bytes=contents.header_bytes,
                    header_bytes_per_digit=contents.header_bytes / max(count, 1),
                    fingerprint=contents.fingerprint.hex())
        if model is not None:
            info["model_fingerprint"] = _load(model)[1].fingerprint.hex()
            info["made_by_this_model"] = info["model_fingerprint"] == info["fingerprint"]
        return info
    record, _ = read_model_file(path)
    history = record.get("history") or {}
    info = dict(kind="model file", bytes=path.stat().st_size, lmbda=record["lmbda"],
                latent_dims=record["latent_dims"], sha256=record["sha256"],
                written_with=record["written_with"], settings=record.get("settings"),
                fingerprint=_load(path)[1].fingerprint.hex())
    for key in ("val_rate", "val_distortion"):
        if history.get(key):
            info[key] = history[key][-1]
    return info


def _info(args) -> str:
    return json.dumps(describe_file(args.file, args.model), indent=2, ensure_ascii=False)


def _parser() -> argparse.ArgumentParser:
    from .settings import TrainingSettings

    parser = argparse.ArgumentParser(
        prog="python -m mnist_compression.codec",
        description="Compress MNIST-style digits with a trained model, and decompress them, on "
                    "any supported stack (byte-identical results).")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser(
        "export", help="train a model (or take it from the model cache) and save it to a file",
        description="Write a trained model to a portable .npz file. A model trained earlier with "
                    "the same settings is taken from the model cache; otherwise it is trained "
                    "now (about 3-10 minutes on a 2-core CPU at the defaults).")
    TrainingSettings.add_arguments(export)
    export.add_argument("-o", "--output", type=Path, required=True, help="model file (.npz)")
    compress = commands.add_parser(
        "compress", help="digits (PNG, .npy, IDX) -> one .mnc file",
        description="Compress 28x28 grey digits into one .mnc file.")
    compress.add_argument("--model", type=Path, required=True, help="model file from export")
    compress.add_argument("inputs", nargs="+", help="PNG files or folders, a .npy array of uint8 "
                          "digits [N, 28, 28(, 1)], or an IDX image file (*-idx3-ubyte[.gz])")
    compress.add_argument("-o", "--output", type=Path, required=True, help=".mnc file to write")
    decompress = commands.add_parser(
        "decompress", help=".mnc file -> PNG files or a .npy array",
        description="Decode an .mnc file made with the same model.")
    decompress.add_argument("--model", type=Path, required=True, help="model file from export")
    decompress.add_argument("input", type=Path, help=".mnc file")
    decompress.add_argument("-o", "--output", type=Path, required=True,
                            help="a .npy file, or a folder for one PNG per digit")
    decompress.add_argument("--grid", type=Path, help="also save the first 100 digits as one PNG")
    info = commands.add_parser("info", help="what a model or .mnc file holds",
                               description="Describe a model file or an .mnc file, as JSON.")
    info.add_argument("file", type=Path, help="a model file (.npz) or an .mnc file")
    info.add_argument("--model", type=Path, help="check whether an .mnc file fits this model")
    for sub in (export, compress, decompress):
        sub.add_argument("--force", action="store_true", help="replace existing output files")
        sub.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def main(argv=None) -> int:
    """Runs one command; returns the exit status (0 on success, 2 with a one-line reason on
    stderr for bad input)."""
    args = _parser().parse_args(argv)
    action = dict(export=_export, compress=_compress, decompress=_decompress, info=_info)
    try:
        print(action[args.command](args))
    except (CommandError, MNCError, ModelFileError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


__all__ = ["MNISTCompressor", "MNISTDecompressor", "check_digits", "check_strings",
           "codec_fingerprint", "compress_to_file", "decompress_file", "load_model", "main",
           "make_mnist_codec", "save_model"]

if __name__ == "__main__":
    sys.exit(main())
