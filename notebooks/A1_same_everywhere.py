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
# # Appendix A. A codec that decodes the same everywhere
#
# *Learned data compression with MNIST — appendix A, after part 9.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/A1_same_everywhere.ipynb)
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/A1_same_everywhere.html)
#
# **Overview.** Parts 4 to 8 promise that a string decodes to the same digit on any computer,
# with any TensorFlow. This appendix shows what keeping that promise takes, and measures it:
# transforms in integer arithmetic instead of floats, coding tables built without TensorFlow, a
# file format that names the model it needs and catches damage, and a check against
# tensorflow-compression, the library the original tutorial uses. Nothing here is needed to
# follow the parts; it is what lets a string outlive the machine that made it.
#
# **Time.** Needs part 3's model: from the model cache when part 3 ran on this machine, else
# the published one when this release has it (`pretrained = True`, a 10.2 MB download), else
# trained here: 2–10 min on a 2-core CPU (10–40 s an epoch). Everything else takes about 40 s.

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
# The training parameters match part 3, so its cached model is reused; with different values
# (or no cache) the model is trained here first.
# With `pretrained = True`, a model that this release publishes for exactly these settings is
# downloaded instead of trained (10.2 MB per model; one line says so when there is none).

# %% tags=["parameters"]
lmbda = 2000.0
recipe = "original"  # "original": the tutorial's; "fast": 4 epochs, not 15 (see docs/results.md)
epochs = None  # None: the recipe's (15 original, 4 fast)
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits (also the digits measured)
batch_size = None  # None: the recipe's (128)
seed = 0
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
cache_in_drive = False  # in Colab: keep trained models in Google Drive
pretrained = True  # a published model with these settings, if any; or a mirror's URL or folder
output_dir = "build"  # where the .mnc file is written

# %%
from pathlib import Path

import numpy as np

from mnist_compression import (
    DecodeError,
    TrainingSettings,
    against_reference,
    check_answer,
    code_digits,
    compress_to_file,
    decompress_file,
    keep_cache_in_drive,
    load_mnist_arrays,
    make_mnist_codec,
    to_unit_range,
    train_or_load,
)

if cache_in_drive:
    keep_cache_in_drive()

# %% [markdown]
# ## Load part 3's model and its codec
#
# The model, its codec (part 4) and the test digits:

# %%
settings = TrainingSettings.from_recipe(
    recipe, lmbda=lmbda, epochs=epochs, train_examples=train_examples, batch_size=batch_size,
    validation_examples=validation_examples, seed=seed, data_dir=data_dir)
trainer, history = train_or_load(settings, pretrained=pretrained)
compressor, decompressor = make_mnist_codec(trainer)
test_digits, _ = load_mnist_arrays("test", data_dir, limit=validation_examples)

# %% [markdown]
# ## Why a codec cannot trust floats
#
# A decoder has to repeat the encoder's arithmetic exactly, in two places. The **coding tables**:
# if the receiver's count for one symbol differs by one from the sender's, every symbol after it
# decodes wrongly. And the **synthesis transform**: the same latents must give the same pixels,
# or one string means different digits on different machines (the analysis transform matters
# less: a latent that rounds differently gives another valid string, just not the same one).
#
# TensorFlow does not promise either. Its float32 kernels add in an order that depends on the
# release, the processor and the number of threads, and float addition is not associative, so
# the last bits of a sum can change; near a rounding boundary, so does the rounded result. This
# project runs on two TensorFlow releases (2.14 with Python 3.11, 2.20 with Python 3.13), and a
# string made on one must decode on the other.
#
# ## Transforms in integer arithmetic
#
# So the codec does not run the trained networks as they are. When it is built, each layer's
# weights are turned into integers with a power-of-two scale (20 significant bits); activations
# are integers with 16 fractional bits; products are summed exactly (integers small enough that
# float64 adds them without rounding, in any order), the leaky ReLU divides by 5 with floor
# division, and each layer rounds its sums back to 16
# fractional bits (Ballé, Johnston and Minnen, "Integer networks for data compression with
# latent-variable models", ICLR 2019). Integer sums give the same result in any order, so the
# transforms are identical on every machine. How close do they stay to the trained float
# networks? On the test digits, the rounded latents of both analysis transforms, and the pixels
# both synthesis transforms draw from the same latents:

