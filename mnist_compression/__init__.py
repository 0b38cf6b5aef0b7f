"""Learned lossy compression of MNIST digits: the helper package behind the tutorial notebooks.

The notebooks in `notebooks/` import from its modules: `data`, `entropy_models`, `models`,
`training`, `cache` and `plotting`.
"""

__version__ = "0.1.0"

# Where the notebooks' Colab setup cell installs this package from, and where the Colab badges
# point; tests/test_notebooks.py checks that every notebook uses exactly these.
REPOSITORY = "mnist-compression/mnist-compression"
INSTALL_SOURCE = f"mnist-compression @ git+https://github.com/{REPOSITORY}"
