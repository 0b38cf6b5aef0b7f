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
# # 9. Side information: a hyperprior
#
# *Learned data compression with MNIST — part 9 of 9, an extension.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/09_side_information.ipynb)
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/09_side_information.html)
#
# **Overview.** Every model so far codes each latent under one prior that is the same for every
# digit: a *factorized* prior. Its bits per digit are a cross-entropy, the sum over the latents
# of each one's entropy plus the KL between its values and its prior (part 4). Fitting the prior
# can remove only the KL; the entropies stay, and they ignore all that a digit's latents share —
# whether it is a "1" or an "8", how widely its latents spread. *Side information* goes after
# that: send a little first, and code the rest under a prior that the little chose. We measure
# the plainest case, sending the digit's class, and then build the field's standard answer, a
# *scale hyperprior* (Ballé, Minnen, Singh, Hwang and Johnston, "Variational image compression
# with a scale hyperprior", ICLR 2018): a few side latents, learned with the rest, that tell the
# decoder every latent's scale for this digit. It is measured on real strings against the
# factorized models of part 7, at the same λ with the same recipe and epochs.
#
# **Bits.** Every bit count in this part (noisy rate, information content, real strings,
# `.mnc` bytes) is defined in [part 4's glossary](04_compression.ipynb), always per digit.
#
# **Time.** Needs six of part 7's models (λ = 300 … 10,000) and six hyperprior models: from the
# model cache, else published when this release has them (`pretrained = True`), else trained
# here: 15–60 min on a 2-core CPU (10–40 s an epoch) for each set of six. Measuring everything
# takes about 4 min.

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
# The training parameters are part 7's, so its models come from the model cache; the hyperprior
# models are trained with the same recipe, epochs, digits and seed, and differ only in their
# side latents. With `pretrained = True`, a model that this release publishes for exactly these
# settings is downloaded instead of trained (one line says so when there is none).

# %% tags=["parameters"]
lambdas = [300.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0]  # six of part 7's λ
recipe = "original"  # "original": the tutorial's; "fast": 4 epochs, not 15 (see docs/results.md)
epochs = None  # None: the recipe's (15 original, 4 fast)
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits (also the digits measured)
batch_size = None  # None: the recipe's (128)
seed = 0
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
cache_in_drive = False  # in Colab: keep trained models in Google Drive
pretrained = True  # a published model with these settings, if any; or a mirror's URL or folder
hyper_latent_dims = 8  # side latents of the hyperprior models
example_lambda = 2000.0  # the λ whose models are looked at closely
figure_lambda = 10000.0  # the λ whose predicted scales are drawn
output_dir = "build/side_information"  # where the tables are written as CSV and JSON

# %%
import json
from pathlib import Path

import numpy as np

from mnist_compression import (
    HyperpriorTrainer,
    TrainingSettings,
    class_as_side_information,
    describe_bd_rate,
    empirical_entropy_bits,
    keep_cache_in_drive,
    load_mnist_arrays,
    load_training_data,
    plot_latent_scales,
    predicted_scales,
    rows_bd_rate,
    run_sweep,
    scale_grid,
    scale_index_counts,
    show_source,
    write_rows,
)

if cache_in_drive:
    keep_cache_in_drive()

# %% [markdown]
# ## Measure what a factorized prior leaves
#
# First part 7's models, measured on the test digits as there (loaded from the cache). For the
# model at `example_lambda`: its information content under its prior, and what a code fitted to
# exactly these test latents, one latent at a time, would spend (part 4's "code fitted latent by
# latent"). The difference is the KL, the most that refitting a factorized prior could save.

# %%
settings = TrainingSettings.from_recipe(
    recipe, epochs=epochs, train_examples=train_examples, batch_size=batch_size,
    validation_examples=validation_examples, seed=seed, data_dir=data_dir)
data = load_training_data(settings)
factorized = run_sweep(settings, lambdas, data=data, pretrained=pretrained, progress=False)
compressor, _ = factorized.codecs[example_lambda]
prior_bits = compressor.information_bits(data.validation).mean()
fitted_bits = empirical_entropy_bits(compressor.transforms.latents(data.validation)).sum()
print(f"λ = {example_lambda:g}: {prior_bits:.2f} bits under the prior, {fitted_bits:.2f} for a "
      f"code fitted latent by latent; the KL: {prior_bits - fitted_bits:.2f} bits")

