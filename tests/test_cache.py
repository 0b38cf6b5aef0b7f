"""The model cache: reuse with identical settings and data, retrain otherwise, never clobber,
and never load a damaged model."""

import os
import stat

import numpy as np
import pytest

from mnist_compression import training
from mnist_compression.model.files import save_model
from mnist_compression.settings import TrainingSettings
from mnist_compression.storage import cache
from mnist_compression.storage.model_files import read_model_file
from mnist_compression.training import train_or_load


def _train(folder, capsys, use_cache=True, **overrides):
    settings = TrainingSettings(lmbda=500, epochs=1, batch_size=16, data_dir=str(folder))
    trainer, history = train_or_load(settings.replace(**overrides), use_cache=use_cache,
                                     verbose=0)
    return trainer, history, capsys.readouterr().out


def test_same_settings_reuse_the_saved_model(tiny_mnist, model_cache, capsys):
    folder, arrays = tiny_mnist
    first, history, out = _train(folder, capsys)
    assert out.startswith("Saved the λ=500 model to")
    second, reloaded, out = _train(folder, capsys)
    assert out.startswith("Loaded the λ=500 model")
    assert reloaded.keys() == history.keys()
    for key, values in history.items():
        assert reloaded[key] == pytest.approx(values), key
    for a, b in zip(first.trainable_variables, second.trainable_variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    digits = arrays["test"][0][..., None]
    np.testing.assert_allclose(first(digits)["rate"], second(digits)["rate"], rtol=1e-6)
    [stored] = model_cache.iterdir()
    record, _ = read_model_file(stored / "model.npz")
    assert record["settings"]["lmbda"] == 500 and record["settings"]["epochs"] == 1


@pytest.mark.parametrize("change", [dict(epochs=2), dict(lmbda=300), dict(seed=1),
                                    dict(batch_size=8), dict(train_examples=20),
                                    dict(learning_rate=3e-4), dict(distortion="mse")])
def test_a_changed_setting_trains_a_new_model(tiny_mnist, model_cache, capsys, change):
    folder, _ = tiny_mnist
    _train(folder, capsys)
    [first] = model_cache.iterdir()
    _, _, out = _train(folder, capsys, **change)
    [second] = set(model_cache.iterdir()) - {first}
    assert out == f"Saved the λ={change.get('lmbda', 500):g} model to {second}\n"
    assert second.name.startswith(f"lmbda{change.get('lmbda', 500):g}-"
                                  f"epochs{change.get('epochs', 1)}-")
    [(name, value)] = change.items()
    assert read_model_file(second / "model.npz")[0]["settings"][name] == value
    assert read_model_file(first / "model.npz")[0]["settings"][name] != value


def test_where_the_data_lives_does_not_matter(tiny_mnist, model_cache, capsys, monkeypatch):
    folder, _ = tiny_mnist
    _train(folder, capsys)
    [stored] = model_cache.iterdir()
    monkeypatch.chdir(folder.parent)
    _, _, out = _train(folder.name, capsys)  # the same folder, named relatively
    assert out.startswith("Loaded") and out.endswith(f"from {stored}\n")
    assert list(model_cache.iterdir()) == [stored]


def test_an_architecture_change_trains_a_new_model(tiny_mnist, model_cache, capsys,
                                                   monkeypatch):
    folder, _ = tiny_mnist
    _train(folder, capsys)
    real = cache.architecture
    monkeypatch.setattr(cache, "architecture", lambda *dims: dict(real(*dims), extra="layer"))
    _, _, out = _train(folder, capsys)
    assert out.startswith("Saved") and len(list(model_cache.iterdir())) == 2


def test_changed_data_trains_a_new_model(tmp_path, model_cache, capsys):
    from helpers import make_idx_folder

    for name, seed in (("a", 1), ("b", 2)):
        (tmp_path / name).mkdir()
        make_idx_folder(tmp_path / name, seed=seed)
    _train(tmp_path / "a", capsys)
    _, _, out = _train(tmp_path / "b", capsys)
    assert out.startswith("Saved") and len(list(model_cache.iterdir())) == 2


def test_use_cache_false_neither_reads_nor_writes(tiny_mnist, model_cache, capsys,
                                                  monkeypatch):
    folder, _ = tiny_mnist
    _, _, out = _train(folder, capsys, use_cache=False)
    assert out == "" and not model_cache.exists()
    # With a model for these settings in the cache, it is still trained, not loaded.
    _train(folder, capsys)
    [stored] = model_cache.iterdir()
    before = (stored / "model.npz").read_bytes()
    trained = []
    monkeypatch.setattr(training, "train_model",
                        lambda *args, real=training.train_model, **kwargs: trained.append(1)
                        or real(*args, **kwargs))
    for unused in ("find_cached", "store_in_cache"):
        monkeypatch.setattr(cache, unused, lambda *args, name=unused, **kwargs: pytest.fail(
            f"{name} called with use_cache=False"))
    _, _, out = _train(folder, capsys, use_cache=False)
    assert out == "" and trained == [1]
    assert list(model_cache.iterdir()) == [stored]
    assert [p.name for p in stored.iterdir()] == ["model.npz"]
    assert (stored / "model.npz").read_bytes() == before


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "bad_record"])
def test_a_damaged_model_is_reported_kept_and_replaced(tiny_mnist, model_cache, capsys, damage):
    folder, _ = tiny_mnist
    first, _, _ = _train(folder, capsys)
    [stored] = model_cache.iterdir()
    path = stored / "model.npz"
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        position = data.index(b"synthesis/fc_2/kernel") + 5000  # inside the weights
        path.write_bytes(data[:position] + bytes([data[position] ^ 1]) + data[position + 1:])
    elif damage == "delete":
        path.unlink()
    else:
        with np.load(path) as archive:
            contents = {name: archive[name] for name in archive.files}
        np.savez(path, **dict(contents, record=np.array("{not json")))
    damaged = {p.name: p.read_bytes() for p in stored.iterdir()}
    second, _, out = _train(folder, capsys)
    assert f"The cached entry in {stored} is damaged" in out
    assert f"Saved the λ=500 model to {stored}.2" in out
    assert {p.name: p.read_bytes() for p in stored.iterdir()} == damaged  # left for inspection
    _, _, out = _train(folder, capsys)  # the replacement is found from now on
    assert f"Loaded the λ=500 model trained earlier with these settings from {stored}.2" in out


