"""The notebooks: paired text twins in sync, clean committed form, and a papermill smoke run."""

import ast
import json
import math
import os
import re
import sys
import types
from pathlib import Path

import jupytext
import nbformat
import pytest
from helpers import ALLOWED_STDERR

import mnist_compression

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9A][0-9]_*.ipynb"))  # parts, then appendices
SOLUTIONS = sorted((REPO / "notebooks" / "solutions").glob("[0-9A][0-9]_solutions.ipynb"))
EVERY_NOTEBOOK = NOTEBOOKS + SOLUTIONS
MAX_CODE_LINES = 12
MAX_PARAMETERS = 16  # a parameters cell is a form, one setting per line
# Settings whose defaults must agree in every notebook that trains, so that later notebooks
# find the models earlier ones cached.
TRAINING_DEFAULTS = ("recipe", "epochs", "train_examples", "validation_examples", "batch_size",
                     "seed", "data_dir")


def _cells(notebook):
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ())))
            for c in notebook.cells]


PARTS = [p for p in NOTEBOOKS if p.name[0].isdigit()]


def test_the_series_is_complete():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_transforms", "02_noise_and_prior", "03_training", "04_compression",
                     "05_rate_distortion", "06_generative_decoder", "07_rate_distortion_study",
                     "08_one_model_every_lambda", "09_side_information", "A1_same_everywhere"]
    assert [p.stem for p in SOLUTIONS] == [f"{name[:2]}_solutions" for name in names]


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_ipynb_and_py_twins_say_the_same(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{twin.name} is missing: run `make sync`"
    assert _cells(nbformat.read(path, as_version=4)) == _cells(jupytext.read(twin)), (
        f"{path.name} and {twin.name} differ: edit one, then run `make sync`"
    )


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_committed_without_outputs_and_with_one_parameters_cell(path):
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert sum("parameters" in c.metadata.get("tags", ()) for c in code) == 1
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_follows_the_lesson_template(path):
    cells = nbformat.read(path, as_version=4).cells
    title = cells[0].source
    assert cells[0].cell_type == "markdown"
    if path in PARTS:
        assert title.startswith(f"# {int(path.name[:2])}. ")
        assert f"part {int(path.name[:2])} of {len(PARTS)}" in title
    else:  # an appendix: A1 is appendix A
        letter = path.name[0]
        assert title.startswith(f"# Appendix {letter}. ")
        assert f"appendix {letter}, after part {len(PARTS)}" in title
    badge = (f"https://colab.research.google.com/github/{mnist_compression.REPOSITORY}"
             f"/blob/{mnist_compression.RELEASE}/notebooks/{path.name}")
    assert badge in title and "**Overview.**" in title
    assert f"[Read it executed]({mnist_compression.BOOK_URL}notebooks/{path.stem}.html)" in title
    setup = next(c.source for c in cells if c.cell_type == "code")
    source = re.search(r'^INSTALL_SOURCE = "([^"]+)"', setup, re.M)
    assert source and source.group(1) == mnist_compression.INSTALL_SOURCE
    assert '"google.colab" in sys.modules' in setup and '%pip install' in setup
    assert 'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")' in setup
    headings = [line for c in cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("## ")]
    assert headings[0] == "## Setup" and headings[-2:] == ["## Summary", "## Exercises"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_a_solution_links_its_page_of_the_book(path):
    title = nbformat.read(path, as_version=4).cells[0].source
    page = f"{mnist_compression.BOOK_URL}notebooks/solutions/{path.stem}.html"
    assert f"[Read it executed]({page})" in title


def test_the_readme_opens_part_1_at_this_release():
    badge = (f"https://colab.research.google.com/github/{mnist_compression.REPOSITORY}"
             f"/blob/{mnist_compression.RELEASE}/notebooks/01_transforms.ipynb")
    readme = (REPO / "README.md").read_text()
    assert badge in readme and f"github.com/{mnist_compression.REPOSITORY} " in readme
    assert f"release tag `{mnist_compression.RELEASE}`" in readme
    assert len(readme.splitlines()) <= 160


def _run_colab_setup(monkeypatch, path, install_works=True, loaded=()):
    """Runs a notebook's setup cell as on Colab, with the install's outcome and the modules the
    session had loaded (name -> version) faked; returns what it raised, or None."""
    setup = next(c.source for c in nbformat.read(path, as_version=4).cells
                 if c.cell_type == "code")
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setitem(sys.modules, "subprocess", types.SimpleNamespace(
        run=lambda *args, **kwargs: types.SimpleNamespace(returncode=0 if install_works else 1)))
    for name, version in loaded:
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(__version__=version))
    try:
        exec(compile(setup.replace("%pip install", "# %pip install"), str(path), "exec"), {})
    except RuntimeError as err:
        return str(err)
    return None


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_the_colab_setup_stops_run_all_only_when_it_must(monkeypatch, path):
    failed = _run_colab_setup(monkeypatch, path, install_works=False)
    assert failed.startswith("Installing mnist-compression failed: check the internet")
    assert _run_colab_setup(monkeypatch, path) is None  # versions as installed: no restart
    stale = _run_colab_setup(monkeypatch, path, loaded=[("tensorflow", "0.0")])
    assert stale.startswith("The install replaced tensorflow, which this session had loaded")
    assert "restart the session" in stale


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_code_cells_are_short_and_explained(path):
    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        lines = _code_lines(cell.source)
        most = MAX_PARAMETERS if "parameters" in cell.metadata.get("tags", ()) else MAX_CODE_LINES
        assert len(lines) <= most, f"cell {index} has {len(lines)} lines"
        assert not re.search(r"^\s*(def|class) ", cell.source, re.M), "code belongs in the package"
    # Code follows text, except that the imports may follow the setup or parameters cell.
    for before, cell in zip(cells, cells[1:]):
        if cell.cell_type == "code" and before.cell_type == "code":
            tags = before.metadata.get("tags", ())
            assert "parameters" in tags or "INSTALL_SOURCE" in before.source, (
                f"two code cells in a row without text before: {cell.source[:60]!r}")


def _code_lines(source: str) -> list:
    """The non-blank lines of a cell that are not import statements (IPython magics count)."""
    python = "\n".join(line.replace("%", "pass  #", 1) if line.strip().startswith("%")
                       else line for line in source.splitlines())
    statements = ast.parse(python).body
    imports = {n for node in statements if isinstance(node, (ast.Import, ast.ImportFrom))
               for n in range(node.lineno, node.end_lineno + 1)}
    return [line for number, line in enumerate(source.splitlines(), 1)
            if line.strip() and number not in imports]


def _parameters(path):
    cell = next(c for c in nbformat.read(path, as_version=4).cells
                if "parameters" in c.metadata.get("tags", ()))
    return {node.targets[0].id: ast.literal_eval(node.value)
            for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)}