# %% [markdown]
# (At smoke-test size, the fitted code's entropies come from only a thousand digits and are
# biased low; the full run's numbers are in docs/results.md.) What is left, the sum of the
# latents' entropies, is the price of coding each latent on its own under one prior for every
# digit. A better code must know more about *this* digit before it codes its latents.
#
# ## Send the class first
#
# The plainest side information is what digit it is. Send the class first, about
# $\log_2 10 \approx 3.3$ bits (exactly: $-\log_2$ of its share of the training digits), then
# code the latents under a prior fitted to that class: a scale per latent per class, fitted by
# maximum likelihood on the training digits' latents of the same model (`fit_scales`), and
# measured on the test digits. Also shown: one prior refitted to all training digits, the fair
# baseline, and real strings under coding tables built from the per-class priors.

# %%
train_digits, train_labels = load_mnist_arrays("train", settings.data_dir, train_examples)
by_class = class_as_side_information(compressor, train_digits, train_labels, data.validation,
                                     data.validation_labels)
print(f"one prior for every digit: {by_class['shared']:.2f} bits (refitted: "
      f"{by_class['refitted']:.2f}); real strings {by_class['strings_shared']:.2f}")
print(f"a prior per class: {by_class['per_class']:.2f} + class {by_class['class_bits']:.2f} = "
      f"{by_class['per_class'] + by_class['class_bits']:.2f} bits; real strings "
      f"{by_class['strings_per_class']:.2f} + the class")

# %% [markdown]
# Sending the class pays only if the priors it selects save more than the class costs. Ten
# classes are a coarse summary, chosen by us and not by the model: two "4"s can spread their
# latents quite differently. The hyperprior instead *learns* what to send, and how much.
#
# ## Build a scale hyperprior
#
# The model keeps the tutorial's transforms. Its hyper-analysis transform $h_a$, two small
# dense layers, reads the magnitudes $|y|$ of the latents and outputs `hyper_latent_dims` side
# latents $z$. They are coded first, with the factorized prior of parts 2–4 (one noisy logistic
# per side latent). The hyper-synthesis transform $h_s$ turns the decoded $\hat z$ into one
# number per latent: an index into a fixed grid of 64 scales, from 0.04 to 32, spaced
# geometrically. Latent $i$ is then coded under a zero-centred noisy logistic with the grid's
# scale at that index. The coder needs tables built in advance, one per scale of the grid, and
# $h_s$ picks one of them for every latent of every digit. The rate is
# $-\log_2 P(\hat z) - \log_2 P(\hat y \mid \hat z)$, and training replaces rounding with
# uniform noise in both, as in part 2 (the index stays a continuous number there).

# %%
show_source(HyperpriorTrainer.call)

# %% [markdown]
# ## Train the hyperprior models
#
# One per λ, with part 7's recipe and epochs, cached under their settings like every model.

# %%
hyper_settings = settings.replace(hyper_latent_dims=hyper_latent_dims)
print(hyper_settings.describe(), f"- {hyper_settings.epochs} epochs")
hyper = run_sweep(hyper_settings, lambdas, data=data, pretrained=pretrained, progress=False)
hyper_compressor, _ = hyper.codecs[example_lambda]
figure_compressor, _ = hyper.codecs[figure_lambda]

# %% [markdown]
# ## Look at the scales it predicts
#
# For four test digits of different classes, the scale the side latents chose for each latent
# (at `figure_lambda`, latents ordered by their median scale over the four). Digits with equal
# side latents get equal scales, and the side latents take only a few different values (the
# cell counts them), so of each class we take the first test digit whose side latents differ
# from those already taken, where there is one. A latent given the grid's narrowest scale is in
# effect switched off for that digit: a zero costs next to nothing there, any other value a
# great deal. The dotted lines are the grid's ends.

# %%
side = figure_compressor.transforms.latents(data.validation)[:, :hyper_latent_dims]
print(f"{len(np.unique(side, axis=0))} different side-latent vectors among {len(side):,} digits")
first = []
for k in (1, 8, 0, 4):
    of_k = np.flatnonzero(data.validation_labels == k)
    new = [i for i in of_k if not any(np.array_equal(side[i], side[j]) for j in first)]
    first.append(new[0] if new else of_k[0])
examples = data.validation[first]
plot_latent_scales(examples, predicted_scales(figure_compressor, examples), scale_grid());

# %% [markdown]
# Per λ: the share of test digits whose side latents all round to zero (they then get the same
# scales, whatever the digit), and how often a latent is coded with the grid's narrowest and
# widest scale (the grid is wide enough where its widest end is almost never reached):

