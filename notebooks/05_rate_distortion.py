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
# *Learned data compression with MNIST — part 5 of 9.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/05_rate_distortion.ipynb)
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/05_rate_distortion.html)
#
# **Overview.** $\lambda$ is the price of an error in bits. Part 3 paid a high price,
# $\lambda = 2000$. What happens when errors get cheaper? Here we train the same model at
# $\lambda = 2000$, $500$ and $300$, look at the same 16 digits decoded by each, measure how
# many decoded digits a classifier still recognises, and place the three models on a
# rate–distortion plot, where $\lambda$ turns out to be a slope.
#
# **Bits.** Every bit count in this part (noisy rate, information content, real strings,
# `.mnc` bytes) is defined in [part 4's glossary](04_compression.ipynb), always per digit.
#
# **Time.** Needs three models ($\lambda$ = 2000, 500, 300) and a small digit classifier:
# from the model cache, else published when this release has them (`pretrained = True`, 10.2 MB
# each), else trained here: 7–30 min on a 2-core CPU (10–40 s an epoch). Everything else takes
# about 30 s.

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
# Each $\lambda$ costs one training run like part 3's (10–40 s an epoch on a 2-core CPU at the
# defaults); models already in the cache with the same settings are reused. The results are also
# written as JSON into `output_dir`.
# With `pretrained = True`, a model that this release publishes for exactly these settings is
# downloaded instead of trained (10.2 MB per model; one line says so when there is none).

# %% tags=["parameters"]
lambdas = [2000.0, 500.0, 300.0]
recipe = "original"  # "original": the tutorial's; "fast": 4 epochs, not 15 (see docs/results.md)
epochs = None  # None: the recipe's (15 original, 4 fast)
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
batch_size = None  # None: the recipe's (128)
seed = 0
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
cache_in_drive = False  # in Colab: keep trained models in Google Drive
pretrained = True  # a published model with these settings, if any; or a mirror's URL or folder
first_digit = 48  # the 16 digits shown are test digits first_digit ... first_digit + 15
output_dir = "build"  # where rate_distortion.json is written

# %%
from pathlib import Path

import numpy as np

from mnist_compression import (
    ORIGINAL_TUTORIAL,
    TrainingSettings,
    display_digits,
    keep_cache_in_drive,
    load_mnist_arrays,
    plot_rate_distortion,
    run_sweep,
    secant_slopes,
    train_or_load_classifier,
    write_rows,
)

if cache_in_drive:
    keep_cache_in_drive()
test_digits, test_labels = load_mnist_arrays("test", data_dir, limit=validation_examples)
originals = test_digits[first_digit:first_digit + 16]

# %% [markdown]
# ## A yardstick for "recognisable"
#
# Whether a blurred digit is still a *seven* is a judgement; we make it a measurement. A small
# classifier (one hidden layer, trained on the clean training digits for a few seconds and
# cached) labels the original test digits and, below, the decoded ones. A decoded digit counts
# as *recognised* when the classifier gives it its true label: a proxy for legibility, not a
# judgement of it. The accuracy on the originals is a reference point, not a ceiling: a smoothed
# digit can be easier for the classifier than the original.

# %%
classifier = train_or_load_classifier(data_dir, train_examples, pretrained=pretrained)
print(f"classifier accuracy on the original test digits: "
      f"{classifier.accuracy(test_digits, test_labels):.1%}")

# %% [markdown]
# ## One model per λ
#
# For every $\lambda$, `run_sweep` (the same function part 7 uses for eight models) trains or
# loads a model, builds its codec, keeps its test rate and distortion, measures the real
# strings of all test digits, and lets the classifier read the decoded digits.

# %%
settings = TrainingSettings.from_recipe(
    recipe, epochs=epochs, train_examples=train_examples, batch_size=batch_size,
    validation_examples=validation_examples, seed=seed, data_dir=data_dir)
sweep = run_sweep(settings, lambdas, classifier=classifier, progress=False, verbose=2,
                  pretrained=pretrained)

# %% [markdown]
# Each model's codec, on the 16 digits of part 4:

# %%
for lmbda, (compressor, decompressor) in sweep.codecs.items():
    strings, information_bits = compressor(originals)
    display_digits(originals, strings, information_bits, decompressor(strings),
                   title=f"λ = {lmbda:g}: original | decoded")

# %% [markdown]
# As $\lambda$ falls, the strings shrink and the digits blur, and some come out looking like a
# different digit. The model has no idea what a *recognisable* digit is: it only
# counts absolute pixel errors, and sometimes the cheapest way to keep that count low is to draw
# the wrong class. A loss that measured recognisability would change that trade. How often it
# happens, over all test digits:

