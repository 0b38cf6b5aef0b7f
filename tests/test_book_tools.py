"""The tools behind `make smoke`, `make tutorial` and `make book`: which notebooks wait for
which, the book's staged sources, and the plan a full run prints before it trains."""

import json

import build_book
import nbformat
import pytest
import run_notebooks
from helpers import REPO, make_idx_folder

from mnist_compression.settings import TrainingSettings, training_minutes
from mnist_compression.storage import pretrained
from mnist_compression.storage.cache import model_key, store_in_cache
from mnist_compression.study.release_models import release_settings, training_plan
from mnist_compression.training import load_training_data

STEMS = {p.stem for p in run_notebooks.notebook_paths(solutions=True)}


def test_every_notebook_named_in_the_schedule_exists():
    named = set(run_notebooks.FIRST) | set(run_notebooks.NEEDS)
    named |= {need for needs in run_notebooks.NEEDS.values() for need in needs}
    assert named <= STEMS, named - STEMS


@pytest.mark.parametrize("path", run_notebooks.notebook_paths(solutions=True), ids=lambda p: p.stem)
def test_a_notebook_waits_for_its_part_and_for_the_models_it_reuses(path):
    needs = run_notebooks.needs(path)
    assert path.stem not in needs
    if path.parent.name == "solutions":  # a solution starts after its own part
        assert any(need.startswith(path.stem[:2]) and need != path.stem for need in needs)
    if path.stem in ("04_compression", "07_rate_distortion_study"):  # part 3's λ = 2000 model
        assert "03_training" in needs
    if path.stem in ("05_rate_distortion", "08_one_model_every_lambda"):  # part 7's models
        assert "07_rate_distortion_study" in needs


def test_needs_form_no_circle():
    by_stem = {p.stem: p for p in run_notebooks.notebook_paths(solutions=True)}
    done, remaining = set(), set(by_stem)
    while remaining:
        ready = {s for s in remaining if run_notebooks.needs(by_stem[s]) <= done}
        assert ready, f"these wait for each other: {sorted(remaining)}"
        done |= ready
        remaining -= ready


@pytest.fixture
def executed(tmp_path):
    """A folder with 'executed' copies of every part and of solution 01 (the committed ones)."""
    folder = tmp_path / "executed"
    folder.mkdir()
    for path in run_notebooks.notebook_paths() + [REPO / "notebooks/solutions/01_solutions.ipynb"]:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "run.json").write_text(json.dumps(dict(smoke=True, date="2026-01-02",
                                                     python="3.11.7", tensorflow="2.14.1")))
    return folder


def test_the_book_stages_every_part_every_solution_and_the_docs(executed, tmp_path):
    src = tmp_path / "src"
    assert build_book.stage(executed, src) == 20  # 9 parts, appendix A, 10 solutions
    index = (src / "index.md").read_text()
    assert "notebooks/08_one_model_every_lambda\n" in index
    assert "notebooks/solutions/01_solutions\n" in index
    assert "notebooks/solutions/02_solutions\n" in index  # not run: staged as committed
    assert "solutions this run did not execute are shown as written" in index
    committed = REPO / "notebooks/solutions/02_solutions.ipynb"
    staged = nbformat.read(src / "notebooks/solutions/02_solutions.ipynb", as_version=4)
    assert len(staged.cells) == len(nbformat.read(committed, as_version=4).cells)
    assert "docs/file-formats\n" in index and (src / "docs" / "file-formats.md").is_file()
    assert "executed on 2026-01-02 with Python 3.11.7 and TensorFlow 2.14.1" in index
    assert "smoke test" in index
    part = nbformat.read(src / "notebooks" / "03_training.ipynb", as_version=4)
    assert "](../_static/open-in-colab.svg)" in part.cells[0].source
    solution = nbformat.read(src / "notebooks/solutions/01_solutions.ipynb", as_version=4)
    assert build_book.COLAB_BADGE not in solution.cells[0].source
    assert (src / "_static" / "open-in-colab.svg").is_file()


def test_the_book_refuses_a_folder_without_every_part(executed, tmp_path):
    (executed / "05_rate_distortion.ipynb").unlink()
    with pytest.raises(SystemExit, match="no executed copy of 05_rate_distortion.ipynb: run"):
        build_book.stage(executed, tmp_path / "src")


