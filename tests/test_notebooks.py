"""The notebooks: paired text twins in sync, clean committed form, and a papermill smoke run."""

import json
import math
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

import mnist_compression

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_CODE_LINES = 12


def _cells(notebook):
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ())))
            for c in notebook.cells]


def test_the_series_is_complete():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_transforms", "02_noise_and_prior", "03_training", "04_compression",
                     "05_rate_distortion", "06_generative_decoder", "07_rate_distortion_study"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_ipynb_and_py_twins_say_the_same(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{twin.name} is missing: run `make sync`"
    assert _cells(nbformat.read(path, as_version=4)) == _cells(jupytext.read(twin)), (
        f"{path.name} and {twin.name} differ: edit one, then run `make sync`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
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
    assert cells[0].cell_type == "markdown" and title.startswith(f"# {int(path.name[:2])}. ")
    badge = (f"https://colab.research.google.com/github/{mnist_compression.REPOSITORY}"
             f"/blob/main/notebooks/{path.name}")
    assert badge in title and "**Overview.**" in title
    setup = next(c.source for c in cells if c.cell_type == "code")
    assert f'INSTALL_SOURCE = "{mnist_compression.INSTALL_SOURCE}"' in setup
    assert '"google.colab" in sys.modules' in setup
    headings = [line for c in cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("## ")]
    assert headings[0] == "## Setup" and headings[-2:] == ["## Summary", "## Exercises"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_are_short_and_explained(path):
    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines() if line.strip()]
        assert len(lines) <= MAX_CODE_LINES, f"cell {index} has {len(lines)} lines"
        assert not re.search(r"^\s*(def|class) ", cell.source, re.M), "code belongs in the package"
    # Code follows text, except that the imports may follow the setup or parameters cell.
    for before, cell in zip(cells, cells[1:]):
        if cell.cell_type == "code" and before.cell_type == "code":
            tags = before.metadata.get("tags", ())
            assert "parameters" in tags or "INSTALL_SOURCE" in before.source, (
                f"two code cells in a row without text before: {cell.source[:60]!r}")


# --- the smoke run (`make smoke`) ------------------------------------------------------------

@pytest.fixture(scope="module")
def smoke_run():
    """Executes every notebook with small parameters into build/smoke; returns that folder."""
    sys.path.insert(0, str(REPO / "tools"))
    import run_notebooks

    out = REPO / "build" / "smoke"
    timings = run_notebooks.main(["--smoke", "--out", str(out)])
    assert len(timings) == len(NOTEBOOKS)
    return out


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_smoke_run_executes_every_cell(smoke_run, path):
    executed = nbformat.read(smoke_run / path.name, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert (smoke_run / path.name).with_suffix(".html").stat().st_size > 10_000


FIGURES = {"01_transforms": 2, "02_noise_and_prior": 1, "03_training": 1, "04_compression": 1,
           "05_rate_distortion": 4, "06_generative_decoder": 1, "07_rate_distortion_study": 3}


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_smoke_run_draws_its_figures(smoke_run, path):
    executed = nbformat.read(smoke_run / path.name, as_version=4)
    images = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) == FIGURES[path.stem]


@pytest.mark.notebooks
def test_smoke_run_writes_ordered_rate_distortion_results(smoke_run):
    results = json.loads((smoke_run / "rate_distortion.json").read_text())
    assert sorted(results, key=float) == ["300", "500", "2000"]
    for metrics in results.values():
        for key in ("rate", "distortion", "information_bits", "string_bits", "mae", "psnr"):
            assert math.isfinite(metrics[key]) and metrics[key] > 0, key
        assert metrics["string_bits"] >= metrics["information_bits"] - 8
    rates = [results[key]["rate"] for key in ("300", "500", "2000")]
    distortions = [results[key]["distortion"] for key in ("300", "500", "2000")]
    assert rates == sorted(rates) and distortions == sorted(distortions, reverse=True)


@pytest.mark.notebooks
def test_smoke_run_of_the_study_writes_its_results(smoke_run):
    sweep = json.loads((smoke_run / "rd_study" / "sweep.json").read_text())
    classical = json.loads((smoke_run / "rd_study" / "baselines.json").read_text())
    assert [row["lmbda"] for row in sweep] == [50, 100, 300, 500, 1000, 2000, 5000, 10000]
    assert sweep[0]["string_bits"] < sweep[-1]["string_bits"]
    assert sweep[0]["mae"] > sweep[-1]["mae"]
    assert {row["codec"] for row in classical} == {"raw", "zlib", "lzma", "png", "jpeg", "webp"}


@pytest.mark.notebooks
def test_smoke_run_reuses_the_model_trained_in_part_3(smoke_run):
    outputs = "".join(
        o.get("text", "") for c in nbformat.read(smoke_run / "04_compression.ipynb", 4).cells
        if c.cell_type == "code" for o in c.outputs)
    assert "Loaded the λ=2000 model" in outputs
