"""Pretrained models: published with each release, checked by SHA-256, kept in the model cache.

Introduced in notebook 04. `python -m mnist_compression release` (`make release-models`) trains
the models the notebooks use and writes them, with a manifest, into a release folder;
`docs/releasing.md` says how they are published. The manifest (`pretrained.json`, also shipped in
the package) lists each file with the model cache key of what it holds (settings, architecture
and data, see `cache.model_key`), its size and its SHA-256.

A model is downloaded with Keras' `get_file`, which shows progress and checks the SHA-256 before
returning (Keras is installed anyway, so this adds no dependency and no hand-written HTTP); the
hash is checked once more here, and `cache` moves the file into place atomically. A mirror
replaces the release address: `$MNIST_COMPRESSION_MODELS`, or `pretrained=` given a URL or a
folder; a folder with its own `pretrained.json` (as the release command writes it) brings its
own manifest, so an instructor can serve a class from a local or Drive folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .. import RELEASE, REPOSITORY

MIRROR_ENV = "MNIST_COMPRESSION_MODELS"
MANIFEST = "pretrained.json"
RELEASE_URL = f"https://github.com/{REPOSITORY}/releases/download/{RELEASE}/"
PACKAGE_MANIFEST = Path(__file__).with_name(MANIFEST)  # the hashes shipped with the code


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


def load_manifest(place: str) -> dict:
    """The manifest of a mirror folder that has one, else the package's."""
    local = None if _is_url(place) else Path(place).expanduser() / MANIFEST
    path = local if local is not None and local.is_file() else PACKAGE_MANIFEST
    return json.loads(path.read_text())


def find(key: str, pretrained=True):
    """``(entry, origin)`` for the published file that holds `key`, or None, with the reason, if
    no manifest entry matches."""
    place = source(pretrained)
    manifest = load_manifest(place)
    entry = next((e for e in manifest["files"] if e["key"] == key), None)
    if entry is None:
        return None, (f"no pretrained model with exactly these settings and data is published "
                      f"for {manifest['release']}")
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


def download(origin: str, sha256: str, target: Path) -> None:
    """Downloads `origin` to `target` (showing progress) and checks its SHA-256; raises
    PretrainedError with a one-line reason otherwise."""
    import tensorflow as tf

    try:
        tf.keras.utils.get_file(fname=target.name, origin=origin, file_hash=sha256,
                                hash_algorithm="sha256", cache_dir=str(target.parent),
                                cache_subdir=".")
    except Exception as err:  # Keras reports HTTP and network failures as plain Exceptions
        reason = " ".join(str(err).split()) or type(err).__name__
        if "hash does not match" in reason:
            reason = "its SHA-256 does not match the manifest's (damaged or replaced)"
        raise PretrainedError(reason) from None
    if file_sha256(target) != sha256:
        raise PretrainedError("its SHA-256 does not match the manifest's (damaged or replaced)")


__all__ = ["MANIFEST", "MIRROR_ENV", "PretrainedError", "RELEASE_URL", "download", "file_sha256",
           "find", "load_manifest", "source"]