# %%
exact_latents = compressor.transforms.latents(test_digits)
float_latents = np.round(trainer.analysis_transform(to_unit_range(test_digits)).numpy())
exact_pixels = compressor.transforms.digits(exact_latents).astype(int)
float_pixels = trainer.synthesis_transform(exact_latents.astype(np.float32)).numpy()
float_pixels = np.clip(np.round(255 * float_pixels), 0, 255).astype(int)
print(f"latents that differ: {np.mean(exact_latents != float_latents):.4%}")
print(f"pixels that differ: {np.mean(exact_pixels != float_pixels):.4%}, by at most "
      f"{np.abs(exact_pixels - float_pixels).max()} grey level(s)")

# %% [markdown]
# Those shares are the price of reproducibility: fixed when the codec is built, they apply to
# every digit it codes (most digits come out identical), and they are the same on every machine.
#
# ## Coding tables, and a fingerprint
#
# The tables come from the prior's probabilities in float32, and those depend on how `exp`,
# the sigmoid and a sum round. So they are built in numpy, without TensorFlow, by a module that
# reproduces bit for bit what tensorflow-compression 2.14.1 computes on TensorFlow 2.14 (its
# `exp`, its sigmoid and its summation order; `mnist_compression.coding.tf_float32`): one row
# per latent, each probability a count out of $2^{12}$ (part 4). Sender and
# receiver must also agree on *which* model they use. The codec's **fingerprint** is a 16-byte
# hash of everything the decoder needs: the tables, their offsets and the integer synthesis
# transform. Any change to those changes it.

# %%
tables = compressor.entropy_model.tables
print(f"{len(tables.lengths)} tables, {tables.lengths.sum():,} counts in all, precision "
      f"{tables.precision} bits")
print(f"fingerprint: {compressor.fingerprint.hex()}")

# %% [markdown]
# ## A file that says what it holds
#
# A bare string does not say where it ends, which model made it or whether it is intact. The
# range decoder does check, after the last latent, that it read every byte and stopped where an
# encoder could have left it; but how often does it notice a string that lost its last byte?

# %%
coded = code_digits(compressor, decompressor, test_digits)
cut_short = [string[:-1] for string in coded["strings"] if len(string) > 1]
try:
    decompressor.entropy_model.decode_symbols(cut_short)
    noticed = 0
except DecodeError as err:
    noticed = len(err.failed)
print(f"the check notices {noticed:,} of {len(cut_short):,} strings cut short by one byte "
      f"({noticed / len(cut_short):.1%})")

# %% [markdown]
# A sanity check, not an integrity check. So the codec keeps strings in `.mnc` files: a magic
# number and a version, the model's fingerprint, the size of the rest, the number of digits,
# each string's length, the strings, and a CRC-32 checksum of everything before it
# (`docs/file-formats.md` has the byte layout). The declared size catches every truncation, the
# checksum every one or two flipped bits, and the fingerprint a file read with the wrong model:

# %%
path = Path(output_dir) / f"test_digits_lambda{lmbda:g}.mnc"
written = compress_to_file(compressor, test_digits, path, overwrite=True)
print(f"{path}: {written.size:,} bytes; identical to decoding the strings directly:",
      np.array_equal(decompress_file(decompressor, path), coded["decoded"]))
