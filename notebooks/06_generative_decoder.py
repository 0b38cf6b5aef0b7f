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
# *Learned data compression with MNIST — part 6 of 9.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/06_generative_decoder.ipynb)
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/06_generative_decoder.html)
#
# **Overview.** A decompressor turns any bit string it is given into a digit. Feed it strings it
# never produced — plain random bytes — and it still draws digits. The original tutorial does
# this with its $\lambda = 2000$ model; we do it with that model and with the low-rate
# $\lambda = 300$ model of part 5, side by side, and see why a good compressor is, in disguise,
# a generative model.
#
# **Bits.** Every bit count in this part (noisy rate, information content, real strings,
# `.mnc` bytes) is defined in [part 4's glossary](04_compression.ipynb), always per digit.
#
# **Time.** Needs two models ($\lambda$ = 2000 and 300): from the model cache, else published
# when this release has them (`pretrained = True`, 10.2 MB each), else trained here: 5–20 min on
# a 2-core CPU (10–40 s an epoch). Everything else takes about 20 s.

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
# downloaded instead of trained (10.2 MB per model; one line says so when there is none).

# %% tags=["parameters"]
lambdas = [2000.0, 300.0]  # the original tutorial's model, and the low-rate one
recipe = "original"  # "original": the tutorial's; "fast": 4 epochs, not 15 (see docs/results.md)
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

from mnist_compression import (
    TrainingSettings,
    bits_per_latent,
    check_answer,
    keep_cache_in_drive,
    laplace_scale,
    load_mnist_arrays,
    make_mnist_codec,
    negative_elbo,
    show_digits,
    string_bits,
    train_or_load,
    train_or_load_classifier,
)

if cache_in_drive:
    keep_cache_in_drive()
models = {lmbda: train_or_load(TrainingSettings.from_recipe(
    recipe, lmbda=lmbda, epochs=epochs, train_examples=train_examples, batch_size=batch_size,
    validation_examples=validation_examples, seed=seed, data_dir=data_dir),
    pretrained=pretrained)[0] for lmbda in lambdas}

# %% [markdown]
# ## Turn off the sanity check
#
# By default the range decoder checks, after the last latent, that it read every byte and ended
# where an encoder's final bytes would leave it, and fails otherwise: a cheap guard, not an
# integrity check. It misses many random strings and most strings cut short ([appendix
# A](A1_same_everywhere.ipynb) measures the strings cut short, and its exercise 1 the random
# ones). Random bytes are what we want to decode here, so we build codecs without it.

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
# How long must the random strings be? Decoding random bits draws every latent from its table,
# and a draw of probability $q$ narrows the interval by a factor $q$, which takes about
# $-\log_2 q$ bits of the string to decide. So the decoded latents depend on only about the
# first $\sum_i H(Q_i)$ bits, the sum of the tables' entropies. The decoder loads at least 4
# bytes (missing ones count as zeros) and more as it goes, but bits beyond those do not change
# the result. That is set by the tables alone; compare it with what the model spends on real
# digits:

# %%
test_digits, _ = load_mnist_arrays("test", data_dir, limit=validation_examples)
for lmbda, (compressor, decompressor) in codecs.items():
    entropy = decompressor.entropy_model.tables.entropy_bits().sum()
    real = string_bits(compressor(test_digits)[0]) / 8
    print(f"λ = {lmbda:g}: the latents depend on about the first {entropy:.1f} bits of a random "
          f"string ({entropy / 8:.1f} bytes);\n  real digits' strings take {real.mean():.1f} "
          f"bytes on average, at most {real.max():.0f}")

# %% [markdown]
# Where a model needs fewer bits than a random string holds, the rest changes nothing; where it
# needs more, the decoder reads past the end (as zeros) and the last latents are decided by that
# padding, not by chance.
#
# Whether the images look like digits depends on how well the prior describes the latents of
# real digits. Our prior treats the latents as independent. Are they? The correlations between
# the informative latents of the test digits (those that cost bits and take more than one value
# on them):

