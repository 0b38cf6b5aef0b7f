"""This package's coder and rates against tensorflow-compression, the reference they reproduce.

tensorflow-compression installs only on the Python 3.11 stack, where it is a test dependency and
nothing else; elsewhere this module is skipped (tests/test_coding_fixture.py carries its tables
and strings to every stack).
"""

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.coding.range_coder import CodingTables, decode, encode
from mnist_compression.coding.tables import build_tables, quantization_offsets
from mnist_compression.model.entropy_models import ContinuousBatchedEntropyModel, NoisyLogistic

tfc = pytest.importorskip("tensorflow_compression")
gen_ops = pytest.importorskip("tensorflow_compression.python.ops.gen_ops")


def _random_prior_parameters(rng, channels):
    scale = np.exp(rng.uniform(-5, 4, channels)).astype(np.float32)
    loc = (rng.normal(size=channels) * rng.choice([0, 0, 1, 10], channels)).astype(np.float32)
    return loc, scale


def _tfc_model(loc, scale, **options):
    return tfc.ContinuousBatchedEntropyModel(tfc.NoisyLogistic(loc=loc, scale=scale),
                                             coding_rank=1, compression=True, **options)


def _latents(rng, loc, scale, rows):
    spread = rng.choice([0.5, 1, 3, 50], (rows, len(scale)), p=[0.3, 0.4, 0.25, 0.05])
    y = rng.normal(size=(rows, len(scale))) * scale * spread + loc
    y[:3] = loc + np.sign(rng.normal(size=(3, len(scale)))) * 1e5  # far outside every table
    return y.astype(np.float32)


@pytest.mark.parametrize("seed", range(12))
def test_identical_tables_and_strings_both_ways(seed):
    rng = np.random.default_rng(seed)
    loc, scale = _random_prior_parameters(rng, 120)
    options = dict(tail_mass=float(rng.choice([2**-8, 2**-4, 1e-3])),
                   range_coder_precision=int(rng.choice([12, 14, 16])))
    real = _tfc_model(loc, scale, **options)
    tables = build_tables(loc, scale, options["tail_mass"], options["range_coder_precision"],
                          quantization_offsets(loc))
    np.testing.assert_array_equal(tables.to_flat(), real.cdf.numpy())
    np.testing.assert_array_equal(tables.offsets, real.cdf_offset.numpy())
    y = _latents(rng, loc, scale, 400)
    symbols = real.quantize(y).numpy() - real.quantization_offset.numpy()
    ours = encode(np.round(symbols).astype(np.int64), tables)
    assert real.compress(y).numpy().tolist() == ours
    decoded, sane = decode(ours, tables)
    assert sane.all()
    np.testing.assert_array_equal(decoded.astype(np.float32) + real.quantization_offset.numpy(),
                                  real.decompress(ours, ()).numpy())


@pytest.mark.parametrize("seed", range(4))
def test_identical_rates_and_gradients(seed):
    rng = np.random.default_rng(100 + seed)
    loc, scale = _random_prior_parameters(rng, 50)
    y = tf.constant(_latents(rng, loc, scale, 64)[3:])
    results = []
    for prior_class, model_class in ((tfc.NoisyLogistic, tfc.ContinuousBatchedEntropyModel),
                                     (NoisyLogistic, ContinuousBatchedEntropyModel)):
        log_scale = tf.Variable(np.log(scale))
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(y)
            prior = prior_class(loc=loc, scale=tf.exp(log_scale))
            model = model_class(prior, coding_rank=1)
            _, quantized_bits = model(y, training=False)
            noisy_bits = -tf.reduce_sum(prior.log_prob(y), -1) / np.log(2.0)
            total = tf.reduce_sum(quantized_bits) + tf.reduce_sum(noisy_bits)
        results.append((quantized_bits.numpy(), noisy_bits.numpy(),
                        tape.gradient(total, log_scale).numpy(), tape.gradient(total, y).numpy()))
    for real, ours in zip(*results):
        assert np.all(np.isfinite(ours))
        np.testing.assert_array_equal(ours, real)


