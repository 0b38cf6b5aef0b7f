"""Learned lossy compression of MNIST digits: the helper package behind the tutorial notebooks."""
