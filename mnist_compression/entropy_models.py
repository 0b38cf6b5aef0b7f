"""The prior and entropy model the tutorial codes latents with, under one import.

Introduced in notebook 03 (prior and rate). `NoisyLogistic` is a logistic density convolved with
U(-1/2, 1/2); `ContinuousBatchedEntropyModel` turns it into a differentiable rate (training) and
into range-coded strings (compression). Both come from tensorflow-compression.
"""

import tensorflow_compression as tfc

BACKEND = "tensorflow-compression"
NoisyLogistic = tfc.NoisyLogistic
ContinuousBatchedEntropyModel = tfc.ContinuousBatchedEntropyModel

__all__ = ["BACKEND", "ContinuousBatchedEntropyModel", "NoisyLogistic"]
