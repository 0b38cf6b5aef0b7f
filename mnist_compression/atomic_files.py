"""Files written all at once: a reader sees the old file or the complete new one, never a part.

Used by `mnc`, `model_files`, `classifier` and the codec's outputs. The temporary file that
`tempfile` creates is private to its owner; the finished file gets the permissions of any new
file (the umask decides), so a model or `.mnc` file an instructor writes can be shared like any
other file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _read_umask() -> int:
    """The process's umask. Setting it to read it would change it for every thread a moment, so
    it is read once, when the package is imported (before any thread of its own runs)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def default_mode(mode: int = 0o666) -> int:
    """`mode` as the process's umask leaves it for a newly created file (0o777 for folders)."""
    return mode & ~_UMASK


def refuse_existing(path, overwrite: bool = False) -> None:
    """Raises FileExistsError if `path` exists and may not be replaced: the one check behind
    every file the package writes (command lines call it before any work)."""
    if path is not None and not overwrite and os.path.lexists(path):  # a dangling link too
        raise FileExistsError(f"{path} already exists; choose another name or allow overwriting "
                              f"(--force on the command line).")


def check_output(path, overwrite: bool = False) -> None:
    """Raises OSError, in one line that names `path`, unless `write_atomically` can write it:
    an existing entry must be a file (or a link) that may be replaced, and its folder one this
    process can create files in (tried with a temporary file). Command lines call it before any
    work, so a bad output name never costs a training or an encoding."""
    path = Path(path)
    if "\0" in str(path):
        raise ValueError(f"{str(path)!r} holds a NUL character; name a file without one.")
    refuse_existing(path, overwrite)
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(f"{path} is a folder; name a file to write.")
    if os.path.lexists(path) and not path.is_symlink() and not path.is_file():
        raise OSError(f"{path} is not a regular file (a device, pipe or socket); name a file to "
                      f"write.")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        if folder.is_symlink():
            raise NotADirectoryError(f"Cannot write {path}: {folder} is a link to nothing.")
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(f"Cannot write {path}: {folder} is not a folder.")
    try:
        handle, probe = tempfile.mkstemp(prefix=".probe-", dir=folder)
    except OSError as err:
        raise OSError(f"Cannot write {path}: {err.strerror or err} in {folder}.") from None
    os.close(handle)
    os.unlink(probe)


def write_atomically(path, write: Callable[[BinaryIO], object], overwrite: bool = False) -> Path:
    """Calls `write(f)` on a temporary file beside `path`, then puts it at `path` in one step.
    An existing `path` is kept unless `overwrite`: without it the file is linked into place,
    which fails if the name appeared meanwhile, so two writers can never both succeed."""
    path = Path(path)
    check_output(path, overwrite)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".partial-", dir=path.parent)  # short name
        with os.fdopen(handle, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, default_mode())
        if overwrite:
            os.replace(temporary, path)
        else:
            _link_new(temporary, path)
    except FileExistsError:
        raise
    except OSError as err:  # named after the file the user asked for, not the temporary one
        raise OSError(err.errno, f"Cannot write {path}: {err.strerror or err}") from None
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
    return path


def _link_new(temporary: str, path: Path) -> None:
    """Gives the finished temporary file the name `path`, which must not exist: a hard link
    fails atomically if it does. Where links are not supported (some network and cloud
    drives), the name is checked and then replaced."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise FileExistsError(f"{path} already exists; choose another name or allow overwriting "
                              f"(--force on the command line).") from None
    except OSError:
        refuse_existing(path)
        os.replace(temporary, path)


__all__ = ["check_output", "default_mode", "refuse_existing", "write_atomically"]
