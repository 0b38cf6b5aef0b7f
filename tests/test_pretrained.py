"""Pretrained models: a release folder made by the release command, served from a folder or by a
loopback HTTP server (127.0.0.1, started here), downloaded into the model cache and checked."""

import functools
import http.server
import json
import re
import socket
import threading

import numpy as np
import pytest
from helpers import make_idx_folder, synthetic_digits

from mnist_compression.cli.release import run as release
from mnist_compression.model.files import load_model, make_mnist_codec
from mnist_compression.settings import TrainingSettings
from mnist_compression.storage import cache, pretrained
from mnist_compression.study.classifier import train_or_load_classifier
from mnist_compression.training import train_or_load


@pytest.fixture(scope="module")
def release_folder(tmp_path_factory):
    """A release of one small λ = 500 model, notebook 08's models for it (two variable-rate
    seeds, the same recipe at 500 and 700), notebook 09's hyperprior model at 500 and the
    classifier, trained into a cache of its own."""
    root = tmp_path_factory.mktemp("release")
    (root / "mnist").mkdir()
    make_idx_folder(root / "mnist")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(cache.CACHE_ENV, str(root / "cache"))
        manifest = release(["--lambdas", "500", "--epochs", "1", "--batch-size", "16",
                            "--data-dir", str(root / "mnist"), "--out", str(root / "out")])
    return root / "out", root / "mnist", manifest


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    folder = tmp_path / "fresh-cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    return folder


def _settings(mnist, **changes):
    return TrainingSettings(lmbda=500, epochs=1, batch_size=16, data_dir=str(mnist)).replace(
        **changes)


def _strings(trainer):
    return make_mnist_codec(trainer)[0].compress(synthetic_digits(16, seed=3))


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        if self.path.endswith("cut.npz"):  # promises more bytes than it sends, then hangs up
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"PK\x03\x04" + bytes(100))
            return
        super().do_GET()