# %%
for lmbda, (compressor_at, _) in hyper.codecs.items():
    side = compressor_at.transforms.latents(data.validation)[:, :hyper_latent_dims]
    counts = scale_index_counts(compressor_at, data.validation)
    print(f"λ = {lmbda:6g}: side latents all zero {np.mean(~side.any(axis=1)):6.1%}; scales: "
          f"narrowest {counts[0] / counts.sum():5.1%}, widest {counts[-1] / counts.sum():.3%}")

# %% [markdown]
# ## Weigh the side bits against the bits they save
#
# Per λ, the information content of the two models, the hyperprior's split into side latents
# and latents, the MAE, and the loss $R + \lambda D$ (with $R$ the information content) that both
# were trained to make small:

# %%
print(f"{'λ':>6} {'factorized':>10} {'hyper':>7} {'of it z':>7} {'MAE fact.':>9} "
      f"{'MAE hyper':>9} {'R+λD fact.':>10} {'R+λD hyper':>10}")
for a, b in zip(factorized.rows, hyper.rows):
    lmbda = a["lmbda"]
    print(f"{lmbda:6g} {a['information_bits']:10.2f} {b['information_bits']:7.2f} "
          f"{b['side_bits']:7.2f} {a['mae']:9.4f} {b['mae']:9.4f} "
          f"{a['information_bits'] + lmbda * a['mae']:10.1f} "
          f"{b['information_bits'] + lmbda * b['mae']:10.1f}")

# %% [markdown]
# The same λ does not land on the same point, so compare the losses, or, better, the curves.
# But read the side bits first. In the full run (docs/results.md, *Side information: a
# hyperprior*) they are zero from λ = 300 to 2000: every test digit's side latents round to zero
# (the cell before), so every digit gets the same scales, and the hyperprior has taught itself
# to be a factorized prior whose scales sit on the grid. That is the loss's choice, not a fault
# of the codec: in training a side latent near zero costs a fraction of a bit and, blurred by
# the noise, still nudges the scales, but once rounded it says nothing, and no side latent found
# enough to say to be worth a whole step. Per-digit scales save less than they cost there, as
# the class experiment hinted (a prior per class saved less than the class cost). Only at 5000
# and 10,000, where many latents carry many bits, do the side latents stay in use, for a third
# to two fifths of the digits and under two bits per digit on average.
#
# Yet the hyperprior's losses are lower at every λ, also where it sends nothing. That part of
# the gain cannot be side information. Its scales are learned differently: through the
# hyper-synthesis transform's output, where dozens of weights move each scale at every step,
# rather than as one log-scale per latent at the transforms' learning rate, which is slow for
# the prior (the fast and variable-rate recipes raise the prior's learning rate to 30 times the
# transforms'). Exercise 3 measures how much of the gap a factorized prior that learns 30 times
# faster closes. The BD-rate below mixes all of it.
#
# ## Check the real strings
#
# The codec writes the side latents and then the latents into one string: the decoder reads
# $\hat z$, runs $h_s$ in exact integer arithmetic (appendix A) to find every latent's table,
# and reads on. One string rather than two saves a second string's end and a length field.
# Bits written against the information content, both models:

# %%
for name, sweep in (("factorized", factorized), ("hyperprior", hyper)):
    overhead = [row["string_bits"] - row["information_bits"] for row in sweep.rows]
    print(f"{name:>10}: strings exceed the information content by "
          f"{min(overhead):.2f}–{max(overhead):.2f} bits per digit over the λ")

# %% [markdown]
# ## Sum it up: the BD-rate
#
# Part 7's Bjøntegaard delta rate compares the two curves over the quality range both cover,
# with the factorized models as anchor: a negative number is the share of bits the hyperprior
# saves at equal quality, a positive one what it costs, along PSNR and along the MAE the models
# were trained for (as −MAE):

# %%
bd_rates = {quality: rows_bd_rate(factorized.rows, hyper.rows, quality)
            for quality in ("psnr", "mae")}
for quality, result in bd_rates.items():
    print(describe_bd_rate("hyperprior against factorized", result, quality))

# %% [markdown]
# At smoke-test size, with far fewer epochs than either model needs, the sign can be anything;
# the full run's numbers are in docs/results.md. Part 8's two seeds of one model ended up to a
# few points of BD-rate apart, so only a difference of several points says that one model is
# better. And this number is not the value of side information: up to λ = 2000 it compares two
# ways of learning a factorized prior's scales (directly, in part 7, or through the
# hyper-synthesis transform's output, here), and above that it adds what the side latents send.
#
# ## Compare the training time
#
# The side latents add two small dense layers to each transform. Each model's history records
# how long every epoch took, on the machine that trained it and under whatever else ran there,
# so the two medians below compare the machines' loads as much as the models. For a fair
# comparison, docs/benchmarks.md (*Training a hyperprior*) times the two taking turns on one
# machine:

