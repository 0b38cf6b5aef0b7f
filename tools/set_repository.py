"""Points the project at its published home: the GitHub repository and the release version.

    python tools/set_repository.py --repository my-org/mnist-compression
    python tools/set_repository.py --version 0.3.0        # before tagging v0.3.0

Until a person publishes the project, `REPOSITORY` and the release tag in
`mnist_compression/__init__.py` are placeholders. This rewrites them there and everywhere they
are written out: the notebooks' Colab badges, install addresses and book links (both Jupytext
twins), the README, the docs and the version in pyproject.toml, so that `make test` (which
checks every notebook against the package) passes afterwards. Then follow docs/releasing.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path("mnist_compression/__init__.py")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
_VERSION = re.compile(r"\d+\.\d+\.\d+")


def current(root: Path) -> tuple[str, str]:
    """(repository, version) as the package states them."""
    text = (root / PACKAGE).read_text()
    return (re.search(r'^REPOSITORY = "([^"]+)"', text, re.M).group(1),
            re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1))


def files(root: Path) -> list[Path]:
    """The text files that write out the address or the release."""
    chosen = [root / PACKAGE, root / "README.md", root / "CONTRIBUTING.md",
              root / "pyproject.toml", *(root / "docs").glob("*.md"),
              *(root / "notebooks").rglob("*.py"), *(root / "notebooks").rglob("*.ipynb")]
    return [path for path in chosen if path.is_file() and ".ipynb_checkpoints" not in path.parts]


def rewrite(root: Path, repository: str | None = None, version: str | None = None) -> int:
    """Rewrites the files under `root`; returns how many changed."""
    old_repository, old_version = current(root)
    pairs = []
    if repository:
        if not _NAME.fullmatch(repository):
            raise SystemExit(f"--repository must be OWNER/NAME as on GitHub, not {repository!r}")
        (old_owner, old_name), (owner, name) = old_repository.split("/"), repository.split("/")
        pairs += [(f'REPOSITORY = "{old_repository}"', f'REPOSITORY = "{repository}"'),
                  (f"github.com/{old_repository}", f"github.com/{repository}"),
                  (f"colab.research.google.com/github/{old_repository}/",
                   f"colab.research.google.com/github/{repository}/"),
                  (f"{old_owner}.github.io/{old_name}/", f"{owner.lower()}.github.io/{name}/")]
    if version:
        if not _VERSION.fullmatch(version):
            raise SystemExit(f"--version must be X.Y.Z, not {version!r}")
        pairs += [(f'__version__ = "{old_version}"', f'__version__ = "{version}"'),
                  (f'\nversion = "{old_version}"', f'\nversion = "{version}"'),
                  (f"/blob/v{old_version}/", f"/blob/v{version}/"),
                  (f"@v{old_version}", f"@v{version}"),
                  (f"tag `v{old_version}`", f"tag `v{version}`")]
    changed = 0
    for path in files(root):
        text = path.read_text(encoding="utf-8")
        new = text
        for old, replacement in pairs:
            new = new.replace(old, replacement)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repository", help="OWNER/NAME of the GitHub repository")
    parser.add_argument("--version", help="the release's version, X.Y.Z (the tag is vX.Y.Z)")
    parser.add_argument("--root", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (args.repository or args.version):
        parser.error("name --repository, --version or both")
    changed = rewrite(args.root, args.repository, args.version)
    repository, version = current(args.root)
    print(f"{changed} files now say {repository} and v{version}; run `make test` to check.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