@pytest.fixture(scope="module")
def server(release_folder):
    """An HTTP server on 127.0.0.1 serving the release folder; yields its base URL."""
    handler = functools.partial(_Handler, directory=str(release_folder[0]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _serve_manifest(monkeypatch, tmp_path, folder, change=None):
    """Makes the release folder's manifest the package's (as after a release), optionally
    changed, so that URL mirrors are checked against it."""
    manifest = json.loads((folder / pretrained.MANIFEST).read_text())
    if change:
        change(next(entry for entry in manifest["files"] if entry["kind"] == "model"))
    path = tmp_path / "package-manifest.json"
    path.write_text(json.dumps(manifest))
    monkeypatch.setattr(pretrained, "PACKAGE_MANIFEST", path)


def test_the_release_folder_lists_every_file_with_its_hash(release_folder):
    out, _, manifest = release_folder
    assert manifest["release"] == pretrained.load_manifest(str(out))["release"]
    kinds = [entry["kind"] for entry in manifest["files"]]
    assert kinds == ["classifier", "model", "variable-rate model", "variable-rate model",
                     "model", "model", "hyperprior model"]
    assert [entry["file"] for entry in manifest["files"][3:]] == [
        "variable_rate_seed1.npz", "same_recipe_lmbda700.npz", "same_recipe_lmbda500.npz",
        "hyperprior_lmbda500.npz"]
    assert [entry.get("recipe") for entry in manifest["files"]] == [
        None, "original", "variable-rate", "variable-rate", "variable-rate", "variable-rate",
        "original"]
    assert manifest["files"][-1]["settings"]["hyper_latent_dims"] == 8
    for entry in manifest["files"]:
        assert (out / entry["file"]).stat().st_size == entry["bytes"]
        assert pretrained.file_sha256(out / entry["file"]) == entry["sha256"]
    model = manifest["files"][1]
    assert model["lmbda"] == 500 and model["settings"]["epochs"] == 1
    assert "data_dir" not in model["settings"]  # where the builder kept MNIST is nobody's business
    assert model["seconds_per_epoch"] > 0
    for name in ("val_rate", "val_distortion", "string_bits", "mnc_bytes_per_digit",
                 "recognised"):
        assert np.isfinite(model[name]), name
    variable = manifest["files"][2]
    assert variable["file"] == "variable_rate.npz" and variable["settings"]["epochs"] == 2
    assert variable["levels"] == [50, 100, 300, 500, 1000, 2000, 5000, 10000]
    assert [level["lmbda"] for level in variable["at_levels"]] == variable["levels"]
    assert variable["training_seconds"] > 0 and np.isfinite(variable["string_bits"])


def test_a_folder_mirror_gives_the_published_variable_rate_model(release_folder, empty_cache,
                                                                 count_training, capsys):
    out, mnist, _ = release_folder
    trainer, _ = train_or_load(_settings(mnist).variable_rate(), pretrained=str(out))
    assert "Pretrained variable-rate (8 levels, λ=50…10000) model: downloaded" in (
        capsys.readouterr().out)
    assert count_training == []
    assert _strings(trainer) == _strings(load_model(out / "variable_rate.npz"))


def test_a_folder_mirror_gives_the_published_model(release_folder, empty_cache, count_training,
                                                    capsys):
    out, mnist, _ = release_folder
    trainer, history = train_or_load(_settings(mnist), pretrained=str(out))
    text = capsys.readouterr().out
    assert "Pretrained λ=500 model: downloaded file://" in text and "SHA-256 verified" in text
    assert count_training == [] and history["val_rate"]
    assert _strings(trainer) == _strings(load_model(out / "lmbda500.npz"))
    classifier = train_or_load_classifier(str(mnist), pretrained=str(out))
    assert count_training == [] and classifier.predict(synthetic_digits(4)).shape == (4,)


def test_a_download_from_a_server_is_verified_and_cached_once(release_folder, server,
                                                              empty_cache, count_training,
                                                              monkeypatch, tmp_path, capsys):
    out, mnist, _ = release_folder
    _serve_manifest(monkeypatch, tmp_path, out)
    trainer, _ = train_or_load(_settings(mnist), pretrained=server)
    assert f"downloaded {server}lmbda500.npz (SHA-256 verified)" in capsys.readouterr().out
    assert _strings(trainer) == _strings(load_model(out / "lmbda500.npz"))
    again, _ = train_or_load(_settings(mnist), pretrained=server)
    second = capsys.readouterr().out
    assert "Loaded the λ=500 model" in second and "downloaded" not in second
    assert count_training == []


def _refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again: nothing listens there


@pytest.mark.parametrize("case, reason", [
    ("hash", "its SHA-256 does not match the manifest's"),
    ("cut", "the transfer ended early"),
    ("missing", "the server answers 404"),
    ("refused", "the download failed"),
])
def test_a_failed_download_says_why_stores_nothing_and_trains(
        release_folder, server, empty_cache, count_training, monkeypatch, tmp_path, capsys, case,
        reason):
    out, mnist, _ = release_folder
    changes = dict(hash=lambda e: e.update(sha256="0" * 64), cut=lambda e: e.update(
        file="cut.npz"), missing=lambda e: e.update(file="gone.npz"))
    _serve_manifest(monkeypatch, tmp_path, out, changes.get(case))
    place = f"http://127.0.0.1:{_refused_port()}/" if case == "refused" else server
    train_or_load(_settings(mnist), pretrained=place, verbose=0)
    lines = [line for line in capsys.readouterr().out.splitlines() if "Pretrained" in line]
    assert len(lines) == 1 and re.search(reason, lines[0]), lines
    assert lines[0].startswith("Pretrained λ=500 model: could not use ")
    assert lines[0].endswith("Nothing was stored.")
    assert count_training == [500]
    [folder] = empty_cache.iterdir()  # the model trained instead; no partial download
    assert not folder.name.startswith(".")


def test_other_settings_are_not_taken_from_the_manifest(release_folder, empty_cache, count_training,
                                                        capsys):
    out, mnist, _ = release_folder
    train_or_load(_settings(mnist, seed=1), pretrained=str(out), verbose=0)
    assert ("Pretrained λ=500 model: no pretrained model with exactly these settings and data is "
            "published") in capsys.readouterr().out
    assert count_training == [500]


def test_without_pretrained_nothing_is_looked_up(release_folder, empty_cache, count_training,
                                                 capsys):
    _, mnist, _ = release_folder
    train_or_load(_settings(mnist), verbose=0)
    assert "Pretrained" not in capsys.readouterr().out and count_training == [500]


def test_the_package_manifest_belongs_to_this_release():
    from mnist_compression import RELEASE

    manifest = json.loads(pretrained.PACKAGE_MANIFEST.read_text())
    assert manifest["release"] == RELEASE
    assert all({"key", "file", "bytes", "sha256", "kind"} <= set(e) for e in manifest["files"])


def test_the_command_line_export_takes_the_published_model(release_folder, empty_cache,
                                                           count_training, tmp_path, capsys):
    from mnist_compression.cli.codec import main

    out, mnist, _ = release_folder
    status = main(["export", "--lmbda", "500", "--epochs", "1", "--batch-size", "16",
                   "--data-dir", str(mnist), "--pretrained", str(out), "--quiet",
                   "-o", str(tmp_path / "model.npz")])
    assert status == 0 and count_training == []
    assert "SHA-256 verified" in capsys.readouterr().out
    assert _strings(load_model(tmp_path / "model.npz")) == _strings(
        load_model(out / "lmbda500.npz"))


def test_the_release_check_verifies_every_published_file(release_folder, tmp_path, capsys):
    import check_release

    out, _, manifest = release_folder
    assert check_release.main([str(out)]) == 0
    assert f"{len(manifest['files'])} of {len(manifest['files'])} files verified" in (
        capsys.readouterr().out)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for entry in manifest["files"]:
        (damaged / entry["file"]).write_bytes((out / entry["file"]).read_bytes())
    (damaged / pretrained.MANIFEST).write_text((out / pretrained.MANIFEST).read_text())
    first = manifest["files"][0]["file"]
    data = bytearray((damaged / first).read_bytes())
    data[-1] ^= 1
    (damaged / first).write_bytes(bytes(data))
    assert check_release.main([str(damaged)]) == 1
    assert f"FAILED  {first}: its SHA-256 does not match" in capsys.readouterr().out
