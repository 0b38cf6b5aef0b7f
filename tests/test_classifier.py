"""The digit classifier in the model cache: trained once and loaded afterwards, keyed by its
training digits, and a damaged file reported, left in place and replaced by a retrained one."""

import json

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.hashing import named_float32_sha256
from mnist_compression.storage.array_files import checksum, read_array_file
from mnist_compression.study.classifier import DigitClassifier, train_or_load_classifier

TRAINING = "Training the digit classifier on 40 digits (4 epochs)...\n"


def _no_training(monkeypatch):
    """Makes any training fail, so a test can show that a classifier was loaded, not trained."""
    def refuse(*args, **kwargs):
        raise AssertionError("the classifier was trained again instead of loaded")

    monkeypatch.setattr(tf.keras.Model, "fit", refuse)


def _weights(model: DigitClassifier):
    return [np.asarray(w) for w in model.model.get_weights()]


def test_a_second_call_loads_the_stored_classifier_without_training(tiny_mnist, model_cache,
                                                                    capsys, monkeypatch):
    folder, arrays = tiny_mnist
    first = train_or_load_classifier(folder)
    assert capsys.readouterr().out == TRAINING
    [stored] = model_cache.iterdir()
    assert stored.name.startswith("classifier-")
    assert [p.name for p in stored.iterdir()] == ["classifier.npz"]
    with monkeypatch.context() as patched:
        _no_training(patched)
        second = train_or_load_classifier(folder)
    assert capsys.readouterr().out == ""
    assert [p.name for p in model_cache.iterdir()] == [stored.name]
    for a, b in zip(_weights(first), _weights(second), strict=True):
        np.testing.assert_array_equal(a, b)
    digits, labels = arrays["test"][0][..., None], arrays["test"][1]
    np.testing.assert_array_equal(second.predict(digits), first.predict(digits))
    assert second.predict(digits).shape == (len(digits),)
    assert second.accuracy(digits, labels) == np.mean(first.predict(digits) == labels)


def test_other_training_digits_train_another_classifier(tiny_mnist, model_cache, capsys):
    folder, _ = tiny_mnist
    train_or_load_classifier(folder)
    train_or_load_classifier(folder, train_examples=20)
    assert capsys.readouterr().out == TRAINING + TRAINING.replace("40", "20")
    assert len(list(model_cache.iterdir())) == 2


def _resave(path, change):
    """Rewrites a classifier file as a valid archive with `change(record, weights)` applied."""
    with np.load(path) as stored:
        weights = {name: stored[name] for name in stored.files}
    record = json.loads(str(weights.pop("record")))
    change(record, weights)
    path.unlink()
    with open(path, "wb") as f:
        np.savez(f, record=np.array(json.dumps(record)), **weights)


def _damage(path, damage):
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:5000])
    elif damage == "weight":  # one weight changed, the checksum kept
        _resave(path, lambda record, weights: weights["w1"].__setitem__(0, 1.5))
    elif damage == "format":  # intact weights and checksum, but not a classifier's record
        def other_format(record, weights):
            record["format"] = "something-else"
            record["sha256"] = checksum(record, weights)
        _resave(path, other_format)
    else:
        path.unlink()


@pytest.mark.parametrize("damage, reason", [
    ("truncate", "classifier.npz is not a readable classifier file"),
    ("weight", "classifier.npz is not an intact classifier file"),
    ("format", "classifier.npz is not an intact classifier file"),
    ("delete", "No classifier file at"),
])
def test_a_damaged_classifier_is_reported_kept_and_replaced(tiny_mnist, model_cache, capsys,
                                                            monkeypatch, damage, reason):
    folder, arrays = tiny_mnist
    first = train_or_load_classifier(folder)
    [stored] = model_cache.iterdir()
    _damage(stored / "classifier.npz", damage)
    damaged = {p.name: p.read_bytes() for p in stored.iterdir()}
    capsys.readouterr()
    replacement = train_or_load_classifier(folder)
    out = capsys.readouterr().out
    assert out.startswith(f"The cached entry in {stored} is damaged and will not be used (")
    assert reason in out and out.endswith(
        "It is left there for inspection; delete it when done.\n" + TRAINING)
    assert {p.name: p.read_bytes() for p in stored.iterdir()} == damaged  # left as it was
    assert sorted(p.name for p in model_cache.iterdir()) == [stored.name, f"{stored.name}.2"]
    assert (model_cache / f"{stored.name}.2" / "classifier.npz").is_file()
    # Retrained with the same seed and digits: the same labels as the first classifier.
    digits = arrays["test"][0][..., None]
    np.testing.assert_array_equal(replacement.predict(digits), first.predict(digits))
    # From now on the replacement is loaded (the damaged entry is still reported, not deleted).
    with monkeypatch.context() as patched:
        _no_training(patched)
        loaded = train_or_load_classifier(folder)
    out = capsys.readouterr().out
    assert out.count("is damaged") == 1 and "Training" not in out
    for a, b in zip(_weights(replacement), _weights(loaded), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_key_keeps_each_digit_with_its_label_in_any_order():
    from mnist_compression.study.classifier import _key

    images = (np.arange(4 * 28 * 28) % 253).astype(np.uint8).reshape(4, 28, 28, 1)
    labels = np.array([3, 1, 4, 1])
    order = [2, 0, 3, 1]
    assert _key(images[order], labels[order]) == _key(images, labels)
    assert _key(images, labels[order]) != _key(images, labels)


def test_probabilities_are_a_softmax_that_agrees_with_the_labels(tiny_mnist, model_cache):
    folder, arrays = tiny_mnist
    classifier = train_or_load_classifier(folder)
    digits = arrays["test"][0]
    probabilities = classifier.probabilities(digits)
    assert probabilities.shape == (len(digits), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-6)
    assert (probabilities > 0).all()
    logits = classifier.model.predict(digits.reshape(len(digits), -1) / 255.0, verbose=0)
    expected = np.exp(logits[0]) / np.exp(logits[0]).sum()
    np.testing.assert_allclose(probabilities[0], expected, rtol=1e-5)
    np.testing.assert_array_equal(classifier.predict(digits), probabilities.argmax(axis=1))


def test_the_classifier_is_kept_in_the_model_file_container_and_old_files_still_load(
        tiny_mnist, model_cache, monkeypatch):
    folder, arrays = tiny_mnist
    first = train_or_load_classifier(folder)
    [stored] = model_cache.iterdir()
    record, weights = read_array_file(stored / "classifier.npz", "classifier file", "a test")
    assert record["format"] == "mnist-compression-classifier" and record["version"] == 2
    assert record["sha256"] == checksum(record, weights) != named_float32_sha256(weights)
    # As version 1 wrote it: no version, a checksum of the weights alone.
    _resave(stored / "classifier.npz", lambda record, weights: record.update(
        sha256=named_float32_sha256(weights), version=None) or record.pop("version"))
    with monkeypatch.context() as patched:
        _no_training(patched)
        loaded = train_or_load_classifier(folder)
    digits = arrays["test"][0][..., None]
    np.testing.assert_array_equal(loaded.predict(digits), first.predict(digits))