def test_training_defaults_agree_across_the_notebooks_that_train():
    training = [_parameters(p) for p in NOTEBOOKS if "epochs" in _parameters(p)]
    assert len(training) == 8  # parts 3-9 and appendix A
    for name in TRAINING_DEFAULTS:
        assert len({repr(p[name]) for p in training}) == 1, name
    assert {p.get("lmbda", 2000.0) for p in training} == {2000.0}
    assert all(p.get("output_dir", "build").startswith("build") for p in training)


def test_the_original_tutorial_and_papers_are_credited():
    first = nbformat.read(NOTEBOOKS[0], as_version=4).cells[0].source
    for link in ("tensorflow.org/tutorials/generative/data_compression",
                 "arxiv.org/abs/1611.01704"):
        assert link in first


# --- the smoke run (`make smoke`) ------------------------------------------------------------

@pytest.fixture(scope="module")
def smoke_run(request):
    """Executes every notebook with small parameters into build/smoke; returns that folder.
    Progress goes straight to the terminal, past pytest's capturing."""
    import run_notebooks

    out = REPO / "build" / "smoke"
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print()
        timings = run_notebooks.main(["--smoke", "--out", str(out),
                                      "--jobs", os.environ.get("NOTEBOOK_JOBS", "1")])
    assert len(timings) == len(EVERY_NOTEBOOK)
    return out




