"""The codec built from a trained model: digits to byte strings and `.mnc` files, and back.

Introduced in notebook 04. `make_mnist_codec` splits a trained model into a compressor (analysis
transform + entropy model) and a decompressor (entropy model + synthesis transform);
`VariableRateCodec` (notebook 08) does so for a variable-rate model at any λ between its
levels. Both transforms run in exact integer arithmetic (`exact_transforms`) and the coding
tables are built without TensorFlow (`coding.tables`), so a digit compresses to the same
string, and a string decodes to the same digit, on every supported stack. `model_files`
carries a model between stacks, and `.mnc` files (`mnc`) carry strings.
`python -m mnist_compression.codec` does the same for files (see `cli.codec`).

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

from .coding.range_coder import DEFAULT_PRECISION
from .coding.tables import DEFAULT_TAIL_MASS
from .entropy_models import ContinuousBatchedEntropyModel, DecodeError, NoisyLogistic
from .exact_transforms import (
    ACTIVATION_BITS,
    ExactTransforms,
    FixedPointTransform,
    GainedTransforms,
)
from .gains import fixed_point_gains, interpolation, level_scales
from .hashing import typed_arrays_digest
from .mnc import FINGERPRINT_BYTES, MNCError, MNCFile, read_mnc, write_mnc

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
    """Encoder side: uint8 digits to one range-coded byte string each. `lmbda` is the λ a
    variable-rate model codes at (None for a model of one λ)."""

    def __init__(self, transforms, entropy_model, fingerprint: bytes,
                 lmbda: float | None = None):
        self.transforms = transforms
        self.entropy_model = entropy_model
        self.fingerprint = fingerprint
        self.lmbda = lmbda

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
    """Decoder side: byte strings back to uint8 digits [N, 28, 28, 1]; `lmbda` as for the
    compressor."""

    def __init__(self, entropy_model, transforms, fingerprint: bytes,
                 lmbda: float | None = None):
        self.entropy_model = entropy_model
        self.transforms = transforms
        self.fingerprint = fingerprint
        self.lmbda = lmbda

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


def make_mnist_codec(trainer, lmbda: float | None = None, **entropy_model_options):
    """Builds a (compressor, decompressor) pair from a trained trainer.

    Both share one entropy model built with ``compression=True`` and one set of fixed-point
    transforms. Options such as ``decode_sanity_check=False`` go to the entropy model. The
    prior is centred on zero, so the integer latents are the coded symbols themselves. For a
    variable-rate trainer, the pair codes at `lmbda` (default: the trainer's `lmbda`); build a
    `VariableRateCodec` to code at several.
    """
    if hasattr(trainer, "levels"):
        return VariableRateCodec(trainer, **entropy_model_options).at(lmbda)
    if lmbda is not None:
        raise ValueError(f"This model codes at the one λ it was trained for, "
                         f"{trainer.lmbda:g}; only a variable-rate model takes lmbda.")
    entropy_model = ContinuousBatchedEntropyModel(
        trainer.prior, coding_rank=1, compression=True, **entropy_model_options)
    transforms = ExactTransforms.from_trainer(trainer)
    fingerprint = codec_fingerprint(entropy_model, transforms)
    return (MNISTCompressor(transforms, entropy_model, fingerprint),
            MNISTDecompressor(entropy_model, transforms, fingerprint))


class VariableRateCodec:
    """A variable-rate model's codec (notebook 08): `at(λ)` gives the (compressor,
    decompressor) pair for any λ from the lowest to the highest level, built once per λ.

    The pairs share the fixed-point transforms; each has its own integer gains
    (`gains.fixed_point_gains`) and coding tables for the prior scaled by its gains
    (`gains.level_scales`), so its strings are the same on every stack. `fingerprint`
    identifies the model (every λ); `.mnc` files record the λ beside it.
    """

    def __init__(self, trainer, **entropy_model_options):
        self.levels = tuple(float(v) for v in trainer.levels)
        self.lmbda = float(trainer.lmbda)
        self._log_gains = np.asarray(trainer.log_gains.numpy(), np.float32)
        self._log_inverse_gains = np.asarray(trainer.log_inverse_gains.numpy(), np.float32)
        self._log_scales = np.asarray(trainer.prior_log_scales.numpy(), np.float32)
        self._analysis = FixedPointTransform.from_keras(trainer.analysis_transform,
                                                        input_divisor=255)
        self._synthesis = FixedPointTransform.from_keras(
            trainer.synthesis_transform, output_factor=255, input_bits=ACTIVATION_BITS)
        self._options = entropy_model_options
        coding = [np.array([entropy_model_options.get("range_coder_precision",
                                                      DEFAULT_PRECISION)], np.int64),
                  np.array([entropy_model_options.get("tail_mass", DEFAULT_TAIL_MASS)],
                           np.float64)]
        self.fingerprint = typed_arrays_digest(
            b"mnist-compression variable-rate codec 1",
            [*coding, np.array(self.levels, np.float64), self._log_gains,
             self._log_inverse_gains, self._log_scales, *self._synthesis.parameters()],
            FINGERPRINT_BYTES)
        self._pairs = {}

    def at(self, lmbda: float | None = None) -> tuple[MNISTCompressor, MNISTDecompressor]:
        """The codec at λ (default: the model's own `lmbda`); ValueError outside the levels."""
        lmbda = self.lmbda if lmbda is None else lmbda
        interpolation(self.levels, lmbda)  # a real number within the levels, or ValueError
        lmbda = float(lmbda)
        if lmbda not in self._pairs:
            gains = fixed_point_gains(self.levels, self._log_gains, lmbda)
            transforms = GainedTransforms(
                self._analysis, self._synthesis, gains,
                fixed_point_gains(self.levels, self._log_inverse_gains, lmbda))
            prior = NoisyLogistic(loc=0.0, scale=level_scales(self._log_scales, gains))
            entropy_model = ContinuousBatchedEntropyModel(prior, coding_rank=1,
                                                          compression=True, **self._options)
            self._pairs[lmbda] = (
                MNISTCompressor(transforms, entropy_model, self.fingerprint, lmbda),
                MNISTDecompressor(entropy_model, transforms, self.fingerprint, lmbda))
        return self._pairs[lmbda]


def compress_to_file(compressor: MNISTCompressor, digits, path, overwrite=False,
                     progress: bool = False) -> MNCFile:
    """Compresses digits into one .mnc file; returns what was written (strings, size). A
    variable-rate model's compressor writes a version 2 file that records its λ."""
    digits = check_digits(digits)
    strings = []
    for start in _steps(len(digits), progress, "compress"):
        strings += compressor._encode(digits[start:start + PROGRESS_CHUNK])
    size = write_mnc(path, strings, compressor.fingerprint, overwrite, compressor.lmbda)
    return MNCFile(strings, compressor.fingerprint, size, compressor.lmbda)


def decompress_file(decompressor, path, progress: bool = False) -> np.ndarray:
    """The digits in an .mnc file, uint8 [N, 28, 28, 1]; the file must come from this model.
    `decompressor` is a model's MNISTDecompressor, or a `VariableRateCodec`, which decodes at
    the λ the file records."""
    contents = read_mnc(path, expected_fingerprint=decompressor.fingerprint)
    decompressor = _decompressor_for(decompressor, contents.lmbda, path)
    parts = [np.zeros((0, 28, 28, 1), np.uint8)]
    for start in _steps(len(contents.strings), progress, "decompress"):
        parts.append(decompressor.decompress(contents.strings[start:start + PROGRESS_CHUNK]))
    return np.concatenate(parts)


def _decompressor_for(decompressor, lmbda, path) -> MNISTDecompressor:
    """The decompressor for a file of this model that records `lmbda` (None: version 1); an
    MNCError when the file's λ does not fit what was given."""
    variable = isinstance(decompressor, VariableRateCodec) or decompressor.lmbda is not None
    if lmbda is None and variable:
        raise MNCError(f"{path} carries this variable-rate model's fingerprint but no λ (a "
                       f"version 1 file, written without the λ its strings were coded at), so "
                       f"it cannot be decoded.")
    if lmbda is not None and not variable:
        raise MNCError(f"{path} records a λ, as only a variable-rate model's files do, but "
                       f"carries this fixed-rate model's fingerprint; it is damaged.")
    if isinstance(decompressor, VariableRateCodec):
        try:
            return decompressor.at(lmbda)[1]
        except ValueError as err:
            raise MNCError(f"{path} records a λ this model cannot code at ({err}); the file "
                           f"is damaged.") from None
    if lmbda is not None and lmbda != decompressor.lmbda:
        shown = (f"{lmbda:g}", f"{decompressor.lmbda:g}")
        if shown[0] == shown[1]:
            shown = (repr(lmbda), repr(decompressor.lmbda))
        raise MNCError(f"{path} was coded at λ={shown[0]}; this decompressor decodes "
                       f"λ={shown[1]}. Pass the model's VariableRateCodec to decode at the "
                       f"file's λ.")
    return decompressor


def _steps(count: int, progress: bool, label: str):
    steps = range(0, count, PROGRESS_CHUNK)
    if not progress or count <= PROGRESS_CHUNK:
        return steps
    from tqdm import tqdm

    return tqdm(steps, desc=f"{label} ({count:,} digits, {PROGRESS_CHUNK:,} per step)",
                unit="step", file=sys.stderr)


__all__ = ["MNISTCompressor", "MNISTDecompressor", "VariableRateCodec", "check_digits",
           "codec_fingerprint", "compress_to_file", "decompress_file", "make_mnist_codec"]

if __name__ == "__main__":  # `python -m mnist_compression.codec` runs its command line
    import runpy

    runpy.run_module("mnist_compression.cli.codec", run_name="__main__")