# %%
print(f"{'λ':>6} {'rate':>6} {'distortion':>10} {'bytes sent':>10} {'longest':>8} "
      f"{'PSNR':>7} {'recognised':>10}")
for r in sweep.rows:
    print(f"{r['lmbda']:6g} {r['val_rate']:6.2f} {r['val_distortion']:10.4f} "
          f"{r['string_bits'] / 8:10.2f} {r['longest_string_bits'] // 8:8d} {r['psnr']:6.1f}dB "
          f"{r['recognised']:10.1%}")

# %% [markdown]
# *Bytes sent* is the mean string length, *longest* the longest string in bytes, and *PSNR* the
# peak signal-to-noise ratio, $10 \log_{10}(255^2 / \text{MSE})$ in decibels over all pixels:
# a classical measure of fidelity, higher is better: halving the mean squared error adds 3 dB
# (halving the RMS error, 6 dB), and no such rule exists for the mean absolute error our model
# is trained on. The original tutorial reports, on the test digits after 15 epochs, 41.2 bits
# at distortion 0.036 ($\lambda = 2000$), 15.0 bits at 0.060 ($\lambda = 500$) and 8.3 bits at
# 0.077 ($\lambda = 300$).
#
# Which digits do the misread ones turn into? For the lowest $\lambda$, a confusion matrix of
# all test digits: one row per true digit, one column per digit the classifier reads in the
# decoded image. The columns that collect the misreadings are where decoded digits drift.

# %%
compressor, decompressor = sweep.codecs[min(sweep.codecs)]
read_as = classifier.predict(decompressor.decompress(compressor.compress(test_digits)))
confusion = np.zeros((10, 10), int)
np.add.at(confusion, (test_labels, read_as), 1)
print(f"λ = {min(sweep.codecs):g}: rows are the true digits 0-9, columns what is read")
print(confusion)
print("misreadings per column:", (confusion.sum(axis=0) - np.diag(confusion)).tolist())

# %% [markdown]
# ## λ is a slope
#
# Each model is one point of the trade-off. A model that minimises $R + \lambda D$ exactly sits
# where no small move along the curve lowers that sum: there, the curve's slope is
# $dR/dD = -\lambda$. So $\lambda$ is the exchange rate between the axes — at $\lambda = 2000$,
# 0.001 less distortion is worth 2 bits; at $\lambda = 300$, only 0.3 bits. Two caveats: that
# holds for the curve training optimises (noisy latents, training digits) and only at its optimum,
# while the points below are rounded latents on test digits after 15 epochs. So read the dotted
# lines of slope $-\lambda$ as what each model was trained for, not as a measured tangent.
#
# In the plot, the solid line joins the models' information content (the test rate) and the
# dashed line their real strings' mean length; both are drawn at the same distortion, the test
# digits' error after rounding (the decoded uint8 digits' error, in part 7's table, is slightly
# lower: the decoder clips its output to [0, 255], which can only bring a pixel closer, before
# rounding to grey levels, which alone could go either way). The crosses are the original
# tutorial's models. The gap between the two lines is the range coder's overhead, partly per
# string (whole bytes, the final bytes) and partly per symbol (the 12-bit tables' rounding,
# escapes); it matters most at low rates, where the whole message is only a byte or two.

# %%
plot_rate_distortion(sweep.rows, reference=ORIGINAL_TUTORIAL);

# %% [markdown]
# How far is the measured curve from those slopes? Between two neighbouring models, the slope of
# the straight line joining them (the secant) is what the test digits actually show:

# %%
for a, b, secant in secant_slopes(sweep.rows):
    print(f"between λ={a['lmbda']:g} and λ={b['lmbda']:g}: {secant:,.0f} bits per unit of "
          f"distortion")

# %% [markdown]
# Theory says where a secant must lie if both models were exact minimisers over the same set of
# codecs. Model 1 minimises $R + \lambda_1 D$, so it beats model 2 at that price:
# $R_1 + \lambda_1 D_1 \le R_2 + \lambda_1 D_2$; likewise $R_2 + \lambda_2 D_2 \le R_1 +
# \lambda_2 D_1$. With $\lambda_1 > \lambda_2$ (so $D_1 < D_2$), rearranging both gives
#
# $$\lambda_2 \;\le\; \frac{R_1 - R_2}{D_2 - D_1} \;\le\; \lambda_1 .$$
#
# The secant's steepness is bracketed by the two prices. Our points are test digits, rounded
# latents and 15 epochs rather than exact minima, so the bracket is a check, not a guarantee:

