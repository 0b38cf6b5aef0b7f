"""A trained codec against tensorflow-compression, where that is installed (appendix A).

tensorflow-compression's last release needs Python ≤ 3.11 and TensorFlow 2.14, so it is a test
dependency of this project's Python 3.11 environment and nothing more. `against_reference` builds
its `ContinuousBatchedEntropyModel` for a codec's prior and compares the coding tables, the
strings of some digits and their decoding; elsewhere it returns None, and the notebook says so.
"""

from __future__ import annotations

import numpy as np

from ..coding.tables import DEFAULT_TAIL_MASS


def against_reference(compressor, digits, tail_mass: float = DEFAULT_TAIL_MASS) -> dict | None:
    """For a fixed-rate `compressor` (built with `tail_mass`, as `make_mnist_codec` does by
    default) and uint8 `digits`: whether tensorflow-compression's coding tables, its strings of
    the digits' latents and its decoding of our strings equal ours, with how many strings were
    compared; None where tensorflow-compression cannot be imported."""
    try:
        import tensorflow_compression as tfc
    except ImportError:
        return None
    coder = compressor.entropy_model
    reference = tfc.ContinuousBatchedEntropyModel(
        tfc.NoisyLogistic(loc=coder.loc, scale=coder.scale), coding_rank=1, compression=True,
        tail_mass=tail_mass, range_coder_precision=coder.tables.precision)
    latents = compressor.transforms.latents(digits).astype(np.float32)
    ours = compressor.compress(digits)
    theirs = reference.compress(latents).numpy().tolist()
    decoded = reference.decompress(ours, ()).numpy()
    return dict(tables=bool(np.array_equal(coder.tables.to_flat(), reference.cdf.numpy())
                            and np.array_equal(coder.tables.offsets,
                                               reference.cdf_offset.numpy())),
                strings=theirs == list(ours), decoded=bool(np.array_equal(decoded, latents)),
                compared=len(ours))


__all__ = ["against_reference"]
