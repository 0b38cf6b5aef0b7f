"""check_answer: right and wrong answers to the exercises that have a number or an array."""

import math

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.model.autoencoder import MNISTCompressionTrainer
from mnist_compression.model.entropy_models import ContinuousBatchedEntropyModel, NoisyLogistic
from mnist_compression.model.files import make_mnist_codec
from mnist_compression.teaching.exercises import COLLAPSED_SCALE, check_answer


@pytest.fixture(scope="module")
def trainer():
    tf.keras.utils.set_random_seed(2)
    model = MNISTCompressionTrainer(latent_dims=6, lmbda=500)
    model(tf.zeros((1, 28, 28, 1), tf.uint8))
    model.prior_log_scales.assign(np.log([0.01, 0.04, 0.2, 1.0, 3.0, 0.049]))
    return model


def _said(capsys):
    return capsys.readouterr().out.strip()


def test_parameter_counts_by_hand(capsys):
    # Analysis, 10 latents: conv 5·5·1·20+20, conv 5·5·20·50+50, dense 2450·500+500, 500·10+10.
    analysis = 520 + 25_050 + 1_225_500 + 5_010
    # Synthesis: dense 10·500+500, 500·2450+2450, transposed convs 5·5·50·20+20, 5·5·20·1+1.
    synthesis = 5_500 + 1_227_450 + 25_020 + 501
    assert check_answer("01.1", (analysis, synthesis), latent_dims=10)
    assert _said(capsys).startswith("Exercise 01.1: right. Expected analysis 1,256,080, "
                                    "synthesis 1,258,471 parameters for 10 latents")
    assert not check_answer("01.1", (analysis, synthesis + 1), latent_dims=10)
    assert "not yet" in _said(capsys)


def test_the_rate_of_rounded_latents(capsys):
    prior = NoisyLogistic(0.0, [0.5, 1.0, 2.0])
    model = ContinuousBatchedEntropyModel(prior, coding_rank=1)
    y = tf.constant([[0.2, -1.7, 3.4], [0.6, 0.0, -0.4]])
    rounded = np.round(y.numpy())
    by_hand = -np.log2(prior.prob(rounded).numpy()).sum(axis=1)
    assert check_answer("02.1", by_hand, y=y, entropy_model=model)
    noisy = model(y, training=True)[1].numpy()
    assert not check_answer("02.1", noisy, y=y, entropy_model=model)
    assert _said(capsys).count("Exercise 02.1") == 2


def test_collapsed_latents_are_counted_by_their_scale(trainer, capsys):
    assert COLLAPSED_SCALE == 0.05
    assert check_answer("03.3", 3, trainer=trainer)  # 0.01, 0.04 and 0.049
    assert not check_answer("03.3", 2, trainer=trainer)
    assert "3 of 6 prior scales are below 0.05" in _said(capsys)


def test_bytes_saved_by_one_string(capsys):
    strings = [b"\x01\x02\x03", b"\x04", b"\x05\x06"]  # 6 bytes
    information = np.array([20.5, 3.0, 9.2])  # 32.7 bits: 5 bytes together
    assert check_answer("04.3", 1, strings=strings, information_bits=information)
    assert check_answer("04.3", 3, strings=strings, information_bits=information)  # within 2
    assert not check_answer("04.3", 4, strings=strings, information_bits=information)
    assert not check_answer("04.3", -2, strings=strings, information_bits=information)
    assert "1 bytes, give or take 2: 6 bytes in separate strings against about 5" in _said(capsys)
    assert math.ceil(information.sum() / 8) == 5


def test_a_string_of_zeros_decodes_to_each_tables_lowest_value(trainer, capsys):
    _, decompressor = make_mnist_codec(trainer, decode_sanity_check=False)
    lowest = decompressor.entropy_model.tables.offsets
    for zeros in (1, 8, 20):
        decoded = decompressor.entropy_model.decode_symbols([bytes(zeros)])[0]
        assert check_answer("06.2", decoded, decompressor=decompressor)
    assert (lowest < 0).all()  # not zero: the trap of this exercise
    assert not check_answer("06.2", np.zeros_like(lowest), decompressor=decompressor)


def test_the_share_of_random_strings_the_sanity_check_lets_through(trainer, capsys):
    _, decompressor = make_mnist_codec(trainer)
    strings = [np.random.default_rng(i).bytes(1 + i % 2) for i in range(200)]
    passed = 0
    for string in strings:  # one at a time, by hand
        try:
            decompressor.entropy_model.decode_symbols([string])
            passed += 1
        except ValueError:
            pass
    assert 0 < passed < 200
    assert check_answer("A1.1", passed / 200, decompressor=decompressor, strings=strings)
    assert f"{passed:,} of these 200 random strings pass" in _said(capsys)
    assert not check_answer("A1.1", (passed + 2) / 200, decompressor=decompressor,
                            strings=strings)


def test_no_answer_and_unknown_exercises(capsys):
    assert not check_answer("03.3", None)
    assert _said(capsys) == ("Exercise 03.3: no answer yet. Put yours in place of None and run "
                             "the cell again.")
    with pytest.raises(ValueError, match="No check for exercise '09.1'; there are checks for "
                                         "01.1, 02.1, 03.3, 04.3, 06.2, A1.1"):
        check_answer("09.1", 1)
