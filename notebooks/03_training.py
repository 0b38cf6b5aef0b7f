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
# # 3. Training on the rate–distortion Lagrangian
#
# *Learned data compression with MNIST — part 3 of 6.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/main/notebooks/03_training.ipynb)
#
# **Overview.** Rate and distortion pull against each other: fewer bits means a blurrier digit.
# We train the model on a single number that weighs the two,
#
# $$L = \text{rate} + \lambda \cdot \text{distortion},$$
#
# the rate–distortion Lagrangian. The weight $\lambda$ chooses the trade-off: a large $\lambda$
# makes errors expensive and buys fidelity with bits. This part trains the model at
# $\lambda = 2000$ for 15 epochs, as the original tutorial does, and reads the training curves.
# The trained model is cached, so parts 4–6 reuse it instead of training again.

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
# These parameters set the cost of the notebook. The defaults reproduce the tutorial: all 60,000
# training digits, validation on all 10,000 test digits, 15 epochs of batches of 128 (about 10 s
# an epoch on a 2-core CPU). Small values make a quick smoke test.

# %% tags=["parameters"]
lmbda = 2000.0  # weight of the distortion in the loss
epochs = 15
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
batch_size = 128
seed = 0  # fixes initial weights and shuffling
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
use_cache = True  # reuse a model trained earlier with exactly these settings

# %%
import tensorflow as tf

from mnist_compression.cache import cache_dir, train_or_load
from mnist_compression.entropy_models import BACKEND
from mnist_compression.plotting import plot_history

print("TensorFlow", tf.__version__, "| backend:", BACKEND, "| model cache:", cache_dir())

# %% [markdown]
# ## What the loss does to each part
#
# One loss, three kinds of parameters, three different jobs:
#
# - the **analysis transform** sees both terms, so it looks for latents that are cheap to code
#   *and* informative enough to redraw the digit;
# - the **synthesis transform** only affects the distortion, so it learns to redraw digits as
#   well as it can from whatever latents it receives;
# - the **prior's scales** only affect the rate, so they fit the distribution of the latents —
#   maximum likelihood in disguise.
#
# The trainer's `train_step` averages the per-digit rate and distortion over the batch, forms
# $L$, and takes an Adam step (learning rate $10^{-3}$). Keras' `fit` reports rate and
# distortion separately, for the training batches (with noise) and for the test digits (with
# rounding, as the real codec will do).
#
# ## Train
#
# `train_or_load` trains a fresh model and stores it in the cache, or loads one trained before
# with exactly the same settings and data. Set `use_cache = False` to watch it train again.

# %%
trainer, history = train_or_load(lmbda, epochs, train_examples, validation_examples, batch_size,
                                 seed=seed, data_dir=data_dir, use_cache=use_cache)

# %% [markdown]
# ## Read the curves
#
# Solid lines are training batches, dashed lines the test digits after each epoch.

# %%
plot_history(history, lmbda);

# %% [markdown]
# The distortion drops within the first epoch, once the decoder learns to draw a digit at all,
# and then improves only slowly; the rate keeps falling steeply for several epochs, because the
# initial latents waste bits and the model learns to stop spending them. The test rate sits *below* the training rate because rounding costs
# less than noise does: the noisy rate is an upper bound.
#
# After 15 epochs at $\lambda = 2000$ the original tutorial reports about 41 bits per digit at a
# distortion of about 0.036. Here:

# %%
final_rate, final_distortion = history["val_rate"][-1], history["val_distortion"][-1]
print(f"test rate {final_rate:.2f} bits per digit, test distortion {final_distortion:.4f}")
print(f"that is {6272 / final_rate:.0f}x fewer bits than the raw 784 bytes")

# %% [markdown]
# ## Summary
#
# - Training minimises $\text{rate} + \lambda \cdot \text{distortion}$ with the noisy rate bound
#   and noisy reconstructions; validation uses rounded latents.
# - Each part of the model sees the loss differently: the encoder trades, the decoder redraws,
#   the prior fits.
# - At $\lambda = 2000$, 15 epochs bring a digit down to roughly 41 bits — about five bytes.
#
# ## Exercises
#
# 1. Train for 30 epochs. Which of the two curves still improves?
# 2. Halve the batch size. Does the final rate change, and why might the noisy rate estimate be
#    noisier too?
# 3. Print `tf.exp(trainer.prior_log_scales)` after training. How many latents have collapsed
#    to a tiny scale — that is, are no longer used at all?
