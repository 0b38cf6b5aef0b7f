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
# # 7. The rate–distortion study: the whole curve, and classical codecs
#
# *Learned data compression with MNIST — part 7 of 9, an extension.*
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mnist-compression/mnist-compression/blob/v0.2.0/notebooks/07_rate_distortion_study.ipynb)
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/07_rate_distortion_study.html)
#
# **Overview.** Part 5 showed three points. This part answers the next questions: what does the
# whole rate–distortion curve look like, how far are real strings from the estimate across it,
# and is any of this better than PNG, JPEG or WebP on the same digits? We train one model per
# $\lambda$ over a grid from 50 to 10,000, measure every model on real strings, code the same test
# digits with classical codecs, and put everything on one plot.
#
# **Bits.** Every bit count in this part (noisy rate, information content, real strings,
# `.mnc` bytes) is defined in [part 4's glossary](04_compression.ipynb), always per digit.
#
# **Time.** Needs eight models and the digit classifier: from the model cache, else published
# when this release has them (`pretrained = True`, 10.2 MB each), else trained here: 20–80 min
# on a 2-core CPU (10–40 s an epoch). Measuring them and the classical codecs takes about 80 s.

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
# The defaults run the full study: eight models of 15 epochs each (each costs about as long as
# part 3's training), minus any already in the model cache (parts 3 and 5 trained three of
# them). The command `python -m mnist_compression sweep` runs the same study outside a
# notebook; both share the cache. Smaller values make a quick check.
# With `pretrained = True`, a model that this release publishes for exactly these settings is
# downloaded instead of trained (10.2 MB per model; one line says so when there is none).

# %% tags=["parameters"]
lambdas = [50.0, 100.0, 300.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0]
recipe = "original"  # "original": the tutorial's; "fast": 4 epochs, not 15 (see docs/results.md)
epochs = None  # None: the recipe's (15 original, 4 fast)
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits (also the digits measured)
batch_size = None  # None: the recipe's (128)
seed = 0
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
cache_in_drive = False  # in Colab: keep trained models in Google Drive
pretrained = True  # a published model with these settings, if any; or a mirror's URL or folder
qualities = [1, 5, 10, 20, 30, 50, 70, 90]  # JPEG and WebP settings
output_dir = "build/rd_study"  # where the CSV and JSON results are written

# %%

import numpy as np

from mnist_compression import (
    TUTORIAL_LAMBDAS,
    TrainingSettings,
    bd_rate_against_classical,
    describe_bd_rate,
    keep_cache_in_drive,
    lower_convex_hull,
    make_synthesis_transform,
    plot_digit_strip,
    plot_overhead,
    plot_rd_study,
    rows_bd_rate,
    run_study,
)

if cache_in_drive:
    keep_cache_in_drive()

# %% [markdown]
# ## Sweep λ
#
# `run_study` runs the whole study, the same function as the command line
# `python -m mnist_compression sweep`. Its first part, `run_sweep` (part 5 used it for three
# models), trains or loads one model per $\lambda$, compresses all test digits to real strings,
# decodes them, and records the information content, the actual string length, the error of
# the decoded uint8 digits, and the share that part 5's classifier still recognises. It rewrites
# its results after every model, and the models are cached under all their settings, so an
# interrupted study resumes where it stopped. Then it codes the same digits classically and
# compares; the sections below look at each part. Every table also lands in `output_dir` as CSV
# and JSON.

# %%
settings = TrainingSettings.from_recipe(
    recipe, epochs=epochs, train_examples=train_examples, batch_size=batch_size,
    validation_examples=validation_examples, seed=seed, data_dir=data_dir)
study = run_study(settings, lambdas, qualities, out_dir=output_dir, pretrained=pretrained)
sweep = study.sweep

# %% [markdown]
# Per model: the mean string length, the information content, the error of the decoded digits
# (MAE and PSNR, see part 5), and the share of decoded digits the classifier recognises.

# %%
print(f"{'λ':>7} {'bits sent':>9} {'information':>11} {'MAE':>7} {'PSNR':>8} {'recognised':>10}")
for row in sweep.rows:
    print(f"{row['lmbda']:7g} {row['string_bits']:9.1f} {row['information_bits']:11.2f} "
          f"{row['mae']:7.4f} {row['psnr']:6.1f}dB {row['recognised']:10.1%}")

