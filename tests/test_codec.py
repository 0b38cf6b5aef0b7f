"""The codec: compressor and decompressor, model files, .mnc files and the command line."""

import json
import os
import stat

import numpy as np
import pytest
import tensorflow as tf
from helpers import synthetic_digits, write_idx
from PIL import Image

from mnist_compression.cli.codec import main
from mnist_compression.codec import codecs
from mnist_compression.codec.codecs import compress_to_file, decompress_file
from mnist_compression.codec.mnc import MNCError, encode_mnc, read_mnc
from mnist_compression.model.files import load_model, make_mnist_codec, model_arrays, save_model
from mnist_compression.settings import TrainingSettings
from mnist_compression.storage.model_files import ModelFileError, read_model_file


@pytest.fixture(scope="module")
def pair(small_trainer):
    return make_mnist_codec(small_trainer)


@pytest.fixture(scope="module")
def model_file(small_trainer, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.npz"
    save_model(small_trainer, path, settings=TrainingSettings(lmbda=2000.0, epochs=1),
               history={"val_rate": [50.0, 40.0], "val_distortion": [0.05, 0.04]})
    return path


# --- compressor and decompressor ---------------------------------------------------------------

def test_round_trip_decodes_the_exact_latents(small_trainer, pair, test_digits):
    compressor, decompressor = pair
    strings, bits = compressor(test_digits)
    assert len(strings) == 64 and all(isinstance(s, bytes) for s in strings)
    assert bits.shape == (64,) and bits.dtype == np.float64
    latents = compressor.transforms.latents(test_digits)
    np.testing.assert_array_equal(compressor.entropy_model.decode_symbols(strings), latents)
    reconstructions = decompressor(strings)
    assert reconstructions.shape == (64, 28, 28, 1) and reconstructions.dtype == np.uint8
    np.testing.assert_array_equal(reconstructions, compressor.transforms.digits(latents))


def test_information_content_is_the_rate_of_the_coded_latents(small_trainer, pair, test_digits):
    compressor, _ = pair
    strings, bits = compressor(test_digits)
    latents = compressor.transforms.latents(test_digits).astype(np.float32)
    scale = np.exp(small_trainer.prior_log_scales.numpy().astype(np.float64))

    def cdf(v):
        return 1 / (1 + np.exp(-v / scale))
    expected = -np.log2(cdf(latents + 0.5) - cdf(latents - 0.5)).sum(axis=1)
    np.testing.assert_allclose(bits, expected, rtol=1e-4)
    lengths = np.array([8 * len(s) for s in strings])
    # A range coder needs about the information content, plus at most a few bytes of overhead.
    assert np.all(lengths >= bits - 8) and np.all(lengths <= bits + 40)


def test_two_codecs_of_one_model_are_interchangeable(small_trainer, pair, test_digits):
    other_compressor, other_decompressor = make_mnist_codec(small_trainer)
    strings, _ = pair[0](test_digits)
    assert other_compressor(test_digits)[0] == strings
    np.testing.assert_array_equal(other_decompressor(strings), pair[1](strings))
    assert other_compressor.fingerprint == pair[0].fingerprint == pair[1].fingerprint


def test_both_digit_layouts_and_integer_types_give_the_same_strings(pair, test_digits):
    reference = pair[0].compress(test_digits[:5])
    for shape in [(5, 28, 28), (5, 28, 28, 1)]:
        for dtype in (np.uint8, np.int32, np.int64):
            assert pair[0].compress(test_digits[:5].reshape(shape).astype(dtype)) == reference
    assert reference == [pair[0].compress(digit[None])[0] for digit in test_digits[:5]]


def test_calling_a_compressor_or_decompressor_runs_its_methods(pair, test_digits):
    compressor, decompressor = pair
    strings, bits = compressor(test_digits[:8])
    assert compressor.compress(test_digits[:8]) == strings
    np.testing.assert_array_equal(compressor.information_bits(test_digits[:8]), bits)
    decoded = decompressor.decompress(compressor.compress(test_digits[:8]))
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, decompressor(strings))


