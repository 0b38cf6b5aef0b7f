"""The variable-rate model (notebook 08): settings, gains, trainer, model files, codec, files."""

import decimal
import json
import math
import struct

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.cli.settings_options import add_settings_options, settings_from_options
from mnist_compression.codec.codecs import compress_to_file, decompress_file
from mnist_compression.codec.gains import GAIN_BITS, fixed_point_gains, interpolation, level_scales
from mnist_compression.codec.mnc import MNCError, decode_mnc, encode_mnc, read_mnc
from mnist_compression.coding.tables import build_tables
from mnist_compression.lambdas import STUDY_LAMBDAS
from mnist_compression.model.files import load_model, make_codec, make_mnist_codec, save_model
from mnist_compression.model.variable_rate import VariableRateTrainer, initial_log_gains
from mnist_compression.settings import TrainingSettings
from mnist_compression.storage.cache import identity
from mnist_compression.storage.model_files import ModelFileError, read_model_file

LEVELS = (50.0, 300.0, 2000.0, 10000.0)
BETWEEN = (77.7, 1000.0, 6543.2)


@pytest.fixture(scope="module")
def trainer():
    """An untrained variable-rate trainer whose prior scales and gains spread as after
    training (gains from about 0.1 to 8, different per latent)."""
    tf.keras.utils.set_random_seed(3)
    model = VariableRateTrainer(LEVELS, lmbda=2000)
    model(tf.zeros((1, 28, 28, 1), tf.uint8))
    model.prior_log_scales.assign(np.linspace(-3.0, 1.0, 50))
    spread = np.linspace(-0.3, 0.3, 50)[None, :]
    model.log_gains.assign(2 * initial_log_gains(LEVELS)[:, None] + spread)
    model.log_inverse_gains.assign(-2 * initial_log_gains(LEVELS)[:, None] + 0.1 * spread)
    return model


@pytest.fixture(scope="module")
def codec(trainer):
    return make_codec(trainer)


# Settings ------------------------------------------------------------------------------------

def test_levels_are_kept_in_one_canonical_form_and_shape_the_identity():
    settings = TrainingSettings(levels=" 2000, 50,300.0 ")
    assert settings.levels == (50.0, 300.0, 2000.0)
    assert settings.as_dict()["levels"] == "50,300,2000"  # as files and keys write them
    assert TrainingSettings(levels=[2000, 50, 300.0]) == settings
    shaping = identity(settings)
    assert shaping["levels"] == "50,300,2000" and "lmbda" not in shaping
    assert identity(settings.replace(lmbda=300)) == shaping  # λ only picks the codec's default
    assert "levels" not in identity(TrainingSettings())
    assert identity(TrainingSettings())["lmbda"] == 2000.0
    assert settings.describe() == "variable-rate (3 levels, λ=50…2000)"
    assert TrainingSettings(lmbda=500).describe() == "λ=500"


def test_the_variable_rate_recipe_spans_the_study_in_twice_one_models_epochs():
    settings = TrainingSettings.from_recipe("variable-rate")
    assert settings.levels == STUDY_LAMBDAS
    assert settings.levels == (50, 100, 300, 500, 1000, 2000, 5000, 10000)
    assert settings.epochs == 2 * TrainingSettings().epochs


