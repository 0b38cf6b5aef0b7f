# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Solutions to appendix A: a codec that decodes the same everywhere
#
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/solutions/A1_solutions.html)
#
# *Worked solutions to the exercises of [appendix A](../A1_same_everywhere.ipynb).* They use part
# 3's model ($\lambda = 2000$), from the model cache or the published models (trained here if
# neither has it: 2–10 min on a 2-core CPU), and the `.mnc` file the appendix wrote.

# %% [markdown]
# ## Setup
#
# In Colab, the next cell installs the helper package `mnist_compression` (a pinned release) and
# stops with what to do if that fails; on your own machine (`make lab`) it only keeps TensorFlow's
# start-up messages quiet.

# %%
import os
import subprocess
import sys
from importlib.metadata import version

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up logs quiet
INSTALL_SOURCE = "mnist-compression @ git+https://github.com/mnist-compression/mnist-compression@v0.2.0"  # noqa: E501
if "google.colab" in sys.modules:
    # %pip install --quiet "{INSTALL_SOURCE}"
    if subprocess.run([sys.executable, "-c", "import mnist_compression"]).returncode:
        raise RuntimeError("Installing mnist-compression failed: check the internet connection "
                           "and the address above, then run this cell again.")
    stale = [name for name in ("numpy", "tensorflow")  # replaced after this session loaded them
             if name in sys.modules and sys.modules[name].__version__ != version(name)]
    if stale:
        raise RuntimeError(f"The install replaced {' and '.join(stale)}, which this session had "
                           f"loaded: restart the session (Runtime menu), then run all cells again.")

# %% [markdown]
# The same parameters as the appendix.

# %% tags=["parameters"]
epochs = None  # None: the original recipe's 15
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
pretrained = True  # a published model with these settings, if any
output_dir = "build"  # where the appendix wrote its .mnc file

# %%
from pathlib import Path

import numpy as np

from mnist_compression import (
    DecodeError,
    TrainingSettings,
    check_answer,
    code_digits,
    compress_to_file,
    decompress_file,
    load_mnist_arrays,
    make_mnist_codec,
    train_or_load,
)

settings = TrainingSettings.from_recipe("original", epochs=epochs, train_examples=train_examples,
                                        validation_examples=validation_examples,
                                        data_dir=data_dir)
trainer, _ = train_or_load(settings, pretrained=pretrained)
compressor, decompressor = make_mnist_codec(trainer)
test_digits, _ = load_mnist_arrays("test", data_dir, limit=validation_examples)

# %% [markdown]
# ## Exercise 1: random strings
#
# Decoding all of them at once: the error lists the strings that failed the check.

# %%
random_strings = [np.random.default_rng(i).bytes(6) for i in range(1000)]
try:
    decompressor.entropy_model.decode_symbols(random_strings)
    failed = 0
except DecodeError as err:
    failed = len(err.failed)
my_share = 1 - failed / len(random_strings)
check_answer("A1.1", my_share, decompressor=decompressor, strings=random_strings)

# %% [markdown]
# Why that share? The check asks whether the decoder, after the 50th latent, has used up the
# string exactly as an encoder's final bytes would leave it. A decoder that runs past the end of
# a string reads zeros, so a string shorter than what the latents need is completed with zeros
# and usually passes; in a longer one, the bytes beyond what the latents use must look like an
# encoder's last bytes, which random bytes rarely do. The share therefore falls with the length:

# %%
for length in (2, 4, 5, 6, 8, 12):
    batch = [np.random.default_rng(i).bytes(length) for i in range(1000)]
    try:
        decompressor.entropy_model.decode_symbols(batch)
        failed = 0
    except DecodeError as err:
        failed = len(err.failed)
    print(f"{length:2d} random bytes: {1 - failed / len(batch):.1%} pass the check")

# %% [markdown]
# In the reference run (the full λ = 2000 model of the release), 17.4% of the 6-byte strings
# pass, 97.4% of the 4-byte and 0.6% of the 8-byte ones. A model trained at other settings
# spends a different number of bits per digit, so its shares move with it (a smoke run's barely
# trained model needs about 13 bytes per digit, so every 6-byte string passes). A cheap check
# that lets through a sixth of the strings of a typical length is no integrity check, which is
# why files carry a checksum.
#
# ## Exercise 2: one flipped bit in a bare string
#
# A bit flipped in the middle of a real string, decoded with the check on:

# %%
coded = code_digits(compressor, decompressor, test_digits[:1])
string = bytearray(coded["strings"][0])
string[len(string) // 2] ^= 1
try:
    damaged = decompressor([bytes(string)])[0]
    error = np.abs(damaged.astype(int) - coded["decoded"][0].astype(int)).mean() / 255
    print(f"not noticed: the digit changed by a mean absolute error of {error:.4f}")
except DecodeError:
    print("noticed: the string fails the sanity check")

# %% [markdown]
# Either can happen, depending on the string and the bit. In the reference run the check did not
# notice, and the digit moved by a mean absolute error of 0.116, about as far as the pixelwise
# median image lies from the digits (0.1255, part 7): every latent from the flipped bit on can
# decode differently, so the digit can change a little or completely (a range coder has no
# resynchronisation). Another bit or string can give another outcome; a run at other settings
# may differ. That is why an `.mnc` file carries a
# CRC-32, which catches every single flipped bit.
#
# ## Exercise 3: what the fingerprint covers
#
# The same model with a larger tail mass, and the file the appendix wrote:

# %%
other, other_decompressor = make_mnist_codec(trainer, tail_mass=2**-6)
print("same fingerprint:", other.fingerprint == compressor.fingerprint)
path = Path(output_dir) / f"test_digits_lambda{settings.lmbda:g}.mnc"
if not path.exists():  # the appendix was run elsewhere: write the file again
    compress_to_file(compressor, test_digits, path)
try:
    decompress_file(other_decompressor, path)
except ValueError as err:
    print(f"refused: {err}")

# %% [markdown]
# In the reference run, as in any: the fingerprints differ and the file is refused. The tail
# mass decides how far each table reaches (between the prior's `tail_mass / 2` and
# `1 - tail_mass / 2` quantiles; values beyond are escape-coded), so the tables change, and with
# them the fingerprint: the file is refused before a single string is
# decoded, instead of decoding to wrong digits. The weights did not change at all. A fingerprint
# identifies what the *decoder* computes with, not the training run.