def test_empty_batches(pair):
    strings, bits = pair[0](np.zeros((0, 28, 28), np.uint8))
    assert strings == [] and bits.shape == (0,)
    assert pair[1]([]).shape == (0, 28, 28, 1)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 28, 28, 1), np.float32), "got dtype float32 .*scale"),
        (np.zeros((28, 28), np.uint8), r"\[N, 28, 28, 1\].*images\[None\]"),
        (np.zeros((2, 32, 32, 1), np.uint8), r"got shape \[2, 32, 32, 1\]"),
        (np.zeros((2, 28, 28, 3), np.uint8), "got shape"),
        (np.full((1, 28, 28), 300, np.int32), "0..255, got values from 300 to 300"),
        (np.full((1, 28, 28), -1, np.int32), "0..255"),
        (np.array([["a"] * 28] * 28)[None], "dtype <U1"),
        (np.ones((1, 28, 28), bool), "bool array is a mask"),
    ],
)
def test_compressor_rejects_bad_digits(pair, images, message):
    with pytest.raises(ValueError, match=message):
        pair[0](images)


@pytest.mark.parametrize(
    "strings, message",
    [
        (b"\x12\x34", "single string"),
        (np.zeros((2, 3), np.uint8), "dtype uint8"),
        (tf.constant([[b"ab"]]), r"shape \[1, 1\]"),
        (object(), "object"),
        ([b"ab", 3], "1 items of type int"),
        (["abc"], "type str .*encode text first"),
    ],
)
def test_decompressor_rejects_non_strings(pair, strings, message):
    with pytest.raises(ValueError, match=message):
        pair[1](strings)


def test_foreign_strings_fail_with_an_honest_message(pair):
    rng = np.random.default_rng(5)
    with pytest.raises(ValueError, match="Sanity check failed.*no integrity check.*cut short.*"
                                         "docs/reliability.md.*.mnc files.*"
                                         "decode_sanity_check=False"):
        pair[1]([rng.bytes(12) for _ in range(20)])


def test_random_strings_decode_without_sanity_check(small_trainer):
    _, decompressor = make_mnist_codec(small_trainer, decode_sanity_check=False)
    rng = np.random.default_rng(0)
    strings = [rng.bytes(12) for _ in range(16)]  # most fail the check (8 bytes often pass it)
    with pytest.raises(ValueError, match="Sanity check failed for 1[0-6] of 16 strings"):
        make_mnist_codec(small_trainer)[1](strings)
    samples = decompressor(strings)
    assert samples.shape == (16, 28, 28, 1) and samples.dtype == np.uint8
    # Each string decodes to the digit its symbols make, the same on every call.
    symbols = decompressor.entropy_model.decode_symbols(strings)
    np.testing.assert_array_equal(samples, decompressor.transforms.digits(symbols))
    np.testing.assert_array_equal(decompressor.decompress(strings), samples)
    assert len({sample.tobytes() for sample in samples}) > 1


# --- model files --------------------------------------------------------------------------------

def test_model_files_round_trip_exactly(small_trainer, pair, model_file, test_digits):
    loaded = load_model(model_file)
    for name, array in model_arrays(small_trainer).items():
        np.testing.assert_array_equal(model_arrays(loaded)[name], array, err_msg=name)
    compressor, decompressor = make_mnist_codec(loaded)
    strings, _ = compressor(test_digits)
    assert strings == pair[0](test_digits)[0]
    assert compressor.fingerprint == pair[0].fingerprint
    record, _ = read_model_file(model_file)
    assert record["lmbda"] == 2000.0 and record["settings"]["epochs"] == 1
    assert record["history"]["val_rate"] == [50.0, 40.0]
    assert record["written_with"]["tensorflow"] == tf.__version__


def test_model_files_are_never_overwritten(small_trainer, model_file):
    before = model_file.read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        save_model(small_trainer, model_file)
    assert model_file.read_bytes() == before