def test_training_announces_what_it_trains(tiny_mnist, model_cache, capsys):
    folder, _ = tiny_mnist
    settings = TrainingSettings(lmbda=500, epochs=1, batch_size=16, data_dir=str(folder))
    train_or_load(settings, verbose=2)
    out = capsys.readouterr().out
    # 1 epoch over 40 digits at 10 to 40 s per 60,000 digits: well under a second.
    assert out.startswith("No cached model with these settings: training λ=500 for 1 epoch on "
                          "40 digits (roughly 0 s to 0 s on a 2-core CPU, less on a GPU).\n")
    # The full data set: 4 epochs take 40 to 160 s, the latter shown in minutes.
    training._announce_training(TrainingSettings(epochs=4), 60_000)
    assert capsys.readouterr().out == (
        "No cached model with these settings: training λ=2000 for 4 epochs on 60,000 digits "
        "(roughly 40 s to 3 min on a 2-core CPU, less on a GPU).\n")


def test_saving_never_overwrites_and_leaves_no_partial_files(tiny_mnist, model_cache, capsys):
    folder, _ = tiny_mnist
    trainer, history, _ = _train(folder, capsys)
    [stored] = model_cache.iterdir()
    before = (stored / "model.npz").read_bytes()
    trainer.prior_log_scales.assign(trainer.prior_log_scales + 1)
    key = stored.name
    again = cache.store_in_cache(key, lambda folder: save_model(trainer, folder / "model.npz"))
    assert again.name == f"{key}.2" and (stored / "model.npz").read_bytes() == before
    assert sorted(p.name for p in model_cache.iterdir()) == [key, f"{key}.2"]
    assert [p.name for p in again.iterdir()] == ["model.npz"]
    record, arrays = read_model_file(again / "model.npz")
    np.testing.assert_array_equal(arrays["prior/log_scales"], trainer.prior_log_scales.numpy())

    def fail_halfway(folder):
        (folder / "model.npz").write_bytes(b"half a model")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        cache.store_in_cache(key, fail_halfway)
    assert sorted(p.name for p in model_cache.iterdir()) == [key, f"{key}.2"]
    assert (stored / "model.npz").read_bytes() == before


