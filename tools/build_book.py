"""Builds the book: the executed notebooks and the docs as one static HTML site (Sphinx, myst-nb).

    python tools/build_book.py                  # run every notebook at full defaults first
    python tools/build_book.py build/smoke      # from executed copies -> build/book/html

The folder holds executed copies of every notebook (solutions too, if it has them), as `make
tutorial` (full defaults) or `make smoke` writes them (tools/run_notebooks.py). Without one,
every notebook runs at its full defaults into build/tutorial first: models come from the model
cache or a mirror of the release ($MNIST_COMPRESSION_MODELS), and the run says up front which
it would train and how long that takes. The sources are laid out in
`<out>/src` (book/conf.py and book/index.md, docs/, the notebooks) and Sphinx builds them
without executing anything and without the internet (MathJax is a local copy); any Sphinx
warning, such as a link to a page that does not exist, fails the build.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from run_notebooks import notebook_paths

REPO = Path(__file__).resolve().parents[1]


COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_BADGE = "_static/open-in-colab.svg"  # the book's own, so pages show it offline


def stage(executed: Path, src: Path) -> int:
    """Copies the book's sources into `src` (emptied first): every part (which must have an
    executed copy), every solution (executed if the run executed it, else as committed, so the
    parts' links to their solutions lead somewhere), the docs; returns the number of notebooks."""
    parts = notebook_paths()
    missing = [p.name for p in parts if not (executed / p.name).is_file()]
    if missing:
        raise SystemExit(f"{executed} has no executed copy of {', '.join(missing)}: run "
                         "`make smoke` or `make tutorial` first, or name their output folder.")
    solutions = notebook_paths(solutions=True)[len(parts):]
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(REPO / "book", src)
    shutil.copytree(REPO / "docs", src / "docs")
    pages = []
    for path in parts + solutions:
        page = path.relative_to(REPO)
        depth = "../" * (len(page.parts) - 1)
        source = executed / path.name if (executed / path.name).is_file() else path
        text = source.read_text(encoding="utf-8")
        (src / page).parent.mkdir(parents=True, exist_ok=True)
        (src / page).write_text(text.replace(COLAB_BADGE, depth + LOCAL_BADGE), encoding="utf-8")
        pages.append(page.with_suffix("").as_posix())
    docs = sorted(p.relative_to(REPO).with_suffix("").as_posix()
                  for p in (REPO / "docs").glob("*.md"))
    index = src / "index.md"
    unrun = "" if all((executed / p.name).is_file() for p in solutions) else (
        "\nThe worked solutions this run did not execute are shown as written, without outputs "
        "(`make smoke` runs them all at small parameters).\n")
    index.write_text(index.read_text() + run_note(executed) + unrun
                     + toctree("The notebooks", pages[:len(parts)])
                     + toctree("Worked solutions", pages[len(parts):])
                     + toctree("Reference", docs))
    return len(pages)


def toctree(caption: str, pages: list) -> str:
    """A Sphinx table of contents, in MyST, of `pages` under `caption`."""
    return ("\n```{toctree}\n:caption: " + caption + "\n:maxdepth: 1\n\n"
            + "\n".join(pages) + "\n```\n")


def run_note(executed: Path) -> str:
    """A closing paragraph for the index: how the notebooks were run (run.json of the run)."""
    try:
        run = json.loads((executed / "run.json").read_text())
    except (OSError, ValueError):
        return ""
    how = ("with the small parameters of the smoke test (`make smoke`): their numbers are rougher "
           "than a full run's" if run.get("smoke") else "at their full defaults (`make book`)")
    return (f"\nThese pages were executed on {run['date']} with Python {run['python']} and "
            f"TensorFlow {run['tensorflow']}, {how}.\n")


def build(src: Path, html: Path) -> None:
    """Runs Sphinx on the staged sources; warnings are errors."""
    from sphinx.cmd.build import build_main

    shutil.rmtree(html, ignore_errors=True)
    status = build_main(["-b", "html", "-q", "-W", "--keep-going",
                         "-d", str(html.parent / "doctrees"), str(src), str(html)])
    if status:
        raise SystemExit(f"Sphinx failed (status {status}): see its messages above.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("executed", type=Path, nargs="?",
                        help="folder with the executed notebooks (default: run them now)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "book",
                        help="output folder (default build/book): src/, html/")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    executed = args.executed
    if executed is None:
        import run_notebooks

        executed = REPO / "build" / "tutorial"
        run_notebooks.main(["--out", str(executed)])
    count = stage(executed.absolute(), args.out / "src")
    build(args.out / "src", args.out / "html")
    print(f"The book of {count} notebooks and the docs: {args.out / 'html' / 'index.html'} "
          f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
