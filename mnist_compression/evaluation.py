"""Measures codecs on real output: bits actually written and the error of decoded digits.

Introduced in notebook 05 (rate–distortion). Unlike the training metrics, these numbers come from
range-coded strings (or classical files) and the uint8 digits that decoding returns.
"""

from __future__ import annotations

import math

import numpy as np


def error_metrics(originals, decoded) -> dict:
    """Mean absolute error (pixels scaled to [0, 1]) and PSNR in dB over all pixels of uint8
    digits; the PSNR of an exact copy is infinite."""
    difference = np.asarray(decoded, np.float64) - np.asarray(originals, np.float64)
    mse = float(np.square(difference).mean())
    return dict(mae=float(np.abs(difference).mean() / 255),
                psnr=math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse))


def evaluate_codec(compressor, decompressor, digits, batch_size: int = 2000) -> dict:
    """Compresses and decompresses `digits` (uint8 [N, 28, 28, 1]) and returns the mean
    information content and string length in bits, plus `error_metrics` of the decoded digits."""
    digits = np.asarray(digits)
    information, lengths, decoded = [], [], []
    for start in range(0, len(digits), batch_size):
        strings, bits = compressor(digits[start:start + batch_size])
        decoded.append(decompressor(strings).numpy())
        information.append(bits.numpy())
        lengths.append([8 * len(string) for string in strings.numpy()])
    return dict(
        information_bits=float(np.concatenate(information).mean()),
        string_bits=float(np.concatenate(lengths).mean()),
        **error_metrics(digits, np.concatenate(decoded)),
    )
