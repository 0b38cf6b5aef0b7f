"""The notebooks' figures: digit grids, prior densities and training curves."""

import numpy as np
import pytest

from mnist_compression.model.entropy_models import NoisyLogistic
from mnist_compression.plotting import display_digits, plot_history, plot_prior


def _grid_inputs(count):
    rng = np.random.default_rng(0)
    originals = rng.integers(0, 256, (count, 28, 28, 1), dtype=np.uint8)
    strings = np.array([bytes([i, 255 - i, 7]) for i in range(count)], dtype=object)
    return originals, strings, np.linspace(10, 40, count), 255 - originals


def test_display_digits_draws_a_4x4_grid_with_captions():
    originals, strings, bits, reconstructions = _grid_inputs(16)
    fig = display_digits(originals, strings, bits, reconstructions)
    assert len(fig.axes) == 16
    first = fig.axes[0]
    assert first.get_title() == "0x00ff07\n24 bits sent, 10.0 info"
    pair = first.images[0].get_array()
    assert pair.shape == (28, 58)
    np.testing.assert_array_equal(pair[:, :28], originals[0, ..., 0])
    np.testing.assert_array_equal(pair[:, 30:], reconstructions[0, ..., 0])


def test_display_digits_takes_a_title():
    fig = display_digits(*_grid_inputs(16), title="λ = 300")
    assert fig._suptitle.get_text() == "λ = 300"


def test_display_digits_handles_fewer_digits():
    originals, strings, bits, reconstructions = _grid_inputs(5)
    fig = display_digits(originals, strings, bits, reconstructions)
    assert len(fig.axes) == 8  # two rows of four
    # The five digits fill the first cells in order; the other three stay empty.
    for index, ax in enumerate(fig.axes[:5]):
        assert ax.get_title() == (f"0x{index:02x}{255 - index:02x}07\n24 bits sent, "
                                  f"{bits[index]:.1f} info")
        np.testing.assert_array_equal(ax.images[0].get_array()[:, :28], originals[index, ..., 0])
    assert all(not ax.get_title() and not ax.images for ax in fig.axes[5:])


def test_display_digits_rejects_mismatched_inputs():
    originals, strings, bits, reconstructions = _grid_inputs(16)
    with pytest.raises(ValueError, match="16 originals, 15 strings"):
        display_digits(originals, strings[:15], bits, reconstructions)


def test_plot_prior_draws_one_curve_per_channel():
    prior = NoisyLogistic(loc=0.0, scale=np.linspace(0.01, 2.0, 10).astype(np.float32))
    fig = plot_prior(prior, low=-3, high=3, points=61)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 10
    x, narrow = lines[0].get_data()
    np.testing.assert_allclose(x, np.linspace(-3, 3, 61), atol=1e-6)
    # A tiny scale behaves like the uniform noise alone: density 1 on (-1/2, 1/2), 0 outside.
    assert narrow[30] == pytest.approx(1.0, abs=1e-3) and narrow[0] == pytest.approx(0, abs=1e-6)
    # Each curve is its channel's density: logistic CDF(x + 1/2) - CDF(x - 1/2).
    for line, scale in zip(lines, np.linspace(0.01, 2.0, 10), strict=True):
        grid, density = line.get_data()
        expected = (np.tanh((grid + 0.5) / (2 * scale)) - np.tanh((grid - 0.5) / (2 * scale))) / 2
        np.testing.assert_allclose(density, expected, atol=1e-6)
    assert lines[-1].get_ydata()[30] == pytest.approx(np.tanh(0.125), rel=1e-5)  # scale 2 at 0
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend[0] == "scale 0.01" and legend[-1] == "scale 2" and len(legend) == 10


def test_the_study_figure_handles_any_number_of_lossless_codecs():
    from mnist_compression.plotting import plot_rd_study

    sweep = [dict(lmbda=300.0, mae=0.07, information_bits=9.0, string_bits=11.0),
             dict(lmbda=2000.0, mae=0.035, information_bits=40.0, string_bits=43.0)]
    lossless = [dict(codec=name, quality=None, mae=0.0, payload_bits=1500.0 + i,
                     file_bits=1600.0) for i, name in enumerate(["png", "zlib", "lzma", "raw"] * 2)]
    fig = plot_rd_study(sweep, lossless, highlight=(300,))
    lines = fig.axes[0].get_lines()
    levels = [line for line in lines if list(line.get_xdata()) == [0, 1]]
    lines = [line for line in lines if line not in levels]
    assert len(lines) == 2 + 8
    # Every lossless codec gets its own marker at distortion 0, spread out a little along the
    # axis (by 1.2% of the largest MAE) in the order of their payloads.
    markers = lines[2:]
    spacing = 0.012 * 0.07
    for index, line in enumerate(markers):
        assert list(line.get_xdata()) == [pytest.approx(index * spacing)]
        assert list(line.get_ydata()) == [1500.0 + index]
    assert [line.get_marker() for line in markers] == list("Dvxp*hDv")
    assert [line.get_label() for line in markers] == [
        f"{name} (lossless, payload)" for name in ["PNG", "zlib", "LZMA", "raw"] * 2]
    # ... and, but for raw pixels, a reference level across the plot at its payload, labelled.
    assert [line.get_ydata()[0] for line in levels] == [1500.0, 1501.0, 1502.0, 1504.0, 1505.0,
                                                         1506.0]
    labels = [text.get_text() for text in fig.axes[0].texts]
    assert labels == ["λ=300", "PNG 1,500", "zlib 1,501", "LZMA 1,502", "PNG 1,504",
                      "zlib 1,505", "LZMA 1,506"]  # of the models, only the highlighted one


