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
# # 8. One model for every λ
#
# *Learned data compression with MNIST — part 8 of 9, an extension.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/08_one_model_every_lambda.ipynb)
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/08_one_model_every_lambda.html)
#
# **Overview.** Part 7 trained a separate model for each of eight values of $\lambda$. Here a
# single model learns all eight at once: it keeps the tutorial's transforms and prior and adds,
# per rate level, a learned *gain* that scales the latents before rounding and an *inverse
# gain*, learned separately, that scales the rounded latents before decoding (Cui et al.,
# "Asymmetric Gained Deep Image Compression With Continuous Rate Adaptation", CVPR 2021).
# Between the levels the gains are interpolated, so the model codes at any $\lambda$ from 50 to
# 10,000 — which makes a slider possible. Between levels $\lambda$ is an interpolation coordinate, a
# label: nothing trained that point to minimise $R + \lambda D$. We measure the one model against
# the eight on real strings, sum the comparison up in one number, the Bjøntegaard delta rate of
# part 7, and then ask what that number is made of: the price of sharing one model between the
# levels, or the different training recipes. Last, the training times.
#
# **Bits.** Every bit count in this part (noisy rate, information content, real strings,
# `.mnc` bytes) is defined in [part 4's glossary](04_compression.ipynb), always per digit.
#
# **Time.** Needs the eight models of part 7, two variable-rate models (two seeds) and nine
# models trained with the variable-rate recipe (the eight λ and λ = 700): from the model
# cache, else published when this release has them (`pretrained = True`, about 10 MB each), else
# trained here: 20–80 min on a 2-core CPU (10–40 s an epoch) for the eight, 10–40 min for the
# variable-rate models (2 trainings of 30 epochs) and 45–180 min for the nine (9 trainings of
# 30 epochs). Measuring everything takes about 6 min.

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
# The training parameters are part 7's, so its eight models come from the model cache; the
# variable-rate model is trained on the same digits for twice one model's epochs, and so are
# the models that share its recipe.
# With `pretrained = True`, a model that this release publishes for exactly these settings is
# downloaded instead of trained (10.2–10.3 MB per model; one line says so when there is none).

# %% tags=["parameters"]
lambdas = [50.0, 100.0, 300.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0]  # part 7's models
recipe = "original"  # "original": the tutorial's; "fast": 4 epochs, not 15 (see docs/results.md)
epochs = None  # None: the recipe's (15 original, 4 fast); the variable-rate model gets twice
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits (also the digits measured)
batch_size = None  # None: the recipe's (128)
seed = 0
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
cache_in_drive = False  # in Colab: keep trained models in Google Drive
pretrained = True  # a published model with these settings, if any; or a mirror's URL or folder
between = 9  # λ between the levels at which the variable-rate model is measured as well
second_seed = 1  # a second variable-rate model with this seed, for the BD-rates' spread
middle_lambda = 700.0  # a λ between two levels, where a dedicated model meets the shared one
output_dir = "build/variable_rate"  # where the tables are written as CSV and JSON
slider_digits = 16  # test digits the λ slider re-codes

# %%
from pathlib import Path

import numpy as np

from mnist_compression import (
    DEFAULT_QUALITIES,
    TrainingSettings,
    bd_rate_against_classical,
    bd_rate_table,
    describe,
    describe_bd_rate,
    evaluate_baselines,
    keep_cache_in_drive,
    lambda_slider,
    load_training_data,
    make_codec,
    measure_variable_rate,
    plot_gains,
    plot_quantization_grids,
    plot_variable_rate,
    rows_bd_rate,
    run_sweep,
    time_sharing,
    train_or_load,
    write_rows,
)

if cache_in_drive:
    keep_cache_in_drive()

