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
# # 5. The rate–distortion trade-off
#
# *Learned data compression with MNIST — part 5 of 6.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/main/notebooks/05_rate_distortion.ipynb)
#
# **Overview.** $\lambda$ is the price of an error in bits. Part 3 paid a high price,
# $\lambda = 2000$. What happens when errors get cheaper? Here we train the same model at
# $\lambda = 2000$, $500$ and $300$, look at the same 16 digits decoded by each, and place the
# three models on a rate–distortion plot.

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
# Each $\lambda$ costs one training run like part 3's (about 3 minutes on a 2-core CPU at the
# defaults); models already in the cache with the same settings are reused. The results are also
# written to `results_path` as JSON.

# %% tags=["parameters"]
lambdas = [2000.0, 500.0, 300.0]
epochs = 15
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
batch_size = 128
seed = 0
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
first_digit = 48  # the 16 digits shown are test digits first_digit ... first_digit + 15
results_path = "rate_distortion.json"

# %%
import json

from mnist_compression.cache import train_or_load
from mnist_compression.data import load_mnist_arrays
from mnist_compression.entropy_models import BACKEND
from mnist_compression.evaluation import evaluate_codec
from mnist_compression.models import make_mnist_codec
from mnist_compression.plotting import display_digits, plot_rate_distortion

print("entropy coding backend:", BACKEND)
test_digits, _ = load_mnist_arrays("test", data_dir, limit=validation_examples)
originals = test_digits[first_digit:first_digit + 16]

# %% [markdown]
# ## One model per λ
#
# For every $\lambda$ we train (or load) a model, build its codec, and show the 16 digits as in
# part 4. We also keep its test rate and distortion, and measure the real strings of all test
# digits with `evaluate_codec`.

# %%
results = {}
for lmbda in lambdas:
    trainer, history = train_or_load(lmbda, epochs, train_examples, validation_examples,
                                     batch_size, seed=seed, data_dir=data_dir)
    compressor, decompressor = make_mnist_codec(trainer)
    strings, entropies = compressor(originals)
    display_digits(originals, strings, entropies, decompressor(strings), title=f"λ = {lmbda:g}")
    results[lmbda] = dict(rate=history["val_rate"][-1], distortion=history["val_distortion"][-1],
                          **evaluate_codec(compressor, decompressor, test_digits))

# %% [markdown]
# As $\lambda$ falls, the strings shrink — at $\lambda = 300$ to about one byte per digit — and
# the digits blur. Most stay recognisable at $\lambda = 500$; at $\lambda = 300$ some turn into
# a different, more typical digit. The model has no idea what a *recognisable* digit is: it only
# counts absolute pixel errors, and sometimes the cheapest way to keep that count low is to draw
# the wrong class. A perceptual loss would change that trade.
#
# ## The numbers
#
# The original tutorial reports, on the test digits after 15 epochs: 41 bits at distortion
# 0.036 ($\lambda = 2000$), 15 bits at 0.060 ($\lambda = 500$) and 8.3 bits at 0.077
# ($\lambda = 300$).

# %%
print(f"{'λ':>6} {'rate':>8} {'distortion':>11} {'string bits':>12} {'PSNR':>7}")
for lmbda, r in results.items():
    print(f"{lmbda:6g} {r['rate']:8.2f} {r['distortion']:11.4f} {r['string_bits']:12.2f} "
          f"{r['psnr']:6.1f}dB")

# %% [markdown]
# Each model is one point of the trade-off. Plotting rate against distortion shows the curve
# they trace; the gap between the two lines is the range coder's per-string overhead, which
# matters most at low rates, where the whole message is only a byte or two.

# %%
plot_rate_distortion(results);

# %% [markdown]
# Last, the numbers go to a small JSON file, for a course's own plots or a CI check.

# %%
with open(results_path, "w") as f:
    json.dump({f"{lmbda:g}": r for lmbda, r in results.items()}, f, indent=2)
print("wrote", results_path)

# %% [markdown]
# ## Summary
#
# - $\lambda$ moves the model along a rate–distortion curve: fewer bits, more error.
# - At very low rates the model keeps the *typical* shape and loses identity, because it
#   measures pixel error, not recognisability.
# - Real strings cost a few bits more than the information content; at one byte per digit that
#   overhead is a large share.
#
# ## Exercises
#
# 1. Add $\lambda = 100$ and $\lambda = 5000$ to `lambdas`. Where do they land on the plot?
# 2. Compute, for each model, how many of the 16 digits a person would still read correctly.
#    Does that follow the distortion?
# 3. Replace the mean absolute error by the mean squared error in a copy of the trainer. How do
#    the low-rate digits change?
