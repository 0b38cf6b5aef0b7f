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
# # Solutions to part 1: analysis and synthesis transforms
#
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/solutions/01_solutions.html)
#
# *Worked solutions to the exercises of [part 1](../01_transforms.ipynb).* Nothing here trains;
# the whole notebook runs in seconds.

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
# The same parameters as part 1.

# %% tags=["parameters"]
data_dir = None  # folder with the MNIST IDX files, or None
latent_dims = 10  # size of the latent vector, as in part 1

# %%
import math

import tensorflow as tf

from mnist_compression import check_answer, make_analysis_transform, make_synthesis_transform

# %% [markdown]
# ## Exercise 1: count the parameters
#
# Every layer's weights, with their shapes: a kernel's size is the product of its shape, and each
# output channel or unit adds one bias.

# %%
analysis, synthesis = make_analysis_transform(latent_dims), make_synthesis_transform()
analysis.build((None, 28, 28, 1))
synthesis.build((None, latent_dims))
counts = []
for name, transform in (("analysis", analysis), ("synthesis", synthesis)):
    for layer in transform.layers:
        shapes = " + ".join("·".join(map(str, w.shape)) for w in layer.weights) or "none"
        print(f"{name:>9} {type(layer).__name__:>15}: {shapes}")
    counts.append(sum(math.prod(w.shape) for w in transform.weights))
check_answer("01.1", counts, latent_dims=latent_dims)

# %% [markdown]
# ## Exercise 2: other latent sizes
#
# The parameters of each layer for three latent sizes:

# %%
for dims in (2, latent_dims, 100):
    encoder, decoder = make_analysis_transform(dims), make_synthesis_transform()
    encoder.build((None, 28, 28, 1))
    decoder.build((None, dims))
    print(f"{dims:>3} latents: analysis {[layer.count_params() for layer in encoder.layers]}, "
          f"synthesis {[layer.count_params() for layer in decoder.layers]}")

# %% [markdown]
# Every run prints the same counts: they depend on the architecture only (for the tutorial's 10
# latents, 1,256,080 in the analysis and 1,258,471 in the synthesis transform).
# Only two layers change: the last `Dense` layer of the analysis transform ($500 \cdot d + d$
# parameters for $d$ latents) and the first of the synthesis transform ($d \cdot 500 + 500$).
# The convolutions and the 2,450 ↔ 500 dense layers never see the latent vector, so they stay
# the same.
#
# ## Exercise 3: what decides the rate?
#
# A latent's cost is $-\log_2 P(\hat y_i)$. A latent the encoder always rounds to 0, with a prior
# that puts almost all its mass on 0, costs almost nothing however many such latents the
# latent vector has. The bits one latent costs under noisy logistic priors of a few scales, when
# it is 0:

# %%
for scale in (0.02, 0.1, 0.5, 2.0):
    p = tf.sigmoid(0.5 / scale) - tf.sigmoid(-0.5 / scale)
    print(f"scale {scale:4}: P(0) = {float(p):.6f}, {-math.log2(float(p)):.4f} bits")

# %% [markdown]
# These numbers are exact and the same in every run: at scale 0.02 a zero costs 0.0000 bits, at
# 0.5 about 1.11 bits and at 2 about 3.01 bits.
# So the bottleneck's size caps no rate: each rounded latent is an integer without bound (a value
# outside a coding table is escape-coded), and the priors' widths against the latents' spread set
# the bits. What 50 latents do limit is what the decoder can express.
# Training shrinks the prior of every latent the model does not need to a spike at zero (part 4
# counts them), which is how the same 50 numbers cost nothing at λ = 50 and over a hundred bits
# at λ = 10,000 (part 7).
