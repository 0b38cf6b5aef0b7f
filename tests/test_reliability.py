"""Hostile downloads, mirrors, manifests and caches (issue: reliability). Servers run on
127.0.0.1 in this process; nothing leaves the machine."""

import hashlib
import http.server
import json
import os
import re
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
        if self.path in ("/header-drip.npz", "/continue.npz"):  # headers that never end
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\n" if "drip" in self.path else b"")
                for _ in range(30):
                    self.wfile.write(b"X" if "drip" in self.path else
                                     b"HTTP/1.1 100 Continue\r\n\r\n")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if self.path == "/superscript.npz":  # a Content-Length that isdigit() but not a number
            self.send_response(200)
            self.send_header("Content-Length", "\u00b2")
            self.end_headers()
            self.wfile.write(BODY)
            return
        if self.path.startswith("/hop"):  # a slow chain of redirects
            time.sleep(0.4)
            self.send_response(302)
            self.send_header("Location", f"/hop{int(self.path[4:] or 0) + 1}")
            self.end_headers()
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
    ("silent.npz", r"timed out|took longer than 1 s"),
    ("drip.npz", r"took longer than 1 s"),
    ("endless.npz", r"sends more than the manifest's 10,240 bytes"),
    ("huge.npz", r"announces 5,368,709,120 bytes, the manifest says 10,240"),
    ("header-drip.npz", r"took longer than 1 s"),
    ("continue.npz", r"took longer than 1 s"),
    ("hop", r"took longer than 1 s|more than 5 redirects"),
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
    ('{"files": [{"key": "k"}]}', "an entry's \"file\" is not a plain file name"),
    ('{"files": [{"key": "k", "file": "../x.npz", "bytes": 1, "sha256": "%s"}]}' % ("0" * 64),
     "is not a plain file name"),
    ('{"files": [{"key": "k", "file": "a\\u0000b", "bytes": 1, "sha256": "%s"}]}' % ("0" * 64),
     "is not a plain file name"),
    ('{"files": [{"key": "k", "file": "a\\ud800", "bytes": 1, "sha256": "%s"}]}' % ("0" * 64),
     "is not a plain file name"),
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


@pytest.mark.parametrize("name", ["../outside.npz", "/dev/zero", "sub/m.npz", ".."])
def test_a_manifest_may_name_only_plain_files_of_its_folder(tmp_path, name):
    folder = _mirror(tmp_path, _entry(file=name))
    found, why = pretrained.find(KEY, str(folder))
    assert found is None and "is not a plain file name" in why


@pytest.mark.parametrize("make, reason", [
    ("link", "cannot be read (a link)"),
    ("fifo", "is not a regular file"),
    ("folder", "is not a regular file"),
    ("size", "has 10,241 bytes, the manifest says 10,240"),
])
def test_a_folder_mirror_gives_only_regular_files_inside_it(tmp_path, make, reason):
    folder = _mirror(tmp_path, _entry(file="odd.npz"))
    (tmp_path / "outside.npz").write_bytes(BODY)
    if make == "link":
        (folder / "odd.npz").symlink_to(tmp_path / "outside.npz")
    elif make == "fifo":
        os.mkfifo(folder / "odd.npz")
    elif make == "folder":
        (folder / "odd.npz").mkdir()
    else:
        (folder / "odd.npz").write_bytes(BODY + b"x")
    (entry, origin), _ = pretrained.find(KEY, str(folder))
    start = time.monotonic()
    with pytest.raises(pretrained.PretrainedError, match=re.escape(reason)):
        pretrained.download(origin, entry, tmp_path / "x", progress=False)
    assert time.monotonic() - start < 5  # a pipe is never waited on


@pytest.mark.parametrize("make", ["fifo", "folder", "dangling link"])
def test_a_mirror_manifest_that_is_not_a_regular_file_is_named(tmp_path, make):
    folder = _mirror(tmp_path, _entry())
    (folder / pretrained.MANIFEST).unlink()
    if make == "fifo":
        os.mkfifo(folder / pretrained.MANIFEST)
    elif make == "folder":
        (folder / pretrained.MANIFEST).mkdir()
    else:
        (folder / pretrained.MANIFEST).symlink_to(tmp_path / "nowhere")
    found, why = pretrained.find(KEY, str(folder))
    assert found is None and f"{folder / pretrained.MANIFEST} is not a regular file" in why


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


def test_odd_headers_and_origins_give_one_line(hostile_server, tmp_path):
    pretrained.download(hostile_server + "superscript.npz", _entry(file="superscript.npz"),
                        tmp_path / "x", progress=False)  # the odd header is ignored
    assert (tmp_path / "x").read_bytes() == BODY
    for origin, reason in (("http://[::1/m.npz", "is not a URL"),
                           ("ftp://127.0.0.1/m.npz", "neither a folder nor an http"),
                           ("file://127.0.0.1/tmp/m.npz", "names another host")):
        with pytest.raises(pretrained.PretrainedError, match=re.escape(reason)):
            pretrained.download(origin, _entry(), tmp_path / "y", progress=False)
    folder = _mirror(tmp_path, _entry())
    (folder / "link.npz").symlink_to(folder / "m.npz")
    with pytest.raises(pretrained.PretrainedError, match=r"cannot be read \(a link\)"):
        pretrained.download("FILE://" + str(folder / "link.npz"), _entry(file="link.npz"),
                            tmp_path / "z", progress=False)