def _rewrite(source, target, change):
    """Copies a model file with `change(record, arrays)` applied."""
    with np.load(source) as archive:
        contents = {name: archive[name] for name in archive.files}
    record = json.loads(str(contents.pop("record")))
    change(record, contents)
    np.savez(target, **contents, record=np.array(json.dumps(record)))
    return target


# Records edited without their checksum, newer versions and non-finite weights: test_model_files.
@pytest.mark.parametrize("change, message", [
    (lambda r, a: r.update(format="other"), "not a mnist-compression-model file"),
    (lambda r, a: a.pop("synthesis/fc_1/bias"), r"missing arrays \['synthesis/fc_1/bias'\]"),
    (lambda r, a: a.update(extra=np.zeros(3, np.float32)), r"unexpected arrays \['extra'\]"),
    (lambda r, a: a["analysis/fc_2/bias"].__setitem__(0, 1.0), "do not match the checksum"),
    (lambda r, a: a.update({"prior/log_scales": a["prior/log_scales"][:10]}), "float32 \\[50\\]"),
])
def test_bad_model_files_are_refused_with_the_reason(model_file, tmp_path, change, message):
    path = _rewrite(model_file, tmp_path / "bad.npz", change)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"not a zip", None])
def test_damaged_or_foreign_files_are_refused(model_file, tmp_path, content):
    path = tmp_path / "damaged.npz"
    path.write_bytes(model_file.read_bytes()[:5000] if content is None else content)
    with pytest.raises(ModelFileError, match="not a (readable )?model file"):
        load_model(path)


# --- .mnc files from the codec -------------------------------------------------------------------

def test_digits_to_file_and_back(pair, tmp_path, test_digits):
    compressor, decompressor = pair
    written = compress_to_file(compressor, test_digits, tmp_path / "d.mnc")
    assert written.size == (tmp_path / "d.mnc").stat().st_size
    stored = read_mnc(tmp_path / "d.mnc")
    assert stored.strings == written.strings == compressor.compress(test_digits)
    assert stored.fingerprint == written.fingerprint == compressor.fingerprint
    decoded = decompress_file(decompressor, tmp_path / "d.mnc")
    assert decoded.shape == (64, 28, 28, 1) and decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, decompressor(compressor(test_digits)[0]))


def test_a_file_from_another_model_is_refused(small_trainer, pair, tmp_path, test_digits):
    compress_to_file(pair[0], test_digits[:3], tmp_path / "d.mnc")
    other = make_mnist_codec(load_model(_other_model(small_trainer, tmp_path)))[1]
    assert other.fingerprint != pair[1].fingerprint
    with pytest.raises(MNCError, match=f"d.mnc: The file was made by another model \\(fingerprint "
                                       f"{pair[1].fingerprint.hex()}, this model's is "
                                       f"{other.fingerprint.hex()}\\)"):
        decompress_file(other, tmp_path / "d.mnc")
    assert len(decompress_file(pair[1], tmp_path / "d.mnc")) == 3  # its own model reads it


def test_a_forged_file_names_the_failing_string_counted_in_the_file(pair, tmp_path, test_digits,
                                                                    monkeypatch):
    """Strings that pass the checksum but not the sanity check are named by their place in the
    file, also when the file is decoded a chunk at a time."""
    compressor, decompressor = pair
    rng = np.random.default_rng(3)
    junk = next(s for s in (rng.bytes(12) for _ in range(100)) if _fails(decompressor, s))
    strings = compressor.compress(test_digits[:7])
    strings[5] = junk
    (tmp_path / "f.mnc").write_bytes(encode_mnc(strings, compressor.fingerprint))
    monkeypatch.setattr(codecs, "PROGRESS_CHUNK", 2)
    with pytest.raises(MNCError, match=r"f.mnc: Sanity check failed for 1 of its strings 4–5 "
                                       r"\(first: index 5\): it passed its checksum"):
        decompress_file(decompressor, tmp_path / "f.mnc")


def _fails(decompressor, string) -> bool:
    try:
        decompressor([string])
    except ValueError:
        return True
    return False


