"""The conda environment and pyproject.toml must describe the same stack."""

from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")
REPO = Path(__file__).resolve().parents[1]


def _pyproject_requirements():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])


def _conda_pip_requirements():
    spec = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict))
    return spec, {line for line in pip_section if not line.startswith("-e")}


def test_environment_yml_names_the_same_pins_as_pyproject():
    _, conda = _conda_pip_requirements()
    assert conda == _pyproject_requirements()


def test_environment_yml_uses_python_311_and_installs_the_package():
    spec, _ = _conda_pip_requirements()
    assert "python=3.11" in spec["dependencies"]
    pip_section = next(item["pip"] for item in spec["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip_section


def test_constraints_agree_with_the_pins():
    pinned = {
        req.split("==")[0].replace("_", "-").lower(): req.split("==")[1]
        for req in _pyproject_requirements() if "==" in req
    }
    constraints = {}
    for line in (REPO / "constraints" / "py311.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            constraints[name.replace("_", "-").lower()] = version
    for name, version in pinned.items():
        assert constraints[name] == version, name