def test_a_cache_that_cannot_be_written_refuses_a_download_in_one_line(tmp_path, monkeypatch,
                                                                       capsys):
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "a-file"))
    folder = _mirror(tmp_path, _entry())
    assert not cache.fetch_pretrained(KEY, "model.npz", "λ=500 model", str(folder))
    line = capsys.readouterr().out.strip()
    assert "the model cache cannot keep it" in line and line.endswith("Nothing was stored.")


def test_folders_whose_number_is_not_ascii_are_not_a_key_s(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    (tmp_path / f"{KEY}.\u00b2").mkdir()
    assert cache.find_cached(KEY, lambda folder: folder) is None
    assert cache.store_in_cache(KEY, lambda staging: None).name == KEY


@pytest.mark.parametrize("header, reason", [
    (dict(descr="<f4", fortran_order=False, shape=(True, 2)), "is not a tuple of at most"),
    (dict(descr="<f4", fortran_order=False, shape=(-5, -2)), "is not a tuple of at most"),
    (dict(descr="<U0", fortran_order=False, shape=(3,)), "plain numbers or text"),
    (dict(descr="<f4", fortran_order=False, shape=(0, 10**30)), "do not fit its header"),
    (dict(descr=[("a", "<f4", (50,))], fortran_order=False, shape=(1,)), "plain numbers"),
])
def test_npy_headers_numpy_would_choke_on_are_refused(header, reason):
    import io

    from mnist_compression.storage.npy import NpyError, read_npy

    text = repr(header)
    text += " " * (63 - (len(text) + 10) % 64) + "\n"
    raw = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode()
    with pytest.raises(NpyError, match=re.escape(reason)):
        read_npy(io.BytesIO(raw), len(raw), 1 << 20)


def test_model_files_that_lie_about_sizes_counts_or_numbers_are_refused_unread(tmp_path):
    import zipfile

    from mnist_compression.storage.array_files import checksum
    from mnist_compression.storage.model_files import ModelFileError, read_model_file

    def write(name, members, record):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, data in members.items():
                with archive.open(f"{member}.npy", "w") as f:
                    f.write(data)
            with archive.open("record.npy", "w") as f:
                np.lib.format.write_array(f, np.array(json.dumps(record)))
        return path

    def npy(array):
        import io
        buffer = io.BytesIO()
        np.save(buffer, array)
        return buffer.getvalue()

    record = dict(format="mnist-compression-model", version=2, arrays={"x": [50]})
    big = write("liar.npz", {"x": npy(np.zeros(1 << 22, np.float32))}, record)
    with pytest.raises(ModelFileError, match="array x would take .* more than the record's shape"):
        read_model_file(big)
    many = write("many.npz", {str(i): b"" for i in range(1001)}, record)
    with pytest.raises(ModelFileError, match="has 1,002 members, more than a model file holds"):
        read_model_file(many)
    arrays = {"x": np.zeros(50, np.float32)}
    huge = dict(record, lmbda=10**400, latent_dims=50, version=2)
    huge["sha256"] = checksum(huge, arrays)
    with pytest.raises(ModelFileError, match="must be a positive finite number"):
        read_model_file(write("huge.npz", {"x": npy(arrays["x"])}, huge))
    deep = dict(record, settings=json.loads("[" * 100 + "]" * 100))
    with pytest.raises(ModelFileError, match="nested deeper than 64 levels"):
        read_model_file(write("deep.npz", {"x": npy(arrays["x"])}, deep))


def test_an_idx_header_promising_more_than_a_gigabyte_is_refused_unread(tmp_path):
    import struct

    from mnist_compression.data import MNISTFormatError, read_idx

    path = tmp_path / "x-images-idx3-ubyte"
    path.write_bytes(struct.pack(">IIII", 2051, 2**32 - 1, 28, 28) + bytes(100))
    with pytest.raises(MNISTFormatError, match="more than an IDX file read here may hold"):
        read_idx(path, 2051)


def test_an_mnc_file_of_more_than_a_million_digits_is_refused(tmp_path):
    import zlib

    from mnist_compression.codec.mnc import MNCError, decode_mnc, encode_mnc, encode_varint

    with pytest.raises(ValueError, match="at most 1,000,000 digits"):
        encode_mnc([b""] * 1_000_001, bytes(16))
    count = 1_000_001
    body = encode_varint(count) + bytes(count)  # a million and one empty strings
    head = b"\x89MNC\x01" + bytes(16) + encode_varint(len(body) + 4)
    data = head + body + zlib.crc32(head + body).to_bytes(4, "big")
    with pytest.raises(MNCError, match="more than an .mnc file may"):
        decode_mnc(data)


def test_output_names_are_checked_the_way_they_will_be_written(tmp_path):
    from mnist_compression.atomic_files import check_output

    long_name = tmp_path / ("a" * 245 + ".mnc")  # fine as a name; a longer temporary one is not
    write_atomically(long_name, lambda f: f.write(b"x"))
    assert long_name.read_bytes() == b"x"
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(NotADirectoryError, match="is a link to nothing"):
        check_output(tmp_path / "dangling" / "x.mnc")
    with pytest.raises(ValueError, match="NUL"):
        check_output(tmp_path / "a\0b")


def test_the_umask_is_not_changed_to_find_a_file_mode(monkeypatch):
    from mnist_compression import atomic_files

    monkeypatch.setattr(os, "umask", lambda *a: pytest.fail("umask changed while threads run"))
    assert atomic_files.default_mode(0o666) & 0o777 == atomic_files.default_mode(0o666)