def _other_model(trainer, tmp_path):
    path = tmp_path / "other.npz"
    if not path.exists():
        trainer.prior_log_scales.assign_add(tf.fill([50], 0.01))
        try:
            save_model(trainer, path)
        finally:
            trainer.prior_log_scales.assign_sub(tf.fill([50], 0.01))
    return path


def test_every_cut_and_many_flips_of_a_real_file_are_reported(pair, tmp_path, test_digits):
    compress_to_file(pair[0], test_digits, tmp_path / "d.mnc")
    data = (tmp_path / "d.mnc").read_bytes()
    for cut in range(len(data)):
        (tmp_path / "cut.mnc").write_bytes(data[:cut])
        with pytest.raises(MNCError, match="empty|truncated"):
            read_mnc(tmp_path / "cut.mnc", pair[1].fingerprint)
    rng = np.random.default_rng(3)
    for bit in rng.integers(0, 8 * len(data), 10_000):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        (tmp_path / "flip.mnc").write_bytes(bytes(flipped))
        with pytest.raises(MNCError):
            read_mnc(tmp_path / "flip.mnc", pair[1].fingerprint)


# --- the command line ----------------------------------------------------------------------------

def _run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_compress_and_decompress_from_every_input_kind(model_file, tmp_path, capsys):
    digits = synthetic_digits(30, seed=3)
    np.save(tmp_path / "digits.npy", digits[:10])
    write_idx(tmp_path / "t-images-idx3-ubyte", 2051, digits[10:20, ..., 0])
    (tmp_path / "pngs").mkdir()
    for i, digit in enumerate(digits[20:]):
        Image.fromarray(digit[..., 0]).save(tmp_path / "pngs" / f"{i:02d}.png")
    status, out, _ = _run(capsys, "compress", "--model", model_file, tmp_path / "digits.npy",
                          tmp_path / "t-images-idx3-ubyte", tmp_path / "pngs",
                          "-o", tmp_path / "all.mnc")
    assert status == 0 and "30 digits in" in out and "bytes per digit" in out
    status, out, _ = _run(capsys, "decompress", "--model", model_file, tmp_path / "all.mnc",
                          "-o", tmp_path / "decoded.npy", "--grid", tmp_path / "grid.png")
    assert status == 0 and "Decoded 30 digits" in out
    decoded = np.load(tmp_path / "decoded.npy")
    _, decompressor = make_mnist_codec(load_model(model_file))
    compressor = make_mnist_codec(load_model(model_file))[0]
    np.testing.assert_array_equal(decoded, decompressor(compressor(digits)[0]))
    assert Image.open(tmp_path / "grid.png").size == (600, 180)
    status, out, _ = _run(capsys, "decompress", "--model", model_file, tmp_path / "all.mnc",
                          "-o", tmp_path / "pngs_out")
    assert status == 0 and len(list((tmp_path / "pngs_out").glob("*.png"))) == 30
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "pngs_out" / "digit_00007.png")),
                                  decoded[7, ..., 0])


def test_info_describes_both_kinds_of_file(model_file, pair, tmp_path, capsys, test_digits):
    compress_to_file(pair[0], test_digits, tmp_path / "d.mnc")
    status, out, _ = _run(capsys, "info", tmp_path / "d.mnc", "--model", model_file)
    info = json.loads(out)
    assert status == 0 and info["digits"] == 64 and info["made_by_this_model"] is True
    size = (tmp_path / "d.mnc").stat().st_size
    payload = sum(len(s) for s in pair[0].compress(test_digits))
    assert info["kind"] == ".mnc file" and info["bytes"] == size
    assert info["bytes_per_digit"] == size / 64
    assert info["header_bytes"] == size - payload
    assert info["header_bytes_per_digit"] == pytest.approx((size - payload) / 64)
    assert info["fingerprint"] == info["model_fingerprint"] == pair[0].fingerprint.hex()
    status, out, _ = _run(capsys, "info", model_file)
    info = json.loads(out)
    assert status == 0 and info["kind"] == "model file"
    assert info["bytes"] == model_file.stat().st_size and info["latent_dims"] == 50
    assert info["lmbda"] == 2000.0 and info["val_rate"] == 40.0 and info["val_distortion"] == 0.04
    assert info["settings"] == TrainingSettings(lmbda=2000.0, epochs=1).as_dict()
    assert info["sha256"] == read_model_file(model_file)[0]["sha256"]
    assert info["fingerprint"] == pair[0].fingerprint.hex()


