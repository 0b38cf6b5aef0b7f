"""Digit files for the command line: PNG files and folders, .npy arrays and IDX files in; a .npy
array, a folder of PNGs or a grid image out.

Inputs are read as they are or refused with a one-line reason (`CommandError`): 16-bit grey is
scaled to 8 bits and grey stored as colour is read from one channel, each told in a note line;
colour, transparency, bool arrays and other sizes are refused.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from ..atomic_files import refuse_existing, write_atomically
from ..codec.codecs import check_digits
from ..data import read_idx
from ..storage.npy import NpyError, read_npy


class CommandError(Exception):
    """A command-line failure with a one-line reason for the user."""


_GREY_16_BIT = ("I;16", "I;16B", "I;16L", "I")  # 16-bit grey PNGs (Pillow's modes for them)
_COLOUR = ("RGB", "RGBA", "LA", "P", "PA")  # read if every pixel is opaque grey
_SHOWN = 3  # names listed in a note
MAX_NPY_BYTES = 1 << 30  # a .npy input of at most 1 GiB: about 1.4 million digits


class _InputLog:
    """What reading the inputs changed or skipped, told afterwards in one note line per kind."""

    def __init__(self):
        self.scaled = []  # 16-bit grey PNGs scaled to 8 bits
        self.faint = []  # of those, ones holding values up to 255 only (nearly black now)
        self.colour_16_bit = []  # 16-bit colour PNGs, reduced to 8 bits by Pillow
        self.greyed = {}  # mode -> how many colour PNGs held only opaque grey pixels
        self.skipped = []  # folder entries that are not PNG files

    def lines(self) -> list[str]:
        """The note lines, "note: ..." each."""
        return [line for line in (self._scaled_line(), self._greyed_line(), self._skipped_line())
                if line]

    def _scaled_line(self) -> str:
        count = len(self.scaled) + len(self.colour_16_bit)
        if not count:
            return ""
        how = [f"{len(self.scaled)} grey: round(v * 255 / 65535)"] if self.scaled else []
        if self.colour_16_bit:
            how.append(f"{len(self.colour_16_bit)} colour: by the high byte, as Pillow reads them")
        faint = (f"; {_names(self.faint)} held only values up to 255 and "
                 f"{'is' if len(self.faint) == 1 else 'are'} nearly black now (8-bit values in a "
                 f"16-bit file? save them as 8-bit PNGs)") if self.faint else ""
        return f"note: {_files(count, '16-bit PNG')} scaled to 8 bits ({'; '.join(how)}){faint}."

    def _greyed_line(self) -> str:
        count = sum(self.greyed.values())
        if not count:
            return ""
        modes = ", ".join(f"{mode} ({n})" for mode, n in sorted(self.greyed.items()))
        return (f"note: {_files(count, 'PNG')} stored as {modes} held only opaque grey pixels "
                f"and {'was' if count == 1 else 'were'} read as one grey channel.")

    def _skipped_line(self) -> str:
        if not self.skipped:
            return ""
        what = "is not a PNG file" if len(self.skipped) == 1 else "are not PNG files"
        return (f"note: skipped {_files(len(self.skipped), 'entry', 'entries')} of input "
                f"folders that {what}: {_names(self.skipped)}.")


def _files(count: int, kind: str, plural: str = "") -> str:
    if plural:
        return f"{count:,} {kind if count == 1 else plural}"
    return f"{count:,} {kind} file" + ("" if count == 1 else "s")


def _pixels(count: int, total: int) -> str:
    return f"{count} of {total} pixels " + ("is" if count == 1 else "are")


def _names(paths) -> str:
    names = [f"{p}/" if p.is_dir() else str(p) for p in paths[:_SHOWN]]
    more = f" and {len(paths) - _SHOWN:,} more" if len(paths) > _SHOWN else ""
    return ", ".join(names) + more


def read_digit_inputs(paths, notes: list | None = None) -> np.ndarray:
    """Digits from PNG files (or folders of them), .npy arrays and IDX image files, in order.

    What reading changed or skipped (16-bit PNGs scaled to 8 bits, grey stored as colour, folder
    entries that are not PNG files) is told in note lines, appended to `notes` or, without it,
    printed on stderr. Colour, transparency and bool arrays are refused (CommandError).
    """
    log = _InputLog()
    batches = [_read_input(Path(path), log) for path in paths]
    lines = log.lines()
    if notes is None:
        for line in lines:
            print(line, file=sys.stderr)
    else:
        notes.extend(lines)
    return np.concatenate(batches) if batches else np.zeros((0, 28, 28, 1), np.uint8)


def _read_input(path: Path, log: _InputLog) -> np.ndarray:
    """The digits in one input named on the command line, uint8 [N, 28, 28, 1]."""

    if path.is_dir():
        return _read_folder(path, log)
    if not path.is_file():
        raise CommandError(f"{path} does not exist.")
    if path.suffix.lower() == ".png":
        return _read_png(path, log)
    if path.suffix.lower() == ".npy":
        return _read_npy(path)
    if "idx" in path.name or path.name.endswith(("-ubyte", "-ubyte.gz")):
        return read_idx(path, 2051)[..., np.newaxis]
    raise CommandError(f"{path}: unknown input; give PNG files, a folder of them, a .npy "
                       f"array of uint8 digits or an IDX image file (*-idx3-ubyte[.gz]).")


def _read_folder(folder: Path, log: _InputLog) -> np.ndarray:
    """The PNG files in a folder (*.png in any case, sorted by name); other entries are logged
    as skipped, hidden ones (.name) passed over."""
    entries = sorted((p for p in folder.iterdir() if not p.name.startswith(".")),
                     key=lambda p: p.name)
    is_png = [p.suffix.lower() == ".png" and p.is_file() for p in entries]
    pngs = [p for p, png in zip(entries, is_png) if png]
    skipped = [p for p, png in zip(entries, is_png) if not png]
    if not pngs:
        holds = f" (it holds {_names(skipped)})" if skipped else ""
        raise CommandError(f"{folder} is a folder without PNG files{holds}.")
    log.skipped += skipped
    return np.concatenate([_read_png(p, log) for p in pngs])


def _read_npy(path: Path) -> np.ndarray:
    try:
        with open(path, "rb") as stream:
            array = read_npy(stream, path.stat().st_size, MAX_NPY_BYTES)
    except (NpyError, OSError) as err:
        raise CommandError(f"{path}: not a readable .npy array of uint8 digits "
                           f"({' '.join(str(err).split())[:160]}).") from None
    try:
        return check_digits(array)  # refuses bool, float, out-of-range and misshapen arrays
    except ValueError as err:
        raise CommandError(f"{path}: {err}") from None


def _read_png(path: Path, log: _InputLog) -> np.ndarray:
    """One 28x28 digit, uint8 [1, 28, 28, 1], from an 8- or 16-bit grey image (or opaque grey
    stored as colour); refuses colour, transparency and other sizes."""

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            if image.format != "PNG":
                raise CommandError(f"{path}: a {image.format} image named .png; give PNG files.")
            if getattr(image, "n_frames", 1) > 1:
                raise CommandError(f"{path}: an animated PNG of {image.n_frames} frames; give "
                                   f"one digit per file.")
            if image.size != (28, 28):
                raise CommandError(
                    f"{path}: the image is {image.size[0]}x{image.size[1]} pixels; digits must "
                    f"be 28x28 (white on black, as in MNIST).")
            sixteen_bits = bool(image.tile) and str(image.tile[0][3]).endswith(";16B")
            image.load()
            pixels = _grey_pixels(image, path, log, sixteen_bits)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise CommandError(f"{path}: not a readable image ({err}).") from None
    return pixels[np.newaxis, ..., np.newaxis]


def _grey_pixels(image, path: Path, log: _InputLog, sixteen_bits: bool) -> np.ndarray:
    """The image's grey levels, uint8 [28, 28]: 8-bit grey as it is, 16-bit grey scaled, opaque
    grey stored as colour taken from one channel; anything else refused."""
    alpha = _alpha(image)
    if alpha is not None and alpha.min() < 255:
        raise CommandError(
            f"{path}: {_pixels(np.count_nonzero(alpha < 255), alpha.size)} not fully opaque "
            f"({image.mode} image with transparency); digits are opaque grey, white on "
            f"black as in MNIST: flatten the image onto black first.")
    if image.mode in ("L", "1"):
        return np.asarray(image.convert("L"), np.uint8)
    if image.mode in _GREY_16_BIT:
        return _scale_16_bit(np.asarray(image), path, log)
    if image.mode in _COLOUR:
        return _grey_from_colour(image, path, log, sixteen_bits)
    raise CommandError(f"{path}: an image in mode {image.mode}; digits must be 8- or 16-bit "
                       f"grey PNGs (white on black, as in MNIST).")


def _alpha(image) -> np.ndarray | None:
    """The image's opacity per pixel (0..255), or None if it has no transparency."""
    if "A" in image.getbands():
        return np.asarray(image.getchannel("A"))
    key = image.info.get("transparency")
    if key is None:
        return None
    if image.mode in _GREY_16_BIT:
        return np.where(np.asarray(image) == key, 0, 255)
    return np.asarray(image.convert("RGBA").getchannel("A"))


