"""Artefacts move between stacks: a model file and an .mnc file made on one decode on the other.

CI runs the suite on Python 3.11 (TensorFlow 2.14) and on 3.13 (TensorFlow 2.20, today's Colab
stack), side by side, with $MNIST_COMPRESSION_EXCHANGE naming one folder, then this file once
more on each, so both directions are checked whichever stack finished first.
Each stack writes, through the command line, a model it trained on real digits, 1,000 test digits
compressed to an .mnc file, and the digits it decodes from that file, into <folder>/<stack>/ (and
the same for a variable-rate model, coded at a λ between its levels, and for a hyperprior
model, whose strings hold its side latents first); and checks every other
stack's artefacts there: the same decoded digits and the same .mnc bytes.
"""

import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from mnist_compression.cli.codec import main
from mnist_compression.data import load_mnist_arrays

EXCHANGE_ENV = "MNIST_COMPRESSION_EXCHANGE"
STACK = f"py{sys.version_info[0]}{sys.version_info[1]}"
VARIABLE_LAMBDA = 777.7  # between two levels of the variable-rate model: gains interpolated


@pytest.fixture(scope="module")
def exchange():
    chosen = os.environ.get(EXCHANGE_ENV)
    if not chosen:
        pytest.skip(f"cross-stack: set {EXCHANGE_ENV} to one folder on two stacks (CI does)")
    return Path(chosen).absolute()


def _codec(*argv):
    assert main([str(a) for a in argv]) == 0, argv


@pytest.fixture(scope="module")
def own(exchange, mnist_dir, tmp_path_factory, monkeypatch_module):
    """This stack's artefacts, written once."""
    folder = exchange / STACK
    if (folder / "done").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch_module.setenv("MNIST_COMPRESSION_CACHE", str(tmp_path_factory.mktemp("cache")))
    _codec("export", "--lmbda", 500, "--epochs", 1, "--train-examples", 4096,
           "--validation-examples", 1000, "--data-dir", mnist_dir, "--quiet", "--force",
           "-o", folder / "model.npz")
    digits = load_mnist_arrays("test", mnist_dir, limit=1000)[0]
    np.save(folder / "digits.npy", digits)
    _codec("compress", "--model", folder / "model.npz", folder / "digits.npy", "--force",
           "-o", folder / "digits.mnc")
    _codec("decompress", "--model", folder / "model.npz", folder / "digits.mnc", "--force",
           "-o", folder / "decoded.npy")
    _codec("export", "--recipe", "variable-rate", "--epochs", 1, "--train-examples", 4096,
           "--validation-examples", 1000, "--data-dir", mnist_dir, "--quiet", "--force",
           "-o", folder / "variable.npz")
    _codec("compress", "--model", folder / "variable.npz", "--lmbda", VARIABLE_LAMBDA,
           folder / "digits.npy", "--force", "-o", folder / "variable.mnc")
    _codec("decompress", "--model", folder / "variable.npz", folder / "variable.mnc",
           "--force", "-o", folder / "variable_decoded.npy")
    _codec("export", "--lmbda", 2000, "--hyper-latent-dims", 8, "--epochs", 1,
           "--train-examples", 4096, "--validation-examples", 1000, "--data-dir", mnist_dir,
           "--quiet", "--force", "-o", folder / "hyperprior.npz")
    _codec("compress", "--model", folder / "hyperprior.npz", folder / "digits.npy", "--force",
           "-o", folder / "hyperprior.mnc")
    _codec("decompress", "--model", folder / "hyperprior.npz", folder / "hyperprior.mnc",
           "--force", "-o", folder / "hyperprior_decoded.npy")
    (folder / "done").write_text(json.dumps(dict(stack=STACK, python=platform.python_version(),
                                                 tensorflow=tf.__version__)))
    return folder


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_this_stack_wrote_its_artefacts(own):
    for name in ("model.npz", "digits.npy", "digits.mnc", "decoded.npy", "variable.npz",
                 "variable.mnc", "variable_decoded.npy", "hyperprior.npz", "hyperprior.mnc",
                 "hyperprior_decoded.npy", "done"):
        assert (own / name).stat().st_size > 0, name


def test_other_stacks_artefacts_decode_and_encode_identically(own, exchange, tmp_path):
    others = [d for d in sorted(exchange.iterdir()) if d.name != STACK and (d / "done").exists()]
    if not others:
        pytest.skip(f"cross-stack: no other stack's artefacts in {exchange} yet")
    for other in others:
        for model, mnc, expected, at in (("model", "digits", "decoded", ()),
                                         ("variable", "variable", "variable_decoded",
                                          ("--lmbda", VARIABLE_LAMBDA)),
                                         ("hyperprior", "hyperprior", "hyperprior_decoded", ())):
            _codec("decompress", "--model", other / f"{model}.npz", other / f"{mnc}.mnc",
                   "-o", tmp_path / f"{other.name}-{mnc}.npy")
            decoded = np.load(tmp_path / f"{other.name}-{mnc}.npy")
            assert decoded.tobytes() == np.load(other / f"{expected}.npy").tobytes(), mnc
            _codec("compress", "--model", other / f"{model}.npz", *at, other / "digits.npy",
                   "-o", tmp_path / f"{other.name}-{mnc}.mnc")
            assert (tmp_path / f"{other.name}-{mnc}.mnc").read_bytes() == (
                other / f"{mnc}.mnc").read_bytes(), mnc