@pytest.mark.parametrize("argv, message", [
    (["compress", "--model", "{model}", "{tmp}/missing.npy", "-o", "{tmp}/x.mnc"],
     "missing.npy does not exist"),
    (["compress", "--model", "{tmp}/nomodel.npz", "{tmp}/d.npy", "-o", "{tmp}/x.mnc"],
     "No model file at"),
    (["compress", "--model", "{model}", "{tmp}/d.txt", "-o", "{tmp}/x.mnc"], "unknown input"),
    (["compress", "--model", "{model}", "{tmp}/big.png", "-o", "{tmp}/x.mnc"], "32x32 pixels"),
    (["compress", "--model", "{model}", "{tmp}/floats.npy", "-o", "{tmp}/x.mnc"],
     "dtype float64"),
    (["compress", "--model", "{model}", "{tmp}/d.npy", "-o", "{tmp}/exists.mnc"],
     "exists.mnc already exists; choose another name or allow overwriting (--force"),
    (["decompress", "--model", "{model}", "{tmp}/empty.mnc", "-o", "{tmp}/o.npy"],
     "empty.mnc: The file is empty"),
    (["decompress", "--model", "{model}", "{tmp}/d.npy", "-o", "{tmp}/o.npy"],
     "Not an .mnc file"),
    (["info", "{tmp}/d.txt"], "d.txt is not a model file: model files are .npz archives"),
    (["info", "{tmp}/d.npy"], "d.npy is not a model file"),
    (["compress", "--model", "{tmp}/d.npy", "{tmp}/d.npy", "-o", "{tmp}/x.mnc"],
     "d.npy is not a model file"),
    (["compress", "--model", "{model}", "{tmp}/empty.npy", "-o", "{tmp}/x.mnc"],
     "empty.npy: not a readable .npy array of uint8 digits"),
    (["compress", "--model", "{model}", "{tmp}/none.npy", "-o", "{tmp}/x.mnc"],
     "The inputs hold no digits"),
    (["info", "{tmp}"], "is a folder; give a model file (.npz) or an .mnc file"),
    (["info", "{model}", "--model", "{model}"],
     "model.npz is no .mnc file; give the .mnc file, or leave out --model."),
])
def test_bad_input_exits_with_a_one_line_reason(model_file, tmp_path, capsys, argv, message):
    np.save(tmp_path / "d.npy", synthetic_digits(2))
    np.save(tmp_path / "floats.npy", np.zeros((2, 28, 28)))
    (tmp_path / "d.txt").write_text("digits")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "big.png")
    (tmp_path / "empty.mnc").write_bytes(b"")
    (tmp_path / "empty.npy").write_bytes(b"")
    np.save(tmp_path / "none.npy", np.zeros((0, 28, 28), np.uint8))
    (tmp_path / "exists.mnc").write_bytes(b"keep me")
    argv = [a.format(model=model_file, tmp=tmp_path) for a in argv]
    status, out, err = _run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert (tmp_path / "exists.mnc").read_bytes() == b"keep me"


@pytest.mark.parametrize("command", ["export", "compress", "decompress", "info"])
def test_every_command_has_help(capsys, command):
    assert main([command, "--help"]) == 0
    assert "usage: mnist-compression codec" in capsys.readouterr().out


