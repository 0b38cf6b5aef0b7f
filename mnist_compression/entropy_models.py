"""The prior and entropy model the tutorial codes latents with, under one import.

Introduced in notebook 02 (noise and prior) and used for real strings in notebook 04.
`NoisyLogistic` is a logistic density convolved with U(-1/2, 1/2); `ContinuousBatchedEntropyModel`
turns it into a differentiable rate (training) and into range-coded strings (compression).

Two backends provide the densities and rates. Where tensorflow-compression imports (Python <=
3.11, TF 2.14), it is used; elsewhere (today's Colab: Python 3.13, TF 2.20) `fallback` takes over.
`BACKEND` names the active one; set MNIST_COMPRESSION_BACKEND to "tfc" or "fallback" before
importing to force a choice.

Coding is the same on both. The tables are built by `fallback.tables` in numpy, identical to
tensorflow-compression's on TF 2.14 whatever TensorFlow is installed, so a string made on one
stack decodes on the other. Every input is checked before a coder sees it: latents that are not
finite or lie more than 2**30 beyond their table, empty batches, priors that cannot be coded, and
strings whose escape code never ends (on which tensorflow-compression would hang) get the same
outcome on both backends: a clear error, an empty result, or a failed sanity check.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from .fallback.range_coder import DEFAULT_PRECISION, CodingTables, TableError, decode, encode
from .fallback.tables import DEFAULT_TAIL_MASS, build_tables, quantization_offsets

BACKEND_ENV = "MNIST_COMPRESSION_BACKEND"
TFC_BACKEND = "tensorflow-compression"
FALLBACK_BACKEND = "mnist_compression fallback (TensorFlow + numpy range coder)"
# Escaped values are coded by their distance from the table; tensorflow-compression never
# returns from `compress` once that distance reaches 2**30.
MAX_ESCAPE = 2**30


class DecodeError(ValueError):
    """Strings failed the range decoder's sanity check; `failed` holds their indices."""

    def __init__(self, message: str, failed: np.ndarray):
        super().__init__(message)
        self.failed = failed


def _load_tfc():
    try:
        import tensorflow_compression as tfc
    except Exception as err:  # a wheel built for another TF can fail in many ways at import
        return None, err
    return tfc, None


def _select():
    choice = os.environ.get(BACKEND_ENV, "auto").strip().lower()
    if choice not in ("auto", "tfc", "fallback"):
        raise ValueError(
            f"{BACKEND_ENV} must be 'auto', 'tfc' or 'fallback', got {choice!r}."
        )
    if choice != "fallback":
        tfc, error = _load_tfc()
        if tfc is not None:
            return TFC_BACKEND, tfc
        if choice == "tfc":
            raise ImportError(
                f"{BACKEND_ENV}=tfc, but tensorflow-compression does not import ({error}). It "
                f"needs Python <= 3.11 and TensorFlow 2.14; unset {BACKEND_ENV} to use the "
                f"fallback backend."
            )
    return FALLBACK_BACKEND, None


BACKEND, _tfc = _select()
if _tfc is not None:
    NoisyLogistic = _tfc.NoisyLogistic
else:
    from .fallback.entropy_model import NoisyLogistic


def prior_parameters(prior) -> tuple[np.ndarray, np.ndarray]:
    """A noisy logistic's locations and scales as float32 vectors over its batch shape."""
    base = getattr(prior, "base", prior)  # tensorflow-compression wraps a tfp Logistic
    shape = prior.batch_shape.as_list()
    loc, scale = (np.broadcast_to(np.asarray(tf.convert_to_tensor(v), np.float32), shape)
                  for v in (base.loc, base.scale))
    return loc, scale


