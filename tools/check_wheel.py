"""Checks an installed wheel of the package against the source tree (`make smoke-wheel`).

Run from outside the source tree with the wheel's folder on PYTHONPATH: the package must be
imported from there, hold exactly the source tree's modules and data files, and import every
module.
"""

import importlib
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "mnist_compression"


def modules(root: Path) -> set:
    return {".".join(p.relative_to(root.parent).with_suffix("").parts)
            for p in root.rglob("*.py")}


def data_files(root: Path) -> set:
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc")}


def main() -> int:
    import mnist_compression

    installed = Path(mnist_compression.__file__).parent
    if installed == SOURCE:
        sys.exit(f"mnist_compression was imported from the source tree ({installed}), not a wheel")
    source, wheel = modules(SOURCE) | data_files(SOURCE), modules(installed) | data_files(installed)
    missing, extra = source - wheel, wheel - source
    if missing or extra:
        sys.exit(f"the wheel differs from the source tree: missing {sorted(missing)}, "
                 f"extra {sorted(extra)}")
    for name in sorted(modules(installed)):
        if not name.endswith("__main__"):
            importlib.import_module(name)
    print(f"wheel at {installed}: all {len(modules(installed))} modules present and importable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