@pytest.mark.parametrize("changes, message", [
    (dict(levels="300"), "at least two different"),
    (dict(levels="300,300"), "at least two different"),
    (dict(levels="300,-5"), "positive finite"),
    (dict(levels="300,nan"), "positive finite"),
    (dict(levels="300;500"), "separated by commas"),
    (dict(levels="300,500", lmbda=2000), "must lie within its levels, 300 to 500"),
    (dict(levels="300,5000", warm_start=500.0), "cannot warm-start"),
])
def test_bad_levels_are_refused_with_the_reason(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainingSettings(**changes)


# Gains, exactly ------------------------------------------------------------------------------

def test_gains_at_a_level_are_its_learned_gains_in_fixed_point(trainer):
    log_gains = trainer.log_gains.numpy()
    for k, lmbda in enumerate(LEVELS):
        expected = [round(math.exp(float(v)) * 2**GAIN_BITS) for v in log_gains[k]]
        assert fixed_point_gains(LEVELS, log_gains, lmbda).tolist() == expected


def test_gains_between_levels_are_geometric_means_in_log_lambda():
    log_gains = np.log(np.array([[0.5, 1.0], [2.0, 4.0]], np.float32))
    assert fixed_point_gains((100, 400), log_gains, 200).tolist() == [2**GAIN_BITS,
                                                                     2 * 2**GAIN_BITS]
    k, t = interpolation((100, 400, 1600), 800)
    assert k == 1 and float(t) == pytest.approx(0.5, abs=1e-30)
    assert interpolation((100, 400, 1600), 1600)[0] == 1  # the top level uses the last pair


def test_gains_do_not_depend_on_the_callers_decimal_context(trainer):
    log_gains = trainer.log_gains.numpy()
    expected = fixed_point_gains(LEVELS, log_gains, 777.0)
    with decimal.localcontext() as context:
        context.prec, context.rounding = 3, decimal.ROUND_FLOOR
        assert (fixed_point_gains(LEVELS, log_gains, 777.0) == expected).all()


@pytest.mark.parametrize("lmbda", [49.9, 10000.5, math.nan, math.inf, True, "300"])
def test_a_lambda_outside_the_levels_is_refused(trainer, lmbda):
    with pytest.raises(ValueError, match="codes at λ from 50 to 10000"):
        fixed_point_gains(LEVELS, trainer.log_gains.numpy(), lmbda)


def test_gains_out_of_range_mean_a_damaged_model():
    with pytest.raises(ValueError, match="damaged"):
        fixed_point_gains((1, 2), np.full((2, 3), 30.0, np.float32), 1.5)


def test_level_scales_are_the_prior_scales_times_the_gain():
    log_scales = np.log(np.array([0.5, 2.0, 0.03], np.float32))
    gains = np.array([2**GAIN_BITS, 3 * 2**GAIN_BITS, 2**GAIN_BITS // 4], np.int64)
    expected = np.exp(log_scales.astype(np.float64)) * gains / 2**GAIN_BITS
    assert np.allclose(level_scales(log_scales, gains), expected, rtol=1e-7)
    assert level_scales(log_scales, gains).dtype == np.float32


# The trainer ---------------------------------------------------------------------------------

def test_validation_codes_digit_i_at_level_i_mod_k(trainer, test_digits):
    outputs = trainer(test_digits[:10], training=False)
    assert outputs["level"].numpy().tolist() == [i % 4 for i in range(10)]
    assert outputs["rate"].shape == (10,) and outputs["distortion"].shape == (10,)
    rates = [outputs["rate"].numpy()[i::4].mean() for i in range(4)]
    assert rates == sorted(rates)  # higher λ, larger gains, more bits


def test_the_loss_is_the_mean_of_rate_plus_each_digits_lambda_times_distortion(trainer,
                                                                                test_digits):
    outputs = trainer(test_digits[:8], training=False)
    loss, rate, distortion = trainer.lagrangian(outputs)
    weights = np.array(LEVELS)[outputs["level"].numpy()]
    by_hand = np.mean(outputs["rate"].numpy() + weights * outputs["distortion"].numpy())
    assert float(loss) == pytest.approx(by_hand, rel=1e-5)
    assert float(rate) == pytest.approx(outputs["rate"].numpy().mean(), rel=1e-6)


def test_training_draws_levels_and_validation_reports_each(tmp_path):
    from helpers import make_idx_folder

    from mnist_compression.training import train_model

    make_idx_folder(tmp_path, train=256, test=64)
    settings = TrainingSettings(levels="100,1000", lmbda=1000, epochs=1, batch_size=32,
                                data_dir=str(tmp_path))
    model, history = train_model(settings, verbose=0)
    assert isinstance(model, VariableRateTrainer) and model.levels == (100.0, 1000.0)
    for key in ("val_rate_at_100", "val_distortion_at_1000", "val_loss", "seconds"):
        assert len(history[key]) == 1 and math.isfinite(history[key][0]), key
    assert "rate_at_100" not in history  # training's levels are random: no per-level metric
    levels = model(np.zeros((4000, 28, 28, 1), np.uint8), training=True)["level"].numpy()
    assert 0.45 < levels.mean() < 0.55


def test_the_prior_at_a_level_is_the_learned_prior_scaled_by_the_gain(trainer):
    gain, inverse = trainer.gains_at(2000)
    assert np.allclose(gain, np.exp(trainer.log_gains.numpy()[2]), rtol=1e-6)
    assert np.allclose(inverse, np.exp(trainer.log_inverse_gains.numpy()[2]), rtol=1e-6)
    assert np.allclose(trainer.prior_at(2000).scale.numpy(),
                       np.exp(trainer.prior_log_scales.numpy()) * gain, rtol=1e-6)


# Model files ---------------------------------------------------------------------------------

def test_a_variable_rate_model_file_round_trips_as_version_3(trainer, tmp_path):
    path = save_model(trainer, tmp_path / "vr.npz")
    record, arrays = read_model_file(path)
    assert record["version"] == 3 and record["levels"] == list(LEVELS)
    assert arrays["gains/log_gains"].shape == (4, 50)
    loaded = load_model(path)
    assert isinstance(loaded, VariableRateTrainer) and loaded.levels == LEVELS
    assert loaded.lmbda == 2000.0
    for name in ("log_gains", "log_inverse_gains", "prior_log_scales"):
        assert (getattr(loaded, name).numpy() == getattr(trainer, name).numpy()).all()
    assert make_codec(loaded).fingerprint == make_codec(trainer).fingerprint


def test_levels_in_a_version_2_record_or_out_of_order_are_refused(trainer, tmp_path):
    from helpers import model_file_contents as _contents
    from test_model_files import _write

    record, arrays = _contents(save_model(trainer, tmp_path / "vr.npz"))
    for changes, message in ((dict(version=2), "unexpected fields \\['levels'\\]"),
                             (dict(levels=[300.0, 50.0, 2000.0, 10000.0]), "ascending")):
        edited = dict(record, **changes)
        with pytest.raises(ModelFileError, match=message):
            read_model_file(_write(tmp_path / "edited.npz", edited, arrays))


# The codec -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lmbda", LEVELS + BETWEEN)
def test_strings_round_trip_at_every_level_and_between(codec, real_or_synthetic, lmbda):
    compressor, decompressor = codec.at(lmbda)
    strings = compressor.compress(real_or_synthetic)
    decoded = decompressor.decompress(strings)
    assert decoded.shape == real_or_synthetic.shape and decoded.dtype == np.uint8
    latents = compressor.transforms.latents(real_or_synthetic)
    assert (decompressor.entropy_model.decode_symbols(strings) == latents).all()
    assert (compressor.transforms.digits(latents) == decoded).all()


def test_more_lambda_more_bits(codec, real_or_synthetic):
    bits = [np.mean([8 * len(s) for s in codec.at(lmbda)[0].compress(real_or_synthetic)])
            for lmbda in sorted(LEVELS + BETWEEN)]
    assert bits == sorted(bits) and bits[-1] > bits[0]


@pytest.mark.parametrize("lmbda", LEVELS + BETWEEN)
def test_each_lambdas_tables_are_the_table_builders_for_the_gain_scaled_prior(trainer, codec,
                                                                             lmbda):
    gains = fixed_point_gains(LEVELS, trainer.log_gains.numpy(), lmbda)
    scales = np.exp(trainer.prior_log_scales.numpy().astype(np.float64)) * gains / 2**GAIN_BITS
    expected = build_tables(np.zeros(50, np.float32), scales.astype(np.float32))
    tables = codec.at(lmbda)[0].entropy_model.tables
    for name in ("cdf", "lengths", "offsets"):
        assert (getattr(tables, name) == getattr(expected, name)).all(), name


def test_latents_are_the_float_models_rounded_scaled_latents(trainer, codec, real_or_synthetic):
    """Fixed point differs from float32 only where a scaled latent lies next to a .5."""
    gain, _ = trainer.gains_at(1000)
    floats = trainer.analysis_transform(tf.cast(real_or_synthetic, tf.float32) / 255).numpy()
    expected = np.round(floats * gain)
    latents = codec.at(1000)[0].transforms.latents(real_or_synthetic)
    assert np.mean(latents == expected) > 0.999
    assert np.abs(latents - expected).max() <= 1


def test_one_fingerprint_for_every_lambda_and_another_for_another_model(trainer, codec):
    assert {codec.at(lmbda)[0].fingerprint for lmbda in LEVELS + BETWEEN} == {codec.fingerprint}
    other = VariableRateTrainer(LEVELS, lmbda=2000)
    other(tf.zeros((1, 28, 28, 1), tf.uint8))
    for name in ("analysis_transform", "synthesis_transform"):
        getattr(other, name).set_weights(getattr(trainer, name).get_weights())
    other.prior_log_scales.assign(trainer.prior_log_scales)
    other.log_gains.assign(trainer.log_gains)
    other.log_inverse_gains.assign(trainer.log_inverse_gains)
    assert make_codec(other).fingerprint == codec.fingerprint
    other.log_inverse_gains.assign(trainer.log_inverse_gains + 1e-3)
    assert make_codec(other).fingerprint != codec.fingerprint
    assert make_codec(trainer, range_coder_precision=14).fingerprint != codec.fingerprint


def test_make_mnist_codec_codes_a_variable_rate_model_at_its_lambda(trainer, small_trainer):
    compressor, decompressor = make_mnist_codec(trainer)
    assert compressor.lmbda == decompressor.lmbda == 2000.0
    assert make_mnist_codec(trainer, lmbda=300)[0].lmbda == 300.0
    assert make_mnist_codec(small_trainer)[0].lmbda is None
    with pytest.raises(ValueError, match="only a variable-rate model takes lmbda"):
        make_mnist_codec(small_trainer, lmbda=300)


# .mnc files ----------------------------------------------------------------------------------

def test_version_2_files_record_the_lambda_and_version_1_files_still_read():
    fingerprint = bytes(range(16))
    old = encode_mnc([b"ab", b"c"], fingerprint)
    new = encode_mnc([b"ab", b"c"], fingerprint, lmbda=777.5)
    assert old[4] == 1 and new[4] == 2 and len(new) == len(old) + 8
    assert decode_mnc(old).lmbda is None and decode_mnc(old).strings == [b"ab", b"c"]
    assert decode_mnc(new).lmbda == 777.5 and decode_mnc(new).strings == [b"ab", b"c"]
    assert new[21] == len(new) - 22 and new[22:30] == struct.pack(">d", 777.5)  # after the size


def test_a_damaged_lambda_field_is_reported(tmp_path):
    import zlib

    data = bytearray(encode_mnc([b"ab"], bytes(16), lmbda=300.0))
    data[22:30] = np.array(np.nan, ">f8").tobytes()
    data[-4:] = zlib.crc32(bytes(data[:-4])).to_bytes(4, "big")
    with pytest.raises(MNCError, match="damaged: its λ field"):
        decode_mnc(bytes(data))
    with pytest.raises(ValueError, match="positive finite"):
        encode_mnc([b"ab"], bytes(16), lmbda=-1.0)


def test_files_carry_the_lambda_and_the_codec_decodes_at_it(codec, real_or_synthetic, tmp_path,
                                                            small_trainer):
    compressor, decompressor = codec.at(777.0)
    written = compress_to_file(compressor, real_or_synthetic, tmp_path / "d.mnc")
    assert written.lmbda == 777.0 and read_mnc(tmp_path / "d.mnc").lmbda == 777.0
    expected = decompressor.decompress(compressor.compress(real_or_synthetic))
    assert (decompress_file(codec, tmp_path / "d.mnc") == expected).all()
    assert (decompress_file(decompressor, tmp_path / "d.mnc") == expected).all()
    with pytest.raises(MNCError, match="coded at λ=777; this decompressor decodes λ=300"):
        decompress_file(codec.at(300)[1], tmp_path / "d.mnc")
    with pytest.raises(MNCError, match="another model"):
        decompress_file(make_mnist_codec(small_trainer)[1], tmp_path / "d.mnc")


def test_the_command_line_codes_a_variable_rate_model_at_a_chosen_lambda(trainer, tmp_path,
                                                                          real_or_synthetic,
                                                                          capsys):
    from mnist_compression.cli.codec import main

    save_model(trainer, tmp_path / "vr.npz")
    np.save(tmp_path / "digits.npy", real_or_synthetic)
    assert main(["compress", "--model", str(tmp_path / "vr.npz"), "--lmbda", "1234",
                 str(tmp_path / "digits.npy"), "-o", str(tmp_path / "d.mnc")]) == 0
    assert "at λ=1234" in capsys.readouterr().out
    assert main(["decompress", "--model", str(tmp_path / "vr.npz"), str(tmp_path / "d.mnc"),
                 "-o", str(tmp_path / "d.npy")]) == 0
    capsys.readouterr()
    expected = make_codec(trainer).at(1234.0)
    assert (np.load(tmp_path / "d.npy") ==
            expected[1].decompress(expected[0].compress(real_or_synthetic))).all()
    assert main(["info", str(tmp_path / "d.mnc")]) == 0
    assert json.loads(capsys.readouterr().out)["lmbda"] == 1234.0
    assert main(["compress", "--model", str(tmp_path / "vr.npz"), "--lmbda", "20000",
                 str(tmp_path / "digits.npy"), "-o", str(tmp_path / "e.mnc")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "codes at λ from 50 to 10000" in error
    assert not (tmp_path / "e.mnc").exists()


@pytest.fixture(scope="module")
def real_or_synthetic():
    """Real test digits when $MNIST_DATA_DIR names them (the codec's latents then spread as in
    use), else synthetic ones."""
    import os

    from helpers import synthetic_digits

    folder = os.environ.get("MNIST_DATA_DIR")
    if folder:
        from mnist_compression.data import load_mnist_arrays

        return load_mnist_arrays("test", folder, limit=64)[0]
    return synthetic_digits(64, seed=11)


def test_the_study_measures_a_variable_rate_model_as_it_measures_separate_ones(codec,
                                                                              real_or_synthetic):
    from mnist_compression.study.sweep import measure_variable_rate
    from mnist_compression.training import TrainingData

    data = TrainingData(real_or_synthetic, real_or_synthetic, np.zeros(64, np.uint8), ())
    history = {"val_rate_at_300": [9.0, 8.5], "val_distortion_at_300": [0.08, 0.07],
               "val_rate": [30.0, 29.0], "val_distortion": [0.05, 0.04]}
    sweep = measure_variable_rate(codec, data, lambdas=(777, 300), history=history,
                                  progress=False, strip_digits=4)
    first, second = sweep.rows
    assert (first["lmbda"], first["val_rate"], first["val_distortion"]) == (300.0, 8.5, 0.07)
    assert second["lmbda"] == 777.0 and math.isnan(second["val_rate"])  # between levels
    strings = codec.at(777)[0].compress(real_or_synthetic)
    assert second["string_bits"] == pytest.approx(np.mean([8 * len(s) for s in strings]))
    assert sweep.reconstructions[777.0].shape == (4, 28, 28, 1)
    assert [r["lmbda"] for r in measure_variable_rate(codec, data, progress=False).rows] == list(
        LEVELS)


def test_the_gains_figure_draws_one_line_per_latent_and_the_median(trainer):
    from mnist_compression.plotting import plot_gains

    figure = plot_gains(trainer)
    left, right = figure.axes
    assert len(left.get_lines()) == 50 + 1 and len(right.get_lines()) == 50 + 1
    median = left.get_lines()[-1]
    assert list(median.get_xdata()) == list(LEVELS)
    assert np.allclose(median.get_ydata(), np.median(np.exp(trainer.log_gains.numpy()), axis=1))


def test_the_variable_rate_figure_draws_both_curves():
    from mnist_compression.plotting import plot_variable_rate

    fixed = [dict(lmbda=lm, string_bits=b, psnr=p) for lm, b, p in ((300, 11, 13.5),
                                                                   (2000, 43, 18.9))]
    variable = [dict(r, string_bits=r["string_bits"] * 1.1) for r in fixed]
    between = [dict(lmbda=700, string_bits=20, psnr=16.0)]
    axis = plot_variable_rate(fixed, variable, between).axes[0]
    lines = axis.get_lines()
    assert [list(line.get_xdata()) for line in lines] == [[11, 43], [11 * 1.1, 43 * 1.1], [20]]
    assert [t.get_text() for t in axis.texts] == ["λ=300", "λ=2000"]


def test_levels_and_their_sampling_come_from_the_command_line_and_shape_the_key():
    import argparse

    from mnist_compression.storage.cache import model_key

    parser = argparse.ArgumentParser()
    add_settings_options(parser)
    settings = settings_from_options(parser.parse_args(
        ["--recipe", "variable-rate", "--levels", "300,2000", "--lmbda", "500",
         "--level-sampling", "0.5"]))
    assert (settings.levels, settings.lmbda, settings.level_sampling) == ((300.0, 2000.0), 500.0,
                                                                          0.5)
    assert settings.epochs == 30 and identity(settings)["level_sampling"] == 0.5
    assert "level_sampling" not in identity(settings.replace(level_sampling=0.0))
    key = model_key(settings, "data")
    assert key.startswith("levels2-300-2000-epochs30-")
    assert model_key(settings.replace(lmbda=2000), "data") == key  # the codec's default only
    assert model_key(settings.replace(level_sampling=0.0), "data") != key
    with pytest.raises(ValueError, match="level_sampling must be a finite number >= 0"):
        settings.replace(level_sampling=-1.0)


def test_the_grid_figure_draws_multiples_of_one_over_the_gain_per_level(trainer):
    from mnist_compression.plotting import plot_quantization_grids

    axis = plot_quantization_grids(trainer, latent=7, span=3.0).axes[0]
    gains = np.exp(trainer.log_gains.numpy()[:, 7].astype(np.float64))
    half = 3.0 * np.exp(float(trainer.prior_log_scales.numpy()[7]))
    for row, (line, gain) in enumerate(zip(axis.get_lines(), gains, strict=True)):
        points = line.get_xdata()
        assert np.allclose(np.diff(points), 1 / gain) and (np.abs(points) <= half + 1e-9).all()
        assert 0.0 in points and set(line.get_ydata()) == {row}
    assert [t.get_text() for t in axis.get_yticklabels()] == [f"λ={lm:g}" for lm in LEVELS]
    default = plot_quantization_grids(trainer).axes[0]  # the widest scaled prior at the top
    widest = int(np.argmax(np.exp(trainer.log_gains.numpy()[-1] + trainer.prior_log_scales
                                  .numpy())))
    assert default.get_xlabel().startswith(f"latent {widest} ")


# What a hostile tester found, each now a one-line error -----------------------------------

@pytest.mark.parametrize("levels", [(50, 50), (0, 50), (-50, 50), (50, math.inf),
                                    (math.nan, 50), (50, 300, 300, 2000), (2000, 2000.0001),
                                    (50,), ("a", 50)])
def test_bad_levels_are_refused_when_the_trainer_is_made(levels):
    with pytest.raises(ValueError, match="at least two different positive finite λ"):
        VariableRateTrainer(levels)


@pytest.mark.parametrize("log_gain", [1e7, 3e38, -1e7, math.nan])
def test_absurd_log_gains_are_a_damaged_model_not_a_decimal_overflow(log_gain):
    with pytest.raises(ValueError, match="damaged or was not trained"):
        fixed_point_gains((1, 2), np.full((2, 3), log_gain, np.float32), 1.5)


def test_absurd_log_scales_are_a_damaged_model():
    with pytest.raises(ValueError, match="prior scales .* damaged"):
        level_scales(np.array([1e7], np.float32), np.array([2**GAIN_BITS]))


def test_the_codec_checks_lambda_before_its_memory_of_earlier_ones(codec):
    from decimal import Decimal
    from fractions import Fraction

    codec.at(2000.0)
    for odd in (2000 + 0j, np.array(2000.0), 10**400, True, "2000"):
        with pytest.raises(ValueError, match="codes at λ from 50 to 10000") as caught:
            codec.at(odd)
        assert len(str(caught.value)) < 150  # 10**400 is not printed whole
    for exact in (Decimal("2000"), Fraction(2000), np.float32(2000), 2000):  # real numbers
        assert codec.at(exact)[0] is codec.at(2000.0)[0] and codec.at(exact)[0].lmbda == 2000.0


def _rewritten(path, lmbda=None, fingerprint=None):
    contents = read_mnc(path)
    path.write_bytes(encode_mnc(contents.strings, fingerprint or contents.fingerprint, lmbda))
    return path


def test_files_whose_lambda_does_not_fit_the_model_are_damaged(codec, tmp_path,
                                                               real_or_synthetic, small_trainer):
    compressor, _ = codec.at(777.0)
    compress_to_file(compressor, real_or_synthetic[:4], tmp_path / "d.mnc")
    for lmbda, message in ((None, "fingerprint but no λ"), (20000.0, "cannot code at.*damaged"),
                           (np.nextafter(777.0, 800.0), "λ=777.0000000000001; this "
                                                        "decompressor decodes λ=777.0")):
        path = _rewritten(tmp_path / "d.mnc", lmbda)
        decoder = codec if lmbda != np.nextafter(777.0, 800.0) else codec.at(777.0)[1]
        with pytest.raises(MNCError, match=message):
            decompress_file(decoder, path)
    fixed = make_mnist_codec(small_trainer)[1]
    path = _rewritten(tmp_path / "d.mnc", 300.0, fixed.fingerprint)
    with pytest.raises(MNCError, match="records a λ.*fixed-rate model's fingerprint"):
        decompress_file(fixed, path)


@pytest.mark.parametrize("lmbda", [True, "777", 10**400, 0, -1.0, math.nan, math.inf])
def test_an_mnc_lambda_must_be_a_positive_finite_number(lmbda):
    with pytest.raises(ValueError, match="positive finite number"):
        encode_mnc([b"ab"], bytes(16), lmbda)
    assert decode_mnc(encode_mnc([b"ab"], bytes(16), np.float32(2.5))).lmbda == 2.5


def test_gain_arrays_without_levels_are_damage_and_level_sampling_is_kept(trainer, tmp_path):
    from helpers import model_file_contents as _contents
    from test_model_files import _write

    settings = TrainingSettings(levels="50,300,2000,10000", level_sampling=0.5)
    record, arrays = _contents(save_model(trainer, tmp_path / "vr.npz", settings=settings))
    assert load_model(tmp_path / "vr.npz").level_sampling == 0.5
    del record["levels"]
    with pytest.raises(ModelFileError, match="gain arrays but no levels"):
        load_model(_write(tmp_path / "edited.npz", record, arrays))


def test_bd_rates_of_rows_refuse_empty_and_non_finite_rows_wherever_they_are():
    from mnist_compression.study.curves import rows_bd_rate

    rows = [dict(lmbda=lm, string_bits=b, psnr=p, mae=m) for lm, b, p, m in
            ((300, 11.0, 13.5, 0.076), (500, 17.0, 15.1, 0.06), (2000, 43.0, 18.9, 0.036))]
    with pytest.raises(ValueError, match="at least two"):
        rows_bd_rate(rows, [])
    for index in range(3):
        for key in ("string_bits", "psnr", "mae"):
            broken = [dict(r) for r in rows]
            broken[index][key] = math.nan
            quality = "mae" if key == "mae" else "psnr"
            with pytest.raises(ValueError, match="not a finite number"):
                rows_bd_rate(rows, broken, quality)


def test_a_file_whose_lambda_was_edited_decodes_or_names_the_file(codec, real_or_synthetic,
                                                                 tmp_path):
    """A CRC is no authenticator: a λ edited (with the CRC recomputed) within the levels is a
    valid file; decoding it at that λ either works (other digits) or fails naming the file."""
    compress_to_file(codec.at(777.0)[0], real_or_synthetic[:8], tmp_path / "d.mnc")
    for lmbda in (50.0, 10000.0):
        path = _rewritten(tmp_path / "d.mnc", lmbda)
        try:
            decoded = decompress_file(codec, path)
        except MNCError as err:
            assert str(err).startswith(str(path)) and "Sanity check failed" in str(err)
        else:
            assert decoded.shape == (8, 28, 28, 1)
