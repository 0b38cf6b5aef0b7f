"""Sphinx configuration of the book: the executed notebooks and the docs as one static site.

`tools/build_book.py` lays out the sources (this file, the book's index, docs/ and the executed
notebooks) in a staging folder and runs Sphinx there; see `make book`.
"""

import mnist_compression

project = "Learned data compression with MNIST"
author = "the mnist-compression authors"
release = mnist_compression.__version__
# A local copy of MathJax (the package's module name has hyphens), so pages typeset offline.
extensions = ["myst_nb", "sphinx-mathjax-offline"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3  # links to sections work as on GitHub (page.md#a-heading)
nb_execution_mode = "off"  # pages show the outputs of the run that executed the notebooks
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_theme_options = {
    "repository_url": f"https://github.com/{mnist_compression.REPOSITORY}",
    "repository_branch": mnist_compression.RELEASE,
    "use_download_button": True,  # each notebook page offers its executed .ipynb
    "use_repository_button": True,
}
html_last_updated_fmt = None
