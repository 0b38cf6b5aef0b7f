"""The prior and entropy model the tutorial codes latents with, under one import.

Introduced in notebook 02 (noise and prior). `NoisyLogistic` is a logistic density convolved with
U(-1/2, 1/2); `ContinuousBatchedEntropyModel` turns it into a differentiable rate (training) and
into range-coded strings (compression).

Two backends provide them. Where tensorflow-compression imports (Python <= 3.11, TF 2.14), it is
used. Elsewhere (today's Colab: Python 3.13, TF 2.20) `fallback_entropy_model` takes over, with
the same rates and byte-identical strings. `BACKEND` names the active one; set the environment
variable MNIST_COMPRESSION_BACKEND to "tfc" or "fallback" before importing to force a choice.
"""

from __future__ import annotations

import os

BACKEND_ENV = "MNIST_COMPRESSION_BACKEND"
TFC_BACKEND = "tensorflow-compression"
FALLBACK_BACKEND = "mnist_compression fallback (TensorFlow + numpy range coder)"


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
            return TFC_BACKEND, tfc.NoisyLogistic, tfc.ContinuousBatchedEntropyModel
        if choice == "tfc":
            raise ImportError(
                f"{BACKEND_ENV}=tfc, but tensorflow-compression does not import ({error}). It "
                f"needs Python <= 3.11 and TensorFlow 2.14; unset {BACKEND_ENV} to use the "
                f"fallback backend."
            )
    from . import fallback_entropy_model as fallback

    return FALLBACK_BACKEND, fallback.NoisyLogistic, fallback.ContinuousBatchedEntropyModel


BACKEND, NoisyLogistic, ContinuousBatchedEntropyModel = _select()

__all__ = ["BACKEND", "ContinuousBatchedEntropyModel", "NoisyLogistic"]
