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
# # 2. Quantization noise, the prior, and a differentiable rate
#
# *Learned data compression with MNIST — part 2 of 9.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/02_noise_and_prior.ipynb)
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/02_noise_and_prior.html)
#
# **Overview.** To become bits, the latents must be rounded to integers, and rounding has a
# gradient of zero almost everywhere — gradient descent cannot learn through it. This part shows
# the standard way around that, and the probability model that turns latents into a bit count:
#
# - why a symbol of probability $p$ costs $-\log_2 p$ bits;
# - during training, **additive uniform noise** stands in for rounding;
# - a learned **prior**, one `NoisyLogistic` density per latent, says how likely each value is;
# - the **entropy model** uses both to compute the rate: a differentiable estimate of the number
#   of bits a digit will cost.
#
# **Time.** Loads a few MNIST test digits and trains nothing: about 6 s on a 2-core CPU.

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

# %% tags=["parameters"]
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
example_digits = 32  # test digits in the example batch at the end
seed = 0  # fixes the random weights and noise

# %%
import numpy as np
import tensorflow as tf

from mnist_compression import (
    ContinuousBatchedEntropyModel,
    MNISTCompressionTrainer,
    NoisyLogistic,
    check_answer,
    code_lengths,
    entropy,
    load_mnist_arrays,
    make_analysis_transform,
    make_synthesis_transform,
    plot_coding_table,
    plot_prior,
    show_source,
    to_unit_range,
)

tf.keras.utils.set_random_seed(seed)

# %% [markdown]
# ## Why a probability is a length
#
# Take an alphabet of four symbols with probabilities ½, ¼, ⅛ and ⅛. The prefix code
# `a → 0`, `b → 10`, `c → 110`, `d → 111` gives each symbol exactly $-\log_2 p$ bits: frequent
# symbols get short codes. On average it spends the **entropy** of the distribution,
#
# $$H = -\sum_s p(s) \log_2 p(s) \quad\text{bits per symbol},$$
#
# and no code that can be decoded unambiguously does better. That holds when the code's
# probabilities are the source's. A code built for another distribution $p$ spends, on symbols
# that really follow $q$, the **cross-entropy**
# $-\sum_s q(s) \log_2 p(s) = H(q) + \mathrm{KL}(q \,\|\, p)$: the KL term is the bits a
# misfit model wastes. Every rate in this series is such a cross-entropy, of the latents under
# the learned prior. Training the prior to lower the rate is therefore a maximum-likelihood fit
# to the latents, and since $H(q)$ does not depend on $p$, all it can remove is the KL term.

# %%
toy = {"a": 1 / 2, "b": 1 / 4, "c": 1 / 8, "d": 1 / 8}
print("code lengths:", code_lengths(toy))
print(f"average: {entropy(toy)} bits per symbol; the message 'abacd' costs "
      f"{sum(code_lengths(toy)[s] for s in 'abacd'):.0f} bits")

# %% [markdown]
# Probabilities are rarely powers of ½, so lengths like 2.3 bits are common; part 4 shows how a
# range coder spends fractional bits by coding many symbols at once. The lesson for now: **to
# count the bits of a latent, we need its probability.** The rest of this part builds that
# probability model.
#
# ## Rounding versus noise
#
# We encode one test digit with a fresh analysis transform into 10 latents, as in part 1.

# %%
digits, _ = load_mnist_arrays("test", data_dir, limit=example_digits)
x = to_unit_range(digits[:1])
y = make_analysis_transform(10)(x)
print("y       =", y.numpy().round(3))

# %% [markdown]
# At test time the codec stores $\hat y = \operatorname{round}(y)$. During training we instead
# add independent noise $u \sim \mathcal U(-\tfrac12, \tfrac12)$ to every latent and call the
# result $\tilde y = y + u$. Two facts make this a good stand-in:
#
# 1. the error it introduces has the same range as the rounding error, so the decoder learns to
#    cope with perturbations of the right size;
# 2. the density of $\tilde y$ at an integer $k$ equals the probability that $y$ rounds to $k$.
#    So a density of the noisy latents that is a prior convolved with that box (as
#    `NoisyLogistic` is, by construction) also gives the probabilities of the rounded ones; this
#    is *why* the prior is convolved with the noise.
#
# What it does *not* give is the same bit count. The rate measured on noisy latents is neither
# an unbiased estimate of the rate of the rounded ones nor a bound on it: which way it errs, and
# by how much, depends on where the latents sit relative to the grid of integers. We measure
# that below, once the entropy model is built.
#
# And unlike rounding, $\tilde y$ has a gradient of 1 with respect to $y$.

