"""Adds SHA-256 hashes to the lock files' pins, so `make install` installs exactly those files.

    python tools/hash_locks.py            # every lock in locks/ (uv must be installed)

Each lock keeps its header comment and its pinned versions: to change a version, edit its pin,
then run this (`make locks` installs uv first). The hashes are those of every file PyPI has for
each pinned release, resolved by `uv pip compile` for the lock's Python on Linux x86_64, so the
result also pins the build tools some packages depend on (setuptools, wheel).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHONS = {"py311.txt": "3.11.7", "py313.txt": "3.13.0"}  # the versions CI's environments use
_PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+==[^\s\\]+)")


def pins(text: str) -> list[str]:
    """The `name==version` lines of a lock, hashed or not."""
    return [m.group(1) for line in text.splitlines() if (m := _PIN.match(line))]


def header(text: str) -> list[str]:
    """The comment lines a lock starts with (what it is, how to regenerate it)."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def hash_lock(lock: Path, python: str) -> None:
    text = lock.read_text()
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "pins.txt", Path(folder) / "hashed.txt"
        source.write_text("\n".join(pins(text)) + "\n")
        subprocess.run([sys.executable, "-m", "uv", "pip", "compile", str(source),
                        "--generate-hashes", "--no-header", "--no-annotate", "--quiet",
                        "--python-version", python,
                        "--python-platform", "x86_64-unknown-linux-gnu", "-o", str(target)],
                       check=True)
        lock.write_text("\n".join(header(text)) + "\n" + target.read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("locks", nargs="*", type=Path,
                        default=[REPO / "locks" / name for name in PYTHONS])
    locks = parser.parse_args(argv).locks
    unknown = [lock.name for lock in locks if lock.name not in PYTHONS]
    if unknown:
        parser.error(f"no Python version is known for {unknown}; the locks are {list(PYTHONS)}")
    for lock in locks:
        hash_lock(lock, PYTHONS[lock.name])
        print(f"{lock}: {len(pins(lock.read_text()))} pins, hashed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