# %% [markdown]
# ## Why the smallest λ send (almost) nothing
#
# At the low end a model may stop sending anything: every latent collapses, each string is the
# range coder's one-byte minimum, and the decoder draws one and the same image for every input.
# Which fixed image is best? Under the mean absolute error it is not the average digit but the
# pixelwise *median* (the median minimises a sum of absolute deviations). Here are a few fixed
# images, and the lowest-λ model, on the test digits:

# %%
pixels = study.test_digits / 255
fixed = {"a blank page": np.zeros(pixels.shape[1:]), "the pixelwise mean": pixels.mean(0),
         "the pixelwise median": np.median(pixels, 0)}
for name, image in fixed.items():
    print(f"{name:>21}: MAE {np.abs(pixels - image).mean():.4f}")
lowest = min(sweep.rows, key=lambda row: row["lmbda"])
print(f"the λ={lowest['lmbda']:g} model: MAE {lowest['mae']:.4f} at {lowest['string_bits']:.1f} "
      f"bits")

# %% [markdown]
# Is collapsing a training failure? A model that sends nothing pays $0 + \lambda D_0$ in the
# loss, with $D_0$ the median's error; any other point of the curve pays $R + \lambda D$. The
# cost of each measured model's point, and of sending nothing, at the lowest $\lambda$ of the
# sweep (test digits, rounded latents):

# %%
price = lowest["lmbda"]
costs = {f"the λ={r['lmbda']:g} model": r["val_rate"] + price * r["val_distortion"]
         for r in sweep.rows}
costs["sending nothing"] = price * np.abs(pixels - fixed["the pixelwise median"]).mean()
for name, cost in sorted(costs.items(), key=lambda item: item[1]):
    print(f"{name:>20}: {cost:6.2f}")

# %% [markdown]
# The list is sorted, cheapest first. If sending nothing (or a collapsed model, which costs
# nearly the same) comes first, no measured point beats collapse at that $\lambda$: evidence,
# not proof, that it is the optimum (a codec we did not try, such as a few templates whose index
# is sent, could still win by a hair). If a model that sends bits is cheaper, a collapsed model
# stopped short of the optimum.
#
# One price is one test; a chord tests every price at once. Along the straight chord between two
# points, $R + \lambda D$ changes linearly, so at every $\lambda$ one of its two ends is at least as
# cheap as anything on it: a point *above* a chord between two others is beaten at every
# $\lambda$, and only the corners of the *lower convex hull* can be cheapest for some $\lambda$
# (part 5). *Time-sharing* makes the chord itself reachable: code a share of the digits with one
# codec and the rest with the other (the split agreed in advance, say by digit index), and the
# average rate and distortion land on the chord. The rates here are information contents, as in
# the validation loss (training uses the noisy rate); a real string costs at least a byte even
# for a model that sends nothing.
#
# Sending nothing is the point $(D_0, 0)$. On the chord from it to a model at $(D, R)$, one end
# wins: sending nothing is at least as cheap as that model exactly when
# $\lambda \le R / (D_0 - D)$. The smallest of these bounds over all models is the price up to
# which no measured point beats collapse:

# %%
points = {f"the λ={r['lmbda']:g} model": (r["val_distortion"], r["val_rate"])
          for r in sweep.rows}
median_error = np.abs(pixels - fixed["the pixelwise median"]).mean()
points["sending nothing"] = (median_error, 0.0)
corners = [list(points)[i] for i in lower_convex_hull(list(points.values()))]
print("corners of the lower convex hull:", "; ".join(corners))
bounds = {name: rate / (median_error - d) for name, (d, rate) in points.items()
          if d < median_error}
name = min(bounds, key=bounds.get)
print(f"sending nothing is the cheapest measured point for every λ up to {bounds[name]:.0f} "
      f"(its chord to {name})")

# %% [markdown]
# A model whose $\lambda$ lies below that bound and that sends bits anyway has not found
# something better than collapse: by the measured points, it would have done better to send
# nothing. A model above the bound that collapses stopped short. Both statements are about the
# points we measured: the true rate–distortion curve may bend below every chord drawn here.

