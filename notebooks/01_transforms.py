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
# # 1. Analysis and synthesis transforms
#
# *Learned data compression with MNIST — part 1 of 9.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/01_transforms.ipynb)
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/01_transforms.html)
#
# **Overview.** A lossy codec turns an image into a short string of bits and back, accepting
# that the image it gets back is not quite the one it started with. Two numbers describe how good
# it is: the **rate**, how many bits a digit costs on average, and the **distortion**, how far
# the decoded digit is from the original. In this series we *learn* such a codec for handwritten
# digits.
#
# This first part meets the two neural networks at its heart:
#
# - the **analysis transform** (the encoder), which maps a 28×28 digit to a short vector of real
#   numbers, its *latent representation* $y$;
# - the **synthesis transform** (the decoder), which maps a latent vector back to an image.
#
# Later parts round $y$ to integers, code it into bits with a learned probability model, and
# train everything together.
#
# **Time.** Loads one MNIST test digit (in Colab, `tfds` first downloads MNIST, about 11 MB)
# and trains nothing: about 5 s on a 2-core CPU.
#
# **Where this comes from.** The series follows TensorFlow's tutorial
# [Learned data compression](https://www.tensorflow.org/tutorials/generative/data_compression)
# (Apache 2.0; same model, same numbers to compare against), with our own text and code. The
# method is from Ballé, Laparra and Simoncelli,
# [End-to-end Optimized Image Compression](https://arxiv.org/abs/1611.01704) (ICLR 2017); for
# background, see Ballé et al., [Nonlinear Transform Coding](https://arxiv.org/abs/2007.03034)
# (2021), written for readers who know classical compression, and Yang, Mandt and Theis,
# [An Introduction to Neural Data Compression](https://arxiv.org/abs/2202.06533) (2023), written
# for machine learning readers.

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
# The parameters below are the only settings of this notebook. `data_dir` names a folder with the
# four MNIST IDX files; left as `None`, the data comes from `$MNIST_DATA_DIR` or is downloaded
# with TensorFlow Datasets.

# %% tags=["parameters"]
data_dir = None  # folder with the MNIST IDX files, or None
latent_dims = 10  # size of the latent vector in this demonstration
seed = 0  # fixes the random initial weights

# %%
import matplotlib.pyplot as plt
import tensorflow as tf

from mnist_compression import (
    check_answer,
    load_mnist_arrays,
    make_analysis_transform,
    make_synthesis_transform,
    plot_layer_shapes,
    show_source,
    to_unit_range,
)

tf.keras.utils.set_random_seed(seed)
print("TensorFlow", tf.__version__)

# %% [markdown]
# ## Look at one digit
#
# MNIST holds 60,000 training and 10,000 test digits, each a 28×28 grid of 8-bit grey levels
# (0 is the background, 255 full ink). We take the first test digit. Stored raw, it occupies
# 784 bytes, or 6,272 bits: keep that number in mind.

# %%
digits, labels = load_mnist_arrays("test", data_dir, limit=1)
digit = digits[0]
print("label:", labels[0], "| dtype:", digit.dtype, "| shape:", digit.shape)
plt.imshow(digit[..., 0], cmap="gray_r", vmin=0, vmax=255)
plt.title(f"test digit 0 (label {labels[0]})");

# %% [markdown]
# ## The analysis transform
#
# The encoder is a small convolutional network. Two convolutions with 5×5 kernels and stride 2
# shrink the image from 28×28 to 14×14 (20 channels) and then to 7×7 (50 channels); two dense
# layers condense those 2,450 numbers into `latent_dims` values. All hidden layers use the leaky
# ReLU nonlinearity, and the last layer is linear so latents can take any sign and size. This is
# the package's code for it:

# %%
show_source(make_analysis_transform)

# %% [markdown]
# Built, with the shape of every tensor it passes along (drawn to scale: each box's area is its
# number of values):

# %%
analysis_transform = make_analysis_transform(latent_dims)
plot_layer_shapes(analysis_transform, (28, 28, 1))
analysis_transform.build((None, 28, 28, 1))
analysis_transform.summary()

