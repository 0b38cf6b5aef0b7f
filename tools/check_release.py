"""Downloads every file the package's manifest lists and checks its SHA-256 (docs/releasing.md).

    python tools/check_release.py                   # from this release's assets on GitHub
    python tools/check_release.py URL-or-folder     # from a mirror

Exits 0 when every file is there with the published hash, 1 otherwise.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from mnist_compression.storage import pretrained


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    place = pretrained.source(argv[0] if argv else True)
    try:
        manifest = pretrained.load_manifest(place)
    except pretrained.PretrainedError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if not manifest["files"]:
        print(f"The manifest of {manifest.get('release', place)} lists no files; nothing to "
              f"check.")
        return 1
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        for entry in manifest["files"]:
            (_, origin), _ = pretrained.find(entry["key"], place)
            try:
                pretrained.download(origin, entry, Path(folder) / entry["file"])
                print(f"ok      {entry['file']} ({entry['bytes']:,} bytes)")
            except pretrained.PretrainedError as err:
                failures += 1
                print(f"FAILED  {entry['file']}: {err}")
    print(f"{len(manifest['files']) - failures} of {len(manifest['files'])} files verified "
          f"from {place}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
