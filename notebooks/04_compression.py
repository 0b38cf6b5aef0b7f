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
# *Learned data compression with MNIST — part 4 of 9.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/04_compression.ipynb)
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/04_compression.html)
#
# **Overview.** So far the rate was an estimate. Now we split the trained model into a real
# encoder and decoder, see how a **range coder** turns probabilities into bits, compress 16 test
# digits into byte strings, decode them again, and compare each string's length with its
# **information content**, $-\sum_i \log_2 P(\hat y_i)$: the bits the prior says the rounded
# latents are worth (part 2's code length, summed over the latents). Last, all 10,000 test
# digits go into one file.
#
# **Time.** Needs part 3's model: from the model cache when part 3 ran on this machine, else
# the published one when this release has it (`pretrained = True`, a 10.2 MB download), else
# trained here: 2–10 min on a 2-core CPU (10–40 s an epoch). Everything else takes about 25 s.

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
validation_examples = None  # None: all 10,000 test digits (also the digits written to a file)
batch_size = None  # None: the recipe's (128)
seed = 0
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
cache_in_drive = False  # in Colab: keep trained models in Google Drive
pretrained = True  # a published model with these settings, if any; or a mirror's URL or folder
first_digit = 48  # the 16 digits shown are test digits first_digit ... first_digit + 15
output_dir = "build"  # where the .mnc file is written

# %%
from pathlib import Path

import numpy as np

from mnist_compression import (
    MNISTCompressor,
    MNISTDecompressor,
    TrainingSettings,
    bits_per_latent,
    check_answer,
    code_digits,
    compress_to_file,
    decompress_file,
    display_digits,
    empirical_entropy_bits,
    keep_cache_in_drive,
    load_mnist_arrays,
    make_mnist_codec,
    narrow,
    plot_latent_bits,
    plot_narrowing,
    shortest_bits,
    show_source,
    train_or_load,
)

if cache_in_drive:
    keep_cache_in_drive()

# %% [markdown]
# Part 3's model, from the cache (or trained now if these settings are new):

# %%
settings = TrainingSettings.from_recipe(
    recipe, lmbda=lmbda, epochs=epochs, train_examples=train_examples, batch_size=batch_size,
    validation_examples=validation_examples, seed=seed, data_dir=data_dir)
trainer, history = train_or_load(settings, pretrained=pretrained)

# %% [markdown]
# ## How a range coder spends fractional bits
#
# Part 2 said a symbol of probability $p$ costs $-\log_2 p$ bits. A range coder gets there by
# coding a whole message as one number. Start with the interval $[0, 1)$; for each symbol, keep
# the share of the current interval that the symbol's probability gives it. After the message,
# the interval's width is the product of the probabilities, and writing down *any* number inside
# it identifies the message — that takes about $-\log_2(\text{width})$ bits, the sum of the
# symbols' code lengths. Here is the message `aaba` with $P(a) = 0.8$ and $P(b) = 0.2$:

# %%
steps = narrow("aaba", {"a": 0.8, "b": 0.2})
for step in steps:
    print(f"after {step.symbol!r}: [{float(step.low):.4f}, {float(step.low + step.width):.4f})"
          f"  width {float(step.width):.4f} = {-np.log2(float(step.width)):.2f} bits")
print("bits that land inside:", shortest_bits(steps[-1].low, steps[-1].width))

# %% [markdown]
# The same narrowing, drawn: each row is the interval after one more symbol, split into the
# shares of `a` and `b`; the darker share is the one the next symbol keeps.

# %%
plot_narrowing(steps, {"a": 0.8, "b": 0.2});

# %% [markdown]
# Four symbols in four bits, although `b` alone "costs" 2.3: the three likely `a`s cost a
# third of a bit each. The decoder repeats the same narrowing and, at each step, picks the
# symbol whose share contains the number. The real coder does this with 32-bit integers,
# probabilities quantised to counts out of $2^{12} = 4096$, and bytes written as soon as their
# value is settled. Each latent's table covers the integers where its prior has almost all of its
# mass (all but a *tail mass* of $2^{-8}$); a latent outside that range is written with an
# **escape code**: one reserved table entry, then the distance beyond the table in an
# Elias-gamma code and its sign, which costs more bits but keeps every integer codable.
#
# ## Split the model into a compressor and a decompressor
#
# The sender needs the analysis transform and the entropy model; the receiver needs the entropy
# model and the synthesis transform. Encoder and decoder must use *identical* probability
# tables — one count of disagreement and decoding goes astray — so `make_mnist_codec` builds one
# entropy model for both sides. The tables are built the same way on every installation,
# without TensorFlow's own arithmetic, so a string made on one computer decodes on another.

# %%
compressor, decompressor = make_mnist_codec(trainer)