def _scale_16_bit(values: np.ndarray, path: Path, log: _InputLog) -> np.ndarray:
    """16-bit grey levels scaled to 0..255 as round(v * 255 / 65535) (never a tie)."""
    values = values.astype(np.int64)
    if values.min() < 0 or values.max() > 65535:
        raise CommandError(f"{path}: grey levels from {values.min()} to {values.max()}; a "
                           f"16-bit grey image holds 0..65535.")
    log.scaled.append(path)
    if 0 < values.max() <= 255:
        log.faint.append(path)
    return ((values * 255 + 65535 // 2) // 65535).astype(np.uint8)


def _grey_from_colour(image, path: Path, log: _InputLog, sixteen_bits: bool) -> np.ndarray:
    """One channel of an opaque colour image whose channels are all equal; refuses colour."""
    rgb = np.asarray(image.convert("RGB"))
    grey = rgb[..., 0]
    coloured = np.count_nonzero((rgb != grey[..., np.newaxis]).any(axis=-1))
    if coloured:
        raise CommandError(
            f"{path}: {_pixels(coloured, grey.size)} in colour ({image.mode} image); "
            f"digits are one grey channel, white on black as in MNIST: convert the image to "
            f"greyscale first.")
    log.greyed[image.mode] = log.greyed.get(image.mode, 0) + 1
    if sixteen_bits:
        log.colour_16_bit.append(path)
    return grey


def digit_file_names(folder: Path, count: int) -> list[Path]:
    """The PNG files `write_digits` writes into a folder for `count` digits."""
    return [folder / f"digit_{i:05d}.png" for i in range(count)]


def write_digits(digits: np.ndarray, out: Path, overwrite: bool) -> str:
    """Writes digits as a .npy array or as one PNG per digit into a folder; returns what was
    written, for the user."""
    from PIL import Image

    if out.suffix.lower() == ".npy":
        write_atomically(out, lambda f: np.save(f, digits), overwrite)
        return f"{out} (uint8 array {list(digits.shape)})"
    out.mkdir(parents=True, exist_ok=True)
    names = digit_file_names(out, len(digits))
    for name in names:
        refuse_existing(name, overwrite)
    for name, digit in zip(names, digits):  # a link in the folder is replaced, not followed
        image = Image.fromarray(digit[..., 0], mode="L")
        write_atomically(name, lambda f, image=image: image.save(f, format="PNG"), overwrite)
    return f"{len(names):,} PNG file{'' if len(names) == 1 else 's'} in {out}"


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


__all__ = ["CommandError", "digit_file_names", "read_digit_inputs", "write_digits",
           "write_grid"]
