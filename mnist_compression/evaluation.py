"""Measures a codec on real strings: bits actually written and the error of decoded digits.

Introduced in notebook 05 (rate–distortion). Unlike the training metrics, these numbers come from
the range-coded strings and the uint8 digits the decompressor returns.
"""

from __future__ import annotations

import numpy as np


def evaluate_codec(compressor, decompressor, digits, batch_size: int = 2000) -> dict:
    """Compresses and decompresses `digits` (uint8 [N, 28, 28, 1]) and returns their means:
    information content and string length in bits, absolute error (pixels in [0, 1]) and PSNR
    in dB of the decoded uint8 digits."""
    digits = np.asarray(digits)
    information, lengths, errors, squared = [], [], [], []
    for start in range(0, len(digits), batch_size):
        batch = digits[start:start + batch_size]
        strings, bits = compressor(batch)
        decoded = decompressor(strings).numpy()
        difference = decoded.astype(np.float64) - batch.astype(np.float64)
        information.append(bits.numpy())
        lengths.append([8 * len(string) for string in strings.numpy()])
        errors.append(np.abs(difference).mean(axis=(1, 2, 3)) / 255)
        squared.append(np.square(difference).mean(axis=(1, 2, 3)))
    mse = np.concatenate(squared)
    return dict(
        information_bits=float(np.concatenate(information).mean()),
        string_bits=float(np.concatenate(lengths).mean()),
        mae=float(np.concatenate(errors).mean()),
        psnr=float(np.mean(10 * np.log10(255.0**2 / np.maximum(mse, 1e-10)))),
    )
