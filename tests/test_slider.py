"""Notebook 08's λ slider: re-coding at a λ, and the update function dragging calls."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import synthetic_digits

from mnist_compression.model.files import make_codec
from mnist_compression.model.variable_rate import VariableRateTrainer, initial_log_gains
from mnist_compression.teaching.slider import describe, lambda_slider, recode

LEVELS = (50.0, 500.0, 5000.0)


@pytest.fixture(scope="module")
def codec():
    tf.keras.utils.set_random_seed(5)
    trainer = VariableRateTrainer(LEVELS, lmbda=500)
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    trainer.prior_log_scales.assign(np.linspace(-3.0, 1.0, 50))
    trainer.log_gains.assign(np.repeat(3 * initial_log_gains(LEVELS)[:, None], 50, axis=1))
    return make_codec(trainer)


DIGITS = synthetic_digits(16, seed=2)


def test_recode_measures_the_real_strings_at_a_level(codec):
    result = recode(codec, DIGITS, 5000)
    compressor, decompressor = codec.at(5000)
    strings = compressor.compress(DIGITS)
    assert result["strings"] == strings
    assert result["bits"].tolist() == [8 * len(s) for s in strings]
    assert result["mean_bits"] == pytest.approx(np.mean([8 * len(s) for s in strings]))
    decoded = decompressor.decompress(strings)
    assert (result["decoded"] == decoded).all()
    assert result["mae"] == pytest.approx(np.abs(decoded / 255 - DIGITS / 255).mean())
    assert describe(result) == (f"λ = 5,000: {result['mean_bits']:.1f} bits per digit, "
                                f"MAE {result['mae']:.4f}")


def test_the_update_function_returns_the_right_bits_for_a_known_level(codec):
    widget, update = lambda_slider(codec, DIGITS)
    slider, line, image = widget.children
    assert slider.value == pytest.approx(500) and slider.min == pytest.approx(np.log10(50))
    assert slider.max == pytest.approx(np.log10(5000))
    for lmbda in (50, 500, 5000, 1234.5, 1234.5):
        result = update(lmbda)
        assert result["lmbda"] == lmbda and slider.value == pytest.approx(lmbda)  # it follows
        assert result["mean_bits"] == recode(codec, DIGITS, lmbda)["mean_bits"]
        assert line.value == describe(result)
    assert update(10 ** np.log10(5000.0))["lmbda"] == 5000.0  # the slider's top, as floats give it
    with pytest.raises(ValueError, match="codes at λ from 50 to 5000"):
        update(6000)


def test_dragging_the_slider_recodes_and_redraws(codec, monkeypatch):
    widget, _ = lambda_slider(codec, DIGITS)
    slider, line, image = widget.children
    before = bytes(image.value)
    assert before.startswith(b"\x89PNG") and line.value == describe(recode(codec, DIGITS, 500))
    calls = []
    monkeypatch.setattr("mnist_compression.teaching.slider.recode",
                        lambda c, d, lmbda: calls.append(lmbda) or recode(c, d, lmbda))
    slider.value = 2000.0
    assert calls == [pytest.approx(2000.0)]
    assert line.value == describe(recode(codec, DIGITS, slider.value))
    assert bytes(image.value).startswith(b"\x89PNG") and bytes(image.value) != before
