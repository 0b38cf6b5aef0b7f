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


__all__ = ["HYPER_HIDDEN_UNITS", "architecture"]
