"""The scale hyperprior (notebook 09): its scale grid, trainer, coder, codec and files.

tensorflow-compression's indexed entropy model checks the strings on the 3.11 stack
(tests/test_tfc_reference.py); tests/test_cross_stack.py moves a hyperprior model and its
.mnc file between the stacks.
"""

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.cli.main import main
from mnist_compression.codec.codecs import (
    HyperpriorCodec,
    compress_to_file,
    decompress_file,
    load_codec,
)
from mnist_compression.codec.entropy_coder import noisy_logistic_log2_mass
from mnist_compression.codec.mnc import MNCError, encode_mnc, read_mnc
from mnist_compression.codec.scale_grid import (
    SCALE_COUNT,
    SCALE_MAX,
    SCALE_MIN,
    log_scale_step,
    round_indexes,
    scale_grid,
)
from mnist_compression.coding.tables import build_tables
from mnist_compression.lambdas import HYPERPRIOR
from mnist_compression.model.files import load_model, make_codec, save_model
from mnist_compression.model.hyperprior import HyperpriorTrainer, _bounded_index, scale_at
from mnist_compression.settings import TrainingSettings
from mnist_compression.storage.cache import model_key
from mnist_compression.storage.model_files import ModelFileError, read_model_file

SIDE = 8


# --- the scale grid -------------------------------------------------------------------------

def test_the_grid_is_geometric_from_its_smallest_to_its_largest_scale():
    grid = scale_grid()
    assert grid.dtype == np.float32 and len(grid) == SCALE_COUNT == 64
    assert grid[0] == np.float32(SCALE_MIN) and grid[-1] == np.float32(SCALE_MAX)
    ratios = grid[1:].astype(np.float64) / grid[:-1]
    np.testing.assert_allclose(ratios, math.exp(log_scale_step()), rtol=1e-6)
    assert 0.11 < math.exp(log_scale_step()) - 1 < 0.12  # "steps of 11 %"


def test_a_narrower_scale_than_the_grids_would_buy_nothing():
    """At the smallest scale a zero costs about 10**-5 bits under the density, less than the
    12-bit table can code it with: its zero bin cannot hold more than all but a few counts."""
    density_bits = -noisy_logistic_log2_mass(0, 0.0, SCALE_MIN)
    tables = build_tables(np.zeros(1, np.float32), np.float32([SCALE_MIN]))
    zero_bin = -tables.offsets[0]
    table_bits = tables.code_bits(np.zeros((1, 1), np.int64))[0, 0]
    assert 0.5e-5 < density_bits < 2e-5
    assert table_bits > 20 * density_bits and tables.lengths[0] >= 3 and zero_bin >= 1


def test_half_a_grid_step_costs_under_a_hundredth_of_a_bit_per_latent():
    """Latents spread with any scale of the grid, coded with the table of a scale half a step
    wider or narrower: the KL, in bits, over the integers."""
    k = np.arange(-4000, 4001)[:, None]
    half = math.exp(log_scale_step() / 2)
    worst = 0.0
    for scale in np.geomspace(SCALE_MIN, SCALE_MAX / half, 40):
        p = 2.0 ** noisy_logistic_log2_mass(k, 0.0, scale)
        for other in (scale * half, scale / half):
            q = noisy_logistic_log2_mass(k, 0.0, other)
            kl = np.sum(np.where(p > 0, p * (np.log2(np.maximum(p, 1e-300)) - q), 0.0))
            worst = max(worst, kl)
    assert 1e-4 < worst < 0.01


def test_indexes_round_half_to_even_and_stay_on_the_grid():
    bits = 16
    values = np.array([-3.0, -0.5, 0.49, 0.5, 1.5, 2.5, 62.5, 63.4, 100.0])
    fixed = np.rint(values * 2**bits).astype(np.int64)
    np.testing.assert_array_equal(round_indexes(fixed, bits), [0, 0, 0, 0, 2, 2, 62, 63, 63])


