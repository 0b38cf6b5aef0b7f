"""The λ slider of notebook 08: drag λ and see digits re-coded by one variable-rate model.

`recode` codes digits at one λ with a variable-rate codec (`make_codec`, `load_codec`) and
measures the real strings; `lambda_slider` puts it behind an ipywidgets slider (Colab and
JupyterLab show it). Its update function is returned too, so a notebook run without a browser
(papermill, CI) can call it for a few λ and check what dragging would show.
"""

from __future__ import annotations

import io
import math

from ..codec.codecs import check_digits
from ..plotting import plot_digit_strip
from ..study.evaluation import error_metrics, string_bits


def recode(codec, digits, lmbda: float) -> dict:
    """Compresses and decodes `digits` at λ: dict(lmbda, strings, decoded, bits (per digit,
    real string lengths), mean_bits, mae (mean absolute error in [0, 1]))."""
    digits = check_digits(digits)
    compressor, decompressor = codec.at(lmbda)
    strings = compressor.compress(digits)
    decoded = decompressor.decompress(strings)
    bits = string_bits(strings)
    return dict(lmbda=float(lmbda), strings=strings, decoded=decoded, bits=bits,
                mean_bits=float(bits.mean()), mae=error_metrics(digits, decoded)["mae"])


def describe(result: dict) -> str:
    """One line for a `recode` result: λ, bits per digit and MAE."""
    return (f"λ = {result['lmbda']:,.6g}: {result['mean_bits']:.1f} bits per digit, "
            f"MAE {result['mae']:.4f}")


def lambda_slider(codec, digits, value: float | None = None):
    """A logarithmic λ slider over the codec's levels, a line of text and an image of the digits
    it re-codes, as ``(widget, update)``: moving the slider calls ``update(λ)``, which re-codes
    the digits, redraws them (originals above) with `describe`'s line, and returns the `recode`
    result. The image is a widget value, not cell output, so an unattended run (papermill)
    records it too and never waits on a browser."""

    import ipywidgets as widgets
    import matplotlib.pyplot as plt


    digits = check_digits(digits)
    low, high = codec.levels[0], codec.levels[-1]
    slider = widgets.FloatLogSlider(
        value=codec.lmbda if value is None else value, base=10, min=math.log10(low),
        max=math.log10(high),
        step=0.01, description="λ", continuous_update=False, readout_format=",.4g",
        layout=widgets.Layout(width="60%"))
    line = widgets.Label()
    image = widgets.Image(format="png")
    shown = {}

    def show(lmbda: float) -> dict:
        ends = [end for end in (low, high) if math.isclose(lmbda, end, rel_tol=1e-9)]
        result = recode(codec, digits, ends[0] if ends else lmbda)  # 10**log10(λ) may miss λ
        figure = plot_digit_strip(digits, {result["lmbda"]: result["decoded"]}, size=0.7)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        plt.close(figure)
        image.value, line.value = buffer.getvalue(), describe(result)
        shown["result"] = result
        return result

    def update(lmbda: float) -> dict:
        """What dragging the slider to λ does; the slider moves there too."""
        codec.at(lmbda)  # a λ the model codes at, or ValueError (the slider would clamp it)
        if lmbda == slider.value:
            return show(lmbda)
        slider.value = lmbda  # the slider's observer shows it
        return shown["result"]

    slider.observe(lambda change: show(change["new"]), names="value")
    show(slider.value)
    return widgets.VBox([slider, line, image]), update


__all__ = ["describe", "lambda_slider", "recode"]
