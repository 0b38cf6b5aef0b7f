"""This package's own entropy coder: what runs where tensorflow-compression cannot be installed.

- `entropy_model`: `NoisyLogistic` and the training rate in TensorFlow ops (the fallback backend);
- `tables`: coding tables from a prior, in numpy, byte-identical to tensorflow-compression 2.14.1
  on TensorFlow 2.14 (`tf_float32` reproduces the float32 steps, `stl_sort` the tie-breaking);
- `range_coder`: a numpy batch range coder in tensorflow-compression's byte format.

The tables and the decoder's screening of hostile strings serve both backends (see
`mnist_compression.entropy_models`). `tables` and `range_coder` need numpy only.
"""