# %% [markdown]
# The network expects floats in $[0, 1]$ and a batch axis, so we scale the digit and add one.
# Its weights are still random, so the latents mean nothing yet — but note their scale: small
# numbers around zero.

# %%
x = to_unit_range(digit)
y = analysis_transform(x)
print("x:", x.shape, "→ y:", y.shape)
print("y =", y.numpy().round(3))

# %% [markdown]
# ## The synthesis transform
#
# The decoder mirrors the encoder: two dense layers grow the latent vector to 2,450 numbers,
# which are reshaped to 7×7×50, and two *transposed* convolutions upsample that back to 14×14 and
# then 28×28 with a single channel.

# %%
show_source(make_synthesis_transform)
synthesis_transform = make_synthesis_transform()
plot_layer_shapes(synthesis_transform, (latent_dims,))
x_hat = synthesis_transform(y)
synthesis_transform.summary()

# %% [markdown]
# Untrained, the decoder returns almost nothing: its output stays within a few thousandths of
# zero. Drawn on the same grey scale as the original (0 to 1), that is an empty page; training
# will teach both networks to agree on a representation from which the digit can be redrawn.

# %%
print(f"decoded values range from {x_hat.numpy().min():.4f} to {x_hat.numpy().max():.4f}")
fig, axes = plt.subplots(1, 2, figsize=(5, 2.5))
for ax, image, title in zip(axes, (x, x_hat), ("original", "decoded (untrained)")):
    ax.imshow(image[0, ..., 0], cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"{title}, grey scale 0-1", fontsize=9)

# %% [markdown]
# ## Summary
#
# - A learned codec has an encoder (analysis transform) and a decoder (synthesis transform).
# - Ours maps a 28×28 digit to a handful of real numbers and back; here 10, later 50.
# - The latents are real numbers. Stored as float32 they would take 32 bits each, 320 for
#   these 10: already fewer than the digit's 6,272 raw bits, but at a fixed precision, so the
#   rate cannot be traded against the error, and no probability makes likely values cheap.
#   Part 2 rounds the latents to integers, gives each integer a probability, and shows how to
#   train through that rounding.
#
# ## Exercises
#
# Each exercise says what it costs on a 2-core CPU at the defaults and gives a hint. Worked
# solutions are in [`solutions/01_solutions.ipynb`](solutions/01_solutions.ipynb); the check
# cells below say whether a number you found is right.
#
# 1. **Count the parameters** of both transforms by hand from the layer shapes, and check your
#    count below. *Cost:* under a minute. *Hint:* a `Conv2D` with a $k \times k$ kernel from
#    $c_\text{in}$ to $c_\text{out}$ channels has $k \cdot k \cdot c_\text{in} \cdot
#    c_\text{out}$ weights plus $c_\text{out}$ biases, a transposed convolution counts the same
#    way, a `Dense` layer from $n$ to $m$ units has $n \cdot m + m$, and `Flatten` and `Reshape`
#    have none.
# 2. **Change `latent_dims`** to 2 and 100. Which layers change size, and which do not?
#    *Cost:* under a minute. *Hint:* only the layers that touch the latent vector can depend on
#    it; compare the last layer of the analysis transform and the first of the synthesis
#    transform in `summary()`.
# 3. **What decides the rate?** A 7×7×50 tensor has more numbers than the original image, and
#    the latent vector has 50 numbers in every model of part 7 (each trained with a different
#    weight on the error), yet those models spend from 0 to more than 100 bits on them. Is it
#    the number of latents, or the rounding and the probability model of part 2? *Cost:* under a
#    minute (reading). *Hint:* part 2 shows that a rounded latent costs $-\log_2$ of its
#    probability; what does a latent cost that is always rounded to the same integer?

# %%
my_counts = None  # exercise 1: (analysis parameters, synthesis parameters)
check_answer("01.1", my_counts, latent_dims=latent_dims)
