"""Pretrained models: published with each release, checked by SHA-256, kept in the model cache.

Introduced in notebook 04. `mnist-compression release` (`make release-models`) trains the models
the notebooks use and writes them, with a manifest, into a release folder; `docs/releasing.md`
says how they are published. The manifest (`pretrained.json`, also shipped in the package) lists
each file with the model cache key of what it holds (settings, architecture and data, see
`cache.model_key`), its size in bytes and its SHA-256.

A mirror replaces the release address: `$MNIST_COMPRESSION_MODELS`, or `pretrained=` given a URL
or a folder; a folder with its own `pretrained.json` (as the release command writes it) brings its
own manifest, so an instructor can serve a class from a local or Drive folder.

Every download is bounded (`docs/reliability.md`): a file may not exceed the size its manifest
states, each network read waits at most `TIMEOUT` seconds, and the whole transfer at most
`TIMEOUT` plus the time the declared size takes at `MIN_RATE`. A folder mirror's files must be
regular files inside the folder. The SHA-256 is checked before anything is kept.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import re
import socket
import stat
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm import tqdm

from .. import RELEASE, REPOSITORY

MIRROR_ENV = "MNIST_COMPRESSION_MODELS"
MANIFEST = "pretrained.json"
RELEASE_URL = f"https://github.com/{REPOSITORY}/releases/download/{RELEASE}/"
PACKAGE_MANIFEST = Path(__file__).with_name(MANIFEST)  # the hashes shipped with the code
TIMEOUT = 30.0  # seconds one network read may wait
MIN_RATE = 64 * 1024  # bytes per second a transfer must average (after TIMEOUT seconds' grace)
MAX_MANIFEST_BYTES = 1 << 20
MAX_REDIRECTS = 5
_CHUNK = 1 << 16
_SHA256 = re.compile("[0-9a-fA-F]{64}")


class PretrainedError(Exception):
    """A published file could not be had, or is not the one the manifest names."""


def source(pretrained=True) -> str:
    """Where published files come from: `pretrained` if it names a URL or folder, else
    $MNIST_COMPRESSION_MODELS, else this release's assets."""
    if isinstance(pretrained, (str, os.PathLike)):
        return os.fspath(pretrained)
    return os.environ.get(MIRROR_ENV) or RELEASE_URL


def _is_url(place: str) -> bool:
    return "://" in place


def _is_plain_name(name) -> bool:
    """A file name without folders, NUL or characters a file system cannot hold."""
    if not isinstance(name, str) or not name or name in (".", "..") or "\0" in name:
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return Path(name).name == name and "\\" not in name


def _entry_problem(entry) -> str | None:
    """What is wrong with one manifest entry, or None."""
    if not isinstance(entry, dict):
        return "an entry is not an object"
    for name, test, expected in (
            ("key", lambda v: isinstance(v, str) and v, "a text"),
            ("file", _is_plain_name, "a plain file name"),
            ("bytes", lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
             "a positive integer"),
            ("sha256", lambda v: isinstance(v, str) and _SHA256.fullmatch(v), "64 hex digits")):
        if not test(entry.get(name)):
            return f'an entry\'s "{name}" is not {expected}'
    return None


def load_manifest(place: str) -> dict:
    """The manifest of a mirror folder (which must exist), else the package's; raises
    PretrainedError naming the manifest and what is wrong with it."""
    path = PACKAGE_MANIFEST
    if not _is_url(place):
        folder = Path(place).expanduser()
        if not folder.is_dir():
            raise PretrainedError(f"the mirror {place} is not a folder (check the name given to "
                                  f"pretrained= or ${MIRROR_ENV})")
        if os.path.lexists(folder / MANIFEST):
            path = folder / MANIFEST
            if not stat.S_ISREG(os.lstat(path).st_mode):
                raise PretrainedError(f"{path} is not a regular file (a link, folder, device or "
                                      f"pipe); a mirror's manifest must be one")
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise PretrainedError(f"{path} is larger than a manifest may be")
        manifest = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError) as err:
        reason = " ".join(str(err).split())[:120]
        raise PretrainedError(f"{path} is not a readable manifest ({reason})") from None
    problem = None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        problem = 'it is not an object with a list of "files"'
    else:
        problem = next(filter(None, map(_entry_problem, manifest["files"])), None)
    if problem:
        raise PretrainedError(f"{path} is not a valid manifest: {problem}")
    return manifest