def test_the_study_figure_draws_collapsed_models_at_its_floor():
    from mnist_compression.plotting import plot_rd_study

    sweep = [dict(lmbda=50.0, mae=0.126, information_bits=6e-10, string_bits=8.0),
             dict(lmbda=2000.0, mae=0.035, information_bits=40.0, string_bits=43.0)]
    jpeg = [dict(codec="jpeg", quality=q, mae=0.05 / q, payload_bits=300.0 * q,
                 file_bits=3000.0 + q) for q in (1, 5)]
    axis = plot_rd_study(sweep, jpeg, floor=0.5).axes[0]
    information, collapsed = axis.get_lines()[:2]
    assert list(information.get_ydata()) == [40.0, 0.5]
    assert list(collapsed.get_data()[0]) == [0.126] and list(collapsed.get_ydata()) == [0.5]
    assert axis.get_ylim()[0] == pytest.approx(0.5 / 1.5)


def test_plot_history_draws_training_and_validation_curves():
    logs = {"rate": [90, 60, 45], "val_rate": [80, 50, 41], "distortion": [0.06, 0.04, 0.036],
            "val_distortion": [0.05, 0.04, 0.035], "loss": [1, 2, 3]}
    fig = plot_history(logs, lmbda=2000)
    rate_axis, distortion_axis = fig.axes
    assert [list(line.get_ydata()) for line in rate_axis.get_lines()] == [[90, 60, 45],
                                                                           [80, 50, 41]]
    assert [list(line.get_ydata()) for line in distortion_axis.get_lines()] == [
        [0.06, 0.04, 0.036], [0.05, 0.04, 0.035]]
    for axis in fig.axes:  # epochs counted from 1; the loss is not drawn
        assert [list(line.get_xdata()) for line in axis.get_lines()] == [[1, 2, 3]] * 2
        assert [line.get_linestyle() for line in axis.get_lines()] == ["-", "--"]
        assert [t.get_text() for t in axis.get_legend().get_texts()] == ["training",
                                                                          "validation"]
    assert rate_axis.get_ylabel() == "rate (bits per digit)"
    assert distortion_axis.get_ylabel() == "distortion (mean abs. error)"
    assert fig._suptitle.get_text() == "λ = 2000"


def test_a_coding_table_is_read_as_probabilities_and_drawn_over_the_density():
    from mnist_compression.model.entropy_models import ContinuousBatchedEntropyModel, NoisyLogistic
    from mnist_compression.plotting import plot_coding_table, table_probabilities

    prior = NoisyLogistic(0.0, [0.3, 2.0])
    tables = ContinuousBatchedEntropyModel(prior, coding_rank=1, compression=True).tables
    for channel in (0, 1):
        values, probabilities, escape = table_probabilities(tables, channel)
        assert np.all(np.diff(values) == 1) and values[0] == tables.offsets[channel]
        assert probabilities.sum() + escape == pytest.approx(1.0)
        exact = prior.prob(values[:, None].astype(np.float32)).numpy()[:, channel]
        # Counts out of 4096, each at least 1: off by a few counts at most.
        np.testing.assert_allclose(probabilities, exact, atol=4 / 4096)
    wide = table_probabilities(tables, 1)[0]
    assert len(wide) > len(table_probabilities(tables, 0)[0])
    figure = plot_coding_table(prior, channel=1)
    [ax] = figure.axes
    assert len(ax.patches) == len(wide)
    assert [p.get_height() for p in ax.patches] == pytest.approx(
        list(table_probabilities(tables, 1)[1]))
    assert f"{len(wide)} bins" in ax.get_title()


def test_the_layer_diagram_has_a_box_per_tensor_labelled_with_its_shape():
    from mnist_compression.model.autoencoder import make_analysis_transform
    from mnist_compression.plotting import plot_layer_shapes

    figure = plot_layer_shapes(make_analysis_transform(10), (28, 28, 1))
    [ax] = figure.axes
    texts = [t.get_text() for t in ax.texts]
    assert len(ax.patches) == 1 + len(make_analysis_transform(10).layers)
    assert texts[:2] == ["input", "28×28×1"]
    assert "14×14×20" in texts and "7×7×50" in texts and "2450" in texts and texts[-1] == "10"
    heights = [p.get_height() for p in ax.patches]
    assert max(heights) == pytest.approx(1.0) and heights[-1] == pytest.approx((10 / 3920) ** .5)


def test_the_narrowing_diagram_marks_each_chosen_share():
    from mnist_compression.plotting import plot_narrowing
    from mnist_compression.teaching.coding_primer import narrow

    probabilities = {"a": 0.8, "b": 0.2}
    steps = narrow("aab", probabilities)
    [ax] = plot_narrowing(steps, probabilities).axes
    bars = ax.patches
    assert len(bars) == 2 * (len(steps) + 1)
    chosen = [v for b in bars if b.get_alpha() == 0.9 for v in (b.get_x(), b.get_width())]
    # The chosen share of each row is the next row's interval: [0, .8), [0, .64), [.512, .64).
    assert chosen == pytest.approx([0, 0.8, 0, 0.64, 0.512, 0.128])
    assert [t.get_text() for t in ax.texts][-1] == "after 'aab': width 0.128"