def test_the_training_scale_is_the_grid_at_integer_indexes():
    index = tf.range(SCALE_COUNT, dtype=tf.float32)
    np.testing.assert_allclose(scale_at(index).numpy(), scale_grid(), rtol=2e-6)
    np.testing.assert_allclose(scale_at(tf.constant([-5.0, 70.0])).numpy(),
                               [SCALE_MIN, SCALE_MAX], rtol=2e-6)


def test_an_index_off_the_grid_gets_gradients_only_back_towards_it():
    index = tf.constant([-2.0, -2.0, 10.0, 70.0, 70.0])
    upstream = tf.constant([1.0, -1.0, 1.0, 1.0, -1.0])
    with tf.GradientTape() as tape:
        tape.watch(index)
        bounded = _bounded_index(index)
        loss = tf.reduce_sum(bounded * upstream)
    np.testing.assert_array_equal(bounded.numpy(), [0, 0, 10, 63, 63])
    # Descent moves an index by -gradient: only gradients that bring it back pass.
    np.testing.assert_array_equal(tape.gradient(loss, index).numpy(), [0, -1, 1, 1, 0])


# --- the trainer ----------------------------------------------------------------------------

def test_the_trainer_adds_the_side_bits_to_the_rate(small_hyperprior, test_digits):
    outputs = small_hyperprior(test_digits, training=False)
    rate, side = outputs["rate"].numpy(), outputs["side_rate"].numpy()
    assert rate.shape == side.shape == (len(test_digits),)
    assert (side > 0).all() and (rate > side).all()
    assert small_hyperprior.prior_log_scales.shape == (SIDE,)
    noisy = small_hyperprior(test_digits, training=True)
    assert np.isfinite(noisy["rate"].numpy()).all()


def test_validation_rates_are_the_codecs_information_content(small_hyperprior, test_digits):
    """Rounded latents, rounded indexes, grid scales: what the trainer reports when not
    training is what the codec's tables are built from. The float32 transforms and the exact
    ones may round a latent or an index apart now and then (here, in one digit of 64)."""
    compressor, _ = make_codec(small_hyperprior).at()
    bits = compressor.information_bits(test_digits)
    rate = small_hyperprior(test_digits, training=False)["rate"].numpy()
    same = np.isclose(rate, bits, rtol=1e-5)
    assert same.mean() > 0.95
    np.testing.assert_allclose(rate, bits, rtol=0.02)


def test_a_hyperprior_rate_by_hand(small_hyperprior, test_digits):
    """-log2 P(z) under the side prior plus -log2 P(y | z) under the grid scales the
    hyper-synthesis picks, summed latent by latent."""
    compressor, _ = make_codec(small_hyperprior).at()
    coder = compressor.entropy_model
    symbols = compressor.transforms.latents(test_digits)
    z, y = symbols[:, :SIDE], symbols[:, SIDE:]
    side_scales = np.exp(small_hyperprior.prior_log_scales.numpy().astype(np.float64))
    indexes = coder.scale_indexes(z)
    expected_side = sum(-noisy_logistic_log2_mass(z[:, i], 0.0, side_scales[i])
                        for i in range(SIDE))
    expected_latent = sum(-noisy_logistic_log2_mass(y[:, c], 0.0, scale_grid()[indexes[:, c]])
                          for c in range(50))
    side_bits, latent_bits = coder.information_bits(symbols, split=True)
    np.testing.assert_allclose(side_bits, expected_side, rtol=1e-6)
    np.testing.assert_allclose(latent_bits, expected_latent, rtol=1e-9)


