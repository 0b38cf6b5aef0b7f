"""The codec of a trained model: digits to byte strings and `.mnc` files, and back, in numpy.

Introduced in notebook 04. A codec is built from a model file's record and arrays (no TensorFlow):
its compressor is the analysis transform plus the entropy coder, its decompressor the entropy
coder plus the synthesis transform. Both transforms run in exact integer arithmetic
(`exact_transforms`) and the coding tables are built in numpy (`coding.tables`), so a digit
compresses to the same string, and a string decodes to the same digit, on every supported stack.

Every kind of model has one interface: ``codec.at(lmbda=None)`` gives its (compressor,
decompressor) pair, `fingerprint` identifies it in `.mnc` files (`mnc`), `levels` are its rate
levels (None for a model of one λ). `CODECS` maps a model file's kind to its class:
`FixedRateCodec` (the tutorial's model) and `VariableRateCodec` (notebook 08: any λ between its
levels). `load_codec(path)` reads a model file; `model.files.make_codec(trainer)` builds the
same from a trainer in memory. `mnist-compression codec` does the same for files (`cli.codec`).
"""

from __future__ import annotations

import sys

import numpy as np
from tqdm import tqdm

from ..architecture import architecture
from ..coding import tf_float32
from ..coding.range_coder import DEFAULT_PRECISION
from ..coding.tables import DEFAULT_TAIL_MASS
from ..hashing import typed_arrays_digest
from ..lambdas import FIXED_RATE, HYPERPRIOR, VARIABLE_RATE
from ..storage.model_files import ModelFileError, model_kind, read_model_file
from .entropy_coder import DecodeError, EntropyCoder
from .exact_transforms import (
    ACTIVATION_BITS,
    ExactTransforms,
    FixedPointTransform,
    HyperpriorTransforms,
)
from .gains import fixed_point_gains, interpolation, level_scales
from .hyperprior_coder import HyperpriorCoder
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


def codec_fingerprint(entropy_model: EntropyCoder | HyperpriorCoder,
                      transforms: ExactTransforms) -> bytes:
    """16 bytes that identify what a model of one λ's decoder needs: the coding tables (and
    quantization offsets), a hyperprior's fixed-point hyper-synthesis transform, and the
    fixed-point synthesis transform. Equal on every stack."""
    tables = entropy_model.tables
    offset = entropy_model.quantization_offset
    parts = [np.array([tables.precision], np.int64), tables.cdf, tables.lengths, tables.offsets,
             np.zeros(0, np.float32) if offset is None else np.asarray(offset, np.float32)]
    label = b"mnist-compression codec 1"
    if isinstance(entropy_model, HyperpriorCoder):
        label = b"mnist-compression hyperprior codec 1"
        parts += entropy_model.hyper_synthesis.parameters()
    return typed_arrays_digest(label, parts + transforms.synthesis.parameters(),
                               FINGERPRINT_BYTES)


class MNISTCompressor:
    """Encoder side: uint8 digits to one range-coded byte string each. `lmbda` is the λ a
    variable-rate model codes at, which its files record (None for a model of one λ); `kind`
    is the kind of model (`lambdas`), which its files record too."""

    def __init__(self, transforms: ExactTransforms, entropy_model: EntropyCoder,
                 fingerprint: bytes, lmbda: float | None = None, kind: str = FIXED_RATE):
        self.transforms = transforms
        self.entropy_model = entropy_model
        self.fingerprint = fingerprint
        self.lmbda = lmbda
        self.kind = kind

    def compress(self, digits) -> list[bytes]:
        """One byte string per digit (uint8 [N, 28, 28(, 1)])."""
        return self._encode(check_digits(digits))

    def _encode(self, checked: np.ndarray) -> list[bytes]:
        return self.entropy_model.encode_symbols(self.transforms.latents(checked))

    def information_bits(self, digits) -> np.ndarray:
        """Each digit's information content under the prior, -log2 P(latents), in bits (float64
        [N]): the length its string approaches."""
        return self.entropy_model.information_bits(self.transforms.latents(check_digits(digits)))

    def compress_with_information(self, digits) -> tuple[list[bytes], np.ndarray]:
        """`compress` and `information_bits` from one pass of the analysis transform."""
        latents = self.transforms.latents(check_digits(digits))
        return (self.entropy_model.encode_symbols(latents),
                self.entropy_model.information_bits(latents))

    __call__ = compress_with_information