# %%
for a, b, secant in secant_slopes(sweep.rows):
    low, high = sorted((a["lmbda"], b["lmbda"]))
    verdict = "inside" if low <= -secant <= high else "outside"
    print(f"|secant| {-secant:,.0f} is {verdict} the bracket [{low:g}, {high:g}]")

# %% [markdown]
# ## Read the curve with rate–distortion theory
#
# Three facts from information theory frame these measurements.
#
# - **A bound.** For digits drawn from MNIST's distribution, Shannon's *rate–distortion
#   function* $R(D)$ is the fewest bits per digit that any code, however clever, needs to keep
#   the expected distortion at most $D$. It is reached only in the limit of coding many digits
#   together, and no code gets below it, joint or one digit at a time (counting what marks
#   where each string ends, such as the length byte of an `.mnc` file). Nobody can
#   compute it for MNIST, but every codec, ours and the classical ones of part 7, gives an
#   *operational* point on or above it.
# - **Only the convex hull.** Minimising $R + \lambda D$ picks, for each price $\lambda$, the
#   point where a line of slope $-\lambda$ first touches the set of achievable points, so
#   varying $\lambda$ only ever reaches the lower convex hull of that set: a codec that sits in a
#   dent of the curve is the optimum for no $\lambda$.
# - **Time-sharing.** Code a share $t$ of the digits with one model and the rest with another,
#   and the averages land on the straight chord between their two points. So the chord between
#   two neighbouring models is always reachable for free, and a model trained between them is
#   only worth having if it lies *below* that chord. The bracket above is the same geometry
#   seen from the prices.
#
# The distortion measure is part of the question. The mean absolute error used here is the
# negative log-likelihood of a Laplace density around the decoded pixels (part 6 makes this
# exact); the squared error (`distortion="mse"`, exercise 3) is that of a Gaussian. Each
# defines "close" differently, and so defines a different curve.
#
# Last, the numbers go to small CSV and JSON files, for a course's own plots or a CI check.

# %%
write_rows(sweep.rows, Path(output_dir) / "rate_distortion")
print("wrote", Path(output_dir) / "rate_distortion.json")

# %% [markdown]
# ## Summary
#
# - $\lambda$ moves the model along a rate–distortion curve: fewer bits, more error.
# - $\lambda$ is measured in bits per unit of distortion: it is the price the model was trained
#   at, the (negative) slope of the training curve at its optimum; measured test points only
#   approximate it. Between two exact minimisers the secant's steepness lies between their two
#   λ; the cell above checks that on the measured points.
# - At very low rates the model keeps the *typical* shape and loses identity, because it
#   measures pixel error, not recognisability; the classifier shows how often.
# - Real strings cost a few bits more than the information content; at one or two bytes per
#   digit that overhead is a large share.
#
# ## Exercises
#
# Each exercise says what it costs on a 2-core CPU at the defaults and gives a hint. Worked
# solutions are in [`solutions/05_solutions.ipynb`](solutions/05_solutions.ipynb).
#
# 1. **More λ.** Add $\lambda = 100$ and $\lambda = 5000$ to `lambdas`. Where do they land on
#    the plot, and do the secant slopes still fall with $\lambda$? *Cost:* 2 trainings of 15
#    epochs, 5–20 min (seconds with `pretrained = True`, when both are published). *Hint:* part
#    7 runs this for eight values of $\lambda$; compare your plot with its table.
# 2. **Count by eye.** Look at the 16 digits at $\lambda = 300$ and count how many you would
#    still read correctly. Does your count agree with the classifier on the same 16? *Cost:* a
#    few minutes, no training. *Hint:* with `c, d = sweep.codecs[300.0]` and
#    `decoded = d.decompress(c.compress(originals))`, compare `classifier.predict(decoded)` with
#    `test_labels[first_digit:first_digit + 16]`.
# 3. **Squared error.** Train with the mean *squared* error as distortion:
#    `train_or_load(settings.replace(lmbda=..., distortion="mse"))`, cached like any model. To
#    land at a rate like the $\lambda = 500$ model's, λ must price the new distortion as the old
#    one was priced *at the margin*: λ is bits per unit of distortion, so what matters is how fast
#    the MSE changes when the MAE does, not the ratio of their values. How do the low-rate digits
#    change? *Cost:* 1 training of 15 epochs, 2–10 min. *Hint:* a row's MSE (pixels in [0, 1])
#    is `10 ** (-row["psnr"] / 10)`; divide 500 by the ratio of the MSE and MAE differences
#    between the $\lambda = 500$ and $\lambda = 300$ rows.