# %% [markdown]
# The compressor runs the analysis transform, rounds the latents, and range-codes them. It also
# returns each digit's information content, $-\sum_i \log_2 P(\hat y_i)$ under the prior:

# %%
show_source(MNISTCompressor.compress_with_information)

# %% [markdown]
# Both transforms run in exact **integer arithmetic** here (`transforms.latents` and
# `transforms.digits`), so that a string decodes to the same digit on every machine and every
# TensorFlow release; [appendix A](A1_same_everywhere.ipynb) shows how, and how close that stays
# to the trained networks. The decompressor reverses the steps:

# %%
show_source(MNISTDecompressor.decompress)

# %% [markdown]
# ## Compress and decompress 16 digits

# %%
test_digits, _ = load_mnist_arrays("test", data_dir, limit=validation_examples)
originals = test_digits[first_digit:first_digit + 16]
strings, information_bits = compressor(originals)
print(f"first digit: 0x{strings[0].hex()} ({8 * len(strings[0])} bits; "
      f"information content {information_bits[0]:.2f} bits)")

# %% [markdown]
# Decoding needs nothing but the strings (and the shared model):

# %%
reconstructions = decompressor(strings)
display_digits(originals, strings, information_bits, reconstructions,
               title=f"λ = {lmbda:g}: original | decoded, with each string");

# %% [markdown]
# Each cell shows the original on the left, the decoded digit on the right, the string in hex,
# the bits actually sent and the information content. Odd strokes get smoothed into a more
# regular shape: the model spends its bits where they lower the mean absolute pixel error most,
# which is not necessarily what makes a digit recognisable (part 5 measures that).
#
# ## On average, strings cost a little more than the information content
#
# A string has a whole number of bytes, and the coder works with probabilities rounded to
# 12-bit counts. For one string the length can fall on either side of the information content;
# averaged over all test digits, the overhead is positive:

# %%
coded = code_digits(compressor, decompressor, test_digits)
information, lengths = coded["information_bits"], coded["string_bits"]
print(f"mean information content {information.mean():.2f} bits, mean string {lengths.mean():.2f} "
      f"bits (overhead {lengths.mean() - information.mean():.2f})")
print(f"{(lengths < information).mean():.0%} of the strings are shorter than their information "
      f"content; the longest string has {lengths.max() // 8} bytes")

# %% [markdown]
# ## Where the bits go
#
# Which of the 50 latents carry the message? Averaging $-\log_2 P(\hat y_i)$ over the test
# digits, per latent, shows that the model uses only part of its latent space: the prior of an
# unused latent has collapsed to a spike at zero, and that latent costs nothing.

# %%
latents = compressor.transforms.latents(test_digits)
plot_latent_bits(bits_per_latent(trainer.prior, latents));

# %% [markdown]
# ## Measure what one prior per latent wastes
#
# Each latent is coded under its own fixed prior, so the bits it spends on average are a
# cross-entropy (part 2): the entropy of its values plus the KL divergence between those values
# and the code. The entropy is what a code fitted to exactly these test digits, latent by
# latent, would spend; the KL is what the model's own code wastes by not matching them. The
# code that writes the strings is the 12-bit tables, not the prior itself (they round its
# probabilities and cut off its tails into the escape), so we measure the KL against both:

# %%
ideal = empirical_entropy_bits(latents)
under_prior = bits_per_latent(trainer.prior, latents)
under_tables = compressor.entropy_model.tables.code_bits(latents).mean(axis=0)
misfit = under_tables - ideal
print(f"bits per digit: a code fitted to these values, latent by latent: {ideal.sum():.2f}; "
      f"the prior: {under_prior.sum():.2f} (KL {(under_prior - ideal).sum():.2f}); "
      f"the tables: {under_tables.sum():.2f} (KL {misfit.sum():.2f})")
print("largest misfits against the tables:", ", ".join(
    f"latent {i} {misfit[i]:.2f} bits" for i in np.argsort(misfit)[::-1][:3]))

# %% [markdown]
# A small KL says each latent's code fits that latent's values well. What no prior of one
# latent at a time can express is what it never sees: that latents move together, and that a
# "1" spreads its latents differently from an "8". Those cost bits too, inside the entropies
# above. The field's answer is to send a little *side information* first, such as a scale per
# latent predicted from a second, small latent: the scale *hyperprior* of Ballé, Minnen, Singh,
# Hwang and Johnston,
# [Variational image compression with a scale hyperprior](https://arxiv.org/abs/1802.01436)
# (ICLR 2018).

# %% [markdown]
# ## All test digits in one file
#
# A string alone does not say where it ends or which model made it, so the codec keeps strings
# in `.mnc` files: a small header with the model's fingerprint, each string's length, and a
# checksum ([appendix A](A1_same_everywhere.ipynb) looks inside). The same works from a
# terminal: `mnist-compression codec compress`, see the README.