# %%
for lmbda, (compressor, _) in codecs.items():
    latents = compressor.transforms.latents(test_digits)
    used = (bits_per_latent(models[lmbda].prior, latents) >= 0.01) & (latents.std(axis=0) > 0)
    correlations = np.abs(np.corrcoef(latents[:, used].T)[~np.eye(used.sum(), dtype=bool)])
    print(f"λ = {lmbda:g}: |correlation| between its {used.sum()} informative latents: mean "
          f"{correlations.mean():.2f}, largest {correlations.max():.2f}")

# %% [markdown]
# Correlations near zero are necessary for independence, not sufficient: latents can depend on
# each other in ways no correlation shows, and then independent draws give combinations real
# digits never produce. The samples themselves are the better test. Part 5's classifier reads
# 1,000 random strings per model: which classes it sees, and how sure it is, against its
# confidence on real test digits.

# %%
classifier = train_or_load_classifier(data_dir, train_examples, pretrained=pretrained)
real = classifier.probabilities(test_digits).max(axis=1).mean()
print(f"real test digits: mean confidence {real:.0%}")
many = [rng.bytes(string_bytes) for _ in range(1000)]
for lmbda, (_, decompressor) in codecs.items():
    probabilities = classifier.probabilities(decompressor.decompress(many))
    classes = np.bincount(probabilities.argmax(axis=1), minlength=10)
    print(f"λ = {lmbda:g}: mean confidence {probabilities.max(axis=1).mean():.0%}; samples per "
          f"class 0-9: {classes.tolist()}")

# %% [markdown]
# Read the two models against each other. Where few latents carry information, only those are
# drawn at random, and the class counts show how much variety that leaves; where many are drawn
# independently, the classifier's confidence shows how often their combinations fail to make
# one clear digit.
#
# ## Compression is a variational autoencoder
#
# What links compressing and generating is an exact identity between two losses. Read
# training as a variational autoencoder (VAE) that models the probability of a digit $x$:
#
# - the encoder's *posterior* $q(\tilde y \mid x)$ is the unit box around $y = g_a(x)$: uniform
#   noise, density 1, so $\log q = 0$;
# - the *prior* $p(\tilde y)$ is the noisy logistic of part 2;
# - the *likelihood* $p(x \mid \tilde y)$ is a Laplace density around each decoded pixel,
#   $\frac{1}{2b} e^{-|x_i - \tilde x_i|/b}$, where $\tilde x = g_s(\tilde y)$ is the decoding
#   of the noisy latents (as in parts 2 and 3), with one scale $b$ for all 784 pixels.
#
# A VAE maximises the evidence lower bound (ELBO) $\mathbb E_q[\log p(x \mid \tilde y) +
# \log p(\tilde y) - \log q(\tilde y \mid x)]$. In bits, its negative is
#
# $$-\text{ELBO} = \underbrace{\mathbb E_q[-\log_2 p(\tilde y)]}_{\text{rate}}
#   + \frac{784}{b \ln 2} \mathbb E_q[D] + 784 \log_2(2b),$$
#
# with $D$ the mean absolute pixel error between $x$ and $\tilde x$, averaged over the noise. Choose
# $b = 784 / (\lambda \ln 2)$ and the middle term is $\lambda D$: the training loss *is* the
# negative ELBO, up to a constant that no parameter changes. Minimising rate + λ·distortion
# maximises a lower bound on $\log_2 p(x)$ (for continuous pixels, a density). `negative_elbo`
# computes the bound's terms directly, with one draw of the noise, beside the loss on the same draw
# (for the model of the highest λ):

# %%
bound = negative_elbo(models[max(models)], test_digits[:1000], seed=seed)
print("−log2 of densities, per digit; pixels in [0, 1] (in grey levels they would shift):")
for name in ("prior_bits", "likelihood_bits", "posterior_bits", "negative_elbo", "loss"):
    print(f"{name:>15}: {bound[name].mean():8.2f}")
gap = bound["negative_elbo"] - bound["loss"]
print(f"−ELBO − loss: {gap.min():.3f} to {gap.max():.3f}; 784·log2(2b) = {bound['constant']:.3f}")