@pytest.mark.notebooks
@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_smoke_run_prints_nothing_alarming(smoke_run, path):
    executed = nbformat.read(smoke_run / path.name, as_version=4)
    lines = [line for c in executed.cells if c.cell_type == "code" for o in c.outputs
             if o.get("name") == "stderr" for line in o.get("text", "").splitlines()]
    unexpected = [line for line in lines if not any(p.search(line) for p in ALLOWED_STDERR)]
    assert not unexpected, unexpected[:5]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_smoke_run_executes_every_cell(smoke_run, path):
    executed = nbformat.read(smoke_run / path.name, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert (smoke_run / path.name).with_suffix(".html").stat().st_size > 10_000
    if path in SOLUTIONS:  # a part with check cells has solutions whose checks all say right
        checks = [line for c in code for o in c.outputs for line in o.get("text", "").splitlines()
                  if line.startswith("Exercise ")]
        part = next(p for p in NOTEBOOKS if p.name[:2] == path.name[:2])
        assert bool(checks) == ("check_answer(" in part.read_text()), checks
        assert all(": right." in line for line in checks), checks


FIGURES = {"01_transforms": 4, "02_noise_and_prior": 2, "03_training": 1, "04_compression": 3,
           "05_rate_distortion": 4, "06_generative_decoder": 4, "07_rate_distortion_study": 3,
           "08_one_model_every_lambda": 3, "09_side_information": 1, "A1_same_everywhere": 0}


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_smoke_run_draws_its_figures(smoke_run, path):
    executed = nbformat.read(smoke_run / path.name, as_version=4)
    images = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) == FIGURES[path.stem]


def check_rate_distortion_results(rows: list, full: bool) -> None:
    """What notebook 05 measured (`sweep.rd_record`s): finite, positive, ordered by λ; on a full
    run the classifier also recognises fewer decoded digits as λ falls."""
    assert [row["lmbda"] for row in rows] == [300, 500, 2000]
    for row in rows:
        for key in ("val_rate", "val_distortion", "information_bits", "string_bits", "mae",
                    "psnr", "recognised"):
            assert math.isfinite(row[key]) and row[key] > 0, key
        assert row["string_bits"] >= row["information_bits"] - 8
        assert 0 < row["recognised"] <= 1
    rates = [row["val_rate"] for row in rows]
    distortions = [row["val_distortion"] for row in rows]
    assert rates == sorted(rates) and distortions == sorted(distortions, reverse=True)
    if full:
        recognised = [row["recognised"] for row in rows]
        assert recognised == sorted(recognised), recognised


@pytest.mark.notebooks
def test_smoke_run_writes_ordered_rate_distortion_results(smoke_run):
    check_rate_distortion_results(json.loads((smoke_run / "rate_distortion.json").read_text()),
                                  full=False)


def test_the_last_full_tutorial_run_recognises_fewer_digits_at_lower_rates():
    results = REPO / "build" / "tutorial" / "rate_distortion.json"
    if not results.exists():
        pytest.skip("full run: no build/tutorial/rate_distortion.json (run `make tutorial`)")
    check_rate_distortion_results(json.loads(results.read_text()), full=True)


@pytest.mark.notebooks
def test_smoke_run_writes_the_compressed_test_digits(smoke_run):
    import run_notebooks

    from mnist_compression.codec.mnc import read_mnc

    expected = run_notebooks.SMOKE_PARAMETERS["validation_examples"]
    assert len(read_mnc(smoke_run / "test_digits_lambda2000.mnc").strings) == expected


@pytest.mark.notebooks
def test_smoke_run_of_the_study_writes_its_results(smoke_run):
    sweep = json.loads((smoke_run / "sweep.json").read_text())
    classical = json.loads((smoke_run / "baselines.json").read_text())
    assert [row["lmbda"] for row in sweep] == [50, 100, 300, 500, 1000, 2000, 5000, 10000]
    assert sweep[0]["string_bits"] < sweep[-1]["string_bits"]
    assert sweep[0]["mae"] > sweep[-1]["mae"]
    assert {row["codec"] for row in classical} == {"raw", "zlib", "lzma", "png", "jpeg", "webp"}
    assert all(0 < row["recognised"] <= 1 for row in sweep)