# %% [markdown]
# ## Why one model can serve every rate
#
# Parts 5 and 7 changed $\lambda$ and got a new model each time. Compare two of them and much
# stays the same: both map a digit to 50 numbers, round them, and code them under a logistic
# prior. A guess suggests itself: perhaps what differs is mostly *how finely* each latent is
# rounded. That can be learned without new transforms. Rounding $g \cdot y$ to integers is
# rounding $y$ to multiples of $1/g$: a latent scaled by a gain $g > 1$ spreads over more
# integers (more bits, less error), one scaled by $g < 1$ over fewer. How well the guess holds
# is what this notebook measures.
#
# So the variable-rate model learns, for each of $K$ levels $\lambda_k$, a gain vector $g_k$
# and an inverse-gain vector $g'_k$ (50 numbers each):
#
# $$\hat y = \operatorname{round}(g_k \odot y), \qquad
#   \tilde x = \text{synthesis transform}(g'_k \odot \hat y),$$
#
# where $\odot$ multiplies latent by latent. The inverse gain is learned on its own rather
# than fixed to $1/g_k$ (the "asymmetric" of the paper's title), so the decoder may also
# rescale. The prior needs no new parameters: the logistic is a *location–scale family*
# (scaling a logistic variable by $a$ gives a logistic variable whose location and scale are
# multiplied by $a$), so if $y$ has scale $s$, then $g_k y$ has scale $g_k s$, and each level
# codes with tables built for the
# prior's scales times $g_k$ by the same table builder as before. Training draws a level for
# every digit and minimises the mean of $R + \lambda_k D$ over the batch. Between two levels,
# the gains are interpolated geometrically: $\log g$ is linear in $\log \lambda$.
#
# Its recipe, `variable-rate`, keeps part 7's digits, batch size and seed and trains for twice
# one model's epochs. Like part 3's fast recipe, it lets the learning rate warm up and decay
# along a cosine from 2·10⁻³, with the prior's scales learning 30 times faster: with the
# original recipe's constant 10⁻³, this model ended clearly worse in one earlier training
# (about +14% against +7%; the section "One model for every λ" of docs/results.md has it).

# %%
settings = TrainingSettings.from_recipe(
    recipe, epochs=epochs, train_examples=train_examples, batch_size=batch_size,
    validation_examples=validation_examples, seed=seed, data_dir=data_dir)
variable = settings.variable_rate()
print(f"levels: {variable.levels}; {variable.epochs} epochs; learning rate "
      f"{variable.learning_rate:g}, {variable.schedule} schedule")

# %% [markdown]
# Every level is drawn equally often. A level's loss grows with its $\lambda$, so the highest
# levels pull hardest on the shared transforms; the setting `level_sampling` draws low levels
# more often instead, and exercise 1 measures what that changes.
#
# ## Train it, or load it
#
# Like every model here, it is cached under its settings (and downloaded with
# `pretrained = True` when this release publishes it). Each epoch reports the validation rate
# and distortion of every level, measured on its own share of the test digits.

# %%
trainer, history = train_or_load(variable, pretrained=pretrained)
variable_seconds = sum(history.get("seconds", []))
print(f"trained in {variable_seconds / 60:.1f} min ({len(history['loss'])} epochs)")

# %% [markdown]
# ## The gains it learned
#
# First what a gain does to one latent. Rounding $g \cdot y$ to an integer is rounding $y$ to
# a multiple of $1/g$, so each level puts its own grid on the latent: below, the values the most
# used latent can take after rounding, within three prior scales of zero, one row per level.
# In the full run, the two lowest levels' gains leave only 0 (the latent then costs next to
# nothing), and higher levels lay ever finer grids.

# %%
plot_quantization_grids(trainer);

# %% [markdown]
# All latents at once, one thin line per latent: its gain (left) and inverse gain (right) at
# each level, on log–log axes, with the median over the latents in black. The straight
# segments between the levels are the gains the codec uses between them: on these axes,
# geometric interpolation is a straight line. Many latents have tiny gains at low levels: they
# are switched off there.

