"""The conda environment, pyproject.toml and the lock files must describe the same stack."""

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")
REPO = Path(__file__).resolve().parents[1]
PY311 = {"python_version": "3.11", "python_full_version": "3.11.7"}


def _key(requirement: Requirement):
    return canonicalize_name(requirement.name), str(requirement.specifier)


def _pyproject_requirements(environment=PY311):
    """Requirements (runtime and the dev, lab and book extras) that apply on `environment`,
    markers evaluated."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    lines = project["dependencies"] + extras["dev"] + extras["lab"] + extras["book"]
    requirements = [Requirement(line) for line in lines]
    return {_key(r) for r in requirements if r.marker is None or r.marker.evaluate(environment)}


def _conda_spec():
    spec = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict))
    return spec, pip_section


def test_environment_yml_names_the_same_pins_as_pyproject_for_python_311():
    _, pip_section = _conda_spec()
    conda = {_key(Requirement(line)) for line in pip_section if not line.startswith("-e")}
    assert conda == _pyproject_requirements()


def test_environment_yml_uses_python_311_and_installs_the_package():
    spec, pip_section = _conda_spec()
    assert "python=3.11" in spec["dependencies"]
    assert "-e ." in pip_section


def test_modern_pythons_get_no_tensorflow_compression():
    modern = _pyproject_requirements({"python_version": "3.13", "python_full_version": "3.13.0"})
    names = {name for name, _ in modern}
    assert "tensorflow" in names and "tensorflow-compression" not in names


def test_tensorflow_compression_is_a_test_reference_only():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}
    assert "tensorflow-compression" not in runtime
    assert any(line.startswith("tensorflow-compression==2.14.1")
               for line in project["optional-dependencies"]["dev"])


def _lock(name):
    versions = {}
    for line in (REPO / "locks" / name).read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            package, version = line.split()[0].split("==")
            versions[canonicalize_name(package)] = version
    return versions


@pytest.mark.parametrize("lock", ["py311.txt", "py313.txt"])
def test_every_pin_of_a_lock_has_its_files_sha256(lock):
    text = (REPO / "locks" / lock).read_text()
    entries = [entry for entry in text.split("\n") if entry and not entry.startswith(" ")
               and not entry.startswith("#")]
    assert len(entries) == len(_lock(lock)) > 50
    for entry in re.split(r"\n(?=[^\s#])", text.split("\n", 3)[-1]):
        if entry.startswith("#") or not entry.strip():
            continue
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), entry.splitlines()[0]


@pytest.mark.parametrize("lock, environment", [
    ("py311.txt", PY311),
    ("py313.txt", {"python_version": "3.13", "python_full_version": "3.13.0"}),
])
def test_lock_files_satisfy_the_requirements(lock, environment):
    versions = _lock(lock)
    for name, specifier in _pyproject_requirements(environment):
        assert name in versions, f"{name} is missing from locks/{lock}"
        assert Requirement(f"{name}{specifier}").specifier.contains(versions[name]), name


def test_every_module_is_listed_in_the_package_docstring():
    import mnist_compression

    package = REPO / "mnist_compression"
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] in ("__init__", "__main__") or parts[0] == "coding":  # coding lists its own
            continue
        assert f"`{'.'.join(parts)}`" in mnist_compression.__doc__, path


def test_the_layers_in_the_import_contract_are_the_package_s_folders_and_modules():
    layers = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"][0]["layers"]
    named = {name.strip().removeprefix("mnist_compression.") for layer in layers
             for name in layer.split("|")}
    package = REPO / "mnist_compression"
    present = {p.stem for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")}
    present |= {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    assert named == present
