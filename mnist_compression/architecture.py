"""The autoencoder's layers as data: the one description the Keras model, the integer codec and
model files all read.

Introduced in notebook 01. `model.autoencoder` builds the Keras transforms from these entries,
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


@functools.cache
def _architecture(latent_dims: int) -> dict:
    return dict(latent_dims=latent_dims, analysis=_analysis(latent_dims),
                synthesis=copy.deepcopy(_SYNTHESIS))


def architecture(latent_dims: int = 50) -> dict:
    """Both transforms' layers for a latent size: each layer's type, name, size and activation,
    in order (the same JSON on every stack). A fresh copy each call, safe to change."""
    if isinstance(latent_dims, bool) or not isinstance(latent_dims, int) or latent_dims < 1:
        raise ValueError(f"latent_dims must be a positive integer, got {latent_dims!r}.")
    return copy.deepcopy(_architecture(latent_dims))


__all__ = ["architecture"]
