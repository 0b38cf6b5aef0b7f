"""A trainer as a model file and as a codec: its parameters as named arrays, and back.

Introduced in notebook 04. `storage.model_files` reads and writes the files and the codec reads
their arrays, both without TensorFlow; this module is the TensorFlow side: `model_arrays` names a
trainer's parameters, `save_model` / `load_model` store and rebuild trainers, and `make_codec` /
`make_mnist_codec` build the codec of a trainer in memory from exactly the arrays a model file
would hold, so a notebook's codec and the command line's are the same codec.
"""

from __future__ import annotations

import platform

import numpy as np
import tensorflow as tf

from .. import __version__
from ..codec.codecs import codec_from_arrays
from ..storage.model_files import ModelFileError, model_kind, read_model_file, write_model_file
from .autoencoder import MNISTCompressionTrainer
from .hyperprior import HyperpriorTrainer
from .variable_rate import VariableRateTrainer

# Each kind of model file (`storage.model_files.model_kind`) and the trainer it holds.
TRAINERS = {trainer.kind: trainer for trainer in (MNISTCompressionTrainer, VariableRateTrainer,
                                                HyperpriorTrainer)}


def model_arrays(trainer) -> dict[str, np.ndarray]:
    """The trainer's parameters as named float32 arrays ("synthesis/fc_1/kernel", ...)."""
    arrays = {}
    for prefix, transform in trainer.transforms().items():
        for layer in transform.layers:
            for role, value in zip(("kernel", "bias"), layer.get_weights()):
                arrays[f"{prefix}/{layer.name}/{role}"] = np.asarray(value, np.float32)
    arrays["prior/log_scales"] = np.asarray(trainer.prior_log_scales.numpy(), np.float32)
    return {**arrays, **trainer.own_arrays()}


def _versions() -> dict:
    return dict(mnist_compression=__version__, python=platform.python_version(),
                tensorflow=tf.__version__,
                keras=str(getattr(tf.keras, "__version__", "2 (tf.keras)")))


def save_model(trainer, path, *, settings=None, history=None, overwrite: bool = False):
    """Writes the trainer to `path` (an .npz file) and returns the path.

    `settings` (a TrainingSettings) and `history` (Keras' per-epoch metrics) are recorded with
    it. The file appears complete or not at all; an existing file is kept unless `overwrite`.
    """
    return write_model_file(path, model_arrays(trainer), trainer.record(),
                            written_with=_versions(),
                            settings=None if settings is None else settings.as_dict(),
                            history=history, overwrite=overwrite)


def trainer_from_arrays(record: dict, arrays: dict[str, np.ndarray]):
    """A built trainer of the record's kind (`TRAINERS`) with the given parameters."""
    try:
        trainer = TRAINERS[model_kind(record)].from_record(record)
    except ValueError as err:
        raise ModelFileError(f"The model file's record does not describe a model: {err}") from None
    trainer(tf.zeros((1, 28, 28, 1), tf.uint8))
    try:
        for prefix, transform in trainer.transforms().items():
            for layer in transform.layers:
                if layer.get_weights():
                    layer.set_weights([arrays[f"{prefix}/{layer.name}/{role}"]
                                       for role in ("kernel", "bias")])
        trainer.prior_log_scales.assign(arrays["prior/log_scales"])
        trainer.load_own_arrays(arrays)
    except KeyError as err:
        raise ModelFileError(f"The model file has no array {err}, which the model needs.") from None
    except ValueError as err:
        raise ModelFileError(f"The model file's arrays do not fit the model its record "
                             f"describes: {' '.join(str(err).split())}") from None
    return trainer


def load_model(path):
    """The trainer stored at `path` by `save_model`, on any stack (`read_model_file` gives its
    record: settings, history, versions)."""
    record, arrays = read_model_file(path)
    try:
        return trainer_from_arrays(record, arrays)
    except ModelFileError as err:
        raise ModelFileError(f"{path}: {err}") from None


def make_codec(trainer, **options):
    """The trainer's codec (`codec.codecs.FixedRateCodec` or `VariableRateCodec`), built from
    the arrays its model file would hold; `options` go to the entropy coder (e.g.
    ``decode_sanity_check=False``)."""
    return codec_from_arrays(trainer.record(), model_arrays(trainer), **options)


def make_mnist_codec(trainer, lmbda: float | None = None, **options):
    """The trainer's (compressor, decompressor) pair: ``make_codec(trainer).at(lmbda)``.

    A model of one λ has one pair; a variable-rate model's pair codes at `lmbda` (default: the
    trainer's `lmbda`); keep `make_codec(trainer)` to code at several.
    """
    return make_codec(trainer, **options).at(lmbda)


__all__ = ["TRAINERS", "load_model", "make_codec", "make_mnist_codec", "model_arrays",
           "save_model", "trainer_from_arrays"]