# %%
plot_gains(trainer);
gains = np.exp(trainer.log_gains.numpy())
print("median gain per level:", {f"{lm:g}": round(float(g), 3)
                                 for lm, g in zip(trainer.levels, np.median(gains, axis=1))})

# %% [markdown]
# ## Real strings at every level
#
# `VariableRateCodec` turns the model into a compressor and a decompressor at any $\lambda$ in
# its range: integer gains, exact transforms and coding tables for the scaled prior, so a
# string decodes to the same digit on every machine, as in part 4 (appendix A). We measure it at
# each level on the test digits exactly as part 7 measured its eight models (loaded here from the
# cache).

# %%
data = load_training_data(settings)
fixed = run_sweep(settings, lambdas, data=data, pretrained=pretrained, progress=False)
codec = make_codec(trainer)
one = measure_variable_rate(codec, data, history=history, progress=False)

# %% [markdown]
# Bits sent and PSNR (part 5) per $\lambda$, eight models against one:

# %%
print(f"{'λ':>7} {'bits: eight':>12} {'bits: one':>10} {'PSNR: eight':>12} {'PSNR: one':>10}")
for a, b in zip(fixed.rows, one.rows):
    print(f"{a['lmbda']:7g} {a['string_bits']:12.2f} {b['string_bits']:10.2f} "
          f"{a['psnr']:12.2f} {b['psnr']:10.2f}")

# %% [markdown]
# The same $\lambda$ does not land on the same point: the one model's level and the dedicated model
# are different trades, trained differently (in the full run, the one model sends more bits than the
# eight from $\lambda$ = 300 to 5000, at 5000 by less than a tenth of a bit, and fewer at 10,000).
# What matters is whether the one model's points lie on the same *curve*. Between the levels we
# measure it too, at $\lambda$ spread evenly in $\log \lambda$, and draw both curves (PSNR
# against real bits: up and to the left is better):

# %%
grid = np.geomspace(codec.levels[0], codec.levels[-1], between + 2)[1:-1]
inside = measure_variable_rate(codec, data, lambdas=list(grid), progress=False)
plot_variable_rate(fixed.rows, one.rows, inside.rows);

# %% [markdown]
# ## One number: the BD-rate
#
# Comparing codecs point by point depends on which points you pick. Part 7's Bjøntegaard delta
# rate (BD-rate) interpolates each codec's log rate as a smooth function of quality, averages the
# difference of the two log rates uniformly over the quality range both cover, and reports
# $e^{\text{mean}} - 1$: +5% means the test codec needs 5% more bits than the anchor for the
# same quality, as a geometric mean. We use the maintained `bjontegaard` package (Akima
# interpolation) through `curves.rows_bd_rate`, with the eight models as anchor,
# on the levels $\lambda \ge 300$ (below that, fully trained models send next to nothing and the
# curve is flat), both along PSNR and along the MAE, the distortion the models were trained for
# (as −MAE, so that quality rises with rate; the range is printed in MAE):

# %%
top = {name: [r for r in rows if r["lmbda"] >= 300] for name, rows in
       (("eight", fixed.rows), ("one", one.rows))}
for quality in ("psnr", "mae"):
    result = rows_bd_rate(top["eight"], top["one"], quality)
    print(describe_bd_rate("one model against the eight", result, quality))