def find(key: str, pretrained=True):
    """``(entry, origin)`` for the published file that holds `key`, or None, with the reason
    (nothing published for it, or a mirror or manifest that cannot be used)."""
    place = source(pretrained)
    try:
        manifest = load_manifest(place)
    except PretrainedError as err:
        return None, str(err)
    entry = next((e for e in manifest["files"] if e["key"] == key), None)
    if entry is None:
        return None, (f"no pretrained model with exactly these settings and data is published "
                      f"for {manifest.get('release', 'this release')}")
    if _is_url(place):
        origin = place.rstrip("/") + "/" + entry["file"]
    else:
        origin = (Path(place).expanduser() / entry["file"]).absolute().as_uri()
    return (entry, origin), None


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(origin: str, entry: dict, target: Path, progress: bool = True) -> None:
    """Copies the manifest `entry`'s file from `origin` (a folder's file:// URI or an HTTP(S)
    URL) to `target` within the bounds above, then checks its SHA-256; raises PretrainedError
    with a one-line reason otherwise (`target` may then hold a part, for the caller to drop)."""
    try:
        parts = urllib.parse.urlsplit(origin)
    except ValueError as err:
        raise PretrainedError(f"{origin!r} is not a URL ({err})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("file", "http", "https"):
        raise PretrainedError(f"{origin!r} is neither a folder nor an http(s) URL")
    if scheme == "file" and parts.netloc not in ("", "localhost"):
        raise PretrainedError(f"{origin!r} names another host; a folder mirror must be local")
    size = entry["bytes"]
    with open(target, "wb") as out, tqdm(total=size, unit="B", unit_scale=True,
                                         desc=entry["file"], file=sys.stderr, leave=False,
                                         disable=not progress) as bar:
        if scheme == "file":
            _copy_from_folder(Path(urllib.request.url2pathname(parts.path)), entry, out, bar)
        else:
            _fetch(origin, size, out, bar)
    if file_sha256(target) != entry["sha256"].lower():
        raise PretrainedError("its SHA-256 does not match the manifest's (damaged or replaced)")


def _copy_from_folder(path: Path, entry: dict, out, bar) -> None:
    """A folder mirror's file: a plain name, a regular file (no link, device or pipe) of the
    size the manifest states. The file is opened without following a link or waiting on a
    pipe, and judged by what was opened, so a name swapped after a check cannot slip through;
    at most the declared size is copied."""
    size = entry["bytes"]
    if not _is_plain_name(path.name) or path.name != entry["file"]:
        raise PretrainedError(f"the manifest names {entry['file']!r}, which is not a file in the "
                              f"mirror folder")
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        what = "a link" if err.errno == errno.ELOOP else err.strerror
        raise PretrainedError(f"{path} cannot be read ({what})") from None
    info = os.fstat(handle)
    if not stat.S_ISREG(info.st_mode) or info.st_size != size:
        os.close(handle)
        raise PretrainedError(
            f"{path} is not a regular file (a folder, device or pipe)"
            if not stat.S_ISREG(info.st_mode) else
            f"{path} has {info.st_size:,} bytes, the manifest says {size:,}")
    with os.fdopen(handle, "rb") as source_file:
        copied = 0
        while block := source_file.read(min(_CHUNK, size + 1 - copied)):
            copied += len(block)
            if copied > size:
                raise PretrainedError(f"{path} grew beyond the manifest's {size:,} bytes")
            out.write(block)
            bar.update(len(block))


def _cut(connection) -> None:
    """Ends a connection from another thread: its reads return at once."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _fetch(url: str, size: int, out, bar) -> None:
    """Downloads at most `size` bytes from `url` (following up to MAX_REDIRECTS redirects),
    each read waiting at most TIMEOUT seconds, the whole, headers and redirects included, at
    most TIMEOUT + size / MIN_RATE seconds: a timer ends the connection then."""
    limit = TIMEOUT + size / MIN_RATE
    deadline = time.monotonic() + limit
    for _ in range(MAX_REDIRECTS + 1):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise PretrainedError(f"{url!r} is not an http(s) URL")
        kind = (http.client.HTTPSConnection if parts.scheme.lower() == "https" else
                http.client.HTTPConnection)
        connection = kind(parts.hostname, parts.port, timeout=TIMEOUT)
        timer = threading.Timer(max(deadline - time.monotonic(), 0.0), _cut, [connection])
        timer.start()
        try:
            connection.request("GET", urllib.parse.urlunsplit(("", "", parts.path or "/",
                                                               parts.query, "")))
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                url = urllib.parse.urljoin(url, response.getheader("Location"))
                continue
            if response.status != 200:
                raise PretrainedError(f"the server answers {response.status} "
                                      f"{' '.join(str(response.reason).split())[:80]}")
            _read_body(response, size, out, bar)
            if time.monotonic() >= deadline:  # the timer ended the body early
                raise OSError("cut at the deadline")
            return
        except (OSError, ValueError, http.client.HTTPException) as err:
            if time.monotonic() >= deadline:
                raise PretrainedError(f"the transfer took longer than {limit:.0f} s (slower "
                                      f"than {MIN_RATE // 1024} KiB/s)") from None
            if isinstance(err, http.client.IncompleteRead):
                raise PretrainedError(f"the transfer ended early ({err.expected:,} bytes "
                                      f"missing)") from None
            reason = " ".join(str(getattr(err, "reason", err)).split())[:120]
            raise PretrainedError(f"the download failed ({reason or type(err).__name__})") from None
        finally:
            timer.cancel()
            connection.close()
    raise PretrainedError(f"more than {MAX_REDIRECTS} redirects")


def _read_body(response, size: int, out, bar) -> None:
    declared = response.getheader("Content-Length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > size:
        raise PretrainedError(f"the server announces {int(declared):,} bytes, the manifest says "
                              f"{size:,}")
    received = 0
    while block := response.read1(_CHUNK):
        received += len(block)
        if received > size:
            raise PretrainedError(f"the server sends more than the manifest's {size:,} bytes")
        out.write(block)
        bar.update(len(block))
    if received != size:
        raise http.client.IncompleteRead(b"", size - received)


__all__ = ["MANIFEST", "MIN_RATE", "MIRROR_ENV", "PretrainedError", "RELEASE_URL", "TIMEOUT",
           "download", "file_sha256", "find", "load_manifest", "source"]