class MNISTDecompressor:
    """Decoder side: byte strings back to uint8 digits [N, 28, 28, 1]; `lmbda` as for the
    compressor; `codec` is the codec it belongs to (None for one built by hand), which
    `decompress_file` asks about a file's λ."""

    def __init__(self, entropy_model: EntropyCoder, transforms: ExactTransforms,
                 fingerprint: bytes, lmbda: float | None = None, codec=None,
                 kind: str = FIXED_RATE):
        self.entropy_model = entropy_model
        self.transforms = transforms
        self.fingerprint = fingerprint
        self.lmbda = lmbda
        self.codec = codec
        self.kind = kind

    def decompress(self, strings) -> np.ndarray:
        """uint8 digits [N, 28, 28, 1] from a batch of strings (bytes). With the sanity check
        (the default), strings the tables cannot have made raise ValueError; a string cut short
        usually passes it and decodes to another digit (`.mnc` files catch that)."""
        try:
            symbols = self.entropy_model.decode_symbols(strings)
        except DecodeError as err:
            raise DecodeError(
                f"{err} The check is no integrity check: it misses most strings cut short and "
                f"some damaged ones (docs/reliability.md measures it), so keep strings in .mnc "
                f"files, which detect any damage. To decode arbitrary bytes anyway, build the "
                f"codec with decode_sanity_check=False.", err.failed
            ) from None
        return self.transforms.digits(symbols)

    __call__ = decompress


def _coder_options(tail_mass: float = DEFAULT_TAIL_MASS,
                   range_coder_precision: int = DEFAULT_PRECISION,
                   decode_sanity_check: bool = True) -> dict:
    """The options every codec takes (`EntropyCoder`'s)."""
    return dict(tail_mass=tail_mass, range_coder_precision=range_coder_precision,
                decode_sanity_check=decode_sanity_check)


def _layers(record: dict, transform: str) -> list[dict]:
    return architecture(record["latent_dims"], record.get("hyper_latent_dims"))[transform]


def _analysis(record: dict, arrays: dict) -> FixedPointTransform:
    return FixedPointTransform.from_arrays(_layers(record, "analysis"), arrays, "analysis",
                                           input_divisor=255)


def _synthesis(record: dict, arrays: dict, input_bits: int = 0) -> FixedPointTransform:
    return FixedPointTransform.from_arrays(_layers(record, "synthesis"), arrays, "synthesis",
                                           output_factor=255, input_bits=input_bits)


class FixedRateCodec:
    """The codec of a model trained for one λ (notebook 04): one (compressor, decompressor)
    pair, whose files (`.mnc` version 1) record no λ."""

    kind = FIXED_RATE
    levels = None

    def __init__(self, transforms: ExactTransforms, log_scales, lmbda: float, **options):
        scales = tf_float32.exp(np.asarray(log_scales, np.float32))  # as TF 2.14 computes them
        self._pair_up(transforms, EntropyCoder(scales, **_coder_options(**options)), lmbda)

    def _pair_up(self, transforms, entropy_model, lmbda: float) -> None:
        self.lmbda = float(lmbda)
        self.transforms = transforms
        self.fingerprint = codec_fingerprint(entropy_model, transforms)
        self._pair = (MNISTCompressor(transforms, entropy_model, self.fingerprint,
                                      kind=self.kind),
                      MNISTDecompressor(entropy_model, transforms, self.fingerprint, codec=self,
                                        kind=self.kind))

    @classmethod
    def from_arrays(cls, record: dict, arrays: dict, **options) -> FixedRateCodec:
        transforms = ExactTransforms(_analysis(record, arrays), _synthesis(record, arrays))
        return cls(transforms, arrays["prior/log_scales"], record["lmbda"], **options)

    def at(self, lmbda: float | None = None) -> tuple[MNISTCompressor, MNISTDecompressor]:
        """The pair; `lmbda` may only name the model's own λ."""
        if lmbda is not None and lmbda != self.lmbda:
            raise ValueError(f"This model codes at the one λ it was trained for, "
                             f"{self.lmbda:g}; only a variable-rate model takes lmbda.")
        return self._pair

    def for_file(self, lmbda: float | None, path) -> MNISTDecompressor:
        """The decompressor for a file with this codec's fingerprint that records `lmbda`."""
        if lmbda is not None:
            raise MNCError(f"{path} records a λ, as only a variable-rate model's files do, but "
                           f"carries this fixed-rate model's fingerprint; it is damaged.")
        return self._pair[1]