# %%
for name, sweep in (("factorized", factorized), ("hyperprior", hyper)):
    seconds = [s for history in sweep.histories.values() for s in history.get("seconds", [])]
    print(f"{name:>10}: {np.median(seconds):.1f} s per epoch (median of {len(seconds)})"
          if seconds else f"{name:>10}: published models, no training times recorded here")

# %% [markdown]
# ## Keep the numbers
#
# The rows of both sweeps land in `output_dir` as CSV and JSON, and everything this part
# measured in one file, `side_information.json` (docs/results.md shows the full run's):

# %%
for name, rows in (("factorized", factorized.rows), ("hyperprior", hyper.rows)):
    write_rows(rows, Path(output_dir) / name)
summary = dict(factorized=factorized.rows, hyperprior=hyper.rows, bd_rates=bd_rates,
               class_side_information=by_class, hyper_latent_dims=hyper_latent_dims,
               example_lambda=example_lambda)
(Path(output_dir) / "side_information.json").write_text(json.dumps(summary, indent=1))
print(f"{output_dir}: factorized, hyperprior, side_information.json")

# %% [markdown]
# ## Summary
#
# - A factorized prior codes each latent on its own, with one prior for every digit; refitting
#   it removes only the KL, and the latents' summed entropies stay.
# - Side information is sent first and chooses the prior of the rest. It pays only when it saves
#   more bits than it costs, which the class of a digit, fixed by us, has to prove (the cell
#   above measures it).
# - A scale hyperprior learns what to send: side latents $z = h_a(|y|)$, coded with a factorized
#   prior, from which $h_s$ picks a scale for each latent out of a fixed grid; the rate is
#   $-\log_2 P(\hat z) - \log_2 P(\hat y \mid \hat z)$, trained with noise like the rest.
# - The codec stays exact: $h_a$, $h_s$ and the choice of tables run in integer arithmetic, so
#   both sides pick the same table on every machine, and side latents and latents share one
#   string (the strings are tensorflow-compression's indexed entropy model's, byte for byte).
# - On these digits, with the tutorial's recipe, the side latents collapse in the full run up to
#   λ = 2000 (the models send no side information) and send under two bits per digit above it.
#   The hyperprior models still beat part 7's at every λ (docs/results.md), but where they send
#   nothing the gain comes from training, not from side information (exercise 3 measures how
#   much of it a faster-learning factorized prior recovers). Ballé et al. measured their gains
#   on photographs, whose latents number in the thousands per image, not 50 per digit.
#
# ## Exercises
#
# Each exercise says what it costs on a 2-core CPU at the defaults and gives a hint. Worked
# solutions are in [`solutions/09_solutions.ipynb`](solutions/09_solutions.ipynb).
#
# 1. **How many side latents?** Train hyperprior models with 2 and with 32 side latents at
#    `example_lambda` and compare their side bits, total bits, MAE and loss with the model of 8.
#    *Cost:* 2 trainings of 15 epochs, 5–20 min. *Hint:*
#    `run_sweep(hyper_settings.replace(hyper_latent_dims=2), [example_lambda], data=data)` and
#    the rows' `side_bits`, `information_bits`, `mae`.
# 2. **Which digits gain?** At `example_lambda`, compare the two models' information content
#    per class of the test digits. Which class gains most from the side latents, and which
#    spends most on them? *Cost:* under a minute. *Hint:* `compressor.information_bits(digits)`
#    of both models and `side_bits(hyper_compressor, digits)[:, 0]`, grouped by
#    `data.validation_labels`.
# 3. **Is it the side information?** Where the hyperprior sends no side bits, its lower loss
#    must come from how its scales are learned. Train a factorized model at `example_lambda`
#    whose prior learns 30 times faster than its transforms (the fast recipe's setting) and
#    see how much of the loss gap between part 7's model and the hyperprior it closes. *Cost:*
#    1 training of 15 epochs, 2–10 min. *Hint:*
#    `settings.replace(prior_lr_factor=30.0, prior_lr_ramp=0.5)` in `run_sweep`, and
#    $R + \lambda D$ of the three models' rows.