# %%
y_tilde = y + tf.random.uniform(y.shape, -0.5, 0.5)
print("round(y) =", tf.round(y).numpy())
print("y_tilde  =", y_tilde.numpy().round(3))

# %% [markdown]
# ## The prior
#
# To count bits we need a probability for every latent value. The model learns one density per
# latent dimension: a logistic distribution centred at zero with a learned scale, convolved with
# the same uniform noise — `NoisyLogistic`. Here are ten of them, with scales from 0.01 to 2.
#
# Watch the narrowest one: a logistic with a tiny scale is nearly a spike at zero, but after
# convolving with the noise it becomes the uniform box on $(-\tfrac12, \tfrac12)$, with density
# 1. A latent the encoder always sets near zero rounds to 0 and costs $-\log_2 1 = 0$ bits. Its
# *noisy* rate during training is not zero, because the box's edges are soft: a noisy value near
# them has a density below 1 (measured below). Wider priors spread their mass over many
# integers, and each value then costs more.

# %%
prior = NoisyLogistic(loc=0.0, scale=tf.linspace(0.01, 2.0, 10))
plot_prior(prior, title="NoisyLogistic densities, one per latent");

# %% [markdown]
# The noisy rate of a collapsed latent (a prior of scale 0.02), averaged over the noise, for a few
# values the encoder might give it: the further from zero, the more of the noise lands on a soft
# edge. Rounded, every one of these costs 0 bits, so a model with many collapsed latents pays
# more during training than its real strings will; part 3 measures that gap on a trained model.

# %%
collapsed = NoisyLogistic(loc=0.0, scale=0.02)
noise = np.linspace(-0.5, 0.5, 100_001)
for value in (0.0, 0.05, 0.1, 0.2):
    bits = -collapsed.log_prob(tf.constant(value + noise, tf.float32)).numpy().mean() / np.log(2)
    print(f"latent at y = {value:.2f}: {bits:.3f} bits on average under the noise")

# %% [markdown]
# Fact 2 above, seen on one of these latents (the one of scale 2): the bars are the probabilities
# of the integers as the range coder of part 4 will store them — counts out of $2^{12} = 4096$
# over the integers where the prior has almost all its mass, plus one *escape* bin for anything
# beyond — and each bar sits on the noisy density at that integer.

# %%
plot_coding_table(prior, channel=9);

# %% [markdown]
# The density is a difference of two logistic CDFs, $p(\tilde y) = F(\tilde y + \tfrac12) -
# F(\tilde y - \tfrac12)$. The rate needs its logarithm, and `log_prob` computes that directly
# in log space, so it stays finite far in the tails where the density itself rounds to zero.
# This is the package's implementation, which follows tensorflow-compression's `tfc.NoisyLogistic`
# step for step; for $\tilde y > \mu - \tfrac12$ (just left of the median and beyond) it works with
# survival functions ($1 - F$) instead, which keeps tiny differences precise.

# %%
show_source(NoisyLogistic.log_prob)

# %% [markdown]
# ## A differentiable rate
#
# `ContinuousBatchedEntropyModel` combines the prior with the noise. Called with
# `training=True`, it adds the noise and returns $\tilde y$ together with the rate: the sum over
# the 10 latents (`coding_rank=1`) of $-\log_2 p(\tilde y_i)$, in bits, one value per digit.

# %%
entropy_model = ContinuousBatchedEntropyModel(prior, coding_rank=1, compression=False)
y_tilde, rate = entropy_model(y, training=True)
print("rate:", rate.numpy(), "bits")

# %% [markdown]
# There is no magic in that number. Summing minus the log-densities by hand, converted from
# nats to bits, gives the same:

# %%
by_hand = -tf.reduce_sum(prior.log_prob(y_tilde), axis=-1) / np.log(2.0)
print("by hand:", by_hand.numpy(), "bits")

# %% [markdown]
# ### Noisy bits are not rounded bits
#
# The same entropy model also gives the rate of the rounded latents (`training=False`). Take one
# prior of scale 0.2 and two sets of latents: 10,000 spread around zero, drawn from
# $\mathcal N(0, 0.3^2)$, and 10,000 sitting just past the rounding boundaries, at $\pm 0.51$.

# %%
toy_model = ContinuousBatchedEntropyModel(NoisyLogistic(0.0, [0.2]), coding_rank=1)
toy_latents = {"N(0, 0.3²)": tf.random.normal([10_000, 1], stddev=0.3),
               "±0.51": tf.constant([[0.51], [-0.51]] * 5_000)}
