"""Figures the notebooks show: digit grids with their strings, prior densities, training curves.

`display_digits` is introduced in notebook 05, `plot_prior` in notebook 03 and `plot_history`
in notebook 04. Each returns the matplotlib figure so a caller can save or adjust it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def _numpy(values) -> np.ndarray:
    return np.asarray(values.numpy() if hasattr(values, "numpy") else values)


def _digit(image) -> np.ndarray:
    return np.squeeze(_numpy(image)).reshape(28, 28)


def display_digits(originals, strings, entropies, reconstructions, columns: int = 4,
                   title: str | None = None):
    """A grid of 16 digits (4 x 4 by default): in each cell the original beside its reconstruction,
    captioned with the compressed string in hex and its information content in bits.
    """
    originals, reconstructions = _numpy(originals), _numpy(reconstructions)
    strings, entropies = _numpy(strings), _numpy(entropies)
    count = len(originals)
    if not len(strings) == len(entropies) == len(reconstructions) == count:
        raise ValueError(
            f"display_digits needs one string, entropy and reconstruction per original; got "
            f"{count} originals, {len(strings)} strings, {len(entropies)} entropies and "
            f"{len(reconstructions)} reconstructions."
        )
    rows = max(1, -(-count // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 1.75 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, original, string, bits, reconstruction in zip(
        axes.ravel(), originals, strings, entropies, reconstructions
    ):
        pair = np.concatenate([_digit(original), np.full((28, 2), 64), _digit(reconstruction)], 1)
        ax.imshow(pair, cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(f"0x{bytes(string).hex()}\n{float(bits):.1f} bits", fontsize=8,
                     family="monospace")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_prior(prior, low: float = -6.0, high: float = 6.0, points: int = 501, ax=None):
    """Plots each channel's density of a batched prior (e.g. NoisyLogistic) over [low, high]."""
    import tensorflow as tf

    grid = tf.linspace(float(low), float(high), points)
    density = _numpy(prior.prob(grid[:, None]))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(_numpy(grid), density)
    ax.set_xlabel("latent value")
    ax.set_ylabel("density")
    return ax.figure


def plot_history(history, lmbda: float | None = None):
    """Rate and distortion per epoch (training and validation) from a Keras History or its dict."""
    logs = getattr(history, "history", history)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, key, label in zip(axes, ("rate", "distortion"),
                              ("rate (bits per digit)", "distortion (mean abs. error)")):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + key in logs:
                values = logs[prefix + key]
                ax.plot(np.arange(1, len(values) + 1), values, style,
                        label="validation" if prefix else "training")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend()
    if lmbda is not None:
        fig.suptitle(f"λ = {lmbda:g}")
    fig.tight_layout()
    return fig


def show_digits(images, columns: int = 4, size: float = 1.25):
    """A borderless grid of digits, e.g. samples decoded from random strings (notebook 06)."""
    images = _numpy(images)
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image in zip(axes.ravel(), images):
        ax.imshow(_digit(image), cmap="gray_r", vmin=0, vmax=255)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0, right=1, bottom=0, top=1)
    return fig


def plot_rate_distortion(results, ax=None):
    """Rate against distortion, one labelled point per lambda (notebook 05).

    `results` maps lambda to a dict with "rate" (bits per digit) and "distortion"; a
    "string_bits" entry (mean actual string length) is drawn too when present.
    """
    lambdas = sorted(results, key=float)
    distortion = [results[lmbda]["distortion"] for lmbda in lambdas]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ax.plot(distortion, [results[lmbda]["rate"] for lmbda in lambdas], "o-",
            label="information content (estimate)")
    if all("string_bits" in results[lmbda] for lmbda in lambdas):
        ax.plot(distortion, [results[lmbda]["string_bits"] for lmbda in lambdas], "s--",
                label="actual string length")
    for lmbda, d in zip(lambdas, distortion):
        ax.annotate(f"λ={float(lmbda):g}", (d, results[lmbda]["rate"]),
                    textcoords="offset points", xytext=(6, 6))
    ax.set_xlabel("distortion (mean absolute error)")
    ax.set_ylabel("rate (bits per digit)")
    ax.legend()
    return ax.figure
