"""Small helpers the notebooks call: show the package's own code, and keep models in Google Drive.

`show_source` is introduced in notebook 02, `keep_cache_in_drive` in notebook 03.
"""

from __future__ import annotations

import inspect
import os
import sys
import textwrap
from pathlib import Path

from ..storage.cache import CACHE_ENV

DRIVE_CACHE = "/content/drive/MyDrive/mnist_compression_cache"


def source(obj) -> str:
    """The source code of a function, method or class of this package, dedented."""
    return textwrap.dedent(inspect.getsource(obj))


def show_source(obj):
    """Displays the source of a function, method or class, syntax-highlighted: the notebooks show
    the package's real code, so there is one source of truth. Returns the IPython display object
    (plain text outside a notebook)."""
    from IPython.display import Code

    return Code(source(obj), language="python")


def in_colab() -> bool:
    return "google.colab" in sys.modules


def keep_cache_in_drive(folder: str = DRIVE_CACHE) -> Path | None:
    """In Colab, mounts Google Drive and keeps the model cache there, so models trained in one
    notebook (one Colab machine) are found by the next. Elsewhere it does nothing and returns None.
    """
    if not in_colab():
        return None
    from google.colab import drive

    drive.mount("/content/drive")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)

    os.environ[CACHE_ENV] = str(path)
    print(f"Trained models are kept in {path}")
    return path


__all__ = ["keep_cache_in_drive", "show_source", "source"]
