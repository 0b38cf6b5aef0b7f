"""The model cache: reuse with identical settings and data, retrain otherwise, never clobber."""

import json

import numpy as np
import pytest

from mnist_compression import cache
from mnist_compression.cache import train_or_load


@pytest.fixture
def model_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    return folder


def _train(folder, capsys, **overrides):
    settings = dict(lmbda=500, epochs=1, batch_size=16, data_dir=folder, verbose=0)
    settings.update(overrides)
    trainer, history = train_or_load(**settings)
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
    record = json.loads((stored / "record.json").read_text())
    assert record["settings"]["lmbda"] == 500 and record["settings"]["train_examples"] == 40


@pytest.mark.parametrize("change", [dict(epochs=2), dict(lmbda=300), dict(seed=1),
                                    dict(batch_size=8), dict(train_examples=20)])
def test_a_changed_setting_trains_a_new_model(tiny_mnist, model_cache, capsys, change):
    folder, _ = tiny_mnist
    _train(folder, capsys)
    _, _, out = _train(folder, capsys, **change)
    assert out.startswith("Saved")
    assert len(list(model_cache.iterdir())) == 2


def test_changed_data_trains_a_new_model(tmp_path, model_cache, capsys):
    from conftest import make_idx_folder

    for name, seed in (("a", 1), ("b", 2)):
        (tmp_path / name).mkdir()
        make_idx_folder(tmp_path / name, seed=seed)
    _train(tmp_path / "a", capsys)
    _, _, out = _train(tmp_path / "b", capsys)
    assert out.startswith("Saved") and len(list(model_cache.iterdir())) == 2


def test_use_cache_false_neither_reads_nor_writes(tiny_mnist, model_cache, capsys):
    folder, _ = tiny_mnist
    _, _, out = _train(folder, capsys, use_cache=False)
    assert out == "" and not model_cache.exists()


def test_saving_never_overwrites_and_leaves_no_partial_files(tiny_mnist, model_cache, capsys):
    folder, _ = tiny_mnist
    trainer, history, _ = _train(folder, capsys)
    [stored] = model_cache.iterdir()
    before = (stored / "model.weights.h5").read_bytes()
    settings = json.loads((stored / "record.json").read_text())["settings"]
    trainer.prior_log_scales.assign(trainer.prior_log_scales + 1)
    cache.save_trainer(trainer, history, settings, stored)
    assert (stored / "model.weights.h5").read_bytes() == before
    assert [p.name for p in model_cache.iterdir()] == [stored.name]
