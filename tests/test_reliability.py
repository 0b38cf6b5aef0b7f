"""Hostile downloads, mirrors, manifests and caches (issue: reliability). Servers run on
127.0.0.1 in this process; nothing leaves the machine."""

import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from helpers import make_idx_folder

from mnist_compression.atomic_files import write_atomically
from mnist_compression.storage import cache, pretrained

BODY = bytes(range(256)) * 40  # 10,240 bytes: what the manifest promises
KEY = "lmbda500-epochs1-000000000000"


def _entry(**changes) -> dict:
    return dict(dict(key=KEY, file="m.npz", bytes=len(BODY),
                     sha256=hashlib.sha256(BODY).hexdigest(), kind="model"), **changes)


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Serves BODY at /m.npz, and misbehaves at other paths."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/silent.npz":  # accepts the connection, then says nothing
            time.sleep(3)
            return
        self.send_response(200)
        if self.path == "/huge.npz":
            self.send_header("Content-Length", str(5 << 30))
        elif self.path != "/endless.npz":
            self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        try:
            if self.path == "/drip.npz":  # one byte at a time, slowly
                for byte in BODY[:40]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
            elif self.path == "/endless.npz":  # more than promised, without end
                for _ in range(100_000):
                    self.wfile.write(bytes(1 << 16))
            else:
                self.wfile.write(BODY)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def hostile_server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def quick_bounds(monkeypatch):
    """A second per read, and a whole transfer of at most about a second."""
    monkeypatch.setattr(pretrained, "TIMEOUT", 1.0)
    monkeypatch.setattr(pretrained, "MIN_RATE", 1 << 30)


@pytest.mark.parametrize("name, reason", [
    ("silent.npz", r"the download failed \(.*timed out"),
    ("drip.npz", r"took longer than 1 s"),
    ("endless.npz", r"sends more than the manifest's 10,240 bytes"),
    ("huge.npz", r"announces 5,368,709,120 bytes, the manifest says 10,240"),
])
def test_a_hostile_server_is_stopped_within_its_bounds(hostile_server, quick_bounds, tmp_path,
                                                        name, reason):
    start = time.monotonic()
    with pytest.raises(pretrained.PretrainedError, match=reason):
        pretrained.download(hostile_server + name, _entry(file=name), tmp_path / "x",
                            progress=False)
    assert time.monotonic() - start < 5
    assert (tmp_path / "x").stat().st_size <= len(BODY) + (1 << 16)


def test_a_good_server_and_an_upper_case_hash_are_fine(hostile_server, tmp_path):
    entry = _entry(sha256=hashlib.sha256(BODY).hexdigest().upper())
    pretrained.download(hostile_server + "m.npz", entry, tmp_path / "x", progress=False)
    assert (tmp_path / "x").read_bytes() == BODY


def _mirror(tmp_path, entry=None, manifest=None):
    folder = tmp_path / "mirror"
    folder.mkdir(exist_ok=True)
    (folder / "m.npz").write_bytes(BODY)
    text = json.dumps(manifest if manifest is not None else dict(release="v", files=[entry]))
    (folder / pretrained.MANIFEST).write_text(text)
    return folder


@pytest.mark.parametrize("manifest, reason", [
    ("[]", "is not a valid manifest: it is not an object"),
    ("null", "is not a valid manifest"),
    ("3", "is not a valid manifest"),
    ('{"release": "v"}', 'a list of "files"'),
    ('{"files": [{"key": "k"}]}', "an entry's \"file\" is not a file name"),
    ('{"files": [{"key": "k", "file": "f", "bytes": 1}]}', "\"sha256\" is not 64 hex digits"),
    ("{not json", "is not a readable manifest"),
])
def test_a_malformed_manifest_is_named_in_one_line(tmp_path, manifest, reason):
    folder = _mirror(tmp_path)
    (folder / pretrained.MANIFEST).write_text(manifest)
    found, why = pretrained.find(KEY, str(folder))
    assert found is None and str(folder / pretrained.MANIFEST) in why and reason in why


def test_a_mirror_folder_that_does_not_exist_is_said_not_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv(pretrained.MIRROR_ENV, str(tmp_path / "typo"))
    found, why = pretrained.find(KEY)
    assert found is None and "typo is not a folder" in why and pretrained.MIRROR_ENV in why


@pytest.mark.parametrize("make", ["parent", "absolute", "link", "fifo", "device", "size"])
def test_a_folder_mirror_gives_only_regular_files_inside_it(tmp_path, make):
    folder = _mirror(tmp_path, _entry())
    (tmp_path / "outside.npz").write_bytes(BODY)
    name = {"parent": "../outside.npz", "absolute": str(tmp_path / "outside.npz"),
            "device": "/dev/zero"}.get(make, "odd.npz")
    if make == "link":
        (folder / name).symlink_to(tmp_path / "outside.npz")
    elif make == "fifo":
        os.mkfifo(folder / name)
    elif make == "size":
        (folder / name).write_bytes(BODY + b"x")
    (folder / pretrained.MANIFEST).write_text(json.dumps(dict(files=[_entry(file=name)])))
    (entry, origin), _ = pretrained.find(KEY, str(folder))
    start = time.monotonic()
    with pytest.raises(pretrained.PretrainedError, match="not a file in the mirror|not a regular "
                                                          "file|has 10,241 bytes"):
        pretrained.download(origin, entry, tmp_path / "x", progress=False)
    assert time.monotonic() - start < 5  # a pipe is never opened