# %% [markdown]
# A positive BD-rate means that many percent more bits for the same quality (a negative one, a
# saving). At smoke-test size, with far fewer epochs than either system needs, it can be anything;
# the full run's numbers are in the section "One model for every λ" of docs/results.md. What does
# it measure?
#
# ## Sharing, or the recipe?
#
# Any single level of the one model *is* a fixed-rate model. Multiplying the latents by a gain
# $g$ is the same as scaling the outputs of the analysis transform's last dense layer (weights
# $\operatorname{diag}(g)\,W$, bias $g \odot b$); the inverse gain $g'$ scales the *inputs* of the
# synthesis transform's first dense layer (weights $W \operatorname{diag}(g')$, bias unchanged);
# and the prior's scales become $s \odot g$. The same holds between the levels, for interpolated
# gains. So the fixed-rate models contain every level: a dedicated model trained to its optimum is
# never worse, in the loss at its $\lambda$, than a level. But the eight models and the one model
# were not trained alike: 15 epochs at a constant learning rate of 10⁻³ against 30 epochs along
# a cosine from 2·10⁻³, with the prior's learning rate ramping up to 30 times the transforms'.
# The BD-rate above mixes sharing with the recipe. To tell them apart we train eight more models,
# one per $\lambda$, with exactly the variable-rate recipe and its 30 epochs
# (`settings.variable_rate_recipe_at`). And a training's outcome depends on its seed (initial
# weights, shuffling), so one BD-rate is one draw: a second variable-rate model that differs only
# in its seed gives a first, rough idea of how far it moves.

# %%
anchor = settings.variable_rate_recipe_at(settings.lmbda)
print(f"same recipe: {anchor.epochs} epochs, learning rate {anchor.learning_rate:g}, "
      f"{anchor.schedule} schedule, prior ×{anchor.prior_lr_factor:g}")
same = run_sweep(anchor, lambdas, data=data, pretrained=pretrained, progress=False)
other, _ = train_or_load(variable.replace(seed=second_seed), pretrained=pretrained)
seeds = {f"one, seed {seed}": one.rows,
         f"one, seed {second_seed}": measure_variable_rate(make_codec(other), data,
                                                           progress=False).rows}

# %% [markdown]
# Five comparisons, each along PSNR and −MAE, from $\lambda$ = 300 on as above: each seed of the
# one model against the original eight and against the same-recipe eight, and the same-recipe
# eight against the original eight, which is the recipe's effect with no sharing at all:

# %%
anchors = {"original eight": fixed.rows, "same-recipe eight": same.rows}
pairs = [(t, rows, a, anchors[a]) for t, rows in seeds.items() for a in anchors]
pairs.append(("same-recipe eight", same.rows, "original eight", fixed.rows))
print(f"{'test':>17} {'anchor':>18} {'PSNR':>8} {'−MAE':>8}")
bd_rates = bd_rate_table(pairs, lowest_lambda=300)
for row in bd_rates:
    cells = " ".join("     n/a" if row[q] is None else f"{row[q]:+7.1f}%" for q in ("psnr", "mae"))
    print(f"{row['test']:>17} {row['anchor']:>18} {cells}")

# %% [markdown]
# Read it in three steps. The last line is the recipe alone: the same kind of model, trained the
# variable-rate way. The lines against the same-recipe eight are the price of sharing with the
# recipe and the epochs held fixed, and it has two sources this comparison cannot tell apart: one
# set of transforms serves eight λ, and the one model's 30 epochs are shared by eight levels, so
# each level trains on about an eighth of the digits (a level is drawn for every digit of every
# batch), while each anchor trains 30 epochs on its own λ, at eight times the compute. This BD-rate
# is the price of sharing at equal epochs per model, not of the shared transforms alone (exercise 3
# changes the number of levels). The argument above bounds the training loss, not a BD-rate on test
# digits and real strings between interpolated points, so a BD-rate near zero can come out slightly
# negative; a clearly negative one says the separate models, too, are short of their optimum. And
# the two seeds are one pair of draws, so their gap can badly understate the noise: an earlier
# version of this notebook gave +7.4% along PSNR against the original eight in one full run on the
# Python 3.11 stack and +4.4% in another on the 3.13 stack, and the anchors' own seeds add to that.
# Read only differences of several points as findings. docs/results.md keeps the full run's table.
#
# ## Between the levels
#
# Between two levels the one model interpolates its gains, and $\lambda$ is only a label there.
# Is such a point any good? Two benchmarks. A model trained for that $\lambda$ with the same
# recipe is the fair rival: the interpolated point is itself exactly a fixed-rate model, so the
# question is how much training at that $\lambda$ adds. And *time-sharing* costs no training:
# code a share of the digits at the lower level and the rest at the higher one (the split agreed
# in advance), and the average bits and MAE move along the straight chord between the two
# levels' points (`curves.time_sharing`, part 7). An interpolated point below that chord gives
# something time-sharing cannot; one above it is beaten by it. We measure both at $\lambda$ =
# `middle_lambda` (training the dedicated model, unless it is cached or published):