class ContinuousBatchedEntropyModel(tf.Module):
    """tensorflow-compression's `ContinuousBatchedEntropyModel` with ``coding_rank=1``.

    ``model(y, training=True)`` adds uniform noise and returns the noisy latents with their
    differentiable bit estimate, one per row; ``training=False`` rounds them and returns the
    information content. With ``compression=True`` the prior becomes coding tables once, and
    `compress` / `decompress` turn each row of latents into its own byte string and back. The
    coding methods take and return eager values (numpy arrays or tensors).
    """

    def __init__(self, prior, coding_rank=1, compression=False, tail_mass=DEFAULT_TAIL_MASS,
                 range_coder_precision=DEFAULT_PRECISION, offset_heuristic=True,
                 decode_sanity_check=True, name="ContinuousBatchedEntropyModel"):
        super().__init__(name=name)
        if coding_rank != 1:
            raise ValueError(f"Only coding_rank=1 is supported here, got {coding_rank!r}.")
        if prior.batch_shape.rank != 1:
            raise ValueError(f"The prior needs one dimension (one density per latent), got "
                             f"batch shape {prior.batch_shape}.")
        self.prior = prior
        self.coding_rank = 1
        self.compression = bool(compression)
        self.decode_sanity_check = bool(decode_sanity_check)
        offset = None
        if self.compression:
            loc, scale = prior_parameters(prior)
            offset = quantization_offsets(loc) if offset_heuristic else None
            self.tables = build_tables(loc, scale, tail_mass, range_coder_precision, offset)
        self._offset = offset
        self._rates = self._rate_model(prior, offset_heuristic, offset)
        self._tfc_coder = self._make_tfc_coder() if self.compression and _tfc else None

    @staticmethod
    def _rate_model(prior, offset_heuristic, offset):
        if _tfc is not None:
            return _tfc.ContinuousBatchedEntropyModel(
                prior, coding_rank=1, compression=False, offset_heuristic=offset_heuristic,
                quantization_offset=offset)
        from .fallback.entropy_model import RateModel

        return RateModel(prior, offset_heuristic, offset)

    def _make_tfc_coder(self):
        return _tfc.ContinuousBatchedEntropyModel(
            prior_shape=(self.channels,), coding_rank=1, compression=True, stateless=True,
            cdf=tf.constant(self.tables.to_flat()),
            cdf_offset=tf.constant(self.tables.offsets.astype(np.int32)),
            offset_heuristic=False, quantization_offset=self._offset, decode_sanity_check=False)

    @property
    def channels(self) -> int:
        return self.prior.batch_shape[0]

    @property
    def quantization_offset(self):
        return self._rates.quantization_offset

    @property
    def cdf(self) -> tf.Tensor:
        """The tables in tensorflow-compression's flat int32 layout."""
        return tf.constant(self._require_tables().to_flat())

    @property
    def cdf_offset(self) -> tf.Tensor:
        return tf.constant(self._require_tables().offsets.astype(np.int32))

    def __call__(self, bottleneck, training=True):
        return self._rates(bottleneck, training=training)

    def quantize(self, bottleneck):
        """Rounds to the integer grid (shifted by the offsets), with a straight-through gradient."""
        return self._rates.quantize(bottleneck)

    def _require_tables(self) -> CodingTables:
        if not self.compression:
            raise ValueError("This entropy model was built with compression=False; build it "
                             "with compression=True to compress or decompress.")
        return self.tables

    def _checked(self, bottleneck) -> tuple[np.ndarray, np.ndarray]:
        """Latents [..., C] as float32 and the integers `compress` codes for them,
        round(y - offset), as int64.

        Raises ValueError for latents that are not finite numbers, have the wrong number of
        channels, or lie more than 2**30 beyond their table (no coder can write those).
        """
        tables = self._require_tables()
        y = np.asarray(bottleneck.numpy() if hasattr(bottleneck, "numpy") else bottleneck)
        if y.dtype.kind not in "iuf" or y.ndim < 1 or y.shape[-1] != self.channels:
            raise ValueError(f"Expected latents as numbers shaped [..., {self.channels}], got "
                             f"dtype {y.dtype} and shape {list(y.shape)}.")
        y = y.astype(np.float32)
        finite = np.isfinite(y).all(axis=-1)
        if not finite.all():
            bad = np.flatnonzero(~finite.reshape(-1))
            raise ValueError(
                f"Latents to compress must be finite: {len(bad)} of {finite.size} vectors hold "
                f"NaN or infinite values (first: index {bad[0]}). A NaN usually comes from a "
                f"damaged model or input.")
        shifted = y if self._offset is None else y - self._offset
        rounded = np.rint(shifted).astype(np.float64)
        distance = np.maximum(tables.offsets - rounded,
                              rounded - (tables.offsets + tables.lengths - 1))
        if (distance >= MAX_ESCAPE).any():
            raise ValueError(
                f"Cannot code latent values more than 2**30 beyond their table's range (found "
                f"{np.abs(y).max():.3g}); tensorflow-compression would never return on them.")
        return y, rounded.astype(np.int64)

    def compress(self, bottleneck) -> tf.Tensor:
        """One byte string per row of `bottleneck` ([..., C] numbers); an empty batch gives an
        empty result."""
        latents, symbols = self._checked(bottleneck)
        batch_shape = symbols.shape[:-1]
        flat = symbols.reshape(-1, self.channels)
        if len(flat) == 0:
            return tf.zeros(batch_shape, tf.string)
        if self._tfc_coder is not None:
            strings = self._tfc_coder.compress(tf.constant(latents.reshape(flat.shape)))
        else:
            strings = tf.constant(np.array(encode(flat, self.tables), dtype=object))
        return tf.reshape(strings, batch_shape)

    def decompress(self, strings, broadcast_shape=()) -> tf.Tensor:
        """Latents [..., C] (float32) from strings made by `compress` with identical tables.

        Strings whose escape code never ends are detected before any coder reads them. With
        ``decode_sanity_check=True`` (the default), strings that were not made with these tables
        raise a `DecodeError`; a string missing its last byte may still pass (see README).
        """
        tables = self._require_tables()
        if len(broadcast_shape):
            raise ValueError("Only broadcast_shape=() is supported with coding_rank=1.")
        array = np.asarray(strings.numpy() if hasattr(strings, "numpy") else strings,
                           dtype=object)
        flat = [bytes(s) for s in array.reshape(-1)]
        if not flat:
            return tf.zeros(list(array.shape) + [self.channels], tf.float32)
        symbols, sane, overruns = decode(flat, tables, return_overruns=True)
        if self.decode_sanity_check and not sane.all():
            failed = np.flatnonzero(~sane)
            raise DecodeError(
                f"Sanity check failed for {len(failed)} of {len(flat)} strings (first: index "
                f"{failed[0]}): they were not made with these coding tables, or are damaged.",
                failed)
        if self._tfc_coder is not None:
            self._check_tfc_agrees(flat, symbols, overruns)
        values = symbols.astype(np.float32)
        if self._offset is not None:
            values = values + self._offset
        return tf.constant(values.reshape(list(array.shape) + [self.channels]))

    def _check_tfc_agrees(self, strings, symbols, overruns):
        """Decodes the strings tensorflow-compression can read with it, and insists on the same
        symbols as the screening decoder found (they agree by construction; see tests)."""
        readable = np.flatnonzero(~overruns)
        if not len(readable):
            return
        decoded = self._tfc_coder.decompress(tf.constant([strings[i] for i in readable]), ())
        expected = symbols[readable].astype(np.float32)
        if self._offset is not None:
            expected = expected + self._offset
        if not np.array_equal(decoded.numpy(), expected):
            raise RuntimeError("tensorflow-compression decoded these strings differently from "
                               "this package's decoder; please report this as a bug.")


__all__ = ["BACKEND", "ContinuousBatchedEntropyModel", "DecodeError", "NoisyLogistic",
           "TableError", "prior_parameters"]
