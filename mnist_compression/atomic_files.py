"""Files written all at once: a reader sees the old file or the complete new one, never a part.

Used by `mnc`, `model_files`, `classifier` and the codec's outputs. The temporary file that
`tempfile` creates is private to its owner; the finished file gets the permissions of any new
file (the umask decides), so a model or `.mnc` file an instructor writes can be shared like any
other file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def default_mode(mode: int = 0o666) -> int:
    """`mode` as the process's umask leaves it for a newly created file (0o777 for folders)."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def refuse_existing(path, overwrite: bool = False) -> None:
    """Raises FileExistsError if `path` exists and may not be replaced: the one check behind
    every file the package writes (command lines call it before any work)."""
    if path is not None and not overwrite and os.path.lexists(path):  # a dangling link too
        raise FileExistsError(f"{path} already exists; choose another name or allow overwriting "
                              f"(--force on the command line).")


def write_atomically(path, write: Callable[[BinaryIO], object], overwrite: bool = False) -> Path:
    """Calls `write(f)` on a temporary file beside `path`, then renames it to `path`. An existing
    `path` (also one that appeared meanwhile) is kept unless `overwrite`."""
    path = Path(path)
    refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, default_mode())
        refuse_existing(path, overwrite)  # again: it may have appeared while writing
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


__all__ = ["default_mode", "refuse_existing", "write_atomically"]
