"""The scales a hyperprior's coding tables are built for, and the index that picks one.

Introduced in notebook 09. A scale hyperprior gives every latent of every digit its own scale,
but coding tables can only be built ahead of time, so the decoder keeps one table per scale of
a fixed grid, geometrically spaced, and the hyper-synthesis transform outputs a table index
rather than a scale. Training uses the index as a continuous number (`scale_at`, in
TensorFlow); the codec and validation round it to an integer (`round_indexes`, exact), and both
code with the grid's float32 scales, computed here in float64 once so every stack has the same.

The grid spans 0.04 to 32 in 63 steps of 11 %. Narrower scales would buy nothing: at 0.04 a
zero already costs less than the 12-bit tables can resolve (tests/test_hyperprior.py measures
both). The wide end leaves room for the widest-spread latents at high λ; how many indexes
reach either end is measured on trained models (`study.side_information`). Rounding an index
moves a scale by at most half a step, about 5 %, which costs under a hundredth of a bit per
latent (measured in the same tests).
"""

from __future__ import annotations

import numpy as np

from .exact_transforms import round_output

SCALE_MIN, SCALE_MAX, SCALE_COUNT = 0.04, 32.0, 64


def scale_grid() -> np.ndarray:
    """The grid's scales, float32 [SCALE_COUNT], from SCALE_MIN to SCALE_MAX."""
    return np.exp(np.linspace(np.log(SCALE_MIN), np.log(SCALE_MAX), SCALE_COUNT)).astype(
        np.float32)


def log_scale_step() -> float:
    """The grid's step in log-scale: index i has scale SCALE_MIN * exp(i * step)."""
    return float(np.log(SCALE_MAX / SCALE_MIN) / (SCALE_COUNT - 1))


def round_indexes(values: np.ndarray, bits: int) -> np.ndarray:
    """Fixed-point indexes (int64 with `bits` fractional bits) to table indexes: rounded half
    to even, then clipped to 0 .. SCALE_COUNT - 1, in exact integer arithmetic."""
    return np.clip(round_output(values, bits), 0, SCALE_COUNT - 1)


__all__ = ["SCALE_COUNT", "SCALE_MAX", "SCALE_MIN", "log_scale_step", "round_indexes",
           "scale_grid"]