# %%
below = max(level for level in codec.levels if level < middle_lambda)
above = min(level for level in codec.levels if level > middle_lambda)
ends = [next(r for r in one.rows if r["lmbda"] == level) for level in (below, above)]
middle = {"one model, interpolated": measure_variable_rate(
              codec, data, lambdas=[middle_lambda], progress=False).rows[0],
          "dedicated, same recipe": run_sweep(anchor, [middle_lambda], data=data,
                                              pretrained=pretrained, progress=False).rows[0]}

# %% [markdown]
# For each, and for the two levels themselves: the real bits and MAE, the loss $R + \lambda D$
# they make at this $\lambda$, and the MAE that time-sharing between the two levels reaches with
# the same bits (on the chord, a level is its own end):

# %%
for name, row in {f"level {below:g}": ends[0], f"level {above:g}": ends[1], **middle}.items():
    bits, mae = row["string_bits"], row["mae"]
    reachable = min(r["string_bits"] for r in ends) <= bits <= max(r["string_bits"] for r in ends)
    chord = f"{time_sharing(*ends, bits):.4f}" if reachable else "outside the chord's bits"
    print(f"{name:>24}: {bits:6.2f} bits, MAE {mae:.4f}, R + λD {bits + middle_lambda * mae:7.2f};"
          f" time-sharing {below:g}/{above:g} at these bits: MAE {chord}")

# %% [markdown]
# Lower $R + \lambda D$ is better at this price. Along the chord the loss is linear, so the best
# time-sharing can offer at this $\lambda$ is the cheaper of the two levels' losses; an
# interpolated point is worth having if it beats that. The dedicated model's loss says how much
# training at this $\lambda$ adds to the interpolated gains; an interpolated MAE below the chord's
# says the gains do better than switching between two levels at equal bits.
#
# And the learned codec against the classical codecs of part 7, their payloads only (headers
# left out), over the PSNR range each shares with it (a codec whose range does not meet the
# learned one's has no BD-rate):

# %%
baselines = evaluate_baselines(data.validation, DEFAULT_QUALITIES)
for name, rows in (("eight models", fixed.rows), ("one model", one.rows)):
    for result in bd_rate_against_classical(rows, baselines):
        print(describe_bd_rate(f"{name} against {result['codec']}", result))

# %% [markdown]
# ## Training time
#
# Each model's history records how long every epoch took, on the machine that trained it:

# %%
for name, models in (("original eight", fixed), ("same-recipe eight", same)):
    seconds = sum(sum(h.get("seconds", [])) for h in models.histories.values())
    print(f"{name}: {seconds / 60:.1f} min; one variable-rate model: {variable_seconds / 60:.1f} "
          f"min ({variable_seconds / max(seconds, 1e-9):.0%})")

# %% [markdown]
# ## Keep the numbers
#
# The measurements of this notebook's models (the rows per $\lambda$, the BD-rates between them
# and the points at `middle_lambda`) also land in `output_dir` as CSV and JSON, for a course's
# own plots or checks (docs/results.md keeps the full run's):

# %%
tables = {"eight": fixed.rows, "same_recipe": same.rows, "one": one.rows,
          f"one_seed{second_seed}": seeds[f"one, seed {second_seed}"], "between": inside.rows,
          "bd_rates": bd_rates, **{f"at_{middle_lambda:g}_" + name.split(",")[0].replace(" ", "_"):
                                   [row] for name, row in middle.items()}}