# %% [markdown]
# These are logarithms of *densities* over continuous pixels, not code lengths: rescale the
# pixels to grey levels and the likelihood term shifts by $784 \log_2 255 \approx 6{,}267$, and a
# small $b$ makes it negative. So they must not be set beside the real strings' bits.
#
# So a good compressor, in this sense, is a model that gives real digits a high bound on their
# probability. That does not make it a good *generator*: the bound is about the likelihood of
# data, and sample quality can disagree with likelihood (a known result for generative
# models; this notebook does not measure it).
#
# ## Add the likelihood's noise
#
# The pictures at the top are not samples of this VAE. Its generative model draws $\tilde y$
# from the prior and then every pixel from the Laplace likelihood, with scale
# $b = 784 / (\lambda \ln 2)$ in units of the $[0, 1]$ pixel range. What a random string shows is
# that likelihood's most likely digit (its mode, the decoder's output) for integer latents from
# the coding tables. Draw from the likelihood around those same digits, adding the noise the
# model itself assumes, and the digit disappears (clipped to $[0, 1]$ to draw). These are the
# likelihood's samples at integer latents; a sample of the VAE proper would decode a continuous
# $\tilde y$ drawn from the prior, and the noise would drown it just the same:

# %%
for lmbda, (_, decompressor) in codecs.items():
    modes = decompressor(strings[:8]) / 255
    b = laplace_scale(lmbda)
    sampled = np.clip(modes + rng.laplace(0.0, b, modes.shape), 0, 1)
    show_digits(255 * np.concatenate([modes, sampled]), title=f"λ = {lmbda:g}: the decoder's "
                f"output (top) and the likelihood's samples, Laplace noise of scale b = {b:.2f}")

# %% [markdown]
# ## Summary
#
# - With the sanity check off, any byte string decodes to a digit.
# - Random bits decode to integer latents drawn (approximately) from the coding tables, and the
#   decoder turns them into the likelihood's most likely digit, not into a sample of the VAE,
#   whose Laplace noise would drown it.
# - Sample quality depends on how well the prior fits real latents: the cell above measures how
#   correlated they are, and an independent prior cannot express dependence, whether
#   correlations show it or not.
# - With uniform noise, rate + λ·distortion is the negative ELBO of a VAE with a unit-box
#   posterior and a Laplace likelihood of scale $784 / (\lambda \ln 2)$, up to a constant.
#
# ## Exercises
#
# Each exercise says what it costs on a 2-core CPU at the defaults and gives a hint. Worked
# solutions are in [`solutions/06_solutions.ipynb`](solutions/06_solutions.ipynb); the check
# cell below says whether the latents you found are right.
#
# 1. **Shorter random strings.** Set `string_bytes` to 1, 2 and 4. From which length on do the
#    $\lambda = 300$ samples stop changing when you append more bytes, and why is that length
#    different for $\lambda = 2000$? *Cost:* under a minute. *Hint:* the decoder stops after the
#    last latent; the tables' entropies (printed above) say how many bits decide the latents.
# 2. **A string of zeros.** Decode `bytes(8)` with both models. Which latents does it decode to,
#    and why is the digit the same for every number of zeros? Check the latents below.
#    *Cost:* under a minute. *Hint:* `decompressor.entropy_model.decode_symbols([bytes(8)])`
#    gives the latents. Zeros are the number 0, the bottom of $[0, 1)$: which bin of each
#    latent's table starts there? (Not necessarily the value 0.)
# 3. **Sample the prior yourself.** Draw latents at random, round them and decode them with
#    `models[300.0].synthesis_transform`. Do you get the same kind of images as from random
#    strings? *Cost:* under a minute. *Hint:* the coder's probability of an integer $k$ is the
#    plain logistic's mass on $[k - \frac12, k + \frac12)$, so round samples of the logistic
#    itself, `scale * rng.logistic(size=(16, 50))`; `prior.sample` draws the *noisy* variable,
#    which adds the noise's spread a second time. The transform returns pixels in $[0, 1]$:
#    multiply by 255 before `show_digits`, which draws 0 to 255.

# %%
my_latents = None  # exercise 2: the latents bytes(8) decodes to, for the λ = 2000 model
check_answer("06.2", my_latents, decompressor=codecs[max(codecs)][1])