for name, latents in toy_latents.items():
    noisy, rounded = (float(tf.reduce_mean(toy_model(latents, training=t)[1]))
                      for t in (True, False))
    print(f"latents {name}: noisy {noisy:.2f} bits, rounded {rounded:.2f} bits")

# %% [markdown]
# For latents spread around zero the noisy rate is the higher one; for latents just past
# $\pm\frac12$ it is less than half the rounded rate, because noise keeps them near the dense
# centre while rounding moves every one of them to $\pm 1$. Training only ever sees the noisy
# rate, so this gap is part of what a trained model's real bit count differs by (part 3
# measures it on the trained model).

# %% [markdown]
# The original tutorial imports `tfc.NoisyLogistic` and `tfc.ContinuousBatchedEntropyModel` from
# tensorflow-compression, whose last release no longer installs on today's Colab; this package
# carries its own versions of both, which give the same numbers. [Appendix
# A](A1_same_everywhere.ipynb) says why, and checks it where tensorflow-compression installs.
#
# Minimising this rate pushes two ways: the encoder learns to put latents where the prior is
# dense, and the prior's scales learn to fit where the latents are. That second half is just
# maximum-likelihood fitting of the prior to the latents' distribution. (Part 6 shows that the
# whole training loss of part 3 is, up to a constant, the negative evidence lower bound of a
# variational autoencoder.)
#
# ## Distortion, and a whole batch
#
# The noisy latents go through the synthesis transform, and the **distortion** is the mean
# absolute difference between original and reconstructed pixels. Untrained, it is poor.

# %%
x_tilde = make_synthesis_transform()(y_tilde)
print("distortion:", tf.reduce_mean(tf.abs(x - x_tilde)).numpy())

# %% [markdown]
# `MNISTCompressionTrainer` packages all of this: both transforms, a 50-dimensional latent space
# with a learned log-scale per latent, and the entropy model. Called on uint8 digits it returns
# the rate and the distortion of every digit in the batch.

# %%
trainer = MNISTCompressionTrainer(latent_dims=50)
outputs = trainer(digits, training=True)
print({name: value.shape for name, value in outputs.items()})
print(f"mean rate {np.mean(outputs['rate']):.1f} bits, "
      f"mean distortion {np.mean(outputs['distortion']):.3f}")

# %% [markdown]
# ## Summary
#
# - A symbol of probability $p$ costs $-\log_2 p$ bits in an ideal code; the average is the
#   entropy when the code's probabilities are the source's, and otherwise the cross-entropy,
#   entropy plus the KL divergence that a misfit model wastes.
# - Rounding blocks gradients; uniform noise of the same width is a differentiable stand-in
#   whose density at integers equals the probabilities of rounded values.
# - A learned prior (here `NoisyLogistic` per latent) assigns those probabilities; a narrow prior
#   makes a latent nearly free, a wide one costly.
# - The entropy model's rate, $-\sum_i \log_2 p(\tilde y_i)$, is a differentiable proxy for
#   the bits per digit that can be minimised like any other loss; it is neither an unbiased
#   estimate of the rounded latents' bits nor a bound on them.
# - [Part 4](04_compression.ipynb) ends with a glossary of every bit count in the series.
#
# ## Exercises
#
# Each exercise says what it costs on a 2-core CPU at the defaults and gives a hint. Worked
# solutions are in [`solutions/02_solutions.ipynb`](solutions/02_solutions.ipynb); the check
# cells below say whether a number you found is right.
#
# 1. **The rate of the rounded latents.** Compute $-\sum_i \log_2 p(\hat y_i)$ by hand and
#    check it below. *Cost:* under a minute. *Hint:* `prior.log_prob(tf.round(y))` gives natural
#    logarithms; divide by $\ln 2$ and sum over the last axis.
# 2. **When is it a plain logistic?** Plot `NoisyLogistic(loc=0.0, scale=[0.1, 1.0, 10.0])` with
#    `plot_prior(prior, -30, 30)`. From which scale on does it look like a plain logistic
#    density, and why? *Cost:* under a minute. *Hint:* the noisy density is the logistic
#    averaged over a window of width 1; compare that width with the scale.
# 3. **How noisy is the noisy rate?** Draw the noise many times for the same digit. How much
#    does the rate vary, and how does averaging over a batch of 128 digits help training?
#    *Cost:* under a minute. *Hint:* call `entropy_model(y, training=True)` 100 times and take
#    the standard deviation of the rates; the mean of $B$ independent draws varies
#    $\sqrt{B}$ times less.

# %%
my_rate = None  # exercise 1: the rate of round(y), in bits
check_answer("02.1", my_rate, y=y, entropy_model=entropy_model)