def test_hyperprior_settings_are_their_own_kind():
    settings = TrainingSettings(hyper_latent_dims=8)
    assert settings.kind == HYPERPRIOR
    assert settings.describe() == "λ=2000 with a hyperprior (8 side latents)"
    assert model_key(settings, "f").startswith("hyper8-lmbda2000-epochs15-")
    assert model_key(settings, "f") != model_key(settings.replace(hyper_latent_dims=4), "f")
    with pytest.raises(ValueError, match="variable-rate model .* has no hyperprior"):
        TrainingSettings(hyper_latent_dims=8, levels="50,100", lmbda=100)
    with pytest.raises(ValueError, match="cannot warm-start"):
        TrainingSettings(hyper_latent_dims=8, warm_start=2000)
    with pytest.raises(ValueError, match="hyper_latent_dims"):
        TrainingSettings(hyper_latent_dims=0)


# --- the codec ------------------------------------------------------------------------------

def test_strings_decode_to_the_digits_of_their_symbols(small_hyperprior, test_digits):
    codec = make_codec(small_hyperprior)
    assert isinstance(codec, HyperpriorCodec) and codec.kind == HYPERPRIOR
    compressor, decompressor = codec.at()
    symbols = compressor.transforms.latents(test_digits)
    strings = compressor.compress(test_digits)
    np.testing.assert_array_equal(decompressor.entropy_model.decode_symbols(strings), symbols)
    np.testing.assert_array_equal(decompressor.decompress(strings),
                                  compressor.transforms.digits(symbols))
    assert compressor.compress(test_digits[:0]) == []
    assert decompressor.decompress([]).shape == (0, 28, 28, 1)


def test_one_string_is_about_the_tables_bits_of_side_and_latents(small_hyperprior, test_digits):
    """z and y in one string: its length is their table bits within one string's end (1-2
    bytes), not two strings' ends and a length field."""
    compressor, _ = make_codec(small_hyperprior).at()
    coder = compressor.entropy_model
    symbols = compressor.transforms.latents(test_digits)
    table_bits = coder.tables.code_bits(symbols, coder.table_indexes(symbols[:, :SIDE]))
    lengths = 8 * np.array([len(s) for s in compressor.compress(test_digits)])
    extra = lengths - table_bits.sum(axis=1)
    assert extra.min() > -8 and extra.max() < 16, (extra.min(), extra.max())
    assert (symbols[:, SIDE:] != 0).any() and (np.abs(symbols[:, :SIDE]) > 3).any()


def test_the_side_latents_choose_every_table_of_the_grid(small_hyperprior, test_digits):
    compressor, _ = make_codec(small_hyperprior).at()
    symbols = compressor.transforms.latents(test_digits)
    indexes = compressor.entropy_model.scale_indexes(symbols[:, :SIDE])
    assert set(np.unique(indexes)) == set(range(SCALE_COUNT))


def test_hostile_strings_decode_or_fail_the_check_but_never_crash(small_hyperprior):
    rng = np.random.default_rng(5)
    codec = make_codec(small_hyperprior, decode_sanity_check=False)
    _, decompressor = codec.at()
    strings = [rng.bytes(int(n)) for n in rng.integers(0, 60, 300)]
    strings += [b"\x00" * 40, b"\xff" * 40, b""]
    digits = decompressor.decompress(strings)
    assert digits.shape == (len(strings), 28, 28, 1) and digits.dtype == np.uint8
    _, checking = make_codec(small_hyperprior).at()
    with pytest.raises(ValueError, match="Sanity check failed for .* strings"):
        checking.decompress(strings)


def test_symbols_the_coder_cannot_write_get_one_line_errors(small_hyperprior):
    compressor, _ = make_codec(small_hyperprior).at()
    coder = compressor.entropy_model
    with pytest.raises(ValueError, match=r"shaped \[N, 58\] \(8 side latents, then 50"):
        coder.encode_symbols(np.zeros((2, 50), np.int64))
    too_far = np.zeros((1, 58), np.int64)
    too_far[0, 20] = 2**40
    with pytest.raises(ValueError, match="more than 2\\*\\*30 beyond"):
        coder.encode_symbols(too_far)


# --- files ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hyperprior_file(small_hyperprior, tmp_path_factory):
    return save_model(small_hyperprior, tmp_path_factory.mktemp("hyper") / "hyper.npz")


