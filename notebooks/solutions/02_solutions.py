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
# # Solutions to part 2: quantization noise, the prior, and a differentiable rate
#
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/solutions/02_solutions.html)
#
# *Worked solutions to the exercises of [part 2](../02_noise_and_prior.ipynb).* Nothing here
# trains; the whole notebook runs in seconds.

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
# The same parameters as part 2.

# %% tags=["parameters"]
data_dir = None  # folder with the MNIST IDX files, or None
seed = 0  # fixes the random weights and the noise

# %%
import numpy as np
import tensorflow as tf

from mnist_compression import (
    ContinuousBatchedEntropyModel,
    NoisyLogistic,
    check_answer,
    load_mnist_arrays,
    make_analysis_transform,
    plot_prior,
    to_unit_range,
)

tf.keras.utils.set_random_seed(seed)

# %% [markdown]
# Part 2's setting again: one test digit, 10 latents from an untrained analysis transform, and
# ten priors with scales from 0.01 to 2.

# %%
digits, _ = load_mnist_arrays("test", data_dir, limit=128)
encoder = make_analysis_transform(10)
y = encoder(to_unit_range(digits[:1]))
prior = NoisyLogistic(loc=0.0, scale=tf.linspace(0.01, 2.0, 10))
entropy_model = ContinuousBatchedEntropyModel(prior, coding_rank=1, compression=False)

# %% [markdown]
# ## Exercise 1: the rate of the rounded latents
#
# Minus the log-densities of the rounded latents, converted from nats to bits and summed over
# the 10 latents:

# %%
by_hand = -tf.reduce_sum(prior.log_prob(tf.round(y)), axis=-1) / np.log(2.0)
print("by hand:", by_hand.numpy(), "bits")
print("rounded latents:", tf.round(y).numpy().astype(int),
      f"(largest |y|: {tf.reduce_max(tf.abs(y)):.3f})")
check_answer("02.1", by_hand, y=y, entropy_model=entropy_model)

# %% [markdown]
# The reference run (Python 3.11, TensorFlow 2.14, the notebook's defaults) gives 17.81 bits, and
# every latent of the untrained encoder is so close to 0 that it rounds to 0. Then the rate is
# $\sum_i -\log_2 P_i(0)$, set by the ten priors alone: the narrowest (scale 0.01) puts almost all
# its mass on 0 and costs almost nothing, the wider ones cost more, up to 3 bits for scale 2.
# Another run, whose random weights differ, gives the same 17.81 bits as long as every latent still
# rounds to 0 (the line above shows it); the check computes the expected value from your own `y`.
#
# ## Exercise 2: when is it a plain logistic?

# %%
plot_prior(NoisyLogistic(loc=0.0, scale=[0.1, 1.0, 10.0]), -30, 30);

# %% [markdown]
# The noisy density is the logistic averaged over a window of width 1. At scale 0.1 the logistic
# is much narrower than the window, so the result is the window itself: a flat box of height 1
# on $(-\frac12, \frac12)$. At scale 10 the window is narrow against the logistic, which barely
# changes over it: the plain logistic density. Scale 1 is in between, a logistic with a
# flattened top.
#
# ## Exercise 3: how noisy is the noisy rate?
#
# 100 draws of the noise for the one digit, and for the mean over a batch of 128 digits:

# %%
batch = encoder(to_unit_range(digits))
one = np.array([float(entropy_model(y, training=True)[1][0]) for _ in range(100)])
means = np.array([float(tf.reduce_mean(entropy_model(batch, training=True)[1]))
                  for _ in range(100)])
print(f"one digit: mean {one.mean():.2f} bits, standard deviation {one.std():.3f}")
print(f"mean of {len(batch)} digits: standard deviation {means.std():.3f} "
      f"({one.std() / means.std():.1f} times less; √{len(batch)} = {np.sqrt(len(batch)):.1f})")

# %% [markdown]
# The reference run printed a mean of 18.38 bits with a standard deviation of 0.322 for one
# digit, and 0.049 for the mean of 128 digits (6.6 times less); the noise is random, so a rerun
# moves these in the second or third digit, and another TensorFlow release's random weights
# move them more. The noise alone makes one digit's rate vary by the standard deviation printed
# first. A batch
# mean averages independent draws, so its spread shrinks by about the square root of the batch
# size (the digits differ too, so the factor is not exact): the gradient of a batch of 128 is a
# far steadier signal than that of one digit.