class HyperpriorCodec(FixedRateCodec):
    """The codec of a hyperprior model (notebook 09): like a fixed-rate model's, one pair for
    its one λ, whose strings hold the side latents and then the latents (`HyperpriorCoder`).
    Its fingerprint differs from every fixed-rate model's; its `.mnc` files are version 3."""

    kind = HYPERPRIOR

    def __init__(self, transforms: HyperpriorTransforms, side_log_scales,
                 hyper_synthesis: FixedPointTransform, lmbda: float, **options):
        latent_dims = transforms.analysis.layers[-1].weights.shape[-1]
        coder = HyperpriorCoder(side_log_scales, hyper_synthesis, latent_dims,
                                **_coder_options(**options))
        self._pair_up(transforms, coder, lmbda)

    @classmethod
    def from_arrays(cls, record: dict, arrays: dict, **options) -> HyperpriorCodec:
        hyper_analysis = FixedPointTransform.from_arrays(
            _layers(record, "hyper_analysis"), arrays, "hyper_analysis",
            input_bits=ACTIVATION_BITS)
        hyper_synthesis = FixedPointTransform.from_arrays(
            _layers(record, "hyper_synthesis"), arrays, "hyper_synthesis")
        transforms = HyperpriorTransforms(_analysis(record, arrays), _synthesis(record, arrays),
                                          hyper_analysis=hyper_analysis)
        return cls(transforms, arrays["prior/log_scales"], hyper_synthesis, record["lmbda"],
                   **options)


class VariableRateCodec:
    """A variable-rate model's codec (notebook 08): `at(λ)` gives the (compressor,
    decompressor) pair for any λ from the lowest to the highest level, built once per λ.

    The pairs share the fixed-point transforms; each has its own integer gains
    (`gains.fixed_point_gains`) and coding tables for the prior scaled by its gains
    (`gains.level_scales`), so its strings are the same on every stack. `fingerprint`
    identifies the model (every λ); `.mnc` files (version 2) record the λ beside it.
    """

    kind = VARIABLE_RATE

    def __init__(self, analysis: FixedPointTransform, synthesis: FixedPointTransform, levels,
                 lmbda: float, log_gains, log_inverse_gains, log_scales, **options):
        self.levels = tuple(float(v) for v in levels)
        self.lmbda = float(lmbda)
        self._log_gains = np.asarray(log_gains, np.float32)
        self._log_inverse_gains = np.asarray(log_inverse_gains, np.float32)
        self._log_scales = np.asarray(log_scales, np.float32)
        self._analysis, self._synthesis = analysis, synthesis
        self._options = _coder_options(**options)
        coding = [np.array([self._options["range_coder_precision"]], np.int64),
                  np.array([self._options["tail_mass"]], np.float64)]
        self.fingerprint = typed_arrays_digest(
            b"mnist-compression variable-rate codec 1",
            [*coding, np.array(self.levels, np.float64), self._log_gains,
             self._log_inverse_gains, self._log_scales, *self._synthesis.parameters()],
            FINGERPRINT_BYTES)
        self._pairs = {}

    @classmethod
    def from_arrays(cls, record: dict, arrays: dict, **options) -> VariableRateCodec:
        return cls(_analysis(record, arrays), _synthesis(record, arrays, ACTIVATION_BITS),
                   record["levels"], record["lmbda"], arrays["gains/log_gains"],
                   arrays["gains/log_inverse_gains"], arrays["prior/log_scales"], **options)

    def at(self, lmbda: float | None = None) -> tuple[MNISTCompressor, MNISTDecompressor]:
        """The codec at λ (default: the model's own `lmbda`); ValueError outside the levels."""
        lmbda = self.lmbda if lmbda is None else lmbda
        interpolation(self.levels, lmbda)  # a real number within the levels, or ValueError
        lmbda = float(lmbda)
        if lmbda not in self._pairs:
            gains = fixed_point_gains(self.levels, self._log_gains, lmbda)
            transforms = ExactTransforms(
                self._analysis, self._synthesis, gains,
                fixed_point_gains(self.levels, self._log_inverse_gains, lmbda))
            entropy_model = EntropyCoder(level_scales(self._log_scales, gains), **self._options)
            self._pairs[lmbda] = (
                MNISTCompressor(transforms, entropy_model, self.fingerprint, lmbda, self.kind),
                MNISTDecompressor(entropy_model, transforms, self.fingerprint, lmbda, self,
                                  self.kind))
        return self._pairs[lmbda]

    def for_file(self, lmbda: float | None, path) -> MNISTDecompressor:
        """The decompressor for a file with this codec's fingerprint that records `lmbda`."""
        if lmbda is None:
            raise MNCError(f"{path} carries this variable-rate model's fingerprint but no λ (a "
                           f"version 1 file, written without the λ its strings were coded at), "
                           f"so it cannot be decoded.")
        try:
            return self.at(lmbda)[1]
        except ValueError as err:
            raise MNCError(f"{path} records a λ this model cannot code at ({err}); the file "
                           f"is damaged.") from None


# Each kind of model file (`storage.model_files.model_kind`) and the codec that reads it.
CODECS = {codec.kind: codec for codec in (FixedRateCodec, VariableRateCodec, HyperpriorCodec)}