# %% [markdown]
# ## The same digits, classically
#
# The study also coded each test digit on its own by PNG (lossless), JPEG and WebP at several
# qualities, and by zlib and LZMA on its raw 784 bytes. Every codec is counted twice: the **whole
# file**, as a program would store it, and the **payload**, leaving out what a decoder
# dedicated to 28×28 grey digits could know in advance: container and chunk headers, JPEG's
# markers and its (standard, fixed) tables, PNG's signature and header chunk, VP8's frame
# header. The docstring of `mnist_compression.study.baselines` lists exactly what is counted. The
# payload is the fairer number for a comparison, and the flattering one for the classical codecs.

# %%
classical = study.baselines
for row in classical:
    print(f"{row['codec']:>5} q={str(row['quality']):>4}  payload {row['payload_bits']:7.1f}  "
          f"file {row['file_bits']:7.1f} bits  MAE {row['mae']:.4f}")

# %% [markdown]
# ## One plot
#
# Bits per digit on a log scale against the mean absolute error. The learned codec appears twice:
# its information content (what training estimates) and its real strings. The tutorial's three
# $\lambda$ values are labelled; JPEG and WebP are drawn twice, payload (solid) and whole file
# (dotted); the lossless codecs sit at distortion zero, and faint dotted levels carry what PNG,
# zlib and LZMA cost across the plot, as a reference for every lossy point.

# %%
plot_rd_study(sweep.rows, classical, TUTORIAL_LAMBDAS);

# %% [markdown]
# The learned codec lives in another region of the plot: tens of bits where JPEG and WebP need
# hundreds. It also reaches *rates* the classical codecs cannot (a few to a few dozen bits, below
# their lowest quality), because even there they keep spending bits on the exact shape of the
# strokes, whereas the learned codec can fall back on a *typical* digit.
#
# ## How many times fewer bits?
#
# Where a model's distortion falls inside the range JPEG or WebP reach, we interpolate the
# classical curve (payload bits, log scale) to that distortion and compare with the model's real
# strings. No point is extrapolated.

# %%
for row in study.comparisons:
    print(f"λ={row['lmbda']:>7g}: MAE {row['mae']:.4f}: learned {row['learned_bits']:6.1f} bits, "
          f"{row['codec']} {row['classical_bits']:6.0f} bits → {row['ratio']:.0f}x fewer")

# %% [markdown]
# A handful of ratios at single points depends on which points happen to fall inside a
# classical codec's range. The field's one-number summary is the Bjøntegaard delta rate (BD-rate):
# fit each curve's log-rate as a smooth function of quality, average the difference of the two
# log-rates uniformly over the quality range both cover, and report $e^{\text{mean}} - 1$ as a
# percentage, a geometric-mean ratio of rates (−50% means half the bits on average). Because the
# average is taken along the quality axis, PSNR and −MAE weight the range differently and give
# different numbers. Here it is for the learned codec's real strings against each classical codec's
# payload, along PSNR and along the MAE (as −MAE; the range is printed in MAE), computed with the
# `bjontegaard` package. BD-rates over different ranges do not rank the classical codecs, so the
# last line of each pair compares WebP with JPEG head to head:

# %%
jpeg, webp = ([r for r in classical if r["codec"] == c] for c in ("jpeg", "webp"))
for quality in ("psnr", "mae"):
    for r in bd_rate_against_classical(sweep.rows, classical, quality):
        print(describe_bd_rate(f"learned vs {r['codec']}", r, quality))
    head = rows_bd_rate(jpeg, webp, quality, anchor_rate="payload_bits",
                        test_rate="payload_bits")
    print(describe_bd_rate("WebP vs JPEG", head, quality))