def test_cached_models_get_the_usual_permissions(tiny_mnist, model_cache, capsys):
    folder, _ = tiny_mnist
    previous = os.umask(0o022)
    try:
        _train(folder, capsys)
    finally:
        os.umask(previous)
    [stored] = model_cache.iterdir()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o755
    assert stat.S_IMODE((stored / "model.npz").stat().st_mode) == 0o644


def test_the_same_digits_in_another_order_find_the_same_model(tiny_mnist, model_cache, capsys):
    """tfds and the IDX files hold MNIST in different orders: a model (or a published one)
    trained on either is found for the other."""
    from mnist_compression.training import TrainingData, load_training_data

    folder, _ = tiny_mnist
    _train(folder, capsys)
    settings = TrainingSettings(lmbda=500, epochs=1, batch_size=16, data_dir=str(folder))
    data = load_training_data(settings)
    shuffled = TrainingData(data.train[::-1], data.validation[::-1],
                            data.validation_labels[::-1], data.source)
    train_or_load(settings, data=shuffled, verbose=0)
    assert capsys.readouterr().out.startswith("Loaded the λ=500 model")
    assert len(list(model_cache.iterdir())) == 1


def test_a_warm_start_trains_or_loads_its_start_and_begins_from_its_weights(
        tiny_mnist, model_cache, capsys):
    folder, _ = tiny_mnist
    common = dict(lmbda=300, epochs=1, batch_size=16, data_dir=str(folder))
    warm = TrainingSettings(warm_start=500, warm_start_epochs=2, learning_rate=1e-12, **common)
    trainer, history = train_or_load(warm, verbose=2)
    out = capsys.readouterr().out
    assert out.index("training λ=500 for 2 epochs") < out.index(
        "training λ=300 starting from the λ=500 model for 1 epoch")
    assert len(history["loss"]) == 1
    start, _, out = _train(folder, capsys, epochs=2)  # the λ=500 model, from the cache
    assert out.startswith("Loaded the λ=500 model")
    # At a learning rate of 1e-12 the warm start keeps the weights it started from ...
    for a, b in zip(start.trainable_variables, trainer.trainable_variables, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-9, err_msg=a.name)
    cold, _ = train_or_load(warm.replace(warm_start=None), verbose=0)  # ... a cold start does not
    assert not np.allclose(cold.trainable_variables[0], start.trainable_variables[0])
    names = sorted(p.name.split("-")[0:2] == ["lmbda300", "epochs1"] for p in
                   model_cache.iterdir())
    assert names == [False, True, True]  # the λ=500 start, and two λ=300 models apart
    capsys.readouterr()
    train_or_load(warm, verbose=2)
    assert capsys.readouterr().out.startswith("Loaded the λ=300 model")


def test_a_warm_start_needs_its_start_model():
    from mnist_compression.training import train_model

    with pytest.raises(ValueError, match="A warm start needs both settings.warm_start and the "
                                         "model to start from"):
        train_model(TrainingSettings(warm_start=500, epochs=1), data=object())


def test_a_model_trained_on_the_squared_error_loads_with_it(tiny_mnist, model_cache, capsys):
    folder, arrays = tiny_mnist
    trained, history, _ = _train(folder, capsys, distortion="mse")
    loaded, _, out = _train(folder, capsys, distortion="mse")
    assert out.startswith("Loaded") and loaded.distortion == trained.distortion == "mse"
    digits = arrays["test"][0][..., None]
    x = digits.astype(np.float32) / 255
    decoded = loaded.synthesis_transform(np.round(loaded.analysis_transform(x).numpy())).numpy()
    np.testing.assert_allclose(loaded(digits)["distortion"],
                               ((x - decoded) ** 2).mean(axis=(1, 2, 3)), rtol=1e-4)
    assert history["val_distortion"][-1] < 0.25  # a squared error of [0, 1] pixels
