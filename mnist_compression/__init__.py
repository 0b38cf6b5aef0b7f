"""Learned lossy compression of MNIST digits: the helper package behind the tutorial notebooks.

Its folders are layers; a module imports only from layers below its own (`make lint` checks it
with import-linter). From the top, with the notebooks that introduce each module:

- `cli`: the command line, `mnist-compression` or `python -m mnist_compression`
  (`cli.main`), one module per command: `cli.codec` (export, compress, decompress, info),
  `cli.training` (train), `cli.sweep` (sweep), `cli.release` (release); `cli.digit_files` reads
  and writes digits for them, `cli.settings_options` turns `TrainingSettings` into options,
  `cli.exit_status` turns a command's work into its exit status;
- `teaching`: `teaching.exercises` (01-04, 06: the check cells), `teaching.slider` (08, the λ
  slider), `teaching.coding_primer` (02, 04: code lengths and interval narrowing on a toy
  alphabet), `teaching.notebook_tools` (`show_source`, the Colab model cache),
  `teaching.reference` (appendix A: a codec against tensorflow-compression);
- `study`: measurements. `study.evaluation` (04, 05: real strings, decoded digits),
  `study.classifier` (05: whether decoded digits are recognised), `study.sweep` (05: a model per λ,
  measured), `study.curves` (05, 07, 08: secants, bits at equal distortion, BD-rates of measured
  rows), `study.bd_rate` (the Bjøntegaard delta rate of two curves), `study.baselines` (07: PNG,
  JPEG, WebP, zlib, LZMA), `study.rate_distortion_study` (07: the whole study into one folder),
  `study.side_information` (09: the class as side information, a hyperprior's scales),
  `study.reference` (the original tutorial's numbers), `study.release_models` (a release's
  pretrained models and their manifest);
- `plotting` (01-08): the figures;
- `training` (03): `train_model` and `train_or_load`, which reuses the model cache and
  pretrained models;
- `model` (TensorFlow): `model.autoencoder` (01-03: the transforms and the trainer),
  `model.entropy_models` (02: the prior and the entropy model), `model.variable_rate` (08: one
  model for every λ), `model.hyperprior` (09: a scale hyperprior), `model.elbo` (06: the loss
  as a negative ELBO), `model.files` (04: a trainer as model-file arrays, `save_model` /
  `load_model`, and its codec, `make_codec` / `make_mnist_codec`);
- `codec` (numpy only, 04, 08 and 09): `codec.codecs` (compressor, decompressor, one codec class per
  kind of model, `load_codec`), `codec.entropy_coder` (tables and strings from a prior),
  `codec.exact_transforms` (the transforms in integer arithmetic), `codec.gains` (a
  variable-rate model's gains in exact fixed point), `codec.scale_grid` and
  `codec.hyperprior_coder` (09: a hyperprior's tables, and side latents and latents in one
  string), `codec.mnc` (the `.mnc` file format);
- `storage` (numpy only): `storage.array_files` (arrays and a checksummed record in one `.npz`,
  the container of model files and the classifier), `storage.npy` (`.npy` arrays read only
  after their header is checked), `storage.model_files` (the model file
  format), `storage.cache` (the model cache, 03), `storage.pretrained` (04-08: published
  models, checked downloads);
- `coding` (numpy only): coding tables and the range coder, byte-identical to
  tensorflow-compression's;
- `settings` (03): `TrainingSettings`, recipes and training-time estimates;
- the base: `data` (01: MNIST from IDX files or tensorflow-datasets), `architecture` (01: the
  layers as data), `lambdas` (03, 08: λ and rate levels, checked), `checks` (the declarative
  checks of settings and model-file records), `hashing` (digests), `atomic_files` (files written
  whole, never over an existing one unless asked).
"""

import importlib

__version__ = "0.2.0"

# Where the notebooks' Colab setup cell installs this package from (a tagged release), and where
# the Colab badges point; tests/test_notebooks.py checks that every notebook uses exactly these.
REPOSITORY = "mnist-compression/mnist-compression"
RELEASE = f"v{__version__}"
INSTALL_SOURCE = f"mnist-compression @ git+https://github.com/{REPOSITORY}@{RELEASE}"
# Where the book of executed notebooks is published (GitHub Pages of REPOSITORY, `make book`);
# each notebook's first cell links its page there.
BOOK_URL = "https://{}.github.io/{}/".format(*REPOSITORY.split("/"))

# What the notebooks use, importable from the package itself (`from mnist_compression import
# train_or_load`), each module imported on first use (PEP 562): `import mnist_compression` stays
# light, and the codec's command lines never load TensorFlow.
_FACE = {
    "codec.scale_grid": ("scale_grid",),
    "codec.codecs": ("MNISTCompressor", "MNISTDecompressor", "compress_to_file", "decompress_file",
                     "load_codec"),
    "codec.entropy_coder": ("DecodeError",),
    "data": ("load_mnist_arrays",),
    "model.autoencoder": ("MNISTCompressionTrainer", "make_analysis_transform",
                          "make_synthesis_transform", "to_unit_range"),
    "model.elbo": ("laplace_scale", "negative_elbo"),
    "model.entropy_models": ("ContinuousBatchedEntropyModel", "NoisyLogistic"),
    "model.hyperprior": ("HyperpriorTrainer",),
    "model.files": ("load_model", "make_codec", "make_mnist_codec", "save_model"),
    "plotting": ("display_digits", "plot_coding_table", "plot_digit_strip", "plot_gains",
                 "plot_history", "plot_latent_bits", "plot_latent_scales", "plot_layer_shapes",
                 "plot_narrowing",
                 "plot_overhead", "plot_prior", "plot_quantization_grids", "plot_rate_distortion",
                 "plot_rd_study", "plot_variable_rate", "show_digits"),
    "settings": ("TrainingSettings",),
    "storage.cache": ("cache_dir",),
    "study.baselines": ("DEFAULT_QUALITIES", "evaluate_baselines"),
    "study.classifier": ("train_or_load_classifier",),
    "study.curves": ("bd_rate_against_classical", "bd_rate_table", "compare_at_equal_distortion",
                     "describe_bd_rate", "lower_convex_hull", "rows_bd_rate", "secant_slopes",
                     "time_sharing"),
    "study.evaluation": ("bits_per_latent", "code_digits", "empirical_entropy_bits",
                         "evaluate_codec", "string_bits"),
    "study.rate_distortion_study": ("run_study",),
    "study.side_information": ("class_as_side_information", "predicted_scales",
                               "scale_index_counts", "side_bits"),
    "study.reference": ("ORIGINAL_TUTORIAL", "TUTORIAL_LAMBDAS"),
    "study.sweep": ("measure_variable_rate", "run_sweep", "write_rows"),
    "teaching.coding_primer": ("code_lengths", "entropy", "narrow", "shortest_bits"),
    "teaching.exercises": ("check_answer",),
    "teaching.notebook_tools": ("keep_cache_in_drive", "show_source"),
    "teaching.reference": ("against_reference",),
    "teaching.slider": ("describe", "lambda_slider"),
    "training": ("load_training_data", "train_model", "train_or_load"),
}
_HOMES = {name: module for module, names in _FACE.items() for name in names}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'mnist_compression' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


def __dir__() -> list:
    return sorted(set(globals()) | set(_HOMES))
