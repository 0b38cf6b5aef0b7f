"""The autoencoder's layers as data: the one description the Keras model, the integer codec and
model files all read.

Introduced in notebook 01 (the hyper-transforms of a scale hyperprior in notebook 09).
`model.autoencoder` builds the Keras transforms from these entries,
`codec.exact_transforms` builds the fixed-point transforms from them and a model file's arrays
(without TensorFlow), and `architecture(latent_dims)` is what a model file records and the model
cache keys on, so a change to a layer changes every one of them together.
"""

from __future__ import annotations

import copy
import functools
import math

_CONV = dict(kernel_size=[5, 5], strides=[2, 2], padding="same", activation="leaky_relu")


def _analysis(latent_dims: int) -> list[dict]:
    return [
        dict(type="Conv2D", name="conv_1", filters=20, **_CONV),
        dict(type="Conv2D", name="conv_2", filters=50, **_CONV),
        dict(type="Flatten", name="flatten"),
        dict(type="Dense", name="fc_1", units=500, activation="leaky_relu"),
        dict(type="Dense", name="fc_2", units=latent_dims, activation="linear"),
    ]


_SYNTHESIS = [
    dict(type="Dense", name="fc_1", units=500, activation="leaky_relu"),
    dict(type="Dense", name="fc_2", units=2450, activation="leaky_relu"),
    dict(type="Reshape", name="reshape", target_shape=[7, 7, 50]),
    dict(type="Conv2DTranspose", name="conv_1", filters=20, **_CONV),
    dict(type="Conv2DTranspose", name="conv_2", filters=1, **_CONV),
]


# A scale hyperprior's hidden layers (notebook 09): small beside the transforms, which the
# side information only has to summarise (how widely each latent spreads for this digit).
HYPER_HIDDEN_UNITS = 64


def _hyper_analysis(hyper_latent_dims: int) -> list[dict]:
    """|y| to the side information z: what the encoder tells the decoder about y's spread."""
    return [dict(type="Dense", name="fc_1", units=HYPER_HIDDEN_UNITS, activation="leaky_relu"),
            dict(type="Dense", name="fc_2", units=hyper_latent_dims, activation="linear")]


def _hyper_synthesis(latent_dims: int) -> list[dict]:
    """The decoded z to one scale index per latent (`codec.scale_grid`)."""
    return [dict(type="Dense", name="fc_1", units=HYPER_HIDDEN_UNITS, activation="leaky_relu"),
            dict(type="Dense", name="fc_2", units=latent_dims, activation="linear")]


@functools.cache
def _architecture(latent_dims: int, hyper_latent_dims: int | None) -> dict:
    layers = dict(latent_dims=latent_dims, analysis=_analysis(latent_dims),
                  synthesis=copy.deepcopy(_SYNTHESIS))
    if hyper_latent_dims is not None:
        layers.update(hyper_latent_dims=hyper_latent_dims,
                      hyper_analysis=_hyper_analysis(hyper_latent_dims),
                      hyper_synthesis=_hyper_synthesis(latent_dims))
    return layers


def _check_size(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def architecture(latent_dims: int = 50, hyper_latent_dims: int | None = None) -> dict:
    """The transforms' layers for a latent size: each layer's type, name, size and activation,
    in order (the same JSON on every stack); with `hyper_latent_dims`, also a scale
    hyperprior's two hyper-transforms. A fresh copy each call, safe to change."""
    _check_size("latent_dims", latent_dims)
    if hyper_latent_dims is not None:
        _check_size("hyper_latent_dims", hyper_latent_dims)
    return copy.deepcopy(_architecture(latent_dims, hyper_latent_dims))


# What each transform reads: a digit, the latents, or (hyper-synthesis) the side latents.
_INPUTS = {"analysis": lambda layers: [28, 28, 1],
           "synthesis": lambda layers: [layers["latent_dims"]],
           "hyper_analysis": lambda layers: [layers["latent_dims"]],
           "hyper_synthesis": lambda layers: [layers["hyper_latent_dims"]]}


def _weight_shapes(entries: list[dict], shape: list) -> list[tuple]:
    """(layer name, kernel shape, bias shape) of each weighted layer, given the input shape."""
    weights = []
    for entry in entries:
        kind = entry["type"]
        if kind == "Dense":
            weights.append((entry["name"], [shape[-1], entry["units"]], [entry["units"]]))
            shape = [entry["units"]]
        elif kind in ("Conv2D", "Conv2DTranspose"):
            height, width, channels = shape
            kernel = [*entry["kernel_size"], channels, entry["filters"]]
            if kind == "Conv2DTranspose":  # Keras keeps [h, w, out, in]
                kernel[2:] = kernel[3], kernel[2]
                height, width = height * entry["strides"][0], width * entry["strides"][1]
            else:  # 'same' padding
                height, width = -(-height // entry["strides"][0]), -(-width // entry["strides"][1])
            weights.append((entry["name"], kernel, [entry["filters"]]))
            shape = [height, width, entry["filters"]]
        elif kind == "Flatten":
            shape = [int(math.prod(shape))]
        else:  # Reshape
            shape = list(entry["target_shape"])
    return weights


def array_shapes(latent_dims: int = 50, hyper_latent_dims: int | None = None,
                 levels: int | None = None) -> dict:
    """Every array a model file of this architecture holds, by name, with its shape: each
    weighted layer's kernel and bias, the prior's log-scales (of the side latents, for a
    hyperprior) and, with `levels` rate levels, a variable-rate model's log-gains."""
    layers = architecture(latent_dims, hyper_latent_dims)
    shapes = {}
    for transform in ("analysis", "synthesis", "hyper_analysis", "hyper_synthesis"):
        if transform in layers:
            for name, kernel, bias in _weight_shapes(layers[transform],
                                                     _INPUTS[transform](layers)):
                shapes[f"{transform}/{name}/kernel"] = kernel
                shapes[f"{transform}/{name}/bias"] = bias
    shapes["prior/log_scales"] = [latent_dims if hyper_latent_dims is None else hyper_latent_dims]
    if levels is not None:
        shapes["gains/log_gains"] = shapes["gains/log_inverse_gains"] = [levels, latent_dims]
    return shapes


__all__ = ["HYPER_HIDDEN_UNITS", "architecture", "array_shapes"]
