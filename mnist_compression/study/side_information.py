"""Side information (notebook 09): sending a little first so that the rest costs less.

`class_as_side_information` measures the simplest case on a factorized model: send the digit's
class, then code its latents under a prior fitted to that class. `scale_index_counts` counts
which tables of the scale grid a hyperprior model's side latents pick. Both work on codecs
(numpy), so the numbers are those of real symbols and tables.
"""

from __future__ import annotations

import numpy as np

from ..codec.entropy_coder import noisy_logistic_log2_mass
from ..codec.hyperprior_coder import HyperpriorCoder
from ..codec.scale_grid import SCALE_COUNT
from ..coding.range_coder import encode
from ..coding.tables import build_tables

# The scales a fitted prior chooses from: 40 per factor of ten, from 0.001 to 1000.
CANDIDATE_SCALES = np.geomspace(1e-3, 1e3, 241)
CLASSES = 10


def fit_scales(symbols, candidates=CANDIDATE_SCALES) -> np.ndarray:
    """Per column of integer symbols [N, C], the scale of the zero-centred noisy logistic that
    gives them the highest likelihood, among `candidates` (float64 [C])."""
    symbols = np.asarray(symbols)
    fitted = []
    for column in symbols.T:
        values, counts = np.unique(column, return_counts=True)
        log_likelihood = (counts[:, None] * noisy_logistic_log2_mass(
            values[:, None], 0.0, candidates[None, :])).sum(axis=0)
        fitted.append(candidates[np.argmax(log_likelihood)])
    return np.array(fitted)


def _bits(symbols, scales) -> np.ndarray:
    return -noisy_logistic_log2_mass(symbols, 0.0, scales).sum(axis=-1)


def class_as_side_information(compressor, train_digits, train_labels, test_digits,
                              test_labels) -> dict:
    """What sending the class first buys a factorized model, in bits per test digit (means):

    - `shared`: the latents under the model's own prior (its information content);
    - `refitted`: under one prior refitted to the training digits' latents, a scale per latent
      (what fitting alone can still save);
    - `per_class`: under a prior fitted to each class's training latents, chosen by the class;
    - `class_bits`: the class itself, -log2 of its share of the training digits;
    - `strings_shared`, `strings_per_class`: real strings of the latents under the model's
      tables and under tables of the per-class priors (the class not included).
    """
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    if set(np.unique(train_labels)) != set(range(CLASSES)):
        raise ValueError(f"Expected training labels of all {CLASSES} classes, got "
                         f"{sorted(set(np.unique(train_labels).tolist()))}.")
    train = compressor.transforms.latents(train_digits)
    test = compressor.transforms.latents(test_digits)
    per_class = np.stack([fit_scales(train[train_labels == k]) for k in range(CLASSES)])
    shares = np.bincount(train_labels, minlength=CLASSES) / len(train_labels)
    channels = test.shape[1]
    tables = build_tables(np.zeros(CLASSES * channels, np.float32),
                          per_class.ravel().astype(np.float32))
    indexes = test_labels[:, None].astype(np.int64) * channels + np.arange(channels)
    return dict(
        shared=float(compressor.entropy_model.information_bits(test).mean()),
        refitted=float(_bits(test, fit_scales(train)).mean()),
        per_class=float(_bits(test, per_class[test_labels]).mean()),
        class_bits=float(-np.log2(shares[test_labels]).mean()),
        strings_shared=float(8 * np.mean([len(s) for s in compressor.compress(test_digits)])),
        strings_per_class=float(8 * np.mean([len(s) for s in encode(test, tables, indexes)])),
    )


def side_bits(compressor, digits) -> np.ndarray:
    """Each digit's bits of side latents and of latents under a hyperprior model, -log2 P(z)
    and -log2 P(y | z) (float64 [N, 2])."""
    coder = _hyperprior_coder(compressor)
    return np.stack(coder.information_bits(compressor.transforms.latents(digits), split=True),
                    axis=1)


def scale_index_counts(compressor, digits) -> np.ndarray:
    """How often each table of the scale grid codes a latent of these digits (int64
    [SCALE_COUNT]): whether the grid's ends are reached."""
    coder = _hyperprior_coder(compressor)
    symbols = compressor.transforms.latents(digits)
    indexes = coder.scale_indexes(symbols[:, :coder.side_dims])
    return np.bincount(indexes.ravel(), minlength=SCALE_COUNT)


def predicted_scales(compressor, digits) -> np.ndarray:
    """The scale the hyperprior model's side latents give each latent of each digit (float32
    [N, C]), from the grid."""
    coder = _hyperprior_coder(compressor)
    symbols = compressor.transforms.latents(digits)
    return coder.grid[coder.scale_indexes(symbols[:, :coder.side_dims])]


def _hyperprior_coder(compressor) -> HyperpriorCoder:
    coder = compressor.entropy_model
    if not isinstance(coder, HyperpriorCoder):
        raise ValueError("Expected the compressor of a hyperprior model (hyper_latent_dims "
                         "set), got one with a factorized prior alone.")
    return coder


__all__ = ["CANDIDATE_SCALES", "class_as_side_information", "fit_scales", "predicted_scales",
           "scale_index_counts", "side_bits"]