damaged = bytearray(path.read_bytes())
damaged[len(damaged) // 2] ^= 1  # one bit in the middle of the strings
broken = path.with_suffix(".damaged.mnc")
broken.write_bytes(bytes(damaged))
try:
    decompress_file(decompressor, broken)
except ValueError as err:
    print(f"one flipped bit: {err}")

# %% [markdown]
# ## The same numbers as tensorflow-compression
#
# The original tutorial imports `tfc.NoisyLogistic` and `tfc.ContinuousBatchedEntropyModel`
# from tensorflow-compression. This package carries its own versions of both: that library's
# last release needs TensorFlow 2.14 and Python ≤ 3.11, while Colab runs newer ones, and it
# builds its tables with whatever TensorFlow's kernels compute, which later releases round
# differently. Where tensorflow-compression is
# installed (this project's Python 3.11 environment), the next cell builds its entropy model for
# our prior and compares the tables, its strings for the first thousand test digits, and its
# decoding of ours; elsewhere it says that it cannot.

# %%
found = against_reference(compressor, test_digits[:1000])
if found is None:
    print("tensorflow-compression is not installed here (it needs Python <= 3.11, TF 2.14).")
else:
    print(f"over {found['compared']:,} digits: identical tables {found['tables']}, identical "
          f"strings {found['strings']}, identical decoding {found['decoded']}")

# %% [markdown]
# ## How the project checks all of this
#
# A test suite keeps these promises, not this notebook. On every change, the project's CI
# builds both supported stacks, makes strings, `.mnc` files and model files on each, and decodes
# them on the other, byte for byte (`tests/test_cross_stack.py`); it compares tables, strings,
# rates and gradients with tensorflow-compression on the stack where it installs
# (`tests/test_tfc_reference.py`), and feeds the decoders random and damaged input
# (`tests/test_fuzz.py`; `docs/reliability.md` has the counts).
#
# ## Summary
#
# - A decoder must repeat the encoder's arithmetic exactly; TensorFlow's float32 kernels do not
#   promise that across releases and machines.
# - The codec runs the trained transforms in integer arithmetic and builds its coding tables in
#   numpy with TensorFlow 2.14's float32 rounding: a small share of latents and pixels differ
#   from the float networks (the shares printed above), the same everywhere.
# - The range decoder's end-of-string check is a sanity check that misses many damaged
#   strings; `.mnc` files add the model's fingerprint, a declared size and a CRC-32.
# - Where tensorflow-compression installs, its tables and strings equal this package's.
#
# ## Exercises
#
# Each exercise says what it costs on a 2-core CPU at the defaults and gives a hint. Worked
# solutions are in [`solutions/A1_solutions.ipynb`](solutions/A1_solutions.ipynb); the check
# cell below says whether a number you found is right.
#
# 1. **Random strings.** What share of the 1,000 random 6-byte strings below does the decoder's
#    sanity check let through? Check your number below. *Cost:* under a minute. *Hint:*
#    `decompressor.entropy_model.decode_symbols(random_strings)` raises a `DecodeError` whose
#    `failed` lists the strings that failed.
# 2. **One flipped bit in a bare string.** Flip one bit in the middle of one string (not a file)
#    and decode it. Does the decoder notice, and how different is the digit? *Cost:* under a
#    minute. *Hint:* `s = bytearray(coded["strings"][0]); s[len(s) // 2] ^= 1`, then
#    `decompressor([bytes(s)])` inside `try`; compare the two digits' mean absolute difference.
# 3. **What the fingerprint covers.** Build a codec from the same model with
#    `tail_mass=2**-6`. Does its fingerprint change, and can it read the `.mnc` file written
#    above? *Cost:* under a minute. *Hint:* `make_mnist_codec(trainer, tail_mass=2**-6)`; each
#    table spans the integers between the prior's `tail_mass / 2` and `1 - tail_mass / 2`
#    quantiles (values outside are escape-coded); `decompress_file` raises a `ValueError` that
#    says why it refuses.

# %%
random_strings = [np.random.default_rng(i).bytes(6) for i in range(1000)]
my_share = None  # exercise 1: the share of random_strings that pass the sanity check
check_answer("A1.1", my_share, decompressor=decompressor, strings=random_strings)
