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
# *Learned data compression with MNIST — part 6 of 6.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/main/notebooks/06_generative_decoder.ipynb)
#
# **Overview.** A decompressor turns any bit string it is given into a digit. Feed it strings it
# never produced — plain random bytes — and it still draws digits. This part does exactly that
# with the low-rate model ($\lambda = 300$) and explains why a good compressor is, in disguise, a
# generative model.

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
# The training parameters match part 5's $\lambda = 300$ model, which is reused from the cache
# when present.

# %% tags=["parameters"]
lmbda = 300.0
epochs = 15
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
batch_size = 128
seed = 0  # also fixes the random strings
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
string_bytes = 8  # length of each random string
samples = 16

# %%
import numpy as np

from mnist_compression.cache import train_or_load
from mnist_compression.entropy_models import BACKEND
from mnist_compression.models import make_mnist_codec
from mnist_compression.plotting import show_digits

print("entropy coding backend:", BACKEND)
trainer, history = train_or_load(lmbda, epochs, train_examples, validation_examples, batch_size,
                                 seed=seed, data_dir=data_dir)

# %% [markdown]
# ## Turn off the sanity check
#
# By default the range decoder checks, after the last latent, that it has consumed the string
# exactly as an encoder would have written it, and fails otherwise: a cheap guard against
# corrupted or mismatched data. Random bytes fail that check, so we build a codec without it.

# %%
_, decompressor = make_mnist_codec(trainer, decode_sanity_check=False)

# %% [markdown]
# ## Decode random strings

# %%
rng = np.random.default_rng(seed)
strings = [rng.bytes(string_bytes) for _ in range(samples)]
show_digits(decompressor(strings));

# %% [markdown]
# ## Why this works
#
# A range decoder reads bits and, latent by latent, picks the integer whose interval of the
# cumulative distribution the bits fall into. If the bits are uniformly random, each integer is
# picked with exactly the probability the prior gives it: decoding random bits *samples* the
# latents from the prior. The synthesis transform then maps those samples to images.
#
# Whether the images look like digits depends on how well the prior describes the latents of
# real digits. Our prior treats the latents as independent, which is only roughly true, so some
# samples are mixtures or scribbles. The low-rate model helps: at $\lambda = 300$ most latents
# carry almost no information, their priors are spikes that always decode to the same value,
# and only a few bytes of randomness decide what is drawn. Eight random bytes are more than the
# model ever spends on a digit, so the tail of each string is simply never read.
#
# The connection runs both ways: a model that generates data well assigns it high probability,
# and high probability is what a compressor needs for short codes.
#
# ## Summary
#
# - With the sanity check off, any byte string decodes to a digit.
# - Random bits decode to latents sampled from the prior, so the decoder becomes a generator.
# - Sample quality reflects how well the prior fits real latents — the same quality that makes
#   strings short.
#
# ## Exercises
#
# 1. Decode random strings with the $\lambda = 2000$ model from part 3. Why do the samples look
#    worse?
# 2. Decode strings of 1, 2 and 4 random bytes. From which length on do the samples stop
#    changing when you append more bytes?
# 3. Sample latents directly from the prior (e.g. with `trainer.prior.sample`), round them and
#    decode them with `trainer.synthesis_transform`. Do you get the same kind of images?
