"""Checks for the exercises whose answer is a number or an array (the check cells of notebooks
01-07 and appendix A1; the worked solutions in `notebooks/solutions/` call them with the right
answers).

`check_answer("01.1", answer, ...)` prints one line: right, or not yet and what was expected and
why, and returns whether the answer was right. Each check computes the expected answer from the
objects it is given, so it holds for any parameters the notebook was run with.
"""

from __future__ import annotations

import math

import numpy as np

COLLAPSED_SCALE = 0.05  # exercise 03.3: a prior scale below this marks a collapsed latent


def _parameter_counts(answer, latent_dims: int = 10):
    from ..model.autoencoder import make_analysis_transform, make_synthesis_transform

    analysis, synthesis = make_analysis_transform(latent_dims), make_synthesis_transform()
    analysis.build((None, 28, 28, 1))
    synthesis.build((None, latent_dims))
    expected = (analysis.count_params(), synthesis.count_params())
    layers = ", ".join(f"{layer.name} {layer.count_params():,}" for layer in analysis.layers
                       if layer.count_params())
    return (tuple(int(v) for v in answer) == expected,
            f"analysis {expected[0]:,}, synthesis {expected[1]:,} parameters for {latent_dims} "
            f"latents (analysis by layer: {layers}; a layer has its kernel's weights plus one "
            f"bias per output channel or unit)")


def _rounded_rate(answer, y, entropy_model):
    expected = np.asarray(entropy_model(y, training=False)[1], np.float64)
    right = np.allclose(np.asarray(answer, np.float64), expected, rtol=1e-4, atol=1e-4)
    return right, (f"{np.round(expected, 3).tolist()} bits: −Σ log2 p(ŷ_i) with ŷ = round(y) "
                   f"and p the noisy prior's density at the integers")


def _collapsed(answer, trainer):
    scales = np.exp(np.asarray(trainer.prior_log_scales))
    expected = int((scales < COLLAPSED_SCALE).sum())
    return int(answer) == expected, (f"{expected} of {len(scales)} prior scales are below "
                                     f"{COLLAPSED_SCALE}; such a latent costs almost nothing "
                                     f"and carries nothing")


# Bytes an answer to 04.3 may be off: the estimate, not a coded string, sets the expected value.
ONE_STRING_SLACK = 2


def _one_string_saving(answer, strings, information_bits):
    separate = sum(len(bytes(s)) for s in np.asarray(strings, dtype=object).ravel())
    together = math.ceil(float(np.sum(information_bits)) / 8)
    expected = separate - together
    return abs(int(answer) - expected) <= ONE_STRING_SLACK, (
        f"{expected} bytes, give or take {ONE_STRING_SLACK}: {separate} bytes in separate strings "
        f"against about {together} for one string (the summed information content, rounded up "
        f"to bytes; a real single string can differ from that estimate by a byte or two, through "
        f"the coder's final bytes and its tables' rounding)")


def _zero_string(answer, decompressor):
    tables = decompressor.entropy_model.tables
    expected = tables.offsets.astype(np.int64)
    right = np.array_equal(np.asarray(answer, np.int64).ravel(), expected)
    return right, (f"every latent decodes to its table's lowest value ({expected[:8].tolist()} "
                   f"...): a string of zeros is the number 0, which lies in each latent's first "
                   f"bin, however many zeros follow")


def _accepted_share(answer, decompressor, strings):
    from ..codec.entropy_coder import DecodeError

    strings = list(strings)
    try:
        decompressor.entropy_model.decode_symbols(strings)
        rejected = 0
    except DecodeError as err:
        rejected = len(err.failed)
    expected = 1 - rejected / len(strings)
    return abs(float(answer) - expected) <= 0.5 / len(strings), (
        f"{expected:.1%}: {len(strings) - rejected:,} of these {len(strings):,} random strings "
        f"pass the sanity check (the decoder ended where an encoder could have left it), "
        f"{rejected:,} fail it")


_CHECKS = {"01.1": _parameter_counts, "02.1": _rounded_rate, "03.3": _collapsed,
           "04.3": _one_string_saving, "06.2": _zero_string, "A1.1": _accepted_share}


def check_answer(exercise: str, answer, **context) -> bool:
    """Prints whether `answer` to `exercise` ("01.1", ...) is right, with the expected answer and
    why; `context` holds what the check needs (e.g. ``y=``, ``entropy_model=``)."""
    if exercise not in _CHECKS:
        raise ValueError(f"No check for exercise {exercise!r}; there are checks for "
                         f"{', '.join(sorted(_CHECKS))}.")
    if answer is None:
        print(f"Exercise {exercise}: no answer yet. Put yours in place of None and run the cell "
              f"again.")
        return False
    right, why = _CHECKS[exercise](answer, **context)
    print(f"Exercise {exercise}: {'right' if right else 'not yet'}. Expected {why}.")
    return right


__all__ = ["COLLAPSED_SCALE", "check_answer"]
