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
# *Learned data compression with MNIST — part 3 of 9.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/03_training.ipynb)
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/03_training.html)
#
# **Overview.** Rate and distortion pull against each other: fewer bits means a blurrier digit.
# We train the model on a single number that weighs the two,
#
# $$L = \text{rate} + \lambda \cdot \text{distortion},$$
#
# the rate–distortion Lagrangian. The weight $\lambda$ chooses the trade-off: a large $\lambda$
# makes errors expensive and buys fidelity with bits. This part trains the model at
# $\lambda = 2000$ for 15 epochs, as the original tutorial does, and reads the training curves.
# The trained model is cached, so parts 4–8 reuse it instead of training again.
#
# **Bits.** The bit counts in this part (noisy rate, information content) are defined with the
# others in the glossary at the end of [part 4](04_compression.ipynb), always per digit.
#
# **Time.** Trains one model, $\lambda = 2000$ for 15 epochs on all 60,000 training digits:
# 2–10 min on a 2-core CPU (10–40 s an epoch), and about 45 s for everything else. With
# `pretrained = True` it downloads the published model instead, when this release has one
# (10.2 MB).

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
# These parameters set the cost of the notebook. The defaults reproduce the tutorial's recipe:
# all 60,000 training digits, validation on all 10,000 test digits, 15 epochs of batches of 128
# (10–40 s an epoch on a 2-core CPU). `recipe = "fast"` trains 4 epochs instead (see the end of
# this part). Small values make a quick smoke test. In Colab every notebook runs on a
# fresh machine, so set `cache_in_drive = True` to keep trained models in your Google Drive for
# the later parts (otherwise each of them trains again).

# %% tags=["parameters"]
lmbda = 2000.0  # weight of the distortion in the loss
recipe = "original"  # "original": the tutorial's; "fast": 4 epochs, not 15 (see docs/results.md)
epochs = None  # None: the recipe's (15 original, 4 fast)
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
batch_size = None  # None: the recipe's (128)
seed = 0  # fixes initial weights and shuffling
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
use_cache = True  # reuse a model trained earlier with exactly these settings
cache_in_drive = False  # in Colab: keep trained models in Google Drive
pretrained = False  # True: a published model with these settings, if any (part 3 trains by default)

# %%
import numpy as np
import tensorflow as tf

from mnist_compression import (
    MNISTCompressionTrainer,
    TrainingSettings,
    cache_dir,
    check_answer,
    keep_cache_in_drive,
    load_mnist_arrays,
    plot_history,
    show_source,
    train_or_load,
)

if cache_in_drive:
    keep_cache_in_drive()
print("TensorFlow", tf.__version__, "| model cache:", cache_dir())

# %% [markdown]
# ## The model, as code
#
# Calling the trainer on a batch of uint8 digits runs the whole pipeline of part 2: scale the
# pixels, encode, add noise (training) or round (evaluation) in the entropy model, decode, and
# measure. It returns the rate and the distortion of every digit:

# %%
show_source(MNISTCompressionTrainer.call)

# %% [markdown]
# The loss averages both over the batch and weighs them with $\lambda$. Its units: the rate is in
# bits per digit and the distortion a mean absolute error of pixels scaled to $[0, 1]$, so
# $\lambda$ is in *bits per unit of distortion*: at $\lambda = 2000$, lowering the error by 0.001
# is worth 2 bits.

# %%
show_source(MNISTCompressionTrainer.lagrangian)

# %% [markdown]
# One training step differentiates that loss with respect to every trainable variable and takes
# an Adam step (learning rate $10^{-3}$):

# %%
show_source(MNISTCompressionTrainer.train_step)

# %% [markdown]
# One loss, three kinds of parameters, three different jobs:
#
# - the **analysis transform** sees both terms, so it looks for latents that are cheap to code
#   *and* informative enough to redraw the digit;
# - the **synthesis transform** only affects the distortion, so it learns to redraw digits as
#   well as it can from whatever latents it receives;
# - the **prior's scales** only affect the rate, so they fit the distribution of the latents —
#   maximum likelihood in disguise.
#
# ## Train
#
# All training settings travel in one `TrainingSettings` object. `train_or_load` trains a fresh
# model and stores it in the cache, or loads one trained before with exactly the same settings
# and data. Set `use_cache = False` to watch it train again.

# %%
settings = TrainingSettings.from_recipe(
    recipe, lmbda=lmbda, epochs=epochs, train_examples=train_examples, batch_size=batch_size,
    validation_examples=validation_examples, seed=seed, data_dir=data_dir)
trainer, history = train_or_load(settings, use_cache=use_cache, pretrained=pretrained)

# %% [markdown]
# ## Read the curves
#
# Solid lines are the training batches (with noise), dashed lines the test digits after each
# epoch (rounded, as the real codec will do).

# %%
plot_history(history, lmbda);

