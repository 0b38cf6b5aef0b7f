"""The package's face: what the notebooks import from `mnist_compression` itself."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import mnist_compression

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").rglob("[0-9A][0-9]_*.py"))


@pytest.mark.parametrize("name", mnist_compression.__all__)
def test_every_name_of_the_face_is_its_module_s_own(name):
    home = mnist_compression._HOMES[name]
    module = __import__(f"mnist_compression.{home}", fromlist=[name])
    assert getattr(mnist_compression, name) is getattr(module, name)
    assert name in getattr(module, "__all__", [name]), f"{name} is not public in {home}"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        mnist_compression.nothing_here  # noqa: B018


def test_importing_the_package_and_the_codec_loads_no_tensorflow():
    code = ("import sys, mnist_compression; from mnist_compression import load_codec, "
            "TrainingSettings; print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebooks_import_through_the_face(notebook):
    text = notebook.read_text()
    deep = re.findall(r"^(?:from|import) mnist_compression\.[\w.]+", text, re.M)
    assert not deep, deep
    for names in re.findall(r"^from mnist_compression import \(?([^)]*?)\)?$", text, re.M | re.S):
        for name in re.split(r"[\s,]+", names.strip()):
            assert not name or name in mnist_compression.__all__, name


@pytest.mark.parametrize("notebook", [n for n in NOTEBOOKS if n.name[:2] in ("07", "08")],
                         ids=lambda path: path.stem)
def test_a_notebook_s_full_lambdas_are_the_study_s(notebook):
    """Parameters must be literal values for papermill, so the study's λ are written out where
    a notebook takes them as a parameter: they must be `STUDY_LAMBDAS`."""
    from mnist_compression.lambdas import STUDY_LAMBDAS

    line = re.search(r"^lambdas = (\[[^\]]*\])", notebook.read_text(), re.M).group(1)
    assert tuple(float(v) for v in eval(line)) == STUDY_LAMBDAS  # noqa: S307 (a literal list)


def test_part_8_s_second_seed_and_middle_lambda_are_the_release_s():
    """The release publishes notebook 08's extra models for exactly its default parameters."""
    from mnist_compression.study.release_models import MIDDLE_LAMBDA, SECOND_SEED

    text = next(n for n in NOTEBOOKS if n.name.startswith("08")).read_text()
    assert int(re.search(r"^second_seed = (\d+)", text, re.M).group(1)) == SECOND_SEED
    assert float(re.search(r"^middle_lambda = ([\d.]+)", text, re.M).group(1)) == MIDDLE_LAMBDA


def test_the_reference_comparison_says_none_where_tensorflow_compression_is_missing(
        monkeypatch, small_trainer, test_digits):
    from mnist_compression.model.files import make_mnist_codec
    from mnist_compression.teaching.reference import against_reference

    monkeypatch.setitem(sys.modules, "tensorflow_compression", None)  # import fails
    assert against_reference(make_mnist_codec(small_trainer)[0], test_digits) is None
