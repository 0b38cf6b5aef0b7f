"""Executes the tutorial notebooks with papermill and writes executed copies plus HTML.

    python tools/run_notebooks.py                 # full defaults -> build/tutorial
    python tools/run_notebooks.py --smoke         # small, with the solutions -> build/smoke
    python tools/run_notebooks.py --only 03 04    # a subset, by number or name

Each notebook receives only the parameters its `parameters` cell declares; those that write
files get `output_dir` = the output folder. Kernels run in the output folder, so relative paths
given here ($MNIST_DATA_DIR, $MNIST_COMPRESSION_CACHE, a data_dir parameter) are made absolute
first: they mean what they meant where the command was started. Smoke runs use a fresh model
cache inside the output folder, so they never reuse models from earlier runs; full runs share
the user's cache (see mnist_compression.storage.cache), where models are keyed by their settings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"

# Small enough for CI (the whole series in a couple of minutes on 2 cores), large enough that the
# three lambdas already land in the right order of rate.
SMOKE_PARAMETERS = dict(epochs=2, train_examples=8192, validation_examples=2000)


def notebook_paths(only=(), solutions: bool = False) -> list[Path]:
    """The numbered notebooks in order, then (with `solutions`) their worked solutions; `only`
    keeps those whose name starts with any prefix."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if solutions:
        paths += sorted(SOLUTIONS.glob("[0-9][0-9]_solutions.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(prefix) for prefix in only)]
        if not paths:
            raise SystemExit(f"No notebook in {NOTEBOOKS} starts with any of {list(only)}.")
    return paths


PATH_VARIABLES = ("MNIST_DATA_DIR", "MNIST_COMPRESSION_CACHE")


def absolute_paths(overrides: dict) -> dict:
    """Makes relative paths absolute against the current directory: in the environment
    variables the kernels inherit, and in a data_dir parameter."""
    for name in PATH_VARIABLES:
        if os.environ.get(name):
            os.environ[name] = str(Path(os.environ[name]).expanduser().absolute())
    if overrides.get("data_dir"):
        overrides = dict(overrides, data_dir=str(Path(overrides["data_dir"]).absolute()))
    return overrides


def run_notebook(path: Path, out_dir: Path, overrides: dict, html: bool = True) -> float:
    """Runs one notebook into `out_dir` (working directory too); returns the seconds it took."""
    import papermill

    declared = papermill.inspect_notebook(str(path))
    overrides = dict(overrides, output_dir=str(out_dir))
    parameters = {key: value for key, value in overrides.items() if key in declared}
    start = time.perf_counter()
    executed = out_dir / path.name
    papermill.execute_notebook(
        str(path), str(executed), parameters=parameters, cwd=str(out_dir), kernel_name="python3",
        progress_bar=False, log_output=False,
    )
    if html:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_filename(str(executed))
        executed.with_suffix(".html").write_text(body, encoding="utf-8")
    return time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="small, quick parameters")
    parser.add_argument("--out", type=Path, help="output folder (default build/tutorial or "
                        "build/smoke)")
    parser.add_argument("--only", nargs="*", default=(), help="notebook numbers or names")
    parser.add_argument("--solutions", action="store_true",
                        help="also the worked solutions (always with --smoke)")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "JSON"), help="override a parameter, e.g. -p epochs 5")
    args = parser.parse_args(argv)
    out_dir = (args.out or REPO / "build" / ("smoke" if args.smoke else "tutorial")).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's C++ chatter out
    # A clean IPython profile for the kernels: no personal start-up files, and ipykernel's
    # warnings about its local TCP transport stay out of the console.
    profile = out_dir / ".ipython" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text('c.IPKernelApp.log_level = "ERROR"\n')
    os.environ["IPYTHONDIR"] = str(profile.parent)
    # Kernels inherit the environment: a headless MPLBACKEND (e.g. Agg) would drop every figure.
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    overrides = dict(SMOKE_PARAMETERS) if args.smoke else {}
    overrides.update({name: json.loads(value) for name, value in args.parameter})
    overrides = absolute_paths(overrides)
    if args.smoke:
        cache = out_dir / "model-cache"
        shutil.rmtree(cache, ignore_errors=True)
        os.environ["MNIST_COMPRESSION_CACHE"] = str(cache)
    paths = notebook_paths(args.only, solutions=args.solutions or args.smoke)
    timings = {}
    for index, path in enumerate(paths, 1):
        print(f"[{index}/{len(paths)}] {path.name} ...", end=" ", flush=True)
        timings[path.name] = round(run_notebook(path, out_dir, overrides, not args.no_html), 1)
        print(f"{timings[path.name]:.0f} s", flush=True)
    total = sum(timings.values())
    print(f"All {len(paths)} notebooks ran in {total:.0f} s; executed copies in {out_dir}")
    (out_dir / "timings.json").write_text(json.dumps(dict(timings, total=total), indent=2))
    return timings


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