def test_the_plan_counts_cached_published_and_missing_models(tmp_path, model_cache,
                                                             monkeypatch):
    (tmp_path / "data").mkdir()
    make_idx_folder(tmp_path / "data", train=40, test=12)
    settings = TrainingSettings(data_dir=str(tmp_path / "data"))
    data = load_training_data(settings)
    keys = [model_key(s, data.fingerprint) for s in release_settings(settings)]
    every = release_settings(settings)
    # 8 λ, 2 variable-rate seeds, the variable-rate recipe at 9 λ, 6 hyperprior models
    assert len(every) == 25 and every[18].describe() == "λ=50"
    assert every[19].describe() == "λ=10000 with a hyperprior (8 side latents)"
    minutes = training_minutes(epochs=sum(s.epochs for s in every), examples=40)
    plan = training_plan(settings)
    assert plan.startswith("Of the 25 models the notebooks use, 0 are in the model cache and "
                           "0 published; 25 will be trained (λ=10000, λ=5000, ")
    assert ("variable-rate (8 levels, λ=50…10000), variable-rate (8 levels, λ=50…10000), seed 1, "
            "λ=10000 (variable-rate recipe), ") in plan
    assert "λ=700 (variable-rate recipe)" in plan
    assert "λ=300 with a hyperprior (8 side latents)" in plan
    assert plan.endswith(f"): {minutes[0]}–{minutes[1]} min on a 2-core CPU.")
    store_in_cache(keys[0], lambda folder: (folder / "model.npz").write_bytes(b"x"))
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / pretrained.MANIFEST).write_text(json.dumps(dict(release="v0", files=[
        dict(key=keys[18], file="same_recipe_lmbda50.npz", bytes=1, sha256="0" * 64)])))
    monkeypatch.setenv(pretrained.MIRROR_ENV, str(mirror))
    plan = training_plan(settings)
    assert plan.startswith("Of the 25 models the notebooks use, 1 are in the model cache and 1 "
                           "published; 23 will be trained (λ=5000, ")
    assert "λ=10000, " not in plan and "λ=50 (variable-rate recipe)" not in plan
    for key in keys[1:18] + keys[19:]:
        store_in_cache(key, lambda folder: (folder / "model.npz").write_bytes(b"x"))
    assert training_plan(settings).startswith("Of the 25 models the notebooks use, 24 are in the "
                                              "model cache and 1 published: nothing is trained")


def test_publishing_rewrites_every_address_and_release(tmp_path):
    import set_repository

    for name in ("mnist_compression/__init__.py", "README.md", "pyproject.toml",
                 "notebooks/03_training.py", "notebooks/03_training.ipynb",
                 "notebooks/solutions/03_solutions.py", "docs/releasing.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    set_repository.main(["--root", str(tmp_path), "--repository", "Some-Org/mnist-book",
                         "--version", "1.2.3"])
    assert set_repository.current(tmp_path) == ("Some-Org/mnist-book", "1.2.3")
    for name in ("notebooks/03_training.py", "notebooks/03_training.ipynb"):
        text = (tmp_path / name).read_text()
        assert ("colab.research.google.com/github/Some-Org/mnist-book/blob/v1.2.3/notebooks/"
                "03_training.ipynb") in text
        assert "git+https://github.com/Some-Org/mnist-book@v1.2.3" in text
        assert "https://some-org.github.io/mnist-book/notebooks/03_training.html" in text
        assert "mnist-compression/mnist-compression" not in text and "0.2.0" not in text
    assert 'version = "1.2.3"' in (tmp_path / "pyproject.toml").read_text()
    readme = (tmp_path / "README.md").read_text()
    assert "release tag `v1.2.3`" in readme and "github.com/Some-Org/mnist-book " in readme


def test_publishing_refuses_a_malformed_address(tmp_path):
    import set_repository

    with pytest.raises(SystemExit, match="--repository must be OWNER/NAME"):
        set_repository.rewrite(REPO, repository="not a repository")


def test_relative_folders_are_made_absolute_for_the_kernels_but_not_a_mirrors_url(
        monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MNIST_DATA_DIR", "data")
    monkeypatch.setenv("MNIST_COMPRESSION_MODELS", "release")
    overrides = run_notebooks.absolute_paths({"data_dir": "here"})
    assert overrides["data_dir"] == str(tmp_path / "here")
    assert run_notebooks.os.environ["MNIST_DATA_DIR"] == str(tmp_path / "data")
    assert run_notebooks.os.environ["MNIST_COMPRESSION_MODELS"] == str(tmp_path / "release")
    monkeypatch.setenv("MNIST_COMPRESSION_MODELS", "https://example.org/models/")
    run_notebooks.absolute_paths({})
    assert run_notebooks.os.environ["MNIST_COMPRESSION_MODELS"] == "https://example.org/models/"