# %% [markdown]
# The training distortion drops within the first epoch, once the decoder learns to draw a digit
# at all, and then improves only slowly (the test distortion may even wander for a few epochs
# while the rate falls fastest); the rate keeps falling steeply for several epochs, because the
# initial latents waste bits and the model learns to stop spending them.
#
# The training and test curves differ for three reasons: they measure different digits, and two
# more that are easy to mistake for each other. First, Keras reports the
# training metrics *averaged over all batches of an epoch*, while the model improves during the
# epoch; the test metrics are measured once, at its end, so the training curve lags behind.
# Second, the training rate is measured on noisy latents and the test rate on rounded ones, and part
# 2 showed that the two can differ either way; the distortion differs for the same reason (training
# decodes the noisy latents, the test the rounded ones). The next cell separates the two effects: it
# runs the finished model on the same test digits once with noise and once with rounding.

# %%
test_digits, _ = load_mnist_arrays("test", data_dir, validation_examples)
noisy, rounded = (trainer(test_digits, training=mode)["rate"].numpy() for mode in (True, False))
print(f"last epoch, averaged by Keras over its batches: {history['rate'][-1]:.2f} bits")
print(f"finished model, test digits, noisy latents:     {noisy.mean():.2f} bits")
print(f"finished model, test digits, rounded latents:   {rounded.mean():.2f} bits")
print(f"noise gives the higher count for {np.mean(noisy > rounded):.0%} of the digits")

# %% [markdown]
# The gap between the first two lines is Keras' averaging over a changing model, plus training
# against test digits; the gap between
# the last two is noise against rounding, and the last line shows how often it goes each way from
# digit to digit. The noisy rate is a training signal, not a promise about the real bit count.
#
# After 15 epochs at $\lambda = 2000$ the original tutorial reports about 41 bits per digit at a
# distortion of about 0.036. Here:

# %%
final_rate, final_distortion = history["val_rate"][-1], history["val_distortion"][-1]
print(f"test rate {final_rate:.2f} bits per digit ({final_rate / 8:.1f} bytes), "
      f"test distortion {final_distortion:.4f}")
print(f"that is {6272 / final_rate:.0f}x fewer bits than the raw 784 bytes (information "
      "content; real strings, part 4, are a few bits longer)")

# %% [markdown]
# ## A faster recipe
#
# Look at the prior's side of the loss. Every scale starts at 1, and a latent the model does not
# need ends far below it. Adam moves each parameter by roughly one learning rate per step (the
# original recipe gives the prior's scales the transforms' learning rate), so the logarithm of
# the smallest scale needs about as many steps as its distance from 0 in learning rates; compare
# that with all the steps of this training:

# %%
smallest = np.exp(trainer.prior_log_scales.numpy()).min()
steps = -(-(settings.train_examples or 60_000) // settings.batch_size) * settings.epochs
print(f"smallest prior scale {smallest:.3f}, log {np.log(smallest):.2f}: about "
      f"{abs(np.log(smallest)) / settings.learning_rate:,.0f} steps at a learning rate of "
      f"{settings.learning_rate:g}, of {steps:,} in all")

# %% [markdown]
# In the full run that journey alone takes more than half of the training. `recipe = "fast"`
# changes three
# things: the prior's scales get an Adam of their own, up to 30 times faster (the factor grows
# over the first half of training, so that latents are not shut off before the encoder has
# learned to use them); the transforms' learning rate peaks at $3 \cdot 10^{-3}$ after a short
# warm-up and decays to zero along a cosine; and training stops after 4 epochs. It lands a few
# percent above the original recipe's final loss in about a quarter of the steps: close, not
# the same quality. `benchmarks/time_to_quality.py` measures both side by side; the section "A
# faster recipe" of docs/results.md has its numbers.
#
# ## Summary
#
# - Training minimises $\text{rate} + \lambda \cdot \text{distortion}$ with the noisy rate and
#   noisy reconstructions; validation uses rounded latents.
# - $\lambda$ is a price: bits per unit of distortion.
# - Each part of the model sees the loss differently: the encoder trades, the decoder redraws,
#   the prior fits.
# - At $\lambda = 2000$, 15 epochs bring a digit from 6,272 raw bits to an information content
#   of about 41 bits; its real string is a few bits longer (part 4).
#
# ## Exercises
#
# Each exercise says what it costs on a 2-core CPU at the defaults and gives a hint. Worked
# solutions are in [`solutions/03_solutions.ipynb`](solutions/03_solutions.ipynb); the check
# cells below say whether a number you found is right.
#
# 1. **Train longer.** Set `epochs = 30`. Which of the two validation curves still improves?
#    *Cost:* 1 training of 30 epochs, 5–20 min. *Hint:* compare how much each curve moves over
#    the last third of the epochs with how much it moved in one epoch early on.
# 2. **Halve the batch size** (`batch_size = 64`). Does the final rate change, and why is the
#    noisy rate of one batch noisier? *Cost:* 1 training of 15 epochs, 2–10 min. *Hint:* part
#    2's exercise 3 measured how the spread of a mean shrinks with the number of digits in it.
# 3. **Count the collapsed latents:** how many of the prior's scales,
#    `np.exp(trainer.prior_log_scales.numpy())`, are below 0.05? Such a latent is almost always
#    0, costs almost nothing and carries nothing. *Cost:* under a minute. *Hint:* a boolean
#    array's `sum()` counts its `True` values; part 4 counts collapsed latents by their bits
#    instead (under 0.01 bits), which can catch a latent or two more.

# %%
my_count = None  # exercise 3: the number of prior scales below 0.05
check_answer("03.3", my_count, trainer=trainer)
