"""Learned lossy compression of MNIST digits: the helper package behind the tutorial notebooks.

Modules, in the order the notebooks meet them:

- `data` (01): MNIST from local IDX files or tensorflow-datasets;
- `models` (01-03): the analysis and synthesis transforms and the trainer;
- `entropy_models` (02): the prior and entropy model (tensorflow-compression's classes, one
  implementation on every stack), coding with the `coding` subpackage (tables and range coder in
  numpy); `coding_primer` (02, 04): code lengths and interval narrowing on a toy alphabet;
  `notebook_tools` (02): `show_source` and the Colab model cache;
- `settings`, `training`, `cache` (03): one `TrainingSettings` object, training, and the model
  cache; `pretrained` (04-08): published models, downloaded into the cache and checked;
- `codec` (04): compressor and decompressor, `.mnc` files (`mnc`) and model files
  (`model_files`, both written by `atomic_files`, checked by `hashing`'s digests), on integer
  transforms (`exact_transforms`) that decode identically everywhere;
- `evaluation`, `classifier` (05): measurements of real strings and decoded digits; `reference`:
  the original tutorial's numbers;
- `elbo` (06): the training loss as a variational autoencoder's negative ELBO;
- `exercises` (01-06): the check cells of the exercises;
- `plotting` (01-08): the figures;
- `sweep`, `baselines` (05, 07): the λ sweep, the whole study and the classical codecs;
  `bd_rate` (07, 08): Bjøntegaard delta rates of measured curves;
- `variable_rate`, `gains`, `slider` (08): one model for every λ (a learned gain per rate
  level), its gains in exact fixed point for the codec (`codec.VariableRateCodec`), and the λ
  slider.

The command lines live in the `cli` subpackage: `python -m mnist_compression.codec`,
`….training` and `….sweep`, and `python -m mnist_compression.cli.release` for a release's models.
"""

__version__ = "0.2.0"

# Where the notebooks' Colab setup cell installs this package from (a tagged release), and where
# the Colab badges point; tests/test_notebooks.py checks that every notebook uses exactly these.
REPOSITORY = "mnist-compression/mnist-compression"
RELEASE = f"v{__version__}"
INSTALL_SOURCE = f"mnist-compression @ git+https://github.com/{REPOSITORY}@{RELEASE}"
