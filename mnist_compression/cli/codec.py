"""`python -m mnist_compression codec`: trained models to files, digits to `.mnc` files and back.

    python -m mnist_compression codec export --lmbda 2000 -o model.npz
    python -m mnist_compression codec compress --model model.npz digits.npy -o digits.mnc
    python -m mnist_compression codec export --recipe variable-rate -o any_rate.npz
    python -m mnist_compression codec compress --model any_rate.npz --lmbda 700 digits.npy -o d.mnc
    python -m mnist_compression codec decompress --model model.npz digits.mnc -o decoded.npy
    python -m mnist_compression codec info digits.mnc

The commands; `digit_files` reads and writes the digits, `codec` compresses and decodes them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..atomic_files import check_output
from ..codec.codecs import codec_from_arrays, compress_to_file, decompress_file, load_codec
from ..codec.mnc import read_mnc
from ..lambdas import HYPERPRIOR
from ..settings import RECIPES, training_minutes
from ..storage.model_files import OPTIONAL_FIELDS, model_kind, read_model_file
from .digit_files import (
    CommandError,
    digit_file_names,
    read_digit_inputs,
    write_digits,
    write_grid,
)
from .exit_status import exit_status
from .main import PROG
from .settings_options import add_settings_options, settings_from_options

VARIABLE_EPOCHS = RECIPES["variable-rate"]["epochs"]


def _check_outputs(force: bool, *paths) -> None:
    """Stops before any work unless every output file can be written (see `check_output`)."""
    for path in paths:
        if path is not None:
            check_output(path, force)


def _check_digit_output(path: Path, count: int, force: bool) -> None:
    """-o of decompress: a .npy file, or a folder for `count` PNG files (which may exist)."""
    if path.suffix.lower() == ".npy":
        check_output(path, force)
    elif path.exists() and not path.is_dir():
        raise CommandError(f"{path} exists and is not a folder; name a .npy file or a folder "
                           f"for the PNG files.")
    else:
        for name in digit_file_names(path, count):
            check_output(name, force)


def _refuse_inputs_as_outputs(inputs, *outputs) -> None:
    """Stops before any work if an output names one of the inputs (the model, a digit file)."""
    for output in filter(None, outputs):
        for source in inputs:
            if Path(source).is_file() and _same_file(Path(output), Path(source)):
                raise CommandError(f"{output} is an input of this command; name another file "
                                   f"to write.")


def _load(path, lmbda: float | None = None):
    """(compressor at λ, the model's codec, which decodes each file at the λ it records)."""
    codec = load_codec(path)
    if lmbda is not None and codec.levels is None:
        raise CommandError(f"{path} codes at the one λ it was trained for ({codec.lmbda:g}); "
                           f"--lmbda is for variable-rate models.")
    try:
        return codec.at(lmbda)[0], codec
    except ValueError as err:
        raise CommandError(f"{path}: {err}") from None


def _export(args) -> str:
    # Only export trains, so only it loads TensorFlow: the other commands start in a second.
    from ..model.files import save_model
    from ..training import train_or_load

    _check_outputs(args.force, args.output)
    settings = settings_from_options(args)
    trainer, history = train_or_load(settings, verbose=0 if args.quiet else 2,
                                     pretrained=args.pretrained)
    save_model(trainer, args.output, settings=settings, history=history, overwrite=args.force)
    return f"Wrote {args.output} ({settings.describe()}, {args.output.stat().st_size:,} bytes)."


def _compress(args) -> str:
    _refuse_inputs_as_outputs([args.model, *args.inputs], args.output)
    _check_outputs(args.force, args.output)
    notes = []
    digits = read_digit_inputs(args.inputs, notes)
    if not len(digits):
        raise CommandError("The inputs hold no digits; there is nothing to compress.")
    compressor, _ = _load(args.model, args.lmbda)
    written = compress_to_file(compressor, digits, args.output, args.force, not args.quiet)
    for line in notes:  # only once the file is written, so a failure stays one line
        print(line, file=sys.stderr)
    per_digit = written.size / len(digits)
    at = "" if written.lmbda is None else f" at λ={written.lmbda:g}"
    return (f"Wrote {args.output}: {_digits(len(digits))}{at} in {written.size:,} bytes "
            f"({per_digit:.2f} bytes per digit, {written.header_bytes / len(digits):.2f} "
            f"of them header).")


def _decompress(args) -> str:
    if args.grid is not None and _same_file(args.grid, args.output):
        raise CommandError(f"--grid and -o name the same file, {args.output}; give two names.")
    if (args.grid is not None and args.output.suffix.lower() != ".npy"
            and args.grid.resolve().parent == args.output.resolve()):
        raise CommandError(f"--grid {args.grid} lies in the folder -o fills with the digits; "
                           f"put it elsewhere.")
    _refuse_inputs_as_outputs([args.model, args.input], args.output, args.grid)
    _check_digit_output(args.output, len(read_mnc(args.input).strings), args.force)
    _check_outputs(args.force, args.grid)
    _, decompressor = _load(args.model)
    digits = decompress_file(decompressor, args.input, not args.quiet)
    lines = [f"Decoded {_digits(len(digits))} to {write_digits(digits, args.output, args.force)}."]
    if args.grid:
        write_grid(digits, args.grid, overwrite=args.force)
        lines.append(f"Grid of the first {_digits(min(len(digits), 100))}: {args.grid}")
    return "\n".join(lines)


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: resolved (.., links), or the same file on disk."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _digits(count: int) -> str:
    return f"{count:,} digit" + ("" if count == 1 else "s")


def describe_file(path, model=None) -> dict:
    """What a model file or an .mnc file holds (for `info`)."""
    path = Path(path)
    if not path.is_file():
        what = ("a folder" if path.is_dir() else "not a regular file (a device, pipe or socket)"
                if path.exists() else "missing")
        raise CommandError(f"{path} is {what}; give a model file (.npz) or an .mnc file.")
    with open(path, "rb") as f:
        start = f.read(4)
    if start == b"\x89MNC" or path.suffix == ".mnc":
        contents = read_mnc(path)
        count = len(contents.strings)
        info = dict(kind=".mnc file", model_kind=contents.kind,
                    **({} if contents.lmbda is None else dict(lmbda=contents.lmbda)),
                    digits=count, bytes=contents.size,
                    bytes_per_digit=contents.size / max(count, 1),
                    header_bytes=contents.header_bytes,
                    header_bytes_per_digit=contents.header_bytes / max(count, 1),
                    fingerprint=contents.fingerprint.hex())
        if model is not None:
            codec = _load(model)[1]
            info["model_fingerprint"] = codec.fingerprint.hex()
            info["made_by_this_model"] = (info["model_fingerprint"] == info["fingerprint"]
                                          and (contents.kind == HYPERPRIOR)
                                          == (codec.kind == HYPERPRIOR))
        return info
    if model is not None:
        raise CommandError(f"--model checks an .mnc file against a model, but {path} is no .mnc "
                           f"file; give the .mnc file, or leave out --model.")
    record, arrays = read_model_file(path)
    history = record.get("history") or {}
    info = dict(kind="model file", model_kind=model_kind(record), bytes=path.stat().st_size,
                lmbda=record["lmbda"],
                **{name: record[name] for name in OPTIONAL_FIELDS if name in record},
                latent_dims=record["latent_dims"], sha256=record["sha256"],
                written_with=record["written_with"], settings=record.get("settings"),
                fingerprint=codec_from_arrays(record, arrays).fingerprint.hex())
    for key in ("val_rate", "val_distortion"):
        if history.get(key):
            info[key] = history[key][-1]
    return info


def _info(args) -> str:
    return json.dumps(describe_file(args.file, args.model), indent=2, ensure_ascii=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} codec",
        description="Compress MNIST-style digits with a trained model, and decompress them, on "
                    "any supported stack (byte-identical results).")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser(
        "export", help="train a model (or take it from the model cache) and save it to a file",
        description="Write a trained model to a portable .npz file. A model trained earlier with "
                    "the same settings is taken from the model cache; otherwise it is trained "
                    "now ({}-{} minutes on a 2-core CPU at the defaults, {}-{} for the "
                    "variable-rate recipe's {} epochs).".format(
                        *training_minutes(), *training_minutes(epochs=VARIABLE_EPOCHS),
                        VARIABLE_EPOCHS))
    add_settings_options(export)
    export.add_argument("-o", "--output", type=Path, required=True, help="model file (.npz)")
    export.add_argument("--pretrained", nargs="?", const=True, default=False,
                        metavar="URL_OR_FOLDER",
                        help="take the model published with this release for these settings, if "
                             "there is one (or from this mirror), before training it")
    compress = commands.add_parser(
        "compress", help="digits (PNG, .npy, IDX) -> one .mnc file",
        description="Compress 28x28 grey digits into one .mnc file. A folder gives its PNG "
                    "files (.png in any case, sorted by name). 16-bit grey PNGs are scaled to 8 "
                    "bits and opaque grey stored as colour is read as grey, each told in a note "
                    "on stderr; colour, transparency and bool arrays are refused.")
    compress.add_argument("--model", type=Path, required=True, help="model file from export")
    compress.add_argument("inputs", nargs="+", help="PNG files or folders, a .npy array of uint8 "
                          "digits [N, 28, 28(, 1)], or an IDX image file (*-idx3-ubyte[.gz])")
    compress.add_argument("-o", "--output", type=Path, required=True, help=".mnc file to write")
    compress.add_argument("--lmbda", type=float, help="the λ a variable-rate model codes at, "
                          "from its lowest to its highest level (default: the λ it was "
                          "exported with); the file records it")
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


def run(argv=None) -> str:
    """Runs one command; returns what it printed."""
    args = _parser().parse_args(argv)
    action = dict(export=_export, compress=_compress, decompress=_decompress, info=_info)
    text = action[args.command](args)
    print(text)
    return text


def main(argv=None) -> int:
    """The command: `run`, as an exit status (`exit_status`): 0, or 2 with a one-line reason on
    stderr for bad input."""
    return exit_status(run, argv)


__all__ = ["describe_file", "main", "run"]