def test_model_files_record_the_side_latents_and_load_on_any_stack(
        hyperprior_file, small_hyperprior, test_digits):
    record, arrays = read_model_file(hyperprior_file)
    assert record["version"] == 4 and record["hyper_latent_dims"] == SIDE
    assert {"hyper_analysis", "hyper_synthesis"} <= set(record["architecture"])
    assert arrays["prior/log_scales"].shape == (SIDE,)
    assert arrays["hyper_synthesis/fc_2/kernel"].shape == (64, 50)
    loaded = load_model(hyperprior_file)
    assert isinstance(loaded, HyperpriorTrainer) and loaded.hyper_latent_dims == SIDE
    np.testing.assert_array_equal(loaded(test_digits)["rate"].numpy(),
                                  small_hyperprior(test_digits)["rate"].numpy())
    assert load_codec(hyperprior_file).fingerprint == make_codec(small_hyperprior).fingerprint


def _rewritten(path, target, change):
    """A copy of a model file with its record and arrays changed and its checksum made anew."""
    from mnist_compression.storage.array_files import write_array_file

    record, arrays = read_model_file(path)
    change(record, arrays)
    record["arrays"] = {name: list(array.shape) for name, array in arrays.items()}
    record.pop("sha256")
    write_array_file(target, arrays, record, overwrite=True)
    return target


@pytest.mark.parametrize("change, message", [
    (lambda r, a: a.update({"prior/log_scales": a["prior/log_scales"][:7]}),
     r"array prior/log_scales is \[7\], the model needs \[8\]"),
    (lambda r, a: a.update({"hyper_synthesis/fc_2/kernel": a["hyper_synthesis/fc_2/kernel"][:, :40],
                            "hyper_synthesis/fc_2/bias": a["hyper_synthesis/fc_2/bias"][:40]}),
     r"array hyper_synthesis/fc_2/kernel is \[64, 40\], the model needs \[64, 50\]"),
    (lambda r, a: a.update({"hyper_synthesis/fc_3/kernel": np.zeros((2, 2), np.float32)}),
     r"unexpected arrays \['hyper_synthesis/fc_3/kernel'\]"),
    (lambda r, a: (r.pop("hyper_latent_dims"), r.update(version=2,
                   architecture={k: v for k, v in r["architecture"].items()
                                 if not k.startswith("hyper")})),
     r"unexpected arrays \['hyper_analysis/fc_1/bias'"),
])
def test_arrays_that_do_not_fit_a_hyperprior_are_refused_when_read(hyperprior_file, tmp_path,
                                                                   change, message):
    damaged = _rewritten(hyperprior_file, tmp_path / "damaged.npz", change)
    with pytest.raises(ModelFileError, match=message):
        load_codec(damaged)
    assert main(["codec", "info", str(damaged)]) == 2


def test_mnc_files_of_a_hyperprior_are_version_3(hyperprior_file, test_digits, tmp_path):
    codec = load_codec(hyperprior_file)
    written = compress_to_file(codec.at()[0], test_digits, tmp_path / "d.mnc")
    contents = read_mnc(tmp_path / "d.mnc")
    assert (tmp_path / "d.mnc").read_bytes()[4] == 3
    assert contents.kind == written.kind == HYPERPRIOR and contents.lmbda is None
    np.testing.assert_array_equal(decompress_file(codec, tmp_path / "d.mnc"),
                                  codec.at()[1].decompress(contents.strings))
    # The same strings in a version 1 file: the fingerprint is this model's, the kind is not.
    (tmp_path / "v1.mnc").write_bytes(encode_mnc(contents.strings, codec.fingerprint))
    with pytest.raises(MNCError, match="says a fixed-rate model made it, but carries the "
                                       "fingerprint of this hyperprior model"):
        decompress_file(codec, tmp_path / "v1.mnc")


