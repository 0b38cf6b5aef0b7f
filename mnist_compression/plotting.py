"""Figures the notebooks show: digit grids with their strings, prior densities, training curves.

`plot_layer_shapes` is introduced in notebook 01, `plot_prior` and `plot_coding_table` in 02,
`plot_history` in 03, `plot_narrowing`, `display_digits` and `plot_latent_bits` in 04,
`plot_rate_distortion` in 05, `show_digits` in 06, the study's figures (`plot_rd_study`,
`plot_overhead`, `plot_digit_strip`) in 07, and `plot_quantization_grids`, `plot_gains` and
`plot_variable_rate` in 08, `plot_latent_scales` in 09. Each returns the matplotlib figure so a
caller can save or adjust it.
"""

from __future__ import annotations

import itertools
import math

import matplotlib
import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np


def _numpy(values) -> np.ndarray:
    return np.asarray(values.numpy() if hasattr(values, "numpy") else values)


def _digit(image) -> np.ndarray:
    return np.squeeze(_numpy(image)).reshape(28, 28)


def display_digits(originals, strings, information_bits, reconstructions, columns: int = 4,
                   title: str | None = None):
    """A grid of digits (4 per row by default): in each cell the original beside its
    reconstruction, captioned with the compressed string in hex, its length and the
    information content in bits.
    """
    originals, reconstructions = _numpy(originals), _numpy(reconstructions)
    strings, information_bits = _numpy(strings), _numpy(information_bits)
    count = len(originals)
    if not len(strings) == len(information_bits) == len(reconstructions) == count:
        raise ValueError(
            f"display_digits needs one string, information content and reconstruction per "
            f"original; got {count} originals, {len(strings)} strings, {len(information_bits)} "
            f"information contents and {len(reconstructions)} reconstructions."
        )
    rows = max(1, -(-count // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 1.75 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, original, string, bits, reconstruction in zip(
        axes.ravel(), originals, strings, information_bits, reconstructions
    ):
        pair = np.concatenate([_digit(original), np.full((28, 2), 64), _digit(reconstruction)], 1)
        ax.imshow(pair, cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(f"0x{bytes(string).hex()}\n{8 * len(bytes(string))} bits sent, "
                     f"{float(bits):.1f} info", fontsize=8, family="monospace")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_prior(prior, low: float = -6.0, high: float = 6.0, points: int = 501, ax=None,
               title: str | None = None):
    """Plots each channel's density of a batched prior (e.g. NoisyLogistic) over [low, high],
    with a legend of the channels' scales."""
    import tensorflow as tf

    grid = tf.linspace(float(low), float(high), points)
    density = _numpy(prior.prob(grid[:, None]))
    scales = np.broadcast_to(_numpy(prior.scale), density.shape[1:])
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for column, scale in enumerate(scales):
        ax.plot(_numpy(grid), density[:, column], label=f"scale {scale:.3g}")
    ax.set_xlabel("latent value")
    ax.set_ylabel("density")
    ax.legend(fontsize=7, ncol=2, loc="upper right")
    if title:
        ax.set_title(title)
    return ax.figure


def table_probabilities(tables, channel: int) -> tuple:
    """One channel of range-coding tables (`coding.range_coder.CodingTables`) as probabilities:
    the integer values of its regular bins, each bin's count / 2**precision, and the escape
    bin's share."""
    length = int(tables.lengths[channel])
    counts = np.diff(tables.cdf[channel, :length + 2]) / 2.0**tables.precision
    values = int(tables.offsets[channel]) + np.arange(length)
    return values, counts[:length], float(counts[length])


def plot_coding_table(prior, channel: int = 0, ax=None):
    """The coder's integer table for one latent as bars (probability = count / 2**precision)
    over the noisy prior's density, whose value at each integer the table approximates."""
    import tensorflow as tf

    from .model.entropy_models import ContinuousBatchedEntropyModel

    tables = ContinuousBatchedEntropyModel(prior, coding_rank=1, compression=True).tables
    values, probabilities, escape = table_probabilities(tables, channel)
    grid = tf.linspace(float(values[0]) - 1.5, float(values[-1]) + 1.5, 401)
    density = _numpy(prior.prob(grid[:, None]))[:, channel]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(_numpy(grid), density, color="tab:blue", label="noisy prior's density")
    ax.bar(values, probabilities, width=0.3, color="tab:orange",
           label=f"table: counts / {2**tables.precision}")
    ax.set_xlabel("latent value")
    ax.set_ylabel("density / probability")
    ax.set_title(f"latent {channel}: {len(values)} bins from {values[0]} to {values[-1]}, "
                 f"escape probability {escape:.4f}", fontsize=9)
    ax.legend(fontsize=8)
    return ax.figure


def plot_layer_shapes(transform, input_shape, ax=None):
    """A diagram of a Keras transform: one box per tensor, from the input through each layer's
    output, its area proportional to the number of values and labelled with its shape."""
    import tensorflow as tf

    x = tf.zeros((1, *input_shape))
    shapes, names = [tuple(input_shape)], ["input"]
    for layer in transform.layers:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
        names.append(type(layer).__name__)
    sizes = np.array([math.prod(shape) for shape in shapes], float)
    heights = np.sqrt(sizes / sizes.max())
    if ax is None:
        _, ax = plt.subplots(figsize=(1.5 * len(shapes), 2.6))
    for i, (shape, name, height) in enumerate(zip(shapes, names, heights)):
        ax.add_patch(matplotlib.patches.Rectangle((i - 0.35, -height / 2), 0.7, height,
                                                  color="tab:blue", alpha=0.35))
        ax.text(i, 0.55, name, ha="center", fontsize=8)
        ax.text(i, -0.62, "×".join(map(str, shape)), ha="center", fontsize=8)
    ax.set_xlim(-0.6, len(shapes) - 0.4)
    ax.set_ylim(-0.75, 0.7)
    ax.axis("off")
    return ax.figure


def plot_narrowing(steps, probabilities: dict, ax=None):
    """Interval narrowing (`coding_primer.narrow`): one row per step, the current interval
    drawn inside [0, 1) and split into the symbols' shares, the next symbol's share marked."""
    symbols = list(probabilities)
    colours = dict(zip(symbols, itertools.cycle(plt.rcParams["axes.prop_cycle"].by_key()
                                                ["color"])))
    rows = [(0.0, 1.0, steps[0].symbol if steps else None)]
    rows += [(float(s.low), float(s.width), n.symbol if n else None)
             for s, n in zip(steps, [*steps[1:], None])]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.6 * len(rows) + 0.8))
    for y, (low, width, following) in enumerate(rows):
        start = low
        for symbol in symbols:
            share = width * float(probabilities[symbol])
            ax.barh(-y, share, left=start, height=0.6, color=colours[symbol],
                    alpha=0.9 if symbol == following else 0.25)
            start += share
        label = "start" if y == 0 else f"after {''.join(s.symbol for s in steps[:y])!r}"
        ax.text(-0.02, -y, f"{label}: width {width:.4g}", ha="right", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel("the number that identifies the message lies in the last interval")
    ax.legend(handles=[matplotlib.patches.Patch(color=colours[s], label=s) for s in symbols],
              fontsize=8, loc="lower right")
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


def plot_latent_bits(bits, collapsed_below: float = 0.01, ax=None):
    """The mean bits each latent costs, largest first (notebook 04); latents below
    `collapsed_below` bits are counted as collapsed in the title."""
    bits = np.sort(np.asarray(bits, np.float64))[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    ax.bar(np.arange(1, len(bits) + 1), bits, color="tab:blue")
    collapsed = int((bits < collapsed_below).sum())
    ax.set_title(f"{len(bits) - collapsed} of {len(bits)} latents carry information; "
                 f"{collapsed} cost under {collapsed_below} bits", fontsize=10)
    ax.set_xlabel("latents, sorted by cost")
    ax.set_ylabel("mean bits per digit")
    return ax.figure


def show_digits(images, columns: int = 8, size: float = 1.0, title: str | None = None):
    """A borderless grid of digits, e.g. samples decoded from random strings (notebook 06)."""
    images = _numpy(images)
    rows = max(1, -(-len(images) // columns))
    top = 0.85 if title else 1.0
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows / top),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image in zip(axes.ravel(), images):
        ax.imshow(_digit(image), cmap="gray_r", vmin=0, vmax=255)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0, right=1, bottom=0, top=top)
    return fig


def plot_rate_distortion(rows, reference=None, tangents: bool = True, ax=None):
    """Rate against distortion, one labelled point per λ (notebook 05).

    `rows` are `sweep.rd_record`s: the validation rate (bits per digit) and distortion of each
    model, and the mean actual string length (`string_bits`), which is drawn too when present.
    `reference` maps λ to another (rate, distortion) pair, e.g. the original tutorial's. With
    `tangents`, a short line of slope -λ through each point shows the trade-off each model was
    trained for.
    """
    rows = sorted(rows, key=lambda row: row["lmbda"])
    lambdas = [row["lmbda"] for row in rows]
    distortion = np.array([row["val_distortion"] for row in rows])
    rate = np.array([row["val_rate"] for row in rows])
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(distortion, rate, "o-", label="information content (validation rate)")
    if all("string_bits" in row for row in rows):
        ax.plot(distortion, [row["string_bits"] for row in rows], "s--",
                label="actual string length")
    if reference:
        points = sorted(reference.items())
        ax.plot([d for _, (_, d) in points], [r for _, (r, _) in points], "x", color="black",
                markersize=8, label="original tutorial")
    if tangents and len(lambdas) > 1:
        half = 0.12 * (distortion.max() - distortion.min())
        for lmbda, d, r in zip(lambdas, distortion, rate):
            ax.plot([d - half, d + half], [r + float(lmbda) * half, r - float(lmbda) * half],
                    ":", color="grey")
        ax.plot([], [], ":", color="grey", label="slope −λ at each point")
    for lmbda, d, r in zip(lambdas, distortion, rate):
        ax.annotate(f"λ={float(lmbda):g}", (d, r), textcoords="offset points", xytext=(6, 6))
    heights = [*rate, *(row.get("string_bits", 0) for row in rows),
               *(r for r, _ in (reference or {}).values())]
    ax.set_ylim(0, 1.15 * max(heights))
    ax.set_xlabel("distortion (mean absolute error)")
    ax.set_ylabel("rate (bits per digit)")
    ax.set_title("Rate–distortion trade-off")
    ax.legend(fontsize=8)
    return ax.figure


_CODEC_STYLES = {"jpeg": ("JPEG", "tab:red"), "webp": ("WebP", "tab:purple")}
_LOSSLESS = {"png": "PNG", "zlib": "zlib", "lzma": "LZMA", "raw": "raw"}


def plot_rd_study(sweep_rows, baseline_rows, highlight=(), ax=None, floor: float = 0.5):
    """The learned codec's rate–distortion curve (estimated and actual bits, log scale) beside
    JPEG and WebP at several qualities (payload solid, whole file dotted) and the lossless
    codecs at distortion 0 (notebook 07). Lambdas in `highlight` are labelled.

    A collapsed model's information content is close to 0 bits, which a log axis cannot show;
    such values are drawn at `floor` with a downward marker, so they do not squash the axis."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 5.5))
        fig.subplots_adjust(left=0.08, right=0.68)
    rows = sorted(sweep_rows, key=lambda r: r["mae"])
    mae = [r["mae"] for r in rows]
    information = [r["information_bits"] for r in rows]
    ax.plot(mae, np.maximum(information, floor), "o-", color="tab:blue",
            label="learned: information content")
    collapsed = [x for x, bits in zip(mae, information) if bits < floor]
    if collapsed:
        ax.plot(collapsed, [floor] * len(collapsed), "v", color="tab:blue", markersize=10,
                linestyle="none", label=f"learned: under {floor:g} bit (collapsed models)")
    ax.plot(mae, [r["string_bits"] for r in rows], "s--", color="tab:cyan",
            label="learned: actual strings")
    for row in rows:
        if any(math.isclose(row["lmbda"], float(h)) for h in highlight):
            ax.annotate(f"λ={row['lmbda']:g}", (row["mae"], row["string_bits"]),
                        textcoords="offset points", xytext=(6, 4))
    for codec, (label, color) in _CODEC_STYLES.items():
        points = sorted((r["quality"], r["mae"], r["payload_bits"], r["file_bits"])
                        for r in baseline_rows if r["codec"] == codec)
        if points:
            _, x, payload, whole = zip(*points)
            ax.plot(x, payload, "^-", color=color, label=f"{label}: payload")
            ax.plot(x, whole, ":", color=color, label=f"{label}: whole file")
    lossless = sorted((row for row in baseline_rows if row["codec"] in _LOSSLESS),
                      key=lambda row: row["payload_bits"])
    spacing = 0.012 * max([r["mae"] for r in baseline_rows] + mae)
    for index, (row, marker) in enumerate(zip(lossless, itertools.cycle("Dvxp*h"))):
        ax.plot([index * spacing], [row["payload_bits"]], marker, color="grey",
                linestyle="none", label=f"{_LOSSLESS[row['codec']]} (lossless, payload)")
        if row["codec"] != "raw":  # what lossless coding costs, as a level across the plot
            ax.axhline(row["payload_bits"], color="grey", linewidth=0.6, linestyle=(0, (1, 3)))
            ax.annotate(f"{_LOSSLESS[row['codec']]} {row['payload_bits']:,.0f}",
                        (1 - 0.14 * index, row["payload_bits"]),  # staggered: levels lie close
                        xycoords=("axes fraction", "data"), xytext=(-4, 2),
                        textcoords="offset points", ha="right", fontsize=7, color="grey")
    ax.set_yscale("log")
    drawn = [y for line in ax.get_lines() for y in line.get_ydata() if y > 0]
    ax.set_yticks([t for t in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
                   if min(drawn) / 2 <= t <= max(drawn) * 2])
    ax.set_ylim(bottom=floor / 1.5)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("distortion: mean absolute error of decoded digits")
    ax.set_ylabel("bits per digit (log scale)")
    ax.set_title("Learned codec vs. classical codecs on the same test digits", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    return ax.figure


def plot_overhead(sweep_rows, ax=None):
    """Bits by which the real strings exceed the information content, per lambda (notebook 07)."""
    rows = sorted(sweep_rows, key=lambda r: r["lmbda"])
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    labels = [f"{r['lmbda']:g}" for r in rows]
    ax.bar(labels, [r["string_bits"] - r["information_bits"] for r in rows], color="tab:cyan")
    ax.set_xlabel("λ")
    ax.set_ylabel("string overhead (bits per digit)")
    ax.set_title("Real strings minus information content, mean over the test digits", fontsize=10)
    return ax.figure


def plot_digit_strip(originals, reconstructions: dict, size: float = 0.9):
    """One row per model (keyed by lambda, ascending) of the same digits, originals on top."""
    originals = _numpy(originals)
    keys = sorted(reconstructions, key=float)
    columns = len(originals)
    fig, axes = plt.subplots(len(keys) + 1, columns, squeeze=False,
                             figsize=(size * columns + 0.8, size * (len(keys) + 1)))
    for row, (label, images) in enumerate([("original", originals)] +
                                          [(f"λ={float(k):g}", reconstructions[k]) for k in keys]):
        for column in range(columns):
            ax = axes[row, column]
            ax.imshow(_digit(_numpy(images)[column]), cmap="gray_r", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.12, right=0.99, bottom=0.01, top=0.99)
    return fig


def plot_gains(trainer):
    """A variable-rate model's gains (left) and inverse gains (right) against λ, one line per
    latent, on log-log axes (notebook 08): between levels each line is straight, because gains
    are interpolated geometrically."""
    levels = np.asarray(trainer.levels)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharex=True)
    for ax, logs, name in ((axes[0], trainer.log_gains, "gain (before rounding)"),
                           (axes[1], trainer.log_inverse_gains, "inverse gain (before decoding)")):
        values = np.exp(_numpy(logs).astype(np.float64))
        ax.plot(levels, values, color="tab:blue", alpha=0.25, linewidth=0.8)
        ax.plot(levels, np.median(values, axis=1), "o-", color="black", label="median latent")
        ax.set(xscale="log", yscale="log", xlabel="λ", ylabel=name)
        ax.legend(fontsize=8)
    fig.suptitle(f"{values.shape[1]} latents, {len(levels)} levels", fontsize=10)
    fig.tight_layout()
    return fig


def plot_quantization_grids(trainer, latent: int | None = None, span: float = 3.0, ax=None):
    """The values one latent can take after rounding, at each level of a variable-rate model
    (notebook 08): rounding g·y to integers is rounding y to multiples of 1/g, so each row is
    the grid n/g (n an integer) within ±`span` prior scales of 0. `latent` defaults to the one
    with the widest scaled prior at the highest level (the most used)."""
    gains = np.exp(_numpy(trainer.log_gains).astype(np.float64))
    scales = np.exp(_numpy(trainer.prior_log_scales).astype(np.float64))
    if latent is None:
        latent = int(np.argmax(gains[-1] * scales))
    half = span * scales[latent]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.35 * len(trainer.levels) + 1.2))
    for row, gain in enumerate(gains[:, latent]):
        points = np.arange(np.ceil(-half * gain), np.floor(half * gain) + 1) / gain
        ax.plot(points, np.full(len(points), row), "|", color="tab:blue", markersize=9)
    ax.set_yticks(range(len(trainer.levels)), [f"λ={lmbda:g}" for lmbda in trainer.levels])
    ax.set_xlim(-half, half)
    ax.set_xlabel(f"latent {latent} before the gain (its prior's scale: {scales[latent]:.2f})")
    ax.set_title("Values the latent can take after rounding, per level", fontsize=10)
    ax.figure.tight_layout()
    return ax.figure


def plot_variable_rate(fixed_rows, variable_rows, between_rows=(), ax=None):
    """PSNR of decoded digits against the real strings' bits (notebook 08): one separately
    trained model per λ (circles, labelled) beside one variable-rate model at its levels
    (squares) and, from `between_rows`, at λ between them (a line)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    curves = ((fixed_rows, "o-", "tab:blue", "one model per λ"),
              (variable_rows, "s", "tab:orange", "one variable-rate model, at its levels"),
              (between_rows, "-", "tab:orange", "the same model between its levels"))
    for rows, style, color, label in curves:
        rows = sorted(rows, key=lambda r: r["lmbda"])
        if rows:
            ax.plot([r["string_bits"] for r in rows], [r["psnr"] for r in rows], style,
                    color=color, label=label, alpha=0.6 if style == "-" else 1.0)
    for row in fixed_rows:
        ax.annotate(f"λ={row['lmbda']:g}", (row["string_bits"], row["psnr"]), fontsize=7,
                    textcoords="offset points", xytext=(4, -10))
    ax.set(xscale="log", xlabel="bits per digit (real strings, log scale)",
           ylabel="PSNR of decoded digits (dB)")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(fontsize=8)
    return ax.figure


def plot_latent_scales(digits, scales, grid, ax_digits=None):
    """A hyperprior's scales for a few digits (notebook 09): each digit above, and below one
    line per digit, the scale its side latents chose for each latent, the latents ordered by
    their median scale over these digits, on a log axis between the grid's ends."""
    digits, scales = _numpy(digits), np.asarray(scales, np.float64)
    order = np.argsort(np.median(scales, axis=0))[::-1]
    fig = plt.figure(figsize=(8, 4.2))
    strip = fig.add_gridspec(2, len(digits), height_ratios=[1, 3.2], hspace=0.35)
    colours = plt.get_cmap("tab10")
    for i, image in enumerate(digits):
        ax = fig.add_subplot(strip[0, i])
        ax.imshow(_digit(image), cmap="gray_r", vmin=0, vmax=255)
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_color(colours(i % 10))
            side.set_linewidth(2)
    ax = fig.add_subplot(strip[1, :])
    for i, row in enumerate(scales):
        ax.step(np.arange(1, len(order) + 1), row[order], where="mid", color=colours(i % 10),
                linewidth=1.4)
    ax.set_yscale("log")
    ax.set_ylim(float(grid[0]) * 0.8, float(grid[-1]) * 1.25)
    ax.axhline(float(grid[0]), color="0.6", linewidth=0.8, linestyle=":")
    ax.axhline(float(grid[-1]), color="0.6", linewidth=0.8, linestyle=":")
    ax.set_xlabel("latents, by their median scale over these digits")
    ax.set_ylabel("scale chosen for this digit")
    return fig
