"""The package's entropy coder, in numpy alone, the same on every stack.

- `tables`: coding tables from a prior, byte-identical to tensorflow-compression 2.14.1's on
  TensorFlow 2.14 (`tf_float32` reproduces TensorFlow's float32 steps, `stl_sort` the
  tie-breaking of libstdc++'s `std::sort`);
- `range_coder`: a batch range coder in tensorflow-compression's byte format, whose decoder stops
  strings whose escape code never ends.

`codec.entropy_coder` codes with these (and `model.entropy_models` through it); nothing here
imports TensorFlow.
"""
