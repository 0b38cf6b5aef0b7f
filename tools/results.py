"""Results as data: the records in results/*.json, and the docs pages made from them.

    python tools/results.py render      # results/*.json -> docs/results.md, docs/benchmarks.md
    python tools/results.py record tutorial build/tutorial/rate_distortion.json \
        --command "make tutorial"       # a run's data into results/tutorial.json, then render

A record is one measurement: a title, the command that measured it, the date and the machine,
its data, and the text around its table. `record` writes the data of a run into the record of
that name (a notebook's rate_distortion.json, sweep.json or bd_rates.json, a release manifest),
keeping the record's text, and stamps it with today's date and this machine; records of kind
"table" hold rows measured by a benchmark. `render` writes every page from the records, in their
order, so a number lives in its record and the pages only show it (tests/test_results.py checks
that the committed pages are what `render` writes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mnist_compression.study.reference import ORIGINAL_TUTORIAL

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results"
PAGES = {
    "results": ("Results", "What the tutorial's models measure: the original tutorial's numbers "
                "reproduced, the whole rate–distortion curve against classical codecs, one model "
                "for every λ, faster training, and the release's pretrained models."),
    "benchmarks": ("Benchmarks", "How fast the package runs: the codec, its command line, "
                   "training, and the project's own commands on a 2-core CPU."),
}


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


def _release_order(entry: dict) -> tuple:
    """The classifier, the original recipe's models, the variable-rate models, the models
    trained with their recipe, then the hyperprior models; by λ and seed within each."""
    group = {"classifier": 0, "model": 1, "variable-rate model": 2,
             "hyperprior model": 4}[entry["kind"]]
    if entry["kind"] == "model" and entry.get("recipe", "original") != "original":
        group = 3
    return group, entry.get("lmbda", 0), entry.get("seed", 0)


def manifest_table(manifest: dict) -> str:
    """The published files: λ (or the classifier), size, the first 12 hex digits of the SHA-256,
    and the measured information, real strings, MAE and recognised share of each model."""
    rows = []
    for entry in sorted(manifest["files"], key=_release_order):
        size = f"{entry['bytes'] / 1e6:.1f} MB"
        if entry["kind"] == "classifier":
            rows.append(["classifier", f"`{entry['file']}`", size, f"`{entry['sha256'][:12]}`",
                         f"accuracy {entry['accuracy']:.1%} on the test digits", "", "", ""])
            continue
        label = f"{entry['lmbda']:g}" if entry["kind"] == "model" else (
            f"{entry['lmbda']:g}, hyperprior ({entry['settings']['hyper_latent_dims']} side "
            f"latents)" if entry["kind"] == "hyperprior model" else
            f"{entry['levels'][0]:g}–{entry['levels'][-1]:g}, one variable-rate model (at "
            f"{entry['lmbda']:g}, seed {entry.get('seed', 0)})")
        if entry["kind"] == "model" and entry.get("recipe", "original") != "original":
            label += f", {entry['recipe']} recipe"
        rows.append([label, f"`{entry['file']}`", size,
                     f"`{entry['sha256'][:12]}`", f"{entry['information_bits']:.2f}",
                     f"{entry['string_bits']:.2f}", f"{entry['mae']:.4f}",
                     f"{entry['recognised']:.1%}"])
    return _table(["λ", "file", "size", "SHA-256 (first 12)", "information (bits/digit)",
                   "real strings (bits/digit)", "MAE", "recognised"], rows)


def bd_rates_table(rows: list) -> str:
    """Notebook 08's BD-rates (its bd_rates.json): test, anchor, and the BD-rate along PSNR and
    along -MAE, or why there is none."""
    def cell(value):
        return "n/a" if value is None else f"{value:+.1f}%"

    return _table(["test", "anchor", "BD-rate along PSNR", "along −MAE"],
                  [[r["test"], r["anchor"], cell(r["psnr"]), cell(r["mae"])] for r in rows])


def side_information_table(data: dict) -> str:
    """Notebook 09's side_information.json: per λ, both models' information content (the
    hyperprior's side bits apart), real strings, MAE and R + λ·D; then the BD-rates and the
    class sent as side information."""
    rows = []
    for a, b in zip(data["factorized"], data["hyperprior"]):
        lmbda = a["lmbda"]
        rows.append([f"{lmbda:g}", f"{a['information_bits']:.2f}",
                     f"{b['information_bits']:.2f} ({b['side_bits']:.2f})",
                     f"{a['string_bits']:.2f}", f"{b['string_bits']:.2f}", f"{a['mae']:.4f}",
                     f"{b['mae']:.4f}", f"{a['information_bits'] + lmbda * a['mae']:.1f}",
                     f"{b['information_bits'] + lmbda * b['mae']:.1f}"])
    table = _table(["λ", "factorized: bits", "hyperprior: bits (side)", "strings: factorized",
                    "strings: hyperprior", "MAE: factorized", "MAE: hyperprior",
                    "R + λD: factorized", "R + λD: hyperprior"], rows)
    bd = data["bd_rates"]
    by_class = data["class_side_information"]
    return table + (
        f"\n\n**BD-rate of the hyperprior against the factorized models: "
        f"{bd['psnr']['bd_rate']:+.1f}% along PSNR** ({bd['psnr']['low']:.1f}–"
        f"{bd['psnr']['high']:.1f} dB) and {bd['mae']['bd_rate']:+.1f}% along −MAE (MAE "
        f"{bd['mae']['low']:.3f}–{bd['mae']['high']:.3f}). **The class as side information** "
        f"(the factorized model at λ = {data['example_lambda']:g}): {by_class['shared']:.2f} "
        f"bits under its own prior ({by_class['refitted']:.2f} refitted to the training "
        f"digits), {by_class['per_class']:.2f} under a prior per class, plus "
        f"{by_class['class_bits']:.2f} bits for the class: "
        f"{by_class['per_class'] + by_class['class_bits']:.2f} in all.")


def table_of(record: dict) -> str:
    """The Markdown table of a record, by its kind."""
    data = record["data"]
    if data is None:
        raise SystemExit(f"results/{record['name']}.json holds no data yet: run its command, "
                         f"then `python tools/results.py record {record['name']} DATA`.")
    if record["kind"] == "table":
        return _table(data["columns"], data["rows"])
    return {"tutorial": tutorial_table, "study": study_table, "release": manifest_table,
            "bd_rates": bd_rates_table,
            "side_information": side_information_table}[record["kind"]](data)


def section(record: dict) -> str:
    """A record as a page section: title, text, table, text, and how it was measured."""
    parts = [f"## {record['title']}", record.get("before", ""), table_of(record),
             record.get("after", ""),
             f"*Measured on {record['date']}, {record['machine']}: `{record['command']}`.*"
             + (f" {record['source']}" if record.get("source") else "")]
    return "\n\n".join(part.strip() for part in parts if part.strip()) + "\n"


def load_records(folder: Path = RESULTS) -> list:
    """Every record, with its file's stem as "name", in page order."""
    records = [dict(json.loads(path.read_text(encoding="utf-8")), name=path.stem)
               for path in sorted(folder.glob("*.json"))]
    return sorted(records, key=lambda r: (r["page"], r["order"]))


def render(records: list) -> dict:
    """page name -> Markdown text of that page."""
    pages = {}
    for page, (title, intro) in PAGES.items():
        chosen = [r for r in records if r["page"] == page]
        pages[page] = "\n".join(
            [f"# {title}\n", intro + " Every table is a record in `results/`, written by the "
             "command it names; `python tools/results.py render` makes this page from them.\n",
             *[section(r) for r in chosen]])
    return pages


def machine() -> str:
    """This machine and stack, as a record names them."""
    try:
        tensorflow = f", TensorFlow {version('tensorflow')}"
    except PackageNotFoundError:
        tensorflow = ""
    return (f"{os.cpu_count()}-core {platform.machine()} {platform.system()}, Python "
            f"{platform.python_version()}{tensorflow}")


def record(name: str, data_file: Path, command: str, folder: Path = RESULTS) -> Path:
    """Writes a run's data (rate_distortion.json, sweep.json or a manifest) into the record
    `name`, keeping its text and kind; stamps command, date and machine."""
    path = folder / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"No record {path}: records are created by hand with their title, page, "
                         f"order, kind and text; then `record` fills in the data.")
    existing = json.loads(path.read_text(encoding="utf-8"))
    updated = dict(existing, data=json.loads(data_file.read_text()), command=command,
                   date=time.strftime("%Y-%m-%d"), machine=machine())
    updated.pop("source", None)  # measured now, by the command named
    path.write_text(json.dumps(updated, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="action", required=True)
    commands.add_parser("render", help="write docs/results.md and docs/benchmarks.md")
    add = commands.add_parser("record", help="write a run's data into a record")
    add.add_argument("name", help="the record, results/NAME.json")
    add.add_argument("data", type=Path, help="rate_distortion.json, sweep.json, pretrained.json "
                                             "or notebook 08's bd_rates.json")
    add.add_argument("--command", required=True, help="the command that measured it")
    args = parser.parse_args(argv)
    if args.action == "record":
        print(f"Wrote {record(args.name, args.data, args.command)}")
    for page, text in render(load_records()).items():
        (REPO / "docs" / f"{page}.md").write_text(text, encoding="utf-8")
        print(f"Wrote docs/{page}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