def test_identical_decoding_of_random_and_damaged_strings():
    rng = np.random.default_rng(7)
    loc, scale = _random_prior_parameters(rng, 50)
    real = _tfc_model(loc, scale, decode_sanity_check=False)
    tables = CodingTables.from_flat(real.cdf.numpy(), real.cdf_offset.numpy())
    good = list(real.compress(_latents(rng, loc, scale, 500)).numpy())
    strings = [rng.bytes(int(rng.integers(0, 24))) for _ in range(3000)]
    strings += [s[:-1] for s in good] + [s + b"\x00" for s in good] + [s + b"\x07" for s in good]
    strings += [s[: len(s) // 2] for s in good] + good
    symbols, sane, overruns = decode(strings, tables, return_overruns=True)
    # Strings whose escape code never ends make TFC hang, so it cannot be asked about them.
    kept = np.flatnonzero(~overruns)
    assert len(kept) > 0.95 * len(strings)
    handle = gen_ops.create_range_decoder(tf.constant([strings[i] for i in kept]), real.cdf)
    handle, real_symbols = gen_ops.entropy_decode_channel(handle, tf.constant([50]), tf.int32)
    real_sane = gen_ops.entropy_decode_finalize(handle).numpy()
    np.testing.assert_array_equal(symbols[kept] - tables.offsets.astype(np.int32),
                                  real_symbols.numpy())
    np.testing.assert_array_equal(sane[kept], real_sane)
    assert 0.05 < real_sane.mean() < 0.95  # both verdicts occur, so the comparison means something


def test_a_trained_style_prior_codes_identically():
    """The tutorial's own situation: 50 latents, most collapsed to tiny scales."""
    rng = np.random.default_rng(11)
    scale = np.where(rng.random(50) < 0.7, rng.uniform(1e-3, 0.05, 50), rng.uniform(0.5, 8, 50))
    scale = scale.astype(np.float32)
    real = _tfc_model(0.0, scale)
    tables = build_tables(0.0, scale)
    y = (rng.logistic(size=(10000, 50)) * scale).astype(np.float32)
    assert real.compress(y).numpy().tolist() == encode(np.round(y).astype(np.int64), tables)


@pytest.mark.parametrize("seed", range(3))
def test_an_index_per_symbol_gives_tfcs_indexed_tables_and_strings(seed):
    """A grid of scales, one table each, and side information choosing a table per latent:
    tfc's `ContinuousIndexedEntropyModel` against `build_tables` and `encode(..., indexes)`."""
    rng = np.random.default_rng(300 + seed)
    grid = np.geomspace(0.11, 256, 64).astype(np.float32)
    real = tfc.ContinuousIndexedEntropyModel(
        tfc.NoisyLogistic, index_ranges=(64,),
        parameter_fns=dict(loc=lambda i: tf.zeros_like(i),
                           scale=lambda i: tf.gather(grid, tf.cast(i, tf.int32))),
        coding_rank=1, compression=True, channel_axis=None)
    tables = build_tables(np.zeros(64, np.float32), grid)
    np.testing.assert_array_equal(tables.to_flat(), real.cdf.numpy())
    np.testing.assert_array_equal(tables.offsets, real.cdf_offset.numpy())
    indexes = rng.integers(0, 64, (300, 40))
    y = (rng.logistic(size=indexes.shape) * grid[indexes]
         * rng.choice([0.5, 1, 5], indexes.shape)).astype(np.float32)
    strings = encode(np.round(y).astype(np.int64), tables, indexes)
    assert real.compress(y, indexes).numpy().tolist() == strings
    decoded, sane = decode(strings, tables, indexes=indexes)
    assert sane.all()
    np.testing.assert_array_equal(decoded.astype(np.float32),
                                  real.decompress(strings, indexes).numpy())


def test_hyperprior_strings_are_tfcs_indexed_strings(small_hyperprior, test_digits):
    """A hyperprior codec's strings, [z | y] in one string, against tfc's
    `ContinuousIndexedEntropyModel` given the side priors' and the grid's scales as its tables
    and the codec's table indexes (the side latents' own, then the grid's the decoded z picks)."""
    from mnist_compression.model.files import make_codec

    compressor, decompressor = make_codec(small_hyperprior).at()
    coder = compressor.entropy_model
    scales = np.concatenate([coder.side_scales, coder.grid])
    real = tfc.ContinuousIndexedEntropyModel(
        tfc.NoisyLogistic, index_ranges=(len(scales),),
        parameter_fns=dict(loc=lambda i: tf.zeros_like(i),
                           scale=lambda i: tf.gather(scales, tf.cast(i, tf.int32))),
        coding_rank=1, compression=True, channel_axis=None)
    np.testing.assert_array_equal(coder.tables.to_flat(), real.cdf.numpy())
    symbols = compressor.transforms.latents(test_digits)
    indexes = coder.table_indexes(symbols[:, :coder.side_dims])
    strings = compressor.compress(test_digits)
    assert real.compress(symbols.astype(np.float32), indexes).numpy().tolist() == strings
    np.testing.assert_array_equal(real.decompress(strings, indexes).numpy(), symbols)


@pytest.mark.parametrize("seed", range(4))
def test_the_entropy_model_writes_and_reads_the_same_bytes_as_tfc(seed):
    """Our entropy model end to end (offsets, tables, guards, coder) against tfc's."""
    rng = np.random.default_rng(200 + seed)
    loc, scale = _random_prior_parameters(rng, 50)
    real = _tfc_model(loc, scale)
    ours = ContinuousBatchedEntropyModel(NoisyLogistic(loc=loc, scale=scale), coding_rank=1,
                                         compression=True)
    y = _latents(rng, loc, scale, 300)
    strings = ours.compress(y)
    assert strings.numpy().tolist() == real.compress(y).numpy().tolist()
    np.testing.assert_array_equal(ours.decompress(strings), real.decompress(strings, ()))
    _, our_bits = ours(y, training=False)
    _, real_bits = real(y, training=False)
    np.testing.assert_array_equal(our_bits, real_bits)


def test_a_denormal_location_decodes_as_tfc_decodes_it():
    tiny = np.nextafter(np.float32(0), np.float32(1))
    loc, scale = np.full(8, tiny, np.float32), np.ones(8, np.float32)
    real = _tfc_model(loc, scale)
    ours = ContinuousBatchedEntropyModel(NoisyLogistic(loc=loc, scale=scale), coding_rank=1,
                                         compression=True)
    y = np.zeros((3, 8), np.float32)
    assert ours.compress(y).numpy().tolist() == real.compress(y).numpy().tolist()
    np.testing.assert_array_equal(ours.decompress(ours.compress(y)),
                                  real.decompress(real.compress(y), ()))


def test_a_trained_codec_against_the_reference_as_appendix_a_shows_it(small_trainer, test_digits):
    from mnist_compression.model.files import make_mnist_codec
    from mnist_compression.teaching.reference import against_reference

    compressor, _ = make_mnist_codec(small_trainer)
    found = against_reference(compressor, test_digits)
    assert found == dict(tables=True, strings=True, decoded=True, compared=len(test_digits))
    # A different tail mass builds different tables: the comparison must notice.
    assert against_reference(compressor, test_digits, tail_mass=2**-4)["tables"] is False