@pytest.mark.notebooks
def test_smoke_run_reuses_the_model_trained_in_part_3(smoke_run):
    outputs = "".join(
        o.get("text", "") for c in nbformat.read(smoke_run / "04_compression.ipynb", 4).cells
        if c.cell_type == "code" for o in c.outputs)
    assert "Loaded the λ=2000 model" in outputs and "No cached model" not in outputs


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_overview_says_what_is_trained_and_how_long_it_takes(path):
    """One measured source of training times (`settings.SECONDS_PER_EPOCH`) for every notebook,
    the cache's notice and the README."""
    from mnist_compression.settings import SECONDS_PER_EPOCH, training_minutes

    overview = nbformat.read(path, as_version=4).cells[0].source
    found = re.search(r"\*\*Time\.\*\*(.*?)(?:\n\n|$)", overview, re.S)
    assert found, "the first cell has no **Time.** paragraph"
    text = " ".join(found.group(1).split())
    parameters = _parameters(path)
    models = len(parameters["lambdas"]) if "lambdas" in parameters else int("epochs" in parameters)
    if models:
        low, high = training_minutes(models)
        assert f"{low}–{high} min on a 2-core CPU" in text
    else:
        assert "trains nothing" in text
    assert re.search(r"about \d+ (s|min)\b", text), "no measured time for the rest"
    for source in (path.with_suffix(".py").read_text(), (REPO / "README.md").read_text()):
        stated = re.findall(r"(\d+)–(\d+) s (?:an|per) epoch", " ".join(source.split()))
        assert {tuple(map(int, pair)) for pair in stated} <= {SECONDS_PER_EPOCH}, stated


# Sentences the project retracted because they were wrong or overstated (each has a computed
# replacement in the notebook that made it); none may come back.
RETRACTED = (r"one average digit", r"assigns it high probability", r"on average over many",
             r"not a bound that holds", r"\+6 dB for half the error", r"is the ceiling",
             r"about 98%", r"about 10 MB of weights", r"a few dozen bits of information",
             r"none of these models reaches at any rate", r"whatever the rate",
             r"nearly independent of λ", r"what distinguishes one digit from another",
             r"same quality in a third", r"within about 2%", r"finitely many bits",
             r"ratio of the two distortions", r"two solid lines")


def test_retracted_sentences_do_not_come_back():
    sources = [*(REPO / "notebooks").glob("*.py"), REPO / "README.md",
               *(REPO / "docs").glob("*.md"), *(REPO / "mnist_compression").rglob("*.py")]
    for source in sources:
        text = " ".join(source.read_text().replace("#", " ").split())
        for phrase in RETRACTED:
            assert not re.search(phrase, text, re.I), f"{source.name}: {phrase}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_a_cost_and_a_hint_and_a_worked_solution(path):
    """Costs in minutes from the one measured source; the solutions notebook exists and has a
    section per exercise."""
    from mnist_compression.settings import training_minutes

    text = path.with_suffix(".py").read_text()
    exercises = text[text.index("# ## Exercises"):]
    solution = f"solutions/{path.name[:2]}_solutions.ipynb"
    assert f"({solution})" in exercises and (path.parent / solution).exists()
    items = re.split(r"\n# \d\. ", " ".join(exercises.split("\n# %%")[0:1]))[1:]
    assert len(items) == 3
    for item in items:
        flat = " ".join(item.replace("#", " ").split())
        assert "*Cost:*" in flat and "*Hint:*" in flat, flat[:60]
        for models, epochs, low, high in re.findall(
                r"(\d+) trainings? of (\d+) epochs, (\d+)–(\d+) min", flat):
            assert (int(low), int(high)) == training_minutes(int(models), int(epochs)), flat[:60]
    solved = nbformat.read(path.parent / solution, as_version=4).cells
    headings = [line for c in solved if c.cell_type == "markdown"
                for line in c.source.splitlines() if line.startswith("## Exercise")]
    assert [h.split(":")[0] for h in headings] == [f"## Exercise {n}" for n in (1, 2, 3)]
