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
# # 4. Compressing digits to real bit strings
#
# *Learned data compression with MNIST — part 4 of 6.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/main/notebooks/04_compression.ipynb)
#
# **Overview.** So far the rate was an estimate. Now we split the trained model into a real
# encoder and decoder, turn 16 test digits into byte strings with a **range coder**, decode them
# again, and compare each string's length with the information content the model predicted.

# %% [markdown]
# ## Setup
#
# In Colab, the next cell installs the helper package; elsewhere it does nothing.

# %%
import sys

INSTALL_SOURCE = "mnist-compression @ git+https://github.com/mnist-compression/mnist-compression"
if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", INSTALL_SOURCE], check=True)

# %% [markdown]
# The training parameters match part 3, so its cached model is reused; with different values
# (or no cache) the model is trained here first.

# %% tags=["parameters"]
lmbda = 2000.0
epochs = 15
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
batch_size = 128
seed = 0
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
first_digit = 48  # the 16 digits shown are test digits first_digit ... first_digit + 15

# %%
import numpy as np

from mnist_compression.cache import train_or_load
from mnist_compression.data import load_mnist_arrays
from mnist_compression.entropy_models import BACKEND
from mnist_compression.models import make_mnist_codec
from mnist_compression.plotting import display_digits

print("entropy coding backend:", BACKEND)
trainer, history = train_or_load(lmbda, epochs, train_examples, validation_examples, batch_size,
                                 seed=seed, data_dir=data_dir)

# %% [markdown]
# ## Split the model into a compressor and a decompressor
#
# The sender needs the analysis transform and the entropy model; the receiver needs the entropy
# model and the synthesis transform. At test time there is no noise: latents are rounded, so we
# call them $\hat y$ and the reconstruction $\hat x$.
#
# With `compression=True`, the entropy model turns the learned prior into integer frequency
# tables for the range coder. Encoder and decoder must use *identical* tables — one bit of
# disagreement and decoding goes astray — so `make_mnist_codec` builds one entropy model and
# hands the same instance to both sides.

# %%
compressor, decompressor = make_mnist_codec(trainer)

# %% [markdown]
# ## Compress and decompress 16 digits
#
# The compressor returns one byte string per digit and, alongside, its information content
# $-\sum_i \log_2 P(\hat y_i)$ in bits under the prior.

# %%
test_digits, _ = load_mnist_arrays("test", data_dir, limit=first_digit + 16)
originals = test_digits[first_digit:]
strings, entropies = compressor(originals)
print(f"first digit: 0x{strings[0].numpy().hex()} "
      f"({8 * len(strings[0].numpy())} bits; information content {entropies[0]:.2f} bits)")

# %% [markdown]
# Decoding needs nothing but the strings (and the shared model):

# %%
reconstructions = decompressor(strings)
display_digits(originals, strings, entropies, reconstructions);

# %% [markdown]
# Each cell shows the original on the left, the decoded digit on the right, the string in hex
# and the information content. Some digits keep their identity in about five bytes, while odd
# strokes get smoothed into the typical shape of the class.
#
# ## Strings are a little longer than the information content
#
# A string has a whole number of bytes, and the range coder works with probabilities rounded to
# 12-bit integers. Both cost a little, and for strings this short the overhead is visible:

# %%
string_bits = np.array([8 * len(s) for s in strings.numpy()])
for bits, length in zip(entropies.numpy()[:6], string_bits):
    print(f"information content {bits:6.2f} bits → string {length:3d} bits")

# %% [markdown]
# Over all 10,000 test digits the picture is the same on average:

# %%
all_digits, _ = load_mnist_arrays("test", data_dir, limit=validation_examples)
all_strings, all_bits = compressor(all_digits)
all_lengths = np.array([8 * len(s) for s in all_strings.numpy()])
print(f"mean information content {all_bits.numpy().mean():.2f} bits, "
      f"mean string length {all_lengths.mean():.2f} bits, "
      f"overhead {all_lengths.mean() - all_bits.numpy().mean():.2f} bits per digit")

# %% [markdown]
# Range coding is asymptotically optimal: coding many symbols in one long string, its length
# per symbol approaches the cross entropy of the data under the prior, which the training rate
# bounds from above. The few bits of overhead we see are a per-string cost — coding the 16 digits
# as one string would spread it over all of them.
#
# ## Summary
#
# - The trained model splits into a compressor (analysis transform + entropy model) and a
#   decompressor (entropy model + synthesis transform) that share one set of coding tables.
# - Strings are real and decodable: the round trip reproduces the rounded latents exactly.
# - String lengths track the information content, with an overhead of a few bits per string
#   from whole bytes and integer frequencies.
#
# ## Exercises
#
# 1. Build two separate codecs with `make_mnist_codec` and decode one's strings with the other.
#    Does it still work, and under what condition would it fail?
# 2. Change `first_digit` to look at other digits. Which digits get the longest strings?
# 3. Concatenate the information contents of all 16 digits and round up to whole bytes. How much
#    would coding them as one string save?
