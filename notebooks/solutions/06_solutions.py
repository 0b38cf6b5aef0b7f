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
# # Solutions to part 6: the decoder as a generative model
#
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/solutions/06_solutions.html)
#
# *Worked solutions to the exercises of [part 6](../06_generative_decoder.ipynb).* They use
# part 6's two models (λ = 2000 and 300), from the model cache or the published models (each
# trained here if neither has it: 2–10 min on a 2-core CPU).

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
# The same parameters as part 6.

# %% tags=["parameters"]
epochs = None  # None: the original recipe's 15
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
pretrained = True  # published models with these settings, if any
seed = 0  # fixes the random strings and samples

# %%
import numpy as np

from mnist_compression import (
    TrainingSettings,
    check_answer,
    make_mnist_codec,
    show_digits,
    train_or_load,
)

settings = TrainingSettings.from_recipe("original", epochs=epochs, train_examples=train_examples,
                                        validation_examples=validation_examples,
                                        data_dir=data_dir)
models = {lmbda: train_or_load(settings.replace(lmbda=lmbda), pretrained=pretrained)[0]
          for lmbda in (2000.0, 300.0)}
codecs = {lmbda: make_mnist_codec(m, decode_sanity_check=False) for lmbda, m in models.items()}

# %% [markdown]
# ## Exercise 1: shorter random strings
#
# 16 random strings of 8 bytes, and the same strings cut to 1, 2 and 4 bytes: how many of the
# 16 digits each cut changes, per model.

# %%
rng = np.random.default_rng(seed)
strings = [rng.bytes(8) for _ in range(16)]
for lmbda, (_, decompressor) in codecs.items():
    full = decompressor.decompress(strings)
    changed = {n: int(np.any(decompressor.decompress([s[:n] for s in strings]) != full,
                             axis=(1, 2, 3)).sum()) for n in (1, 2, 4)}
    print(f"λ = {lmbda:g}: digits that change when the strings are cut to n bytes: {changed}")

# %% [markdown]
# The reference run (the release's models, seed 0) printed {1: 16, 2: 16, 4: 14} for λ = 2000
# and {1: 9, 2: 0, 4: 0} for λ = 300. A model stops reading once its last latent is decoded, so
# once the strings are as long as what it reads, more bytes change nothing. How much it reads of
# a *random* string is set by its own coding tables: about the sum of their entropies, which
# part 6 prints (41.3 bits for λ = 2000 and 8.7 bits for λ = 300 in the reference run), not by
# the lengths of its strings for real digits. The decoder reads 4 bytes before it decodes
# anything, so 1- and 2-byte strings are padded with zeros. For λ = 300, a cut changes a digit
# only when it falls within the first 9 or so bits: some 1-byte cuts do, 2- and 4-byte cuts
# almost never. For λ = 2000 even a 4-byte cut falls well inside the 41 bits, so nearly every
# digit changes. Other strings (another `seed`) give counts near these: expect no change, or
# almost none, from 2 bytes on for λ = 300, and most of the 16 digits changed at 4 bytes for
# λ = 2000.
#
# ## Exercise 2: a string of zeros

# %%
_, decompressor = codecs[2000.0]
latents = decompressor.entropy_model.decode_symbols([bytes(8)])[0]
print("latents:", latents.tolist())
print("the same for 1 and 20 zero bytes:",
      all(np.array_equal(decompressor.entropy_model.decode_symbols([bytes(n)])[0], latents)
          for n in (1, 20)))
check_answer("06.2", latents, decompressor=decompressor)

# %% [markdown]
# The latents depend on the model's tables (the reference run's λ = 2000 model starts -1, -7,
# -3, -2); that they are the same for 1, 8 and 20 zero bytes holds for every model.
# Zeros are the number 0, the bottom of $[0, 1)$, and the first bin of every latent's table
# starts there, so every latent decodes to its table's lowest value: not 0, but the far
# negative end of its range. More zeros only say "still 0", so the digit never changes.
#
# ## Exercise 3: sample the prior yourself

# %%
model = models[300.0]
scales = np.exp(model.prior_log_scales.numpy())
latents = np.round(scales * rng.logistic(size=(16, len(scales)))).astype(np.float32)
pixels = model.synthesis_transform(latents).numpy()
show_digits(np.clip(np.round(255 * pixels), 0, 255).astype(np.uint8),
            title="λ = 300: rounded samples of the logistic, decoded");

# %% [markdown]
# These are draws from the same distribution the decoder samples when fed random strings (up to
# the tables' 12-bit rounding and escape codes), so they look like part 6's samples. Rounding
# `prior.sample(...)` instead would draw the *noisy* variable, adding the noise's spread a second
# time: a latent the model never uses would then come out as ±1 far more often than the coder's
# tables allow, which give that the smallest count they have.
