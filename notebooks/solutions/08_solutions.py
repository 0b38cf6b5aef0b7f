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
# # Solutions to part 8: one model for every λ
#
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/solutions/08_solutions.html)
#
# *Worked solutions to the exercises of [part 8](../08_one_model_every_lambda.ipynb).* At the
# defaults they train two variable-rate models of 30 epochs each (5–20 min each on a 2-core
# CPU); part 8's variable-rate model and part 7's eight models come from the model cache or the
# published models.

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
# The same parameters as part 8.

# %% tags=["parameters"]
lambdas = [50.0, 100.0, 300.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0]
epochs = None  # None: the original recipe's 15; the variable-rate models get twice
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
pretrained = True  # published models with these settings, if any

# %%
import numpy as np

from mnist_compression import (
    TrainingSettings,
    load_training_data,
    make_codec,
    measure_variable_rate,
    rows_bd_rate,
    run_sweep,
    time_sharing,
    train_or_load,
)

settings = TrainingSettings.from_recipe("original", epochs=epochs, train_examples=train_examples,
                                        validation_examples=validation_examples,
                                        data_dir=data_dir)
data = load_training_data(settings)
variable = settings.variable_rate()
trainer, history = train_or_load(variable, data=data, pretrained=pretrained, verbose=0)
one = measure_variable_rate(make_codec(trainer), data, history=history, progress=False)

# %% [markdown]
# Part 8's eight separately trained models, the anchor of every BD-rate below, from the cache:

# %%
fixed = run_sweep(settings, lambdas, data=data, pretrained=pretrained, progress=False)
top = [r for r in fixed.rows if r["lmbda"] >= 300]

# %% [markdown]
# ## Exercise 1: low levels more often
#
# The same recipe with level k drawn with probability proportional to λ_k^(-1/2):

# %%
often, often_history = train_or_load(variable.replace(level_sampling=0.5), data=data,
                                     pretrained=pretrained, verbose=0)
rows = measure_variable_rate(make_codec(often), data, history=often_history,
                             progress=False).rows
for name, candidate in (("recipe", one.rows), ("low levels more often", rows)):
    for quality in ("psnr", "mae"):
        result = rows_bd_rate(top, [r for r in candidate if r["lmbda"] >= 300], quality)
        print(f"{name}: BD-rate {result['bd_rate']:+.1f}% ({quality.upper()})")

# %% [markdown]
# Each level's final validation loss, rate + λ·distortion, for both models: where drawing low
# levels more often changes it, and in which direction. A negative percentage is a level that
# gains from being drawn more (or less) often, a positive one a level that loses; compare the
# signs with the two BD-rates above: one sampling can win along one quality axis and lose
# along the other.

# %%
for lmbda in variable.levels:
    losses = [h[f"val_rate_at_{lmbda:g}"][-1] + lmbda * h[f"val_distortion_at_{lmbda:g}"][-1]
              for h in (history, often_history)]
    print(f"λ = {lmbda:6g}: recipe {losses[0]:8.2f}, low levels more often {losses[1]:8.2f} "
          f"({losses[1] / losses[0] - 1:+.1%})")

# %% [markdown]
# The reference run printed BD-rates of +7.3% (PSNR) and +6.0% (−MAE) for the recipe, and +7.9%
# and +4.4% for low levels drawn more often: better along −MAE, worse along PSNR. Per level, the
# loss fell 1.9–2.5% from λ = 300 to 1000, moved by under 2% at 50, 100 and 2000, and rose 5.4%
# at 5000 and 11.0% at 10,000: the high levels, now drawn less often, pay for the low ones. How
# far another training could move this: the two seeds of part 8's model ended 0.3 points of
# BD-rate apart, earlier full runs of it about 3 points apart. The per-level pattern is larger
# than that; the two BD-rates' differences (0.6 and 1.6 points) are within it.

# %% [markdown]
# ## Exercise 2: below every chord?
#
# Each point between the levels against time-sharing between its two neighbouring levels, at
# the same bits (a negative difference: the interpolated point has the lower MAE):

# %%
inside = measure_variable_rate(make_codec(trainer), data, progress=False, lambdas=list(
    np.geomspace(variable.levels[0], variable.levels[-1], 11)[1:-1])).rows
for row in inside:
    ends = [max((r for r in one.rows if r["lmbda"] < row["lmbda"]), key=lambda r: r["lmbda"]),
            min((r for r in one.rows if r["lmbda"] > row["lmbda"]), key=lambda r: r["lmbda"])]
    bits = [r["string_bits"] for r in ends]
    if min(bits) <= row["string_bits"] <= max(bits):
        chord = time_sharing(*ends, row["string_bits"])
        print(f"λ = {row['lmbda']:7.1f}: MAE {row['mae']:.4f}, chord {chord:.4f} "
              f"({row['mae'] - chord:+.4f})")
    else:
        print(f"λ = {row['lmbda']:7.1f}: {row['string_bits']:.2f} bits, outside its chord")

# %% [markdown]
# Time-sharing reaches every point of the straight chord between two levels for free, by coding
# a share of the digits at each. An interpolated $\lambda$ is worth having where its MAE is below
# the chord's, and it can only be there if the curve between the two levels bends. A point
# outside its chord's bits has moved past one of
# its neighbours: interpolating the gains need not keep the rate between the two levels'. None
# of this says how a model trained at that $\lambda$ would do; part 8 measures that at
# $\lambda$ = 700.
#
# In the reference run every interpolated point lay on or below its chord: on it at λ = 84.9 and
# 144.3 (both neighbouring levels send almost nothing there) and at 2040.3, 0.0001 below at
# 5887, 0.0005–0.0012 below from 416 to 3466, and 0.0051 below at 245.1, between λ = 100, which
# sends almost nothing, and 300, where the curve bends most. Part 8's two seeds ended about
# 0.0001 in MAE apart, so all but the smallest of these gaps are larger than another training
# would likely move them.
#
# ## Exercise 3: three levels
#
# Only λ = 300, 2,000 and 10,000 are trained; the other λ ≥ 300 of part 7 are interpolated.

# %%
three, three_history = train_or_load(
    variable.replace(levels="300,2000,10000"), data=data, pretrained=pretrained,
    verbose=0)
covered = [lmbda for lmbda in lambdas if lmbda >= 300]
rows = measure_variable_rate(make_codec(three), data, lambdas=covered,
                             progress=False).rows
result = rows_bd_rate([r for r in one.rows if r["lmbda"] >= 300], rows)
print(f"three levels against eight levels: BD-rate {result['bd_rate']:+.1f}% (PSNR)")

# %% [markdown]
# A positive BD-rate is what wider gaps cost. It is not all interpolation: with three levels,
# each level also gets 8/3 as many training digits as with eight. The reference run printed
# +2.9%: three levels need about 3% more bits than eight for the same PSNR over λ = 300 …
# 10,000. Part 8's two seeds ended 0.3 points apart and earlier full runs of its model about
# 3 points apart, so this cost is at the edge of what another training could move: interpolating
# over wider gaps costs little here, if anything.