# %%
path = Path(output_dir) / f"test_digits_lambda{lmbda:g}.mnc"
written = compress_to_file(compressor, test_digits, path, overwrite=True)
count = len(test_digits)
print(f"{path}: {written.size:,} bytes for {count:,} digits = {written.size / count:.2f} bytes "
      f"per digit on disk ({written.header_bytes / count:.2f} of them header and lengths)")
print(f"information content: {information.mean() / 8:.2f} bytes per digit")
print("decodes to the same digits:", np.array_equal(decompress_file(decompressor, path),
                                                     coded["decoded"]))

# %% [markdown]
# How close can a range coder get? Coding many symbols in one long string, its length per
# symbol approaches the **cross-entropy** $-\frac1N\sum_n \log_2 Q(s_n)$ of the symbols $s_n$
# under the probabilities $Q$ it codes with — here the 12-bit tables, not the prior itself, plus
# the bits of any escape codes. The overhead measured above (strings against information
# content) is that difference plus a per-string cost: each string is rounded to whole bytes and
# the coder flushes its state at the end. The `.mnc` file's length byte per digit comes on top
# and is not part of that overhead. Coding all digits as one string would spread the per-string
# cost over all of them, at the price of not being able to decode one digit alone.
#
# ## Glossary: the bit counts of this series
#
# - **noisy rate**: $-\log_2 p(\tilde y)$ of the *noisy* latents under the prior's density, the
#   training signal (parts 2 and 3, `training=True`);
# - **rate** or **information content**: $-\log_2 P(\hat y)$ of the *rounded* latents under the
#   prior, what an ideal coder would spend (parts 2–5, `training=False`, `information_bits`);
# - **real strings**: the length of the range coder's actual bit strings, in whole bytes (parts
#   4, 5 and 7);
# - **`.mnc` bytes**: a whole file's size per digit, with each string's length byte and the
#   header (parts 4 and 7);
# - **payload**: a classical codec's bits without its headers and fixed tables (part 7);
# - **bits under the tables**: $-\log_2$ of the 12-bit tables' probabilities (and escape codes),
#   what the real strings approach (this part, `tables.code_bits`);
# - **the tables' entropy** $\sum_i H(Q_i)$: the bits a string needs on average if its latents
#   are drawn from the tables themselves, as when random bytes are decoded (part 6,
#   `tables.entropy_bits`);
# - *not a bit count*: part 6's likelihood and negative ELBO are $-\log_2$ of a *density* over
#   pixels scaled to $[0, 1]$; they shift with the pixels' units and can be negative, so they
#   are never set beside the counts above.
#
# All count bits *per digit* (784 pixels); divide by 784 for bits per pixel. The validation
# metrics of training are rates of rounded latents; the strings are what you would store.
#
# ## Summary
#
# - A range coder narrows an interval by each symbol's probability; the message costs about
#   $-\log_2$ of the final width, the sum of the symbols' information contents.
# - The trained model splits into a compressor (analysis transform + entropy model) and a
#   decompressor (entropy model + synthesis transform) that share one set of coding tables.
# - Strings are real and decodable, identically on every machine: tables and transforms use
#   exactly reproducible arithmetic (appendix A).
# - On average a string costs a few bits more than its information content; an `.mnc` file
#   adds a length byte per digit and a small header.
#
# ## Exercises
#
# Each exercise says what it costs on a 2-core CPU at the defaults and gives a hint. Worked
# solutions are in [`solutions/04_solutions.ipynb`](solutions/04_solutions.ipynb); the check
# cells below say whether a number you found is right.
#
# 1. **Two codecs from one model.** Build a second codec with `make_mnist_codec(trainer)` and
#    decode the first one's strings with it. Does it work, and when would it fail?
#    *Cost:* under a minute. *Hint:* compare the two `fingerprint`s; the tables are built from
#    the prior with the same reproducible numpy arithmetic every time. What changes them?
# 2. **The longest strings.** Which test digits get the longest strings? *Cost:* under a minute.
#    *Hint:* `np.argsort(coded["string_bits"])[-16:]` are the 16 longest; show them with
#    `display_digits` as above.
# 3. **One string for 16 digits.** How many bytes would coding the 16 digits above as one string
#    save, compared with 16 separate strings? Check your number below. *Cost:* under a minute.
#    *Hint:* separately they take `sum(len(s) for s in strings)` bytes; one string takes
#    about the summed information content, rounded up to whole bytes.

# %%
my_saving = None  # exercise 3: bytes saved by one string for the 16 digits
check_answer("04.3", my_saving, strings=strings, information_bits=information_bits)
