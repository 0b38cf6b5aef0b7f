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
# # Solutions to part 4: compressing digits to real bit strings
#
# [Read it executed](https://mnist-compression.github.io/mnist-compression/notebooks/solutions/04_solutions.html)
#
# *Worked solutions to the exercises of [part 4](../04_compression.ipynb).* They use part 3's
# model ($\lambda = 2000$), from the model cache or the published models, and, for exercise 1,
# the $\lambda = 500$ model of part 5 too (each trained here if neither has it: 2–10 min on a
# 2-core CPU).

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
# The same parameters as part 4.

# %% tags=["parameters"]
epochs = None  # None: the original recipe's 15
train_examples = None  # None: all 60,000 training digits
validation_examples = None  # None: all 10,000 test digits
data_dir = None  # folder with the MNIST IDX files, or None for $MNIST_DATA_DIR / tfds
pretrained = True  # a published model with these settings, if any
first_digit = 48  # the 16 digits of part 4

# %%
import numpy as np

from mnist_compression import (
    TrainingSettings,
    check_answer,
    code_digits,
    display_digits,
    load_mnist_arrays,
    make_mnist_codec,
    train_or_load,
)

settings = TrainingSettings.from_recipe("original", epochs=epochs, train_examples=train_examples,
                                        validation_examples=validation_examples,
                                        data_dir=data_dir)
trainer, _ = train_or_load(settings, pretrained=pretrained)
test_digits, _ = load_mnist_arrays("test", data_dir, limit=validation_examples)
compressor, decompressor = make_mnist_codec(trainer)

# %% [markdown]
# ## Exercise 1: two codecs from one model

# %%
_, second_decompressor = make_mnist_codec(trainer)
strings = compressor.compress(test_digits[:100])
same = np.array_equal(second_decompressor.decompress(strings), decompressor.decompress(strings))
print("same fingerprint:", compressor.fingerprint == second_decompressor.fingerprint,
      "| same digits decoded:", same)
other, _ = train_or_load(settings.replace(lmbda=500), pretrained=pretrained, verbose=0)
_, other_decompressor = make_mnist_codec(other)
print("the λ=500 model's fingerprint differs:",
      other_decompressor.fingerprint != compressor.fingerprint)

# %% [markdown]
# Every run prints True three times (the reference run did). Both codecs build identical tables
# from the same prior with the same arithmetic, so either
# decodes the other's strings. Decoding fails, or silently gives other digits, as soon as the
# tables differ: another model (another λ, more training, other data). The fingerprint, stored
# in every `.mnc` file, is how the file format notices that before decoding.
#
# ## Exercise 2: the longest strings

# %%
coded = code_digits(compressor, decompressor, test_digits)
longest = np.argsort(coded["string_bits"], kind="stable")[-16:]
display_digits(test_digits[longest], [coded["strings"][i] for i in longest],
               coded["information_bits"][longest], coded["decoded"][longest],
               title="the 16 longest strings: original | decoded");
print(f"the 16 longest strings: {coded['string_bits'][longest].min() / 8:.0f} to "
      f"{coded['string_bits'][longest].max() / 8:.0f} bytes; all {len(test_digits):,} digits: "
      f"{coded['string_bits'].mean() / 8:.1f} bytes on average")

# %% [markdown]
# Whatever they share by eye, it is what the prior finds improbable: a long string means latents
# of low probability. Compare their shapes with part 4's 16 digits, and their information
# content with the mean printed in part 4.
#
# ## Exercise 3: one string for 16 digits

# %%
sixteen, information_bits = compressor.compress_with_information(
    test_digits[first_digit:first_digit + 16])
separate = sum(len(s) for s in sixteen)
together = int(np.ceil(information_bits.sum() / 8))
print(f"16 strings: {separate} bytes; one string: about {together} bytes")
check_answer("04.3", separate - together, strings=sixteen, information_bits=information_bits)

# %% [markdown]
# In the reference run (the release's λ = 2000 model, digits 48 to 63), the 16 strings take 88
# bytes and one string about 83: 5 bytes saved, about a third of a byte per digit. Another
# trained model, or other digits, can save a few bytes more or less.
