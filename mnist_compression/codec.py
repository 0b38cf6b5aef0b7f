"""The codec built from a trained model: digits to byte strings and `.mnc` files, and back.

Introduced in notebook 04. `make_mnist_codec` splits a trained model into a compressor (analysis
transform + entropy model) and a decompressor (entropy model + synthesis transform). Both
transforms run in exact integer arithmetic (`exact_transforms`) and the coding tables are built
without TensorFlow (`coding.tables`), so a digit compresses to the same string, and a string
decodes to the same digit, on every supported stack. `model_files` carries a model between
stacks, and `.mnc` files (`mnc`) carry strings. `python -m mnist_compression.codec` does the same
for files (see `cli.codec`).

The numpy methods (`compress`, `decompress`) take and return arrays and `bytes`; calling a
compressor or decompressor gives tensors, as tensorflow-compression's models do in a notebook.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # a command's messages are not buried under TensorFlow's start-up logs
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

from .entropy_models import ContinuousBatchedEntropyModel, DecodeError
from .exact_transforms import ExactTransforms
from .hashing import typed_arrays_digest
from .mnc import FINGERPRINT_BYTES, MNCFile, read_mnc, write_mnc

PROGRESS_CHUNK = 1000  # digits per step when progress is shown


def check_digits(images) -> np.ndarray:
    """Validates a batch of digits for the compressor: returns them as uint8 [N, 28, 28, 1]."""
    array = np.asarray(images.numpy() if hasattr(images, "numpy") else images)
    if array.dtype.kind not in "iu":  # not bool, float, timedelta, text or objects
        hint = {"f": " (scale [0, 1] floats by 255 and round first)",
                "b": " (a bool array is a mask, not grey levels: multiply by 255 first)"}.get(
                    array.dtype.kind, "")
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


def codec_fingerprint(entropy_model, transforms: ExactTransforms) -> bytes:
    """16 bytes that identify what a decoder needs: the coding tables (and quantization
    offsets) and the fixed-point synthesis transform. Equal on every stack for one model."""
    tables = entropy_model.tables
    offset = entropy_model.quantization_offset
    parts = [np.array([tables.precision], np.int64), tables.cdf, tables.lengths, tables.offsets,
             np.zeros(0, np.float32) if offset is None else np.asarray(offset, np.float32)]
    return typed_arrays_digest(b"mnist-compression codec 1",
                               parts + transforms.synthesis.parameters(), FINGERPRINT_BYTES)


class MNISTCompressor:
    """Encoder side: uint8 digits to one range-coded byte string each."""

    def __init__(self, transforms: ExactTransforms, entropy_model, fingerprint: bytes):
        self.transforms = transforms
        self.entropy_model = entropy_model
        self.fingerprint = fingerprint

    def compress(self, digits) -> list[bytes]:
        """One byte string per digit (uint8 [N, 28, 28(, 1)])."""
        return self._encode(check_digits(digits))

    def _encode(self, checked: np.ndarray) -> list[bytes]:
        return self.entropy_model.encode_symbols(self.transforms.latents(checked))

    def information_bits(self, digits) -> np.ndarray:
        """Each digit's information content under the prior, -log2 P(latents), in bits (float32
        [N]): the length its string approaches."""
        return self._information(self.transforms.latents(check_digits(digits)))

    def _information(self, latents: np.ndarray) -> np.ndarray:
        return self.entropy_model(latents.astype(np.float32), training=False)[1].numpy()

    def compress_with_information(self, digits) -> tuple[list[bytes], np.ndarray]:
        """`compress` and `information_bits` from one pass of the analysis transform."""
        latents = self.transforms.latents(check_digits(digits))
        return self.entropy_model.encode_symbols(latents), self._information(latents)

    def __call__(self, images):
        """(strings, information_bits) as a tf.string [N] and a tf.float32 [N] tensor."""
        strings, bits = self.compress_with_information(images)
        return tf.constant(strings, tf.string, shape=[len(strings)]), tf.constant(bits)


class MNISTDecompressor:
    """Decoder side: byte strings back to uint8 digits [N, 28, 28, 1]."""

    def __init__(self, entropy_model, transforms: ExactTransforms, fingerprint: bytes):
        self.entropy_model = entropy_model
        self.transforms = transforms
        self.fingerprint = fingerprint

    def decompress(self, strings) -> np.ndarray:
        """uint8 digits [N, 28, 28, 1] from a batch of strings (bytes)."""
        try:
            symbols = self.entropy_model.decode_symbols(strings)
        except DecodeError as err:
            raise ValueError(
                f"{err} Strings made by another model, or random bytes, usually fail this check "
                f"(short ones can pass it); a string cut short or with a changed last byte often "
                f"passes it and decodes to another digit, so keep strings in .mnc files, which "
                f"detect that. To decode arbitrary bytes anyway, build the codec with "
                f"decode_sanity_check=False."
            ) from None
        return self.transforms.digits(symbols)

    def __call__(self, strings) -> tf.Tensor:
        return tf.constant(self.decompress(strings))


def make_mnist_codec(trainer, **entropy_model_options):
    """Builds a (compressor, decompressor) pair from a trained trainer.

    Both share one entropy model built with ``compression=True`` and one set of fixed-point
    transforms. Options such as ``decode_sanity_check=False`` go to the entropy model. The
    prior is centred on zero, so the integer latents are the coded symbols themselves.
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
        strings += compressor._encode(digits[start:start + PROGRESS_CHUNK])
    size = write_mnc(path, strings, compressor.fingerprint, overwrite)
    return MNCFile(strings, compressor.fingerprint, size)


def decompress_file(decompressor: MNISTDecompressor, path, progress: bool = False) -> np.ndarray:
    """The digits in an .mnc file, uint8 [N, 28, 28, 1]; the file must come from this model."""
    contents = read_mnc(path, expected_fingerprint=decompressor.fingerprint)
    parts = [np.zeros((0, 28, 28, 1), np.uint8)]
    for start in _steps(len(contents.strings), progress, "decompress"):
        parts.append(decompressor.decompress(contents.strings[start:start + PROGRESS_CHUNK]))
    return np.concatenate(parts)


def _steps(count: int, progress: bool, label: str):
    steps = range(0, count, PROGRESS_CHUNK)
    if not progress or count <= PROGRESS_CHUNK:
        return steps
    from tqdm import tqdm

    return tqdm(steps, desc=f"{label} ({count:,} digits, {PROGRESS_CHUNK:,} per step)",
                unit="step", file=sys.stderr)


__all__ = ["MNISTCompressor", "MNISTDecompressor", "check_digits", "codec_fingerprint",
           "compress_to_file", "decompress_file", "make_mnist_codec"]

if __name__ == "__main__":  # `python -m mnist_compression.codec` runs its command line
    import runpy

    runpy.run_module("mnist_compression.cli.codec", run_name="__main__")