for name, rows in tables.items():
    write_rows(rows, Path(output_dir) / name)
print(f"{output_dir}:", ", ".join(tables))

# %% [markdown]
# ## Drag λ
#
# `lambda_slider` re-codes a few test digits at whatever $\lambda$ the slider shows and redraws
# them (originals above) with the bits per digit and the MAE of the real strings. It needs a
# live notebook (Colab, JupyterLab); drag it and watch the digits sharpen as the bits grow.

# %%
widget, update = lambda_slider(codec, data.validation[:slider_digits])
widget

# %% [markdown]
# Dragging calls `update(λ)`. Without a browser (as when this notebook runs unattended), we
# call it ourselves for a few values:

# %%
for lmbda in (300, 1000, 3000, 10000):
    print(describe(update(lmbda)))

# %% [markdown]
# ## Summary
#
# - A learned gain and inverse gain per rate level turn the tutorial's model into one model for
#   every $\lambda$; the prior follows the gain because the logistic is a location–scale family.
# - Interpolating the gains geometrically gives a codec for any $\lambda$ between the levels,
#   exact and identical on every machine like the fixed-rate codec.
# - Every level is exactly a fixed-rate model, so a dedicated model trained to its optimum is
#   never worse in the loss; the BD-rate against the original eight mixes the price of sharing
#   with the recipe's effect. Same-recipe anchors separate the two; what remains is the price of
#   sharing at equal epochs, where each level trains on a share of the digits. A second seed is
#   one draw of how far a BD-rate moves by chance; full runs have differed by about 3 points.
# - Between the levels, $\lambda$ is a label: a point there is judged against a dedicated model and
#   against time-sharing between its neighbouring levels, which reaches the straight chord
#   without any training.
# - The learned codec meets the classical codecs' PSNR range only where the cells above print a
#   BD-rate (in the full run only JPEG: WebP's lowest quality already has a higher PSNR than the
#   sharpest learned model, though not a lower MAE).
# - Training the one model takes a fraction of eight models' time (printed above): it trains
#   for 30 epochs, the original eight for 120 and the same-recipe eight for 240, and an epoch
#   costs about the same.
#
# ## Exercises
#
# Each exercise says what it costs on a 2-core CPU at the defaults and gives a hint. Worked
# solutions are in [`solutions/08_solutions.ipynb`](solutions/08_solutions.ipynb).
#
# 1. **Low levels more often.** Train the variable-rate model with level k drawn with
#    probability proportional to $\lambda_k^{-1/2}$ and compare its BD-rates (PSNR and −MAE)
#    against the eight models with the recipe's. Which levels gain and which lose? *Cost:*
#    1 training of 30 epochs, 5–20 min. *Hint:* `variable.replace(level_sampling=0.5)`; a
#    level's validation loss is `history["val_rate_at_300"][-1] + 300 *
#    history["val_distortion_at_300"][-1]` (and so on), measured on its eighth of the test
#    digits; compare it with the recipe's.
# 2. **Below every chord?** For each $\lambda$ of `inside` (the points measured between the
#    levels), is the interpolated point's MAE below time-sharing between its two neighbouring
#    levels at the same bits? Where is the gain largest? *Cost:* under a minute. *Hint:*
#    `time_sharing(a, b, row["string_bits"])` with `a` and `b` the rows of `one.rows` at the
#    levels around `row["lmbda"]`.
# 3. **Three levels.** Train a model with only the levels 300, 2,000 and 10,000 and measure it
#    at the six λ of part 7 that it covers (300 … 10,000). How much does interpolating over
#    wider gaps cost, and what else changed (how much training each level gets)? *Cost:*
#    1 training of 30 epochs, 5–20 min. *Hint:* `variable.replace(levels="300,2000,10000")`;
#    `rows_bd_rate` of its rows against the rows of `one` from λ = 300 on.
