"""Model files: every field of the record checked, the record covered by the checksum from
version 2 on, damage told apart from a newer version, and version-1 files still read."""

import hashlib
import json
import shutil
import zipfile

import numpy as np
import pytest
from helpers import model_file_contents, peak_kib

from mnist_compression.hashing import named_float32_sha256
from mnist_compression.model.files import load_model, model_arrays, save_model
from mnist_compression.settings import TrainingSettings
from mnist_compression.storage.model_files import FORMAT, VERSION, ModelFileError, read_model_file

MISSING = object()  # a field left out of the record


@pytest.fixture(scope="module")
def model_file(small_trainer, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.npz"
    save_model(small_trainer, path, settings=TrainingSettings(lmbda=2000.0, epochs=1),
               history={"val_rate": [50.0, 40.0], "val_distortion": [float("nan"), 0.04]})
    return path


def _checksum(record, arrays):
    """The checksum as docs/file-formats.md defines it for the record's version, computed here
    independently of model_files."""
    digest = named_float32_sha256(arrays)
    if record.get("version") == 1:
        return digest
    rest = {key: value for key, value in record.items() if key != "sha256"}
    return hashlib.sha256(json.dumps([digest, rest], sort_keys=True).encode()).hexdigest()


def _write(path, record, arrays, sign=True):
    """Writes a model file by hand; `sign` sets a checksum that fits the record's version."""
    if sign:
        record["sha256"] = _checksum(record, arrays)
    np.savez(path, **arrays, record=np.array(json.dumps(record)))
    return path


def _version_1(model_file, target):
    """The model of `model_file` as version 1 wrote it: the checksum covers the arrays alone."""
    record, arrays = model_file_contents(model_file)
    record.update(version=1, sha256=named_float32_sha256(arrays))
    return _write(target, record, arrays, sign=False)


def test_fixed_rate_files_are_version_2_and_their_checksum_covers_the_record(model_file):
    """Version 3 only adds a variable-rate model's levels; a model of one λ is written as
    version 2, which every earlier release reads."""
    record, arrays = model_file_contents(model_file)
    assert VERSION == 4 and record["format"] == FORMAT and record["version"] == 2
    assert "levels" not in record
    assert record["sha256"] == _checksum(record, arrays) != named_float32_sha256(arrays)


def test_a_nan_in_the_history_is_kept(model_file):
    history = read_model_file(model_file)[0]["history"]
    assert np.isnan(history["val_distortion"][0]) and history["val_rate"] == [50.0, 40.0]


def test_version_1_files_still_load(small_trainer, model_file, tmp_path):
    path = _version_1(model_file, tmp_path / "v1.npz")
    assert read_model_file(path)[0]["version"] == 1
    loaded = model_arrays(load_model(path))
    for name, array in model_arrays(small_trainer).items():
        np.testing.assert_array_equal(loaded[name], array, err_msg=name)


def test_version_1_checksums_still_cover_the_arrays(model_file, tmp_path):
    record, arrays = model_file_contents(_version_1(model_file, tmp_path / "v1.npz"))
    arrays["synthesis/fc_1/bias"][0] += 1.0
    with pytest.raises(ModelFileError, match="the arrays do not match the checksum.*damaged"):
        read_model_file(_write(tmp_path / "bad.npz", record, arrays, sign=False))


@pytest.mark.parametrize("field, value", [
    ("lmbda", 2001.0), ("latent_dims", 49), ("written_with", {"python": "2.7"}),
    ("settings", None), ("history", {"val_rate": [50.0, 39.0]}), ("extra", 1),
    ("version", 1), ("version", 3), ("version", 255),
])
def test_any_change_to_a_version_2_record_is_damage(model_file, tmp_path, field, value):
    record, arrays = model_file_contents(model_file)
    record[field] = value
    with pytest.raises(ModelFileError, match="do not match the checksum.*damaged") as caught:
        read_model_file(_write(tmp_path / "edited.npz", record, arrays, sign=False))
    assert "upgrade" not in str(caught.value)


def test_changed_architecture_is_damage_not_another_architecture(model_file, tmp_path):
    record, arrays = model_file_contents(model_file)
    record["architecture"]["synthesis"][0]["units"] = 400
    with pytest.raises(ModelFileError, match="arrays and record do not match the checksum"):
        read_model_file(_write(tmp_path / "edited.npz", record, arrays, sign=False))
    with pytest.raises(ModelFileError, match="another architecture"):
        read_model_file(_write(tmp_path / "signed.npz", record, arrays))


@pytest.mark.parametrize("changes", [
    dict(version=5),
    dict(version=5, lmbda="a new kind of field", arrays=[], settings="garbage", new_field=1),
])
def test_a_newer_version_with_a_valid_checksum_says_upgrade(model_file, tmp_path, changes):
    record, arrays = model_file_contents(model_file)
    record.update(changes)
    arrays["new/array"] = np.zeros(3, np.float32)
    with pytest.raises(ModelFileError, match="model format 5, newer than the format 4 .*upgrade"):
        read_model_file(_write(tmp_path / "v5.npz", record, arrays))


def test_a_newer_version_whose_arrays_cannot_be_checked_is_damage(model_file, tmp_path):
    record, arrays = model_file_contents(model_file)
    record["version"] = 5
    arrays["new/names"] = np.array(["not", "numbers"])
    with pytest.raises(ModelFileError, match="arrays and record do not match the checksum"):
        read_model_file(_write(tmp_path / "v3.npz", record, arrays, sign=False))


BAD_FIELDS = [
    ("lmbda", None, 'field "lmbda" must be a positive finite number, got null'),
    ("lmbda", float("nan"), '"lmbda" .* got NaN'),
    ("lmbda", float("inf"), '"lmbda" .* got Infinity'),
    ("lmbda", 0, '"lmbda" must be a positive finite number, got 0'),
    ("lmbda", -5.0, '"lmbda" .* got -5.0'),
    ("lmbda", "2000", '"lmbda" .* got "2000"'),
    ("lmbda", True, '"lmbda" .* got true'),
    ("lmbda", MISSING, 'the record has no field "lmbda"'),
    ("version", 0, 'field "version" must be a positive integer, got 0'),
    ("version", "1", '"version" must be a positive integer, got "1"'),
    ("version", 1.0, '"version" .* got 1.0'),
    ("version", None, '"version" .* got null'),
    ("version", True, '"version" .* got true'),
    ("version", MISSING, 'no field "version"'),
    ("latent_dims", "50", 'field "latent_dims" must be a positive integer, got "50"'),
    ("latent_dims", 0, '"latent_dims" .* got 0'),
    ("latent_dims", 50.0, '"latent_dims" .* got 50.0'),
    ("latent_dims", None, '"latent_dims" .* got null'),
    ("architecture", [], 'field "architecture" must be an object describing the layers, got'),
    ("architecture", "garbage", '"architecture" .* got "garbage"'),
    ("arrays", [], r'field "arrays" must be an object mapping array names to shapes .*, got \[\]'),
    ("arrays", {"prior/log_scales": "50"}, '"arrays" .* got {"prior/log_scales": "50"}'),
    ("arrays", {"prior/log_scales": [-50]}, '"arrays" must be'),
    ("arrays", {"prior/log_scales": [50.0]}, '"arrays" must be'),
    ("arrays", None, '"arrays" .* got null'),
    ("sha256", "abc", 'field "sha256" must be 64 lowercase hexadecimal digits, got "abc"'),
    ("sha256", "AB" * 32, '"sha256" must be 64 lowercase'),
    ("sha256", 12, '"sha256" .* got 12'),
    ("sha256", MISSING, 'no field "sha256"'),
    ("written_with", "3.11", 'field "written_with" must be an object of version strings'),
    ("written_with", {"python": 3.11}, '"written_with" .* got {"python": 3.11}'),
    ("settings", "garbage", 'field "settings" must be null or an object, got "garbage"'),
    ("settings", [1], '"settings" .* got \\[1\\]'),
    ("history", [1, 2], r'field "history" must be null or an object of lists of numbers \(finite'),
    ("history", {"loss": 3.0}, '"history" .* got {"loss": 3.0}'),
    ("history", {"loss": [1.0, "x"]}, '"history" must be'),
    ("history", {"loss": [float("inf")]}, '"history" .* got {"loss": \\[Infinity\\]}'),
    ("history", {"loss": [None]}, '"history" .* got {"loss": \\[null\\]}'),
    ("history", {"loss": [True]}, '"history" must be'),
    ("extra", 1, r"the record has unexpected fields \['extra'\]"),
    ("format", 7, "is not a mnist-compression-model file"),
    ("format", MISSING, "is not a mnist-compression-model file"),
]


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("field, value, message", BAD_FIELDS)
def test_bad_records_are_refused_naming_the_field(model_file, tmp_path, version, field, value,
                                                  message):
    """Each bad record carries a checksum that fits it (as a buggy writer would make it), so
    what is refused is the field itself, in one line that names the file."""
    record, arrays = model_file_contents(model_file)
    record["version"] = version
    if value is MISSING:
        del record[field]
    else:
        record[field] = value
    path = _write(tmp_path / "bad.npz", record, arrays, sign=field != "sha256")
    with pytest.raises(ModelFileError, match=message) as caught:
        load_model(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)
    assert "newer" not in str(caught.value)


def test_long_values_are_shortened_in_messages(model_file, tmp_path):
    record, arrays = model_file_contents(model_file)
    record["settings"] = "x" * 1000
    with pytest.raises(ModelFileError, match='got "x{56}\\.\\.\\.\\.$') as caught:
        read_model_file(_write(tmp_path / "long.npz", record, arrays))
    assert len(str(caught.value)) < 200 + len(str(tmp_path))


@pytest.mark.parametrize("change, message", [
    (lambda r, a: (r["arrays"].pop("prior/log_scales"), a.pop("prior/log_scales")),
     r"arrays do not fit the model its record describes \(missing arrays \['prior/log_scales'\]"),
    (lambda r, a: (r["arrays"].update({"prior/log_scales": [10]}),
                   a.update({"prior/log_scales": a["prior/log_scales"][:10]})),
     "arrays do not fit the model its record describes"),
])
@pytest.mark.parametrize("version", [1, 2])
def test_arrays_that_do_not_fit_the_model_are_refused(model_file, tmp_path, change, message,
                                                      version):
    record, arrays = model_file_contents(model_file)
    record["version"] = version
    change(record, arrays)
    path = _write(tmp_path / "misfit.npz", record, arrays)
    with pytest.raises(ModelFileError, match=message) as caught:
        load_model(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


@pytest.mark.parametrize("version", [1, 2])
def test_non_finite_weights_are_refused(model_file, tmp_path, version):
    record, arrays = model_file_contents(model_file)
    record["version"] = version
    arrays["synthesis/fc_2/kernel"][0, 0] = np.nan
    with pytest.raises(ModelFileError, match="synthesis/fc_2/kernel holds non-finite values"):
        load_model(_write(tmp_path / "nan.npz", record, arrays))


def test_a_record_the_reader_would_refuse_is_not_saved(small_trainer, tmp_path):
    path = tmp_path / "model.npz"
    with pytest.raises(ModelFileError, match='Not saved: .*field "history" must be'):
        save_model(small_trainer, path, history={"loss": [1.0, float("inf")]})
    assert not path.exists()


def _with_record_text(source, target, text):
    with np.load(source) as archive:
        contents = {name: archive[name] for name in archive.files}
    np.savez(target, **dict(contents, record=np.array(text)))
    return target


@pytest.mark.parametrize("text, reason", [
    ("[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),
    ('{"lmbda": ' + "9" * 5000 + "}", "not valid JSON"),
])
def test_records_json_cannot_parse_are_refused_in_one_line(small_trainer, tmp_path, text, reason):
    good = save_model(small_trainer, tmp_path / "good.npz")
    with pytest.raises(ModelFileError, match=reason):
        read_model_file(_with_record_text(good, tmp_path / "bad.npz", text))


@pytest.mark.filterwarnings("ignore:Duplicate name")  # the test writes a second member on purpose
def test_a_member_that_is_not_an_array_is_refused(small_trainer, tmp_path):
    import zipfile

    path = save_model(small_trainer, tmp_path / "model.npz")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("analysis/conv_1/bias.npy", b"")
    with pytest.raises(ModelFileError, match="not a numpy array|not a readable model file"):
        read_model_file(path)


def test_a_zip_bomb_member_is_refused_before_it_is_unpacked(model_file, tmp_path):
    bomb = tmp_path / "bomb.npz"
    shutil.copy(model_file, bomb)
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as archive:  # 256 MiB of zeros
        with archive.open("extra.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, dict(
                descr="<f4", fortran_order=False, shape=(1 << 26,)))
            for _ in range(256):
                member.write(bytes(1 << 20))
    assert bomb.stat().st_size < model_file.stat().st_size + (2 << 20)
    read = "mnist_compression.storage.model_files:read_model_file(PATH)"
    (honest_peak, no_error), (bomb_peak, error) = peak_kib(read, model_file), peak_kib(read, bomb)
    assert no_error == "" and error == f"{bomb}: unexpected arrays ['extra']."
    assert bomb_peak < honest_peak + 16 * 1024  # not the 256 MiB the member holds


def test_an_array_header_that_claims_more_than_its_bytes_is_damage(model_file, tmp_path):
    record, arrays = model_file_contents(model_file)
    target = tmp_path / "huge.npz"
    with zipfile.ZipFile(target, "w") as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w") as member:
                if name == "prior/log_scales":  # 10**30 elements claimed, 50 held
                    header = dict(descr="<f4", fortran_order=False, shape=(10**30,))
                    np.lib.format.write_array_header_2_0(member, header)
                    member.write(array.tobytes())
                else:
                    np.lib.format.write_array(member, array)
        with archive.open("record.npy", "w") as member:
            np.lib.format.write_array(member, np.array(json.dumps(record)))
    with pytest.raises(ModelFileError, match=r"array prior/log_scales: its header claims "
                                             r"4\.00e\+30 bytes of float32 .*damaged"):
        read_model_file(target)
