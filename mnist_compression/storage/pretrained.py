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

import hashlib
import http.client
import json
import os
import re
import stat
import sys
import time
import urllib.error
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


def _entry_problem(entry) -> str | None:
    """What is wrong with one manifest entry, or None."""
    if not isinstance(entry, dict):
        return "an entry is not an object"
    for name, test, expected in (
            ("key", lambda v: isinstance(v, str) and v, "a text"),
            ("file", lambda v: isinstance(v, str) and v, "a file name"),
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
        if (folder / MANIFEST).is_file():
            path = folder / MANIFEST
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
    size = entry["bytes"]
    with open(target, "wb") as out, tqdm(total=size, unit="B", unit_scale=True,
                                         desc=entry["file"], file=sys.stderr, leave=False,
                                         disable=not progress) as bar:
        if origin.startswith("file://"):
            _copy_from_folder(origin, entry, out, bar)
        else:
            _fetch(origin, size, out, bar)
    if file_sha256(target) != entry["sha256"].lower():
        raise PretrainedError("its SHA-256 does not match the manifest's (damaged or replaced)")


def _copy_from_folder(origin: str, entry: dict, out, bar) -> None:
    """A folder mirror's file: a plain name, a regular file (no link, device or pipe) of the
    size the manifest states."""
    name = entry["file"]
    if Path(name).name != name or name in (".", ".."):
        raise PretrainedError(f"the manifest names {name!r}, which is not a file in the mirror "
                              f"folder")
    path = Path(urllib.request.url2pathname(origin.removeprefix("file://")))
    try:
        info = os.lstat(path)
    except OSError as err:
        raise PretrainedError(f"{path} cannot be read ({err.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise PretrainedError(f"{path} is not a regular file (a link, folder, device or pipe)")
    if info.st_size != entry["bytes"]:
        raise PretrainedError(f"{path} has {info.st_size:,} bytes, the manifest says "
                              f"{entry['bytes']:,}")
    with open(path, "rb") as source_file:
        for block in iter(lambda: source_file.read(_CHUNK), b""):
            out.write(block)
            bar.update(len(block))


def _fetch(url: str, size: int, out, bar) -> None:
    """Downloads at most `size` bytes from `url`, each read waiting at most TIMEOUT seconds,
    the whole at most TIMEOUT + size / MIN_RATE seconds."""
    limit = TIMEOUT + size / MIN_RATE
    deadline = time.monotonic() + limit
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > size:
                raise PretrainedError(f"the server announces {int(declared):,} bytes, the "
                                      f"manifest says {size:,}")
            received = 0
            while block := response.read1(_CHUNK):
                received += len(block)
                if received > size:
                    raise PretrainedError(f"the server sends more than the manifest's "
                                          f"{size:,} bytes")
                if time.monotonic() > deadline:
                    raise PretrainedError(f"the transfer took longer than {limit:.0f} s "
                                          f"(slower than {MIN_RATE // 1024} KiB/s)")
                out.write(block)
                bar.update(len(block))
    except urllib.error.HTTPError as err:
        raise PretrainedError(f"the server answers {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:  # refused,
        # an unknown host, a read that timed out, a response cut short
        reason = getattr(err, "reason", err)
        raise PretrainedError(f"the download failed ({' '.join(str(reason).split())})") from None
    if received != size:
        raise PretrainedError(f"the server sent {received:,} of the manifest's {size:,} bytes")


__all__ = ["MANIFEST", "MIN_RATE", "MIRROR_ENV", "PretrainedError", "RELEASE_URL", "TIMEOUT",
           "download", "file_sha256", "find", "load_manifest", "source"]