# %% [markdown]
# Why do the classical codecs lose so clearly here?
#
# - **Headers.** A digit's learned string is about a hundred bits long on average even at the
#   highest λ (the first table; the longest strings are longer;
#   losslessly, a digit takes the more than a thousand bits that PNG, zlib and LZMA spend in the
#   table above), while a JPEG file spends hundreds of bytes on markers and tables, and even
#   PNG's and WebP's headers outweigh the learned strings. That is why the payload, not the
#   file, is the fair count.
# - **Transforms built for photographs.** JPEG's 8×8 blocks do not tile 28×28 evenly and their
#   cosines describe smooth gradients, not pen strokes; WebP's predictors are likewise tuned for
#   natural images.
# - **No knowledge of digits.** The learned prior and decoder encode what MNIST digits look like,
#   so a string only has to say *which* digit and how it deviates. A classical codec must
#   describe every stroke from scratch.
#
# Where do they win? At very low distortion, and losslessly: PNG, zlib and LZMA reproduce every
# pixel exactly, which our autoencoder can never do, and JPEG and WebP at high qualities reach
# distortions that none of the models trained here ($\lambda \le$ 10,000) reaches. The learned
# codec also needs the trained decoder on the receiving side. How big is it, and after how many
# digits do the bits saved pay for sending it once, as float32 weights?

# %%
decoder = make_synthesis_transform()
decoder.build((None, settings.latent_dims))
decoder_bits = 32 * decoder.count_params()
print(f"synthesis transform: {decoder.count_params():,} parameters = "
      f"{decoder_bits / 8 / 1e6:.1f} MB as float32")
for row in study.comparisons:
    saved = row["classical_bits"] - row["learned_bits"]
    print(f"λ={row['lmbda']:g}: {saved:.0f} bits saved per digit against {row['codec']}; "
          f"the decoder pays for itself after {decoder_bits / saved:,.0f} digits")

# %% [markdown]
# ## Overhead of real strings
#
# The gap between information content and actual string length, per model:

# %%
plot_overhead(sweep.rows);

# %% [markdown]
# The overhead is not one constant. Part of it is per string (whole bytes, the coder's final
# bytes) and part of it per symbol (the 12-bit tables' rounding of every probability, escape
# codes), so it changes with λ, as the plot shows; as a share of the string it matters most at
# low rates, where the whole string is a byte or two.
#
# ## The same digits at every λ
#
# Top row: the originals; below, one row per model, from the lowest $\lambda$ to the highest.

# %%
plot_digit_strip(study.test_digits[:len(next(iter(sweep.reconstructions.values())))],
                 sweep.reconstructions);

# %% [markdown]
# ## Summary
#
# - Sweeping $\lambda$ traces the learned codec's rate–distortion curve, from nothing at all to
#   about a hundred bits per digit.
# - At the lowest $\lambda$ a model may send nothing and draw one fixed image; under the MAE the
#   best such image is the pixelwise median. Time-sharing chords from sending nothing to each
#   model give the price up to which no measured point beats collapse; that is evidence about
#   the measured points, not a proof of an optimum.
# - Real strings cost more than the information content by an overhead that changes with λ
#   and is the largest share at low rates.
# - On these digits the learned codec needs many times fewer bits than JPEG or WebP at equal
#   distortion, even when the classical codecs' headers are not counted; the classical codecs
#   keep the lossless regime and need no trained decoder.
#
# ## Exercises
#
# Each exercise says what it costs on a 2-core CPU at the defaults and gives a hint. Worked
# solutions are in [`solutions/07_solutions.ipynb`](solutions/07_solutions.ipynb).
#
# 1. **Beyond λ = 10,000.** Add $\lambda$ = 20,000 and 50,000. Does the curve get below the
#    distortions JPEG and WebP reach at their highest qualities, and what does the comparison
#    say there? *Cost:* 2 trainings of 15 epochs,
#    5–20 min. *Hint:* the comparison only interpolates inside a classical codec's range of
#    distortions; look for the new λ in `study.comparisons`.
# 2. **Whole files.** The plot draws JPEG's and WebP's whole files as dotted lines. How much of
#    the classical codecs' cost is headers at each quality? *Cost:* under a minute. *Hint:*
#    `1 - row["payload_bits"] / row["file_bits"]` for each row of `study.baselines`.
# 3. **20 latents.** Run the study with `settings.replace(latent_dims=20)`. Which end of the
#    curve suffers? *Cost:* 8 trainings of 15 epochs, 20–80 min (models with 20 latents are not
#    published). *Hint:* compare the information content of the highest-λ rows; how many of the
#    50 latents does the λ = 10,000 model use (part 4's count)?