def test_export_trains_once_then_reuses_the_cache(tiny_mnist, model_cache, tmp_path, capsys):
    folder, _ = tiny_mnist
    options = ["--lmbda", "500", "--epochs", "1", "--batch-size", "16", "--data-dir", folder,
               "--quiet"]
    status, out, _ = _run(capsys, "export", *options, "-o", tmp_path / "a.npz")
    assert status == 0 and "Wrote" in out and "Saved the λ=500 model" in out
    status, out, _ = _run(capsys, "export", *options, "-o", tmp_path / "b.npz")
    assert status == 0 and "Loaded the λ=500 model" in out
    arrays = [read_model_file(tmp_path / name)[1] for name in ("a.npz", "b.npz")]
    for name in arrays[0]:
        np.testing.assert_array_equal(arrays[0][name], arrays[1][name])


def test_progress_is_shown_for_large_batches(model_file, tmp_path, capsys, monkeypatch):
    from mnist_compression.codec import codecs

    monkeypatch.setattr(codecs, "PROGRESS_CHUNK", 8)
    np.save(tmp_path / "d.npy", synthetic_digits(40))
    status, _, err = _run(capsys, "compress", "--model", model_file, tmp_path / "d.npy",
                          "-o", tmp_path / "d.mnc")
    assert status == 0 and "compress (40 digits, 8 per step)" in err


def test_evaluation_counts_strings_and_file_bytes_exactly(pair, tmp_path, test_digits):
    from mnist_compression.study.evaluation import evaluate_codec

    measured = evaluate_codec(*pair, test_digits, batch_size=20)
    written = compress_to_file(pair[0], test_digits, tmp_path / "d.mnc")
    assert measured["mnc_bytes_per_digit"] == written.size / len(test_digits)
    lengths = np.array([8 * len(s) for s in written.strings])
    assert measured["string_bits"] == lengths.mean()
    assert measured["longest_string_bits"] == lengths.max()
    assert measured["shorter_than_information"] == np.mean(
        lengths < pair[0](test_digits)[1])
    assert measured["information_bits"] == pytest.approx(
        pair[0].information_bits(test_digits).mean(), rel=1e-6)


class _FixedLabels:
    """A stand-in classifier that labels every digit with its position modulo 10."""

    def accuracy(self, digits, labels):
        return float(np.mean(np.arange(len(digits)) % 10 == np.asarray(labels)))


def test_evaluation_measures_the_decoded_digits(pair, test_digits):
    from mnist_compression.study.evaluation import error_metrics, evaluate_codec

    # By hand: every pixel 51 grey levels (1/5 of the range) off: MAE 0.2, PSNR 20·log10(5) dB.
    zeros = np.zeros((2, 28, 28, 1), np.uint8)
    assert error_metrics(zeros, zeros + 51) == dict(mae=pytest.approx(0.2),
                                                    psnr=pytest.approx(20 * np.log10(5)))
    assert error_metrics(zeros, zeros) == dict(mae=0.0, psnr=np.inf)
    decoded = pair[1].decompress(pair[0].compress(test_digits))
    difference = decoded.astype(np.float64) - test_digits
    measured = evaluate_codec(*pair, test_digits, batch_size=20)
    assert measured["mae"] == pytest.approx(np.abs(difference).mean() / 255)
    assert measured["psnr"] == pytest.approx(10 * np.log10(255**2 / np.square(difference).mean()))
    assert "recognised" not in measured
    labels = np.arange(64) % 10
    labels[::4] = 0  # 12 labels changed: every fourth, except 0, 20, 40 and 60
    recognised = evaluate_codec(*pair, test_digits, labels, _FixedLabels())["recognised"]
    assert recognised == 1 - 12 / 64


def test_written_files_get_the_usual_permissions(pair, model_file, tmp_path):
    """Files are written under a private temporary name, then opened up as the umask allows,
    so that an instructor's model and .mnc files can be shared like any other file."""
    previous = os.umask(0o022)
    try:
        compress_to_file(pair[0], synthetic_digits(3), tmp_path / "d.mnc")
        trainer = load_model(model_file)
        model_path = save_model(trainer, tmp_path / "copy.npz")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "d.mnc").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(model_path).st_mode) == 0o644