def test_the_command_line_codes_with_a_hyperprior_model(hyperprior_file, test_digits,
                                                        tmp_path, capsys):
    np.save(tmp_path / "digits.npy", test_digits)
    assert main(["codec", "compress", "--model", str(hyperprior_file),
                 str(tmp_path / "digits.npy"), "-o", str(tmp_path / "d.mnc")]) == 0
    assert main(["codec", "decompress", "--model", str(hyperprior_file),
                 str(tmp_path / "d.mnc"), "-o", str(tmp_path / "out.npy")]) == 0
    codec = load_codec(hyperprior_file)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"),
                                  codec.at()[1].decompress(codec.at()[0].compress(test_digits)))
    capsys.readouterr()
    assert main(["codec", "info", str(tmp_path / "d.mnc")]) == 0
    assert json.loads(capsys.readouterr().out)["model_kind"] == HYPERPRIOR
    assert main(["codec", "info", str(hyperprior_file)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model_kind"] == HYPERPRIOR and info["hyper_latent_dims"] == SIDE
    assert main(["codec", "compress", "--model", str(hyperprior_file), "--lmbda", "300",
                 str(tmp_path / "digits.npy"), "-o", str(tmp_path / "e.mnc")]) == 2
    assert "--lmbda is for variable-rate models" in capsys.readouterr().err


def test_training_starts_with_the_factorized_priors_first_scale():
    trainer = HyperpriorTrainer(latent_dims=10, hyper_latent_dims=2)
    index = trainer.scale_indexes(tf.zeros((1, 2)), training=True)
    np.testing.assert_allclose(scale_at(index).numpy(), 1.0, rtol=1e-5)


# --- measurements and the figure (notebook 09) ----------------------------------------------

def test_the_class_as_side_information_by_hand(small_trainer, test_digits):
    from mnist_compression.study.side_information import class_as_side_information, fit_scales

    compressor, _ = make_codec(small_trainer).at()
    digits, labels = test_digits[:60], np.arange(60) % 10
    result = class_as_side_information(compressor, digits, labels, digits, labels)
    latents = compressor.transforms.latents(digits)
    assert result["class_bits"] == pytest.approx(math.log2(10))
    assert result["shared"] == pytest.approx(compressor.information_bits(digits).mean())
    # Fitted to the digits they are measured on, per-class priors never cost more than one.
    assert result["per_class"] <= result["refitted"] + 1e-9
    by_hand = np.mean([-noisy_logistic_log2_mass(latents[labels == k], 0.0, fit_scales(
        latents[labels == k])).sum() for k in range(10)]) * 10 / 60
    assert result["per_class"] == pytest.approx(by_hand)
    assert result["strings_shared"] == pytest.approx(
        8 * np.mean([len(s) for s in compressor.compress(digits)]))
    assert result["strings_per_class"] > result["per_class"] - 8
    with pytest.raises(ValueError, match="labels of all 10 classes"):
        class_as_side_information(compressor, digits, labels % 5, digits, labels)


def test_a_fitted_scale_maximises_the_likelihood_among_its_candidates():
    from mnist_compression.study.side_information import CANDIDATE_SCALES, fit_scales

    rng = np.random.default_rng(3)
    symbols = np.round(rng.logistic(size=(20000, 2)) * [0.5, 4.0]).astype(np.int64)
    fitted = fit_scales(symbols)
    assert set(fitted) <= set(CANDIDATE_SCALES)
    np.testing.assert_allclose(fitted, [0.5, 4.0], rtol=0.06)
    for column, scale in zip(symbols.T, fitted):
        best = noisy_logistic_log2_mass(column, 0.0, scale).sum()
        for other in (scale * 1.06, scale / 1.06):
            assert noisy_logistic_log2_mass(column, 0.0, other).sum() <= best


def test_side_bits_scales_and_index_counts_of_a_hyperprior(small_hyperprior, small_trainer,
                                                           test_digits):
    from mnist_compression.study.side_information import (
        predicted_scales,
        scale_index_counts,
        side_bits,
    )

    compressor, _ = make_codec(small_hyperprior).at()
    bits = side_bits(compressor, test_digits)
    np.testing.assert_allclose(bits.sum(axis=1), compressor.information_bits(test_digits))
    counts = scale_index_counts(compressor, test_digits)
    assert counts.shape == (SCALE_COUNT,) and counts.sum() == 50 * len(test_digits)
    scales = predicted_scales(compressor, test_digits)
    assert scales.shape == (len(test_digits), 50) and set(np.unique(scales)) <= set(scale_grid())
    np.testing.assert_array_equal(np.bincount(np.searchsorted(scale_grid(), scales.ravel()),
                                              minlength=SCALE_COUNT), counts)
    factorized, _ = make_codec(small_trainer).at()
    with pytest.raises(ValueError, match="compressor of a hyperprior model"):
        side_bits(factorized, test_digits)


def test_sweep_rows_of_a_hyperprior_count_its_side_bits(small_hyperprior, test_digits):
    from mnist_compression.study.evaluation import evaluate_codec
    from mnist_compression.study.side_information import side_bits

    compressor, decompressor = make_codec(small_hyperprior).at()
    row = evaluate_codec(compressor, decompressor, test_digits)
    assert row["side_bits"] == pytest.approx(side_bits(compressor, test_digits)[:, 0].mean())
    assert row["side_bits"] < row["information_bits"]


def test_the_scales_figure_draws_each_digit_and_its_scales(small_hyperprior, test_digits):
    from mnist_compression.plotting import plot_latent_scales
    from mnist_compression.study.side_information import predicted_scales

    compressor, _ = make_codec(small_hyperprior).at()
    scales = predicted_scales(compressor, test_digits[:4])
    fig = plot_latent_scales(test_digits[:4], scales, scale_grid())
    *digit_axes, lines = fig.axes
    assert len(digit_axes) == 4 and len(lines.lines) == 4 + 2
    order = np.argsort(np.median(scales, axis=0))[::-1]
    np.testing.assert_allclose(lines.lines[0].get_ydata(), scales[0][order])


def test_an_mnc_file_says_one_kind_and_a_lambda_only_for_variable_rate_models():
    fingerprint = bytes(16)
    assert encode_mnc([b"ab"], fingerprint, kind=HYPERPRIOR)[4] == 3
    for lmbda, kind in ((None, "bogus"), (None, "variable-rate"), (2000.0, HYPERPRIOR),
                        (2000.0, "fixed-rate")):
        with pytest.raises(ValueError, match="without a λ, or a variable-rate model's with one"):
            encode_mnc([b"ab"], fingerprint, lmbda, kind)


def test_info_does_not_call_a_file_of_another_kind_this_models(hyperprior_file, test_digits,
                                                                tmp_path, capsys):
    codec = load_codec(hyperprior_file)
    strings = codec.at()[0].compress(test_digits[:3])
    (tmp_path / "v1.mnc").write_bytes(encode_mnc(strings, codec.fingerprint))
    (tmp_path / "v3.mnc").write_bytes(encode_mnc(strings, codec.fingerprint, kind=HYPERPRIOR))
    for name, made in (("v1.mnc", False), ("v3.mnc", True)):
        assert main(["codec", "info", str(tmp_path / name), "--model", str(hyperprior_file)]) == 0
        assert json.loads(capsys.readouterr().out)["made_by_this_model"] is made


def test_weights_far_beyond_any_trained_models_are_refused(hyperprior_file, tmp_path):
    huge = _rewritten(hyperprior_file, tmp_path / "huge.npz", lambda r, a: a.update({
        "hyper_analysis/fc_2/kernel": a["hyper_analysis/fc_2/kernel"] * 1e30}))
    with pytest.raises(ValueError, match="weights reach .* this model cannot be coded"):
        load_codec(huge)
