"""Learned lossy compression of MNIST digits: the helper package behind the tutorial notebooks.

Its folders are layers; a module imports only from layers below its own (`make lint` checks it
with import-linter). From the top, with the notebooks that introduce each module:

- `cli`: the command line, `mnist-compression` or `python -m mnist_compression`
  (`cli.main`): `codec` (export, compress, decompress, info), `train`, `sweep`, `release`;
  `cli.digit_files` reads and writes digits for it;
- `teaching`: `teaching.exercises` (01-08, the check cells), `teaching.slider` (08, the λ
  slider), `teaching.coding_primer` (02, 04: code lengths and interval narrowing on a toy
  alphabet), `teaching.notebook_tools` (`show_source`, the Colab model cache);
- `study`: measurements. `study.evaluation` and `study.classifier` (05: real strings, decoded
  digits, whether they are recognised), `study.sweep` and `study.baselines` (05, 07: the λ sweep,
  the whole study, the classical codecs), `study.bd_rate` (07, 08: Bjøntegaard delta rates),
  `study.reference` (the original tutorial's numbers);
- `plotting` (01-08): the figures;
- `training` (03): `train_model` and `train_or_load`, which reuses the model cache and
  pretrained models;
- `model` (TensorFlow): `model.autoencoder` (01-03: the transforms and the trainer),
  `model.entropy_models` (02: the prior and the entropy model), `model.variable_rate` (08: one
  model for every λ), `model.elbo` (06: the loss as a negative ELBO), `model.files` (04: a trainer
  as model-file arrays, `save_model` / `load_model`, and its codec, `make_codec` /
  `make_mnist_codec`);
- `codec` (numpy only, 04 and 08): `codec.codecs` (compressor, decompressor, one codec class per
  kind of model, `load_codec`), `codec.entropy_coder` (tables and strings from a prior),
  `codec.exact_transforms` (the transforms in integer arithmetic), `codec.gains` (a
  variable-rate model's gains in exact fixed point), `codec.mnc` (the `.mnc` file format);
- `storage` (numpy only): `storage.model_files` (the model file format), `storage.cache` (the
  model cache, 03), `storage.pretrained` (04-08: published models, checked downloads);
- `coding` (numpy only): coding tables and the range coder, byte-identical to
  tensorflow-compression's;
- `settings` (03): `TrainingSettings`, recipes and training-time estimates;
- the base: `data` (01: MNIST from IDX files or tensorflow-datasets), `architecture` (01: the
  layers as data), `lambdas` (03, 08: λ and rate levels, checked), `hashing` (digests),
  `atomic_files` (files written whole, never over an existing one unless asked).
"""

__version__ = "0.2.0"

# Where the notebooks' Colab setup cell installs this package from (a tagged release), and where
# the Colab badges point; tests/test_notebooks.py checks that every notebook uses exactly these.
REPOSITORY = "mnist-compression/mnist-compression"
RELEASE = f"v{__version__}"
INSTALL_SOURCE = f"mnist-compression @ git+https://github.com/{REPOSITORY}@{RELEASE}"
