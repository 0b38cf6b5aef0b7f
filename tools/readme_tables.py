"""Prints README.md's result tables from the records a full run wrote (`make tutorial`), and
its table of pretrained models from a release manifest.

    python tools/readme_tables.py build/tutorial
    python tools/readme_tables.py --manifest mnist_compression/storage/pretrained.json

Reads notebook 05's rate_distortion.json and notebook 07's sweep.json (lists of
`mnist_compression.study.sweep.rd_record`s) from the folder and prints "The tutorial's numbers,
reproduced" and "The rate–distortion study" as Markdown, so the README's numbers come from one
record format, written by one function.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mnist_compression.study.reference import ORIGINAL_TUTORIAL


def _table(header: list, rows: list) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def tutorial_table(records: list) -> str:
    """λ, validation rate and distortion, the original's numbers, real strings, .mnc bytes and
    the recognised share, one row per λ, highest first."""
    rows = []
    for r in sorted(records, key=lambda r: -r["lmbda"]):
        original = ORIGINAL_TUTORIAL.get(r["lmbda"])
        rows.append([f"{r['lmbda']:g}", f"{r['val_rate']:.2f}", f"{r['val_distortion']:.4f}",
                     f"{original[0]:.2f} / {original[1]:.4f}" if original else "–",
                     f"{r['string_bits']:.2f}", f"{r['mnc_bytes_per_digit']:.2f}",
                     f"{r['recognised']:.1%}"])
    return _table(["λ", "rate (bits/digit)", "distortion", "original tutorial",
                   "real strings (bits/digit)", ".mnc on disk (bytes/digit)", "recognised"], rows)


def study_table(records: list) -> str:
    """The sweep: information content, real strings, .mnc bytes, MAE, PSNR and the recognised
    share per λ, lowest first."""
    rows = [[f"{r['lmbda']:g}", f"{r['information_bits']:.2f}", f"{r['string_bits']:.2f}",
             f"{r['mnc_bytes_per_digit']:.2f}", f"{r['mae']:.3f}", f"{r['psnr']:.1f}",
             f"{r['recognised']:.1%}"] for r in sorted(records, key=lambda r: r["lmbda"])]
    return _table(["λ", "information (bits/digit)", "real strings (bits/digit)",
                   "`.mnc` (bytes/digit)", "MAE", "PSNR (dB)", "recognised"], rows)


def manifest_table(manifest: dict) -> str:
    """The published files: λ (or the classifier), size, the first 12 hex digits of the SHA-256,
    and the measured information, real strings, MAE and recognised share of each model."""
    rows = []
    for entry in sorted(manifest["files"], key=lambda e: (e["kind"] == "variable-rate model",
                                                          e.get("lmbda", 0))):
        size = f"{entry['bytes'] / 1e6:.1f} MB"
        if entry["kind"] == "classifier":
            rows.append(["classifier", f"`{entry['file']}`", size, f"`{entry['sha256'][:12]}`",
                         f"accuracy {entry['accuracy']:.1%} on the test digits", "", "", ""])
            continue
        label = f"{entry['lmbda']:g}" if entry["kind"] == "model" else (
            f"{entry['levels'][0]:g}–{entry['levels'][-1]:g}, one variable-rate model (at "
            f"{entry['lmbda']:g})")
        rows.append([label, f"`{entry['file']}`", size,
                     f"`{entry['sha256'][:12]}`", f"{entry['information_bits']:.2f}",
                     f"{entry['string_bits']:.2f}", f"{entry['mae']:.4f}",
                     f"{entry['recognised']:.1%}"])
    return _table(["λ", "file", "size", "SHA-256 (first 12)", "information (bits/digit)",
                   "real strings (bits/digit)", "MAE", "recognised"], rows)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, nargs="?", help="where a full run wrote results")
    parser.add_argument("--manifest", type=Path, help="a release manifest (pretrained.json)")
    args = parser.parse_args(argv)
    if args.manifest is not None:
        manifest = json.loads(args.manifest.read_text())
        if not manifest["files"]:
            print(f"The manifest of {manifest['release']} lists no files (nothing published).")
            return ""
        text = manifest_table(manifest)
        print(text)
        return text
    if args.folder is None:
        parser.error("name a results folder or --manifest")
    folder = args.folder
    text = "\n\n".join(
        make(json.loads((folder / name).read_text()))
        for name, make in (("rate_distortion.json", tutorial_table), ("sweep.json", study_table))
        if (folder / name).exists())
    print(text or f"No rate_distortion.json or sweep.json in {folder}.")
    return text


if __name__ == "__main__":
    main()
