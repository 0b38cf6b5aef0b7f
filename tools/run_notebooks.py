"""Executes the tutorial notebooks with papermill and writes executed copies plus HTML.

    python tools/run_notebooks.py                 # full defaults -> build/tutorial
    python tools/run_notebooks.py --smoke         # small, with the solutions -> build/smoke
    python tools/run_notebooks.py --only 03 04    # a subset, by number or name
    python tools/run_notebooks.py --smoke --jobs 2  # two notebooks at a time

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
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"

# Small enough for CI (every notebook and solution in about ten minutes on 2 cores), large enough
# that the three lambdas already land in the right order of rate.
SMOKE_PARAMETERS = dict(epochs=2, train_examples=4096, validation_examples=1000)


# With --jobs above 1, a notebook starts only after those that train the models it reuses, so no
# model is trained twice at once and each finds the others' models in the cache: part 3 trains
# λ = 2000 (which appendix A uses too), part 7 every λ of the study (all that parts 4-6 and 8
# use), part 5 the classifier.
NEEDS = {
    "04_compression": ("03_training",),
    "05_rate_distortion": ("07_rate_distortion_study",),
    "06_generative_decoder": ("05_rate_distortion",),
    "07_rate_distortion_study": ("03_training",),
    "08_one_model_every_lambda": ("07_rate_distortion_study",),
    "09_side_information": ("07_rate_distortion_study",),
    "A1_same_everywhere": ("03_training",),
    "04_solutions": ("04_compression", "07_rate_distortion_study"),
    "05_solutions": ("05_rate_distortion",),
}
# Which ready notebook starts first: the long chain of parts 7 and 8 and their solutions (two
# thirds of a smoke run) before the short parts that fill the other process.
FIRST = ("03_training", "07_rate_distortion_study", "07_solutions", "08_one_model_every_lambda",
         "08_solutions")


def needs(path: Path) -> set[str]:
    """The notebooks (by stem) that must finish before this one starts: a solution's own part,
    and those in NEEDS."""
    own = set()
    if path.parent == SOLUTIONS:
        own = {p.stem for p in NOTEBOOKS.glob(f"{path.stem[:2]}_*.ipynb")}
    return own | set(NEEDS.get(path.stem, ()))


def run_all(paths: list[Path], out_dir: Path, overrides: dict, html: bool, jobs: int) -> dict:
    """Runs the notebooks, `jobs` at a time in separate processes (one at a time: in series
    order), each once the notebooks it needs (of those being run) have finished; prints each as
    it ends; returns name -> seconds."""
    timings, running, done = {}, {}, set()
    waiting = sorted(paths, key=lambda p: jobs > 1 and p.stem not in FIRST)  # else series order
    running_stems = {p.stem for p in paths}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        while waiting or running:
            for path in [p for p in waiting if jobs == 1 or needs(p) & running_stems <= done]:
                if len(running) == jobs:
                    break
                waiting.remove(path)
                running[pool.submit(run_notebook, path, out_dir, overrides, html)] = path
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                path = running.pop(future)
                timings[path.name] = round(future.result(), 1)
                done.add(path.stem)
                print(f"[{len(timings)}/{len(paths)}] {path.name}: {timings[path.name]:.0f} s",
                      flush=True)
    return timings


def notebook_paths(only=(), solutions: bool = False) -> list[Path]:
    """The numbered notebooks in order, then (with `solutions`) their worked solutions; `only`
    keeps those whose name starts with any prefix."""
    paths = sorted(NOTEBOOKS.glob("[0-9A][0-9]_*.ipynb"))  # parts 01-09, then appendix A1
    if solutions:
        paths += sorted(SOLUTIONS.glob("[0-9A][0-9]_solutions.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(prefix) for prefix in only)]
        if not paths:
            raise SystemExit(f"No notebook in {NOTEBOOKS} starts with any of {list(only)}.")
    return paths


# Folders the kernels inherit in the environment; the mirror may be a URL instead.
PATH_VARIABLES = ("MNIST_DATA_DIR", "MNIST_COMPRESSION_CACHE", "MNIST_COMPRESSION_MODELS")


def absolute_paths(overrides: dict) -> dict:
    """Makes relative paths absolute against the current directory: in the environment
    variables the kernels inherit (not a mirror's URL), and in a data_dir parameter."""
    for name in PATH_VARIABLES:
        if os.environ.get(name) and "://" not in os.environ[name]:
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


SETTINGS = ("epochs", "train_examples", "validation_examples", "batch_size", "seed", "data_dir")


def say_what_will_be_trained(overrides: dict) -> None:
    """Before a full run: which of the models the notebooks use are cached, published (a
    mirror in $MNIST_COMPRESSION_MODELS, or the release) or to be trained, and how long."""
    from mnist_compression import TrainingSettings
    from mnist_compression.study.release_models import training_plan

    settings = TrainingSettings.from_recipe(
        overrides.get("recipe", "original"), **{k: overrides.get(k) for k in SETTINGS})
    print(training_plan(settings), flush=True)


def run_description(smoke: bool, overrides: dict) -> dict:
    """How the notebooks were run, for the book's index: mode, parameters, date and stack."""
    from importlib.metadata import version

    return dict(smoke=smoke, parameters=overrides, date=time.strftime("%Y-%m-%d"),
                python=sys.version.split()[0], tensorflow=version("tensorflow"))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="small, quick parameters")
    parser.add_argument("--out", type=Path, help="output folder (default build/tutorial or "
                        "build/smoke)")
    parser.add_argument("--only", nargs="*", default=(), help="notebook numbers or names")
    parser.add_argument("--solutions", action="store_true",
                        help="also the worked solutions (always with --smoke)")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default 1)")
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
    if not args.smoke and any(path.name >= "03" for path in paths):
        say_what_will_be_trained(overrides)
    if args.jobs < 1:
        parser.error(f"--jobs must be 1 or more, not {args.jobs}")
    start = time.perf_counter()
    timings = run_all(paths, out_dir, overrides, not args.no_html, args.jobs)
    total = round(time.perf_counter() - start, 1)
    print(f"All {len(paths)} notebooks ran in {total:.0f} s ({args.jobs} at a time); executed "
          f"copies in {out_dir}")
    (out_dir / "timings.json").write_text(json.dumps(dict(timings, total=total), indent=2))
    (out_dir / "run.json").write_text(json.dumps(run_description(args.smoke, overrides), indent=2))
    return timings


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