def test_a_file_whose_hash_matches_but_is_not_a_model_is_not_stored(tmp_path, monkeypatch,
                                                                    capsys):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    folder = _mirror(tmp_path, _entry())

    def check(path):
        raise ValueError(f"{path} is not a model file")
    assert not cache.fetch_pretrained(KEY, "model.npz", "λ=500 model", str(folder), check=check)
    line = capsys.readouterr().out.strip()
    assert "its SHA-256 matches, but it is not the λ=500 model the manifest names" in line
    assert line.endswith("Nothing was stored.") and "downloaded" not in line
    assert list((tmp_path / "cache").iterdir()) == []


def test_partial_folders_left_by_killed_processes_are_removed_after_an_hour(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    old, fresh = tmp_path / ".partial-old", tmp_path / ".partial-new"
    for folder in (old, fresh):
        folder.mkdir()
        (folder / "model.npz").write_bytes(b"half")
    hour_ago = time.time() - 3700
    os.utime(old / "model.npz", (hour_ago, hour_ago))
    os.utime(old, (hour_ago, hour_ago))
    stored = cache.store_in_cache(KEY, lambda staging: (staging / "a").write_text("a"))
    assert not old.exists() and fresh.exists() and (stored / "a").read_text() == "a"


_STORE = """
import sys, time
from mnist_compression.storage import cache
def write(staging):
    (staging / "model.npz").write_text(sys.argv[1])
    time.sleep(1.0)  # both processes are filling their folders now
print(cache.store_in_cache("k", write).name)
"""


def test_two_processes_storing_one_key_keep_both(tmp_path):
    env = dict(os.environ, **{cache.CACHE_ENV: str(tmp_path)})
    runs = [subprocess.Popen([sys.executable, "-c", _STORE, name], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name in ("first", "second")]
    results = [run.communicate(timeout=60) for run in runs]
    assert all(run.returncode == 0 for run in runs), results
    assert sorted(out.strip() for out, _ in results) == ["k", "k.2"]
    assert sorted((tmp_path / name / "model.npz").read_text() for name in ("k", "k.2")) == [
        "first", "second"]


_WRITE = """
import sys, time
from mnist_compression.atomic_files import write_atomically
def write(f):
    time.sleep(1.0)  # both have checked that the name is free by now
    f.write(sys.argv[2].encode())
try:
    write_atomically(sys.argv[1], write)
    print("wrote")
except FileExistsError:
    print("refused")
"""


def test_two_writers_without_force_cannot_both_write_one_file(tmp_path):
    target = tmp_path / "out.mnc"
    runs = [subprocess.Popen([sys.executable, "-c", _WRITE, str(target), text],
                             stdout=subprocess.PIPE, text=True) for text in ("one", "two")]
    outcomes = sorted(run.communicate(timeout=60)[0].strip() for run in runs)
    assert outcomes == ["refused", "wrote"]
    assert target.read_text() in ("one", "two")
    assert [p.name for p in tmp_path.iterdir()] == ["out.mnc"]  # no temporary file left


def test_write_atomically_keeps_an_existing_file_and_names_the_target_on_failure(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("precious")
    with pytest.raises(FileExistsError):
        write_atomically(target, lambda f: f.write(b"new"))
    assert target.read_text() == "precious"

    def fail(f):
        raise OSError(28, "No space left on device")
    with pytest.raises(OSError, match=r"Cannot write .*new\.txt: No space left on device"):
        write_atomically(tmp_path / "new.txt", fail)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_a_cache_that_cannot_be_written_still_returns_the_trained_model(tmp_path, monkeypatch,
                                                                        capsys):
    from mnist_compression.settings import TrainingSettings
    from mnist_compression.training import train_or_load

    (tmp_path / "mnist").mkdir()
    make_idx_folder(tmp_path / "mnist")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocked / "cache"))
    settings = TrainingSettings(lmbda=500, epochs=1, batch_size=16,
                                data_dir=str(tmp_path / "mnist"))
    trainer, history = train_or_load(settings, verbose=0)
    out = capsys.readouterr().out
    assert "The model cache cannot keep a new model" in out and "trained but not kept" in out
    assert trainer is not None and len(history["loss"]) == 1
    assert np.isfinite(history["val_rate"][-1])


def test_a_model_in_another_key_s_folder_is_not_taken_for_it(tmp_path, monkeypatch, capsys,
                                                             count_training):
    import tensorflow as tf

    from mnist_compression.model.files import save_model
    from mnist_compression.model.variable_rate import VariableRateTrainer
    from mnist_compression.settings import TrainingSettings
    from mnist_compression.training import train_or_load

    (tmp_path / "mnist").mkdir()
    make_idx_folder(tmp_path / "mnist")
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    settings = TrainingSettings(lmbda=2000, epochs=1, batch_size=16,
                                data_dir=str(tmp_path / "mnist"))
    train_or_load(settings, verbose=0)
    [folder] = (tmp_path / "cache").iterdir()
    other = VariableRateTrainer((50, 2000, 10000), lmbda=2000)
    other(tf.zeros((1, 28, 28, 1), tf.uint8))
    (folder / "model.npz").unlink()
    save_model(other, folder / "model.npz", settings=settings.replace(levels="50,2000,10000"))
    capsys.readouterr()
    trainer, _ = train_or_load(settings, verbose=0)
    out = capsys.readouterr().out
    assert f"The cached entry in {folder} is damaged" in out
    assert ("holds a model trained with other settings than its place in the cache names (they "
            "differ in levels, lmbda)") in out
    assert count_training == [2000.0, 2000.0] and not hasattr(trainer, "levels")