def codec_from_arrays(record: dict, arrays: dict, **options):
    """The codec of a model from its file's record and arrays (see `read_model_file`);
    `options` go to the entropy coder (e.g. ``decode_sanity_check=False``). Raises
    ModelFileError for arrays the model needs but the file lacks."""
    try:
        return CODECS[model_kind(record)].from_arrays(record, arrays, **options)
    except KeyError as err:
        raise ModelFileError(f"The model file has no array {err}, which the model needs.") from None


def load_codec(path, **options):
    """The codec of the model file at `path`, without TensorFlow."""
    try:
        return codec_from_arrays(*read_model_file(path), **options)
    except ModelFileError as err:
        raise ModelFileError(err if str(err).startswith(str(path)) else f"{path}: {err}") from None


def compress_to_file(compressor: MNISTCompressor, digits, path, overwrite=False,
                     progress: bool = False) -> MNCFile:
    """Compresses digits into one .mnc file; returns what was written (strings, size). A
    variable-rate model's compressor writes a version 2 file that records its λ, a hyperprior
    model's a version 3 file."""
    digits = check_digits(digits)
    strings = []
    for start in _steps(len(digits), progress, "compress"):
        strings += compressor._encode(digits[start:start + PROGRESS_CHUNK])
    size = write_mnc(path, strings, compressor.fingerprint, overwrite, compressor.lmbda,
                     compressor.kind)
    return MNCFile(strings, compressor.fingerprint, size, compressor.lmbda, compressor.kind)


def decompress_file(decoder, path, progress: bool = False) -> np.ndarray:
    """The digits in an .mnc file, uint8 [N, 28, 28, 1]; the file must come from this model.
    `decoder` is a codec, which decodes at the λ the file records, or one of its
    decompressors, which decodes files of its own λ only."""
    contents = read_mnc(path, expected_fingerprint=decoder.fingerprint)
    if (contents.kind == HYPERPRIOR) != (decoder.kind == HYPERPRIOR):
        raise MNCError(f"{path} says a {contents.kind} model made it, but carries the "
                       f"fingerprint of this {decoder.kind} model; the file is damaged.")
    decompressor = _decompressor_for(decoder, contents.lmbda, path)
    parts = [np.zeros((0, 28, 28, 1), np.uint8)]
    for start in _steps(len(contents.strings), progress, "decompress"):
        chunk = contents.strings[start:start + PROGRESS_CHUNK]
        try:
            parts.append(decompressor.decompress(chunk))
        except DecodeError as err:  # counted in the file, not in the chunk
            raise MNCError(
                f"{path}: Sanity check failed for {len(err.failed)} of its strings "
                f"{start}–{start + len(chunk) - 1} (first: index {start + err.failed[0]}): it "
                f"passed its checksum, so they were made with other coding tables than this "
                f"model's at the λ the file records.") from None
        except ValueError as err:
            raise MNCError(f"{path}: {err}") from None
    return np.concatenate(parts)


def _decompressor_for(decoder, lmbda: float | None, path) -> MNISTDecompressor:
    """What decodes a file of `decoder`'s model that records `lmbda` (None: version 1)."""
    if not isinstance(decoder, MNISTDecompressor):
        return decoder.for_file(lmbda, path)
    if lmbda is not None and decoder.lmbda is not None and lmbda != decoder.lmbda:
        shown = (f"{lmbda:g}", f"{decoder.lmbda:g}")
        if shown[0] == shown[1]:
            shown = (repr(lmbda), repr(decoder.lmbda))
        raise MNCError(f"{path} was coded at λ={shown[0]}; this decompressor decodes "
                       f"λ={shown[1]}. Pass the model's codec to decode at the file's λ.")
    if decoder.codec is not None:
        return decoder.codec.for_file(lmbda, path)  # says which of the two is damaged
    if lmbda != decoder.lmbda:
        raise MNCError(f"{path} records λ={lmbda}, but this decompressor decodes "
                       f"λ={decoder.lmbda}; the file is damaged.")
    return decoder


def _steps(count: int, progress: bool, label: str):
    steps = range(0, count, PROGRESS_CHUNK)
    if not progress or count <= PROGRESS_CHUNK:
        return steps
    return tqdm(steps, desc=f"{label} ({count:,} digits, {PROGRESS_CHUNK:,} per step)",
                unit="step", file=sys.stderr)


__all__ = ["CODECS", "FixedRateCodec", "HyperpriorCodec", "MNISTCompressor", "MNISTDecompressor",
           "VariableRateCodec", "check_digits", "codec_fingerprint", "codec_from_arrays",
           "compress_to_file", "decompress_file", "load_codec"]
