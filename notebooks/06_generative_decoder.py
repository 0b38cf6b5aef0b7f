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
# # 6. The decoder as a generative model
#
# *Learned data compression with MNIST — part 6 of 7.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/06_generative_decoder.ipynb)
#
# **Overview.** A decompressor turns any bit string it is given into a digit. Feed it strings it
# never produced — plain random bytes — and it still draws digits. The original tutorial does
# this with its $\lambda = 2000$ model; we do it with that model and with the low-rate
# $\lambda = 300$ model of part 5, side by side, and see why a good compressor is, in disguise,
# a generative model.

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
# The training parameters match parts 3 and 5, whose models are reused from the cache when
# present.
# With `pretrained = True`, a model that this release publishes for exactly these settings is
# downloaded instead of trained (10 MB per model; one line says so when there is none).

# %% tags=["parameters"]
lambdas = [2000.0, 300.0]  # the original tutorial's model, and the low-rate one
recipe = "original"  # "original": the tutorial's; "fast": 4 epochs, not 15, loss 1.4-3.3% higher
epochs = None  # None: the recipe's (15 original, 4 fast)
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
batch_size = None  # None: the recipe's (128)
seed = 0  # also fixes the random strings
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
cache_in_drive = False  # in Colab: keep trained models in Google Drive
pretrained = True  # a published model with these settings, if any; or a mirror's URL or folder
string_bytes = 8  # length of each random string
samples = 16

# %%
import numpy as np

from mnist_compression.cache import train_or_load
from mnist_compression.codec import make_mnist_codec
from mnist_compression.data import load_mnist_arrays
from mnist_compression.evaluation import bits_per_latent, string_bits
from mnist_compression.notebook_tools import keep_cache_in_drive
from mnist_compression.plotting import show_digits
from mnist_compression.settings import TrainingSettings

if cache_in_drive:
    keep_cache_in_drive()
models = {lmbda: train_or_load(TrainingSettings.from_recipe(
    recipe, lmbda=lmbda, epochs=epochs, train_examples=train_examples, batch_size=batch_size,
    validation_examples=validation_examples, seed=seed, data_dir=data_dir),
    pretrained=pretrained)[0] for lmbda in lambdas}

# %% [markdown]
# ## Turn off the sanity check
#
# By default the range decoder checks, after the last latent, that it has consumed the string
# exactly as an encoder would have written it, and fails otherwise: a cheap guard against
# corrupted or mismatched data. Random bytes fail that check, so we build codecs without it.

# %%
codecs = {lmbda: make_mnist_codec(trainer, decode_sanity_check=False)
          for lmbda, trainer in models.items()}

# %% [markdown]
# ## Decode random strings
#
# The same random strings go to each model's decoder.

# %%
rng = np.random.default_rng(seed)
strings = [rng.bytes(string_bytes) for _ in range(samples)]
for lmbda, (_, decompressor) in codecs.items():
    show_digits(decompressor(strings), title=f"λ = {lmbda:g}: {samples} random strings of "
                                             f"{string_bytes} bytes, decoded");

# %% [markdown]
# ## Why this works
#
# Part 4 showed how the range decoder works: it reads the bits as a number in $[0, 1)$ and, latent
# by latent, picks the integer whose share of the current interval contains that number. If the
# bits are uniformly random, the number is uniform too, so each integer is picked with
# *approximately* the probability the prior gives it — approximately, because the tables hold
# probabilities rounded to 12-bit counts and values in the far tails come from an escape code
# instead. Decoding random bits thus *samples* the latents from the prior, and the synthesis
# transform maps those samples to images.
#
# How long must the random strings be? The decoder stops after the last latent; whatever bits
# it has not needed are never read. Compare the string length with what each model actually
# spends on real digits, and count the latents that carry any information (as in part 4):

# %%
test_digits, _ = load_mnist_arrays("test", data_dir, limit=validation_examples)
for lmbda, (compressor, _) in codecs.items():
    lengths = string_bits(compressor(test_digits)[0]) / 8
    active = bits_per_latent(models[lmbda].prior, compressor.transforms.latents(test_digits))
    print(f"λ = {lmbda:g}: {(active >= 0.01).sum()} of 50 latents carry information; real "
          f"strings take {lengths.mean():.1f} bytes on average, at most {lengths.max():.0f}; "
          f"{(lengths > string_bytes).mean():.2%} are longer than {string_bytes} bytes")

# %% [markdown]
# Where a model's strings are shorter than the random ones, the random tail is simply ignored;
# where they are longer, the decoder reads past the end (as zeros) and the last latents are
# decided by that padding, not by chance.
#
# Whether the images look like digits depends on how well the prior describes the latents of
# real digits. Our prior treats the latents as independent, which is only roughly true, so some
# samples are mixtures or scribbles. The two models fail differently. At $\lambda = 300$ only a
# handful of latents carry information (the count above), so only those are drawn at random:
# the samples are smooth, typical digits, with little variety. At $\lambda = 2000$ several times
# as many latents are drawn independently, and their combinations — which an independent prior
# does not constrain — more often fail to fit together into one digit.
#
# The connection runs both ways: a model that generates data well assigns it high probability,
# and high probability is what a compressor needs for short codes.
#
# ## Summary
#
# - With the sanity check off, any byte string decodes to a digit.
# - Random bits decode to latents sampled (approximately) from the prior, so the decoder
#   becomes a generator.
# - Sample quality reflects how well the prior fits real latents — the same quality that makes
#   strings short. An independent prior with few active latents gives typical, similar digits;
#   with many active latents, often incoherent ones.
#
# ## Exercises
#
# 1. Set `string_bytes` to 1, 2 and 4. From which length on do the $\lambda = 300$ samples stop
#    changing when you append more bytes, and why is that length different for
#    $\lambda = 2000$?
# 2. Decode the all-zero string `bytes(8)` with both models. What digit do you get, and why is
#    it the same for every length of zeros?
# 3. Sample latents directly from the prior, `models[300.0].prior.sample(16, seed=1)`, round
#    them, and decode them with `models[300.0].synthesis_transform`. Do you get the same kind of
#    images?
