"""Measures codecs on real output: bits actually written and the error of decoded digits.

Introduced in notebook 05 (rate–distortion). Unlike the training metrics, these numbers come from
range-coded strings (or classical files) and the uint8 digits that decoding returns.
"""

from __future__ import annotations

import math

import numpy as np

from ..codec.hyperprior_coder import HyperpriorCoder
from ..codec.mnc import encode_mnc
from ..lambdas import FIXED_RATE


def error_metrics(originals, decoded) -> dict:
    """Mean absolute error (pixels scaled to [0, 1]) and PSNR in dB over all pixels of uint8
    digits; the PSNR of an exact copy is infinite."""
    difference = np.asarray(decoded, np.float64) - np.asarray(originals, np.float64)
    mse = float(np.square(difference).mean())
    return dict(mae=float(np.abs(difference).mean() / 255),
                psnr=math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse))


def string_bits(strings) -> np.ndarray:
    """The length of each byte string in bits."""
    strings = strings.numpy() if hasattr(strings, "numpy") else strings
    return np.array([8 * len(s) for s in strings], np.int64)


def code_digits(compressor, decompressor, digits, batch_size: int = 2000) -> dict:
    """Compresses and decompresses `digits` (uint8 [N, 28, 28, 1]) in batches; returns the
    per-digit `information_bits` and `string_bits`, the `strings` and the `decoded` digits."""
    digits = np.asarray(digits)
    information, strings, decoded = [], [], []
    for start in range(0, len(digits), batch_size):
        batch, bits = compressor.compress_with_information(digits[start:start + batch_size])
        decoded.append(decompressor.decompress(batch))
        information.append(bits)
        strings += batch
    return dict(information_bits=np.concatenate(information), string_bits=string_bits(strings),
                strings=strings, decoded=np.concatenate(decoded))


def evaluate_codec(compressor, decompressor, digits, labels=None, classifier=None,
                   batch_size: int = 2000) -> dict:
    """Means over `digits` of the information content and the real string length in bits, the
    share of strings shorter than their information content, the longest string, the bytes per
    digit of one .mnc file holding them all, and the `error_metrics` of the decoded digits. With
    `labels` and a `classifier`, also the share of decoded digits it still labels correctly
    ("recognised"); for a hyperprior model, also the information content of its side latents
    ("side_bits", part of "information_bits")."""

    coded = code_digits(compressor, decompressor, digits, batch_size)
    information, lengths = coded["information_bits"], coded["string_bits"]
    file_bytes = len(encode_mnc(coded["strings"], compressor.fingerprint,
                                getattr(compressor, "lmbda", None),
                                getattr(compressor, "kind", FIXED_RATE)))
    measured = dict(
        information_bits=float(information.mean()), string_bits=float(lengths.mean()),
        shorter_than_information=float((lengths < information).mean()),
        longest_string_bits=int(lengths.max(initial=0)),
        mnc_bytes_per_digit=file_bytes / max(len(digits), 1),
        **error_metrics(digits, coded["decoded"]),
    )
    if isinstance(compressor.entropy_model, HyperpriorCoder):
        side, _ = compressor.entropy_model.information_bits(
            compressor.transforms.latents(digits), split=True)
        measured["side_bits"] = float(side.mean())
    if classifier is not None and labels is not None:
        measured["recognised"] = classifier.accuracy(coded["decoded"], labels)
    return measured


def bits_per_latent(prior, latents) -> np.ndarray:
    """The mean information content of each latent dimension over a batch, -log2 p(ŷ_i), in
    bits: which latents carry the message, and which have collapsed to cost nothing."""
    import tensorflow as tf

    log_prob = prior.log_prob(tf.constant(np.asarray(latents, np.float32)))
    return -(np.asarray(log_prob, np.float64) / math.log(2)).mean(axis=0)


def empirical_entropy_bits(latents) -> np.ndarray:
    """Per latent dimension, the entropy of its values' empirical distribution over the batch,
    in bits: what a code fitted to exactly these values, one latent at a time, would spend
    (notebook 04). `bits_per_latent` minus this is the KL between the values and the prior,
    the bits a misfit prior wastes; what both leave is the price of coding latents one by one."""
    columns = np.asarray(latents).reshape(len(latents), -1).T
    entropies = []
    for column in columns:
        _, counts = np.unique(column, return_counts=True)
        shares = counts / counts.sum()
        entropies.append(float(-(shares * np.log2(shares)).sum()))
    return np.array(entropies)

